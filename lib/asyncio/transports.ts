/**
 * lib/asyncio/transports.ts — the stream Transport over a non-blocking SOCK_STREAM Socket (TCP or
 * Unix), as asyncio's _SelectorSocketTransport: one reader registered for the connection's life,
 * one recv per readable wake (into a receive slab, or a BufferedProtocol's getBuffer()); on
 * ProactorEventLoop, the protocol takes what the socket's multishot receive brings instead (or the
 * ring's single-shot recv operations, before Linux 6.17), a BufferedProtocol copied in; writes
 * sent straight to the kernel while it takes them and only the remainder buffered, a writer
 * registered only while that buffer is not empty. Flow control at the write-buffer limits and the
 * closing are shared with the datagram transport (flow-control.ts).
 */
import { constants as osConstants } from "node:os";

import { codedError, systemError } from "../errors.js";
import type { EventLoop } from "../loop/loop.js";
import { ProactorEventLoop } from "../loop/proactor.js";
import type { SocketAddress } from "../native.js";
import { AF_UNIX, IPPROTO_TCP, SHUT_WR, TCP_NODELAY, type Socket } from "../socket.js";
import { toBytes } from "../args.js";
import { recvChunk, recvInto, sendView, sendvBytes, wouldBlock } from "../sockio.js";
import { FlowControlTransport } from "./flow-control.js";
import { bufferOf, feedBuffered, type BufferedProtocol, type Protocol, type StreamProtocol } from "./protocols.js";

/** What one completion read asks for on ProactorEventLoop (as a readiness read's receive slab room). */
const COMPLETION_READ_SIZE = 64 * 1024;

/** A writev gathers at most this many buffered pieces (IOV_MAX is 1024 on Linux and macOS). */
const MAX_IOV = 64;

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

/**
 * A stream transport (asyncio.Transport). Made by createServer/createConnection and their Unix
 * forms, not by user code. It owns its Socket and closes it after connectionLost.
 */
export class Transport extends FlowControlTransport<StreamProtocol> {
  #buffered: boolean;
  readonly #owner: TransportOwner | null;
  /** Unsent bytes, in order; _size is their total. */
  #pending: Uint8Array[] = [];
  #readingPaused = false;
  #eofWritten = false;
  #writesAfterLost = 0;
  #extra: Map<string, unknown> | null = null;
  readonly #onReadable = (): void => this.#readReady();
  readonly #onWritable = (): void => this.#writeReady();
  /**
   * On ProactorEventLoop a Protocol takes each chunk the socket's multishot receive brings, with no
   * poll request, recv syscall or promise per read (#streamReads: ringrecv.ts's reader). That
   * receive is armed for 64 KiB at a time, so that while reading is paused at most 64 KiB more
   * comes in (held, and delivered after resumeReading()), as CPython's proactor transports hold
   * the one read they have in flight. That needs the kernel's byte limit for multishot receives
   * (Linux 6.17); before it, or without provided buffers, the reads are single-shot recv
   * operations of 64 KiB, one in flight at a time. A BufferedProtocol gets the same chunks,
   * copied into the memory its getBuffer() gives, as CPython's proactor transports feed it (its
   * own memory is never lent to the kernel).
   */
  readonly #completionReads: boolean;
  readonly #streamReads: boolean;
  readonly #onStreamItem = (item: Buffer | Error): void => this.#streamItem(item);
  #recvInFlight = false;
  /** Bytes (empty: the end of the stream) a completion read brought while reading was paused. */
  #held: Buffer | null = null;
  readonly #onRecv = (data: Buffer): void => this.#recvDone(data);
  readonly #onRecvFailed = (error: unknown): void => this.#recvFailed(error);

