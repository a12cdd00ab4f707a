/**
 * lib/selectors.ts — Python's `selectors` module: SelectorKey, BaseSelector and the Epoll, Kqueue,
 * Poll and Default selectors, with CPython's semantics and error behaviour.
 *
 * Differences from CPython, chosen on purpose and kept small:
 * - Errors carry string codes instead of Python's exception classes: KeyError becomes
 *   ERR_NOT_REGISTERED / ERR_ALREADY_REGISTERED, ValueError becomes ERR_INVALID_EVENTS /
 *   ERR_INVALID_FD, RuntimeError on a closed selector becomes ERR_SELECTOR_CLOSED (raised by every
 *   method, not only get_key), kernel refusals are Node-shaped system errors (EPERM, EBADF...).
 * - modify() checks `events` before touching the registration (CPython's base class unregisters
 *   first and then fails).
 * - The kqueue selector reports an fd that is both readable and writable once, with both bits,
 *   like epoll and poll (CPython may list the key twice).
 *
 * Internally (not public API), a selector is also the EventLoop's way to its backend and to Node's
 * libuv loop: the owned run over its poller, and whether libuv can watch its own fd (epoll) or
 * must watch each registered fd (poll, libkqueue), with the watchers made here.
 */
import { isMainThread } from "node:worker_threads";

import { codedError, systemError } from "./errors.js";
import { argTypeError, describe, fileobjToFd } from "./args.js";
import { native, type BackendKind, type NativePoller, type NativeWatcher } from "./native.js";

/** The fd is ready for reading (Python's selectors.EVENT_READ). */
export const EVENT_READ = 1;
/** The fd is ready for writing (Python's selectors.EVENT_WRITE). */
export const EVENT_WRITE = 2;

export { fileobjToFd };

/** Anything with a `fileno()` method returning its fd, such as a `Socket`. */
export interface FileLike {
  fileno(): number;
}

/** What a selector can register: a non-negative integer fd or an object with `fileno()`. */
export type FileObj = number | FileLike;

/** One registration: the object given, its fd, the events watched, and the caller's data. */
export interface SelectorKey<D = unknown, F extends FileObj = FileObj> {
  readonly fileobj: F;
  readonly fd: number;
  readonly events: number;
  readonly data: D;
}

/**
 * The data argument of `register()` and `modify()`: optional when `undefined` is a valid `D`
 * (`D` left `unknown`, or a union with `undefined`), required otherwise, so that
 * `sel.register(sock, EVENT_READ)` on a selector whose data is a handler function does not
 * type-check (its `key.data(...)` would throw at run time).
 */
export type DataArgument<D> = undefined extends D ? [data?: D] : [data: D];

/** A `[key, readyEvents]` pair as returned by `select()`. */
export type SelectorReady<D = unknown, F extends FileObj = FileObj> = [key: SelectorKey<D, F>, events: number];

const VALID_EVENTS = EVENT_READ | EVENT_WRITE;
const WAIT_SYSCALL = { epoll: "epoll_wait", kqueue: "kevent", poll: "poll", uring: "io_uring_enter" } as const;
/** In a worker thread a wait is cut into slices so that Worker#terminate() is not held up by it. */
const WORKER_WAIT_SLICE_MS = 200;

/** A live, read-only view of a selector's registrations, keyed by fd (Python's get_map()). */
export class SelectorMapping<D = unknown, F extends FileObj = FileObj> implements Iterable<[number, SelectorKey<D, F>]> {
  readonly #selector: BaseSelector<D, F>;
  constructor(selector: BaseSelector<D, F>) {
    this.#selector = selector;
  }
  get size(): number {
    return this.#selector._registrations().size;
  }
  /** The key for an fd or a registered object, or undefined. */
  get(fileobj: FileObj): SelectorKey<D, F> | undefined {
    const map = this.#selector._registrations();
    if (map.size === 0) return undefined;
    try {
      return map.get(this.#selector._lookup(fileobj));
    } catch {
      return undefined;
    }
  }
  has(fileobj: FileObj): boolean {
    return this.get(fileobj) !== undefined;
  }
  keys(): IterableIterator<number> {
    return this.#selector._registrations().keys();
  }
  values(): IterableIterator<SelectorKey<D, F>> {
    return this.#selector._registrations().values();
  }
  entries(): IterableIterator<[number, SelectorKey<D, F>]> {
    return this.#selector._registrations().entries();
  }
  [Symbol.iterator](): IterableIterator<[number, SelectorKey<D, F>]> {
    return this.entries();
  }
}

/**
 * The common selector. Use `DefaultSelector`, or a backend's class to choose one.
 * `D` is the type of each key's data, `F` the type of the registered objects.
 */
export abstract class BaseSelector<D = unknown, F extends FileObj = FileObj> implements Disposable {
  #poller: NativePoller | null;
  /** The poller's id, which the per-call native functions take in place of the object (pollerId). */
  readonly #id: number;
  #map = new Map<number, SelectorKey<D, F>>();
  #out: Int32Array<ArrayBuffer> = new Int32Array(64);
  readonly #mapping: SelectorMapping<D, F>;

