/**
 * lib/loop/attached.ts — the driver that lets Node's libuv loop drive the EventLoop
 * (attach/detach). Where the selector says libuv can watch its own fd (epoll), one watcher on that
 * fd wakes a batch; otherwise (poll, libkqueue) each registered fd has a watcher and the wake-ups of
 * one libuv tick are coalesced into one batch. Timers ride on one Node timer for the earliest
 * deadline, ready callbacks on one setImmediate. The watchers come from the selector: this driver
 * never touches the native layer itself.
 */
import { codedError, systemError } from "../errors.js";
import { EVENT_READ } from "../selectors.js";
import type { DriverHooks, LoopCore, LoopObject } from "./base.js";
import type { LoopRegistry } from "./registry.js";

/** Node's setTimeout limit (ms). */
const MAX_NODE_DELAY = 0x7fffffff;

/** What this driver needs of a libuv watcher (the selector's NativeWatcher). */
interface Watcher {
  start(events: number): void;
  stop(): void;
  setRef(ref: boolean): void;
  close(): void;
}

/** @internal The attached driver of one loop. */
export class AttachedDriver<L extends LoopObject> implements DriverHooks {
  readonly #core: LoopCore<L>;
  readonly #loops: LoopRegistry<L>;
  #backendWatcher: Watcher | null = null;
  #watcherActive = false;
  #watcherRef = true;
  readonly #fdWatchers = new Map<number, { watcher: Watcher; events: number }>();
  readonly #stoppedWatchers = new Set<number>();
  #immediate: NodeJS.Immediate | null = null;
  #sweepImmediate: NodeJS.Immediate | null = null;
  #nodeTimer: NodeJS.Timeout | null = null;
  #nodeTimerWhen = NaN;

  constructor(core: LoopCore<L>, loops: LoopRegistry<L>) {
    this.#core = core;
    this.#loops = loops;
  }

  /** Attaches (idempotent); see EventLoop#attach. */
  attach(): void {
    const core = this.#core;
    core.checkClosed();
    if (core.running) throw codedError("ERR_LOOP_RUNNING", "the event loop is running on this thread (runForever); it cannot attach");
    if (core.hooks === this) return;
    const selector = core.selector;
    core.hooks = this;
    this.#loops.attached.push(core.loop);
    core.stopping = false;
    try {
      if (selector._libuvWatchable()) {
        this.#backendWatcher = selector._watchSelf((status) => this.#onBackendReady(status));
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
    // What the last wait (an owned run's, or a batch that detached) reported is re-armed now.
    selector._batchDone();
    if (core.ready.length > 0) this.readyAdded();
    this.timersChanged();
  }

  /** Detaches (idempotent): registrations, timers and callbacks stay. */
  detach(): void {
    const core = this.#core;
    if (core.hooks !== this) return;
    core.hooks = null;
    const attached = this.#loops.attached;
    const index = attached.lastIndexOf(core.loop);
    if (index >= 0) attached.splice(index, 1);
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
    this.#clearNodeTimer();
  }

  readyAdded(): void {
    if (this.#immediate === null) this.#immediate = setImmediate(this.#onImmediate);
  }

  /** Keeps one Node timer armed for the earliest live deadline (none when there is none). */
  timersChanged(): void {
    const core = this.#core;
    if (core.hooks !== this) return;
    const head = core.timers.liveHead();
    if (head === undefined) {
      this.#clearNodeTimer();
      return;
    }
    if (this.#nodeTimer !== null) {
      if (this.#nodeTimerWhen === head.when) return;
      clearTimeout(this.#nodeTimer);
    }
    const delay = Math.min(MAX_NODE_DELAY, Math.max(0, Math.ceil((head.when - core.time()) * 1000)));
    this.#nodeTimerWhen = head.when;
    this.#nodeTimer = setTimeout(this.#onNodeTimer, delay);
  }

  /** Mirrors a registration change into the watchers (`events` 0: gone). */
  ioChanged(fd: number, events: number, recreate: boolean): void {
    if (this.#backendWatcher !== null) this.#syncBackendWatcher();
    else this.#syncFdWatcher(fd, events, recreate);
  }

  parked(): void {
    if (this.#sweepImmediate === null) this.#sweepImmediate = setImmediate(this.#onSweepImmediate);
  }

  readonly #onSweepImmediate = (): void => {
    this.#sweepImmediate = null;
    this.#core.io.sweepParked();
  };

  readonly #onImmediate = (): void => {
    this.#immediate = null;
    this.#batch();
  };

  readonly #onNodeTimer = (): void => {
    this.#nodeTimer = null;
    this.#nodeTimerWhen = NaN;
    this.#batch();
  };

  #clearNodeTimer(): void {
    if (this.#nodeTimer === null) return;
    clearTimeout(this.#nodeTimer);
    this.#nodeTimer = null;
    this.#nodeTimerWhen = NaN;
  }

  #onBackendReady(status: number): void {
    if (status < 0) {
      // libuv stopped the handle; a later registration change starts it again.
      this.#watcherActive = false;
      this.#core.callExceptionHandler({ message: "the watcher of the selector's fd failed", exception: systemError(status, "uv_poll") });
      return;
    }
    this.#batch();
  }

  /** One batch (select with timeout 0), then re-arm what drives the next one. */
  #batch(): void {
    const core = this.#core;
    if (core.hooks !== this) return;
    const loops = this.#loops;
    const previous = loops.dispatching;
    loops.dispatching = core.loop;
    try {
      core.runOnce(false);
    } catch (error) {
      core.callExceptionHandler({ message: "Error in the attached event loop's iteration", exception: error });
    } finally {
      loops.dispatching = previous;
    }
    if (core.hooks !== this) return;
    core.selector._batchDone();
    if (this.#stoppedWatchers.size > 0) this.#restartWatchers();
    if (core.ready.length > 0) this.readyAdded();
    this.timersChanged();
  }

  /** The backend watcher runs while anything is registered, and holds the process only for user fds. */
  #syncBackendWatcher(): void {
    const watcher = this.#backendWatcher!;
    const selector = this.#core.selector;
    const map = selector.getMap();
    const size = selector._pendingCount();
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
    const wakeupFd = this.#core.wakeupFd;
    const internal = wakeupFd >= 0 && map.has(wakeupFd) ? 1 : 0;
    // Watched while anything is in flight; holding the process only for what a caller waits on.
    const ref = selector._pendingCount(true) > internal;
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
      const watcher = this.#core.selector._watchFd(fd, (status) => this.#onFdReady(fd, status));
      if (fd === this.#core.wakeupFd) watcher.setRef(false);
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
    this.readyAdded();
  }

  #restartWatchers(): void {
    const map = this.#core.selector.getMap();
    for (const fd of this.#stoppedWatchers) {
      const key = map.get(fd);
      if (key !== undefined) this.#syncFdWatcher(fd, key.events, false);
    }
    this.#stoppedWatchers.clear();
  }
}
