/**
 * lib/loop/io.ts — the loop's reader/writer registry over its selector (asyncio's
 * selector_events _add_reader/_remove_reader): a key's data is the [reader, writer] pair of
 * IoHandles. Also responsible for:
 * - stale-fd recovery: a registration whose object was closed, or that the kernel lost when the fd
 *   was closed and reused behind the loop's back, is dropped and registered afresh;
 * - parking: the registration of a settled sock* call stays until the next iteration, so that the
 *   next call on the same fd takes it over with no syscall;
 * - foreign keys: a key registered on the loop's selector directly is removed and reported;
 * - the EMFILE pause: a reader whose callback failed for want of fds sits out a growing delay;
 * - the dispatch side of an iteration: which handles a batch of selector events makes ready.
 */
import { closedError, codedError } from "../errors.js";
import { EVENT_READ, EVENT_WRITE, type BaseSelector, type FileObj, type SelectorKey, type SelectorReady } from "../selectors.js";
import { IoHandle, fileobjClosed, type ExceptionContext, type Handle, type TimerHandle } from "./handles.js";

/**
 * @internal Accept backoff (asyncio's ACCEPT_RETRY_DELAY, made exponential): when accept fails because the
 * process or system is out of fds or memory, the listener stays readable, so retrying at once
 * would spin. The loop retries after a delay instead, doubling from the first to the last value.
 */
export const ACCEPT_RETRY_MIN = 0.05;
/** @internal */
export const ACCEPT_RETRY_MAX = 1;
const EXHAUSTION_CODES: ReadonlySet<string> = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);

/** @internal Whether an error is the process or system running out of fds or memory. */
export function isExhaustion(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && EXHAUSTION_CODES.has(code);
}

/** @internal A key's data in the loop's selector: the reader and the writer handle. */
export type IoData = [reader: IoHandle | null, writer: IoHandle | null];

/** @internal Whether a key's data is the loop's own [reader, writer] pair (not a registration made behind its back). */
export function isIoData(data: unknown): data is IoData {
  return Array.isArray(data) && data.length === 2 && (data[0] === null || data[0] instanceof IoHandle) && (data[1] === null || data[1] instanceof IoHandle);
}

/** @internal What the registry needs of its loop. */
export interface IoHost {
  /** A registration changed (`events` 0: gone; `recreate`: the fd may be another file now). */
  ioChanged(fd: number, events: number, recreate: boolean): void;
  /** A registration was parked: attached, no iteration may follow soon, so a sweep is due. */
  parked(): void;
  callExceptionHandler(context: ExceptionContext): void;
  callLater(delay: number, callback: () => void): TimerHandle;
  time(): number;
  isClosed(): boolean;
}

/** @internal The reader/writer registry of one loop. */
export class IoRegistry {
  readonly selector: BaseSelector<IoData>;
  readonly #host: IoHost;
  /**
   * Registrations of settled sock* calls, kept in the selector until the next iteration: the next
   * sockRecv/sockSendall on the same fd (a request/response loop) then takes the registration
   * over with no syscall, instead of an epoll_ctl DEL now and an ADD a moment later. Whatever is
   * still parked when the next iteration starts is removed then; a parked registration whose fd
   * becomes ready meanwhile is removed by the dispatch (its handle is cancelled).
   */
  #parkedHandles: IoHandle[] = [];
  #parkedWrite: boolean[] = [];
  /** Readers taken out of the selector for a while after their callback hit fd exhaustion. */
  readonly #pausedReaders = new Map<number, { handle: IoHandle; timer: TimerHandle }>();
  /** Per fd: the last accept-backoff delay and when that pause ended (loop clock). */
  readonly #readerBackoff = new Map<number, { delay: number; resumedAt: number }>();

  constructor(selector: BaseSelector<IoData>, host: IoHost) {
    this.selector = selector;
    this.#host = host;
  }

  /** Whether settled registrations wait for a sweep. */
  get hasParked(): boolean {
    return this.#parkedHandles.length > 0;
  }

