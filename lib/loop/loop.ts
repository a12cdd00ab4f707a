/**
 * lib/loop/loop.ts — EventLoop, the public face of the loop: an asyncio-shaped reactor over a
 * selector. Each public method checks its arguments and delegates to one part:
 * - base.ts (LoopCore): the ready queue, the state, the iteration, the exception handler, sleep,
 *   close; timers.ts: the timer heap; io.ts: readers and writers;
 * - owned.ts / attached.ts: the two ways it runs (owning the thread, or driven by Node's loop);
 * - signals.ts: signal handlers; sock.ts + sockwait.ts: the promise socket calls.
 * run(), sleep() and getRunningLoop() are in events.ts; the running-loop record in registry.ts.
 * New public methods go here as delegations (the class stays a thin face over its parts).
 */
import { describe } from "../args.js";
import { codedError } from "../errors.js";
import { BaseSelector, DefaultSelector, fileobjToFd, type FileObj } from "../selectors.js";
import { signalNumber } from "../signal.js";
import type { AddressInputOf, BufferLike, Socket, SocketAddress, SocketAddressOf } from "../socket.js";
import type { SendfileSource } from "../sendfile.js";
import { AttachedDriver } from "./attached.js";
import { LoopCore, checkCallback, printException, sleepOn, type SleepOptions } from "./base.js";
import { Handle, IoHandle, TimerHandle, type ExceptionContext, type HandleOwner } from "./handles.js";
import type { IoData } from "./io.js";
import { runOwned, runUntilComplete } from "./owned.js";
import { LoopRegistry } from "./registry.js";
import { SignalHandlers } from "./signals.js";
import { SockCalls } from "./sock.js";
import type { ConnectAddress, SockOptions, SocketLike } from "./sockwait.js";

export type { SleepOptions } from "./base.js";
export type { ConnectAddress, SockOptions, SocketLike } from "./sockwait.js";

/** A key's data in the loop's selector: the reader and the writer handle (asyncio's (reader, writer)). */
export type LoopKeyData = [reader: Handle | null, writer: Handle | null];

export type ExceptionHandler = (loop: EventLoop, context: ExceptionContext) => void;

/** @internal The loops running in this thread (see registry.ts). */
export const runningLoops = new LoopRegistry<EventLoop>();

/**
 * An asyncio-shaped event loop over a selector (DefaultSelector unless one is given; the loop
 * owns it and closes it in close()).
 */
export class EventLoop implements HandleOwner, Disposable {
  readonly #core: LoopCore<EventLoop>;
  readonly #attached: AttachedDriver<EventLoop>;
  readonly #signals: SignalHandlers<EventLoop>;
  readonly #sock: SockCalls<EventLoop>;

  constructor(selector?: BaseSelector<LoopKeyData>) {
    if (selector !== undefined && !(selector instanceof BaseSelector))
      throw codedError(
        "ERR_INVALID_ARG_TYPE",
        `The "selector" argument must be a selector (DefaultSelector, EpollSelector...). Received ${describe(selector)}`,
        "TypeError",
      );
    const chosen = (selector ?? new DefaultSelector<LoopKeyData>()) as unknown as BaseSelector<IoData>;
    if (chosen.closed) throw codedError("ERR_SELECTOR_CLOSED", "the selector is closed");
    if (chosen.getMap().size !== 0) throw codedError("ERR_INVALID_ARG_VALUE", "the selector must have no registrations: the loop owns it");
    const core = new LoopCore<EventLoop>(this, chosen);
    this.#core = core;
    this.#attached = new AttachedDriver(core, runningLoops);
    this.#signals = new SignalHandlers(core);
    this.#sock = new SockCalls(core);
  }

  /** @internal The loop's core, for a subclass that brings its own I/O calls (ProactorEventLoop). */
  protected get _core(): LoopCore<EventLoop> {
    return this.#core;
  }

  /** The loop's selector (its keys' data are [reader, writer] handles). */
  get selector(): BaseSelector<LoopKeyData> {
    return this.#core.selector as unknown as BaseSelector<LoopKeyData>;
  }

  // ---------------------------------------------------------------- clock and callbacks

  /** The loop's monotonic clock, in seconds (performance.now() / 1000). */
  time(): number {
    return performance.now() / 1000;
  }

  /** Runs `callback(...args)` on a later iteration, in FIFO order. Throws ERR_LOOP_CLOSED after close(). */
  callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle {
    this.#core.checkClosed();
    checkCallback(callback);
    const handle = new Handle(this, callback as (...args: unknown[]) => unknown, args);
    this.#core.push(handle);
    return handle;
  }

