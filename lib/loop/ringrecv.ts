/**
 * lib/loop/ringrecv.ts — sockRecv and sockRecvInto on a ProactorEventLoop's stream sockets: the
 * first call on a socket arms one multishot receive (into the ring's provided buffers, copied out
 * as each wait hands them over), which stays armed. What it brings while no call waits is queued
 * per socket in order, with the end of the stream and errors in their place, and each call takes
 * from the head of the queue: sockRecv(n) up to n bytes (a bigger chunk is split, its rest stays
 * first), sockRecvInto as much as the caller's buffer holds.
 *
 * - Backpressure: the queue holds about RECV_QUEUE_LIMIT bytes. Where the kernel takes a byte
 *   limit for a multishot receive (Linux 6.17, RingSelector#multishotLimit), each is armed with
 *   what the queue has room for and ends there by itself (the completion that reaches the limit
 *   can pass it by one provided buffer). Before 6.17, past the limit the receive
 *   is cancelled, and what it brings before the cancel lands is still queued: a fast peer's burst
 *   can fill every provided buffer within one wait, 2 MiB by default. Either way the next call that
 *   finds the queue empty arms it again.
 * - The provided buffers ran out: the kernel ends the multishot receive with -ENOBUFS, having taken
 *   nothing; it is armed again while a call waits (the buffers are back by then: each is given back
 *   as its bytes are copied out).
 * - Abort of a call waiting on the queue: it rejects at once and took nothing.
 * - close() of the socket cancels the multishot receive and waits for its end (sockets.cc) before
 *   the fd is closed; the calls waiting reject with EBADF once the queue before them is taken.
 * - A reader (a Protocol transport's reading, RingStreams#read; only with byte limits) takes each
 *   chunk as it comes, in the turn that settles its wait, with no call and no promise per chunk.
 *   Its receives are armed for READER_LIMIT bytes at a time, so that once it is unset (its
 *   reading paused) at most that much more comes in, as one single-shot read would bring. The end
 *   of the stream or an error is the reader's last item: it is unset then.
 */
import { closedError, systemError } from "../errors.js";
import { CQE_F_MORE, RING_ECANCELED, RING_ENOBUFS, type RingSelector } from "../ring.js";
import type { BufferLike } from "../socket.js";
import { abortError, type LoopCore, type LoopObject } from "./base.js";
import type { IoData } from "./io.js";
import type { SocketLike } from "./sockwait.js";

/** Bytes a socket's queue holds for nobody before its multishot receive is stopped. */
export const RECV_QUEUE_LIMIT = 256 * 1024;
/** Bytes a reader's multishot receive brings before it ends and is armed again. */
export const READER_LIMIT = 64 * 1024;

/** @internal What the streams need of the loop's ring calls (ringsock.ts). */
export interface StreamHost<L extends LoopObject> {
  readonly core: LoopCore<L>;
  readonly ring: RingSelector<IoData>;
  newId(): number;
  /** Routes the completions of operation `id` to `stream` (RingCalls#arrived). */
  register(id: number, stream: RecvStream): void;
  /** Frees an id whose operation has ended. */
  unregister(id: number): void;
  /** An operation was submitted. */
  started(): void;
  /** Asks the ring to cancel an operation. */
  cancel(id: number): void;
  /** Runs `stream`'s serve() in the turn that settles this wait's completions. */
  schedule(stream: RecvStream): void;
}

/** A call waiting on the queue: sockRecv (into null) or sockRecvInto. */
interface RecvWaiter {
  n: number;
  into: BufferLike | null;
  resolve: (value: Buffer | number) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | null;
}

/** Takes a stream's chunks as they come; the end of the stream (an empty Buffer) or an Error comes last. */
export type StreamReader = (item: Buffer | Error) => void;

/** The end of the stream in a queue. */
const EOF = Buffer.alloc(0);

/**
 * The receive was cancelled by close() of the socket: becomes closedError("recv") when a call or
 * the reader takes it. Made then, not at the completion: after a close there is usually nobody to
 * take it, and an Error's stack, captured inside the ring's dispatch with the async frames of
 * every call waiting above it, cost ~48,000 instructions per connection under connection churn.
 */
const CLOSED: unique symbol = Symbol("closed");