  /** @internal Use createServer/createConnection. `onMade` runs right after connectionMade. */
  constructor(loop: EventLoop, sock: Socket, protocol: StreamProtocol, owner: TransportOwner | null, onMade?: (error?: unknown) => void) {
    super(loop, sock, protocol);
    this.#buffered = typeof (protocol as BufferedProtocol).getBuffer === "function" && typeof (protocol as BufferedProtocol).bufferUpdated === "function";
    this.#owner = owner;
    this.#completionReads = loop instanceof ProactorEventLoop;
    this.#streamReads = this.#completionReads && (loop as ProactorEventLoop)._streamReads;
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
      this._protocol.connectionMade(this);
    } catch (error) {
      this._fatal(error, "connectionMade() failed");
      onMade?.(error);
      return;
    }
    if (!this._closing && !this.#readingPaused) this.#startReading();
    onMade?.();
  }

  // ------------------------------------------------------------------ reading

  #startReading(): void {
    if (this.#streamReads) {
      const error = (this._loop as ProactorEventLoop)._sockRead(this._sock, this.#onStreamItem);
      if (error !== null) this._fatal(error, "read failed");
    } else if (this.#completionReads) this.#recvNext();
    else this._loop.addReader(this._fd, this.#onReadable);
  }

  /** A chunk, the end of the stream (empty) or an error from the socket's multishot receive. */
  #streamItem(item: Buffer | Error): void {
    if (this._closing) return; // close() or abort() came first: nothing more is delivered
    if (item instanceof Error) this._fatal(item, "read failed");
    else this.#deliver(item);
  }

  protected override _stopReading(): void {
    if (this.#streamReads) (this._loop as ProactorEventLoop)._sockStopReading(this._sock);
    else super._stopReading();
  }

  /** Submits the next completion read, unless one is in flight or reading stopped. */
  #recvNext(): void {
    if (this.#recvInFlight || this._closing || this.#readingPaused) return;
    this.#recvInFlight = true;
    (this._loop as ProactorEventLoop)._sockRecvOnce(this._sock, COMPLETION_READ_SIZE).then(this.#onRecv, this.#onRecvFailed);
  }

  #recvDone(data: Buffer): void {
    this.#recvInFlight = false;
    if (this._closing) return; // close() or abort() came first: nothing more is delivered
    if (this.#readingPaused) {
      this.#held = data;
      return;
    }
    this.#deliver(data);
    if (data.length > 0) this.#recvNext(); // after the end of the stream no more reads
  }

  #recvFailed(error: unknown): void {
    this.#recvInFlight = false;
    // Closing cancels the read with the socket's close: not a failure of the connection.
    if (!this._closing) this._fatal(error, "read failed");
  }

  /** A completion read's bytes to the protocol (empty: the end of the stream). */
  #deliver(data: Buffer): void {
    if (data.length === 0) return this.#readEof();
    if (this.#buffered) {
      const failure = feedBuffered(this._protocol as BufferedProtocol, data, this);
      return failure === null ? undefined : this._fatal(failure[1], failure[0]);
    }
    try {
      (this._protocol as Protocol).dataReceived(data);
    } catch (error) {
      this._fatal(error, "dataReceived() failed");
    }
  }

  /** resumeReading() on completion reads: what came while paused first, then the next read. */
  readonly #resumeCompletionReads = (): void => {
    if (this._closing || this.#readingPaused) return;
    const held = this.#held;
    if (held !== null) {
      this.#held = null;
      this.#deliver(held);
      if (held.length === 0) return;
    }
    this.#recvNext();
  };

  #readReady(): void {
    if (this._lost) return;
    if (this.#buffered) return this.#readIntoProtocol();
    const data = recvChunk(this._fd);
    if (typeof data === "number") {
      if (!wouldBlock(data)) this._fatal(systemError(data, "recv"), "read failed");
      return;
    }
    if (data.length === 0) return this.#readEof();
    try {
      (this._protocol as Protocol).dataReceived(data);
    } catch (error) {
      this._fatal(error, "dataReceived() failed");
    }
  }

