/**
 * lib/sockio.ts — the one hot path under `Socket` and the loop's `sock*` calls: the non-throwing
 * socket syscalls, the receive-buffer policy and the errno classes (would-block, connect under
 * way) they share, so a speed-up or a fix made here holds for both layers.
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
 * The other syscalls both layers make are here too, as thin non-throwing calls (-errno on failure),
 * so that the loop's sock* calls make the very calls Socket makes (as CPython's sock_recv calls
 * sock.recv) and lib/loop/ never reaches the native layer itself. The argument policy both layers
 * share is lib/args.ts.
 */
// Buffer from node:buffer, not the global: the global is an accessor, a getter call per use.
import { Buffer } from "node:buffer";

import type { NativeAddress } from "./addresses.js";
import { native, type BufferLike, type SocketAddress } from "./native.js";

const C = native.constants;
const EAGAIN = C.EAGAIN;
const EWOULDBLOCK = C.EWOULDBLOCK;
const ENOTCONN = C.ENOTCONN;
const EINPROGRESS = C.EINPROGRESS;
const EALREADY = C.EALREADY;
const EINTR = C.EINTR;
const EISCONN = C.EISCONN;
const ECONNABORTED = C.ECONNABORTED;
const SOL_SOCKET = C.SOL_SOCKET;
const SO_ERROR = C.SO_ERROR;
const MSG_TRUNC = C.MSG_TRUNC;

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
let slabMemory = slab.buffer as ArrayBuffer;
let slabOffset = 0;

/** Whether a native result is a would-block (EAGAIN/EWOULDBLOCK): Python's BlockingIOError. */
export function wouldBlock(r: number): boolean {
  return r === -EAGAIN || r === -EWOULDBLOCK;
}

/**
 * Whether a connect's result, or the pending error of a connect under way (both as -errno), means
 * it has not finished yet: EINPROGRESS, EALREADY or EINTR (the connect goes on in the kernel). The
 * loop's sockConnect waits then; a non-blocking Socket.connect reports it. A would-block is not
 * one: connect(2) says EAGAIN when a Unix socket's listener has a full backlog (or, for TCP, when
 * no local port is free), and nothing goes on in the kernel. An unconnected Unix socket is always
 * writable, so a wait for it would spin; the loop reports EAGAIN at once, as libuv does (CPython's
 * sock_connect waits, then takes the still unconnected socket for connected).
 */
export function connectInProgress(r: number): boolean {
  return r === -EINPROGRESS || r === -EALREADY || r === -EINTR;
}

/** Whether a connect's result (-errno or 0) says the socket is connected (0, or EISCONN on a repeated connect). */
export function connectDone(r: number): boolean {
  return r === 0 || r === -EISCONN;
}

/** Whether a failed accept (-errno) only means there is nothing to take now: would-block, or a connection reset before it was taken. */
export function acceptAgain(r: number): boolean {
  return wouldBlock(r) || r === -ECONNABORTED;
}

/** Where a recv of up to `size` bytes reads: the slab's free room, or a buffer of its own. */
function readBuffer(size: number): Buffer {
  if (size > SLAB_READ_MAX) return Buffer.allocUnsafeSlow(size);
  if (SLAB_SIZE - slabOffset < size) freshSlab();
  return slab;
}

/** Replaces the receive slab (the views made of the old one keep it alive as long as they live). */
function freshSlab(): void {
  slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
  slabMemory = slab.buffer as ArrayBuffer;
  slabOffset = 0;
}

/** The `count` (> 0) bytes a recv put into the slab at `offset`, as the result; the room after them stays free. */
function slabView(offset: number, count: number): Buffer {
  slabOffset = (offset + count + 7) & ~7;
  // allocUnsafeSlow gives the slab an ArrayBuffer of its own: its byteOffset is 0.
  return viewOf(slabMemory, offset, count);
}

/** The `count` bytes a recv put into `from` (see readBuffer) at `offset`, as the result. */
function takeBytes(from: Buffer, offset: number, count: number): Buffer {
  if (count === 0) return Buffer.allocUnsafe(0); // the end of the stream pins no slab
  if (from === slab) {
    return slabView(offset, count);
  }
  // A read into a buffer of its own: keep it when mostly filled, else copy so it is not pinned.
  if (count === from.length) return from;
  if (count >= from.length >>> 1) return from.subarray(0, count);
  return Buffer.from(from.subarray(0, count));
}

