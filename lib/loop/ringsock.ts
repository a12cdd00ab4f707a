/**
 * lib/loop/ringsock.ts — the ProactorEventLoop's sock* calls as completions on its io_uring ring
 * (asyncio's proactor_events): each call submits one operation (sockSendall one per partial
 * send) and settles when the ring reports it complete. Arguments are checked by the same helpers
 * as the readiness calls (sock.ts); only the waiting differs.
 *
 * Abort: the operation is cancelled in the ring (IORING_OP_ASYNC_CANCEL) and the call settles
 * when the ring says how it ended. Cancelled: it rejects with an AbortError and consumed nothing.
 * Completed before the cancel reached it: it resolves with what it did (bytes received are
 * delivered, never dropped), and the kernel is done with the caller's buffer either way when the
 * promise settles. sockAccept is the exception: one multishot accept per listener feeds a queue,
 * so an aborted accept rejects at once and the connection waits in the queue for the next call.
 */
import { isIP } from "node:net";
import { lookup } from "node:dns/promises";

import { addressArgs, type NativeAddress } from "../addresses.js";
import { checkBufsize, intoLength, toBytes } from "../args.js";
import { closedError, connectError, systemError } from "../errors.js";
import { CQE_F_MORE, RING_ECANCELED, type RingSelector } from "../ring.js";
import { AF_INET6, AF_UNIX, Socket, wrapNewFd, type BufferLike, type SocketAddress } from "../socket.js";
import { acceptAgain, closeFd } from "../sockio.js";
import { abortError, type LoopCore, type LoopObject } from "./base.js";
import type { IoData } from "./io.js";
import { ACCEPT_RETRY_MAX, ACCEPT_RETRY_MIN, isExhaustion } from "./io.js";
import { SockWaiter, type SockOptions, type SocketLike } from "./sockwait.js";

/** Receives of up to this many bytes go into a pooled slab and are copied out (no n-byte buffer per call). */
const SLAB_SIZE = 65536;
/** Slabs kept for reuse. */
const SLAB_POOL = 64;

type Done = (res: number, flags: number) => void;

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

/** @internal The completion sock* calls of one ProactorEventLoop. */
export class RingCalls<L extends LoopObject> {
  readonly #core: LoopCore<L>;
  readonly #ring: RingSelector<IoData>;
  readonly #checks: SockWaiter<L>;
  readonly #ops = new Map<number, Done>();
  readonly #accepts = new Map<number, AcceptQueue>();
  readonly #slabs: Buffer[] = [];
  #nextId = 1;
  #flushQueued = false;

  constructor(core: LoopCore<L>, ring: RingSelector<IoData>) {
    this.#core = core;
    this.#ring = ring;
    this.#checks = new SockWaiter(core);
    ring.setSink((id, res, flags) => this.#complete(id, res, flags));
  }

  /** The loop closed (its ring with it): connections queued for nobody are closed. */
  close(): void {
    for (const q of this.#accepts.values()) for (const fd of q.fds.splice(0)) closeFd(fd);
    this.#accepts.clear();
    this.#ops.clear();
    this.#slabs.length = 0;
  }

  #complete(id: number, res: number, flags: number): void {
    const done = this.#ops.get(id);
    if (done === undefined) return;
    if ((flags & CQE_F_MORE) === 0) this.#ops.delete(id);
    try {
      done(res, flags);
    } catch (exception) {
      this.#core.callExceptionHandler({ message: "Error in a ring completion", exception });
    }
    if (this.#ring.inflight === 0) this.#core.ioChanged(-1, 0, false);
  }

  #newId(): number {
    let id = this.#nextId;
    while (this.#ops.has(id)) id = id >= 0x7fffffff ? 1 : id + 1;
    this.#nextId = id >= 0x7fffffff ? 1 : id + 1;
    return id;
  }

  /** After a submission: an attached loop keeps the process alive for it and submits it this tick. */
  #started(): void {
    const core = this.#core;
    if (this.#ring.inflight === 1) core.ioChanged(-1, 0, false);
    this.#kick();
  }

  /** While attached, nothing waits on the ring until it has completions: submit at the end of this tick. */
  #kick(): void {
    if (!this.#core.attached || this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#ring.flush();
    });
  }