  #readIntoProtocol(): void {
    const protocol = this._protocol as BufferedProtocol;
    let buffer: Uint8Array;
    try {
      buffer = bufferOf(protocol, -1);
    } catch (error) {
      return this._fatal(error, "getBuffer() failed");
    }
    const n = recvInto(this._fd, buffer, buffer.length);
    if (n < 0) {
      if (!wouldBlock(n)) this._fatal(systemError(n, "recv"), "read failed");
      return;
    }
    if (n === 0) return this.#readEof();
    try {
      protocol.bufferUpdated(n);
    } catch (error) {
      this._fatal(error, "bufferUpdated() failed");
    }
  }

  #readEof(): void {
    this._loop.removeReader(this._fd);
    let keepOpen: boolean | void;
    try {
      keepOpen = this._protocol.eofReceived();
    } catch (error) {
      return this._fatal(error, "eofReceived() failed");
    }
    if (keepOpen !== true) this.close();
  }

  /** Stops reading until resumeReading(); no dataReceived meanwhile. */
  pauseReading(): void {
    if (this._closing || this.#readingPaused) return;
    this.#readingPaused = true;
    if (this.#streamReads) (this._loop as ProactorEventLoop)._sockStopReading(this._sock);
    else if (!this.#completionReads) this._loop.removeReader(this._fd);
  }

  /** Starts reading again after pauseReading(). */
  resumeReading(): void {
    if (this._closing || !this.#readingPaused) return;
    this.#readingPaused = false;
    // Stream reads: what was held is delivered from the next iteration on (ringrecv.ts schedules it).
    if (this.#streamReads) this.#startReading();
    else if (this.#completionReads) this._loop.callSoon(this.#resumeCompletionReads);
    else this._loop.addReader(this._fd, this.#onReadable);
  }

  /** Whether the transport is receiving (not paused, not closing). */
  isReading(): boolean {
    return !this.#readingPaused && !this._closing;
  }

  // ------------------------------------------------------------------ writing

  /**
   * Sends `data` (a string as UTF-8): straight to the kernel while it takes it, the rest buffered
   * (copied) and sent as the socket drains. Never blocks. Throws ERR_TRANSPORT_EOF after writeEof().
   * After the connection is lost, writes are dropped.
   */
  write(data: WriteData): void {
    // The common case first: a Buffer while nothing is buffered and the connection is open.
    if (this._size === 0 && data instanceof Uint8Array && !this.#eofWritten && !this._lost) {
      const length = data.byteLength;
      if (length === 0) return;
      const n = sendView(this._fd, data);
      if (n === length) return;
      return this.#bufferRest(data, n);
    }
    const view = toView(data);
    if (this.#eofWritten) throw codedError("ERR_TRANSPORT_EOF", "Cannot call write() after writeEof()");
    if (this._lost) {
      if (++this.#writesAfterLost === 5)
        this._loop.callExceptionHandler({
          message: "socket.send() raised exception.",
          exception: codedError("ERR_CONNECTION_LOST", "writes to a lost connection are dropped"),
        });
      return;
    }
    const length = view.byteLength;
    if (length === 0) return;
    if (this._size === 0) {
      const n = sendView(this._fd, view);
      if (n === length) return;
      return this.#bufferRest(view, n);
    }
    this.#pending.push(Buffer.from(view));
    this._size += length;
    this._maybePause();
  }

  /** After a first send of `view` (nothing buffered) took `n` bytes (or failed): buffer the rest. */
  #bufferRest(view: Uint8Array, n: number): void {
    if (n < 0 && !wouldBlock(n)) return this._fatal(systemError(n, "send"), "write failed");
    const sent = n < 0 ? 0 : n;
    this.#pending.push(Buffer.from(view.subarray(sent)));
    this._size = view.byteLength - sent;
    this._loop.addWriter(this._fd, this.#onWritable);
    this._maybePause();
  }

  /** write() of each piece in order (one gathered send when nothing is buffered). */
  writelines(list: Iterable<WriteData>): void {
    const views: Uint8Array[] = [];
    for (const data of list) views.push(toView(data));
    if (views.length === 1 || this._size > 0 || this._lost || this.#eofWritten || views.length > MAX_IOV) {
      for (const view of views) this.write(view);
      return;
    }
    if (views.length === 0) return;
    let total = 0;
    for (const view of views) total += view.byteLength;
    const n = sendvBytes(this._fd, views);
    if (n === total) return;
    if (n < 0 && !wouldBlock(n)) return this._fatal(systemError(n, "sendmsg"), "write failed");
    let skip = n < 0 ? 0 : n;
    for (const view of views) {
      if (skip >= view.byteLength) {
        skip -= view.byteLength;
        continue;
      }
      this.#pending.push(Buffer.from(view.subarray(skip)));
      skip = 0;
    }
    this._size = total - (n < 0 ? 0 : n);
    this._loop.addWriter(this._fd, this.#onWritable);
    this._maybePause();
  }

  #writeReady(): void {
    if (this._lost) return;
    const pending = this.#pending;
    let n: number;
    if (pending.length === 1) n = sendView(this._fd, pending[0]!);
    else n = sendvBytes(this._fd, pending.length > MAX_IOV ? pending.slice(0, MAX_IOV) : pending);
    if (n < 0) {
      if (!wouldBlock(n)) this._fatal(systemError(n, "send"), "write failed");
      return;
    }
    this._size -= n;
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
    this._maybeResume();
    if (this._size > 0) return;
    this._loop.removeWriter(this._fd);
    if (this._closing) this._scheduleLost(null);
    else if (this.#eofWritten) this.#shutdownWrite();
  }

  /** Closes the write side (shutdown SHUT_WR) once the buffer is sent; reading goes on. */
  writeEof(): void {
    if (this._closing || this.#eofWritten) return;
    this.#eofWritten = true;
    if (this._size === 0) this.#shutdownWrite();
  }

  #shutdownWrite(): void {
    try {
      this._sock.shutdown(SHUT_WR);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== "ENOTCONN" && code !== "EINVAL" && (error as { errno?: number }).errno !== -EINVAL) this._fatal(error, "shutdown failed");
    }
  }

  /** True: stream sockets can half-close. */
  canWriteEof(): boolean {
    return true;
  }

  // ------------------------------------------------------------------ closing

  /** @internal */
  protected override _dropBuffer(): void {
    this.#pending = [];
  }

  /** @internal */
  protected override _closed(): void {
    this.#owner?._detach(this);
  }

  // ------------------------------------------------------------------ introspection

  /** 'peername', 'sockname' or 'socket' (the Socket: do not read, write or close it); else `defaultValue`. */
  getExtraInfo<T = undefined>(name: string, defaultValue?: T): SocketAddress | Socket | T | undefined {
    if (name === "socket") return this._sock;
    if (name !== "peername" && name !== "sockname") return defaultValue;
    const extra = (this.#extra ??= new Map());
    if (!extra.has(name)) {
      let value: SocketAddress | undefined;
      try {
        value = name === "peername" ? this._sock.getpeername() : this._sock.getsockname();
      } catch {
        value = undefined;
      }
      if (value !== undefined || this._sock.closed) extra.set(name, value);
      else return defaultValue;
    }
    return (extra.get(name) as SocketAddress | undefined) ?? defaultValue;
  }

  /** The protocol this transport calls. */
  getProtocol(): StreamProtocol {
    return this._protocol;
  }

  /** Switches protocols (asyncio's set_protocol); the new one gets no connectionMade. */
  setProtocol(protocol: StreamProtocol): void {
    this._protocol = protocol;
    this.#buffered = typeof (protocol as BufferedProtocol).getBuffer === "function" && typeof (protocol as BufferedProtocol).bufferUpdated === "function";
  }

  /** The loop the transport runs on. */
  getLoop(): EventLoop {
    return this._loop;
  }
}
