/**
 * lib/sockio.ts — the one hot path under `Socket` and the loop's `sock*` calls: the non-throwing
 * receive helpers, the receive-buffer policy and the argument policy they share, so a speed-up or
 * a fix made here holds for both layers.
 *
 * Receive-buffer policy: `recv(n)` for n up to SLAB_READ_MAX reads straight into the free room of
 * a shared slab (SLAB_SIZE bytes, replaced when the room left is under n) and returns a view of
 * the bytes that came, as Buffer.allocUnsafe shares Node's pool: an 80-byte answer to
 * `recv(65536)` costs an 80-byte view, with neither a 64 KiB allocation nor a copy. Like a pooled
 * Buffer, a view keeps its slab alive: copy a small piece (`Buffer.from(data)`) to keep it for
 * long. A larger `n` reads into a buffer of its own, at most MAX_RECV_CHUNK bytes (a recv may
 * return fewer bytes than asked anyway, and no socket buffer or datagram comes near it), copied
 * out when mostly empty so the result does not pin it.
 *
 * Argument policy (one message style, as Node's and `native/args.cc`'s): a value of the wrong type
 * is ERR_INVALID_ARG_TYPE (TypeError), a number out of range or not an integer ERR_OUT_OF_RANGE
 * (RangeError), a value of the right type that names nothing valid ERR_INVALID_ARG_VALUE.
 */
// Buffer from node:buffer, not the global: the global is an accessor, a getter call per use.
import { Buffer, constants as bufferConstants } from "node:buffer";
import { Socket as DgramSocket } from "node:dgram";
import type { FileHandle } from "node:fs/promises";
import { Socket as NetSocket } from "node:net";

import { codedError, systemError } from "./errors.js";
import { native, type BufferLike, type SocketAddress } from "./native.js";

const C = native.constants;
const EAGAIN = C.EAGAIN;
const EWOULDBLOCK = C.EWOULDBLOCK;
const EBADF = C.EBADF;
const SOCK_STREAM = C.SOCK_STREAM;
const MSG_TRUNC = C.MSG_TRUNC;

/** The largest Buffer this Node can make. */
const MAX_BUFFER = bufferConstants.MAX_LENGTH;
/** The size of a receive slab. */
const SLAB_SIZE = 128 * 1024;
/** Reads of up to this many bytes go into a slab; larger ones get a buffer of their own. */
const SLAB_READ_MAX = 64 * 1024;
/** The most one recv reads, whatever `n` asks for. */
const MAX_RECV_CHUNK = 8 * 1024 * 1024;

/**
 * Makes the Buffer over a slab's bytes. Node's own Buffer class (FastBuffer, the one every Buffer
 * is an instance of) is Buffer[Symbol.species]; constructing it directly skips Buffer.from's
 * argument checks, which cost a native call per recv. Buffer.from where that class is not there.
 */
const viewOf: (memory: ArrayBufferLike, offset: number, length: number) => Buffer = (() => {
  const species: unknown = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species];
  if (typeof species === "function" && species.prototype === Buffer.prototype) {
    const NodeBuffer = species as new (memory: ArrayBufferLike, offset: number, length: number) => Buffer;
    return (memory, offset, length) => new NodeBuffer(memory, offset, length);
  }
  return (memory, offset, length) => Buffer.from(memory, offset, length);
})();

/** The current receive slab and where its free room starts (8-byte aligned, as Node's pool). */
let slab: Buffer = Buffer.allocUnsafeSlow(SLAB_SIZE);
/** slab.buffer, kept: the getter costs a measurable share of a small recv. */
let slabMemory: ArrayBufferLike = slab.buffer;
let slabOffset = 0;

/** Whether a native result is a would-block (EAGAIN/EWOULDBLOCK): Python's BlockingIOError. */
export function wouldBlock(r: number): boolean {
  return r === -EAGAIN || r === -EWOULDBLOCK;
}

