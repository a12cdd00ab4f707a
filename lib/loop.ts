/**
 * lib/loop.ts — EventLoop: an asyncio-shaped reactor over a selector. Callbacks (callSoon),
 * timers (callLater/callAt), sleep, readers and writers per fd, signal handlers, promise socket
 * calls (sockAccept, sockRecv, sockRecvInto, sockSendall, sockConnect), run(), sleep() and
 * getRunningLoop().
 *
 * It runs two ways:
 * - owning the thread (runForever/runUntilComplete): one `#runOnce` per iteration, driven by the
 *   native `runOwned`, which calls each iteration from a libuv callback so that promise
 *   continuations (and process.nextTick) run between iterations. Node's own work runs too: the
 *   selector's wait also wakes for Node's I/O and ends at Node's next timer, and whenever Node has
 *   something ready (a timer due, I/O, setImmediate, a worker message, an fs or dns completion)
 *   the run lets libuv run one turn between two iterations (native/owned.cc). When the promise
 *   runUntilComplete() waits for can never settle (nothing scheduled on the loop, and nothing in
 *   Node that would keep a process alive) it rejects with ERR_LOOP_DEADLOCK instead of hanging.
 * - attached (attach/detach): Node's libuv loop drives it. Where libuv can watch the selector's
 *   own fd (epoll), one Watcher on that fd wakes a batch; otherwise (poll, libkqueue) each
 *   registered fd has a Watcher and the wake-ups of one libuv tick are coalesced into one batch.
 *   Timers ride on one Node timer for the earliest deadline, ready callbacks on one setImmediate.
 *
 * Dispatch follows CPython's selector_events: a key's data is [reader, writer]; a batch first
 * queues the handles of every ready key and every due timer, then runs exactly what was ready at
 * that point. A handle removed, replaced, or whose Socket was closed before its turn in the batch
 * does not run (its cancellation or its Socket's fileno() tells), so a stale event never reaches
 * a new registration that reuses the fd number.
 */
import { isIP } from "node:net";
import { lookup } from "node:dns/promises";
import { readSync } from "node:fs";
import { constants as osConstants } from "node:os";

import * as asyncio from "./asyncio/loop-methods.js";
import { codedError, connectError, systemError, type CodedError } from "./errors.js";
import { Handle, IoHandle, TimerHandle, TimerHeap, type ExceptionContext, type HandleOwner } from "./loop-handles.js";
import { native, type BufferLike, type NativePoller, type NativeWatcher, type SocketAddress } from "./native.js";
import { BaseSelector, DefaultSelector, EVENT_READ, EVENT_WRITE, fileobjToFd, type FileObj, type SelectorKey } from "./selectors.js";
import { Socket, wrapNewFd, type AddressInputOf, type SocketAddressOf } from "./socket.js";
import {
  checkBufsize,
  describe,
  foreignSocket,
  intoLength,
  recvBytes,
  recvfromBytes,
  safeString,
  sendfileArgs,
  sendfileChunk,
  toBytes,
  withBytesSent,
  wouldBlock,
  type SendfileArgs,
  type SendfileSource,
} from "./sockio.js";

export { Handle, TimerHandle, type ExceptionContext } from "./loop-handles.js";

const C = native.constants;
const EAGAIN = C.EAGAIN;
const EINTR = C.EINTR;
const EINPROGRESS = C.EINPROGRESS;
const ECONNABORTED = C.ECONNABORTED;
const EBADF = C.EBADF;
const AF_UNIX = C.AF_UNIX;
const SOCK_STREAM = C.SOCK_STREAM;
const AF_INET6 = C.AF_INET6;

/** Timers due within this many seconds of now run in this iteration (asyncio's clock resolution). */
const CLOCK_RESOLUTION = 1e-6;
/** Compact the timer heap when more than this many cancelled timers are in it (and over half). */
const MIN_CANCELLED_TO_COMPACT = 100;
/** Node's setTimeout limit (ms). */
const MAX_NODE_DELAY = 0x7fffffff;

/**
 * Accept backoff (asyncio's ACCEPT_RETRY_DELAY, made exponential): when accept fails because the
 * process or system is out of fds or memory, the listener stays readable, so retrying at once
 * would spin. The loop retries after a delay instead, doubling from the first to the last value.
 */
const ACCEPT_RETRY_MIN = 0.05;
const ACCEPT_RETRY_MAX = 1;
const EXHAUSTION_CODES: ReadonlySet<string> = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);

/** Whether a key's data is the loop's own [reader, writer] pair (not a registration made behind its back). */
function isIoData(data: unknown): data is IoData {
  return Array.isArray(data) && data.length === 2 && (data[0] === null || data[0] instanceof IoHandle) && (data[1] === null || data[1] instanceof IoHandle);
}

function isExhaustion(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && EXHAUSTION_CODES.has(code);
}

/** A key's data in the loop's selector: the reader and the writer handle (asyncio's (reader, writer)). */
export type LoopKeyData = [reader: Handle | null, writer: Handle | null];
type IoData = [reader: IoHandle | null, writer: IoHandle | null];

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

/** Options of sleep(). */
export interface SleepOptions {
  /** Aborting rejects the sleep with an AbortError and cancels its timer. */
  signal?: AbortSignal;
}

/** Options of the sock* calls. */
export interface SockOptions {
  /** Aborting rejects the call with an AbortError and removes its reader or writer. */
  signal?: AbortSignal;
}

/** An address as sockConnect takes it: [host, port], [host, port, flowinfo, scopeId], or a Unix path. */
export type ConnectAddress = string | readonly [host: string, port: number] | readonly [host: string, port: number, flowinfo?: number, scopeId?: number];

export type ExceptionHandler = (loop: EventLoop, context: ExceptionContext) => void;

/** The loop that owns the thread, if any. */
let ownedLoop: EventLoop | null = null;
/** The loop whose batch is running right now while attached. */
let dispatchingLoop: EventLoop | null = null;
/** Attached loops, in the order they were attached. */
const attachedLoops: EventLoop[] = [];

/**
 * The loop running the current callback or coroutine: the loop dispatching right now, else the
 * loop that owns the thread, else the most recently attached loop. Throws ERR_NO_RUNNING_LOOP
 * when there is none (asyncio.get_running_loop raises RuntimeError).
 */
export function getRunningLoop(): EventLoop {
  const loop = dispatchingLoop ?? ownedLoop ?? attachedLoops[attachedLoops.length - 1];
  if (loop === undefined) throw codedError("ERR_NO_RUNNING_LOOP", "no running event loop");
  return loop;
}

/**
 * Like asyncio.run: a new loop (on `selector`, if given) runs `main(loop)` to completion, owning
 * the thread, then closes. Returns main's result or rejects with its error; ERR_LOOP_DEADLOCK if
 * main waits for something that can never happen (see runUntilComplete).
 *
 * Like asyncio.run, it refuses to start while an event loop runs in this thread — one that owns
 * it, or one attached to Node's loop (whatever getRunningLoop() would return): it rejects with
 * ERR_LOOP_RUNNING, and `selector` is left untouched. Await the work on the running loop instead.
 */
export async function run<T>(main: (loop: EventLoop) => T | PromiseLike<T>, selector?: BaseSelector<LoopKeyData>): Promise<T> {
  if (dispatchingLoop !== null || ownedLoop !== null || attachedLoops.length > 0)
    throw codedError(
      "ERR_LOOP_RUNNING",
      "run() cannot be called while an event loop is running in this thread (owning it or attached): await the work on that loop instead (getRunningLoop())",
    );
  const loop = new EventLoop(selector);
  try {
    return await loop.runUntilComplete(main);
  } finally {
    loop.close();
  }
}

/**
 * Resolves with `value` after `seconds` on the running loop's clock (asyncio.sleep): the
 * module-level form of EventLoop#sleep, on getRunningLoop(). Rejects with ERR_NO_RUNNING_LOOP
 * outside a running loop.
 */
export function sleep<T = void>(seconds: number, value?: T, options?: SleepOptions): Promise<T> {
  let loop: EventLoop;
  try {
    loop = getRunningLoop();
  } catch (error) {
    return Promise.reject(error);
  }
  return loop.sleep(seconds, value, options);
}

const AGAIN: unique symbol = Symbol("again");
type Step<T> = () => T | typeof AGAIN;

function abortError(signal: AbortSignal): CodedError {
  const error = new Error("The operation was aborted", { cause: signal.reason }) as CodedError;
  error.name = "AbortError";
  error.code = "ABORT_ERR";
  return error;
}

