/**
 * lib/loop/ringaccept.ts — sockAccept on a ProactorEventLoop: one multishot accept request per
 * listener feeds a queue of accepted fds; each call takes the oldest, or waits for the next. An
 * aborted call rejects at once and consumes nothing (the connection waits in the queue). When the
 * listener is closed (its close() cancels the request) the queued connections are closed.
 *
 * The queue is bounded: at ACCEPT_QUEUE_LIMIT connections nobody asked for, the multishot accept
 * is cancelled (the kernel may hand over what it accepted before the cancel reached it), and
 * further connections wait in the kernel's listen backlog, as they do on the readiness loop. It is
 * re-armed once calls have drained the queue to ACCEPT_QUEUE_RESUME (or one waits on an empty
 * queue). Meanwhile a close watch (ring.ts) stays in flight on the listener, so that its close
 * still closes the queued connections.
 */
import { closedError, systemError } from "../errors.js";
import { CQE_F_MORE, RING_ECANCELED, type RingSelector } from "../ring.js";
import { Socket, wrapNewFd, type SocketAddress } from "../socket.js";
import { acceptAgain, closeFd, peerAddress } from "../sockio.js";
import { abortError, type LoopCore, type LoopObject } from "./base.js";
import type { IoData } from "./io.js";
import { ACCEPT_RETRY_MAX, ACCEPT_RETRY_MIN, isExhaustion } from "./io.js";
import type { SockOptions, SocketLike } from "./sockwait.js";

/** @internal What the accepts need of the loop's ring calls (ringsock.ts). */
export interface RingHost<L extends LoopObject> {
  readonly core: LoopCore<L>;
  readonly ring: RingSelector<IoData>;
  prepare(sock: SocketLike, op: string, options: SockOptions | undefined): number;
  newId(): number;
  register(id: number, done: (res: number, flags: number) => void): void;
  unregister(id: number): void;
  /** An operation was submitted. */
  started(): void;
  /** Asks the ring to cancel an operation (nothing if it is no longer in flight). */
  cancel(id: number): void;
}

/** Connections a listener's queue holds for nobody before its multishot accept is stopped. */
export const ACCEPT_QUEUE_LIMIT = 128;
/** The queue length at which a stopped multishot accept is re-armed. */
export const ACCEPT_QUEUE_RESUME = ACCEPT_QUEUE_LIMIT / 2;

interface AcceptWaiter {
  resolve(value: [Socket, SocketAddress]): void;
  reject(error: unknown): void;
}

/** One listener's multishot accept and the connections it took that no call has asked for yet. */
interface AcceptQueue {
  sock: SocketLike;
  fd: number;
  /** The multishot operation in flight, or 0. */
  id: number;
  /** The multishot operation was cancelled at the limit; its last completion has not come yet. */
  pausing: boolean;
  /** Stopped at the limit: re-armed at ACCEPT_QUEUE_RESUME. */
  stopped: boolean;
  /** The close watch on the listener in flight while the multishot is not, or 0. */
  watch: number;
  fds: number[];
  waiters: AcceptWaiter[];
  delay: number;
  backoff: boolean;
}

/** @internal The sockAccept calls of one ProactorEventLoop. */
export class RingAccepts<L extends LoopObject> {
  readonly #host: RingHost<L>;
  readonly #accepts = new Map<number, AcceptQueue>();

  constructor(host: RingHost<L>) {
    this.#host = host;
  }

  /** The loop closed: connections queued for nobody are closed. */
  close(): void {
    for (const q of this.#accepts.values()) for (const fd of q.fds.splice(0)) closeFd(fd);
    this.#accepts.clear();
  }

  accept(sock: SocketLike, options: SockOptions | undefined): Promise<[Socket, SocketAddress]> {
    let fd: number;
    try {
      fd = this.#host.prepare(sock, "accept", options);
    } catch (error) {
      return Promise.reject(error);
    }
    let q = this.#accepts.get(fd);
    if (q === undefined || q.sock !== sock) {
      // A queue left for a closed listener whose fd number came back: its close watch or
      // accept, still to complete, closes what it holds, unless nothing is in flight for it.
      if (q !== undefined && q.id === 0 && q.watch === 0) this.#drop(q);
      q = { sock, fd, id: 0, pausing: false, stopped: false, watch: 0, fds: [], waiters: [], delay: ACCEPT_RETRY_MIN, backoff: false };
      this.#accepts.set(fd, q);
    }
    const queue = q;
    while (queue.fds.length > 0) {
      const accepted = this.#wrap(queue.sock, queue.fds.shift()!);
      if (queue.stopped && queue.fds.length <= ACCEPT_QUEUE_RESUME) this.#next(queue);
      if (accepted instanceof Error) return Promise.reject(accepted);
      if (accepted !== null) return Promise.resolve(accepted);
    }
    const core = this.#host.core;
    const signal = options?.signal;
    return new Promise<[Socket, SocketAddress]>((resolve, reject) => {
      const settle = (): void => {
        signal?.removeEventListener("abort", onAbort);
        core.closeWaiters.delete(onClose);
      };
      const waiter: AcceptWaiter = {
        resolve(value) {
          settle();
          resolve(value);
        },
        reject(error) {
          settle();
          reject(error);
        },
      };
      const remove = (): void => {
        const index = queue.waiters.indexOf(waiter);
        if (index >= 0) queue.waiters.splice(index, 1);
      };
      // The multishot accept goes on: what it takes meanwhile waits in the queue.
      const onAbort = (): void => {
        remove();
        waiter.reject(abortError(signal!));
      };
      const onClose = (error: Error): void => {
        remove();
        waiter.reject(error);
      };
      queue.waiters.push(waiter);
      core.closeWaiters.add(onClose);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (queue.id === 0 && !queue.backoff) this.#armAccept(queue);
    });
  }

  #armAccept(q: AcceptQueue): void {
    if (q.watch !== 0) {
      this.#host.cancel(q.watch);
      q.watch = 0;
    }
    q.stopped = false;
    const id = this.#host.newId();
    this.#host.register(id, (res, flags) => this.#accepted(q, id, res, flags));
    const r = this.#host.ring.accept(id, q.fd, true);
    if (r < 0) {
      this.#host.unregister(id);
      for (const w of q.waiters.splice(0)) w.reject(systemError(r, "accept"));
      return;
    }
    q.id = id;
    this.#host.started();
  }

