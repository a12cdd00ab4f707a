/**
 * lib/loop/handles.ts — the callback handles of the EventLoop (asyncio's Handle and TimerHandle)
 * and the loop's reader/writer handle (IoHandle).
 *
 * A Handle is one scheduled call: callback + arguments, cancellable. Running it never throws:
 * an exception (or the rejection of a returned promise) goes to the loop's exception handler.
 * A TimerHandle also has a deadline (`when`, the loop's clock in seconds).
 */

/** What a Handle needs from its loop: where to report errors, and whom to tell of a cancelled timer. */
export interface HandleOwner {
  callExceptionHandler(context: ExceptionContext): void;
  /** @internal */
  _timerCancelled(handle: TimerHandle): void;
}

/** The context given to an exception handler (asyncio's context dict). */
export interface ExceptionContext {
  /** What happened, e.g. "Exception in callback onReadable()". */
  message: string;
  /** The thrown value, when there is one. */
  exception?: unknown;
  /** The handle whose callback failed. */
  handle?: Handle;
  /** The callback that failed. */
  callback?: (...args: never[]) => unknown;
  [key: string]: unknown;
}

type AnyCallback = (...args: unknown[]) => unknown;

function callbackName(callback: AnyCallback): string {
  return callback.name ? callback.name : "<anonymous>";
}

/** One scheduled callback (asyncio.Handle): returned by callSoon, addReader, addWriter. */
export class Handle {
  #callback: AnyCallback;
  #args: unknown[];
  #owner: HandleOwner;
  #cancelled = false;

  /**
   * Handles are created by the loop (callSoon, addReader...), not by user code. (Not @internal:
   * stripped from the declarations, it would leave them a no-argument constructor.)
   */
  constructor(owner: HandleOwner, callback: AnyCallback, args: unknown[]) {
    this.#owner = owner;
    this.#callback = callback;
    this.#args = args;
  }

  /** The scheduled callback. */
  get callback(): (...args: never[]) => unknown {
    return this.#callback;
  }

  /** Cancels the call; a cancelled handle never runs. Idempotent. */
  cancel(): void {
    this.#cancelled = true;
  }

  /** Whether cancel() was called (or the loop dropped the handle). */
  cancelled(): boolean {
    return this.#cancelled;
  }

  /** @internal Runs the callback; errors go to the exception handler. */
  _run(): void {
    const callback = this.#callback;
    try {
      const args = this.#args;
      const result = args.length === 0 ? callback() : callback(...args);
      if (result !== undefined && result !== null && typeof (result as PromiseLike<unknown>).then === "function") {
        (result as PromiseLike<unknown>).then(undefined, (exception: unknown) => {
          this.#owner.callExceptionHandler({ message: `Unhandled rejection in callback ${callbackName(callback)}()`, exception, handle: this, callback });
        });
      }
    } catch (exception) {
      this.#owner.callExceptionHandler({ message: `Exception in callback ${callbackName(callback)}()`, exception, handle: this, callback });
    }
  }

  toString(): string {
    return `<Handle ${callbackName(this.#callback)}()${this.#cancelled ? " cancelled" : ""}>`;
  }
}

let sequence = 0;

/** A callback scheduled at a time (asyncio.TimerHandle): returned by callLater and callAt. */
export class TimerHandle extends Handle {
  readonly #when: number;
  #owner: HandleOwner;
  /** @internal Tie-breaker: timers with the same deadline run in the order they were made. */
  readonly _seq: number = sequence++;
  /** @internal Whether the handle is still in its loop's heap. */
  _scheduled = true;

  /** Timer handles are created by the loop's callLater and callAt, not by user code. */
  constructor(owner: HandleOwner, when: number, callback: AnyCallback, args: unknown[]) {
    super(owner, callback, args);
    this.#owner = owner;
    this.#when = when;
  }

  /** The deadline, on the loop's clock (seconds, see EventLoop#time). */
  get when(): number {
    return this.#when;
  }

  override cancel(): void {
    if (this.cancelled()) return;
    super.cancel();
    if (this._scheduled) this.#owner._timerCancelled(this);
  }
}

/**
 * @internal Whether an object registered for `fd` was closed since (its fileno() now names another
 * fd, -1, or throws). A bare fd number cannot tell: false.
 */
export function fileobjClosed(fileobj: number | { fileno(): number }, fd: number): boolean {
  if (typeof fileobj === "number") return false;
  try {
    return fileobj.fileno() !== fd;
  } catch {
    return true;
  }
}

/**
 * @internal A reader or writer handle: remembers the fd and the object it was registered with, so
 * that a dispatch can tell that the object was closed meanwhile, and lets a pending sock* call
 * learn that the loop dropped its wait (removed, replaced, loop closed).
 */
export class IoHandle extends Handle {
  readonly _fd: number;
  readonly _fileobj: number | { fileno(): number };
  /** Called once if the loop drops this handle while a sock* call waits on it. */
  _onDrop: ((error: Error) => void) | null = null;

  constructor(owner: HandleOwner, fd: number, fileobj: number | { fileno(): number }, callback: AnyCallback, args: unknown[]) {
    super(owner, callback, args);
    this._fd = fd;
    this._fileobj = fileobj;
  }

  /** Whether the registered object has been closed (or now names another fd). */
  _closed(): boolean {
    return fileobjClosed(this._fileobj, this._fd);
  }

  /** Cancels, telling a waiting sock* call why (the error is made only if one waits). */
  _drop(error: () => Error): void {
    if (this.cancelled()) return;
    this.cancel();
    const onDrop = this._onDrop;
    this._onDrop = null;
    if (onDrop !== null) onDrop(error());
  }
}