  /** A backend by kind, or (internally: lib/ring.ts) a native poller made already. */
  protected constructor(kind: BackendKind | NativePoller) {
    if (typeof kind === "string" && !native.backends[kind])
      throw codedError("ERR_BACKEND_UNAVAILABLE", `the ${kind} selector is not available on this platform (${process.platform})`);
    this.#poller = typeof kind === "string" ? new native.Poller(kind) : kind;
    this.#id = native.pollerId(this.#poller);
    this.#mapping = new SelectorMapping(this);
  }

  /** @internal The registrations; empty once closed. */
  _registrations(): Map<number, SelectorKey<D, F>> {
    return this.#map;
  }

  /** @internal Python's `_fileobj_lookup`: the fd, or a registered key's fd found by identity. */
  _lookup(fileobj: FileObj): number {
    try {
      return fileobjToFd(fileobj);
    } catch (error) {
      for (const key of this.#map.values()) if (key.fileobj === fileobj) return key.fd;
      throw error;
    }
  }

  #live(): NativePoller {
    if (this.#poller === null) throw codedError("ERR_SELECTOR_CLOSED", "the selector is closed");
    return this.#poller;
  }

  #liveId(): number {
    this.#live();
    return this.#id;
  }

  /** The backend in use: 'epoll', 'kqueue' or 'poll' ('uring' for a ProactorEventLoop's selector). */
  get backend(): BackendKind | "uring" {
    return this.#live().kind;
  }