/** options.signal checked: undefined or an AbortSignal that has not aborted yet (else an AbortError). */
function checkSignal(options: { signal?: AbortSignal } | undefined): AbortSignal | undefined {
  const signal = options?.signal;
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal))
    throw codedError("ERR_INVALID_ARG_TYPE", `The "options.signal" property must be an AbortSignal. Received ${describe(signal)}`, "TypeError");
  if (signal.aborted) throw abortError(signal);
  return signal;
}

function checkCallback(callback: unknown): asserts callback is (...args: unknown[]) => unknown {
  if (typeof callback !== "function")
    throw codedError("ERR_INVALID_ARG_TYPE", `The "callback" argument must be of type function. Received ${describe(callback)}`, "TypeError");
}

function signalNumber(signal: unknown): number {
  let signo: number | undefined;
  if (typeof signal === "number") signo = Number.isInteger(signal) && signal > 0 && signal < 65 ? signal : undefined;
  else if (typeof signal === "string") signo = (osConstants.signals as Record<string, number | undefined>)[signal];
  if (signo === undefined) throw codedError("ERR_UNKNOWN_SIGNAL", `Unknown signal: ${typeof signal === "string" ? signal : describe(signal)}`, "TypeError");
  if (signo === osConstants.signals.SIGKILL || signo === osConstants.signals.SIGSTOP)
    throw codedError("ERR_INVALID_ARG_VALUE", `signal ${typeof signal === "string" ? signal : describe(signal)} cannot be caught`, "TypeError");
  return signo;
}

/**
 * An asyncio-shaped event loop over a selector (DefaultSelector unless one is given; the loop
 * owns it and closes it in close()).
 */
export class EventLoop implements HandleOwner, Disposable {
  readonly #selector: BaseSelector<IoData>;
  #ready: Handle[] = [];
  /**
   * Registrations of settled sock* calls, kept in the selector until the next iteration: the next
   * sockRecv/sockSendall on the same fd (a request/response loop) then takes the registration
   * over with no syscall, instead of an epoll_ctl DEL now and an ADD a moment later. Whatever is
   * still parked when the next iteration starts is removed then; a parked registration whose fd
   * becomes ready meanwhile is removed by the dispatch (its handle is cancelled).
   */
  /**
   * Stream fds whose last sockRecv/sockRecvInto read fewer bytes than asked: the kernel buffer was
   * drained then, so the next call waits for readiness at once instead of first making a recv that
   * would most likely fail with EAGAIN. Level-triggered readiness (epoll, kqueue, poll and libuv's
   * uv_poll alike) reports data that came in between on the next iteration, so nothing is missed;
   * the call may complete one iteration later than an eager read would have.
   */
  readonly #drained = new Set<number>();
  readonly #skipDrainedRecv: boolean;
  #parkedHandles: IoHandle[] = [];
  #parkedWrite: boolean[] = [];
  #sweepImmediate: NodeJS.Immediate | null = null;
  readonly #timers = new TimerHeap();
  #cancelledTimers = 0;
  #closed = false;
  #running = false;
  #stopping = false;
  #dispatching = 0;
  #exceptionHandler: ExceptionHandler | null = null;

  // Signals: a self-pipe the native handler writes signal numbers to; its read end is a reader.
  #sigRead = -1;
  #sigWrite = -1;
  readonly #sigHandlers = new Map<number, Handle>();
  readonly #sigBuffer = Buffer.alloc(64);

  // Attached mode.
  #attached = false;
  #backendWatcher: NativeWatcher | null = null;
  #watcherActive = false;
  #watcherRef = true;
  readonly #fdWatchers = new Map<number, { watcher: NativeWatcher; events: number }>();
  readonly #stoppedWatchers = new Set<number>();
  #immediate: NodeJS.Immediate | null = null;
  #nodeTimer: NodeJS.Timeout | null = null;
  #nodeTimerWhen = NaN;
  /** Readers taken out of the selector for a while after their callback hit fd exhaustion. */
  #pausedReaders = new Map<number, { handle: IoHandle; timer: TimerHandle }>();
  /** Per fd: the last accept-backoff delay and when that pause ended (loop clock). */
  #readerBackoff = new Map<number, { delay: number; resumedAt: number }>();
  /** sockAccept calls waiting out a backoff: told when the loop closes. */
  #acceptBackoffs = new Set<(error: Error) => void>();
  /** Pending sleep() calls: told when the loop closes. */
  #sleepers = new Set<(error: Error) => void>();
  /** While runUntilComplete waits: called instead of blocking forever with nothing that could wake the loop. */
  #onDeadlock: (() => void) | null = null;

  constructor(selector?: BaseSelector<LoopKeyData>) {
    if (selector !== undefined && !(selector instanceof BaseSelector))
      throw codedError(
        "ERR_INVALID_ARG_TYPE",
        `The "selector" argument must be a selector (DefaultSelector, EpollSelector...). Received ${describe(selector)}`,
        "TypeError",
      );
    const chosen = (selector ?? new DefaultSelector<LoopKeyData>()) as unknown as BaseSelector<IoData>;
    if (chosen.closed) throw codedError("ERR_SELECTOR_CLOSED", "the selector is closed");
    if (chosen.getMap().size !== 0) throw codedError("ERR_INVALID_ARG_VALUE", "the selector must have no registrations: the loop owns it");
    this.#selector = chosen;
    // libkqueue (kqueue on Linux) reads and so clears a socket's pending error when it reports
    // the socket readable: a reset peer would then read as EOF instead of ECONNRESET, so there
    // (and, untested, on the BSDs' kqueue) every read is tried at once.
    this.#skipDrainedRecv = chosen.backend !== "kqueue";
  }

  /** The loop's selector (its keys' data are [reader, writer] handles). */
  get selector(): BaseSelector<LoopKeyData> {
    return this.#selector;
  }

  // ---------------------------------------------------------------- clock and callbacks

  /** The loop's monotonic clock, in seconds (performance.now() / 1000). */
  time(): number {
    return performance.now() / 1000;
  }

