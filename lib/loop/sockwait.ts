/**
 * lib/loop/sockwait.ts — how a sock* call waits (asyncio's selector_events _sock_recv and the
 * like): its socket and options checked, it tries its step at once and, if that would block,
 * becomes the fd's reader or writer until the step completes or throws, the call is aborted, or
 * the loop drops the registration. A settled call's registration is parked for the next call on
 * the fd (io.ts); a stream read that drained the socket makes the next one wait at once.
 */
import { isIP } from "node:net";
import { lookup } from "node:dns/promises";

import type { NativeAddress } from "../addresses.js";
import { describe, foreignSocket } from "../args.js";
import { closedError, codedError } from "../errors.js";
import { abortError, checkSignal, type LoopCore, type LoopObject } from "./base.js";
import { IoHandle } from "./handles.js";
import { AF_INET6, AF_UNIX } from "../socket.js";

/**
 * What the sock* calls need of a socket: the Socket class has it. `F` is the address family's type,
 * which the sock* calls pass on: sockAccept on a `Socket<AF_INET>` gives a `Socket<AF_INET>` and a
 * `[host, port]` address (see SocketAddressOf).
 */
export interface SocketLike<F extends number = number> {
  fileno(): number;
  getblocking(): boolean;
  readonly family: F;
  readonly type: number;
  readonly proto?: number;
}

/** Options of the sock* calls. */
export interface SockOptions {
  /** Aborting rejects the call with an AbortError and removes its reader or writer. */
  signal?: AbortSignal;
}

/** An address as sockConnect takes it: [host, port], [host, port, flowinfo, scopeId], or a Unix path. */
export type ConnectAddress = string | readonly [host: string, port: number] | readonly [host: string, port: number, flowinfo?: number, scopeId?: number];

/** @internal What a step returns when its syscall would block: wait for readiness, then step again. */
export const AGAIN: unique symbol = Symbol("again");
/** @internal One try of a sock* call: its result, or AGAIN. */
export type Step<T> = () => T | typeof AGAIN;

/** @internal The waiting side of one loop's sock* calls. */
export class SockWaiter<L extends LoopObject> {
  readonly #core: LoopCore<L>;
  /**
   * Stream fds whose last sockRecv/sockRecvInto read fewer bytes than asked: the kernel buffer was
   * drained then, so the next call waits for readiness at once instead of first making a recv that
   * would most likely fail with EAGAIN. Level-triggered readiness (epoll, kqueue, poll and libuv's
   * uv_poll alike) reports data that came in between on the next iteration, so nothing is missed;
   * the call may complete one iteration later than an eager read would have. A flag per fd number
   * (grown on demand), not a Set: a Set's add and delete, and its rehashes, cost more per request.
   */
  #drained = new Uint8Array(256);
  readonly #skipDrainedRecv: boolean;

  constructor(core: LoopCore<L>) {
    this.#core = core;
    // libkqueue (kqueue on Linux) reads and so clears a socket's pending error when it reports
    // the socket readable: a reset peer would then read as EOF instead of ECONNRESET, so there
    // (and, untested, on the BSDs' kqueue) every read is tried at once.
    this.#skipDrainedRecv = core.selector.backend !== "kqueue";
  }

  /** The loop closes: forget the drained fds. */
  close(): void {
    this.#drained.fill(0);
  }

  /** Records whether a stream read drained the socket (see #drained). */
  noteRead(fd: number, got: number, asked: number): void {
    let drained = this.#drained;
    if (got > 0 && got < asked && this.#skipDrainedRecv) {
      if (fd >= drained.length) {
        const grown = new Uint8Array(Math.max(fd + 1, drained.length * 2));
        grown.set(drained);
        this.#drained = drained = grown;
      }
      drained[fd] = 1;
    } else if (fd < drained.length) {
      drained[fd] = 0;
    }
  }

