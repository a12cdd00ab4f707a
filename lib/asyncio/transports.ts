/**
 * lib/asyncio/transports.ts — the stream Transport over a non-blocking SOCK_STREAM Socket (TCP or
 * Unix), as asyncio's _SelectorSocketTransport: one reader registered for the connection's life,
 * one recv per readable wake (into a receive slab, or a BufferedProtocol's getBuffer()), writes
 * sent straight to the kernel while it takes them and only the remainder buffered, a writer
 * registered only while that buffer is not empty, and flow control at the write-buffer limits
 * (asyncio's defaults: high 64 KiB, low a quarter of it).
 */
import { constants as osConstants } from "node:os";

import { codedError, systemError } from "../errors.js";
import type { EventLoop } from "../loop/loop.js";
import type { SocketAddress } from "../native.js";
import { AF_UNIX, IPPROTO_TCP, SHUT_WR, TCP_NODELAY, type Socket } from "../socket.js";
import { describe, toBytes } from "../args.js";
import { recvChunk, recvInto, sendView, sendvBytes, wouldBlock } from "../sockio.js";
import type { BufferedProtocol, Protocol, StreamProtocol } from "./protocols.js";

/** asyncio's default high-water mark of a write buffer. */
export const DEFAULT_HIGH_WATER = 64 * 1024;
/** A writev gathers at most this many buffered pieces (IOV_MAX is 1024 on Linux and macOS). */
const MAX_IOV = 64;

/** Errors a peer causes by going away: reported to the protocol, not to the exception handler. */
const PEER_GONE: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ETIMEDOUT", "ENOTCONN", "ESHUTDOWN"]);
const EINVAL = osConstants.errno.EINVAL;

/** What owns a transport's connection count (a Server). */
export interface TransportOwner {
  /** @internal */
  _attach(transport: Transport): void;
  /** @internal */
  _detach(transport: Transport): void;
}

/** Bytes a transport's write() takes: a Buffer or any other view, or a string (UTF-8). */
export type WriteData = string | ArrayBufferView;

