/**
 * lib/socket-class.ts — the Socket class, shaped like Python's `socket.socket`: the blocking flag
 * and timeout as Python keeps them, each call on the non-throwing syscalls of lib/sockio.ts with
 * its arguments checked by lib/args.ts and lib/addresses.ts, the native `-errno` returns turned into
 * Node-shaped system errors only on failure, and idempotent close() / `Symbol.dispose` (the fd's
 * finalizer is in lib/socket-fd.ts).
 *
 * Python's exceptions map to error codes: BlockingIOError is `EAGAIN` (or `EINPROGRESS` from a
 * non-blocking connect), OSError(EBADF) on a closed socket is `EBADF`, TimeoutError ("timed out")
 * is `ETIMEDOUT`, TypeError/ValueError/OverflowError for a bad argument are ERR_INVALID_ARG_TYPE /
 * ERR_INVALID_ARG_VALUE / ERR_OUT_OF_RANGE. Every blocking call blocks the thread, exactly as in
 * Python.
 *
 * Timeouts follow Python's three modes: `settimeout(null)` blocking (the fd is blocking),
 * `settimeout(0)` non-blocking, `settimeout(seconds)` timed: the fd is non-blocking and each call
 * that would block waits in poll(2) for at most the timeout (sendall: for all of its data), then
 * throws ETIMEDOUT. `setdefaulttimeout()` sets the timeout every Socket made afterwards starts with
 * (created, wrapped, accepted, from socketpair()), as Python's; it is per thread (per worker), where
 * Python's is per process.
 */
import { inspect } from "node:util";

import { addressArgs, knownAddress, type AddressInput, type AddressInputOf, type SocketAddressOf } from "./addresses.js";
import { argTypeError, checkBufsize, checkInt, intoLength, toBytes } from "./args.js";
import { closedError, codedError, connectError, systemError, withAddress } from "./errors.js";
import { native, type BufferLike } from "./native.js";
import { openSocket, watchForDrop, type FdCell } from "./socket-fd.js";
import { sendfileArgs, sendfileBlocking, type SendfileSource } from "./sendfile.js";
import { socketRepr } from "./socket-repr.js";
import { acceptFd, recvBytes, recvfromBytes, recvfromInto, recvInto, sendtoBytes, sendView } from "./sockio.js";
import * as retry from "./socket-retry.js";
import { checkTimeout, connectTimed, getdefaulttimeout, timeoutError } from "./timeouts.js";

/** Bytes to send: any ArrayBufferView, or a string (sent as UTF-8). */
export type SendData = string | BufferLike;

const { EBADF, EAGAIN, ETIMEDOUT } = native.constants;

/**
 * Set by wrapNewFd() (accept(), socketpair(), dup(), the loop's sockAccept) just before it wraps a
 * new fd whose family, type and proto come from a checked Socket and whose mode matches
 * `trustedTimeout`, so the constructor neither checks them again nor asks the kernel about the fd.
 */
let trusted = false;
let trustedTimeout: number | null = null;

/**
 * A socket, as Python's `socket.socket`. Blocking by default (the fd really is blocking), so
 * `accept()`, `recv()`, `sendall()` and a blocking `connect()` wait in the kernel and hold the
 * thread; call `setblocking(false)` and use a selector to multiplex.
 *
 * `F` is the address family as a type: it gives getsockname() and the other address results their
 * shape. lib/socket.ts exports it as `Socket` under a constructor type (SocketConstructor) whose
 * `new Socket()` is a `Socket<AF_INET>`, and as the type `SocketType`.
 */
export class Socket<F extends number = number> implements Disposable {
  /** The fd (-1 once closed or detached), in the cell the finalizer holds. */
  readonly #cell: FdCell;
  /** null: blocking; 0: non-blocking; > 0: timed (the fd is non-blocking), in seconds. */
  #timeout: number | null;
  /** The address family (AF_INET, AF_INET6 or AF_UNIX). */
  readonly family: F;
  /** The socket type (SOCK_STREAM, SOCK_DGRAM...). */
  readonly type: number;
  /** The protocol number (0 for the family's default). */
  readonly proto: number;

