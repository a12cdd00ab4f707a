/**
 * lib/ring.ts — the io_uring ring as a selector (RingSelector), the layer under ProactorEventLoop
 * as selectors.ts is under EventLoop. Readiness interest is served by the ring's poll requests
 * (level-triggered, like epoll), so the loop's readers, writers, signals and both drivers work on
 * it unchanged; beside that it submits the completion operations the proactor's sock* calls make,
 * and each select() hands their completions to the sink the loop set, before it returns the ready
 * keys. Submissions are batched: the wait of each iteration submits them with its io_uring_enter
 * (flush() submits at once, for a loop driven by Node's libuv loop, which never waits in select():
 * the attached driver flushes after each batch, so the poll requests the batch's reports used up
 * are re-armed once their callbacks have run).
 *
 * Multishot receives take their buffers from a provided-buffer ring that the native ring owns;
 * each wait copies their bytes into this selector's slab (one after the other), and the sink gets
 * each completion's bytes as a Buffer of its own, copied out of the slab before the next wait.
 *
 * A caller's buffer given to an operation is read or written by the kernel until the operation's
 * last completion; the addon holds the ArrayBuffer object, but a transfer (structuredClone or
 * postMessage with a transfer list) would hand its memory to a new owner, which may be collected
 * and free it meanwhile. So each such ArrayBuffer is marked untransferable (node:worker_threads
 * markAsUntransferable, as Node marks its Buffer pool): a transfer list then copies it instead.
 */
import { markAsUntransferable } from "node:worker_threads";

import { codedError } from "./errors.js";
import { native, type BufferLike, type NativePoller, type NativeUring, type SocketAddress } from "./native.js";
import { BaseSelector, type FileObj, type SelectorReady } from "./selectors.js";
import { addressBuffer, senderWritten } from "./sockio.js";

/**
 * A completion: the operation's id, its result (a count or -errno), the CQE flags, and for a
 * multishot receive's completion with bytes, those bytes (a Buffer the sink may keep), else null.
 */
export type CompletionSink = (id: number, res: number, flags: number, data: Buffer | null) => void;

/** IORING_CQE_F_MORE: more completions of this (multishot) operation will follow. */
export const CQE_F_MORE = 2;
/** IORING_CQE_F_BUFFER: the completion used a provided buffer (its bytes are in the slab). */
export const CQE_F_BUFFER = 1;
/** -ENOBUFS: a multishot receive found no free provided buffer and ended (Linux's number). */
export const RING_ENOBUFS = -105;
/** -EOPNOTSUPP: setupBuffers on a kernel without multishot receives (before 6.0; Linux's number). */
const RING_EOPNOTSUPP = -95;
/** -ECANCELED: the result of an operation the ring cancelled (Linux's number; the ring is Linux only). */
export const RING_ECANCELED = -125;

let unavailable: string | undefined;

/** "" when io_uring can serve a ProactorEventLoop here, else why not (probed once). */
export function ringUnavailableReason(): string {
  if (unavailable === undefined) unavailable = native.uring.probe();
  return unavailable;
}

type Ops = Required<NativeUring>;

/**
 * The provided buffers of a ring's multishot receives: how many (a power of two) and their size in
 * bytes; `byteLimits: false` leaves the kernel's byte limits unused (as before Linux 6.17).
 */
export interface RecvBuffers {
  count: number;
  size: number;
  byteLimits?: boolean;
}

/** Bytes the slab holds at most (at least one buffer): what one wait can hand out. */
const SLAB_MAX = 256 * 1024;

/** The ring's operations, present exactly when the build has the ring. */
function ops(): Ops {
  if (!native.uring.compiled || typeof native.uring.recv !== "function")
    throw codedError("ERR_BACKEND_UNAVAILABLE", `io_uring is not available: ${ringUnavailableReason()}`);
  return native.uring as Ops;
}

