/**
 * lib/loop/registry.ts — which event loops run in this thread (asyncio's running-loop record):
 * the one that owns the thread, the attached ones in the order they were attached, and the one
 * whose attached batch runs right now. getRunningLoop() and run() (events.ts) read it; the two
 * drivers write it.
 */

/** @internal The running loops of this thread. */
export class LoopRegistry<L> {
  /** The loop that owns the thread, if any. */
  owned: L | null = null;
  /** The loop whose batch is running right now while attached. */
  dispatching: L | null = null;
  /** Attached loops, in the order they were attached. */
  readonly attached: L[] = [];

  /** The loop dispatching right now, else the one owning the thread, else the last attached one. */
  current(): L | undefined {
    return this.dispatching ?? this.owned ?? this.attached[this.attached.length - 1];
  }
}
