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
import { AF_INET6, AF_UNIX, SOCK_STREAM, type BufferLike, type Socket, type SocketAddress } from "../socket.js";
import { abortError, type LoopCore, type LoopObject } from "./base.js";
import { Handle } from "./handles.js";
import type { IoData } from "./io.js";
import { RingAccepts, type RingHost } from "./ringaccept.js";
import { SockWaiter, type SockOptions, type SocketLike } from "./sockwait.js";

/** Receives of up to this many bytes go into a pooled slab and are copied out (no n-byte buffer per call). */
const SLAB_SIZE = 65536;
/** Slabs kept for reuse. */
const SLAB_POOL = 64;

type Done = (res: number, flags: number) => void;

/** What an aborted receive took after all: the next receive on the socket gets it first. */
type Kept = [data: Buffer, address: SocketAddress | null];

/** @internal The completion sock* calls of one ProactorEventLoop. */
export class RingCalls<L extends LoopObject> {
  readonly #core: LoopCore<L>;
  readonly #ring: RingSelector<IoData>;
  readonly #checks: SockWaiter<L>;
  readonly #ops = new Map<number, Done>();
  readonly #accepts: RingAccepts<L>;
  readonly #kept = new WeakMap<SocketLike, Kept[]>();
  readonly #slabs: Buffer[] = [];
  #nextId = 1;
  #flushQueued = false;

  constructor(core: LoopCore<L>, ring: RingSelector<IoData>) {
    this.#core = core;
    this.#ring = ring;
    this.#checks = new SockWaiter(core);
    ring.setSink((id, res, flags) => this.#complete(id, res, flags));
    const host: RingHost<L> = {
      core,
      ring,
      prepare: (sock, op, options) => this.#checks.prepare(sock, op, options),
      newId: () => this.#newId(),
      register: (id, done) => this.#ops.set(id, done),
      unregister: (id) => this.#ops.delete(id),
      started: () => this.#started(),
    };
    this.#accepts = new RingAccepts(host);
  }

  /** The loop closed (its ring with it): connections queued for nobody are closed. */
  close(): void {
    this.#accepts.close();
    this.#ops.clear();
    this.#slabs.length = 0;
  }

  accept(sock: SocketLike, options: SockOptions | undefined): Promise<[Socket, SocketAddress]> {
    return this.#accepts.accept(sock, options);
  }

  /**
   * A completion from the ring's wait: its call settles in this batch's turn, after the callbacks
   * queued before the wait (as a reader's callback would run), so an abort queued before it still
   * counts (and keeps what the receive took).
   */
  #complete(id: number, res: number, flags: number): void {
    const done = this.#ops.get(id);
    if (done === undefined) return;
    if ((flags & CQE_F_MORE) === 0) this.#ops.delete(id);
    this.#core.push(new Handle(this.#core.loop, done as (...args: unknown[]) => unknown, [res, flags]));
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

  /**
   * One operation: `start(id)` submits it, `done(res)` turns its completion into the result (or
   * throws). Aborted: it rejects with an AbortError once the ring says how it ended, and what a
   * receive took after all goes to `keep` (for the socket's next receive).
   */
  #op<T>(
    syscall: string,
    signal: AbortSignal | undefined,
    start: (id: number) => number,
    done: (res: number, id: number) => T,
    keep?: (res: number, id: number) => void,
  ): Promise<T> {
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
        else if (aborted) {
          if (res > 0) keep?.(res, id);
          reject(abortError(signal!));
        } else
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

  /** Keeps what an aborted receive took (a copy), for the socket's next receive call. */
  #keep(sock: SocketLike, data: Buffer, address: SocketAddress | null): void {
    const list = this.#kept.get(sock);
    if (list === undefined) this.#kept.set(sock, [[data, address]]);
    else list.push([data, address]);
  }

  /** What an aborted receive kept, up to n bytes (a stream keeps the rest; a datagram is cut, as recv cuts it), or undefined. */
  #takeKept(sock: SocketLike, n: number): Kept | undefined {
    const list = this.#kept.get(sock);
    if (list === undefined) return undefined;
    const [data, address] = list[0]!;
    if (data.length > n && sock.type === SOCK_STREAM) {
      list[0] = [data.subarray(n), address];
    } else {
      list.shift();
      if (list.length === 0) this.#kept.delete(sock);
    }
    return [data.length > n ? data.subarray(0, n) : data, address];
  }

  /** Copies kept bytes into the caller's buffer; returns the count. */
  static #fill(buffer: BufferLike, length: number, data: Buffer): number {
    return data.copy(Buffer.from(buffer.buffer, buffer.byteOffset, length));
  }

  static #copyOut(buffer: BufferLike, res: number): Buffer {
    return Buffer.from(Buffer.from(buffer.buffer, buffer.byteOffset, res));
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
    const kept = this.#takeKept(sock, n);
    if (kept !== undefined) return Promise.resolve(kept[0]);
    const slab = this.#slab(n);
    return this.#op(
      "recv",
      options?.signal,
      (id) => this.#ring.recv(id, fd, slab, 0, n),
      (res) => this.#takeBytes(slab, res, "recv"),
      (res) => this.#keep(sock, this.#takeBytes(slab, res, "recv"), null),
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
    const kept = this.#takeKept(sock, n);
    if (kept !== undefined) return Promise.resolve(kept);
    const slab = this.#slab(n);
    return this.#op(
      "recvfrom",
      options?.signal,
      (id) => this.#ring.recvmsg(id, fd, slab, 0, n),
      (res, id) => [this.#takeBytes(slab, res, "recvfrom"), this.#ring.takeAddress(id)],
      (res, id) => this.#keep(sock, this.#takeBytes(slab, res, "recvfrom"), this.#ring.takeAddress(id)),
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
    const kept = this.#takeKept(sock, length);
    if (kept !== undefined) return Promise.resolve([RingCalls.#fill(buffer, length, kept[0]), kept[1]]);
    return this.#op(
      "recvfrom",
      options?.signal,
      (id) => this.#ring.recvmsg(id, fd, buffer, 0, length),
      (res, id) => [count(res, "recvfrom"), this.#ring.takeAddress(id)],
      (res, id) => this.#keep(sock, RingCalls.#copyOut(buffer, res), this.#ring.takeAddress(id)),
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
}

/** A byte count, or the syscall's error. */
function count(res: number, syscall: string): number {
  if (res < 0) throw systemError(res, syscall);
  return res;
}
