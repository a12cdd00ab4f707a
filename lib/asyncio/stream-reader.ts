/**
 * lib/asyncio/stream-reader.ts — asyncio's StreamReader and its errors. Received chunks are
 * adopted without a copy while the buffer is empty (the usual request/response case) and copied
 * into an owned buffer only when bytes are left over; bytes below the buffer's end are never
 * rewritten, so results are views, not copies. readuntil() resumes its search where the last one
 * stopped instead of rescanning. Reading pauses the transport above 2 × limit and resumes at limit.
 */
import { codedError, type CodedError } from "../errors.js";
import { checkInt, describe } from "../args.js";
import { abortError, checkSignal } from "../loop/base.js";

/** asyncio's default stream limit: 64 KiB. */
export const DEFAULT_LIMIT = 64 * 1024;

/** The end of the stream came first: `partial` holds what was read, `expected` what was asked (null: a separator). */
export interface IncompleteReadError extends CodedError {
  code: "ERR_INCOMPLETE_READ";
  partial: Buffer;
  expected: number | null;
}

/** The limit was reached first; `consumed` bytes are in the buffer (nothing was taken from it). */
export interface LimitOverrunError extends CodedError {
  code: "ERR_LIMIT_OVERRUN";
  consumed: number;
}

function incompleteRead(partial: Buffer, expected: number | null): IncompleteReadError {
  const error = codedError(
    "ERR_INCOMPLETE_READ",
    `${partial.length} bytes read on a total of ${expected === null ? "undefined" : expected} expected bytes`,
  ) as IncompleteReadError;
  error.partial = partial;
  error.expected = expected;
  return error;
}

function limitOverrun(message: string, consumed: number): LimitOverrunError {
  const error = codedError("ERR_LIMIT_OVERRUN", message) as LimitOverrunError;
  error.consumed = consumed;
  return error;
}

/** What a reader needs of its transport: flow control. */
export interface ReadableTransport {
  pauseReading(): void;
  resumeReading(): void;
}

/** Options of the read calls. */
export interface ReadOptions {
  /** Aborting rejects the read (AbortError); the buffered bytes stay for the next read. */
  signal?: AbortSignal;
}

const EMPTY = Buffer.alloc(0);
const NEWLINE = Buffer.from("\n");

type Attempt = () => Buffer | null;

/** A stream's reading side (asyncio.StreamReader). */
export class StreamReader implements AsyncIterable<Buffer> {
  readonly #limit: number;
  #buf: Buffer = EMPTY;
  #start = 0;
  #end = 0;
  /** Whether #buf is ours (bytes past #end may be written), not an adopted chunk. */
  #owned = false;
  /** Where the next separator search starts (index into #buf); reset when #buf changes. */
  #searchFrom = 0;
  /** The separator #searchFrom is for. */
  #searchSep: Uint8Array | null = null;
  #eof = false;
  #error: Error | null = null;
  #transport: ReadableTransport | null = null;
  #paused = false;
  /** The pending read: retried on every feed. */
  #attempt: Attempt | null = null;
  #resolve: ((value: Buffer) => void) | null = null;
  #reject: ((error: unknown) => void) | null = null;

  constructor(limit: number = DEFAULT_LIMIT) {
    this.#limit = checkInt("limit", limit, 1, 0x7fffffff);
  }

  /** @internal The transport to pause and resume. */
  setTransport(transport: ReadableTransport): void {
    this.#transport = transport;
  }

  /** The buffered byte count. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** The stream's limit. */
  get limit(): number {
    return this.#limit;
  }

  /** The error the stream failed with, or null. */
  exception(): Error | null {
    return this.#error;
  }

  /** Fails the stream: the pending read and every later one reject with `error`. */
  setException(error: Error): void {
    this.#error = error;
    const reject = this.#reject;
    if (reject !== null) {
      this.#clearPending();
      reject(error);
    }
  }