  /** Runs `callback(...args)` after `delay` seconds. */
  callLater<A extends unknown[]>(delay: number, callback: (...args: A) => unknown, ...args: A): TimerHandle {
    if (typeof delay !== "number" || Number.isNaN(delay))
      throw codedError("ERR_INVALID_ARG_TYPE", `The "delay" argument must be a number of seconds. Received ${describe(delay)}`, "TypeError");
    return this.callAt(this.time() + delay, callback, ...args);
  }

  /** Runs `callback(...args)` at `when` on the loop's clock (see time()). */
  callAt<A extends unknown[]>(when: number, callback: (...args: A) => unknown, ...args: A): TimerHandle {
    const core = this.#core;
    core.checkClosed();
    if (typeof when !== "number" || Number.isNaN(when))
      throw codedError("ERR_INVALID_ARG_TYPE", `The "when" argument must be a number (seconds on the loop's clock). Received ${describe(when)}`, "TypeError");
    checkCallback(callback);
    const handle = new TimerHandle(this, when, callback as (...args: unknown[]) => unknown, args);
    core.timers.push(handle);
    core.timersChanged();
    return handle;
  }

  /**
   * Resolves with `value` after `seconds` on the loop's clock (asyncio.sleep). `sleep(0)` yields
   * exactly one iteration: it settles in the next iteration, after the callbacks scheduled before
   * it. `seconds` is a number >= 0; `Infinity` schedules nothing and settles only through
   * `options.signal` (inside run(), with nothing else pending, that is a deadlock). Aborting
   * rejects with an AbortError (code ABORT_ERR); close() rejects a pending sleep with
   * ERR_LOOP_CLOSED. Rejects with ERR_INVALID_ARG_TYPE (not a number, or NaN), ERR_OUT_OF_RANGE
   * (negative) or ERR_LOOP_CLOSED.
   */
  sleep<T = void>(seconds: number, value?: T, options?: SleepOptions): Promise<T> {
    return sleepOn(this.#core, seconds, value, options);
  }

  /** @internal Bookkeeping for a cancelled timer still in the heap. */
  _timerCancelled(_handle: TimerHandle): void {
    this.#core.timers.cancelled();
    this.#core.timersChanged();
  }

  // ---------------------------------------------------------------- readers and writers

  /**
   * Calls `callback(...args)` whenever `fileobj` (an fd or an object with fileno()) is readable.
   * One reader per fd: a second addReader replaces the first. Returns the reader's handle.
   * Remove a reader (or abort a sock* call) before closing its fd: a closed Socket is noticed at
   * dispatch, but a raw fd number closed behind the loop's back cannot be.
   */
  addReader<A extends unknown[]>(fileobj: FileObj, callback: (...args: A) => unknown, ...args: A): Handle {
    return this.#addIo(fileobj, false, callback as (...args: unknown[]) => unknown, args);
  }

  /** Calls `callback(...args)` whenever `fileobj` is writable. One writer per fd, like addReader. */
  addWriter<A extends unknown[]>(fileobj: FileObj, callback: (...args: A) => unknown, ...args: A): Handle {
    return this.#addIo(fileobj, true, callback as (...args: unknown[]) => unknown, args);
  }

  /** Stops watching `fileobj` for reading; true if a reader was removed (false after close()). */
  removeReader(fileobj: FileObj): boolean {
    if (this.#core.closed) return false;
    return this.#core.io.removeReader(fileobj);
  }

  /** Stops watching `fileobj` for writing; true if a writer was removed (false after close()). */
  removeWriter(fileobj: FileObj): boolean {
    const core = this.#core;
    if (core.closed) return false;
    return core.io.remove(core.selector._lookup(fileobj), true);
  }

  #addIo(fileobj: FileObj, write: boolean, callback: unknown, args: unknown[]): Handle {
    this.#core.checkClosed();
    const fd = fileobjToFd(fileobj);
    checkCallback(callback);
    const handle = new IoHandle(this, fd, fileobj, callback, args);
    this.#core.io.add(fileobj, write, handle);
    return handle;
  }

  // ---------------------------------------------------------------- running

  /**
   * Runs the loop on this thread until stop(). Promise continuations run between iterations, and
   * Node's own work (timers, I/O, setImmediate, worker messages, fs and dns completions) runs
   * whenever it is ready, between two iterations. Rejects with ERR_LOOP_CLOSED, ERR_LOOP_RUNNING
   * (this or another loop owns the thread) or ERR_LOOP_ATTACHED. Nothing is checked for deadlock
   * here: like asyncio's run_forever it runs until stop(), even with nothing to do.
   */
  runForever(): Promise<void> {
    return runOwned(this.#core, runningLoops, null);
  }

  /**
   * Runs the loop until `future` settles and returns its result (or rejects with its error).
   * `future` is a promise, or a function called with the loop as its first callback (like a
   * coroutine given to asyncio). Rejects with ERR_LOOP_STOPPED if stop() ends the run first, and
   * with ERR_LOOP_DEADLOCK when `future` can never settle: the loop has no ready callbacks, no
   * timers, no readers, writers or signal handlers, and Node's own loop holds nothing that would
   * keep a plain Node process alive (no timer, I/O, server, worker or pending fs/dns request:
   * exactly when Node itself would exit with an unsettled top-level await). An unreferenced Node
   * timer (`.unref()`, AbortSignal.timeout) alone does not count, as it does not for Node.
   */
  runUntilComplete<T>(future: PromiseLike<T> | ((loop: EventLoop) => T | PromiseLike<T>)): Promise<T> {
    return runUntilComplete(this.#core, runningLoops, future);
  }

  /**
   * Stops a loop that owns the thread after the current iteration. Called before runForever(),
   * the next run polls once (timeout 0), runs what is ready, and returns (asyncio's rule). No
   * effect on an attached loop (use detach()).
   */
  stop(): void {
    const core = this.#core;
    if (core.attached && !core.running) return;
    core.stopping = true;
  }

  /** Whether the loop is running: owning the thread, or attached to Node's loop. */
  isRunning(): boolean {
    return this.#core.running || this.#core.attached;
  }

  /** Whether the loop is attached to Node's loop. */
  isAttached(): boolean {
    return this.#core.attached;
  }

  isClosed(): boolean {
    return this.#core.closed;
  }

  /**
   * Lets Node's own libuv loop drive this loop: timers, fs, node:net keep working beside it.
   * While it has registrations, timers or ready callbacks, it keeps the process alive (signal
   * handlers alone do not); after detach() the process can exit on its own. Idempotent.
   * Throws ERR_LOOP_CLOSED, or ERR_LOOP_RUNNING while the loop owns the thread.
   */
  attach(): this {
    this.#attached.attach();
    return this;
  }

  /** Stops Node's loop from driving this one; registrations, timers and callbacks stay. Idempotent. */
  detach(): void {
    this.#attached.detach();
  }

  // ---------------------------------------------------------------- errors

  /** Sets the handler of exceptions thrown by callbacks (null: the default, which prints to stderr). */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null && typeof handler !== "function")
      throw codedError("ERR_INVALID_ARG_TYPE", `The "handler" argument must be a function or null. Received ${describe(handler)}`, "TypeError");
    this.#core.exceptionHandler = handler;
  }

  getExceptionHandler(): ExceptionHandler | null {
    return this.#core.exceptionHandler;
  }

  /** Reports `context` to the exception handler; the loop goes on whatever the handler does. */
  callExceptionHandler(context: ExceptionContext): void {
    this.#core.callExceptionHandler(context);
  }

  /** Prints the context to stderr (asyncio's default_exception_handler). */
  defaultExceptionHandler(context: ExceptionContext): void {
    printException(context);
  }

  // ---------------------------------------------------------------- signals

  /**
   * Calls `callback(...args)` on the loop each time `signal` ('SIGINT' or a number) arrives; a
   * second handler for the same signal replaces the first. Works in both modes: a native handler
   * writes to a self-pipe the loop reads. While attached, signal handlers alone do not keep the
   * process alive. Throws ERR_UNKNOWN_SIGNAL, or ERR_INVALID_ARG_VALUE for SIGKILL/SIGSTOP.
   */
  addSignalHandler<A extends unknown[]>(signal: NodeJS.Signals | number, callback: (...args: A) => unknown, ...args: A): Handle {
    this.#core.checkClosed();
    const signo = signalNumber(signal);
    checkCallback(callback);
    const handle = new Handle(this, callback as (...args: unknown[]) => unknown, args);
    this.#signals.add(signo, handle);
    return handle;
  }

  /** Removes the handler of `signal` (restoring the previous disposition); true if there was one. */
  removeSignalHandler(signal: NodeJS.Signals | number): boolean {
    return this.#signals.remove(signalNumber(signal));
  }

  // ---------------------------------------------------------------- socket calls (sock.ts)

  /**
   * Accepts a connection on a listening non-blocking socket: `[socket, address]`, the new socket
   * non-blocking. An aborted accept leaves the pending connection for the next one.
   */
  sockAccept<F extends number>(sock: SocketLike<F>, options?: SockOptions): Promise<[Socket<F>, SocketAddressOf<F>]>;
  sockAccept(sock: SocketLike, options?: SockOptions): Promise<[Socket, SocketAddress]> {
    return this.#sock.accept(sock, options);
  }

  /** Receives up to `n` bytes: a Buffer, empty at end of stream. */
  sockRecv(sock: SocketLike, n: number, options?: SockOptions): Promise<Buffer> {
    return this.#sock.recv(sock, n, options);
  }

  /** Receives into `buffer` (any ArrayBufferView, filled from its start): the byte count, 0 at end of stream. */
  sockRecvInto(sock: SocketLike, buffer: BufferLike, options?: SockOptions): Promise<number> {
    return this.#sock.recvInto(sock, buffer, options);
  }

  /**
   * Receives up to `n` bytes and the sender's address: `[data, address]` (asyncio's
   * sock_recvfrom). The address is null where the kernel reports none (a connected stream).
   */
  sockRecvfrom<F extends number>(sock: SocketLike<F>, n: number, options?: SockOptions): Promise<[Buffer, SocketAddressOf<F> | null]>;
  sockRecvfrom(sock: SocketLike, n: number, options?: SockOptions): Promise<[Buffer, SocketAddress | null]> {
    return this.#sock.recvfrom(sock, n, options);
  }

  /**
   * Receives into `buffer` (its first `nbytes` bytes; 0 or omitted: all of it) with the sender's
   * address: `[count, address]` (asyncio's sock_recvfrom_into).
   */
  sockRecvfromInto<F extends number>(
    sock: SocketLike<F>,
    buffer: BufferLike,
    nbytes?: number,
    options?: SockOptions,
  ): Promise<[number, SocketAddressOf<F> | null]>;
  sockRecvfromInto(sock: SocketLike, buffer: BufferLike, nbytes?: number, options?: SockOptions): Promise<[number, SocketAddress | null]> {
    return this.#sock.recvfromInto(sock, buffer, nbytes, options);
  }

  /**
   * Sends `data` as one datagram to `address` and resolves with the count (asyncio's
   * sock_sendto). Addresses as sockConnect takes them; host names are resolved with node:dns while
   * attached, with a blocking getaddrinfo while the loop owns the thread.
   */
  sockSendto<F extends number>(sock: SocketLike<F>, data: string | BufferLike, address: AddressInputOf<F>, options?: SockOptions): Promise<number>;
  sockSendto(sock: SocketLike, data: string | BufferLike, address: ConnectAddress, options?: SockOptions): Promise<number> {
    return this.#sock.sendto(sock, data, address, options);
  }

  /**
   * Sends all of `data` (a string is sent as UTF-8), continuing partial writes each time the
   * socket is writable. Do not change `data` until the promise settles. If the call fails or is
   * aborted, part of the data may have been sent.
   */
  sockSendall(sock: SocketLike, data: string | BufferLike, options?: SockOptions): Promise<void> {
    return this.#sock.sendall(sock, data, options);
  }

  /**
   * Sends a file on a non-blocking SOCK_STREAM socket (asyncio's sock_sendfile): `count` bytes (all
   * of the rest when omitted) from `offset` (default 0), continuing each time the socket is
   * writable; resolves with the number sent, fewer than `count` only at the end of the file. `file`
   * is an fd or a node:fs/promises FileHandle, read from `offset` without using or moving its
   * position, as Socket.sendfile: sendfile(2) on Linux, pread + send elsewhere. A rejection with a
   * system error carries `bytesSent`; an aborted call may have sent part of the file.
   */
  sockSendfile(sock: SocketLike, file: SendfileSource, offset?: number, count?: number, options?: SockOptions): Promise<number> {
    return this.#sock.sendfile(sock, file, offset, count, options);
  }

  /**
   * Connects a non-blocking socket: `[host, port]` (IPv4), `[host, port, flowinfo?, scopeId?]`
   * (IPv6) or a path (AF_UNIX). Host names are resolved: with node:dns while attached, with a
   * blocking getaddrinfo while the loop owns the thread. A refused connection rejects with code
   * ECONNREFUSED.
   */
  sockConnect<F extends number>(sock: SocketLike<F>, address: AddressInputOf<F>, options?: SockOptions): Promise<void>;
  sockConnect(sock: SocketLike, address: ConnectAddress, options?: SockOptions): Promise<void> {
    return this.#sock.connect(sock, address, options);
  }

  // ---------------------------------------------------------------- lifetime

  /**
   * Closes the loop: detaches it, removes its signal handlers, drops every callback, timer,
   * reader and writer (a pending sock* call or sleep rejects with ERR_LOOP_CLOSED) and closes
   * the selector. Idempotent. Throws ERR_LOOP_RUNNING while it owns the thread or runs a callback.
   */
  close(): void {
    const core = this.#core;
    if (core.running || core.dispatching > 0) throw codedError("ERR_LOOP_RUNNING", "cannot close a running event loop");
    if (core.closed) return;
    this.#attached.detach();
    this.#signals.close();
    this.#sock.close();
    core.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