/** What a stream's queue holds: data, EOF (an empty Buffer), an error, or CLOSED. */
type QueueItem = Buffer | Error | typeof CLOSED;

/** @internal One stream socket's multishot receive and what it brought that no call has taken yet. */
export class RecvStream {
  /** The multishot receive in flight, or 0. */
  id = 0;
  /** Cancelled at RECV_QUEUE_LIMIT; its last completion has not come yet. */
  stopping = false;
  scheduled = false;
  /** Counted as idle by the ring: armed with no call waiting (RingStreams#sync). */
  idle = false;
  /** Data, EOF, an error, or CLOSED, in the order they came. */
  readonly items: QueueItem[] = [];
  bytes = 0;
  readonly waiters: RecvWaiter[] = [];
  /** Takes what comes once no call waits (RingStreams#read). */
  reader: StreamReader | null = null;
  /** The receive in flight was armed for the reader (READER_LIMIT bytes). */
  readerArm = false;
  /**
   * The socket, weakly: an armed receive with no call waiting must not keep a socket its program
   * dropped unclosed from its finalizer (which closes the fd, and so cancels the receive), as a
   * socket dropped on EventLoop after its last sockRecv is not kept.
   */
  readonly #sock: WeakRef<SocketLike>;

  constructor(
    sock: SocketLike,
    readonly fd: number,
  ) {
    this.#sock = new WeakRef(sock);
  }

  /** Whether the socket still has this stream's fd (not closed, not collected). */
  open(): boolean {
    return this.#sock.deref()?.fileno() === this.fd;
  }

  /** Whether this is sock's stream. */
  isFor(sock: SocketLike): boolean {
    return this.#sock.deref() === sock;
  }
}

/** @internal The stream receives of one ProactorEventLoop. */
export class RingStreams<L extends LoopObject> {
  readonly #host: StreamHost<L>;
  /**
   * The streams by fd, each its socket's while the socket has that fd (RecvStream#isFor). A stream
   * leaves once nothing is armed, queued or waiting, or its socket is closed (#sync). Not a WeakMap
   * keyed by the socket: V8 drops a WeakMap's entries only in a full collection, and one entry per
   * connection kept the young generation's survivors at ~10% under connection churn, with a
   * mark-compact every second.
   */
  readonly #streams = new Map<number, RecvStream>();
  /** Streams armed or with calls waiting: the loop's close rejects their calls. */
  readonly #live = new Set<RecvStream>();

  constructor(host: StreamHost<L>) {
    this.#host = host;
  }

  /** Whether sock's stream has a multishot receive armed or bytes queued (its reads must come from here). */
  owns(sock: SocketLike): boolean {
    const s = this.#find(sock);
    return s !== undefined && (s.id !== 0 || s.items.length > 0);
  }

  /** sockRecv(sock, n) on a stream socket (fd checked, n > 0). */
  recv(sock: SocketLike, fd: number, n: number, signal: AbortSignal | undefined): Promise<Buffer> {
    return this.#call(sock, fd, n, null, signal) as Promise<Buffer>;
  }

  /** sockRecvInto(sock, buffer) on a stream socket (fd checked, length > 0). */
  recvInto(sock: SocketLike, fd: number, buffer: BufferLike, length: number, signal: AbortSignal | undefined): Promise<number> {
    return this.#call(sock, fd, length, buffer, signal) as Promise<number>;
  }

  /**
   * Sets sock's reader (only where the ring has byte limits): what is queued goes to it in the next
   * turn, then each chunk as it comes, until the end of the stream or an error, its last item.
   * Returns why the receive could not be armed (the reader is not set then), or null.
   */
  read(sock: SocketLike, fd: number, reader: StreamReader): Error | null {
    const s = this.#stream(sock, fd);
    s.reader = reader;
    this.#live.add(s);
    let error: Error | null = null;
    if (s.items.length > 0) this.#schedule(s);
    else if (s.id === 0 && !s.stopping) error = this.#arm(s);
    if (error !== null) s.reader = null;
    this.#sync(s);
    return error;
  }

