/**
 * lib/loop/proactor.ts — ProactorEventLoop: the EventLoop on an io_uring ring (Linux), with the
 * sock* calls as completions (ringsock.ts) instead of readiness waits. Everything else — the
 * callbacks, timers, both drivers, signals, the exception handler, and addReader/addWriter (served
 * by the ring's poll requests) — is EventLoop's own core, run over the ring's selector (ring.ts).
 * sockSendfile stays readiness-based (sendfile(2) when the socket is writable): io_uring has no
 * sendfile operation, and two linked splices through a pipe per chunk are not done (docs/api.md).
 */
import { checkInt } from "../args.js";
import { codedError } from "../errors.js";
import { RingSelector, ringUnavailableReason, type RecvBuffers } from "../ring.js";
import type { AddressInputOf, BufferLike, Socket, SocketAddress, SocketAddressOf } from "../socket.js";
import type { IoData } from "./io.js";
import { EventLoop, type LoopKeyData } from "./loop.js";
import type { StreamReader } from "./ringrecv.js";
import { RingCalls } from "./ringsock.js";
import type { ConnectAddress, SockOptions, SocketLike } from "./sockwait.js";

/** Options of `new ProactorEventLoop()`. */
export interface ProactorOptions {
  /** Submission queue slots of the ring (1..32768, default 256); more operations than this may be in flight. */
  entries?: number;
  /**
   * Provided buffers for the multishot receives of stream sockets: 0, or a power of two up to
   * 32768 (default 128). 0: each sockRecv/sockRecvInto is a single-shot receive operation instead.
   */
  recvBufferCount?: number;
  /** Bytes per provided buffer, the most one receive completion brings (1..1048576, default 16384). */
  recvBufferSize?: number;
}

/**
 * @internal The defaults of the provided buffers (a test sets the count to 0 to run the suites on
 * single-shot receives), and whether multishot receives use the kernel's byte limits where it has
 * them (a test turns them off to run the suites as on a kernel before Linux 6.17).
 */
export const proactorDefaults = { recvBufferCount: 128, recvBufferSize: 16384, recvByteLimits: true };

/**
 * An EventLoop whose sock* calls are io_uring operations: accept (one multishot request per
 * listener, connections queued), recv into the caller's buffer or a pooled one, send resubmitted
 * until all is sent, connect, recvmsg/sendmsg for datagrams. One io_uring_enter per iteration
 * submits what the iteration queued and waits. Aborting a call cancels its operation in the ring
 * (see ringsock.ts for what an aborted call consumes). Where io_uring cannot be used (no liburing
 * in the build, an old kernel, io_uring disabled) `available` is false, `unavailableReason` says
 * why, and the constructor throws ERR_BACKEND_UNAVAILABLE with that reason.
 */
export class ProactorEventLoop extends EventLoop {
  /** Whether a ProactorEventLoop can be made here. */
  static get available(): boolean {
    return ringUnavailableReason() === "";
  }

  /** Why not ("" when available). */
  static get unavailableReason(): string {
    return ringUnavailableReason();
  }

  readonly #calls: RingCalls<EventLoop>;

  constructor(options?: ProactorOptions) {
    if (options !== undefined && (options === null || typeof options !== "object"))
      throw codedError("ERR_INVALID_ARG_TYPE", `The "options" argument must be an object`, "TypeError");
    const entries = options?.entries === undefined ? 256 : checkInt("options.entries", options.entries, 1, 32768);
    super(new RingSelector<LoopKeyData>(entries, recvBuffers(options)));
    this.#calls = new RingCalls(this._core, this._core.selector as RingSelector<IoData>);
  }

  /** @internal Why stream receives are single-shot operations on this loop ("" when they are multishot receives). */
  get _recvFallbackReason(): string {
    return (this._core.selector as RingSelector<IoData>).recvFallbackReason;
  }

  override sockAccept<F extends number>(sock: SocketLike<F>, options?: SockOptions): Promise<[Socket<F>, SocketAddressOf<F>]>;
  override sockAccept(sock: SocketLike, options?: SockOptions): Promise<[Socket, SocketAddress]> {
    return this.#calls.accept(sock, options);
  }

  override sockRecv(sock: SocketLike, n: number, options?: SockOptions): Promise<Buffer> {
    return this.#calls.recv(sock, n, options);
  }