  /**
   * Creates a socket (family AF_INET, type SOCK_STREAM and proto 0 when omitted), or wraps the open
   * socket fd `fileno` (Python's `socket.socket(fileno=...)`), which then belongs to this Socket
   * (close() closes it).
   *
   * Wrapping, as CPython: the fd must be an open socket (ENOTSOCK, syscall getsockopt, for a pipe
   * or a file; EBADF for a closed fd); a family, type or proto left undefined is read from the fd
   * (SO_TYPE; SO_DOMAIN, or getsockname's family where the kernel lacks it; SO_PROTOCOL, or 0 where
   * the kernel lacks it, as on macOS — so a wrapped TCP fd reports proto 6 on Linux), while one
   * given explicitly wins, unchecked against the fd. A detected family need not be one this module
   * has an address format for (bind/connect then throw ERR_UNKNOWN_ADDRESS_FAMILY). The wrapped fd
   * keeps its blocking mode (timeout null or 0), unless setdefaulttimeout() set a default timeout:
   * then it starts with that one, as every new Socket does.
   */
  constructor(family?: number, type?: number, proto?: number, fileno?: number) {
    if (trusted) {
      // wrapNewFd(): the arguments come from a checked Socket, the fd is new and in the right mode.
      trusted = false;
      this.family = family as F;
      this.type = type!;
      this.proto = proto!;
      this.#cell = { fd: fileno! };
      this.#timeout = trustedTimeout;
    } else {
      const [checkedFamily, checkedType, checkedProto, fd, timeout] = openSocket(family, type, proto, fileno);
      this.family = checkedFamily as F;
      this.type = checkedType;
      this.proto = checkedProto;
      this.#cell = { fd };
      this.#timeout = timeout;
    }
    watchForDrop(this, this.#cell);
  }

  /** The fd, or -1 once closed (or detached). */
  fileno(): number {
    return this.#cell.fd;
  }

  /** Whether close() (or detach()) has been called. */
  get closed(): boolean {
    return this.#cell.fd === -1;
  }

  /** Blocking (true, the same as settimeout(null)) or non-blocking (false, settimeout(0)). */
  setblocking(flag: boolean): void {
    if (typeof flag !== "boolean" && flag !== 0 && flag !== 1) throw argTypeError("flag", "of type boolean", flag);
    this.settimeout(flag ? null : 0);
  }

  /** False when non-blocking (timeout 0); true when blocking or timed (as Python, without a syscall). */
  getblocking(): boolean {
    return this.#timeout !== 0;
  }

  /**
   * Python's settimeout(): null blocks, 0 makes the socket non-blocking, a number of seconds > 0
   * makes every call that would block wait at most that long, then throw ETIMEDOUT.
   */
  settimeout(timeout: number | null): void {
    const value = checkTimeout(timeout);
    const fd = this.#cell.fd;
    if (fd === -1) throw closedError("ioctl");
    native.setNonBlocking(fd, value !== null);
    this.#timeout = value;
  }

  /** The timeout in seconds, 0 when non-blocking, null when blocking. */
  gettimeout(): number | null {
    return this.#timeout;
  }

  /** Binds to an address (see AddressInput). */
  bind(address: AddressInputOf<F>): void {
    const fd = this.#cell.fd;
    if (fd === -1) throw closedError("bind");
    native.bind(fd, this.family, ...addressArgs(this.family, address, "bind"));
  }

  /** Listens for connections; `backlog` defaults to SOMAXCONN, and a negative one counts as 0 (as Python). */
  listen(backlog?: number): void {
    const fd = this.#cell.fd;
    if (fd === -1) throw closedError("listen");
    if (backlog !== undefined) backlog = Math.max(0, checkInt("backlog", backlog, -0x80000000, 0x7fffffff));
    native.listen(fd, backlog);
  }

  /**
   * Accepts a connection: `[socket, address]`. The new socket is blocking, as in Python, whatever
   * the listener's mode (or has the default timeout, see setdefaulttimeout). On a non-blocking
   * listener with no pending connection, throws EAGAIN.
   */
  accept(): [Socket<F>, SocketAddressOf<F>] {
    const fd = this.#cell.fd;
    if (fd !== -1) {
      // The new socket starts with the default timeout: non-blocking from accept4 when there is one.
      const timeout = getdefaulttimeout();
      let result = acceptFd(fd, timeout !== null);
      if (typeof result === "number") {
        if (this.#timeout === 0) throw systemError(result, "accept");
        result = retry.accept(fd, this.#timeout, timeout !== null, result);
      }
      // The native [fd, address] pair becomes the [Socket, address] result without a second array.
      const pair = result as unknown as [Socket<F>, SocketAddressOf<F>];
      pair[0] = wrapNewFd(this.family, this.type, this.proto, result[0], timeout) as Socket<F>;
      return pair;
    }
    throw closedError("accept");
  }

  /**
   * Connects; throws the failure (ECONNREFUSED...), EINPROGRESS on a non-blocking socket, or
   * ETIMEDOUT when a timed socket's connection is not made within the timeout. Each of these
   * carries `address` (the host as given, or the Unix path) and `port`, as Node's connect errors
   * and the loop's sockConnect do.
   */
  connect(address: AddressInputOf<F>): void {
    const fd = this.#cell.fd;
    if (fd === -1) throw closedError("connect");
    const args = addressArgs(this.family, address, "connect");
    const r = connectTimed(fd, this.family, args, this.#timeout);
    if (r === 0) return;
    if (r === -ETIMEDOUT && this.#timeout !== null && this.#timeout > 0) throw withAddress(timeoutError("connect"), args[0], args[1]);
    throw connectError(r, args[0], args[1]);
  }

  /**
   * As connect(), but returns the errno instead of throwing it (Python's connect_ex): 0 on success,
   * a positive errno such as ECONNREFUSED or EINPROGRESS otherwise (on a timed socket whose
   * timeout passes: EAGAIN, as CPython's EWOULDBLOCK). Bad arguments still throw.
   */
  connectEx(address: AddressInputOf<F>): number {
    const fd = this.#cell.fd;
    if (fd === -1) return EBADF;
    const r = connectTimed(fd, this.family, addressArgs(this.family, address, "connectEx"), this.#timeout);
    if (r === -ETIMEDOUT && this.#timeout !== null && this.#timeout > 0) return EAGAIN;
    return 0 - r;
  }

  /**
   * Receives up to `bufsize` bytes: a Buffer, empty at the end of the stream. Small results share
   * a receive slab, as Buffer.allocUnsafe() shares Node's pool (see lib/sockio.ts): copy a small
   * piece you keep for long (`Buffer.from(data)`) so it does not keep its slab alive.
   */
  recv(bufsize: number, flags?: number): Buffer {
    // A failing non-blocking call skips no `if` body here: lib/socket-retry.ts says why.
    const fd = this.#cell.fd;
    if (fd !== -1) {
      const size = checkBufsize(bufsize);
      const r = recvBytes(fd, size, flags);
      if (typeof r === "number") {
        if (this.#timeout === 0) throw systemError(r, "recv");
        return retry.recv(fd, this.#timeout, size, flags, r);
      }
      return r;
    }
    throw closedError("recv");
  }

  /**
   * Receives into `buffer` (its first `nbytes` bytes; 0 or omitted means all of it) and returns
   * the count, 0 at the end of the stream.
   */
  recvInto(buffer: BufferLike, nbytes?: number, flags?: number): number {
    const fd = this.#cell.fd;
    if (fd !== -1) {
      const length = intoLength(buffer, nbytes);
      const n = recvInto(fd, buffer, length, flags);
      if (n < 0) {
        if (this.#timeout === 0) throw systemError(n, "recv");
        return retry.recvInto(fd, this.#timeout, buffer, length, flags, n);
      }
      return n;
    }
    throw closedError("recv");
  }

  /** Sends what the kernel takes now and returns the count (strings as UTF-8). */
  send(data: SendData, flags?: number): number {
    const fd = this.#cell.fd;
    if (fd !== -1) {
      const bytes = toBytes(data);
      const n = sendView(fd, bytes, flags);
      if (n < 0) {
        if (this.#timeout === 0) throw systemError(n, "send");
        return retry.send(fd, this.#timeout, bytes, flags, n);
      }
      return n;
    }
    throw closedError("send");
  }

  /**
   * Sends all of `data`, waiting for room on a blocking socket. On a non-blocking socket that
   * fills up, throws EAGAIN (as Python: how much went out is then unknown to the caller).
   */
  sendall(data: SendData, flags?: number): void {
    const fd = this.#cell.fd;
    if (fd !== -1) {
      const bytes = toBytes(data);
      const n = sendView(fd, bytes, flags);
      if (n !== bytes.byteLength) retry.sendallRest(fd, this.#timeout, bytes, flags, n);
      return;
    }
    throw closedError("send");
  }

  /**
   * Receives up to `bufsize` bytes and the sender's address: `[data, address]` (Python's
   * recvfrom). The address is null where the kernel reports none (a connected stream socket). A
   * datagram longer than `bufsize` is truncated, the rest of it discarded (as recvfrom(2)).
   */
  recvfrom(bufsize: number, flags?: number): [Buffer, SocketAddressOf<F> | null] {
    const fd = this.#cell.fd;
    if (fd !== -1) {
      const size = checkBufsize(bufsize);
      const r = recvfromBytes(fd, size, flags);
      if (typeof r === "number") {
        if (this.#timeout === 0) throw systemError(r, "recvfrom");
        return retry.recvfrom(fd, this.#timeout, size, flags, r) as [Buffer, SocketAddressOf<F> | null];
      }
      return r as [Buffer, SocketAddressOf<F> | null];
    }
    throw closedError("recvfrom");
  }

  /** As recvInto(), with the sender's address: `[count, address]` (Python's recvfrom_into). */
  recvfromInto(buffer: BufferLike, nbytes?: number, flags?: number): [number, SocketAddressOf<F> | null] {
    const fd = this.#cell.fd;
    if (fd !== -1) {
      const length = intoLength(buffer, nbytes);
      const r = recvfromInto(fd, buffer, length, flags);
      if (typeof r === "number") {
        if (this.#timeout === 0) throw systemError(r, "recvfrom");
        return retry.recvfromInto(fd, this.#timeout, buffer, length, flags, r) as [number, SocketAddressOf<F> | null];
      }
      return r as [number, SocketAddressOf<F> | null];
    }
    throw closedError("recvfrom");
  }

  /**
   * Sends a datagram to `address` and returns the count (Python's sendto(data, address) and
   * sendto(data, flags, address)). Host names are resolved with a blocking getaddrinfo, as Python.
   */
  sendto(data: SendData, address: AddressInputOf<F>): number;
  sendto(data: SendData, flags: number, address: AddressInputOf<F>): number;
  sendto(data: SendData, flagsOrAddress: number | AddressInput, maybeAddress?: AddressInput): number {
    const fd = this.#cell.fd;
    if (fd !== -1) {
      const flags = maybeAddress === undefined ? undefined : (flagsOrAddress as number);
      const address = maybeAddress === undefined ? flagsOrAddress : maybeAddress;
      const bytes = toBytes(data);
      const args = addressArgs(this.family, address, "sendto");
      const n = sendtoBytes(fd, bytes, flags, this.family, args);
      if (n < 0) {
        if (this.#timeout === 0) throw systemError(n, "sendto");
        return retry.sendto(fd, this.#timeout, bytes, flags, this.family, args, n);
      }
      return n;
    }
    throw closedError("sendto");
  }

  /**
   * Sends `count` bytes (all of the rest when omitted) of a file from `offset` (default 0) and
   * returns how many were sent, fewer than `count` only at the end of the file (Python's
   * socket.sendfile). `file` is an fd or a node:fs/promises FileHandle, which stays open; reading
   * starts at `offset` and neither uses nor moves the file's own position (Python seeks its file
   * object; an fd has no such object here), so the file must support pread(2) — a regular file.
   * On Linux the bytes go by sendfile(2), without passing through JavaScript; where sendfile(2)
   * refuses the file, and on other systems, by pread + send (64 KiB at a time). For SOCK_STREAM
   * sockets only (else ERR_SOCKET_BAD_TYPE) that block or have a timeout: a non-blocking socket
   * throws ERR_SOCKET_NONBLOCKING, as Python raises ValueError (use the loop's sockSendfile). On a
   * timed socket each wait for room lasts at most the timeout (as Python), then ETIMEDOUT. A system
   * error (EPIPE, ETIMEDOUT...) carries `bytesSent`, what went out before it.
   */
  sendfile(file: SendfileSource, offset?: number, count?: number): number {
    const fd = this.#cell.fd;
    if (fd === -1) throw closedError("sendfile");
    const args = sendfileArgs(this.type, file, offset, count);
    if (this.#timeout === 0) throw codedError("ERR_SOCKET_NONBLOCKING", "sendfile(): non-blocking sockets are not supported (use loop.sockSendfile)");
    return sendfileBlocking(fd, args, this.#timeout);
  }

  /**
   * A new Socket on a duplicate of the fd (Python's dup()): same family, type, proto and timeout,
   * CLOEXEC. Both fds share one open socket, and so its blocking mode (O_NONBLOCK belongs to the
   * open file description): settimeout() on one changes the fd mode of both, as in Python. Closing
   * one leaves the other open.
   */
  dup(): Socket<F> {
    const fd = this.#cell.fd;
    if (fd === -1) throw closedError("dup");
    return wrapNewFd(this.family, this.type, this.proto, native.dup(fd), this.#timeout) as Socket<F>;
  }

  /** Shuts down reading (SHUT_RD), writing (SHUT_WR) or both (SHUT_RDWR). */
  shutdown(how: number): void {
    const fd = this.#cell.fd;
    if (fd === -1) throw closedError("shutdown");
    native.shutdown(fd, checkInt("how", how, 0, 2));
  }

  /** Sets an integer (or boolean) socket option. */
  setsockopt(level: number, option: number, value: number | boolean): void {
    const fd = this.#cell.fd;
    if (fd === -1) throw closedError("setsockopt");
    native.setsockopt(fd, level, option, value);
  }

  /** Reads an integer socket option (SO_ERROR, SO_RCVBUF, TCP_NODELAY...). */
  getsockopt(level: number, option: number): number {
    const fd = this.#cell.fd;
    if (fd === -1) throw closedError("getsockopt");
    return native.getsockopt(fd, level, option);
  }

  /**
   * The local address: `[host, port]` on an AF_INET socket, `[host, port, flowinfo, scopeId]` on
   * AF_INET6, a path on AF_UNIX ('' when unbound), typed by the family (SocketAddressOf<F>), so
   * `const [host, port] = sock.getsockname()` needs no cast on a `new Socket()`.
   */
  getsockname(): SocketAddressOf<F> {
    const fd = this.#cell.fd;
    if (fd === -1) throw closedError("getsockname");
    return knownAddress<F>(native.getsockname(fd), "getsockname");
  }

  /** The peer's address, shaped as getsockname()'s; throws ENOTCONN when not connected. */
  getpeername(): SocketAddressOf<F> {
    const fd = this.#cell.fd;
    if (fd === -1) throw closedError("getpeername");
    return knownAddress<F>(native.getpeername(fd), "getpeername");
  }

  /** Closes the fd. Idempotent: later calls do nothing; other methods then throw EBADF. */
  close(): void {
    const fd = this.#cell.fd;
    if (fd === -1) return;
    this.#cell.fd = -1;
    native.close(fd);
  }

  /** Gives up the fd without closing it and returns it (Python's detach()); the Socket is then closed. */
  detach(): number {
    const fd = this.#cell.fd;
    this.#cell.fd = -1;
    return fd;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * What util.inspect() and console.log() show, as CPython's repr: `<Socket fd=5, family=AF_INET,
   * type=SOCK_STREAM, proto=0, laddr=['127.0.0.1', 8080], raddr=['127.0.0.1', 50000]>`; laddr and
   * raddr only where getsockname/getpeername answer (and name something: an unbound Unix socket's
   * '' is left out, as Python leaves it out); `<Socket [closed] fd=-1, ...>` once closed. Never
   * throws: a failing syscall only leaves its part out.
   */
  [inspect.custom](): string {
    if (!(#cell in this)) return "Socket {}"; // the prototype itself
    try {
      return socketRepr(this, this.#cell.fd, this.family, this.type, this.proto);
    } catch {
      return "<Socket>";
    }
  }
}

/**
 * Wraps a new fd that a checked Socket just made (accept, socketpair, dup, the loop's sockAccept):
 * no argument checks and no syscall. The fd must already be in the mode `timeout` implies
 * (blocking for null, non-blocking otherwise).
 * @internal Not part of the public API.
 */
export function wrapNewFd(family: number, type: number, proto: number, fd: number, timeout: number | null): Socket {
  trusted = true;
  trustedTimeout = timeout;
  return new Socket(family, type, proto, fd);
}