  /** Adds received bytes. The reader takes `data` as it is (keep it unchanged). */
  feedData(data: Buffer): void {
    const n = data.length;
    if (n === 0) return;
    if (this.#start === this.#end) {
      this.#buf = data;
      this.#start = 0;
      this.#end = n;
      this.#owned = false;
      this.#searchFrom = 0;
    } else if (this.#owned && this.#buf.length - this.#end >= n) {
      data.copy(this.#buf, this.#end);
      this.#end += n;
    } else {
      const live = this.#end - this.#start;
      const grown = Buffer.allocUnsafe(Math.max(2 * (live + n), 4096));
      this.#buf.copy(grown, 0, this.#start, this.#end);
      data.copy(grown, live);
      this.#searchFrom = Math.max(0, this.#searchFrom - this.#start);
      this.#buf = grown;
      this.#start = 0;
      this.#end = live + n;
      this.#owned = true;
    }
    const transport = this.#transport;
    if (transport !== null && !this.#paused && this.#end - this.#start > 2 * this.#limit) {
      this.#paused = true;
      transport.pauseReading();
    }
    if (this.#attempt !== null) this.#retry();
  }

  /** Marks the end of the stream: a pending read settles with what there is. */
  feedEof(): void {
    this.#eof = true;
    if (this.#attempt !== null) this.#retry();
  }

  /** Whether the stream ended and every byte was read. */
  atEof(): boolean {
    return this.#eof && this.#start === this.#end;
  }

  #take(n: number): Buffer {
    const start = this.#start;
    this.#start = start + n;
    if (this.#start === this.#end) {
      // Empty: let the next chunk be adopted, and the old buffer go. A whole adopted chunk is
      // returned as it is (a view of it would cost another Buffer).
      const buf = this.#buf;
      const out = start === 0 && n === buf.length ? buf : buf.subarray(start, start + n);
      this.#buf = EMPTY;
      this.#start = this.#end = this.#searchFrom = 0;
      this.#maybeResume();
      return out;
    }
    this.#maybeResume();
    return this.#buf.subarray(start, start + n);
  }

  #maybeResume(): void {
    if (this.#paused && this.#end - this.#start <= this.#limit) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
  }

  #retry(): void {
    let value: Buffer | null;
    try {
      value = this.#attempt!();
    } catch (error) {
      const reject = this.#reject!;
      this.#clearPending();
      return reject(error);
    }
    if (value === null) return;
    const resolve = this.#resolve!;
    this.#clearPending();
    resolve(value);
  }

  #clearPending(): void {
    this.#attempt = null;
    this.#resolve = null;
    this.#reject = null;
  }