  /** #attempt for a stream read, which waits at once on an fd its last read drained. */
  attemptRead<T>(sock: SocketLike, fd: number, step: Step<T>, signal: AbortSignal | undefined): Promise<T> {
    const drained = this.#drained;
    if (fd < drained.length && drained[fd] === 1) {
      drained[fd] = 0;
      return this.wait(sock, fd, false, step, signal);
    }
    return this.attempt(sock, fd, false, step, signal);
  }

  /** Checks a sock* call's arguments and the loop; returns the fd. */
  prepare(sock: SocketLike, op: string, options: SockOptions | undefined): number {
    this.#core.checkClosed();
    if (sock === null || typeof sock !== "object" || typeof sock.fileno !== "function" || typeof sock.getblocking !== "function") {
      const foreign = foreignSocket(sock);
      throw codedError(
        "ERR_INVALID_ARG_TYPE",
        foreign !== undefined
          ? `The "sock" argument must be a native-selectors Socket, not a ${foreign} Socket`
          : `The "sock" argument must be a native-selectors Socket. Received ${describe(sock)}`,
        "TypeError",
      );
    }
    checkSignal(options);
    const fd = sock.fileno();
    if (fd < 0) throw closedError(op);
    if (sock.getblocking())
      throw codedError("ERR_SOCKET_BLOCKING", `the socket must be non-blocking for loop.sock${op[0]!.toUpperCase()}${op.slice(1)}(): call setblocking(false)`);
    return fd;
  }

  /** Tries `step` at once; if it would block, waits for readiness (see wait). */
  attempt<T>(sock: SocketLike, fd: number, write: boolean, step: Step<T>, signal: AbortSignal | undefined): Promise<T> {
    let result: T | typeof AGAIN;
    try {
      result = step();
    } catch (error) {
      return Promise.reject(error);
    }
    if (result !== AGAIN) return Promise.resolve(result);
    return this.wait(sock, fd, write, step, signal);
  }

  /**
   * Registers `step` as the fd's reader (or writer) until it returns something other than AGAIN
   * or throws; the registration is removed as soon as the call settles or is aborted.
   */
  wait<T>(sock: SocketLike, fd: number, write: boolean, step: Step<T>, signal: AbortSignal | undefined): Promise<T> {
    const core = this.#core;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (park: boolean): void => {
        settled = true;
        handle._onDrop = null; // removing our own registration must not build a drop error
        signal?.removeEventListener("abort", onAbort);
        if (park && !core.closed) core.io.park(handle, write);
        else core.io.removeIfCurrent(handle, write);
      };
      const onAbort = (): void => {
        if (settled) return;
        finish(false);
        reject(abortError(signal!));
      };
      const onReady = (): void => {
        if (settled) return;
        let result: T | typeof AGAIN;
        try {
          result = step();
        } catch (error) {
          finish(true);
          reject(error);
          return;
        }
        if (result === AGAIN) return;
        finish(true);
        resolve(result);
      };
      const handle = new IoHandle(core.loop, fd, sock, onReady, []);
      handle._onDrop = (error) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      };
      try {
        core.checkClosed();
        core.io.add(sock, write, handle);
      } catch (error) {
        settled = true;
        reject(error);
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * @internal Whether a sock* call resolves `host` with node:dns before its syscall: a host name
 * (not an address, not a Unix path) while the loop is attached. While the loop owns the thread
 * the syscall's own getaddrinfo resolves it, blocking the loop for the lookup: this predates
 * Node's work running inside the owned loop, where node:dns would now work too (its errors have
 * other codes: ENOTFOUND where getaddrinfo gives EAI_*).
 */
export function resolvesWithDns(sock: SocketLike, host: string, attached: boolean): boolean {
  return sock.family !== AF_UNIX && host !== "" && isIP(host) === 0 && attached;
}

/** @internal Replaces args[0], a host name, by its address from node:dns (the caller checks the loop, socket and signal again after). */
export async function resolveWithDns(sock: SocketLike, args: NativeAddress): Promise<void> {
  const { address } = await lookup(args[0], { family: sock.family === AF_INET6 ? 6 : 4 });
  args[0] = address;
}