/** @internal A selector over an io_uring ring. Throws ERR_BACKEND_UNAVAILABLE (with the reason) where io_uring cannot be used. */
export class RingSelector<D = unknown, F extends FileObj = FileObj> extends BaseSelector<D, F> {
  /** The ring's id (ringId()): what every operation takes, a number the addon finds in a table. */
  readonly #ring: number;
  readonly #ops: Ops;
  #completions: Int32Array;
  #sink: CompletionSink | null = null;
  #inflight = 0;
  /** Of #inflight, those no call waits on (see idleChanged). */
  #idle = 0;
  #slab: Uint8Array | null = null;
  /** The ArrayBuffer #startedWith marked last (dropped at close). */
  #lastMarked: ArrayBufferLike | null = null;
  /** Why receives are single-shot operations here ("" when they are multishot). */
  readonly recvFallbackReason: string;
  /** Whether a multishot receive can be given a byte limit (recvMultishot's `limit`: Linux 6.17). */
  readonly multishotLimit: boolean;

  /** `buffers` null: no provided buffers, every receive is a single-shot operation. */
  constructor(entries = 256, buffers: RecvBuffers | null = null) {
    const reason = ringUnavailableReason();
    if (reason !== "") throw codedError("ERR_BACKEND_UNAVAILABLE", `io_uring is not available: ${reason}`);
    const ring = new native.Poller("uring", entries);
    super(ring);
    this.#ops = ops();
    this.#ring = this.#ops.ringId(ring);
    this.#completions = new Int32Array(1 + 3 * 256);
    this.#ops.setCompletions(this.#ring, this.#completions);
    this.recvFallbackReason = buffers === null ? "no provided buffers were asked for" : this.#setupBuffers(buffers);
    this.multishotLimit = this.#slab !== null && buffers?.byteLimits !== false && this.#ops.multishotLimit();
  }