  /** Runs `callback(...args)` on a later iteration, in FIFO order. Throws ERR_LOOP_CLOSED after close(). */
  callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle {
    this.#checkClosed();
    checkCallback(callback);
    const handle = new Handle(this, callback as (...args: unknown[]) => unknown, args);
    this.#ready.push(handle);
    if (this.#attached) this.#scheduleBatch();
    return handle;
  }

  /** Runs `callback(...args)` after `delay` seconds. */
  callLater<A extends unknown[]>(delay: number, callback: (...args: A) => unknown, ...args: A): TimerHandle {
    if (typeof delay !== "number" || Number.isNaN(delay))
      throw codedError("ERR_INVALID_ARG_TYPE", `The "delay" argument must be a number of seconds. Received ${describe(delay)}`, "TypeError");
    return this.callAt(this.time() + delay, callback, ...args);
  }

  /** Runs `callback(...args)` at `when` on the loop's clock (see time()). */
  callAt<A extends unknown[]>(when: number, callback: (...args: A) => unknown, ...args: A): TimerHandle {
    this.#checkClosed();
    if (typeof when !== "number" || Number.isNaN(when))
      throw codedError("ERR_INVALID_ARG_TYPE", `The "when" argument must be a number (seconds on the loop's clock). Received ${describe(when)}`, "TypeError");
    checkCallback(callback);
    const handle = new TimerHandle(this, when, callback as (...args: unknown[]) => unknown, args);
    this.#timers.push(handle);
    if (this.#attached) this.#armTimer();
    return handle;
  }

  /**
   * Resolves with `value` after `seconds` on the loop's clock (asyncio.sleep). `sleep(0)` yields
   * exactly one iteration: it settles in the next iteration, after the callbacks scheduled before
   * it. `seconds` is a number >= 0; `Infinity` schedules nothing and settles only through
   * `options.signal` (inside run(), with nothing else pending, that is a deadlock). Aborting
   * rejects with an AbortError (code ABORT_ERR); close() rejects a pending sleep with
   * ERR_LOOP_CLOSED. Rejects with ERR_INVALID_ARG_TYPE (not a number, or NaN), ERR_OUT_OF_RANGE
   * (negative) or ERR_LOOP_CLOSED.
   */
  sleep<T = void>(seconds: number, value?: T, options?: SleepOptions): Promise<T> {
    let signal: AbortSignal | undefined;
    try {
      this.#checkClosed();
      if (typeof seconds !== "number" || Number.isNaN(seconds))
        throw codedError("ERR_INVALID_ARG_TYPE", `The "seconds" argument must be a number of seconds. Received ${describe(seconds)}`, "TypeError");
      if (seconds < 0) throw codedError("ERR_OUT_OF_RANGE", `The "seconds" argument must be >= 0. Received ${seconds}`, "RangeError");
      signal = checkSignal(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      let handle: Handle | null = null;
      const settle = (): void => {
        this.#sleepers.delete(onClose);
        signal?.removeEventListener("abort", onAbort);
      };
      const onClose = (error: Error): void => {
        settle();
        reject(error);
      };
      const onAbort = (): void => {
        settle();
        handle?.cancel();
        reject(abortError(signal!));
      };
      const wake = (): void => {
        settle();
        resolve(value as T);
      };
      if (seconds === 0) handle = this.callSoon(wake);
      else if (seconds !== Infinity) handle = this.callLater(seconds, wake);
      this.#sleepers.add(onClose);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** @internal Bookkeeping for a cancelled timer still in the heap. */
  _timerCancelled(_handle: TimerHandle): void {
    this.#cancelledTimers++;
    if (this.#cancelledTimers > MIN_CANCELLED_TO_COMPACT && this.#cancelledTimers * 2 > this.#timers.size) {
      this.#timers.compact();
      this.#cancelledTimers = 0;
    }
    if (this.#attached) this.#armTimer();
  }

  // ---------------------------------------------------------------- readers and writers

  /**
   * Calls `callback(...args)` whenever `fileobj` (an fd or an object with fileno()) is readable.
   * One reader per fd: a second addReader replaces the first. Returns the reader's handle.
   * Remove a reader (or abort a sock* call) before closing its fd: a closed Socket is noticed at
   * dispatch, but a raw fd number closed behind the loop's back cannot be.
   */
  addReader<A extends unknown[]>(fileobj: FileObj, callback: (...args: A) => unknown, ...args: A): Handle {
    this.#checkClosed();
    const fd = fileobjToFd(fileobj);
    checkCallback(callback);
    const handle = new IoHandle(this, fd, fileobj, callback as (...args: unknown[]) => unknown, args);
    this.#addIo(fileobj, false, handle);
    return handle;
  }

  /** Calls `callback(...args)` whenever `fileobj` is writable. One writer per fd, like addReader. */
  addWriter<A extends unknown[]>(fileobj: FileObj, callback: (...args: A) => unknown, ...args: A): Handle {
    this.#checkClosed();
    const fd = fileobjToFd(fileobj);
    checkCallback(callback);
    const handle = new IoHandle(this, fd, fileobj, callback as (...args: unknown[]) => unknown, args);
    this.#addIo(fileobj, true, handle);
    return handle;
  }

  /** Stops watching `fileobj` for reading; true if a reader was removed (false after close()). */
  removeReader(fileobj: FileObj): boolean {
    if (this.#closed) return false;
    const fd = this.#selector._lookup(fileobj);
    if (this.#unpause(fd)) return true;
    return this.#removeIo(fd, false);
  }

  /** Stops watching `fileobj` for writing; true if a writer was removed (false after close()). */
  removeWriter(fileobj: FileObj): boolean {
    if (this.#closed) return false;
    return this.#removeIo(this.#selector._lookup(fileobj), true);
  }

  #addIo(fileobj: FileObj, write: boolean, handle: IoHandle): void {
    const selector = this.#selector;
    const fd = handle._fd;
    if (!write) this.#unpause(fd);
    const bit = write ? EVENT_WRITE : EVENT_READ;
    const key = this.#key(fd);
    if (key === undefined) {
      selector.register(fileobj, bit, write ? [null, handle] : [handle, null]);
      try {
        this.#ioChanged(fd, bit, false);
      } catch (error) {
        // libuv refused to watch the fd (attached with a watcher per fd): undo the registration.
        selector.unregister(fd);
        throw error;
      }
      return;
    }
    const [reader, writer] = key.data;
    if (this.#isStale(key, fileobj)) {
      // The old object was closed and the fd number reused: the old registration is gone.
      this.#dropKey(key, () => systemError(-EBADF, write ? "send" : "recv"));
      selector.register(fileobj, bit, write ? [null, handle] : [handle, null]);
      this.#ioChanged(fd, bit, true);
      return;
    }
    const events = key.events | bit;
    try {
      selector.modify(fd, events, write ? [reader, handle] : [handle, writer]);
    } catch (error) {
      // The kernel lost the registration (fd closed and reused behind the loop's back): the
      // selector dropped the key; start afresh.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      reader?._drop(() => systemError(-EBADF, "recv"));
      writer?._drop(() => systemError(-EBADF, "send"));
      selector.register(fileobj, bit, write ? [null, handle] : [handle, null]);
      this.#ioChanged(fd, bit, true);
      return;
    }
    this.#ioChanged(fd, events, false);
    const old = write ? writer : reader;
    if (old !== null)
      old._drop(() => codedError("ERR_IO_REPLACED", `another ${write ? "writer" : "reader"} was added for fd ${fd} while this call waited on it`));
  }

  /** Whether a key registered through another object belongs to an object that was closed since. */
  #isStale(key: SelectorKey<IoData>, fileobj: FileObj): boolean {
    const old = key.fileobj;
    if (old === fileobj || typeof old === "number") return false;
    try {
      return old.fileno() !== key.fd;
    } catch {
      return true;
    }
  }

  /** Unregisters a key whose object was closed, dropping both of its handles. */
  #dropKey(key: SelectorKey<IoData>, error: () => Error): void {
    this.#selector.unregister(key.fd);
    key.data[0]?._drop(error);
    key.data[1]?._drop(error);
  }

  #removeIo(fd: number, write: boolean): boolean {
    const selector = this.#selector;
    const key = this.#key(fd);
    if (key === undefined) return false;
    const [reader, writer] = key.data;
    const events = key.events & ~(write ? EVENT_WRITE : EVENT_READ);
    let lost: IoHandle | null = null;
    if (events === 0) {
      selector.unregister(fd);
    } else {
      try {
        selector.modify(fd, events, write ? [reader, null] : [null, writer]);
      } catch {
        // The fd was closed: the selector dropped the key, and with it the other handle.
        lost = write ? reader : writer;
      }
    }
    const removed = write ? writer : reader;
    this.#ioChanged(fd, lost === null ? events : 0, false);
    lost?._drop(() => systemError(-EBADF, write ? "recv" : "send"));
    if (removed === null || this.#parkedHandles.includes(removed)) return false;
    removed._drop(() => codedError("ERR_IO_CANCELLED", `the ${write ? "writer" : "reader"} this call waited on was removed from fd ${fd}`));
    return true;
  }

  /** Parks the registration of a settled sock* call (see #parkedHandles). */
  #park(handle: IoHandle, write: boolean): void {
    handle.cancel();
    this.#parkedHandles.push(handle);
    this.#parkedWrite.push(write);
    // Attached, no iteration may follow soon: sweep after this libuv phase instead.
    if (this.#attached && this.#sweepImmediate === null) this.#sweepImmediate = setImmediate(this.#onSweepImmediate);
  }

  readonly #onSweepImmediate = (): void => {
    this.#sweepImmediate = null;
    this.#sweepParked();
  };

  /** Removes the parked registrations nobody took over. */
  #sweepParked(): void {
    const handles = this.#parkedHandles;
    const writes = this.#parkedWrite;
    this.#parkedHandles = [];
    this.#parkedWrite = [];
    for (let i = 0; i < handles.length; i++) this.#removeIfCurrent(handles[i]!, writes[i]!);
  }

  /** Removes the handle's registration if it still holds it (a settled or aborted sock* call). */
  #removeIfCurrent(handle: IoHandle, write: boolean): void {
    if (this.#closed) return;
    const key = this.#key(handle._fd);
    if (key !== undefined && key.data[write ? 1 : 0] === handle) this.#removeIo(handle._fd, write);
  }

  /**
   * The loop's key for fd, or undefined. A key registered on the loop's selector directly (through
   * `loop.selector`) carries no handles: the loop owns its selector, so it removes such a key and
   * reports it (ERR_FOREIGN_REGISTRATION) instead of failing on it.
   */
  #key(fd: number): SelectorKey<IoData> | undefined {
    const key = this.#selector.getMap().get(fd);
    if (key === undefined || isIoData(key.data)) return key;
    this.#dropForeign(key);
    return undefined;
  }

  #dropForeign(key: SelectorKey<IoData>): void {
    this.#selector.unregister(key.fd);
    this.#ioChanged(key.fd, 0, false);
    this.callExceptionHandler({
      message: `fd ${key.fd} was registered on the loop's selector directly; the loop owns its selector and removed it`,
      exception: codedError("ERR_FOREIGN_REGISTRATION", `fd ${key.fd} was registered on the loop's selector behind the loop's back`),
    });
  }

  /** Takes a reader out of the selector for a backoff delay, then puts it back (if still current). */
  #pauseReader(handle: IoHandle): void {
    const fd = handle._fd;
    const key = this.#closed ? undefined : this.#key(fd);
    if (key === undefined || key.data[0] !== handle) return;
    const now = this.time();
    const last = this.#readerBackoff.get(fd);
    const delay = last !== undefined && now - last.resumedAt < ACCEPT_RETRY_MAX ? Math.min(last.delay * 2, ACCEPT_RETRY_MAX) : ACCEPT_RETRY_MIN;
    const writer = key.data[1];
    if (writer === null) this.#selector.unregister(fd);
    else this.#selector.modify(fd, EVENT_WRITE, [null, writer]);
    this.#ioChanged(fd, writer === null ? 0 : EVENT_WRITE, false);
    const timer = this.callLater(delay, () => {
      this.#pausedReaders.delete(fd);
      this.#readerBackoff.set(fd, { delay, resumedAt: this.time() });
      if (handle.cancelled() || handle._closed()) return;
      this.#addIo(handle._fileobj, false, handle);
    });
    this.#pausedReaders.set(fd, { handle, timer });
  }

  /** Forgets a paused reader of fd (removed or replaced); true if there was one. */
  #unpause(fd: number): boolean {
    const paused = this.#pausedReaders.get(fd);
    if (paused === undefined) return false;
    this.#pausedReaders.delete(fd);
    this.#readerBackoff.delete(fd);
    paused.timer.cancel();
    paused.handle._drop(() => codedError("ERR_IO_CANCELLED", `the reader this call waited on was removed from fd ${fd}`));
    return true;
  }

