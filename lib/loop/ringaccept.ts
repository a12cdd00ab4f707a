/**
 * lib/loop/ringaccept.ts — sockAccept on a ProactorEventLoop: one multishot accept request per
 * listener feeds a queue of accepted fds; each call takes the oldest, or waits for the next. An
 * aborted call rejects at once and consumes nothing (the connection waits in the queue). When the
 * listener is closed (its close() cancels the request) the queued connections are closed.
 */
import { closedError, systemError } from "../errors.js";
import { CQE_F_MORE, RING_ECANCELED, type RingSelector } from "../ring.js";
import { Socket, wrapNewFd, type SocketAddress } from "../socket.js";
import { acceptAgain, closeFd } from "../sockio.js";
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
}

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
      q = { sock, fd, id: 0, fds: [], waiters: [], delay: ACCEPT_RETRY_MIN, backoff: false };
      this.#accepts.set(fd, q);
    }
    const queue = q;
    while (queue.fds.length > 0) {
      const accepted = this.#wrap(queue.sock, queue.fds.shift()!);
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

  #accepted(q: AcceptQueue, id: number, res: number, flags: number): void {
    const more = (flags & CQE_F_MORE) !== 0;
    if (!more && q.id === id) q.id = 0;
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
      }
    } else if (res === RING_ECANCELED || q.sock.fileno() !== q.fd) {
      // The listener was closed (close() cancels its operations) or the loop is closing.
      if (this.#accepts.get(q.fd) === q) this.#accepts.delete(q.fd);
      for (const fd of q.fds.splice(0)) closeFd(fd);
      for (const w of q.waiters.splice(0)) w.reject(closedError("accept"));
      return;
    } else if (!acceptAgain(res)) {
      const error = systemError(res, "accept");
      if (isExhaustion(error)) {
        // Out of fds or memory: reported, then retried after a growing delay (as sock.ts).
        this.#host.core.callExceptionHandler({ message: `sockAccept(): accept failed, retrying in ${q.delay} s`, exception: error, socket: q.sock });
        q.backoff = true;
        this.#host.core.callLater(q.delay, () => {
          q.backoff = false;
          if (q.id === 0 && q.waiters.length > 0 && !this.#host.core.closed && this.#accepts.get(q.fd) === q) this.#armAccept(q);
        });
        q.delay = Math.min(q.delay * 2, ACCEPT_RETRY_MAX);
        return;
      }
      q.waiters.shift()?.reject(error);
    }
    if (q.id === 0 && !q.backoff && q.waiters.length > 0 && !this.#host.core.closed) this.#armAccept(q);
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
      return [accepted, accepted.getpeername() as SocketAddress];
    } catch (error) {
      if (accepted !== undefined) accepted.close();
      else closeFd(fd);
      // ENOTCONN: reset before it was taken (accept's ECONNABORTED); the next one is waited for.
      return (error as NodeJS.ErrnoException).code === "ENOTCONN" ? null : (error as Error);
    }
  }
}
