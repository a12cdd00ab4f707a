/**
 * lib/asyncio/timeouts.ts — timeouts on the loop's clock: loop.timeout(seconds), an AbortSignal
 * that a loop timer aborts (Node's AbortSignal.timeout runs on Node's timers, which never fire
 * while a loop owns the thread), and waitFor(), asyncio.wait_for on the running loop. The
 * options.signal checks are the loop's own (lib/loop/base.ts).
 */
import { codedError, type CodedError } from "../errors.js";
import type { EventLoop } from "../loop/loop.js";
import { describe } from "../args.js";

/** The error a loop timeout aborts with, and waitFor rejects with: code ETIMEDOUT. */
export function timeoutError(seconds: number): CodedError {
  const error = codedError("ETIMEDOUT", `The operation timed out after ${seconds} s`);
  error.name = "TimeoutError";
  return error;
}

function checkSeconds(seconds: unknown): number {
  if (typeof seconds !== "number" || Number.isNaN(seconds))
    throw codedError("ERR_INVALID_ARG_TYPE", `The "seconds" argument must be a number of seconds. Received ${describe(seconds)}`, "TypeError");
  if (seconds < 0) throw codedError("ERR_OUT_OF_RANGE", `The "seconds" argument must be >= 0. Received ${seconds}`, "RangeError");
  return seconds;
}

/**
 * An AbortSignal that aborts after `seconds` on `loop`'s clock, its reason an ETIMEDOUT-coded
 * TimeoutError. The timer is a loop timer: it runs whether the loop owns the thread or is
 * attached, and keeps an owned loop's runUntilComplete from reporting a deadlock until it fires.
 */
export function loopTimeout(loop: EventLoop, seconds: number): AbortSignal {
  const delay = checkSeconds(seconds);
  const controller = new AbortController();
  if (delay !== Infinity) loop.callLater(delay, () => controller.abort(timeoutError(delay)));
  return controller.signal;
}

/** What waitFor waits for: a promise, or a function given an AbortSignal that aborts at the timeout (so the work stops too). */
export type Awaitable<T> = PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T>);

/**
 * asyncio.wait_for on `loop`: the result of `awaitable`, or a rejection with an ETIMEDOUT-coded
 * TimeoutError after `seconds` on the loop's clock. Given a function, it is called with a signal
 * that aborts at the timeout, so the operation is cancelled rather than left running (a promise
 * cannot be). `seconds` null waits without limit.
 */
export function waitForOn<T>(loop: EventLoop, awaitable: Awaitable<T>, seconds: number | null): Promise<T> {
  let delay: number | null;
  try {
    delay = seconds === null ? null : checkSeconds(seconds);
  } catch (error) {
    return Promise.reject(error);
  }
  const controller = typeof awaitable === "function" ? new AbortController() : null;
  let work: PromiseLike<T>;
  try {
    work = typeof awaitable === "function" ? awaitable(controller!.signal) : awaitable;
  } catch (error) {
    return Promise.reject(error);
  }
  if (delay === null || delay === Infinity) return Promise.resolve(work);
  return new Promise<T>((resolve, reject) => {
    const timer = loop.callLater(delay, () => {
      const error = timeoutError(delay);
      controller?.abort(error);
      reject(error);
    });
    work.then(
      (value) => {
        timer.cancel();
        resolve(value);
      },
      (error: unknown) => {
        timer.cancel();
        reject(error);
      },
    );
  });
}