  // ---------------------------------------------------------------- the iteration

  /** One iteration: wait (unless `mayBlock` is false), queue the ready handles, run them. */
  #runOnce(mayBlock: boolean): void {
    if (this.#parkedHandles.length > 0) this.#sweepParked();
    const timers = this.#timers;
    let timeout: number | null = 0;
    if (mayBlock && this.#ready.length === 0 && !this.#stopping) {
      const head = this.#liveHead();
      timeout = head === undefined || head.when === Infinity ? null : Math.max(0, head.when - this.time());
      // Nothing on the loop can ever fire and Node holds nothing either: the awaited promise can
      // never settle, so runUntilComplete is told instead of waiting forever.
      if (timeout === null && this.#onDeadlock !== null && this.#selector.getMap().size === 0 && native.nodeLoopIdle()) {
        this.#onDeadlock();
        timeout = 0;
      }
    }
    const events = this.#selector.select(timeout);
    const ready = this.#ready;
    for (let i = 0; i < events.length; i++) {
      const [key, mask] = events[i]!;
      if (!isIoData(key.data)) {
        this.#dropForeign(key);
        continue;
      }
      const [reader, writer] = key.data;
      if (mask & EVENT_READ && reader !== null) {
        if (reader.cancelled()) this.#removeIfCurrent(reader, false);
        else ready.push(reader);
      }
      if (mask & EVENT_WRITE && writer !== null) {
        if (writer.cancelled()) this.#removeIfCurrent(writer, true);
        else ready.push(writer);
      }
    }
    if (timers.size > 0) {
      const end = this.time() + CLOCK_RESOLUTION;
      for (let head = timers.peek(); head !== undefined; head = timers.peek()) {
        if (head.cancelled()) {
          timers.pop();
          head._scheduled = false;
          this.#cancelledTimers--;
          continue;
        }
        if (head.when > end) break;
        timers.pop();
        head._scheduled = false;
        ready.push(head);
      }
    }
    if (ready.length === 0) return;
    // Exactly the callbacks ready now; those they schedule wait for the next iteration.
    this.#ready = [];
    this.#dispatching++;
    try {
      for (let i = 0; i < ready.length; i++) {
        const handle = ready[i]!;
        if (handle.cancelled()) continue;
        if (handle instanceof IoHandle && handle._closed()) {
          this.#dropClosed(handle);
          continue;
        }
        handle._run();
      }
    } finally {
      this.#dispatching--;
    }
  }