  /**
   * @internal A Protocol transport's read where _streamReads is false (no byte limits: before
   * Linux 6.17, or no provided buffers): a single-shot receive operation, so that nothing is
   * received ahead while its reading is paused (an unbounded multishot receive would keep filling
   * the provided buffers and the queue); the stream's queue first if sockRecv armed one on this
   * socket before.
   */
  _sockRecvOnce(sock: SocketLike, n: number): Promise<Buffer> {
    return this.#calls.recv(sock, n, undefined, true);
  }

  /** @internal Whether a Protocol transport reads through _sockRead (multishot receives with byte limits: Linux 6.17), else _sockRecvOnce. */
  get _streamReads(): boolean {
    return this.#calls.streams !== null && (this._core.selector as RingSelector<IoData>).multishotLimit;
  }

  /**
   * @internal A Protocol transport's reading (only where _streamReads): each chunk the socket's
   * multishot receive brings goes to `reader`, with no call per chunk, until the end of the
   * stream or an error, its last item. Null, or why it could not start.
   */
  _sockRead(sock: SocketLike, reader: StreamReader): Error | null {
    return this.#calls.read(sock, reader);
  }

  /** @internal Ends _sockRead's reading: at most 64 KiB more comes in, held for the next _sockRead. */
  _sockStopReading(sock: SocketLike): void {
    this.#calls.streams?.stopReading(sock);
  }

  /** @internal Bytes sock's multishot receive has queued that nothing has taken yet (0 without one). */
  _recvQueued(sock: SocketLike): number {
    return this.#calls.streams?.queued(sock) ?? 0;
  }

  override sockRecvInto(sock: SocketLike, buffer: BufferLike, options?: SockOptions): Promise<number> {
    return this.#calls.recvInto(sock, buffer, options);
  }

  override sockRecvfrom<F extends number>(sock: SocketLike<F>, n: number, options?: SockOptions): Promise<[Buffer, SocketAddressOf<F> | null]>;
  override sockRecvfrom(sock: SocketLike, n: number, options?: SockOptions): Promise<[Buffer, SocketAddress | null]> {
    return this.#calls.recvfrom(sock, n, options);
  }

  override sockRecvfromInto<F extends number>(
    sock: SocketLike<F>,
    buffer: BufferLike,
    nbytes?: number,
    options?: SockOptions,
  ): Promise<[number, SocketAddressOf<F> | null]>;
  override sockRecvfromInto(sock: SocketLike, buffer: BufferLike, nbytes?: number, options?: SockOptions): Promise<[number, SocketAddress | null]> {
    return this.#calls.recvfromInto(sock, buffer, nbytes, options);
  }

  override sockSendto<F extends number>(sock: SocketLike<F>, data: string | BufferLike, address: AddressInputOf<F>, options?: SockOptions): Promise<number>;
  override sockSendto(sock: SocketLike, data: string | BufferLike, address: ConnectAddress, options?: SockOptions): Promise<number> {
    return this.#calls.sendto(sock, data, address, options);
  }

  override sockSendall(sock: SocketLike, data: string | BufferLike, options?: SockOptions): Promise<void> {
    return this.#calls.sendall(sock, data, options);
  }

  override sockConnect<F extends number>(sock: SocketLike<F>, address: AddressInputOf<F>, options?: SockOptions): Promise<void>;
  override sockConnect(sock: SocketLike, address: ConnectAddress, options?: SockOptions): Promise<void> {
    return this.#calls.connect(sock, address, options);
  }

  /** As EventLoop#close; the ring cancels what it has in flight and waits for it before it closes. */
  override close(): void {
    const open = !this.isClosed();
    super.close();
    if (open) this.#calls.close();
  }
}

/** The provided buffers `options` ask for, checked, or null for none (count 0). */
function recvBuffers(options: ProactorOptions | undefined): RecvBuffers | null {
  const count =
    options?.recvBufferCount === undefined ? proactorDefaults.recvBufferCount : checkInt("options.recvBufferCount", options.recvBufferCount, 0, 32768);
  if ((count & (count - 1)) !== 0)
    throw codedError("ERR_INVALID_ARG_VALUE", `The "options.recvBufferCount" property must be 0 or a power of two. Received ${count}`, "TypeError");
  const size = options?.recvBufferSize === undefined ? proactorDefaults.recvBufferSize : checkInt("options.recvBufferSize", options.recvBufferSize, 1, 1 << 20);
  return count === 0 ? null : { count, size, byteLimits: proactorDefaults.recvByteLimits };
}
