/**
 * lib/loop/base.ts — the core every part of the EventLoop shares (asyncio's BaseEventLoop): the
 * ready queue, the timers and the reader/writer registry, the loop's state (closed, running,
 * stopping, dispatching), one iteration (#runOnce: wait, queue what is ready, run exactly that),
 * the exception handler, and the waiters a close() rejects. The two drivers (owned.ts,
 * attached.ts), the signal handlers (signals.ts) and the sock* calls (sock.ts) work on a LoopCore;
 * the public EventLoop (loop.ts) holds one and delegates to it.
 *
 * Dispatch follows CPython's selector_events: a batch first queues the handles of every ready key
 * and every due timer, then runs exactly what was ready at that point. A handle removed, replaced,
 * or whose Socket was closed before its turn in the batch does not run (its cancellation or its
 * Socket's fileno() tells), so a stale event never reaches a new registration that reuses the fd.
 */
import { argTypeError, describe, safeString } from "../args.js";
import { codedError, type CodedError } from "../errors.js";
import type { BaseSelector } from "../selectors.js";
import { IoHandle, type ExceptionContext, type Handle, type HandleOwner, type TimerHandle } from "./handles.js";
import { IoRegistry, isExhaustion, type IoData, type IoHost } from "./io.js";
import { Timers } from "./timers.js";

/** Timers due within this many seconds of now run in this iteration (asyncio's clock resolution). */
const CLOCK_RESOLUTION = 1e-6;

/** @internal What the loop object itself provides to its core. */
export interface LoopObject extends HandleOwner {
  defaultExceptionHandler(context: ExceptionContext): void;
  callSoon(callback: () => void): Handle;
  callLater(delay: number, callback: () => void): TimerHandle;
  time(): number;
  stop(): void;
}

/** @internal What the attached driver does when the loop's work changes (nothing while not attached). */
export interface DriverHooks {
  /** Ready callbacks were queued: run a batch soon. */
  readyAdded(): void;
  /** The earliest timer may have changed. */
  timersChanged(): void;
  /** A registration changed (`events` 0: gone; `recreate`: the fd may be another file now). */
  ioChanged(fd: number, events: number, recreate: boolean): void;
  /** A settled sock* call's registration was parked: sweep it after this libuv phase. */
  parked(): void;
}

/** @internal The state and the iteration shared by the parts of one EventLoop. */
export class LoopCore<L extends LoopObject> implements IoHost {
  readonly loop: L;
  readonly io: IoRegistry;
  readonly timers = new Timers();
  ready: Handle[] = [];
  closed = false;
  /** Owning the thread (runForever/runUntilComplete). */
  running = false;
  stopping = false;
  /** How many batches are running callbacks now (close() refuses meanwhile). */
  dispatching = 0;
  /** The attached driver while attached, else null. */
  hooks: DriverHooks | null = null;
  /** The read end of the signal wakeup pipe while there is one, else -1 (it alone keeps no process alive). */
  wakeupFd = -1;
  /** While runUntilComplete waits: called instead of blocking forever with nothing that could wake the loop. */
  onDeadlock: (() => void) | null = null;
  /** Pending sleep() calls and sockAccept backoffs: told when the loop closes. */
  readonly closeWaiters = new Set<(error: Error) => void>();
  exceptionHandler: ((loop: L, context: ExceptionContext) => void) | null = null;

  constructor(loop: L, selector: BaseSelector<IoData>) {
    this.loop = loop;
    this.io = new IoRegistry(selector, this);
  }

  get selector(): BaseSelector<IoData> {
    return this.io.selector;
  }

  get attached(): boolean {
    return this.hooks !== null;
  }

  checkClosed(): void {
    if (this.closed) throw codedError("ERR_LOOP_CLOSED", "the event loop is closed");
  }

  /** Queues a callback for the next iteration. */
  push(handle: Handle): void {
    this.ready.push(handle);
    this.hooks?.readyAdded();
  }

  // IoHost and the timers' owner.
  ioChanged(fd: number, events: number, recreate: boolean): void {
    this.hooks?.ioChanged(fd, events, recreate);
  }
  parked(): void {
    this.hooks?.parked();
  }
  timersChanged(): void {
    this.hooks?.timersChanged();
  }
  callLater(delay: number, callback: () => void): TimerHandle {
    return this.loop.callLater(delay, callback);
  }
  time(): number {
    return this.loop.time();
  }
  isClosed(): boolean {
    return this.closed;
  }