  /** The earliest live timer, dropping cancelled ones from the top of the heap. */
  #liveHead(): TimerHandle | undefined {
    const timers = this.#timers;
    let head = timers.peek();
    while (head !== undefined && head.cancelled()) {
      timers.pop();
      head._scheduled = false;
      this.#cancelledTimers--;
      head = timers.peek();
    }
    return head;
  }

  /** A ready handle whose Socket was closed: its registration (if still its own) goes away. */
  #dropClosed(handle: IoHandle): void {
    const key = this.#key(handle._fd);
    const error = (): Error => systemError(-EBADF, "select");
    if (key !== undefined && (key.data[0] === handle || key.data[1] === handle)) {
      this.#dropKey(key, error);
      this.#ioChanged(handle._fd, 0, true);
    } else {
      handle._drop(error);
    }
  }

  // ---------------------------------------------------------------- owning the thread

  /**
   * Runs the loop on this thread until stop(). Promise continuations run between iterations, and
   * Node's own work (timers, I/O, setImmediate, worker messages, fs and dns completions) runs
   * whenever it is ready, between two iterations. Rejects with ERR_LOOP_CLOSED, ERR_LOOP_RUNNING
   * (this or another loop owns the thread) or ERR_LOOP_ATTACHED. Nothing is checked for deadlock
   * here: like asyncio's run_forever it runs until stop(), even with nothing to do.
   */
  runForever(): Promise<void> {
    return this.#run(null);
  }

  #run(onDeadlock: (() => void) | null): Promise<void> {
    let poller: NativePoller;
    try {
      this.#checkRunnable();
      poller = this.#selector._poller();
    } catch (error) {
      return Promise.reject(error);
    }
    this.#running = true;
    this.#onDeadlock = onDeadlock;
    ownedLoop = this;
    return new Promise<void>((resolve, reject) => {
      let first = true;
      const iterate = (): boolean => {
        // stop() from a promise continuation between iterations ends the run at once.
        if (this.#stopping && !first) return false;
        first = false;
        this.#runOnce(true);
        return !this.#stopping;
      };
      const done = (error?: unknown): void => {
        if (this.#parkedHandles.length > 0 && !this.#closed) this.#sweepParked();
        this.#running = false;
        this.#stopping = false;
        this.#onDeadlock = null;
        if (ownedLoop === this) ownedLoop = null;
        if (error !== undefined) reject(error);
        else resolve();
      };
      try {
        native.runOwned(iterate, done, poller);
      } catch (error) {
        done(error);
      }
    });
  }

  /**
   * Runs the loop until `future` settles and returns its result (or rejects with its error).
   * `future` is a promise, or a function called with the loop as its first callback (like a
   * coroutine given to asyncio). Rejects with ERR_LOOP_STOPPED if stop() ends the run first, and
   * with ERR_LOOP_DEADLOCK when `future` can never settle: the loop has no ready callbacks, no
   * timers, no readers, writers or signal handlers, and Node's own loop holds nothing that would
   * keep a plain Node process alive (no timer, I/O, server, worker or pending fs/dns request:
   * exactly when Node itself would exit with an unsettled top-level await). An unreferenced Node
   * timer (`.unref()`, AbortSignal.timeout) alone does not count, as it does not for Node.
   */
  async runUntilComplete<T>(future: PromiseLike<T> | ((loop: EventLoop) => T | PromiseLike<T>)): Promise<T> {
    this.#checkRunnable();
    let promise: PromiseLike<T>;
    if (typeof future === "function") {
      promise = new Promise<T>((resolve, reject) => {
        this.callSoon(() => {
          try {
            resolve(future(this));
          } catch (error) {
            reject(error);
          }
        });
      });
    } else if (future !== null && typeof future === "object" && typeof future.then === "function") {
      promise = future;
    } else {
      throw codedError("ERR_INVALID_ARG_TYPE", `runUntilComplete() takes a promise or a function. Received ${describe(future)}`, "TypeError");
    }
    let settled = false;
    let ok = false;
    let value: T | undefined;
    let failure: unknown;
    // A promise that settles after this run ended (stopped early) must not stop a later run.
    let over = false;
    let deadlocked = false;
    Promise.resolve(promise).then(
      (v) => {
        settled = true;
        ok = true;
        value = v;
        if (!over) this.stop();
      },
      (error: unknown) => {
        settled = true;
        failure = error;
        if (!over) this.stop();
      },
    );
    try {
      await this.#run(() => {
        deadlocked = true;
        this.stop();
      });
    } finally {
      over = true;
    }
    if (!settled && deadlocked)
      throw codedError(
        "ERR_LOOP_DEADLOCK",
        "the main coroutine awaits something that can never complete: nothing is scheduled on the event loop (no callbacks, timers, readers, writers or signal handlers) and Node has no pending timers, I/O or other active handles",
      );
    if (!settled) throw codedError("ERR_LOOP_STOPPED", "the event loop stopped before the promise settled");
    if (!ok) throw failure;
    return value as T;
  }

  /**
   * Stops a loop that owns the thread after the current iteration. Called before runForever(),
   * the next run polls once (timeout 0), runs what is ready, and returns (asyncio's rule). No
   * effect on an attached loop (use detach()).
   */
  stop(): void {
    if (this.#attached && !this.#running) return;
    this.#stopping = true;
  }

  /** Whether the loop is running: owning the thread, or attached to Node's loop. */
  isRunning(): boolean {
    return this.#running || this.#attached;
  }

  /** Whether the loop is attached to Node's loop. */
  isAttached(): boolean {
    return this.#attached;
  }

  isClosed(): boolean {
    return this.#closed;
  }

  // ---------------------------------------------------------------- attached to Node's loop

  /**
   * Lets Node's own libuv loop drive this loop: timers, fs, node:net keep working beside it.
   * While it has registrations, timers or ready callbacks, it keeps the process alive (signal
   * handlers alone do not); after detach() the process can exit on its own. Idempotent.
   * Throws ERR_LOOP_CLOSED, or ERR_LOOP_RUNNING while the loop owns the thread.
   */
  attach(): this {
    this.#checkClosed();
    if (this.#running) throw codedError("ERR_LOOP_RUNNING", "the event loop is running on this thread (runForever); it cannot attach");
    if (this.#attached) return this;
    const selector = this.#selector;
    const backend = selector.backend;
    const fileno = (selector as unknown as { fileno?: () => number }).fileno;
    this.#attached = true;
    attachedLoops.push(this);
    this.#stopping = false;
    try {
      if (native.backendFdWatchable[backend] && typeof fileno === "function") {
        this.#backendWatcher = new native.Watcher(fileno.call(selector), (status) => this.#onBackendReady(status));
        this.#watcherActive = false;
        this.#watcherRef = true;
        this.#syncBackendWatcher();
      } else {
        for (const [fd, key] of selector.getMap()) this.#syncFdWatcher(fd, key.events, false);
      }
    } catch (error) {
      this.detach();
      throw error;
    }
    if (this.#ready.length > 0) this.#scheduleBatch();
    this.#armTimer();
    return this;
  }

  /** Stops Node's loop from driving this one; registrations, timers and callbacks stay. Idempotent. */
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    const index = attachedLoops.lastIndexOf(this);
    if (index >= 0) attachedLoops.splice(index, 1);
    if (this.#backendWatcher !== null) {
      this.#backendWatcher.close();
      this.#backendWatcher = null;
      this.#watcherActive = false;
    }
    for (const { watcher } of this.#fdWatchers.values()) watcher.close();
    this.#fdWatchers.clear();
    this.#stoppedWatchers.clear();
    if (this.#immediate !== null) {
      clearImmediate(this.#immediate);
      this.#immediate = null;
    }
    if (this.#nodeTimer !== null) {
      clearTimeout(this.#nodeTimer);
      this.#nodeTimer = null;
      this.#nodeTimerWhen = NaN;
    }
  }

  #onBackendReady(status: number): void {
    if (status < 0) {
      // libuv stopped the handle; a later registration change starts it again.
      this.#watcherActive = false;
      this.callExceptionHandler({ message: "the watcher of the selector's fd failed", exception: systemError(status, "uv_poll") });
      return;
    }
    this.#attachedBatch();
  }

  /** One batch (select with timeout 0) while attached, then re-arm what drives the next one. */
  #attachedBatch(): void {
    if (!this.#attached) return;
    const previous = dispatchingLoop;
    dispatchingLoop = this;
    try {
      this.#runOnce(false);
    } catch (error) {
      this.callExceptionHandler({ message: "Error in the attached event loop's iteration", exception: error });
    } finally {
      dispatchingLoop = previous;
    }
    if (!this.#attached) return;
    if (this.#stoppedWatchers.size > 0) this.#restartWatchers();
    if (this.#ready.length > 0) this.#scheduleBatch();
    this.#armTimer();
  }

  #scheduleBatch(): void {
    if (this.#immediate === null) this.#immediate = setImmediate(this.#onImmediate);
  }

  readonly #onImmediate = (): void => {
    this.#immediate = null;
    this.#attachedBatch();
  };

  readonly #onNodeTimer = (): void => {
    this.#nodeTimer = null;
    this.#nodeTimerWhen = NaN;
    this.#attachedBatch();
  };

  /** Keeps one Node timer armed for the earliest live deadline (none when there is none). */
  #armTimer(): void {
    if (!this.#attached) return;
    const head = this.#liveHead();
    if (head === undefined) {
      if (this.#nodeTimer !== null) {
        clearTimeout(this.#nodeTimer);
        this.#nodeTimer = null;
        this.#nodeTimerWhen = NaN;
      }
      return;
    }
    if (this.#nodeTimer !== null) {
      if (this.#nodeTimerWhen === head.when) return;
      clearTimeout(this.#nodeTimer);
    }
    const delay = Math.min(MAX_NODE_DELAY, Math.max(0, Math.ceil((head.when - this.time()) * 1000)));
    this.#nodeTimerWhen = head.when;
    this.#nodeTimer = setTimeout(this.#onNodeTimer, delay);
  }

  /** Mirrors a registration change into the attached watchers (`events` 0: gone). */
  #ioChanged(fd: number, events: number, recreate: boolean): void {
    if (!this.#attached) return;
    if (this.#backendWatcher !== null) this.#syncBackendWatcher();
    else this.#syncFdWatcher(fd, events, recreate);
  }

  /** The backend watcher runs while anything is registered, and holds the process only for user fds. */
  #syncBackendWatcher(): void {
    const watcher = this.#backendWatcher!;
    const size = this.#selector.getMap().size;
    if (size === 0) {
      if (this.#watcherActive) {
        watcher.stop();
        this.#watcherActive = false;
      }
      return;
    }
    if (!this.#watcherActive) {
      watcher.start(EVENT_READ);
      this.#watcherActive = true;
    }
    const internal = this.#sigRead >= 0 && this.#selector.getMap().has(this.#sigRead) ? 1 : 0;
    const ref = size > internal;
    if (ref !== this.#watcherRef) {
      watcher.setRef(ref);
      this.#watcherRef = ref;
    }
  }

  #syncFdWatcher(fd: number, events: number, recreate: boolean): void {
    let record = this.#fdWatchers.get(fd);
    if (record !== undefined && (recreate || events === 0)) {
      record.watcher.close();
      this.#fdWatchers.delete(fd);
      this.#stoppedWatchers.delete(fd);
      record = undefined;
    }
    if (events === 0) return;
    if (record === undefined) {
      const watcher = new native.Watcher(fd, (status) => this.#onFdReady(fd, status));
      if (fd === this.#sigRead) watcher.setRef(false);
      record = { watcher, events: 0 };
      this.#fdWatchers.set(fd, record);
    }
    if (record.events !== events) {
      record.watcher.start(events);
      record.events = events;
    }
  }

  #onFdReady(fd: number, status: number): void {
    // libuv stops a poll handle that reports an error (POLLERR); restart it after the batch.
    if (status < 0) {
      const record = this.#fdWatchers.get(fd);
      if (record !== undefined) record.events = 0;
      this.#stoppedWatchers.add(fd);
    }
    this.#scheduleBatch();
  }

  #restartWatchers(): void {
    const map = this.#selector.getMap();
    for (const fd of this.#stoppedWatchers) {
      const key = map.get(fd);
      if (key !== undefined) this.#syncFdWatcher(fd, key.events, false);
    }
    this.#stoppedWatchers.clear();
  }

  // ---------------------------------------------------------------- errors

  /** Sets the handler of exceptions thrown by callbacks (null: the default, which prints to stderr). */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null && typeof handler !== "function")
      throw codedError("ERR_INVALID_ARG_TYPE", `The "handler" argument must be a function or null. Received ${describe(handler)}`, "TypeError");
    this.#exceptionHandler = handler;
  }

  getExceptionHandler(): ExceptionHandler | null {
    return this.#exceptionHandler;
  }

  /** Reports `context` to the exception handler; the loop goes on whatever the handler does. */
  callExceptionHandler(context: ExceptionContext): void {
    // A reader whose callback failed for want of fds (an accept callback on a full fd table)
    // would run again at once, its fd still readable: it sits out a backoff delay instead.
    if (context.handle instanceof IoHandle && isExhaustion(context.exception)) this.#pauseReader(context.handle);
    const handler = this.#exceptionHandler;
    if (handler === null) {
      try {
        this.defaultExceptionHandler(context);
      } catch {
        // Even printing failed (a replaced console?): the loop still goes on.
      }
      return;
    }
    try {
      handler(this, context);
    } catch (exception) {
      try {
        this.defaultExceptionHandler({ message: "Unhandled error in exception handler", exception, context });
      } catch {
        // Nothing left to report to.
      }
    }
  }

  /** Prints the context to stderr (asyncio's default_exception_handler). */
  defaultExceptionHandler(context: ExceptionContext): void {
    const lines = [context.message || "Unhandled exception in event loop"];
    for (const [name, value] of Object.entries(context)) {
      if (name === "message" || name === "exception") continue;
      lines.push(`${name}: ${typeof value === "function" ? `[Function ${value.name || "anonymous"}]` : safeString(() => String(value))}`);
    }
    const exception = context.exception;
    if (exception !== undefined) lines.push(safeString(() => (exception instanceof Error && exception.stack ? exception.stack : String(exception))));
    console.error(lines.join("\n"));
  }

  // ---------------------------------------------------------------- signals

  /**
   * Calls `callback(...args)` on the loop each time `signal` ('SIGINT' or a number) arrives; a
   * second handler for the same signal replaces the first. Works in both modes: a native handler
   * writes to a self-pipe the loop reads. While attached, signal handlers alone do not keep the
   * process alive. Throws ERR_UNKNOWN_SIGNAL, or ERR_INVALID_ARG_VALUE for SIGKILL/SIGSTOP.
   */
  addSignalHandler<A extends unknown[]>(signal: NodeJS.Signals | number, callback: (...args: A) => unknown, ...args: A): Handle {
    this.#checkClosed();
    const signo = signalNumber(signal);
    checkCallback(callback);
    const handle = new Handle(this, callback as (...args: unknown[]) => unknown, args);
    if (this.#sigRead < 0) {
      const [r, w] = native.pipe(true);
      this.#sigRead = r;
      this.#sigWrite = w;
      try {
        this.#addIo(r, false, new IoHandle(this, r, r, () => this.#readSignals(), []));
      } catch (error) {
        this.#closeSignalPipe();
        throw error;
      }
    }
    if (!this.#sigHandlers.has(signo)) {
      try {
        native.watchSignal(signo, this.#sigWrite);
      } catch (error) {
        if (this.#sigHandlers.size === 0) this.#closeSignalPipe();
        throw error;
      }
    }
    this.#sigHandlers.get(signo)?.cancel();
    this.#sigHandlers.set(signo, handle);
    return handle;
  }

  /** Removes the handler of `signal` (restoring the previous disposition); true if there was one. */
  removeSignalHandler(signal: NodeJS.Signals | number): boolean {
    const signo = signalNumber(signal);
    const handle = this.#sigHandlers.get(signo);
    if (handle === undefined) return false;
    handle.cancel();
    this.#sigHandlers.delete(signo);
    native.unwatchSignal(signo, this.#sigWrite);
    if (this.#sigHandlers.size === 0) this.#closeSignalPipe();
    return true;
  }

  #readSignals(): void {
    const buffer = this.#sigBuffer;
    for (;;) {
      let n: number;
      try {
        n = readSync(this.#sigRead, buffer, 0, buffer.length, null);
      } catch {
        return; // EAGAIN: drained
      }
      if (n <= 0) return;
      for (let i = 0; i < n; i++) {
        const handle = this.#sigHandlers.get(buffer[i]!);
        if (handle !== undefined && !handle.cancelled()) this.#ready.push(handle);
      }
    }
  }

  #closeSignalPipe(): void {
    const r = this.#sigRead;
    const w = this.#sigWrite;
    if (r < 0) return;
    if (!this.#closed) this.#removeIo(r, false);
    this.#sigRead = -1;
    this.#sigWrite = -1;
    native.close(r);
    native.close(w);
  }

  // ---------------------------------------------------------------- socket calls

  /**
   * Accepts a connection on a listening non-blocking socket: `[socket, address]`, the new socket
   * non-blocking. An aborted accept leaves the pending connection for the next one.
   */
  sockAccept<F extends number>(sock: SocketLike<F>, options?: SockOptions): Promise<[Socket<F>, SocketAddressOf<F>]>;
  sockAccept(sock: SocketLike, options?: SockOptions): Promise<[Socket, SocketAddress]> {
    let fd: number;
    try {
      fd = this.#prepare(sock, "accept", options);
    } catch (error) {
      return Promise.reject(error);
    }
    const step = (): [Socket, SocketAddress] | typeof AGAIN => {
      const r = native.acceptAddress(fd, true);
      if (typeof r === "number") {
        // ECONNABORTED: that connection was reset before we took it; wait for the next.
        if (wouldBlock(r) || r === -ECONNABORTED) return AGAIN;
        throw systemError(r, "accept");
      }
      // Non-blocking whatever the default timeout (asyncio's sock_accept calls setblocking(False)).
      // A Socket's family, type and proto are checked already: its accepted fd is wrapped as is.
      if (sock instanceof Socket) return [wrapNewFd(sock.family, sock.type, sock.proto, r[0], 0), r[1]];
      let accepted: Socket | undefined;
      try {
        accepted = new Socket(sock.family, sock.type, sock.proto ?? 0, r[0]);
        accepted.setblocking(false);
        return [accepted, r[1]];
      } catch (error) {
        if (accepted !== undefined) accepted.close();
        else native.close(r[0]);
        throw error;
      }
    };
    // Out of fds (EMFILE, ENFILE) or memory: the error goes to the exception handler and the call
    // waits, retrying after a growing delay, so a server does not spin on a readable listener.
    const signal = options?.signal;
    let delay = ACCEPT_RETRY_MIN;
    const tryAccept = (): Promise<[Socket, SocketAddress]> =>
      this.#attempt(sock, fd, false, step, signal).catch((error: unknown) => {
        if (!isExhaustion(error) || this.#closed) throw error;
        this.callExceptionHandler({ message: `sockAccept(): accept failed, retrying in ${delay} s`, exception: error, socket: sock });
        return new Promise<void>((resolve, reject) => {
          const settle = (): void => {
            this.#acceptBackoffs.delete(reject);
            signal?.removeEventListener("abort", onAbort);
          };
          const onAbort = (): void => {
            settle();
            timer.cancel();
            reject(abortError(signal!));
          };
          const timer = this.callLater(delay, () => {
            settle();
            resolve();
          });
          delay = Math.min(delay * 2, ACCEPT_RETRY_MAX);
          this.#acceptBackoffs.add(reject);
          signal?.addEventListener("abort", onAbort, { once: true });
        }).then(tryAccept);
      });
    return tryAccept();
  }

  /** Receives up to `n` bytes: a Buffer, empty at end of stream. */
  sockRecv(sock: SocketLike, n: number, options?: SockOptions): Promise<Buffer> {
    let fd: number;
    try {
      fd = this.#prepare(sock, "recv", options);
      checkBufsize(n, "n");
    } catch (error) {
      return Promise.reject(error);
    }
    const stream = sock.type === SOCK_STREAM;
    const step = (): Buffer | typeof AGAIN => {
      const r = recvBytes(fd, n);
      if (typeof r !== "number") {
        if (stream) this.#noteRead(fd, r.length, n);
        return r;
      }
      if (wouldBlock(r)) return AGAIN;
      throw systemError(r, "recv");
    };
    return this.#attemptRead(sock, fd, step, options?.signal);
  }

  /** Receives into `buffer` (any ArrayBufferView, filled from its start): the byte count, 0 at end of stream. */
  sockRecvInto(sock: SocketLike, buffer: BufferLike, options?: SockOptions): Promise<number> {
    let fd: number;
    let length: number;
    try {
      fd = this.#prepare(sock, "recv", options);
      length = intoLength(buffer, undefined);
    } catch (error) {
      return Promise.reject(error);
    }
    const stream = sock.type === SOCK_STREAM;
    const step = (): number | typeof AGAIN => {
      const r = native.recv(fd, buffer, 0, length);
      if (r >= 0) {
        if (stream) this.#noteRead(fd, r, length);
        return r;
      }
      if (wouldBlock(r)) return AGAIN;
      throw systemError(r, "recv");
    };
    return this.#attemptRead(sock, fd, step, options?.signal);
  }

  /** Records whether a stream read drained the socket (see #drained). */
  #noteRead(fd: number, got: number, asked: number): void {
    if (got > 0 && got < asked && this.#skipDrainedRecv) this.#drained.add(fd);
    else this.#drained.delete(fd);
  }

  /** #attempt for a stream read, which waits at once on an fd its last read drained. */
  #attemptRead<T>(sock: SocketLike, fd: number, step: Step<T>, signal: AbortSignal | undefined): Promise<T> {
    if (this.#drained.delete(fd)) return this.#wait(sock, fd, false, step, signal);
    return this.#attempt(sock, fd, false, step, signal);
  }

  /**
   * Receives up to `n` bytes and the sender's address: `[data, address]` (asyncio's
   * sock_recvfrom). The address is null where the kernel reports none (a connected stream).
   */
  sockRecvfrom<F extends number>(sock: SocketLike<F>, n: number, options?: SockOptions): Promise<[Buffer, SocketAddressOf<F> | null]>;
  sockRecvfrom(sock: SocketLike, n: number, options?: SockOptions): Promise<[Buffer, SocketAddress | null]> {
    let fd: number;
    try {
      fd = this.#prepare(sock, "recvfrom", options);
      checkBufsize(n, "n");
    } catch (error) {
      return Promise.reject(error);
    }
    const step = (): [Buffer, SocketAddress | null] | typeof AGAIN => {
      const r = recvfromBytes(fd, n);
      if (typeof r !== "number") return r;
      if (wouldBlock(r)) return AGAIN;
      throw systemError(r, "recvfrom");
    };
    return this.#attempt(sock, fd, false, step, options?.signal);
  }

  /**
   * Receives into `buffer` (its first `nbytes` bytes; 0 or omitted: all of it) with the sender's
   * address: `[count, address]` (asyncio's sock_recvfrom_into).
   */
  sockRecvfromInto<F extends number>(
    sock: SocketLike<F>,
    buffer: BufferLike,
    nbytes?: number,
    options?: SockOptions,
  ): Promise<[number, SocketAddressOf<F> | null]>;
  sockRecvfromInto(sock: SocketLike, buffer: BufferLike, nbytes?: number, options?: SockOptions): Promise<[number, SocketAddress | null]> {
    let fd: number;
    let length: number;
    try {
      fd = this.#prepare(sock, "recvfrom", options);
      length = intoLength(buffer, nbytes);
    } catch (error) {
      return Promise.reject(error);
    }
    const step = (): [number, SocketAddress | null] | typeof AGAIN => {
      const r = native.recvfrom(fd, buffer, 0, length);
      if (typeof r !== "number") return r;
      if (wouldBlock(r)) return AGAIN;
      throw systemError(r, "recvfrom");
    };
    return this.#attempt(sock, fd, false, step, options?.signal);
  }

  /**
   * Sends `data` as one datagram to `address` and resolves with the count (asyncio's
   * sock_sendto). Addresses as sockConnect takes them; host names are resolved with node:dns while
   * attached, with a blocking getaddrinfo while the loop owns the thread.
   */
  sockSendto<F extends number>(sock: SocketLike<F>, data: string | BufferLike, address: AddressInputOf<F>, options?: SockOptions): Promise<number>;
  sockSendto(sock: SocketLike, data: string | BufferLike, address: ConnectAddress, options?: SockOptions): Promise<number> {
    let fd: number;
    let view: BufferLike;
    let args: [string, number?, number?, number?];
    try {
      fd = this.#prepare(sock, "sendto", options);
      view = toBytes(data);
      args = this.#connectArgs(sock.family, address);
    } catch (error) {
      return Promise.reject(error);
    }
    const send = (target: number): Promise<number> => {
      const step = (): number | typeof AGAIN => {
        const r = native.sendto(target, view, undefined, undefined, undefined, sock.family, ...args);
        if (r >= 0) return r;
        if (wouldBlock(r)) return AGAIN;
        throw systemError(r, "sendto");
      };
      return this.#attempt(sock, target, true, step, options?.signal);
    };
    if (this.#resolvesWithDns(sock, args[0])) return this.#resolve(sock, args).then(() => send(this.#prepare(sock, "sendto", options)));
    return send(fd);
  }

  /**
   * Sends all of `data` (a string is sent as UTF-8), continuing partial writes each time the
   * socket is writable. Do not change `data` until the promise settles. If the call fails or is
   * aborted, part of the data may have been sent.
   */
  sockSendall(sock: SocketLike, data: string | BufferLike, options?: SockOptions): Promise<void> {
    let fd: number;
    let view: BufferLike;
    try {
      fd = this.#prepare(sock, "send", options);
      view = toBytes(data);
    } catch (error) {
      return Promise.reject(error);
    }
    const length = view.byteLength;
    let sent = 0;
    const step = (): void | typeof AGAIN => {
      if (sent === length) return undefined;
      const r = native.send(fd, view, sent, length - sent);
      if (r < 0) {
        if (wouldBlock(r)) return AGAIN;
        throw systemError(r, "send");
      }
      sent += r;
      return sent === length ? undefined : AGAIN;
    };
    return this.#attempt(sock, fd, true, step, options?.signal);
  }

  /**
   * Sends a file on a non-blocking SOCK_STREAM socket (asyncio's sock_sendfile): `count` bytes (all
   * of the rest when omitted) from `offset` (default 0), continuing each time the socket is
   * writable; resolves with the number sent, fewer than `count` only at the end of the file. `file`
   * is an fd or a node:fs/promises FileHandle, read from `offset` without using or moving its
   * position, as Socket.sendfile: sendfile(2) on Linux, pread + send elsewhere. A rejection with a
   * system error carries `bytesSent`; an aborted call may have sent part of the file.
   */
  sockSendfile(sock: SocketLike, file: SendfileSource, offset?: number, count?: number, options?: SockOptions): Promise<number> {
    let fd: number;
    let args: SendfileArgs;
    try {
      fd = this.#prepare(sock, "sendfile", options);
      args = sendfileArgs(sock.type, file, offset, count);
    } catch (error) {
      return Promise.reject(error);
    }
    let sent = 0;
    const step = (): number | typeof AGAIN => {
      const want = sendfileChunk(args, sent);
      if (want === 0) return sent;
      const r = native.sendfile(fd, args.fileFd, args.offset + sent, want);
      if (r === 0) return sent;
      if (r > 0) {
        sent += r;
        return sendfileChunk(args, sent) === 0 ? sent : AGAIN;
      }
      if (wouldBlock(r)) return AGAIN;
      throw withBytesSent(systemError(r, "sendfile"), sent);
    };
    return this.#attempt(sock, fd, true, step, options?.signal);
  }

  /**
   * Connects a non-blocking socket: `[host, port]` (IPv4), `[host, port, flowinfo?, scopeId?]`
   * (IPv6) or a path (AF_UNIX). Host names are resolved: with node:dns while attached, with a
   * blocking getaddrinfo while the loop owns the thread (see #resolvesWithDns). A refused
   * connection rejects with code ECONNREFUSED.
   */
  sockConnect<F extends number>(sock: SocketLike<F>, address: AddressInputOf<F>, options?: SockOptions): Promise<void>;
  sockConnect(sock: SocketLike, address: ConnectAddress, options?: SockOptions): Promise<void> {
    let fd: number;
    let args: [string, number?, number?, number?];
    try {
      fd = this.#prepare(sock, "connect", options);
      args = this.#connectArgs(sock.family, address);
    } catch (error) {
      return Promise.reject(error);
    }
    const host = args[0];
    if (this.#resolvesWithDns(sock, host))
      return this.#resolve(sock, args).then(() => this.#connect(sock, this.#prepare(sock, "connect", options), args, host, options?.signal));
    return this.#connect(sock, fd, args, host, options?.signal);
  }

  /**
   * Whether a host name is resolved with node:dns (attached, not an IP literal) before a connect or
   * sendto. While the loop owns the thread the syscall's own getaddrinfo resolves it, blocking the
   * loop for the lookup: this predates Node's work running inside the owned loop, where node:dns
   * would now work too (its errors have other codes: ENOTFOUND where getaddrinfo gives EAI_*).
   */
  #resolvesWithDns(sock: SocketLike, host: string): boolean {
    return sock.family !== AF_UNIX && host !== "" && isIP(host) === 0 && this.#attached && ownedLoop !== this;
  }

  /** Replaces args[0], a host name, by its address from node:dns (the caller checks the loop, socket and signal again after). */
  async #resolve(sock: SocketLike, args: [string, number?, number?, number?]): Promise<void> {
    const { address } = await lookup(args[0], { family: sock.family === AF_INET6 ? 6 : 4 });
    args[0] = address;
  }

  #connectArgs(family: number, address: unknown): [string, number?, number?, number?] {
    if (family === AF_UNIX) {
      if (typeof address !== "string")
        throw codedError("ERR_INVALID_ARG_TYPE", `an AF_UNIX address must be a path string. Received ${describe(address)}`, "TypeError");
      return [address];
    }
    const max = family === AF_INET6 ? 4 : 2;
    if (!Array.isArray(address) || address.length < 2 || address.length > max || typeof address[0] !== "string" || typeof address[1] !== "number")
      throw codedError(
        "ERR_INVALID_ARG_TYPE",
        `the address must be [host, port${max === 4 ? ", flowinfo?, scopeId?" : ""}]. Received ${describe(address)}`,
        "TypeError",
      );
    return [...(address as [string, number, number?, number?])];
  }

  #connect(sock: SocketLike, fd: number, args: [string, number?, number?, number?], label: string, signal: AbortSignal | undefined): Promise<void> {
    const port = args[1];
    let r: number;
    try {
      r = native.connect(fd, sock.family, ...(args as [string, number?, number?, number?]));
    } catch (error) {
      return Promise.reject(error);
    }
    if (r === 0) return Promise.resolve();
    if (r !== -EINPROGRESS && !wouldBlock(r)) return Promise.reject(connectError(r, label, port));
    // On loopback a refusal is often known already: report it without a wait.
    let err: number;
    try {
      err = native.getsockopt(fd, C.SOL_SOCKET, C.SO_ERROR);
    } catch (error) {
      return Promise.reject(error);
    }
    if (err !== 0 && err !== EINPROGRESS && err !== EAGAIN && err !== EINTR) return Promise.reject(connectError(-err, label, port));
    const step = (): void | typeof AGAIN => {
      const soError = native.getsockopt(fd, C.SOL_SOCKET, C.SO_ERROR);
      if (soError === EINPROGRESS || soError === EAGAIN || soError === EINTR) return AGAIN;
      if (soError !== 0) throw connectError(-soError, label, port);
      // Writable with no pending error: connected, unless the backend read (and so cleared) the
      // error first, as libkqueue does. Then connect() once more reports the failure.
      try {
        native.getpeername(fd);
        return undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOTCONN") throw error;
      }
      const again = native.connect(fd, sock.family, ...args);
      if (again === 0 || again === -C.EISCONN) return undefined;
      if (again === -EINPROGRESS || again === -C.EALREADY || wouldBlock(again)) return AGAIN;
      throw connectError(again, label, port);
    };
    return this.#wait(sock, fd, true, step, signal);
  }

  /** Checks a sock* call's arguments and the loop; returns the fd. */
  #prepare(sock: SocketLike, op: string, options: SockOptions | undefined): number {
    this.#checkClosed();
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
    if (fd < 0) throw systemError(-EBADF, op);
    if (sock.getblocking())
      throw codedError("ERR_SOCKET_BLOCKING", `the socket must be non-blocking for loop.sock${op[0]!.toUpperCase()}${op.slice(1)}(): call setblocking(false)`);
    return fd;
  }

  /** Tries `step` at once; if it would block, waits for readiness (see #wait). */
  #attempt<T>(sock: SocketLike, fd: number, write: boolean, step: Step<T>, signal: AbortSignal | undefined): Promise<T> {
    let result: T | typeof AGAIN;
    try {
      result = step();
    } catch (error) {
      return Promise.reject(error);
    }
    if (result !== AGAIN) return Promise.resolve(result);
    return this.#wait(sock, fd, write, step, signal);
  }

  /**
   * Registers `step` as the fd's reader (or writer) until it returns something other than AGAIN
   * or throws; the registration is removed as soon as the call settles or is aborted.
   */
  #wait<T>(sock: SocketLike, fd: number, write: boolean, step: Step<T>, signal: AbortSignal | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (park: boolean): void => {
        settled = true;
        handle._onDrop = null; // removing our own registration must not build a drop error
        signal?.removeEventListener("abort", onAbort);
        if (park && !this.#closed) this.#park(handle, write);
        else this.#removeIfCurrent(handle, write);
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
      const handle = new IoHandle(this, fd, sock, onReady, []);
      handle._onDrop = (error) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      };
      try {
        this.#checkClosed();
        this.#addIo(sock, write, handle);
      } catch (error) {
        settled = true;
        reject(error);
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  // ---------------------------------------------------------------- lifetime

  /**
   * Closes the loop: detaches it, removes its signal handlers, drops every callback, timer,
   * reader and writer (a pending sock* call or sleep rejects with ERR_LOOP_CLOSED) and closes
   * the selector. Idempotent. Throws ERR_LOOP_RUNNING while it owns the thread or runs a callback.
   */
  close(): void {
    if (this.#running || this.#dispatching > 0) throw codedError("ERR_LOOP_RUNNING", "cannot close a running event loop");
    if (this.#closed) return;
    this.detach();
    for (const signo of this.#sigHandlers.keys()) native.unwatchSignal(signo, this.#sigWrite);
    this.#sigHandlers.clear();
    this.#closeSignalPipe();
    this.#closed = true;
    const error = (): Error => codedError("ERR_LOOP_CLOSED", "the event loop was closed");
    const keys = [...this.#selector.getMap().values()];
    this.#selector.close();
    for (const key of keys) {
      if (!isIoData(key.data)) continue;
      key.data[0]?._drop(error);
      key.data[1]?._drop(error);
    }
    for (const handle of this.#ready) handle.cancel();
    this.#ready = [];
    for (const handle of this.#timers.clear()) handle.cancel();
    this.#cancelledTimers = 0;
    for (const { handle } of this.#pausedReaders.values()) handle._drop(error);
    this.#pausedReaders.clear();
    for (const reject of this.#acceptBackoffs) reject(error());
    this.#acceptBackoffs.clear();
    this.#drained.clear();
    for (const reject of [...this.#sleepers]) reject(error());
    this.#sleepers.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #checkClosed(): void {
    if (this.#closed) throw codedError("ERR_LOOP_CLOSED", "the event loop is closed");
  }

  #checkRunnable(): void {
    this.#checkClosed();
    if (this.#attached) throw codedError("ERR_LOOP_ATTACHED", "the event loop is attached to Node's loop: detach() it before runForever()/runUntilComplete()");
    if (this.#running) throw codedError("ERR_LOOP_RUNNING", "the event loop is already running");
    if (ownedLoop !== null) throw codedError("ERR_LOOP_RUNNING", "another event loop owns this thread");
  }

  // asyncio layer (lib/asyncio/): thin delegations, documented there.

  /** asyncio's create_server (lib/asyncio/connections.ts). */
  createServer(
    protocolFactory: asyncio.ProtocolFactory<asyncio.StreamProtocol>,
    host?: string | readonly string[] | null,
    port?: number | null,
    options?: asyncio.CreateServerOptions,
  ): Promise<asyncio.Server> {
    return asyncio.createServer(this, protocolFactory, host, port, options);
  }
  /** asyncio's create_connection: [transport, protocol] once connectionMade ran (lib/asyncio/connections.ts). */
  createConnection<P extends asyncio.StreamProtocol>(
    protocolFactory: asyncio.ProtocolFactory<P>,
    host?: string | null,
    port?: number | null,
    options?: asyncio.CreateConnectionOptions,
  ): Promise<[asyncio.Transport, P]> {
    return asyncio.createConnection(this, protocolFactory, host, port, options);
  }
  /** asyncio's create_unix_server (lib/asyncio/connections.ts). */
  createUnixServer(
    protocolFactory: asyncio.ProtocolFactory<asyncio.StreamProtocol>,
    path?: string | null,
    options?: asyncio.CreateUnixServerOptions,
  ): Promise<asyncio.Server> {
    return asyncio.createUnixServer(this, protocolFactory, path, options);
  }
  /** asyncio's create_unix_connection (lib/asyncio/connections.ts). */
  createUnixConnection<P extends asyncio.StreamProtocol>(
    protocolFactory: asyncio.ProtocolFactory<P>,
    path?: string | null,
    options?: asyncio.CreateUnixConnectionOptions,
  ): Promise<[asyncio.Transport, P]> {
    return asyncio.createUnixConnection(this, protocolFactory, path, options);
  }
  /** asyncio's create_datagram_endpoint (lib/asyncio/datagram.ts). */
  createDatagramEndpoint<P extends asyncio.DatagramProtocol>(
    protocolFactory: asyncio.ProtocolFactory<P>,
    options?: asyncio.DatagramEndpointOptions,
  ): Promise<[asyncio.DatagramTransport, P]> {
    return asyncio.createDatagramEndpoint(this, protocolFactory, options);
  }
  /** An AbortSignal aborted after `seconds` on this loop's clock, reason ETIMEDOUT (lib/asyncio/timeouts.ts). */
  timeout(seconds: number): AbortSignal {
    return asyncio.loopTimeout(this, seconds);
  }
}