  /**
   * Watches `fileobj` for `events` (EVENT_READ | EVENT_WRITE) and returns its new key.
   * Throws ERR_INVALID_EVENTS (checked first), ERR_INVALID_FD, ERR_ALREADY_REGISTERED (also for the
   * same fd through another object), or the kernel's refusal (EPERM for a regular file on epoll).
   * `data` may be left out only when `D` admits `undefined` (see DataArgument).
   */
  register(fileobj: F, events: number, ...data: DataArgument<D>): SelectorKey<D, F>;
  register(fileobj: F, events: number, data?: D): SelectorKey<D, F> {
    const id = this.#liveId();
    if (typeof events !== "number" || !Number.isInteger(events) || events <= 0 || (events & ~VALID_EVENTS) !== 0)
      throw codedError("ERR_INVALID_EVENTS", `Invalid events: ${describe(events)}`, "RangeError");
    const fd = this._lookup(fileobj);
    if (this.#map.has(fd)) throw codedError("ERR_ALREADY_REGISTERED", `fd ${fd} is already registered`);
    native.pollerAdd(id, fd, events);
    const key: SelectorKey<D, F> = { fileobj, fd, events, data: data as D };
    this.#map.set(fd, key);
    return key;
  }

  /**
   * Stops watching `fileobj` and returns its key. A closed Socket (fileno() === -1) is found by
   * identity; kernel errors for an fd already closed (or closed and reused) are swallowed.
   */
  unregister(fileobj: FileObj): SelectorKey<D, F> {
    const id = this.#liveId();
    let fd: number;
    try {
      fd = this._lookup(fileobj);
    } catch (error) {
      if ((error as { code?: string }).code === "ERR_INVALID_FD" && typeof fileobj === "object")
        throw codedError("ERR_NOT_REGISTERED", `${describe(fileobj)} is not registered`);
      throw error;
    }
    const key = this.#map.get(fd);
    if (key === undefined) throw codedError("ERR_NOT_REGISTERED", `fd ${fd} is not registered`);
    this.#map.delete(fd);
    native.pollerRemove(id, fd, key.events);
    return key;
  }

  /**
   * Changes the events and/or data of a registration and returns the new key. A change of data
   * alone makes no syscall. If the kernel refuses the change, the key is removed and the error
   * thrown (as CPython does). Leaving `data` out sets it to undefined (Python's `data=None`), so it
   * may be left out only when `D` admits `undefined` (see DataArgument).
   */
  modify(fileobj: FileObj, events: number, ...data: DataArgument<D>): SelectorKey<D, F>;
  modify(fileobj: FileObj, events: number, data?: D): SelectorKey<D, F> {
    const id = this.#liveId();
    const fd = this._lookup(fileobj);
    const key = this.#map.get(fd);
    if (key === undefined) throw codedError("ERR_NOT_REGISTERED", `fd ${fd} is not registered`);
    if (events !== key.events) {
      if (typeof events !== "number" || !Number.isInteger(events) || events <= 0 || (events & ~VALID_EVENTS) !== 0)
        throw codedError("ERR_INVALID_EVENTS", `Invalid events: ${describe(events)}`, "RangeError");
      try {
        native.pollerModify(id, fd, key.events, events);
      } catch (error) {
        this.#map.delete(fd);
        // Both interests: a kqueue modify may have added a filter before it failed.
        native.pollerRemove(id, fd, key.events | events);
        throw error;
      }
    } else if (data === key.data) {
      return key;
    }
    const changed: SelectorKey<D, F> = { fileobj: key.fileobj, fd, events, data: data as D };
    this.#map.set(fd, changed);
    return changed;
  }

  /**
   * Waits until some registered fds are ready or the timeout passes; returns `[key, events]` for
   * every ready key. `timeout` is in seconds like Python's: undefined/null waits forever, `<= 0`
   * polls, fractions round up to whole milliseconds. A signal during the wait resumes it with the
   * time left.
   */
  select(timeout?: number | null): SelectorReady<D, F>[] {
    const poller = this.#live();
    let timeoutMs: number;
    if (timeout === undefined || timeout === null) timeoutMs = -1;
    else if (typeof timeout !== "number" || Number.isNaN(timeout)) throw argTypeError("timeout", "a number of seconds or null", timeout);
    else if (timeout <= 0) timeoutMs = 0;
    else timeoutMs = Math.min(Math.ceil(timeout * 1000), 0x7fffffff);

    const needed = 2 * Math.max(this.#map.size, 1);
    if (this.#out.length < needed) this.#out = new Int32Array(Math.max(needed, this.#out.length * 2));
    const out = this.#out;
    let n: number;
    if (isMainThread || (timeoutMs >= 0 && timeoutMs <= WORKER_WAIT_SLICE_MS)) {
      n = native.pollerWait(this.#id, out.buffer, timeoutMs);
    } else {
      n = this.#waitInSlices(out, timeoutMs);
    }
    if (n < 0) throw systemError(n, WAIT_SYSCALL[poller.kind]);
    const ready: SelectorReady<D, F>[] = [];
    const map = this.#map;
    for (let i = 0; i < n; i++) {
      const key = map.get(out[2 * i]!);
      if (key !== undefined) {
        const events = out[2 * i + 1]! & key.events;
        if (events !== 0) ready.push([key, events]);
      }
    }
    return ready;
  }

  #waitInSlices(out: Int32Array<ArrayBuffer>, timeoutMs: number): number {
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      const start = performance.now();
      const left = deadline - start;
      const slice = Math.max(0, Math.min(WORKER_WAIT_SLICE_MS, Math.ceil(left)));
      const n = native.pollerWait(this.#id, out.buffer, slice);
      // A slice that ended early with nothing ready was cut by the owned run (native/owned.cc):
      // Node's libuv loop has work (a worker message, a timer), which runs only once this wait
      // returns; the next slice would be cut at once too, and the thread would spin.
      if (n !== 0 || this._waitBroughtMore() || left <= WORKER_WAIT_SLICE_MS || performance.now() - start < slice - 1) return n;
    }
  }

  /**
   * @internal Whether the last wait brought something besides ready fds (a ring's completions,
   * which each wait rewrites): a worker's sliced wait ends there too.
   */
  protected _waitBroughtMore(): boolean {
    return false;
  }

  /** The key of a registered object or fd; throws ERR_NOT_REGISTERED. */
  getKey(fileobj: FileObj): SelectorKey<D, F> {
    this.#live();
    const key = this.#mapping.get(fileobj);
    if (key === undefined)
      throw codedError("ERR_NOT_REGISTERED", typeof fileobj === "number" ? `fd ${fileobj} is not registered` : `${describe(fileobj)} is not registered`);
    return key;
  }

  /** A live read-only view of the registrations keyed by fd; empty after close(). */
  getMap(): SelectorMapping<D, F> {
    this.#live();
    return this.#mapping;
  }

  /** Closes the selector and forgets every registration (the registered fds stay open). Idempotent. */
  close(): void {
    const poller = this.#poller;
    if (poller === null) return;
    this.#poller = null;
    this.#map.clear();
    poller.close();
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#poller === null;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * @internal Runs an event loop that owns the thread over this selector (native/owned.cc): `iterate`
   * once per iteration from a libuv callback, with Node's own work between iterations, until it
   * returns false; then `done`. Throws ERR_SELECTOR_CLOSED.
   */
  _runOwned(iterate: () => boolean, done: (error?: unknown) => void): void {
    native.runOwned(iterate, done, this.#live());
  }

  /** @internal What the loop waits on here (a ring adds its operations; `held`: only those a caller waits on, see RingSelector). */
  _pendingCount(_held = false): number {
    return this.#map.size;
  }

  /**
   * @internal Called by the attached driver after each batch's callbacks: a selector whose wait
   * re-arms what it reported (the ring's one-shot poll requests) hands that to the kernel now,
   * since no wait of its own follows until something is reported again.
   */
  _batchDone(): void {}

  /** @internal Whether Node's own loop holds nothing that would keep a process alive (the owned run's deadlock check). */
  _nodeLoopIdle(): boolean {
    return native.nodeLoopIdle();
  }

  /**
   * @internal Whether libuv can watch this selector's own fd (epoll's; not kqueue's under libkqueue,
   * nor poll, which has none): then one libuv watcher on it tells when select() has events.
   */
  _libuvWatchable(): boolean {
    return native.backendFdWatchable[this.backend] === true && this._backendFd() >= 0;
  }

  /** @internal A libuv watcher of this selector's own fd (see _libuvWatchable), stopped until started. */
  _watchSelf(callback: (status: number) => void): NativeWatcher {
    return new native.Watcher(this._backendFd(), callback);
  }

  /** @internal A libuv watcher of one registered fd, for a backend whose own fd libuv cannot watch. */
  _watchFd(fd: number, callback: (status: number) => void): NativeWatcher {
    return new native.Watcher(fd, callback);
  }

  /** @internal The backend's own fd, or -1. */
  protected _backendFd(): number {
    return this.#live().fileno();
  }
}

/** epoll(7) (Linux). Throws ERR_BACKEND_UNAVAILABLE elsewhere. */
export class EpollSelector<D = unknown, F extends FileObj = FileObj> extends BaseSelector<D, F> {
  constructor() {
    super("epoll");
  }
  /** The epoll fd. */
  fileno(): number {
    return this._backendFd();
  }
}

/** kqueue(2) (macOS, the BSDs; on Linux only when built against libkqueue). */
export class KqueueSelector<D = unknown, F extends FileObj = FileObj> extends BaseSelector<D, F> {
  constructor() {
    super("kqueue");
  }
  /** The kqueue fd. */
  fileno(): number {
    return this._backendFd();
  }
}

/** poll(2), available on every POSIX system. */
export class PollSelector<D = unknown, F extends FileObj = FileObj> extends BaseSelector<D, F> {
  constructor() {
    super("poll");
  }
}

/** The constructor type shared by the selector classes. */
export type SelectorClass = new <D = unknown, F extends FileObj = FileObj>() => BaseSelector<D, F>;

const selectorClasses: Record<BackendKind, SelectorClass> = { epoll: EpollSelector, kqueue: KqueueSelector, poll: PollSelector };

/** The selector classes this build and platform can construct, best first. */
export const availableSelectors: ReadonlyArray<{ kind: BackendKind; cls: SelectorClass }> = (["epoll", "kqueue", "poll"] as const)
  .filter((kind) => native.backends[kind])
  .map((kind) => ({ kind, cls: selectorClasses[kind] }));

/**
 * An instance of DefaultSelector: an EpollSelector (Linux) or a KqueueSelector (macOS, the BSDs),
 * so it has `fileno()`, the epoll or kqueue fd.
 *
 * In a build whose default backend is poll (`defaultBackend === "poll"`, built with BACKEND=poll),
 * DefaultSelector is PollSelector, which has no fileno() (as in Python, where PollSelector has no
 * fileno() either): calling it there throws a TypeError. Check `defaultBackend` (or `backend`)
 * first if the code must run on such a build.
 */
export interface DefaultSelector<D = unknown, F extends FileObj = FileObj> extends BaseSelector<D, F> {
  /** The epoll or kqueue fd (a TypeError where the build's default backend is poll, see above). */
  fileno(): number;
}

/** The constructor type of DefaultSelector. */
export type DefaultSelectorClass = new <D = unknown, F extends FileObj = FileObj>() => DefaultSelector<D, F>;

/**
 * The best selector here (epoll on Linux, kqueue on macOS/BSD), or the one the build chose.
 * `new DefaultSelector<D, F>()`: `D` is the type of each key's data (a handler function, say),
 * `F` the type of the registered objects (e.g. `Socket`).
 */
export const DefaultSelector: DefaultSelectorClass = selectorClasses[native.defaultBackend] as DefaultSelectorClass;