/** A value as Node's argument errors describe it ("type string ('16')", "an instance of Map"). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return `an instance of Array`;
  if (typeof value === "function") return `function ${value.name || "<anonymous>"}`;
  if (typeof value === "object") {
    // Node's own sockets share our class's name: say which module they come from.
    const foreign = foreignSocket(value);
    if (foreign !== undefined) return `an instance of ${foreign} Socket`;
    return `an instance of ${safeString(() => (value as object).constructor?.name ?? "Object")}`;
  }
  if (typeof value === "string") return `type string (${JSON.stringify(value.length > 28 ? value.slice(0, 25) + "..." : value)})`;
  if (typeof value === "symbol") return "type symbol";
  return `type ${typeof value} (${String(value)})`;
}

/**
 * "node:net" for a node:net Socket (a tls.TLSSocket too), "node:dgram" for a node:dgram Socket,
 * else undefined: the sockets of Node's own modules, which libuv owns and which have no fileno().
 * Used to name them in argument errors, where "an instance of Socket" would read like ours.
 */
export function foreignSocket(value: unknown): "node:net" | "node:dgram" | undefined {
  if (value instanceof NetSocket) return "node:net";
  if (value instanceof DgramSocket) return "node:dgram";
  return undefined;
}

/** make()'s text, or "<unprintable>" when it throws (an object whose toString throws). */
export function safeString(make: () => string): string {
  try {
    return make();
  } catch {
    return "<unprintable>";
  }
}

/** An integer in [min, max], else ERR_INVALID_ARG_TYPE (not a number) or ERR_OUT_OF_RANGE. */
export function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number")
    throw codedError("ERR_INVALID_ARG_TYPE", `The "${name}" argument must be of type number. Received ${describe(value)}`, "TypeError");
  if (!Number.isInteger(value) || value < min || value > max)
    throw codedError(
      "ERR_OUT_OF_RANGE",
      `The value of "${name}" is out of range. It must be an integer >= ${min} and <= ${max}. Received ${value}`,
      "RangeError",
    );
  return value;
}

/** A recv size: an integer from 0 to the largest Buffer. */
export function checkBufsize(value: unknown, name = "bufsize"): number {
  // The common case costs three comparisons; anything else gets checkInt's error.
  if (typeof value === "number" && value >= 0 && value <= MAX_BUFFER && Math.floor(value) === value) return value;
  return checkInt(name, value, 0, MAX_BUFFER);
}

/** How many bytes of `buffer` a recv*Into call may fill: its first `nbytes` (0 or omitted: all of it). */
export function intoLength(buffer: unknown, nbytes: unknown): number {
  if (!ArrayBuffer.isView(buffer))
    throw codedError(
      "ERR_INVALID_ARG_TYPE",
      `The "buffer" argument must be an instance of Buffer, TypedArray, or DataView. Received ${describe(buffer)}`,
      "TypeError",
    );
  const length = buffer.byteLength;
  if (nbytes === undefined || nbytes === 0) return length;
  checkInt("nbytes", nbytes, 0, MAX_BUFFER);
  if ((nbytes as number) > length)
    throw codedError(
      "ERR_OUT_OF_RANGE",
      `The value of "nbytes" is out of range. It must be <= the buffer's length (${length}). Received ${nbytes as number}`,
      "RangeError",
    );
  return nbytes as number;
}

/** The bytes of `data` (a string as UTF-8), or ERR_INVALID_ARG_TYPE for anything else. */
export function toBytes(data: string | BufferLike): BufferLike {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (!ArrayBuffer.isView(data))
    throw codedError("ERR_INVALID_ARG_TYPE", `The "data" argument must be a string, Buffer, TypedArray, or DataView. Received ${describe(data)}`, "TypeError");
  return data;
}

/** Where a recv of up to `size` bytes reads: the slab's free room, or a buffer of its own. */
function readBuffer(size: number): Buffer {
  if (size > SLAB_READ_MAX) return Buffer.allocUnsafeSlow(size);
  if (SLAB_SIZE - slabOffset < size) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabMemory = slab.buffer;
    slabOffset = 0;
  }
  return slab;
}

/** The `count` bytes a recv put into `from` (see readBuffer) at `offset`, as the result. */
function takeBytes(from: Buffer, offset: number, count: number): Buffer {
  if (count === 0) return Buffer.allocUnsafe(0); // the end of the stream pins no slab
  if (from === slab) {
    slabOffset = (offset + count + 7) & ~7;
    // allocUnsafeSlow gives the slab an ArrayBuffer of its own: its byteOffset is 0.
    return viewOf(slabMemory, offset, count);
  }
  // A read into a buffer of its own: keep it when mostly filled, else copy so it is not pinned.
  if (count === from.length) return from;
  if (count >= from.length >>> 1) return from.subarray(0, count);
  return Buffer.from(from.subarray(0, count));
}

