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
 * So are sockRecv and sockRecvInto on a stream socket where the ring has provided buffers: one
 * multishot receive per socket feeds a queue (ringrecv.ts).
 */

import { addressArgs, type NativeAddress } from "../addresses.js";
import { checkBufsize, intoLength, toBytes } from "../args.js";
import { closedError, connectError, systemError } from "../errors.js";
import { CQE_F_MORE, RING_ECANCELED, type RingSelector } from "../ring.js";
import { AF_INET6, AF_UNIX, SOCK_STREAM, type BufferLike, type Socket, type SocketAddress } from "../socket.js";
import { abortError, type LoopCore, type LoopObject } from "./base.js";
import { Handle } from "./handles.js";
import type { IoData } from "./io.js";
import { RingAccepts, type RingHost } from "./ringaccept.js";
import { RecvStream, RingStreams, type StreamReader } from "./ringrecv.js";
import { AGAIN, KeptBytes, RecvSlabs, RingOp, copyOut, count, fill, finishCount, finishSendall, startRecv, startSend, type Finish } from "./ringop.js";
import { SockWaiter, resolveWithDns, resolvesWithDns, type SockOptions, type SocketLike } from "./sockwait.js";

type Done = (res: number, flags: number) => void;

/** @internal The completion sock* calls of one ProactorEventLoop. */
export class RingCalls<L extends LoopObject> {
  readonly #core: LoopCore<L>;
  readonly #ring: RingSelector<IoData>;
  readonly #checks: SockWaiter<L>;
  /** Indexed by operation id: the call (or sockAccept's callback) an id belongs to until it is settled. */
  readonly #ops: (RingOp | Done | RecvStream | undefined)[] = [undefined];
  /** Ids settled, for reuse (an id is free only once its call can no longer cancel it). */
  readonly #freeIds: number[] = [];
  readonly #accepts: RingAccepts<L>;
  /** Stream receives as multishot receives, where the ring has provided buffers (else null). */
  readonly #streams: RingStreams<L> | null;
  /** Streams whose waiting calls this wait's completions can serve. */
  #toServe: RecvStream[] = [];
  readonly #kept = new KeptBytes();
  readonly #slabs = new RecvSlabs();
  /** Completions of the last wait, [id, res, flags]..., settled together by one ready handle. */
  #completed: number[] = [];
  /** The other array of the pair #completed alternates with (no new array per wait). */
  #spare: number[] = [];
  readonly #settleHandle: Handle;
  readonly #finishRecv: Finish = (op, res) => this.#slabs.take(op.buffer as Buffer, res, op.syscall);
  readonly #keepRecv = (op: RingOp, res: number): void => this.#kept.keep(op.sock!, this.#slabs.take(op.buffer as Buffer, res, op.syscall), null);
  /** An aborted receive into the caller's buffer that completed anyway: a copy of its bytes, kept. */
  readonly #keepRecvInto = (op: RingOp, res: number): void => this.#kept.keep(op.sock!, copyOut(op.buffer!, res), null);
  #flushQueued = false;

