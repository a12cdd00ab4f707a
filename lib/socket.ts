/**
 * lib/socket.ts — a Socket shaped like Python's `socket.socket`, on the native socket syscalls.
 *
 * Responsible for: argument policy and defaults (families, address tuples, sizes), the blocking
 * flag as Python keeps it, turning the native `-errno` returns into Node-shaped system errors only
 * on failure, and the lifetime of the fd (idempotent close(), `Symbol.dispose`, and a
 * FinalizationRegistry that closes the fd of a Socket dropped without close()).
 *
 * Python's exceptions map to error codes: BlockingIOError is `EAGAIN` (or `EINPROGRESS` from a
 * non-blocking connect), OSError(EBADF) on a closed socket is `EBADF`, TypeError/ValueError/
 * OverflowError for a bad argument are ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE /
 * ERR_OUT_OF_RANGE. Every blocking call blocks the thread, exactly as in Python.
 */
import { constants as bufferConstants } from "node:buffer";

import { codedError, systemError } from "./errors.js";
import { native, type BufferLike, type SocketAddress } from "./native.js";

const C = native.constants;

export const AF_INET: number = C.AF_INET;
export const AF_INET6: number = C.AF_INET6;
export const AF_UNIX: number = C.AF_UNIX;
export const SOCK_STREAM: number = C.SOCK_STREAM;
export const SOCK_DGRAM: number = C.SOCK_DGRAM;
export const SOL_SOCKET: number = C.SOL_SOCKET;
export const SO_REUSEADDR: number = C.SO_REUSEADDR;
/** Undefined on platforms without SO_REUSEPORT (Python leaves `socket.SO_REUSEPORT` undefined there too). */
export const SO_REUSEPORT: number | undefined = C.SO_REUSEPORT;
export const SO_ERROR: number = C.SO_ERROR;
export const SO_KEEPALIVE: number = C.SO_KEEPALIVE;
export const SO_SNDBUF: number = C.SO_SNDBUF;
export const SO_RCVBUF: number = C.SO_RCVBUF;
export const IPPROTO_TCP: number = C.IPPROTO_TCP;
export const TCP_NODELAY: number = C.TCP_NODELAY;
export const SHUT_RD: number = C.SHUT_RD;
export const SHUT_WR: number = C.SHUT_WR;
export const SHUT_RDWR: number = C.SHUT_RDWR;

/**
 * An address as `bind`/`connect` take it: `[host, port]` for AF_INET, `[host, port, flowinfo?,
 * scopeId?]` for AF_INET6, a path string for AF_UNIX (a leading NUL names a Linux abstract socket).
 * Host names such as 'localhost' are resolved; '' means any address.
 */
export type AddressInput = string | readonly [host: string, port: number] | readonly [host: string, port: number, flowinfo?: number, scopeId?: number];

/** Bytes to send: any ArrayBufferView, or a string (sent as UTF-8). */
export type SendData = string | BufferLike;

const EBADF = C.EBADF;
const MAX_BUFFER = bufferConstants.MAX_LENGTH;
/** recv() sizes up to this come from Node's Buffer pool; above it a short read is copied out. */
const POOLED_RECV = 4096;

/** Closes the fd of a Socket that was garbage-collected without close(). Never touches the Socket. */
const finalizer = new FinalizationRegistry<number>((fd) => {
  try {
    native.close(fd);
  } catch {
    // Already closed behind the Socket's back (e.g. lowlevel.close(sock.fileno())): nothing to do.
  }
});

/**
 * Set by accept() and socketpair() just before they wrap a new fd whose blocking mode they know,
 * so the constructor skips the fcntl it would otherwise make to find out.
 */