/**
 * recv(2) of up to `bufsize` bytes (checked by the caller): the bytes read (empty at the end of
 * the stream), or -errno. Never throws for a failed syscall.
 */
export function recvBytes(fd: number, bufsize: number, flags?: number): Buffer | number {
  const size = bufsize < MAX_RECV_CHUNK ? bufsize : MAX_RECV_CHUNK;
  const into = readBuffer(size);
  const offset = into === slab ? slabOffset : 0;
  let n: number;
  if (flags === undefined) {
    n = native.recv(fd, into, offset, size);
  } else {
    // MSG_TRUNC is looked for in the flags branch only: the flag-less call makes no more checks.
    if (truncating(flags)) return recvTruncating(fd, size, flags);
    n = native.recv(fd, into, offset, size, flags);
  }
  return n < 0 ? n : takeBytes(into, offset, n);
}

/**
 * Whether recv flags include MSG_TRUNC, with which the kernel reports more bytes than it wrote: a
 * datagram's full length, or (TCP on Linux) bytes it discarded without writing any.
 */
function truncating(flags: unknown): boolean {
  return typeof flags === "number" && (flags & MSG_TRUNC) !== 0;
}

/**
 * A recv with MSG_TRUNC: into a zeroed buffer of its own, and the bytes returned are at most
 * `size`, so no stale byte of the receive slab (another connection's data) can come back in the
 * part the kernel counted but did not write. recvInto returns the kernel's count as is.
 */
function recvTruncating(fd: number, size: number, flags: number): Buffer | number {
  const into = Buffer.alloc(size);
  const n = native.recv(fd, into, 0, size, flags);
  return n < 0 ? n : into.subarray(0, n < size ? n : size);
}

/** recvfrom(2) as recvBytes: `[bytes, address]` (address null when the kernel gives none), or -errno. */
export function recvfromBytes(fd: number, bufsize: number, flags?: number): [Buffer, SocketAddress | null] | number {
  const size = bufsize < MAX_RECV_CHUNK ? bufsize : MAX_RECV_CHUNK;
  const into = readBuffer(size);
  const offset = into === slab ? slabOffset : 0;
  let r: [number, SocketAddress | null] | number;
  if (flags === undefined) {
    r = native.recvfrom(fd, into, offset, size);
  } else {
    if (truncating(flags)) {
      const own = Buffer.alloc(size);
      const t = native.recvfrom(fd, own, 0, size, flags);
      if (typeof t === "number") return t;
      return [own.subarray(0, t[0] < size ? t[0] : size), t[1]];
    }
    r = native.recvfrom(fd, into, offset, size, flags);
  }
  if (typeof r === "number") return r;
  // The native [count, address] pair becomes the [bytes, address] result without a second array.
  const pair = r as unknown as [Buffer, SocketAddress | null];
  pair[0] = takeBytes(into, offset, r[0]);
  return pair;
}

// ---------------------------------------------------------------------------------------------
// sendfile: the argument policy and the chunking that Socket.sendfile and loop.sockSendfile share.

/**
 * What `sendfile` sends from: an fd open for reading, or a node:fs/promises FileHandle (its `fd`
 * is used; the FileHandle stays open and its own). The file must support pread(2) — a regular
 * file — since reading starts at an explicit offset and neither uses nor moves the file's position.
 */
export type SendfileSource = number | FileHandle;

/** Checked sendfile arguments: the fd to read, where to start, and how many bytes (undefined: to the end). */
export interface SendfileArgs {
  readonly fileFd: number;
  readonly offset: number;
  readonly count: number | undefined;
}

/** The most one native sendfile call is asked for (CPython caps its block size at 1 GiB too). */
const SENDFILE_CHUNK = 2 ** 30;

/**
 * Checks sendfile's arguments as CPython's _check_sendfile_params does: a SOCK_STREAM socket only
 * (ERR_SOCKET_BAD_TYPE), `offset` an integer >= 0, `count` undefined/null (to the end of the file)
 * or an integer >= 1. A FileHandle is duck-typed (a numeric `fd` and a `stat` method); a closed one
 * (fd -1) gives EBADF.
 */