  /** One iteration: wait (unless `mayBlock` is false), queue the ready handles, run them. */
  runOnce(mayBlock: boolean): void {
    const io = this.io;
    if (io.hasParked) io.sweepParked();
    const timers = this.timers;
    let timeout: number | null = 0;
    if (mayBlock && this.ready.length === 0 && !this.stopping) {
      const head = timers.liveHead();
      timeout = head === undefined || head.when === Infinity ? null : Math.max(0, head.when - this.time());
      // Nothing on the loop can ever fire and Node holds nothing either: the awaited promise can
      // never settle, so runUntilComplete is told instead of waiting forever.
      if (timeout === null && this.onDeadlock !== null && this.selector._pendingCount(true) === 0 && this.selector._nodeLoopIdle()) {
        this.onDeadlock();
        timeout = 0;
      }
    }
    const ready = this.ready;
    io.collect(this.selector.select(timeout), ready);
    if (timers.size > 0) timers.popDue(this.time() + CLOCK_RESOLUTION, ready);
    if (ready.length === 0) return;
    // Exactly the callbacks ready now; those they schedule wait for the next iteration.
    this.ready = [];
    this.dispatching++;
    try {
      for (let i = 0; i < ready.length; i++) {
        const handle = ready[i]!;
        if (handle.cancelled()) continue;
        if (handle instanceof IoHandle && handle._closed()) {
          io.dropClosed(handle);
          continue;
        }
        handle._run();
      }
    } finally {
      this.dispatching--;
    }
  }

  /** Reports `context` to the exception handler; the loop goes on whatever the handler does. */
  callExceptionHandler(context: ExceptionContext): void {
    // A reader whose callback failed for want of fds (an accept callback on a full fd table)
    // would run again at once, its fd still readable: it sits out a backoff delay instead.
    if (context.handle instanceof IoHandle && isExhaustion(context.exception)) this.io.pauseReader(context.handle);
    const handler = this.exceptionHandler;
    if (handler === null) {
      try {
        this.loop.defaultExceptionHandler(context);
      } catch {
        // Even printing failed (a replaced console?): the loop still goes on.
      }
      return;
    }
    try {
      handler(this.loop, context);
    } catch (exception) {
      try {
        this.loop.defaultExceptionHandler({ message: "Unhandled error in exception handler", exception, context });
      } catch {
        // Nothing left to report to.
      }
    }
  }

  /**
   * The end of close(), once the drivers and signals are gone: the selector closes, and every
   * callback, timer, reader, writer and waiter is dropped (a waiting call rejects with ERR_LOOP_CLOSED).
   */
  close(): void {
    this.closed = true;
    const error = (): Error => codedError("ERR_LOOP_CLOSED", "the event loop was closed");
    const keys = [...this.selector.getMap().values()];
    this.selector.close();
    this.io.close(keys, error);
    for (const handle of this.ready) handle.cancel();
    this.ready = [];
    for (const handle of this.timers.clear()) handle.cancel();
    for (const reject of [...this.closeWaiters]) reject(error());
    this.closeWaiters.clear();
  }
}

/** Options of sleep(). */
export interface SleepOptions {
  /** Aborting rejects the sleep with an AbortError and cancels its timer. */
  signal?: AbortSignal;
}

/** @internal EventLoop#sleep on `core` (see there). */
export function sleepOn<T, L extends LoopObject>(core: LoopCore<L>, seconds: number, value: T | undefined, options: SleepOptions | undefined): Promise<T> {
  let signal: AbortSignal | undefined;
  try {
    core.checkClosed();
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
      core.closeWaiters.delete(onClose);
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
    if (seconds === 0) handle = core.loop.callSoon(wake);
    else if (seconds !== Infinity) handle = core.loop.callLater(seconds, wake);
    core.closeWaiters.add(onClose);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** @internal Prints an exception context to stderr (asyncio's default_exception_handler). */
export function printException(context: ExceptionContext): void {
  const lines = [context.message || "Unhandled exception in event loop"];
  for (const [name, value] of Object.entries(context)) {
    if (name === "message" || name === "exception") continue;
    lines.push(`${name}: ${typeof value === "function" ? `[Function ${value.name || "anonymous"}]` : safeString(() => String(value))}`);
  }
  const exception = context.exception;
  if (exception !== undefined) lines.push(safeString(() => (exception instanceof Error && exception.stack ? exception.stack : String(exception))));
  console.error(lines.join("\n"));
}

/** @internal The AbortError a call rejects with when its signal aborts. */
export function abortError(signal: AbortSignal): CodedError {
  const error = new Error("The operation was aborted", { cause: signal.reason }) as CodedError;
  error.name = "AbortError";
  error.code = "ABORT_ERR";
  return error;
}

/** @internal options.signal checked: undefined or an AbortSignal that has not aborted yet (else an AbortError). */
export function checkSignal(options: { signal?: AbortSignal } | undefined): AbortSignal | undefined {
  const signal = options?.signal;
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal))
    throw codedError("ERR_INVALID_ARG_TYPE", `The "options.signal" property must be an AbortSignal. Received ${describe(signal)}`, "TypeError");
  if (signal.aborted) throw abortError(signal);
  return signal;
}

/** @internal The "callback" argument: a function. */
export function checkCallback(callback: unknown): asserts callback is (...args: unknown[]) => unknown {
  if (typeof callback !== "function") throw argTypeError("callback", "of type function", callback);
}
