/**
 * lib/loop/events.ts — the module-level functions of asyncio's events module: getRunningLoop()
 * (get_running_loop), run() (asyncio.run) and sleep() (asyncio.sleep) on the running loop.
 */
import { describe } from "../args.js";
import { codedError } from "../errors.js";
import { BaseSelector } from "../selectors.js";
import { EventLoop, runningLoops, type LoopKeyData, type SleepOptions } from "./loop.js";

/**
 * The loop running the current callback or coroutine: the loop dispatching right now, else the
 * loop that owns the thread, else the most recently attached loop. Throws ERR_NO_RUNNING_LOOP
 * when there is none (asyncio.get_running_loop raises RuntimeError).
 */
export function getRunningLoop(): EventLoop {
  const loop = runningLoops.current();
  if (loop === undefined) throw codedError("ERR_NO_RUNNING_LOOP", "no running event loop");
  return loop;
}

/** Options of run(). */
export interface RunOptions<L extends EventLoop = EventLoop> {
  /** Makes the loop (asyncio.run's loop_factory): `() => new ProactorEventLoop()`, say. Default: `new EventLoop()`. */
  loopFactory?: () => L;
}

/**
 * Like asyncio.run: a new loop (on `selector`, or made by `options.loopFactory`, if given) runs
 * `main(loop)` to completion, owning the thread, then closes. Returns main's result or rejects with its error; ERR_LOOP_DEADLOCK if
 * main waits for something that can never happen (see runUntilComplete).
 *
 * Like asyncio.run, it refuses to start while an event loop runs in this thread — one that owns
 * it, or one attached to Node's loop (whatever getRunningLoop() would return): it rejects with
 * ERR_LOOP_RUNNING, and `selector` is left untouched. Await the work on the running loop instead.
 */
export async function run<T, L extends EventLoop = EventLoop>(main: (loop: L) => T | PromiseLike<T>, options?: RunOptions<L>): Promise<T>;
export async function run<T>(main: (loop: EventLoop) => T | PromiseLike<T>, selector?: BaseSelector<LoopKeyData>): Promise<T>;
export async function run<T>(main: (loop: EventLoop) => T | PromiseLike<T>, selectorOrOptions?: BaseSelector<LoopKeyData> | RunOptions): Promise<T> {
  let factory: (() => EventLoop) | undefined;
  let selector: BaseSelector<LoopKeyData> | undefined;
  if (selectorOrOptions instanceof BaseSelector || selectorOrOptions === undefined) selector = selectorOrOptions;
  else if (selectorOrOptions !== null && typeof selectorOrOptions === "object") {
    factory = selectorOrOptions.loopFactory;
    if (factory !== undefined && typeof factory !== "function")
      throw codedError("ERR_INVALID_ARG_TYPE", `The "options.loopFactory" property must be a function. Received ${describe(factory)}`, "TypeError");
  } else {
    // An invalid selector: EventLoop's constructor says so.
    selector = selectorOrOptions as BaseSelector<LoopKeyData>;
  }
  if (runningLoops.current() !== undefined)
    throw codedError(
      "ERR_LOOP_RUNNING",
      "run() cannot be called while an event loop is running in this thread (owning it or attached): await the work on that loop instead (getRunningLoop())",
    );
  const loop = factory !== undefined ? factory() : new EventLoop(selector);
  if (!(loop instanceof EventLoop))
    throw codedError("ERR_INVALID_RETURN_VALUE", `options.loopFactory() must return an EventLoop. Received ${describe(loop)}`, "TypeError");
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