/** The bytes of write()'s data as a byte view (the shared data check, args.ts's toBytes). */
function toView(data: WriteData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  const view = toBytes(data as string | NodeJS.ArrayBufferView); // checked there: a view or a string
  return view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Checks a high/low water pair as asyncio does; returns [high, low]. */
export function waterLimits(high: number | undefined, low: number | undefined): [number, number] {
  for (const [name, value] of [
    ["high", high],
    ["low", low],
  ] as const)
    if (value !== undefined && (typeof value !== "number" || !Number.isInteger(value) || value < 0))
      throw codedError("ERR_OUT_OF_RANGE", `The "${name}" argument must be an integer >= 0. Received ${describe(value)}`, "RangeError");
  const h = high ?? (low === undefined ? DEFAULT_HIGH_WATER : 4 * low);
  const l = low ?? h >>> 2;
  if (l > h) throw codedError("ERR_OUT_OF_RANGE", `high (${h}) must be >= low (${l})`, "RangeError");
  return [h, l];
}

/**
 * A stream transport (asyncio.Transport). Made by createServer/createConnection and their Unix
 * forms, not by user code. It owns its Socket and closes it after connectionLost.
 */
export class Transport {
  readonly #loop: EventLoop;
  readonly #sock: Socket;
  readonly #fd: number;
  #protocol: StreamProtocol;
  #buffered: boolean;
  readonly #owner: TransportOwner | null;
  /** Unsent bytes, in order; #size is their total. */
  #pending: Uint8Array[] = [];
  #size = 0;
  #high = DEFAULT_HIGH_WATER;
  #low = DEFAULT_HIGH_WATER >>> 2;
  #protocolPaused = false;
  #closing = false;
  #readingPaused = false;
  #eofWritten = false;
  /** Whether connectionLost is scheduled or done. */
  #lost = false;
  #writesAfterLost = 0;
  #extra: Map<string, unknown> | null = null;
  readonly #onReadable = (): void => this.#readReady();
  readonly #onWritable = (): void => this.#writeReady();

  /** @internal Use createServer/createConnection. `onMade` runs right after connectionMade. */
  constructor(loop: EventLoop, sock: Socket, protocol: StreamProtocol, owner: TransportOwner | null, onMade?: (error?: unknown) => void) {
    this.#loop = loop;
    this.#sock = sock;
    this.#fd = sock.fileno();
    this.#protocol = protocol;
    this.#buffered = typeof (protocol as BufferedProtocol).getBuffer === "function" && typeof (protocol as BufferedProtocol).bufferUpdated === "function";
    this.#owner = owner;
    if (sock.family !== AF_UNIX) {
      try {
        sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      } catch {
        // Not TCP after all (a wrapped socket of another protocol): nothing to tune.
      }
    }
    owner?._attach(this);
    loop.callSoon(() => this.#start(onMade));
  }

  #start(onMade: ((error?: unknown) => void) | undefined): void {
    try {
      this.#protocol.connectionMade(this);
    } catch (error) {
      this.#fatal(error, "connectionMade() failed");
      onMade?.(error);
      return;
    }
    // Registered by fd number, as asyncio's transports do: the transport removes its reader and
    // writer before it closes its socket, so the loop's per-wake closed-Socket check (a fileno()
    // call) has nothing to catch.
    if (!this.#closing && !this.#readingPaused) this.#loop.addReader(this.#fd, this.#onReadable);
    onMade?.();
  }

  // ------------------------------------------------------------------ reading

  #readReady(): void {
    if (this.#lost) return;
    if (this.#buffered) return this.#readIntoProtocol();
    const data = recvChunk(this.#fd);
    if (typeof data === "number") {
      if (!wouldBlock(data)) this.#fatal(systemError(data, "recv"), "read failed");
      return;
    }
    if (data.length === 0) return this.#readEof();
    try {
      (this.#protocol as Protocol).dataReceived(data);
    } catch (error) {
      this.#fatal(error, "dataReceived() failed");
    }
  }

  #readIntoProtocol(): void {
    const protocol = this.#protocol as BufferedProtocol;
    let buffer: Uint8Array;
    try {
      buffer = protocol.getBuffer(-1);
      if (!(buffer instanceof Uint8Array) || buffer.length === 0)
        throw codedError("ERR_INVALID_RETURN_VALUE", "getBuffer() must return a non-empty Uint8Array");
    } catch (error) {
      return this.#fatal(error, "getBuffer() failed");
    }
    const n = recvInto(this.#fd, buffer, buffer.length);
    if (n < 0) {
      if (!wouldBlock(n)) this.#fatal(systemError(n, "recv"), "read failed");
      return;
    }
    if (n === 0) return this.#readEof();
    try {
      protocol.bufferUpdated(n);
    } catch (error) {
      this.#fatal(error, "bufferUpdated() failed");
    }
  }

  #readEof(): void {
    this.#loop.removeReader(this.#fd);
    let keepOpen: boolean | void;
    try {
      keepOpen = this.#protocol.eofReceived();
    } catch (error) {
      return this.#fatal(error, "eofReceived() failed");
    }
    if (keepOpen !== true) this.close();
  }

  /** Stops reading until resumeReading(); no dataReceived meanwhile. */
  pauseReading(): void {
    if (this.#closing || this.#readingPaused) return;
    this.#readingPaused = true;
    this.#loop.removeReader(this.#fd);
  }

  /** Starts reading again after pauseReading(). */
  resumeReading(): void {
    if (this.#closing || !this.#readingPaused) return;
    this.#readingPaused = false;
    this.#loop.addReader(this.#fd, this.#onReadable);
  }

  /** Whether the transport is receiving (not paused, not closing). */
  isReading(): boolean {
    return !this.#readingPaused && !this.#closing;
  }

  // ------------------------------------------------------------------ writing

  /**
   * Sends `data` (a string as UTF-8): straight to the kernel while it takes it, the rest buffered
   * (copied) and sent as the socket drains. Never blocks. Throws ERR_TRANSPORT_EOF after writeEof().
   * After the connection is lost, writes are dropped.
   */
  write(data: WriteData): void {
    // The common case first: a Buffer while nothing is buffered and the connection is open.
    if (this.#size === 0 && data instanceof Uint8Array && !this.#eofWritten && !this.#lost) {
      const length = data.byteLength;
      if (length === 0) return;
      const n = sendView(this.#fd, data);
      if (n === length) return;
      return this.#bufferRest(data, n);
    }
    const view = toView(data);
    if (this.#eofWritten) throw codedError("ERR_TRANSPORT_EOF", "Cannot call write() after writeEof()");
    if (this.#lost) {
      if (++this.#writesAfterLost === 5)
        this.#loop.callExceptionHandler({
          message: "socket.send() raised exception.",
          exception: codedError("ERR_CONNECTION_LOST", "writes to a lost connection are dropped"),
        });
      return;
    }
    const length = view.byteLength;
    if (length === 0) return;
    if (this.#size === 0) {
      const n = sendView(this.#fd, view);
      if (n === length) return;
      return this.#bufferRest(view, n);
    }
    this.#pending.push(Buffer.from(view));
    this.#size += length;
    this.#maybePause();
  }

  /** After a first send of `view` (nothing buffered) took `n` bytes (or failed): buffer the rest. */
  #bufferRest(view: Uint8Array, n: number): void {
    if (n < 0 && !wouldBlock(n)) return this.#fatal(systemError(n, "send"), "write failed");
    const sent = n < 0 ? 0 : n;
    this.#pending.push(Buffer.from(view.subarray(sent)));
    this.#size = view.byteLength - sent;
    this.#loop.addWriter(this.#fd, this.#onWritable);
    this.#maybePause();
  }

  /** write() of each piece in order (one gathered send when nothing is buffered). */
  writelines(list: Iterable<WriteData>): void {
    const views: Uint8Array[] = [];
    for (const data of list) views.push(toView(data));
    if (views.length === 1 || this.#size > 0 || this.#lost || this.#eofWritten || views.length > MAX_IOV) {
      for (const view of views) this.write(view);
      return;
    }
    if (views.length === 0) return;
    let total = 0;
    for (const view of views) total += view.byteLength;
    const n = sendvBytes(this.#fd, views);
    if (n === total) return;
    if (n < 0 && !wouldBlock(n)) return this.#fatal(systemError(n, "sendmsg"), "write failed");
    let skip = n < 0 ? 0 : n;
    for (const view of views) {
      if (skip >= view.byteLength) {
        skip -= view.byteLength;
        continue;
      }
      this.#pending.push(Buffer.from(view.subarray(skip)));
      skip = 0;
    }
    this.#size = total - (n < 0 ? 0 : n);
    this.#loop.addWriter(this.#fd, this.#onWritable);
    this.#maybePause();
  }

  #writeReady(): void {
    if (this.#lost) return;
    const pending = this.#pending;
    let n: number;
    if (pending.length === 1) n = sendView(this.#fd, pending[0]!);
    else n = sendvBytes(this.#fd, pending.length > MAX_IOV ? pending.slice(0, MAX_IOV) : pending);
    if (n < 0) {
      if (!wouldBlock(n)) this.#fatal(systemError(n, "send"), "write failed");
      return;
    }
    this.#size -= n;
    let i = 0;
    while (n > 0) {
      const head = pending[i]!;
      if (n >= head.byteLength) {
        n -= head.byteLength;
        i++;
      } else {
        pending[i] = head.subarray(n);
        n = 0;
      }
    }
    if (i > 0) pending.splice(0, i);
    this.#maybeResume();
    if (this.#size > 0) return;
    this.#loop.removeWriter(this.#fd);
    if (this.#closing) this.#scheduleLost(null);
    else if (this.#eofWritten) this.#shutdownWrite();
  }

  #maybePause(): void {
    if (this.#protocolPaused || this.#size <= this.#high) return;
    this.#protocolPaused = true;
    try {
      this.#protocol.pauseWriting();
    } catch (error) {
      this.#loop.callExceptionHandler({ message: "protocol.pauseWriting() failed", exception: error, transport: this, protocol: this.#protocol });
    }
  }

  #maybeResume(): void {
    if (!this.#protocolPaused || this.#size > this.#low) return;
    this.#protocolPaused = false;
    try {
      this.#protocol.resumeWriting();
    } catch (error) {
      this.#loop.callExceptionHandler({ message: "protocol.resumeWriting() failed", exception: error, transport: this, protocol: this.#protocol });
    }
  }

  /** Closes the write side (shutdown SHUT_WR) once the buffer is sent; reading goes on. */
  writeEof(): void {
    if (this.#closing || this.#eofWritten) return;
    this.#eofWritten = true;
    if (this.#size === 0) this.#shutdownWrite();
  }

  #shutdownWrite(): void {
    try {
      this.#sock.shutdown(SHUT_WR);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== "ENOTCONN" && code !== "EINVAL" && (error as { errno?: number }).errno !== -EINVAL) this.#fatal(error, "shutdown failed");
    }
  }

  /** True: stream sockets can half-close. */
  canWriteEof(): boolean {
    return true;
  }

  /** Bytes buffered, not yet taken by the kernel. */
  getWriteBufferSize(): number {
    return this.#size;
  }

  /** Sets the write-buffer limits (defaults: high 64 KiB, low high/4; low alone: high = 4 × low). */
  setWriteBufferLimits(high?: number, low?: number): void {
    [this.#high, this.#low] = waterLimits(high, low);
    this.#maybePause();
    this.#maybeResume();
  }

  /** `[low, high]`, as asyncio. */
  getWriteBufferLimits(): [low: number, high: number] {
    return [this.#low, this.#high];
  }

  // ------------------------------------------------------------------ closing

  /** Whether close() or abort() was called, or the connection is lost. */
  isClosing(): boolean {
    return this.#closing;
  }

  /** Stops reading, sends what is buffered, then closes; connectionLost(null) follows. Idempotent. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#loop.removeReader(this.#fd);
    if (this.#size === 0) this.#scheduleLost(null);
  }

  /** Closes at once, dropping the buffer; connectionLost(null) follows. */
  abort(): void {
    this.#forceClose(null);
  }

  #fatal(error: unknown, message: string): void {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== "string" || !PEER_GONE.has(code))
      this.#loop.callExceptionHandler({ message: `Fatal error on transport: ${message}`, exception: error, transport: this, protocol: this.#protocol });
    this.#forceClose(error instanceof Error ? error : new Error(String(error)));
  }

  #forceClose(error: Error | null): void {
    if (this.#lost) return;
    if (this.#size > 0) {
      this.#pending = [];
      this.#size = 0;
      this.#loop.removeWriter(this.#fd);
    }
    if (!this.#closing) {
      this.#closing = true;
      this.#loop.removeReader(this.#fd);
    }
    this.#scheduleLost(error);
  }

  #scheduleLost(error: Error | null): void {
    if (this.#lost) return;
    this.#lost = true;
    this.#loop.callSoon(() => this.#connectionLost(error));
  }

  #connectionLost(error: Error | null): void {
    try {
      this.#protocol.connectionLost(error);
    } catch (exception) {
      this.#loop.callExceptionHandler({ message: "protocol.connectionLost() failed", exception, transport: this, protocol: this.#protocol });
    } finally {
      this.#sock.close();
      this.#owner?._detach(this);
    }
  }

  // ------------------------------------------------------------------ introspection

  /** 'peername', 'sockname' or 'socket' (the Socket: do not read, write or close it); else `defaultValue`. */
  getExtraInfo<T = undefined>(name: string, defaultValue?: T): SocketAddress | Socket | T | undefined {
    if (name === "socket") return this.#sock;
    if (name !== "peername" && name !== "sockname") return defaultValue;
    const extra = (this.#extra ??= new Map());
    if (!extra.has(name)) {
      let value: SocketAddress | undefined;
      try {
        value = name === "peername" ? this.#sock.getpeername() : this.#sock.getsockname();
      } catch {
        value = undefined;
      }
      if (value !== undefined || this.#sock.closed) extra.set(name, value);
      else return defaultValue;
    }
    return (extra.get(name) as SocketAddress | undefined) ?? defaultValue;
  }

  /** The protocol this transport calls. */
  getProtocol(): StreamProtocol {
    return this.#protocol;
  }

  /** Switches protocols (asyncio's set_protocol); the new one gets no connectionMade. */
  setProtocol(protocol: StreamProtocol): void {
    this.#protocol = protocol;
    this.#buffered = typeof (protocol as BufferedProtocol).getBuffer === "function" && typeof (protocol as BufferedProtocol).bufferUpdated === "function";
  }

  /** The loop the transport runs on. */
  getLoop(): EventLoop {
    return this.#loop;
  }
}