  /** One operation: `start(id)` submits it, `done(res)` turns its completion into the result (or throws). */
  #op<T>(syscall: string, signal: AbortSignal | undefined, start: (id: number) => number, done: (res: number, id: number) => T): Promise<T> {
    const core = this.#core;
    return new Promise<T>((resolve, reject) => {
      const id = this.#newId();
      let aborted = false;
      const settle = (): void => {
        signal?.removeEventListener("abort", onAbort);
        core.closeWaiters.delete(onClose);
      };
      const onAbort = (): void => {
        aborted = true;
        if (this.#ring.cancel(id) === 0) this.#kick();
      };
      const onClose = (error: Error): void => {
        this.#ops.delete(id);
        settle();
        reject(error);
      };
      this.#ops.set(id, (res) => {
        settle();
        // Cancelled: by an abort, or by close() of the socket (which cancels its operations first).
        if (res === RING_ECANCELED) reject(aborted ? abortError(signal!) : closedError(syscall));
        else
          try {
            resolve(done(res, id));
          } catch (error) {
            reject(error);
          }
      });
      let r: number;
      try {
        r = start(id);
      } catch (error) {
        this.#ops.delete(id);
        reject(error);
        return;
      }
      if (r < 0) {
        this.#ops.delete(id);
        reject(systemError(r, syscall));
        return;
      }
      this.#started();
      core.closeWaiters.add(onClose);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #slab(n: number): Buffer {
    if (n > SLAB_SIZE) return Buffer.allocUnsafe(n);
    return this.#slabs.pop() ?? Buffer.allocUnsafe(SLAB_SIZE);
  }

  /** The received bytes, copied out of a pooled slab (which goes back to the pool). */
  #takeBytes(slab: Buffer, res: number, syscall: string): Buffer {
    if (slab.length === SLAB_SIZE && this.#slabs.length < SLAB_POOL) this.#slabs.push(slab);
    if (res < 0) throw systemError(res, syscall);
    if (slab.length !== SLAB_SIZE) return slab.subarray(0, res);
    const out = Buffer.allocUnsafe(res);
    slab.copy(out, 0, 0, res);
    return out;
  }