  /** Makes `handle` the reader (or writer) of its fd, replacing the one there. */
  add(fileobj: FileObj, write: boolean, handle: IoHandle): void {
    const selector = this.selector;
    const fd = handle._fd;
    if (!write) this.#unpause(fd);
    const bit = write ? EVENT_WRITE : EVENT_READ;
    const key = this.key(fd);
    if (key === undefined) {
      selector.register(fileobj, bit, write ? [null, handle] : [handle, null]);
      try {
        this.#host.ioChanged(fd, bit, false);
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
      this.#dropKey(key, () => closedError(write ? "send" : "recv"));
      selector.register(fileobj, bit, write ? [null, handle] : [handle, null]);
      this.#host.ioChanged(fd, bit, true);
      return;
    }
    let events = key.events;
    if ((events & bit) !== 0) {
      // Watched that way already (a parked registration taken over, or a call replaced): the
      // handle goes into the key's handle pair in place, which is the loop's own array, as
      // modify() would with no events changed, but without a new key and its map entry.
      key.data[write ? 1 : 0] = handle;
    } else {
      events |= bit;
      try {
        selector.modify(fd, events, write ? [reader, handle] : [handle, writer]);
      } catch (error) {
        // The kernel lost the registration (fd closed and reused behind the loop's back): the
        // selector dropped the key; start afresh.
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        reader?._drop(() => closedError("recv"));
        writer?._drop(() => closedError("send"));
        selector.register(fileobj, bit, write ? [null, handle] : [handle, null]);
        this.#host.ioChanged(fd, bit, true);
        return;
      }
    }
    this.#host.ioChanged(fd, events, false);
    const old = write ? writer : reader;
    if (old !== null)
      old._drop(() => codedError("ERR_IO_REPLACED", `another ${write ? "writer" : "reader"} was added for fd ${fd} while this call waited on it`));
  }

  /** Stops watching `fileobj` for reading (a paused reader included); true if a reader was removed. */
  removeReader(fileobj: FileObj): boolean {
    const fd = this.selector._lookup(fileobj);
    if (this.#unpause(fd)) return true;
    return this.remove(fd, false);
  }

  /** Removes the reader (or writer) of fd; true if there was one, not parked. */
  remove(fd: number, write: boolean): boolean {
    const selector = this.selector;
    const key = this.key(fd);
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
    this.#host.ioChanged(fd, lost === null ? events : 0, false);
    lost?._drop(() => closedError(write ? "recv" : "send"));
    if (removed === null || this.#parkedHandles.includes(removed)) return false;
    removed._drop(() => codedError("ERR_IO_CANCELLED", `the ${write ? "writer" : "reader"} this call waited on was removed from fd ${fd}`));
    return true;
  }

  /** Parks the registration of a settled sock* call (see #parkedHandles). */
  park(handle: IoHandle, write: boolean): void {
    handle.cancel();
    this.#parkedHandles.push(handle);
    this.#parkedWrite.push(write);
    this.#host.parked();
  }

  /** Removes the parked registrations nobody took over. */
  sweepParked(): void {
    const handles = this.#parkedHandles;
    const writes = this.#parkedWrite;
    this.#parkedHandles = [];
    this.#parkedWrite = [];
    for (let i = 0; i < handles.length; i++) this.removeIfCurrent(handles[i]!, writes[i]!);
  }

  /** Removes the handle's registration if it still holds it (a settled or aborted sock* call). */
  removeIfCurrent(handle: IoHandle, write: boolean): void {
    if (this.#host.isClosed()) return;
    const key = this.key(handle._fd);
    if (key !== undefined && key.data[write ? 1 : 0] === handle) this.remove(handle._fd, write);
  }

  /**
   * The loop's key for fd, or undefined. A key registered on the loop's selector directly (through
   * `loop.selector`) carries no handles: the loop owns its selector, so it removes such a key and
   * reports it (ERR_FOREIGN_REGISTRATION) instead of failing on it.
   */
  key(fd: number): SelectorKey<IoData> | undefined {
    // The selector's own map, by fd: getMap().get() would check the selector and look the fd up
    // as a file object first, on every registration change.
    const key = this.selector._registrations().get(fd);
    if (key === undefined || isIoData(key.data)) return key;
    this.#dropForeign(key);
    return undefined;
  }

  /** Queues the handles a batch of selector events makes ready (CPython's _process_events). */
  collect(events: SelectorReady<IoData>[], ready: Handle[]): void {
    for (let i = 0; i < events.length; i++) {
      const [key, mask] = events[i]!;
      if (!isIoData(key.data)) {
        this.#dropForeign(key);
        continue;
      }
      const [reader, writer] = key.data;
      if (mask & EVENT_READ && reader !== null) {
        if (reader.cancelled()) this.removeIfCurrent(reader, false);
        else ready.push(reader);
      }
      if (mask & EVENT_WRITE && writer !== null) {
        if (writer.cancelled()) this.removeIfCurrent(writer, true);
        else ready.push(writer);
      }
    }
  }

  /** A ready handle whose Socket was closed: its registration (if still its own) goes away. */
  dropClosed(handle: IoHandle): void {
    const key = this.key(handle._fd);
    const error = (): Error => closedError("select");
    if (key !== undefined && (key.data[0] === handle || key.data[1] === handle)) {
      this.#dropKey(key, error);
      this.#host.ioChanged(handle._fd, 0, true);
    } else {
      handle._drop(error);
    }
  }

  /** Takes a reader out of the selector for a backoff delay, then puts it back (if still current). */
  pauseReader(handle: IoHandle): void {
    const fd = handle._fd;
    const key = this.#host.isClosed() ? undefined : this.key(fd);
    if (key === undefined || key.data[0] !== handle) return;
    const now = this.#host.time();
    const last = this.#readerBackoff.get(fd);
    const delay = last !== undefined && now - last.resumedAt < ACCEPT_RETRY_MAX ? Math.min(last.delay * 2, ACCEPT_RETRY_MAX) : ACCEPT_RETRY_MIN;
    const writer = key.data[1];
    if (writer === null) this.selector.unregister(fd);
    else this.selector.modify(fd, EVENT_WRITE, [null, writer]);
    this.#host.ioChanged(fd, writer === null ? 0 : EVENT_WRITE, false);
    const timer = this.#host.callLater(delay, () => {
      this.#pausedReaders.delete(fd);
      this.#readerBackoff.set(fd, { delay, resumedAt: this.#host.time() });
      if (handle.cancelled() || handle._closed()) return;
      this.add(handle._fileobj, false, handle);
    });
    this.#pausedReaders.set(fd, { handle, timer });
  }

  /** The loop closes (its selector closed already): every handle of `keys` and every paused reader is dropped. */
  close(keys: SelectorKey<IoData>[], error: () => Error): void {
    for (const key of keys) {
      if (!isIoData(key.data)) continue;
      key.data[0]?._drop(error);
      key.data[1]?._drop(error);
    }
    for (const { handle } of this.#pausedReaders.values()) handle._drop(error);
    this.#pausedReaders.clear();
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

  /** Whether a key registered through another object belongs to an object that was closed since. */
  #isStale(key: SelectorKey<IoData>, fileobj: FileObj): boolean {
    return key.fileobj !== fileobj && fileobjClosed(key.fileobj, key.fd);
  }

  /** Unregisters a key whose object was closed, dropping both of its handles. */
  #dropKey(key: SelectorKey<IoData>, error: () => Error): void {
    this.selector.unregister(key.fd);
    key.data[0]?._drop(error);
    key.data[1]?._drop(error);
  }

  #dropForeign(key: SelectorKey<IoData>): void {
    this.selector.unregister(key.fd);
    this.#host.ioChanged(key.fd, 0, false);
    this.#host.callExceptionHandler({
      message: `fd ${key.fd} was registered on the loop's selector directly; the loop owns its selector and removed it`,
      exception: codedError("ERR_FOREIGN_REGISTRATION", `fd ${key.fd} was registered on the loop's selector behind the loop's back`),
    });
  }
}