export function sendfileArgs(sockType: number, file: unknown, offset: unknown, count: unknown): SendfileArgs {
  let fileFd: number;
  if (typeof file === "number") {
    fileFd = checkInt("file", file, 0, 0x7fffffff);
  } else if (
    file !== null &&
    typeof file === "object" &&
    typeof (file as { fd?: unknown }).fd === "number" &&
    typeof (file as { stat?: unknown }).stat === "function"
  ) {
    fileFd = (file as FileHandle).fd;
    if (fileFd === -1) throw systemError(-EBADF, "sendfile");
    checkInt("file.fd", fileFd, 0, 0x7fffffff);
  } else {
    throw codedError(
      "ERR_INVALID_ARG_TYPE",
      `The "file" argument must be an fd (a number) or a node:fs/promises FileHandle. Received ${describe(file)}`,
      "TypeError",
    );
  }
  const start = offset === undefined ? 0 : checkInt("offset", offset, 0, Number.MAX_SAFE_INTEGER);
  const total = count === undefined || count === null ? undefined : checkInt("count", count, 1, Number.MAX_SAFE_INTEGER);
  if (sockType !== SOCK_STREAM) throw codedError("ERR_SOCKET_BAD_TYPE", "sendfile(): only SOCK_STREAM sockets are supported");
  return { fileFd, offset: start, count: total };
}

/** How many bytes the next native sendfile call asks for, after `sent`; 0 when `count` is done. */
export function sendfileChunk(args: SendfileArgs, sent: number): number {
  if (args.count === undefined) return SENDFILE_CHUNK;
  const left = args.count - sent;
  return left < SENDFILE_CHUNK ? left : SENDFILE_CHUNK;
}

/** An error from a sendfile that had sent `sent` bytes: it carries them as `bytesSent`. */
export function withBytesSent<E>(error: E, sent: number): E {
  if (error instanceof Error) (error as Error & { bytesSent?: number }).bytesSent = sent;
  return error;
}

// ---------------------------------------------------------------------------------------------
// The transports' syscalls (lib/asyncio/): non-throwing, as recvBytes, for the per-request path.
// The binding object has too many properties for V8 to keep them "fast" (it is a dictionary):
// every `native.x` load is a hash lookup. The per-request calls are read off it once here.

const nativeRecv = native.recv;
const nativeSend = native.send;
const nativeWritev = native.writev;

/**
 * One stream recv into the receive slab: the bytes (a view of the slab, as recvBytes gives),
 * empty at the end of the stream, or -errno. The slab is replaced when less than SLAB_READ_MAX
 * bytes of room are left, so a recv may return up to the slab's free room.
 */
export function recvChunk(fd: number): Buffer | number {
  if (SLAB_SIZE - slabOffset < SLAB_READ_MAX) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabMemory = slab.buffer;
    slabOffset = 0;
  }
  const offset = slabOffset;
  const n = nativeRecv(fd, slab, offset);
  if (n <= 0) return n === 0 ? Buffer.allocUnsafe(0) : n;
  slabOffset = (offset + n + 7) & ~7;
  return viewOf(slabMemory, offset, n);
}

/** One send(2) of all of `data`: the count written or -errno (never SIGPIPE). */
export function sendView(fd: number, data: BufferLike): number {
  return nativeSend(fd, data);
}

/** A gathered send (sendmsg) of every buffer in order: the count written or -errno. */
export function sendvBytes(fd: number, buffers: readonly BufferLike[]): number {
  return nativeWritev(fd, buffers);
}

/** recv(2) into buffer[0, length): the count read (0 at the end of the stream) or -errno. */
export function recvIntoBytes(fd: number, buffer: BufferLike, length: number): number {
  return nativeRecv(fd, buffer, 0, length);
}

/**
 * Accepts pending connections on a non-blocking listener into `out` (new fds, non-blocking and
 * CLOEXEC): the count, or -errno when none was accepted (-EAGAIN when the backlog is empty).
 */
export function acceptFds(fd: number, out: Int32Array): number {
  return native.acceptBatch(fd, out, true);
}

/** Closes an fd that no Socket owns yet (one acceptFds returned). */
export function closeFd(fd: number): void {
  native.close(fd);
}