  recv(sock: SocketLike, n: number, options: SockOptions | undefined): Promise<Buffer> {
    let fd: number;
    try {
      fd = this.#checks.prepare(sock, "recv", options);
      checkBufsize(n, "n");
    } catch (error) {
      return Promise.reject(error);
    }
    const slab = this.#slab(n);
    return this.#op(
      "recv",
      options?.signal,
      (id) => this.#ring.recv(id, fd, slab, 0, n),
      (res) => this.#takeBytes(slab, res, "recv"),
    );
  }

  recvInto(sock: SocketLike, buffer: BufferLike, options: SockOptions | undefined): Promise<number> {
    let fd: number;
    let length: number;
    try {
      fd = this.#checks.prepare(sock, "recv", options);
      length = intoLength(buffer, undefined);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#op(
      "recv",
      options?.signal,
      (id) => this.#ring.recv(id, fd, buffer, 0, length),
      (res) => count(res, "recv"),
    );
  }

  recvfrom(sock: SocketLike, n: number, options: SockOptions | undefined): Promise<[Buffer, SocketAddress | null]> {
    let fd: number;
    try {
      fd = this.#checks.prepare(sock, "recvfrom", options);
      checkBufsize(n, "n");
    } catch (error) {
      return Promise.reject(error);
    }
    const slab = this.#slab(n);
    return this.#op(
      "recvfrom",
      options?.signal,
      (id) => this.#ring.recvmsg(id, fd, slab, 0, n),
      (res, id) => [this.#takeBytes(slab, res, "recvfrom"), this.#ring.takeAddress(id)],
    );
  }

  recvfromInto(sock: SocketLike, buffer: BufferLike, nbytes: number | undefined, options: SockOptions | undefined): Promise<[number, SocketAddress | null]> {
    let fd: number;
    let length: number;
    try {
      fd = this.#checks.prepare(sock, "recvfrom", options);
      length = intoLength(buffer, nbytes);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#op(
      "recvfrom",
      options?.signal,
      (id) => this.#ring.recvmsg(id, fd, buffer, 0, length),
      (res, id) => [count(res, "recvfrom"), this.#ring.takeAddress(id)],
    );
  }

  sendto(sock: SocketLike, data: string | BufferLike, address: unknown, options: SockOptions | undefined): Promise<number> {
    let fd: number;
    let bytes: BufferLike;
    let args: NativeAddress;
    try {
      fd = this.#checks.prepare(sock, "sendto", options);
      bytes = toBytes(data);
      args = addressArgs(sock.family, address, "sockSendto");
    } catch (error) {
      return Promise.reject(error);
    }
    const send = (): Promise<number> =>
      this.#op(
        "sendto",
        options?.signal,
        (id) => this.#ring.sendmsg(id, fd, bytes, 0, bytes.byteLength, sock.family, args),
        (res) => count(res, "sendto"),
      );
    if (this.#resolvesWithDns(sock, args[0]))
      return this.#resolve(sock, args).then(() => {
        fd = this.#checks.prepare(sock, "sendto", options);
        return send();
      });
    return send();
  }

  async sendall(sock: SocketLike, data: string | BufferLike, options: SockOptions | undefined): Promise<void> {
    const fd = this.#checks.prepare(sock, "send", options);
    const bytes = toBytes(data);
    const signal = options?.signal;
    const length = bytes.byteLength;
    let sent = 0;
    // One send per round, resubmitted from where the last one stopped until all is sent.
    while (sent < length) {
      if (signal?.aborted) throw abortError(signal);
      const offset = sent;
      sent += await this.#op(
        "send",
        signal,
        (id) => this.#ring.send(id, fd, bytes, offset, length - offset),
        (res) => count(res, "send"),
      );
    }
  }

  connect(sock: SocketLike, address: unknown, options: SockOptions | undefined): Promise<void> {
    let fd: number;
    let args: NativeAddress;
    try {
      fd = this.#checks.prepare(sock, "connect", options);
      args = addressArgs(sock.family, address, "sockConnect");
    } catch (error) {
      return Promise.reject(error);
    }
    const [host, port] = args;
    const connect = (): Promise<void> =>
      this.#op(
        "connect",
        options?.signal,
        (id) => this.#ring.connect(id, fd, sock.family, args),
        (res) => {
          if (res < 0) throw connectError(res, host, port);
        },
      );
    if (this.#resolvesWithDns(sock, args[0]))
      return this.#resolve(sock, args).then(() => {
        fd = this.#checks.prepare(sock, "connect", options);
        return connect();
      });
    return connect();
  }

  /** As sock.ts: a host name is resolved with node:dns while attached, by getaddrinfo otherwise. */
  #resolvesWithDns(sock: SocketLike, host: string): boolean {
    return sock.family !== AF_UNIX && host !== "" && isIP(host) === 0 && this.#core.attached;
  }

  async #resolve(sock: SocketLike, args: NativeAddress): Promise<void> {
    const { address } = await lookup(args[0], { family: sock.family === AF_INET6 ? 6 : 4 });
    args[0] = address;
  }

  // ---------------------------------------------------------------- accept

  accept(sock: SocketLike, options: SockOptions | undefined): Promise<[Socket, SocketAddress]> {
    let fd: number;
    try {
      fd = this.#checks.prepare(sock, "accept", options);
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
      if (accepted !== null) return Promise.resolve(accepted);
    }
    const core = this.#core;
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
    const id = this.#newId();
    this.#ops.set(id, (res, flags) => this.#accepted(q, id, res, flags));
    const r = this.#ring.accept(id, q.fd, true);
    if (r < 0) {
      this.#ops.delete(id);
      for (const w of q.waiters.splice(0)) w.reject(systemError(r, "accept"));
      return;
    }
    q.id = id;
    this.#started();
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
          if (accepted !== null) q.waiters.shift()!.resolve(accepted);
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
        this.#core.callExceptionHandler({ message: `sockAccept(): accept failed, retrying in ${q.delay} s`, exception: error, socket: q.sock });
        q.backoff = true;
        this.#core.callLater(q.delay, () => {
          q.backoff = false;
          if (q.id === 0 && q.waiters.length > 0 && !this.#core.closed && this.#accepts.get(q.fd) === q) this.#armAccept(q);
        });
        q.delay = Math.min(q.delay * 2, ACCEPT_RETRY_MAX);
        return;
      }
      q.waiters.shift()?.reject(error);
    }
    if (q.id === 0 && !q.backoff && q.waiters.length > 0 && !this.#core.closed) this.#armAccept(q);
  }

  /** The accepted fd as a non-blocking Socket with its peer's address, or null (closed) if the peer is gone already. */
  #wrap(sock: SocketLike, fd: number): [Socket, SocketAddress] | null {
    let accepted: Socket | undefined;
    try {
      accepted = sock instanceof Socket ? wrapNewFd(sock.family, sock.type, sock.proto, fd, 0) : new Socket(sock.family, sock.type, sock.proto ?? 0, fd);
      if (!(sock instanceof Socket)) accepted.setblocking(false);
      return [accepted, accepted.getpeername() as SocketAddress];
    } catch {
      // ENOTCONN: reset before it was taken (accept's ECONNABORTED); the next one is waited for.
      if (accepted !== undefined) accepted.close();
      else closeFd(fd);
      return null;
    }
  }
}

/** A byte count, or the syscall's error. */
function count(res: number, syscall: string): number {
  if (res < 0) throw systemError(res, syscall);
  return res;
}
