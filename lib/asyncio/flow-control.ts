/**
 * lib/asyncio/flow-control.ts — what the stream and the datagram transport share, as asyncio shares
 * it through _FlowControlMixin and _SelectorTransport: the write buffer's size and limits, with
 * pauseWriting/resumeWriting at them, and the closing: isClosing, close (send what is buffered,
 * then connectionLost), abort, the report of a fatal error, and the connectionLost after which the
 * transport closes its socket. The subclasses keep the buffer itself and all the I/O; the fields
 * here are plain (protected) properties so that their hot paths read them as cheaply as their own.
 */
import { codedError } from "../errors.js";
import type { EventLoop } from "../loop/loop.js";
import type { Socket } from "../socket.js";
import { describe } from "../args.js";
import type { BaseProtocol } from "./protocols.js";

/** asyncio's default high-water mark of a write buffer. */
export const DEFAULT_HIGH_WATER = 64 * 1024;

/** Errors a peer causes by going away: reported to the protocol, not to the exception handler. */
const PEER_GONE: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ETIMEDOUT", "ENOTCONN", "ESHUTDOWN"]);

/** Checks a high/low water pair as asyncio does; returns [high, low]. */
export function waterLimits(high: number | undefined, low: number | undefined): [number, number] {
  for (const [name, value] of [
    ["high", high],
    ["low", low],
  ] as const)
    if (value !== undefined && (typeof value !== "number" || !Number.isInteger(value) || value < 0))
      throw codedError("ERR_OUT_OF_RANGE", `The "${name}" argument must be an integer >= 0. Received ${describe(value)}`, "RangeError");
  const h = high ?? (low === undefined ? DEFAULT_HIGH_WATER : 4 * low);
  const l = low ?? h >>> 2;
  if (l > h) throw codedError("ERR_OUT_OF_RANGE", `high (${h}) must be >= low (${l})`, "RangeError");
  return [h, l];
}

/**
 * The base of Transport and DatagramTransport: made by the loop's create* calls, not by user code.
 * The transport owns its Socket and closes it after connectionLost. Its reader and writer are
 * registered by fd number, as asyncio's transports do: the transport removes them before it closes
 * its socket, so the loop's per-wake closed-Socket check (a fileno() call) has nothing to catch.
 */
export abstract class FlowControlTransport<P extends BaseProtocol> {
  /** @internal */
  protected readonly _loop: EventLoop;
  /** @internal */
  protected readonly _sock: Socket;
  /** @internal */
  protected readonly _fd: number;
  /** @internal */
  protected _protocol: P;
  /** @internal Bytes buffered, not yet taken by the kernel. */
  protected _size = 0;
  /** @internal */
  protected _high = DEFAULT_HIGH_WATER;
  /** @internal */
  protected _low = DEFAULT_HIGH_WATER >>> 2;
  /** @internal Whether pauseWriting was called and resumeWriting not yet. */
  protected _protocolPaused = false;
  /** @internal close() or abort() was called, or the connection failed. */
  protected _closing = false;
  /** @internal Whether connectionLost is scheduled or done. */
  protected _lost = false;

  /** @internal */
  protected constructor(loop: EventLoop, sock: Socket, protocol: P) {
    this._loop = loop;
    this._sock = sock;
    this._fd = sock.fileno();
    this._protocol = protocol;
  }

  /** @internal Forgets the buffered bytes (abort, a fatal error); the caller resets _size. */
  protected abstract _dropBuffer(): void;

  /** @internal Stops reading for good (closing): the reader goes (the stream transport's reading on ProactorEventLoop overrides it). */
  protected _stopReading(): void {
    this._loop.removeReader(this._fd);
  }

  /** @internal Called once the socket is closed, after connectionLost. */
  protected _closed(): void {}

  // ------------------------------------------------------------------ flow control

  /** Bytes buffered, not yet taken by the kernel. */
  getWriteBufferSize(): number {
    return this._size;
  }

  /** Sets the write-buffer limits (defaults: high 64 KiB, low high/4; low alone: high = 4 × low). */
  setWriteBufferLimits(high?: number, low?: number): void {
    [this._high, this._low] = waterLimits(high, low);
    this._maybePause();
    this._maybeResume();
  }

  /** `[low, high]`, as asyncio. */
  getWriteBufferLimits(): [low: number, high: number] {
    return [this._low, this._high];
  }

  /** @internal pauseWriting() once the buffer went above the high-water mark. */
  protected _maybePause(): void {
    if (this._protocolPaused || this._size <= this._high) return;
    this._protocolPaused = true;
    try {
      this._protocol.pauseWriting();
    } catch (error) {
      this._loop.callExceptionHandler({ message: "protocol.pauseWriting() failed", exception: error, transport: this, protocol: this._protocol });
    }
  }

  /** @internal resumeWriting() once the buffer drained to the low-water mark. */
  protected _maybeResume(): void {
    if (!this._protocolPaused || this._size > this._low) return;
    this._protocolPaused = false;
    try {
      this._protocol.resumeWriting();
    } catch (error) {
      this._loop.callExceptionHandler({ message: "protocol.resumeWriting() failed", exception: error, transport: this, protocol: this._protocol });
    }
  }

  // ------------------------------------------------------------------ closing

  /** Whether close() or abort() was called, or the connection is lost. */
  isClosing(): boolean {
    return this._closing;
  }

  /** Stops reading, sends what is buffered, then closes; connectionLost(null) follows. Idempotent. */
  close(): void {
    if (this._closing) return;
    this._closing = true;
    this._stopReading();
    if (this._size === 0) this._scheduleLost(null);
  }

  /** Closes at once, dropping the buffer; connectionLost(null) follows. */
  abort(): void {
    this._forceClose(null);
  }

  /**
   * @internal A fatal error: reported to the loop's exception handler (unless the peer caused it by
   * going away), then the transport closes at once with it.
   */
  protected _fatal(error: unknown, message: string): void {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== "string" || !PEER_GONE.has(code))
      this._loop.callExceptionHandler({ message: `Fatal error on transport: ${message}`, exception: error, transport: this, protocol: this._protocol });
    this._forceClose(error instanceof Error ? error : new Error(String(error)));
  }

  /** @internal Drops the buffer, stops reading, and schedules connectionLost(error). */
  protected _forceClose(error: Error | null): void {
    if (this._lost) return;
    if (this._size > 0) {
      this._dropBuffer();
      this._size = 0;
      this._loop.removeWriter(this._fd);
    }
    if (!this._closing) {
      this._closing = true;
      this._stopReading();
    }
    this._scheduleLost(error);
  }

  /** @internal connectionLost(error) on the next iteration (once), then the socket closes. */
  protected _scheduleLost(error: Error | null): void {
    if (this._lost) return;
    this._lost = true;
    this._loop.callSoon(() => this.#connectionLost(error));
  }

  #connectionLost(error: Error | null): void {
    try {
      this._protocol.connectionLost(error);
    } catch (exception) {
      this._loop.callExceptionHandler({ message: "protocol.connectionLost() failed", exception, transport: this, protocol: this._protocol });
    } finally {
      this._sock.close();
      this._closed();
    }
  }
}