  /**
   * Unsets sock's reader, if it has one: a receive armed for it ends by itself within READER_LIMIT
   * bytes; one armed for calls before it had a reader is cancelled (unless calls wait on it).
   */
  stopReading(sock: SocketLike): void {
    const s = this.#find(sock);
    if (s === undefined || s.reader === null) return;
    s.reader = null;
    if (s.id !== 0 && !s.readerArm && !s.stopping && s.waiters.length === 0) {
      s.stopping = true;
      this.#host.cancel(s.id);
    }
    this.#sync(s);
  }

  /** Bytes sock's queue holds (0 without a stream). */
  queued(sock: SocketLike): number {
    return this.#find(sock)?.bytes ?? 0;
  }

  /** sock's stream, if it has one; a closed socket's is looked for among the live ones. */
  #find(sock: SocketLike): RecvStream | undefined {
    const fd = sock.fileno();
    if (fd < 0) {
      for (const s of this.#live) if (s.isFor(sock)) return s;
      return undefined;
    }
    const s = this.#streams.get(fd);
    return s !== undefined && s.isFor(sock) ? s : undefined;
  }

  #stream(sock: SocketLike, fd: number): RecvStream {
    let s = this.#streams.get(fd);
    if (s === undefined || !s.isFor(sock)) {
      s = new RecvStream(sock, fd);
      this.#streams.set(fd, s);
    }
    return s;
  }

  #schedule(s: RecvStream): void {
    if (s.scheduled) return;
    s.scheduled = true;
    this.#host.schedule(s);
  }

  #call(sock: SocketLike, fd: number, n: number, into: BufferLike | null, signal: AbortSignal | undefined): Promise<Buffer | number> {
    const s = this.#stream(sock, fd);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (s.items.length > 0 && s.waiters.length === 0) {
      const item = take(s, n, into);
      return item instanceof Error ? Promise.reject(item) : Promise.resolve(item);
    }
    if (s.id === 0 && !s.stopping) {
      const error = this.#arm(s);
      if (error !== null) return Promise.reject(error);
    }
    const stream = s;
    return new Promise((resolve, reject) => {
      const waiter: RecvWaiter = { n, into, resolve, reject, signal, onAbort: null };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const i = stream.waiters.indexOf(waiter);
          if (i < 0) return;
          stream.waiters.splice(i, 1);
          this.#sync(stream);
          reject(abortError(signal));
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      stream.waiters.push(waiter);
      this.#sync(stream);
    });
  }

  /** Submits s's multishot receive: null, or why it could not be. */
  #arm(s: RecvStream): Error | null {
    const host = this.#host;
    if (!s.open()) return closedError("recv");
    const id = host.newId();
    // With byte limits: a reader's READER_LIMIT, else what the queue has room for.
    s.readerArm = s.reader !== null && s.waiters.length === 0;
    const limit = !host.ring.multishotLimit ? 0 : s.readerArm ? READER_LIMIT : Math.max(1, RECV_QUEUE_LIMIT - s.bytes);
    const r = host.ring.recvMultishot(id, s.fd, limit);
    if (r < 0) {
      host.unregister(id);
      return systemError(r, "recv");
    }
    s.id = id;
    host.register(id, s);
    this.#live.add(s);
    host.started();
    return null;
  }

  /** A completion of s's multishot receive, as the wait hands it over (its bytes copied out already). */
  arrived(s: RecvStream, res: number, flags: number, data: Buffer | null): void {
    const final = (flags & CQE_F_MORE) === 0;
    if (final) {
      this.#host.unregister(s.id);
      s.id = 0;
    }
    if (res > 0) {
      // A completion without bytes copied out cannot happen with a slab; count it as nothing.
      if (data !== null) {
        s.items.push(data);
        s.bytes += res;
      }
    } else if (res === 0) s.items.push(EOF);
    else if (res === RING_ECANCELED) {
      // Cancelled by close() of the socket, unless it was stopped at the limit.
      if (!s.stopping) s.items.push(CLOSED);
    } else if (res !== RING_ENOBUFS) s.items.push(systemError(res, "recv"));
    if (final) s.stopping = false;
    // Without byte limits (before Linux 6.17), and only while the queue is for calls, not a reader.
    else if (s.bytes > RECV_QUEUE_LIMIT && !s.stopping && !this.#host.ring.multishotLimit && s.reader === null) {
      s.stopping = true;
      this.#host.cancel(s.id);
    }
    if (s.waiters.length > 0 || s.reader !== null) this.#schedule(s);
    this.#sync(s);
  }

  /**
   * Hands s's queue to the calls waiting on it, in order, then to its reader; arms it again while
   * calls still wait or the reader reads.
   */
  serve(s: RecvStream): void {
    s.scheduled = false;
    const waiters = s.waiters;
    while (waiters.length > 0 && s.items.length > 0) {
      const w = waiters.shift()!;
      if (w.onAbort !== null) w.signal!.removeEventListener("abort", w.onAbort);
      const item = take(s, w.n, w.into);
      if (item instanceof Error) w.reject(item);
      else w.resolve(item);
    }
    // The reader may unset itself (pauseReading) or close the socket from inside.
    while (waiters.length === 0 && s.reader !== null && s.items.length > 0) {
      const item = s.items.shift()!;
      const reader = s.reader;
      if (item === CLOSED || item instanceof Error || item.length === 0) s.reader = null;
      else s.bytes -= item.length;
      this.#toReader(reader, item === CLOSED ? closedError("recv") : item);
    }
    if ((waiters.length > 0 || s.reader !== null) && s.id === 0 && !s.stopping) {
      const error = this.#arm(s);
      if (error !== null) {
        for (const w of waiters.splice(0)) settleRejected(w, error);
        const reader = s.reader;
        s.reader = null;
        if (reader !== null) this.#toReader(reader, error);
      }
    }
    this.#sync(s);
  }

  #toReader(reader: StreamReader, item: Buffer | Error): void {
    try {
      reader(item);
    } catch (exception) {
      this.#host.core.callExceptionHandler({ message: "Exception in a stream reader", exception });
    }
  }

  /**
   * After s changed: drops it from the live set once nothing is armed and no call waits or reader
   * reads, and tells the ring whether its receive is in flight for nobody. Such a receive only
   * queues what comes, so it does not hold an attached loop's process (a socket read once and left
   * open does not keep Node alive, as on EventLoop) nor a runUntilComplete's hope. A reader holds
   * them, as a transport's registered reader does on EventLoop.
   */
  #sync(s: RecvStream): void {
    const waiting = s.waiters.length > 0 || s.reader !== null;
    if (s.id === 0 && !waiting) {
      this.#live.delete(s);
      // Nothing left that a call could take (or no socket to call with): a new stream would be the same.
      if ((s.items.length === 0 || !s.open()) && this.#streams.get(s.fd) === s) this.#streams.delete(s.fd);
    }
    const idle = s.id !== 0 && !waiting;
    if (idle === s.idle) return;
    s.idle = idle;
    this.#host.ring.idleChanged(idle ? 1 : -1);
    // An attached loop re-decides whether its ring watcher holds the process (owned: no-op).
    this.#host.core.ioChanged(-1, 0, false);
  }

  /** The loop closed (its ring with it): every call still waiting rejects with `error`. */
  close(error: Error): void {
    for (const s of this.#live) {
      s.id = 0;
      s.idle = false; // the ring closes too: its count starts again at 0
      s.reader = null;
      for (const w of s.waiters.splice(0)) settleRejected(w, error);
    }
    this.#live.clear();
    this.#streams.clear();
  }
}

function settleRejected(w: RecvWaiter, error: unknown): void {
  if (w.onAbort !== null) w.signal!.removeEventListener("abort", w.onAbort);
  w.reject(error);
}

/**
 * Takes the head of s's queue for one call: an error (taken), or the bytes: up to n as a Buffer
 * (into null), or copied into `into` as a count. A longer chunk is split and its rest stays first.
 */
function take(s: RecvStream, n: number, into: BufferLike | null): Buffer | number | Error {
  const head = s.items[0]!;
  if (head === CLOSED || head instanceof Error || head.length <= n) s.items.shift();
  if (head === CLOSED) return closedError("recv");
  if (head instanceof Error) return head;
  let chunk = head;
  if (head.length > n) {
    chunk = head.subarray(0, n);
    s.items[0] = head.subarray(n);
  }
  s.bytes -= chunk.length;
  if (into === null) return chunk;
  new Uint8Array(into.buffer, into.byteOffset, n).set(chunk);
  return chunk.length;
}
