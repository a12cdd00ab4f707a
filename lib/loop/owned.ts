/**
 * lib/loop/owned.ts — the driver that owns the thread (runForever/runUntilComplete): one
 * iteration per libuv callback, through the selector's owned run (native/owned.cc), so that promise
 * continuations (and process.nextTick) run between iterations. Node's own work runs too: the
 * selector's wait also wakes for Node's I/O and ends at Node's next timer, and whenever Node has
 * something ready (a timer due, I/O, setImmediate, a worker message, an fs or dns completion) the
 * run lets libuv run one turn between two iterations.
 */
import { describe } from "../args.js";
import { codedError } from "../errors.js";
import type { LoopCore, LoopObject } from "./base.js";
import type { LoopRegistry } from "./registry.js";

/** @internal Throws unless the loop may start owning the thread: ERR_LOOP_CLOSED, ERR_LOOP_ATTACHED or ERR_LOOP_RUNNING. */
export function checkRunnable<L extends LoopObject>(core: LoopCore<L>, loops: LoopRegistry<L>): void {
  core.checkClosed();
  if (core.attached) throw codedError("ERR_LOOP_ATTACHED", "the event loop is attached to Node's loop: detach() it before runForever()/runUntilComplete()");
  if (core.running) throw codedError("ERR_LOOP_RUNNING", "the event loop is already running");
  if (loops.owned !== null) throw codedError("ERR_LOOP_RUNNING", "another event loop owns this thread");
}

/**
 * @internal Runs the loop on this thread until stop(); `onDeadlock` (runUntilComplete's) is called when
 * nothing on the loop or in Node could ever wake it. Rejects as checkRunnable throws.
 */
export function runOwned<L extends LoopObject>(core: LoopCore<L>, loops: LoopRegistry<L>, onDeadlock: (() => void) | null): Promise<void> {
  try {
    checkRunnable(core, loops);
  } catch (error) {
    return Promise.reject(error);
  }
  core.running = true;
  core.onDeadlock = onDeadlock;
  loops.owned = core.loop;
  return new Promise<void>((resolve, reject) => {
    let first = true;
    const iterate = (): boolean => {
      // stop() from a promise continuation between iterations ends the run at once.
      if (core.stopping && !first) return false;
      first = false;
      core.runOnce(true);
      return !core.stopping;
    };
    const done = (error?: unknown): void => {
      if (core.io.hasParked && !core.closed) core.io.sweepParked();
      core.running = false;
      core.stopping = false;
      core.onDeadlock = null;
      if (loops.owned === core.loop) loops.owned = null;
      if (error !== undefined) reject(error);
      else resolve();
    };
    try {
      core.selector._runOwned(iterate, done);
    } catch (error) {
      done(error);
    }
  });
}

/** @internal EventLoop#runUntilComplete on `core` (see there). */
export async function runUntilComplete<T, L extends LoopObject>(
  core: LoopCore<L>,
  loops: LoopRegistry<L>,
  future: PromiseLike<T> | ((loop: L) => T | PromiseLike<T>),
): Promise<T> {
  checkRunnable(core, loops);
  const loop = core.loop;
  let promise: PromiseLike<T>;
  if (typeof future === "function") {
    promise = new Promise<T>((resolve, reject) => {
      loop.callSoon(() => {
        try {
          resolve(future(loop));
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
      if (!over) loop.stop();
    },
    (error: unknown) => {
      settled = true;
      failure = error;
      if (!over) loop.stop();
    },
  );
  try {
    await runOwned(core, loops, () => {
      deadlocked = true;
      loop.stop();
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