/**
 * recv(2) of up to `bufsize` bytes (checked by the caller): the bytes read (empty at the end of
 * the stream), or -errno. Never throws for a failed syscall.
 *
 * The common call (no flags, a bufsize the slab serves) is kept short enough for V8 to inline
 * into its caller: it reads into the slab and makes the view itself. Reads into the slab go
 * through its ArrayBuffer, not a view of it: the addon finds an ArrayBuffer's bytes with one cheap
 * call, a view's with several (about a third of a small recv's native cost).
 */
export function recvBytes(fd: number, bufsize: number, flags?: number): Buffer | number {
  if (flags === undefined && bufsize <= SLAB_READ_MAX) {
    if (SLAB_SIZE - slabOffset < bufsize) freshSlab();
    const offset = slabOffset;
    const n = native.recvArrayBuffer(fd, slabMemory, offset, bufsize);
    if (n > 0) return slabView(offset, n);
    return n < 0 ? n : Buffer.allocUnsafe(0); // the end of the stream pins no slab
  }
  return recvBytesSlow(fd, bufsize, flags);
}

/** recvBytes's other cases: flags, or a bufsize larger than the slab serves (a buffer of its own). */
function recvBytesSlow(fd: number, bufsize: number, flags: number | undefined): Buffer | number {
  const size = bufsize < MAX_RECV_CHUNK ? bufsize : MAX_RECV_CHUNK;
  // MSG_TRUNC is looked for here only: the flag-less call makes no more checks.
  if (flags !== undefined && truncating(flags)) return recvTruncating(fd, size, flags);
  const into = readBuffer(size);
  const offset = into === slab ? slabOffset : 0;
  const n = into === slab ? native.recvArrayBuffer(fd, slabMemory, offset, size, flags) : native.recv(fd, into, offset, size, flags);
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

/**
 * recvfrom(2) as recvBytes: `[bytes, address]` (address null when the kernel gives none), or
 * -errno. The address comes back through the shared array (see addressWritten).
 */
export function recvfromBytes(fd: number, bufsize: number, flags?: number): [Buffer, SocketAddress | null] | number {
  const size = bufsize < MAX_RECV_CHUNK ? bufsize : MAX_RECV_CHUNK;
  if (flags !== undefined && truncating(flags)) {
    const own = Buffer.alloc(size);
    const t = native.recvfromAddressInto(fd, own, 0, size, flags, addressBuffer);
    return t < 0 ? t : [own.subarray(0, t < size ? t : size), senderWritten()];
  }
  const into = readBuffer(size);
  const inSlab = into === slab;
  const offset = inSlab ? slabOffset : 0;
  const n = native.recvfromAddressInto(fd, inSlab ? slabMemory : into, offset, size, flags, addressBuffer);
  return n < 0 ? n : [takeBytes(into, offset, n), senderWritten()];
}

/** recv(2) into the first `length` bytes of `buffer`: the count (0 at the end of the stream), or -errno. */
export function recvInto(fd: number, buffer: BufferLike, length: number, flags?: number): number {
  return native.recv(fd, buffer, 0, length, flags);
}

/** recvfrom(2) into the first `length` bytes of `buffer`: `[count, address]`, or -errno. */
export function recvfromInto(fd: number, buffer: BufferLike, length: number, flags?: number): [number, SocketAddress | null] | number {
  const n = native.recvfromAddressInto(fd, buffer, 0, length, flags, addressBuffer);
  return n < 0 ? n : [n, senderWritten()];
}

/** send(2) of `length` bytes of `bytes` from `offset`: the count sent, or -errno. */
export function sendBytes(fd: number, bytes: BufferLike, offset: number, length: number, flags?: number): number {
  // Each argument passed costs the addon a read: the common call (no flags) passes four.
  return flags === undefined ? native.send(fd, bytes, offset, length) : native.send(fd, bytes, offset, length, flags);
}

/** sendto(2) of all of `bytes` to `address` (checked by addressArgs): the count sent, or -errno. */
export function sendtoBytes(fd: number, bytes: BufferLike, flags: number | undefined, family: number, address: NativeAddress): number {
  return native.sendto(fd, bytes, undefined, undefined, flags, family, ...address);
}

/** Where acceptInto, getpeernameInto and recvfromAddressInto write an address: [family, length, the sockaddr's bytes]. */
const addressOut = new Int32Array(native.sockaddrOutWords);
const addressBytes = new Uint8Array(addressOut.buffer, 8);
/**
 * @internal The array's ArrayBuffer, the cheaper argument (see acceptInto); lib/ring.ts has the
 * ring's takeAddressInto write a sender here too, for senderWritten.
 */
export const addressBuffer: ArrayBuffer = addressOut.buffer;
const AF_INET = C.AF_INET;
/** The last IPv4 address read (as one int32) and its text: most connections come from a few hosts. */
let lastIPv4 = 0;
let lastIPv4Host = "0.0.0.0";

/** accept4(2): `[fd, address]` (the new fd non-blocking if asked), or -errno. */
export function acceptFd(fd: number, nonblocking: boolean): [number, SocketAddress] | number {
  const c = native.acceptInto(fd, addressBuffer, nonblocking);
  return c < 0 ? c : [c, addressWritten()];
}

/** getpeername(2): the peer's address, or -errno (-ENOTCONN: it has none). */
export function peerAddress(fd: number): SocketAddress | number {
  const r = native.getpeernameInto(fd, addressBuffer);
  return r < 0 ? r : addressWritten();
}

/**
 * @internal The sender recvfromAddressInto (or the ring's takeAddressInto) just wrote into
 * addressBuffer: null when the kernel gave none (a connected stream).
 */
export function senderWritten(): SocketAddress | null {
  return addressOut[1] === 0 ? null : addressWritten();
}

/**
 * The address the addon just wrote: an IPv4 one read here (a sockaddr_in has its port at bytes 2-3
 * and its address at 4-7, in network order, on Linux as on the BSDs), any other through the addon.
 */
function addressWritten(): SocketAddress {
  if (addressOut[0] === AF_INET) {
    const b = addressBytes;
    const ip = addressOut[3]!; // sockaddr bytes 4-7
    if (ip !== lastIPv4) {
      lastIPv4Host = `${b[4]!}.${b[5]!}.${b[6]!}.${b[7]!}`;
      lastIPv4 = ip;
    }
    return [lastIPv4Host, (b[2]! << 8) | b[3]!];
  }
  // Unknown families (null) cannot come from a socket this package made (AF_INET, AF_INET6, AF_UNIX).
  return native.decodeAddress(addressOut) as SocketAddress;
}

/** connect(2) to `address` (checked by addressArgs): 0, or -errno (-EINPROGRESS: under way). */
export function connectFd(fd: number, family: number, address: NativeAddress): number {
  return native.connect(fd, family, ...address);
}

/** The socket's pending error (SO_ERROR, which reading clears): 0 or a positive errno. */
export function pendingError(fd: number): number {
  return native.getsockopt(fd, SOL_SOCKET, SO_ERROR);
}

/** Whether the socket has a peer (getpeername succeeds); false on ENOTCONN, other errors thrown. */
export function hasPeer(fd: number): boolean {
  try {
    native.getpeername(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).errno === -ENOTCONN) return false;
    throw error;
  }
}