  /** Runs `attempt` now, or on each feed until it gives a result (null: not yet). */
  #run(attempt: Attempt, options: ReadOptions | undefined): Promise<Buffer> {
    let signal: AbortSignal | undefined;
    try {
      if (this.#attempt !== null) throw codedError("ERR_READ_PENDING", "another read is already waiting on this StreamReader");
      signal = checkSignal(options);
      const value = attempt();
      if (value !== null) return Promise.resolve(value);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.#attempt = attempt;
      if (signal === undefined) {
        this.#resolve = resolve;
        this.#reject = reject;
        return;
      }
      const onAbort = (): void => {
        if (this.#attempt !== attempt) return;
        this.#clearPending();
        reject(abortError(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#resolve = (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      };
      this.#reject = (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      };
    });
  }

  #failIfError(): void {
    if (this.#error !== null) throw this.#error;
  }

  /**
   * Up to `n` bytes (n = -1: everything until the end of the stream). Empty at the end of the
   * stream (or for n = 0).
   */
  read(n = -1, options?: ReadOptions): Promise<Buffer> {
    // The common case, read(bufsize) with no signal while nothing failed, makes no closure.
    if (options === undefined && n > 0 && n <= 0x7fffffff && (n | 0) === n && this.#attempt === null && this.#error === null) {
      const size = this.#end - this.#start;
      if (size > 0) return Promise.resolve(this.#take(n < size ? n : size));
      if (this.#eof) return Promise.resolve(EMPTY);
      this.#readSize = n;
      return new Promise<Buffer>((resolve, reject) => {
        this.#attempt = this.#readSome;
        this.#resolve = resolve;
        this.#reject = reject;
      });
    }
    if (n !== -1) checkInt("n", n, -1, 0x7fffffff);
    return this.#run(() => {
      this.#failIfError();
      if (n === 0) return EMPTY;
      const size = this.#end - this.#start;
      if (n < 0) return this.#eof ? this.#take(size) : (this.#forceResume(), null);
      if (size > 0) return this.#take(Math.min(n, size));
      return this.#eof ? EMPTY : null;
    }, options);
  }

  /** The attempt of a pending read(#readSize) with #readSize > 0 (made once per reader). */
  #readSize = 0;
  readonly #readSome: Attempt = () => {
    this.#failIfError();
    const size = this.#end - this.#start;
    if (size > 0) return this.#take(this.#readSize < size ? this.#readSize : size);
    return this.#eof ? EMPTY : null;
  };

  /** read(-1) must see every byte: its buffer may grow past the limit. */
  #forceResume(): void {
    if (this.#paused) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
  }

  /** Exactly `n` bytes; ERR_INCOMPLETE_READ (with `partial`) if the stream ends first. */
  readexactly(n: number, options?: ReadOptions): Promise<Buffer> {
    checkInt("n", n, 0, 0x7fffffff);
    return this.#run(() => {
      this.#failIfError();
      const size = this.#end - this.#start;
      if (size >= n) return this.#take(n);
      if (this.#eof) throw incompleteRead(Buffer.from(this.#take(size)), n);
      if (this.#paused) this.#forceResume();
      return null;
    }, options);
  }

  /**
   * The bytes up to and including `separator` (default "\n"). At the end of the stream first:
   * ERR_INCOMPLETE_READ with the rest as `partial` (taken). Over the limit first:
   * ERR_LIMIT_OVERRUN, the bytes left in the buffer.
   */
  readuntil(separator: string | Uint8Array = NEWLINE, options?: ReadOptions): Promise<Buffer> {
    const sep = typeof separator === "string" ? Buffer.from(separator, "utf8") : separator;
    if (!(sep instanceof Uint8Array))
      throw codedError("ERR_INVALID_ARG_TYPE", `The "separator" argument must be a string or a Uint8Array. Received ${describe(separator)}`, "TypeError");
    if (sep.length === 0) throw codedError("ERR_INVALID_ARG_VALUE", "Separator should be at least one-byte string", "TypeError");
    return this.#run(() => this.#until(sep), options);
  }

  #until(sep: Uint8Array): Buffer | null {
    this.#failIfError();
    const buf = this.#buf;
    if (this.#searchSep !== sep) {
      this.#searchSep = sep;
      this.#searchFrom = 0;
    }
    const from = this.#searchFrom > this.#start ? this.#searchFrom : this.#start;
    // indexOf has no end bound; a match running past #end means none inside (the first match would be inside).
    const at = this.#end - from >= sep.length ? buf.indexOf(sep, from) : -1;
    const limit = this.#limit;
    if (at >= 0 && at + sep.length <= this.#end) {
      if (at - this.#start > limit) throw limitOverrun("Separator is found, but chunk is longer than limit", at - this.#start);
      return this.#take(at + sep.length - this.#start);
    }
    const size = this.#end - this.#start;
    const next = this.#end - sep.length + 1;
    this.#searchFrom = next > this.#start ? next : this.#start;
    if (size > limit) throw limitOverrun("Separator is not found, and chunk exceed the limit", size);
    if (this.#eof) throw incompleteRead(Buffer.from(this.#take(size)), null);
    return null;
  }

  /**
   * One line, "\n" included; at the end of the stream, what is left (maybe without "\n", maybe
   * empty). Over the limit: ERR_LIMIT_OVERRUN, and the line (or the buffer) is dropped, as asyncio's.
   */
  readline(options?: ReadOptions): Promise<Buffer> {
    return this.#run(() => {
      try {
        return this.#until(NEWLINE);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === "ERR_INCOMPLETE_READ") return (error as IncompleteReadError).partial;
        if (code === "ERR_LIMIT_OVERRUN") {
          const buf = this.#buf;
          const at = buf.indexOf(NEWLINE, this.#start);
          this.#take(at >= 0 && at < this.#end ? at + 1 - this.#start : this.#end - this.#start);
        }
        throw error;
      }
    }, options);
  }

  /** Lines until the end of the stream (asyncio's `async for line in reader`). */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }
}