  constructor(core: LoopCore<L>, ring: RingSelector<IoData>) {
    this.#core = core;
    this.#ring = ring;
    this.#checks = new SockWaiter(core);
    this.#settleHandle = new Handle(core.loop, () => this.#settleCompleted(), []);
    ring.setSink((id, res, flags, data) => this.#complete(id, res, flags, data));
    // The loop's close rejects every call still waiting (its ring is closed by then).
    core.closeWaiters.add((error) => this.#closeAll(error));
    const host: RingHost<L> = {
      core,
      ring,
      prepare: (sock, op, options) => this.#checks.prepare(sock, op, options),
      newId: () => this.#newId(),
      register: (id, done) => (this.#ops[id] = done),
      unregister: (id) => this.#freeId(id),
      started: () => this.#started(),
      cancel: (id) => {
        if (this.#ring.cancel(id) === 0) this.#kick();
      },
    };
    this.#accepts = new RingAccepts(host);
    this.#streams = !ring.multishotRecv
      ? null
      : new RingStreams({
          ...host,
          register: (id, stream) => (this.#ops[id] = stream),
          schedule: (stream) => {
            if (this.#completed.length === 0 && this.#toServe.length === 0) this.#core.push(this.#settleHandle);
            this.#toServe.push(stream);
          },
        });
  }

  /** The loop closed (its ring with it): connections queued for nobody are closed. */
  close(): void {
    this.#accepts.close();
    this.#ops.length = 1;
    this.#freeIds.length = 0;
    this.#completed = [];
    this.#toServe = [];
    this.#slabs.clear();
  }

  accept(sock: SocketLike, options: SockOptions | undefined): Promise<[Socket, SocketAddress]> {
    return this.#accepts.accept(sock, options);
  }

  /**
   * A completion from the ring's wait: its call settles in this batch's turn, after the callbacks
   * queued before the wait (as a reader's callback would run), so an abort queued before it still
   * counts (and keeps what the receive took). One handle settles all of one wait's completions.
   */
  #complete(id: number, res: number, flags: number, data: Buffer | null): void {
    const entry = this.#ops[id];
    if (entry === undefined) return;
    if (entry instanceof RecvStream) this.#streams!.arrived(entry, res, flags, data);
    else {
      const completed = this.#completed;
      if (completed.length === 0 && this.#toServe.length === 0) this.#core.push(this.#settleHandle);
      completed.push(id, res, flags);
    }
    if (this.#ring.inflight === 0) this.#core.ioChanged(-1, 0, false);
  }

  #settleCompleted(): void {
    if (this.#toServe.length > 0) for (const stream of this.#toServe.splice(0)) this.#streams!.serve(stream);
    const completed = this.#completed;
    this.#completed = this.#spare;
    for (let i = 0; i < completed.length; i += 3) {
      const id = completed[i]!;
      const res = completed[i + 1]!;
      const flags = completed[i + 2]!;
      const entry = this.#ops[id];
      if (entry === undefined) continue;
      if (typeof entry === "function") {
        if ((flags & CQE_F_MORE) === 0) this.#freeId(id);
        try {
          entry(res, flags);
        } catch (exception) {
          this.#core.callExceptionHandler({ message: "Exception in a sockAccept completion", exception });
        }
      } else if (!(entry instanceof RecvStream)) this.#settle(entry, res);
    }
    completed.length = 0;
    this.#spare = completed;
  }

  #settle(op: RingOp, res: number): void {
    this.#freeId(op.id);
    const signal = op.signal;
    // Cancelled: by an abort, or by close() of the socket (which cancels its operations first).
    if (res === RING_ECANCELED) return this.#reject(op, op.aborted ? abortError(signal!) : closedError(op.syscall));
    if (op.aborted) {
      if (res > 0) op.keep?.(op, res);
      return this.#reject(op, abortError(signal!));
    }
    let value: unknown;
    try {
      value = op.finish(op, res);
    } catch (error) {
      return this.#reject(op, error);
    }
    if (value !== AGAIN) {
      if (op.onAbort !== null) signal!.removeEventListener("abort", op.onAbort);
      op.resolve(value);
    } else if (signal?.aborted) this.#reject(op, abortError(signal));
    else this.#submit(op);
  }

  #reject(op: RingOp, error: unknown): void {
    if (op.onAbort !== null) op.signal!.removeEventListener("abort", op.onAbort);
    op.reject(error);
  }

  #closeAll(error: Error): void {
    this.#streams?.close(error);
    const ops = this.#ops;
    for (let id = 1; id < ops.length; id++) {
      const entry = ops[id];
      if (entry instanceof RingOp) {
        ops[id] = undefined;
        this.#reject(entry, error);
      }
    }
  }

  #newId(): number {
    const id = this.#freeIds.pop();
    if (id !== undefined) return id;
    this.#ops.push(undefined);
    return this.#ops.length - 1;
  }

  #freeId(id: number): void {
    if (this.#ops[id] === undefined) return;
    this.#ops[id] = undefined;
    this.#freeIds.push(id);
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
   * Submits `op` under a new id (resubmissions too); false when it was rejected instead (the
   * ring refused it: no slot, or its arguments).
   */
  #submit(op: RingOp): boolean {
    const id = this.#newId();
    op.id = id;
    let r: number;
    try {
      r = op.start(this.#ring, op);
    } catch (error) {
      this.#reject(op, error);
      this.#freeIdUnused(id);
      return false;
    }
    if (r < 0) {
      this.#reject(op, systemError(r, op.syscall));
      this.#freeIdUnused(id);
      return false;
    }
    this.#ops[id] = op;
    this.#started();
    return true;
  }

  /** An id handed out whose operation never started. */
  #freeIdUnused(id: number): void {
    this.#ops[id] = undefined;
    this.#freeIds.push(id);
  }

  /**
   * One call's operation: submitted now, settled by its completion (`op.finish`). Aborted: it
   * rejects with an AbortError once the ring says how it ended, and what a receive took after all
   * goes to `op.keep` (for the socket's next receive).
   */
  #op<T>(op: RingOp): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      op.resolve = resolve as (value: unknown) => void;
      op.reject = reject;
    });
    if (this.#submit(op) && op.signal !== undefined) {
      const signal = op.signal;
      op.onAbort = () => {
        op.aborted = true;
        if (this.#ring.cancel(op.id) === 0) this.#kick();
      };
      signal.addEventListener("abort", op.onAbort, { once: true });
    }
    return promise;
  }

  /** An operation whose start and finish are given as closures (the calls off the hot path). */
  #generic<T>(
    syscall: string,
    signal: AbortSignal | undefined,
    start: (id: number) => number,
    finish: (res: number, id: number) => T,
    keep?: (res: number, id: number) => void,
  ): Promise<T> {
    return this.#op(
      new RingOp(
        syscall,
        signal,
        (_ring, op) => start(op.id),
        (op, res) => finish(res, op.id),
        keep === undefined ? null : (op, res) => keep(res, op.id),
        -1,
        null,
        0,
        0,
      ),
    );
  }

  /** Stream receives as multishot receives (null where the ring has no provided buffers). */
  get streams(): RingStreams<L> | null {
    return this.#streams;
  }

  /** A Protocol transport's reading (RingStreams#read; only where the ring has byte limits): null, or why it could not start. */
  read(sock: SocketLike, reader: StreamReader): Error | null {
    try {
      return this.#streams!.read(sock, this.#checks.prepare(sock, "recv", undefined), reader);
    } catch (error) {
      return error as Error;
    }
  }

  /** `once`: a single-shot receive, unless the socket's stream already receives (a transport's read: see proactor.ts). */
  recv(sock: SocketLike, n: number, options: SockOptions | undefined, once = false): Promise<Buffer> {
    let fd: number;
    try {
      fd = this.#checks.prepare(sock, "recv", options);
      checkBufsize(n, "n");
    } catch (error) {
      return Promise.reject(error);
    }
    const streams = this.#streams;
    if (streams !== null && n > 0 && sock.type === SOCK_STREAM && (!once || streams.owns(sock))) return streams.recv(sock, fd, n, options?.signal);
    const kept = this.#kept.take(sock, n);
    if (kept !== undefined) return Promise.resolve(kept[0]);
    const slab = this.#slabs.get(n);
    return this.#op(new RingOp("recv", options?.signal, startRecv, this.#finishRecv, this.#keepRecv, fd, slab, 0, n, sock));
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
    if (this.#streams !== null && length > 0 && sock.type === SOCK_STREAM) return this.#streams.recvInto(sock, fd, buffer, length, options?.signal);
    const kept = this.#kept.take(sock, length);
    if (kept !== undefined) return Promise.resolve(fill(buffer, length, kept[0]));
    return this.#op(new RingOp("recv", options?.signal, startRecv, finishCount, this.#keepRecvInto, fd, buffer, 0, length, sock));
  }

  recvfrom(sock: SocketLike, n: number, options: SockOptions | undefined): Promise<[Buffer, SocketAddress | null]> {
    let fd: number;
    try {
      fd = this.#checks.prepare(sock, "recvfrom", options);
      checkBufsize(n, "n");
    } catch (error) {
      return Promise.reject(error);
    }
    const kept = this.#kept.take(sock, n);
    if (kept !== undefined) return Promise.resolve(kept);
    const slab = this.#slabs.get(n);
    return this.#generic(
      "recvfrom",
      options?.signal,
      (id) => this.#ring.recvmsg(id, fd, slab, 0, n),
      (res, id) => [this.#slabs.take(slab, res, "recvfrom"), this.#ring.takeAddress(id)],
      (res, id) => this.#kept.keep(sock, this.#slabs.take(slab, res, "recvfrom"), this.#ring.takeAddress(id)),
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
    const kept = this.#kept.take(sock, length);
    if (kept !== undefined) return Promise.resolve([fill(buffer, length, kept[0]), kept[1]]);
    return this.#generic(
      "recvfrom",
      options?.signal,
      (id) => this.#ring.recvmsg(id, fd, buffer, 0, length),
      (res, id) => [count(res, "recvfrom"), this.#ring.takeAddress(id)],
      (res, id) => this.#kept.keep(sock, copyOut(buffer, res), this.#ring.takeAddress(id)),
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
      this.#generic(
        "sendto",
        options?.signal,
        (id) => this.#ring.sendmsg(id, fd, bytes, 0, bytes.byteLength, sock.family, args),
        (res) => count(res, "sendto"),
      );
    if (resolvesWithDns(sock, args[0], this.#core.attached))
      return resolveWithDns(sock, args).then(() => {
        fd = this.#checks.prepare(sock, "sendto", options);
        return send();
      });
    return send();
  }

  sendall(sock: SocketLike, data: string | BufferLike, options: SockOptions | undefined): Promise<void> {
    let fd: number;
    let bytes: BufferLike;
    try {
      fd = this.#checks.prepare(sock, "send", options);
      bytes = toBytes(data);
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (bytes.byteLength === 0) return Promise.resolve();
    // One send at a time, resubmitted from where the last one stopped until all is sent.
    return this.#op(new RingOp("send", signal, startSend, finishSendall, null, fd, bytes, 0, bytes.byteLength));
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
      this.#generic(
        "connect",
        options?.signal,
        (id) => this.#ring.connect(id, fd, sock.family, args),
        (res) => {
          if (res < 0) throw connectError(res, host, port);
        },
      );
    if (resolvesWithDns(sock, args[0], this.#core.attached))
      return resolveWithDns(sock, args).then(() => {
        fd = this.#checks.prepare(sock, "connect", options);
        return connect();
      });
    return connect();
  }
}
