/**
 * lib/loop/signals.ts — the loop's signal handlers (asyncio's unix_events add_signal_handler): a
 * native handler per signal writes the signal's number to a self-pipe (lib/signal.ts), whose read
 * end is one of the loop's readers; reading it queues the handler of each signal that came. Works
 * in both modes; while attached, the self-pipe alone keeps no process alive.
 */
import { closeWakeupPipe, openWakeupPipe, readWakeup, unwatchSignal, watchSignal } from "../signal.js";
import type { LoopCore, LoopObject } from "./base.js";
import { IoHandle, type Handle } from "./handles.js";

/** @internal The signal handlers of one loop and its self-pipe. */
export class SignalHandlers<L extends LoopObject> {
  readonly #core: LoopCore<L>;
  #read = -1;
  #write = -1;
  readonly #handlers = new Map<number, Handle>();
  readonly #buffer = Buffer.alloc(64);

  constructor(core: LoopCore<L>) {
    this.#core = core;
  }

  /** Makes `handle` the handler of `signo` (replacing the one there), opening the self-pipe first if needed. */
  add(signo: number, handle: Handle): void {
    const core = this.#core;
    if (this.#read < 0) {
      const [r, w] = openWakeupPipe();
      this.#read = r;
      this.#write = w;
      core.wakeupFd = r;
      try {
        core.io.add(r, false, new IoHandle(core.loop, r, r, () => this.#readSignals(), []));
      } catch (error) {
        this.#closePipe();
        throw error;
      }
    }
    if (!this.#handlers.has(signo)) {
      try {
        watchSignal(signo, this.#write);
      } catch (error) {
        if (this.#handlers.size === 0) this.#closePipe();
        throw error;
      }
    }
    this.#handlers.get(signo)?.cancel();
    this.#handlers.set(signo, handle);
  }

  /** Removes the handler of `signo` (restoring the previous disposition); true if there was one. */
  remove(signo: number): boolean {
    const handle = this.#handlers.get(signo);
    if (handle === undefined) return false;
    handle.cancel();
    this.#handlers.delete(signo);
    unwatchSignal(signo, this.#write);
    if (this.#handlers.size === 0) this.#closePipe();
    return true;
  }

  /** Removes every handler and closes the self-pipe (the loop closes). */
  close(): void {
    for (const signo of this.#handlers.keys()) unwatchSignal(signo, this.#write);
    this.#handlers.clear();
    this.#closePipe();
  }

  #readSignals(): void {
    const buffer = this.#buffer;
    const ready = this.#core.ready;
    for (;;) {
      const n = readWakeup(this.#read, buffer);
      if (n <= 0) return;
      for (let i = 0; i < n; i++) {
        const handle = this.#handlers.get(buffer[i]!);
        if (handle !== undefined && !handle.cancelled()) ready.push(handle);
      }
    }
  }

  #closePipe(): void {
    const r = this.#read;
    const w = this.#write;
    if (r < 0) return;
    const core = this.#core;
    if (!core.closed) core.io.remove(r, false);
    this.#read = -1;
    this.#write = -1;
    core.wakeupFd = -1;
    closeWakeupPipe(r, w);
  }
}