  #setupBuffers({ count, size }: RecvBuffers): string {
    const slab = new ArrayBuffer(Math.max(size, Math.min(count * size, SLAB_MAX)));
    const r = this.#ops.setupBuffers(this.#ring, count, size, slab);
    if (r === 0) {
      this.#slab = new Uint8Array(slab);
      return "";
    }
    return r === RING_EOPNOTSUPP ? "multishot receives need Linux 6.0 or later" : `the kernel refused the provided-buffer ring (errno ${-r})`;
  }

  /** Whether stream receives can be multishot receives into the provided buffers (recvMultishot). */
  get multishotRecv(): boolean {
    return this.#slab !== null;
  }

  /** Sets the receiver of every completion (called inside select()). */
  setSink(sink: CompletionSink): void {
    this.#sink = sink;
  }

  /** Operations submitted whose last completion has not been handed to the sink yet. */
  get inflight(): number {
    return this.#inflight;
  }

  /**
   * `held`: leaves out the receives in flight no call waits on (a stream's armed multishot receive
   * after its last sockRecv): they only queue what comes, so they hold neither an attached loop's
   * process nor a runUntilComplete whose wait nothing else can settle, as on EventLoop.
   */
  override _pendingCount(held = false): number {
    return super._pendingCount() + this.#inflight - (held ? this.#idle : 0);
  }

  /** Operations in flight that no call waits on (a stream's armed receive with nobody reading): +1 or -1. */
  idleChanged(delta: number): void {
    this.#idle += delta;
  }

  override select(timeout?: number | null): SelectorReady<D, F>[] {
    return this.#deliver(super.select(timeout));
  }

  /** A worker's sliced wait (BaseSelector) ends at a slice that brought completions: the next would overwrite their count. */
  protected override _waitBroughtMore(): boolean {
    return this.#completions[0] !== 0;
  }

  /** Hands the last wait's completions to the sink; returns the ready keys. */
  #deliver(ready: SelectorReady<D, F>[]): SelectorReady<D, F>[] {
    const out = this.#completions;
    const count = out[0]!;
    if (count === 0) return ready;
    out[0] = 0;
    const sink = this.#sink;
    const slab = this.#slab;
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const base = 1 + 3 * i;
      const res = out[base + 1]!;
      const flags = out[base + 2]!;
      if ((flags & CQE_F_MORE) === 0) this.#inflight--;
      let data: Buffer | null = null;
      if ((flags & CQE_F_BUFFER) !== 0 && res > 0 && slab !== null) {
        data = Buffer.allocUnsafe(res);
        data.set(slab.subarray(offset, offset + res));
        offset += res;
      }
      sink?.(out[base]!, res, flags, data);
    }
    // A full array may have left completions in the ring: a bigger one takes them next time.
    if (count === (out.length - 1) / 3 && !this.closed) {
      this.#completions = new Int32Array(out.length * 2 - 1);
      this.#ops.setCompletions(this.#ring, this.#completions);
    }
    return ready;
  }

  override close(): void {
    if (this.closed) return;
    super.close();
    this.#lastMarked = null;
    this.#inflight = 0;
    this.#idle = 0;
  }

  /** Submits what is queued now, without waiting, with the re-arms of the fds the last select() reported. */
  flush(): void {
    if (!this.closed) this.#ops.submit(this.#ring);
  }

  override _batchDone(): void {
    this.flush();
  }

  #started(r: number): number {
    if (r === 0) this.#inflight++;
    return r;
  }

  /** #started for an operation on a caller's buffer, which is marked untransferable (see the file header). */
  #startedWith(buffer: BufferLike, r: number): number {
    if (r === 0) {
      const memory = buffer.buffer;
      // The mark is a property store that costs ~100 instructions even when the mark is there:
      // a request/response loop sends from the same ArrayBuffer again and again.
      if (memory !== this.#lastMarked) {
        markAsUntransferable(memory);
        this.#lastMarked = memory;
      }
      this.#inflight++;
    }
    return r;
  }

  accept(id: number, fd: number, multishot: boolean): number {
    return this.#started(this.#ops.accept(this.#ring, id, fd, multishot));
  }
  recv(id: number, fd: number, buffer: BufferLike, offset: number, length: number): number {
    return this.#startedWith(buffer, this.#ops.recv(this.#ring, id, fd, buffer, offset, length, 0));
  }
  send(id: number, fd: number, buffer: BufferLike, offset: number, length: number): number {
    return this.#startedWith(buffer, this.#ops.send(this.#ring, id, fd, buffer, offset, length, 0));
  }
  recvmsg(id: number, fd: number, buffer: BufferLike, offset: number, length: number): number {
    return this.#startedWith(buffer, this.#ops.recvmsg(this.#ring, id, fd, buffer, offset, length, 0));
  }
  sendmsg(id: number, fd: number, buffer: BufferLike, offset: number, length: number, family: number, address: readonly unknown[]): number {
    return this.#startedWith(buffer, this.#ops.sendmsg(this.#ring, id, fd, buffer, offset, length, 0, family, ...address));
  }
  /**
   * A multishot receive into the provided buffers (only where multishotRecv is true) that ends
   * once it has brought `limit` bytes (0: no limit; a limit only where multishotLimit is true).
   */
  recvMultishot(id: number, fd: number, limit = 0): number {
    return this.#started(this.#ops.recvMultishot(this.#ring, id, fd, limit));
  }
  connect(id: number, fd: number, family: number, address: readonly unknown[]): number {
    return this.#started(this.#ops.connect(this.#ring, id, fd, family, ...address));
  }
  /** An operation that ends (RING_ECANCELED) only when cancelled: by cancel(id), by close(fd), or when the ring closes. */
  watchClose(id: number, fd: number): number {
    return this.#started(this.#ops.watchClose(this.#ring, id, fd));
  }
  /** 0, or -ENOENT when the operation is no longer in flight (its completion is on its way). */
  cancel(id: number): number {
    return this.closed ? 0 : this.#ops.cancel(this.#ring, id);
  }
  /** The sender of a recvmsg completion, taken once (null when the kernel gave none). */
  takeAddress(id: number): SocketAddress | null {
    this.#ops.takeAddressInto(this.#ring, id, addressBuffer);
    return senderWritten();
  }
}