  /** A close watch on the listener, which ends when the listener is closed (or it is cancelled). */
  #armWatch(q: AcceptQueue): void {
    const id = this.#host.newId();
    this.#host.register(id, () => {
      if (q.watch !== id) return; // cancelled: the multishot accept took over
      q.watch = 0;
      this.#next(q);
    });
    if (this.#host.ring.watchClose(id, q.fd) < 0) {
      this.#host.unregister(id);
      this.#drop(q); // the fd is not open any more
      return;
    }
    q.watch = id;
    this.#host.started();
  }

  /** The listener is gone or the loop closing: its queued connections are closed and its waiters rejected. */
  #drop(q: AcceptQueue): void {
    if (this.#accepts.get(q.fd) === q) this.#accepts.delete(q.fd);
    if (q.watch !== 0) {
      this.#host.cancel(q.watch);
      q.watch = 0;
    }
    for (const fd of q.fds.splice(0)) closeFd(fd);
    for (const w of q.waiters.splice(0)) w.reject(closedError("accept"));
  }

  /**
   * What a queue has in flight after a change: the multishot accept while calls wait or, once
   * stopped at the limit, when the queue has drained to ACCEPT_QUEUE_RESUME; else, while it
   * holds connections, a close watch.
   */
  #next(q: AcceptQueue): void {
    if (this.#host.core.closed) return; // the loop's close closes the queued connections
    if (q.sock.fileno() !== q.fd) return this.#drop(q);
    if (q.id === 0 && !q.backoff && (q.waiters.length > 0 || (q.stopped && q.fds.length <= ACCEPT_QUEUE_RESUME))) this.#armAccept(q);
    if (q.id === 0 && q.watch === 0 && q.fds.length > 0) this.#armWatch(q);
  }

  #accepted(q: AcceptQueue, id: number, res: number, flags: number): void {
    let paused = false;
    if ((flags & CQE_F_MORE) === 0 && q.id === id) {
      q.id = 0;
      paused = q.pausing;
      q.pausing = false;
    }
    if (res >= 0) {
      q.delay = ACCEPT_RETRY_MIN;
      if (q.sock.fileno() !== q.fd) {
        closeFd(res); // the listener is gone
      } else {
        q.fds.push(res);
        while (q.waiters.length > 0 && q.fds.length > 0) {
          const accepted = this.#wrap(q.sock, q.fds.shift()!);
          if (accepted instanceof Error) q.waiters.shift()!.reject(accepted);
          else if (accepted !== null) q.waiters.shift()!.resolve(accepted);
        }
        if (q.fds.length >= ACCEPT_QUEUE_LIMIT) {
          q.stopped = true;
          if (q.id !== 0 && !q.pausing) {
            q.pausing = true;
            this.#host.cancel(q.id);
          }
        }
      }
    } else if (q.sock.fileno() !== q.fd || (res === RING_ECANCELED && !paused)) {
      // The listener was closed (close() cancels its operations) or the loop is closing.
      return this.#drop(q);
    } else if (res === RING_ECANCELED) {
      // Stopped at the limit.
    } else if (!acceptAgain(res)) {
      const error = systemError(res, "accept");
      if (isExhaustion(error)) {
        // Out of fds or memory: reported, then retried after a growing delay (as sock.ts).
        this.#host.core.callExceptionHandler({ message: `sockAccept(): accept failed, retrying in ${q.delay} s`, exception: error, socket: q.sock });
        q.backoff = true;
        this.#host.core.callLater(q.delay, () => {
          q.backoff = false;
          if (this.#accepts.get(q.fd) === q) this.#next(q);
        });
        q.delay = Math.min(q.delay * 2, ACCEPT_RETRY_MAX);
      } else q.waiters.shift()?.reject(error);
    }
    this.#next(q);
  }

  /**
   * The accepted fd as a non-blocking Socket with its peer's address; null (closed) if the peer
   * is gone already; any other failure as the Error the waiter gets (the fd closed too).
   */
  #wrap(sock: SocketLike, fd: number): [Socket, SocketAddress] | null | Error {
    let accepted: Socket | undefined;
    try {
      accepted = sock instanceof Socket ? wrapNewFd(sock.family, sock.type, sock.proto, fd, 0) : new Socket(sock.family, sock.type, sock.proto ?? 0, fd);
      if (!(sock instanceof Socket)) accepted.setblocking(false);
      const peer = peerAddress(fd);
      if (typeof peer !== "number") return [accepted, peer];
      throw systemError(peer, "getpeername");
    } catch (error) {
      if (accepted !== undefined) accepted.close();
      else closeFd(fd);
      // ENOTCONN: reset before it was taken (accept's ECONNABORTED); the next one is waited for.
      return (error as NodeJS.ErrnoException).code === "ENOTCONN" ? null : (error as Error);
    }
  }
}