let knownBlocking: boolean | undefined;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an Array of length ${value.length}`;
  if (typeof value === "string") return `type string (${JSON.stringify(value.length > 28 ? value.slice(0, 25) + "..." : value)})`;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return `type ${typeof value} (${String(value)})`;
  if (typeof value === "object") return `an instance of ${(value as object).constructor?.name ?? "Object"}`;
  return typeof value;
}

function closedError(syscall: string): NodeJS.ErrnoException {
  return systemError(-EBADF, syscall);
}

/** An integer in [min, max], else ERR_INVALID_ARG_TYPE (not a number) or ERR_OUT_OF_RANGE. */
function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number")
    throw codedError("ERR_INVALID_ARG_TYPE", `The "${name}" argument must be of type number. Received ${describe(value)}`, "TypeError");
  if (!Number.isInteger(value) || value < min || value > max)
    throw codedError(
      "ERR_OUT_OF_RANGE",
      `The value of "${name}" is out of range. It must be an integer >= ${min} and <= ${max}. Received ${value}`,
      "RangeError",
    );
  return value;
}

function checkFamily(family: unknown): number {
  if (typeof family !== "number")
    throw codedError("ERR_INVALID_ARG_TYPE", `The "family" argument must be of type number. Received ${describe(family)}`, "TypeError");
  if (family !== AF_INET && family !== AF_INET6 && family !== AF_UNIX)
    throw codedError(
      "ERR_INVALID_ARG_VALUE",
      `The "family" argument must be AF_INET (${AF_INET}), AF_INET6 (${AF_INET6}) or AF_UNIX (${AF_UNIX}). Received ${String(family)}`,
      "TypeError",
    );
  return family;
}

/** The native (hostOrPath, port, flowinfo, scopeId) arguments for an address of `family`. */
type NativeAddress = [hostOrPath: string, port?: number, flowinfo?: number, scopeId?: number];

function addressArgs(family: number, address: unknown, method: string): NativeAddress {
  if (family === AF_UNIX) {
    if (typeof address !== "string")
      throw codedError("ERR_INVALID_ARG_TYPE", `${method}(): an AF_UNIX address must be a path string. Received ${describe(address)}`, "TypeError");
    return [address];
  }
  const inet6 = family === AF_INET6;
  const shape = inet6 ? "[host, port, flowinfo?, scopeId?]" : "[host, port]";
  if (!Array.isArray(address) || address.length < 2 || address.length > (inet6 ? 4 : 2) || typeof address[0] !== "string")
    throw codedError(
      "ERR_INVALID_ARG_TYPE",
      `${method}(): an ${inet6 ? "AF_INET6" : "AF_INET"} address must be ${shape}. Received ${describe(address)}`,
      "TypeError",
    );
  const host = address[0] as string;
  const port = checkInt("port", address[1], 0, 65535);
  if (!inet6) return [host, port];
  const flowinfo = address[2] === undefined ? 0 : checkInt("flowinfo", address[2], 0, 0xfffff);
  const scopeId = address[3] === undefined ? 0 : checkInt("scopeId", address[3], 0, 0xffffffff);
  return [host, port, flowinfo, scopeId];
}

function toBytes(data: SendData): BufferLike {
  return typeof data === "string" ? Buffer.from(data, "utf8") : data;
}

/**
 * A socket, as Python's `socket.socket`. Blocking by default (the fd really is blocking), so
 * `accept()`, `recv()`, `sendall()` and a blocking `connect()` wait in the kernel and hold the
 * thread; call `setblocking(false)` and use a selector to multiplex.
 */
export class Socket implements Disposable {
  #fd: number;
  #blocking: boolean;
  /** The address family (AF_INET, AF_INET6 or AF_UNIX). */
  readonly family: number;
  /** The socket type (SOCK_STREAM, SOCK_DGRAM...). */
  readonly type: number;
  /** The protocol number (0 for the family's default). */
  readonly proto: number;

  /**
   * Creates a socket, or wraps the open socket fd `fileno` (Python's `socket.socket(fileno=...)`).
   * A wrapped fd keeps its blocking mode and now belongs to this Socket (close() closes it).
   */
  constructor(family: number = AF_INET, type: number = SOCK_STREAM, proto: number = 0, fileno?: number) {
    const known = knownBlocking;
    knownBlocking = undefined;
    this.family = checkFamily(family);
    this.type = checkInt("type", type, 0, 0xffff);
    this.proto = checkInt("proto", proto, 0, 0xffff);
    if (fileno === undefined) {
      this.#fd = native.socket(family, type, proto, false);
      this.#blocking = true;
    } else {
      this.#fd = checkInt("fileno", fileno, 0, 0x7fffffff);
      // getNonBlocking also proves the fd is open (EBADF otherwise).
      this.#blocking = known ?? !native.getNonBlocking(fileno);
    }
    finalizer.register(this, this.#fd, this);
  }

  /** The fd, or -1 once closed (or detached). */
  fileno(): number {
    return this.#fd;
  }

  /** Whether close() (or detach()) has been called. */
  get closed(): boolean {
    return this.#fd === -1;
  }

  /** Switches the fd between blocking (true) and non-blocking (false) mode. */
  setblocking(flag: boolean): void {
    const fd = this.#fd;
    if (fd === -1) throw closedError("fcntl");
    const blocking = Boolean(flag);
    native.setNonBlocking(fd, !blocking);
    this.#blocking = blocking;
  }

  /** Whether the socket is in blocking mode (as Python, answered without a syscall). */
  getblocking(): boolean {
    return this.#blocking;
  }

  /** Binds to an address (see AddressInput). */
  bind(address: AddressInput): void {
    const fd = this.#fd;
    if (fd === -1) throw closedError("bind");
    native.bind(fd, this.family, ...addressArgs(this.family, address, "bind"));
  }

  /** Listens for connections; `backlog` defaults to SOMAXCONN, and a negative one counts as 0 (as Python). */
  listen(backlog?: number): void {
    const fd = this.#fd;
    if (fd === -1) throw closedError("listen");
    if (backlog !== undefined) backlog = Math.max(0, checkInt("backlog", backlog, -0x80000000, 0x7fffffff));
    native.listen(fd, backlog);
  }

  /**
   * Accepts a connection: `[socket, address]`. The new socket is blocking, as in Python, whatever
   * the listener's mode. On a non-blocking listener with no pending connection, throws EAGAIN.
   */
  accept(): [Socket, SocketAddress] {
    const fd = this.#fd;
    if (fd === -1) throw closedError("accept");
    const result = native.acceptAddress(fd, false);
    if (typeof result === "number") throw systemError(result, "accept");
    knownBlocking = true;
    // The native [fd, address] pair becomes the [Socket, address] result without a second array.
    const pair = result as unknown as [Socket, SocketAddress];
    pair[0] = new Socket(this.family, this.type, this.proto, result[0]);
    return pair;
  }

  /** Connects; throws the failure (ECONNREFUSED...), or EINPROGRESS on a non-blocking socket. */
  connect(address: AddressInput): void {
    const fd = this.#fd;
    if (fd === -1) throw closedError("connect");
    const r = native.connect(fd, this.family, ...addressArgs(this.family, address, "connect"));
    if (r !== 0) throw systemError(r, "connect");
  }

  /**
   * As connect(), but returns the errno instead of throwing it (Python's connect_ex): 0 on success,
   * a positive errno such as ECONNREFUSED or EINPROGRESS otherwise. Bad arguments still throw.
   */
  connectEx(address: AddressInput): number {
    const fd = this.#fd;
    if (fd === -1) return EBADF;
    return 0 - native.connect(fd, this.family, ...addressArgs(this.family, address, "connectEx"));
  }

  /** Receives up to `bufsize` bytes: a Buffer, empty at the end of the stream. */
  recv(bufsize: number, flags?: number): Buffer {
    const fd = this.#fd;
    if (fd === -1) throw closedError("recv");
    if (typeof bufsize !== "number" || !(bufsize >= 0 && bufsize <= MAX_BUFFER) || Math.floor(bufsize) !== bufsize) checkInt("bufsize", bufsize, 0, MAX_BUFFER);
    const buffer = bufsize <= POOLED_RECV ? Buffer.allocUnsafe(bufsize) : Buffer.allocUnsafeSlow(bufsize);
    const n = native.recv(fd, buffer, 0, bufsize, flags);
    if (n < 0) throw systemError(n, "recv");
    if (n === bufsize) return buffer;
    // A short read into a large private buffer is copied so the result does not pin it.
    if (bufsize > POOLED_RECV && n < bufsize >>> 1) return Buffer.from(buffer.subarray(0, n));
    return buffer.subarray(0, n);
  }

  /**
   * Receives into `buffer` (its first `nbytes` bytes; 0 or omitted means all of it) and returns
   * the count, 0 at the end of the stream.
   */
  recvInto(buffer: BufferLike, nbytes?: number, flags?: number): number {
    const fd = this.#fd;
    if (fd === -1) throw closedError("recv");
    if (!ArrayBuffer.isView(buffer))
      throw codedError(
        "ERR_INVALID_ARG_TYPE",
        `The "buffer" argument must be an instance of Buffer, TypedArray, or DataView. Received ${describe(buffer)}`,
        "TypeError",
      );
    let length = buffer.byteLength;
    if (nbytes !== undefined && nbytes !== 0) {
      checkInt("nbytes", nbytes, 0, MAX_BUFFER);
      if (nbytes > length)
        throw codedError(
          "ERR_OUT_OF_RANGE",
          `The value of "nbytes" is out of range. It must be <= the buffer's length (${length}). Received ${nbytes}`,
          "RangeError",
        );
      length = nbytes;
    }
    const n = native.recv(fd, buffer, 0, length, flags);
    if (n < 0) throw systemError(n, "recv");
    return n;
  }

  /** Sends what the kernel takes now and returns the count (strings as UTF-8). */
  send(data: SendData, flags?: number): number {
    const fd = this.#fd;
    if (fd === -1) throw closedError("send");
    const n = native.send(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data, undefined, undefined, flags);
    if (n < 0) throw systemError(n, "send");
    return n;
  }

  /**
   * Sends all of `data`, waiting for room on a blocking socket. On a non-blocking socket that
   * fills up, throws EAGAIN (as Python: how much went out is then unknown to the caller).
   */
  sendall(data: SendData, flags?: number): void {
    const fd = this.#fd;
    if (fd === -1) throw closedError("send");
    const bytes = toBytes(data);
    if (!ArrayBuffer.isView(bytes))
      throw codedError(
        "ERR_INVALID_ARG_TYPE",
        `The "data" argument must be a string, Buffer, TypedArray, or DataView. Received ${describe(bytes)}`,
        "TypeError",
      );
    const total = bytes.byteLength;
    let offset = 0;
    do {
      const n = native.send(fd, bytes, offset, total - offset, flags);
      if (n < 0) throw systemError(n, "send");
      offset += n;
    } while (offset < total);
  }

  /** Shuts down reading (SHUT_RD), writing (SHUT_WR) or both (SHUT_RDWR). */
  shutdown(how: number): void {
    const fd = this.#fd;
    if (fd === -1) throw closedError("shutdown");
    native.shutdown(fd, checkInt("how", how, 0, 2));
  }

  /** Sets an integer (or boolean) socket option. */
  setsockopt(level: number, option: number, value: number | boolean): void {
    const fd = this.#fd;
    if (fd === -1) throw closedError("setsockopt");
    native.setsockopt(fd, level, option, value);
  }

  /** Reads an integer socket option (SO_ERROR, SO_RCVBUF, TCP_NODELAY...). */
  getsockopt(level: number, option: number): number {
    const fd = this.#fd;
    if (fd === -1) throw closedError("getsockopt");
    return native.getsockopt(fd, level, option);
  }

  /** The local address: `[host, port]`, `[host, port, flowinfo, scopeId]` or a path ('' when unbound). */
  getsockname(): SocketAddress {
    const fd = this.#fd;
    if (fd === -1) throw closedError("getsockname");
    return this.#address(native.getsockname(fd), "getsockname");
  }

  /** The peer's address; throws ENOTCONN when not connected. */
  getpeername(): SocketAddress {
    const fd = this.#fd;
    if (fd === -1) throw closedError("getpeername");
    return this.#address(native.getpeername(fd), "getpeername");
  }

  #address(address: SocketAddress | null, method: string): SocketAddress {
    // Only a wrapped fd of another family than the one given to the constructor can get here.
    if (address === null) throw codedError("ERR_UNKNOWN_ADDRESS_FAMILY", `${method}(): the fd's address family is not AF_INET, AF_INET6 or AF_UNIX`);
    return address;
  }

  /** Closes the fd. Idempotent: later calls do nothing; other methods then throw EBADF. */
  close(): void {
    const fd = this.#fd;
    if (fd === -1) return;
    this.#fd = -1;
    finalizer.unregister(this);
    native.close(fd);
  }

  /** Gives up the fd without closing it and returns it (Python's detach()); the Socket is then closed. */
  detach(): number {
    const fd = this.#fd;
    if (fd !== -1) {
      this.#fd = -1;
      finalizer.unregister(this);
    }
    return fd;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A connected pair of sockets (Python's socket.socketpair()), AF_UNIX / SOCK_STREAM by default, both blocking. */
export function socketpair(family: number = AF_UNIX, type: number = SOCK_STREAM, proto: number = 0): [Socket, Socket] {
  checkFamily(family);
  checkInt("type", type, 0, 0xffff);
  checkInt("proto", proto, 0, 0xffff);
  const [a, b] = native.socketpair(family, type, proto, false);
  knownBlocking = true;
  const first = new Socket(family, type, proto, a);
  knownBlocking = true;
  return [first, new Socket(family, type, proto, b)];
}