/** Closes an fd this package made and owns (an accepted fd no Socket owns yet, or could not be wrapped). */
export function closeFd(fd: number): void {
  native.close(fd);
}

// ---------------------------------------------------------------------------------------------
// The transports' syscalls (lib/asyncio/): non-throwing, as recvBytes, for the per-request path.

/**
 * One stream recv into the receive slab's free room (at least SLAB_READ_MAX bytes: readBuffer
 * replaces a fuller slab): the bytes (a view of the slab, as recvBytes gives), empty at the end of
 * the stream, or -errno.
 */
export function recvChunk(fd: number): Buffer | number {
  if (SLAB_SIZE - slabOffset < SLAB_READ_MAX) freshSlab();
  const offset = slabOffset;
  const n = native.recvArrayBuffer(fd, slabMemory, offset, SLAB_SIZE - offset);
  if (n > 0) return slabView(offset, n);
  return n < 0 ? n : Buffer.allocUnsafe(0);
}

/**
 * One send(2) of all of `data` (with `flags`, when given): the count written or -errno (never
 * SIGPIPE). Without flags the addon is passed the view alone, and so reads no offset or length.
 */
export function sendView(fd: number, data: BufferLike, flags?: number): number {
  return flags === undefined ? native.send(fd, data) : native.send(fd, data, 0, data.byteLength, flags);
}

/** A gathered send (sendmsg) of every buffer in order: the count written or -errno. */
export function sendvBytes(fd: number, buffers: readonly BufferLike[]): number {
  return native.writev(fd, buffers);
}

/**
 * Accepts pending connections on a non-blocking listener into `out` (new fds, non-blocking and
 * CLOEXEC): the count, or -errno when none was accepted (-EAGAIN when the backlog is empty).
 */
export function acceptFds(fd: number, out: Int32Array): number {
  return native.acceptBatch(fd, out, true);
}
