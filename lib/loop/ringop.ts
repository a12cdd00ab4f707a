/**
 * lib/loop/ringop.ts — the pieces of the ProactorEventLoop's sock* calls (ringsock.ts) that hold no
 * loop state: RingOp, one call's operation in flight (one object per call, no closures on the hot
 * paths), the start and finish functions of receives and sends, RecvSlabs, the pooled buffers
 * single-shot receives go into, and KeptBytes, what aborted receives took after all, for the
 * socket's next receive.
 */
import { systemError } from "../errors.js";
import type { RingSelector } from "../ring.js";
import { SOCK_STREAM, type BufferLike, type SocketAddress } from "../socket.js";
import type { IoData } from "./io.js";
import type { SocketLike } from "./sockwait.js";

/** What an aborted receive took after all: the next receive on the socket gets it first. */
export type Kept = [data: Buffer, address: SocketAddress | null];

/** Submits `op` (its id, fd and bytes): 0 or -errno, as the ring's calls. */
export type Start = (ring: RingSelector<IoData>, op: RingOp) => number;
/** Turns an operation's completion into its call's result, or throws; AGAIN resubmits it (sendall). */
export type Finish = (op: RingOp, res: number) => unknown;

/** Finish's answer when the operation goes on: it was resubmitted from op.offset. */
export const AGAIN = Symbol("again");

/**
 * One sock* call's operation in flight (one object per call, no closures on the hot paths): its
 * promise's settlers, what it submits and how its completion settles it.
 */
export class RingOp {
  id = 0;
  aborted = false;
  resolve: (value: unknown) => void = noop;
  reject: (error: unknown) => void = noop;
  onAbort: (() => void) | null = null;

  constructor(
    readonly syscall: string,
    readonly signal: AbortSignal | undefined,
    readonly start: Start,
    readonly finish: Finish,
    /** An aborted operation that completed anyway: what it took goes here (receives only). */
    readonly keep: ((op: RingOp, res: number) => void) | null,
    readonly fd: number,
    readonly buffer: BufferLike | null,
    public offset: number,
    readonly end: number,
    readonly sock: SocketLike | null = null,
  ) {}
}

function noop(): void {}

export const startRecv: Start = (ring, op) => ring.recv(op.id, op.fd, op.buffer!, op.offset, op.end - op.offset);
export const startSend: Start = (ring, op) => ring.send(op.id, op.fd, op.buffer!, op.offset, op.end - op.offset);
export const finishCount: Finish = (op, res) => count(res, op.syscall);
export const finishSendall: Finish = (op, res) => {
  op.offset += count(res, op.syscall);
  return op.offset < op.end ? AGAIN : undefined;
};

/** Receives of up to this many bytes go into a pooled slab and are copied out (no n-byte buffer per call). */
const SLAB_SIZE = 65536;
/** Slabs kept for reuse. */
const SLAB_POOL = 64;

/** The slabs single-shot receives of up to SLAB_SIZE bytes go into, kept for reuse. */
export class RecvSlabs {
  readonly #pool: Buffer[] = [];

  /** A buffer for a receive of up to n bytes: a pooled slab, or a buffer of its own past SLAB_SIZE. */
  get(n: number): Buffer {
    if (n > SLAB_SIZE) return Buffer.allocUnsafe(n);
    return this.#pool.pop() ?? Buffer.allocUnsafe(SLAB_SIZE);
  }

  /** The received bytes (or the syscall's error), copied out of a pooled slab, which goes back to the pool. */
  take(slab: Buffer, res: number, syscall: string): Buffer {
    if (slab.length === SLAB_SIZE && this.#pool.length < SLAB_POOL) this.#pool.push(slab);
    if (res < 0) throw systemError(res, syscall);
    if (slab.length !== SLAB_SIZE) return slab.subarray(0, res);
    const out = Buffer.allocUnsafe(res);
    // TypedArray#set from a plain view, not Buffer#copy: copy's JavaScript in node:buffer goes
    // megamorphic in a server (every Buffer copy of the process runs it) and costs several times more.
    out.set(new Uint8Array(slab.buffer, slab.byteOffset, res));
    return out;
  }

  clear(): void {
    this.#pool.length = 0;
  }
}

/** What aborted receives took after all, per socket, for its next receive call. */
export class KeptBytes {
  readonly #kept = new WeakMap<SocketLike, Kept[]>();

  /** Keeps what an aborted receive took (a copy). */
  keep(sock: SocketLike, data: Buffer, address: SocketAddress | null): void {
    const list = this.#kept.get(sock);
    if (list === undefined) this.#kept.set(sock, [[data, address]]);
    else list.push([data, address]);
  }

  /** What an aborted receive kept, up to n bytes (a stream keeps the rest; a datagram is cut, as recv cuts it), or undefined. */
  take(sock: SocketLike, n: number): Kept | undefined {
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
}

/** Copies kept bytes into the caller's buffer; returns the count. */
export function fill(buffer: BufferLike, length: number, data: Buffer): number {
  return data.copy(Buffer.from(buffer.buffer, buffer.byteOffset, length));
}

/** A copy of the first `res` bytes of the caller's buffer. */
export function copyOut(buffer: BufferLike, res: number): Buffer {
  return Buffer.from(Buffer.from(buffer.buffer, buffer.byteOffset, res));
}

/** A byte count, or the syscall's error. */
export function count(res: number, syscall: string): number {
  if (res < 0) throw systemError(res, syscall);
  return res;
}
