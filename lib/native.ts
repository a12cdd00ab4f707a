/**
 * lib/native.ts — the one loader of the native addon and its typed surface.
 *
 * Every other module imports the binding from here, so the rest of `lib/` never sees `any`.
 * The loader tries the known build directories in order and, when none loads, throws an Error
 * (code ERR_NATIVE_NOT_BUILT) that names every path it tried and the command that builds it.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import type { NativeConstants } from "./native-constants.js";

export type { NativeConstants };

/** An IPv4 address `[host, port]`. */
export type Inet4Address = [host: string, port: number];
/** An IPv6 address `[host, port, flowinfo, scopeId]`. */
export type Inet6Address = [host: string, port: number, flowinfo: number, scopeId: number];
/** A socket address as the native layer returns it: a tuple for IP, a path string for AF_UNIX. */
export type SocketAddress = Inet4Address | Inet6Address | string;

/** Any view of bytes the native layer accepts. */
export type BufferLike = NodeJS.ArrayBufferView;

/** Linux epoll, one function per syscall. Timeouts are in milliseconds; -1 waits forever. */
export interface EpollBinding {
  /** epoll_create1(EPOLL_CLOEXEC); throws a system error. */
  create(): number;
  /** epoll_ctl; throws a system error (EBADF, EEXIST, ENOENT, EPERM...). */
  ctl(epfd: number, op: number, fd: number, events?: number): void;
  /** epoll_wait into caller-owned (fd, events) pairs; returns the count or -errno. */
  wait(epfd: number, out: Int32Array | Uint32Array, timeoutMs: number): number;
  readonly EPOLLIN: number;
  readonly EPOLLOUT: number;
  readonly EPOLLPRI: number;
  readonly EPOLLRDHUP: number;
  readonly EPOLLERR: number;
  readonly EPOLLHUP: number;
  readonly EPOLLET: number;
  readonly EPOLLONESHOT: number;
  readonly EPOLLEXCLUSIVE: number;
  readonly EPOLL_CTL_ADD: number;
  readonly EPOLL_CTL_MOD: number;
  readonly EPOLL_CTL_DEL: number;
  readonly EPOLL_CLOEXEC: number;
}

/** kqueue, one function per syscall. Entries are six int32: ident, filter, flags, fflags, data, udata. */
export interface KqueueBinding {
  /** kqueue() with CLOEXEC; throws a system error. */
  create(): number;
  /** kevent(kq, changes, out, timeoutMs): returns the number of events written to out, or -errno. */
  kevent(kq: number, changes: Int32Array | null, out: Int32Array | null, timeoutMs: number): number;
  readonly STRIDE: number;
  readonly EVFILT_READ: number;
  readonly EVFILT_WRITE: number;
  readonly EVFILT_SIGNAL: number;
  readonly EVFILT_TIMER: number;
  readonly EVFILT_USER: number;
  readonly EV_ADD: number;
  readonly EV_DELETE: number;
  readonly EV_ENABLE: number;
  readonly EV_DISABLE: number;
  readonly EV_ONESHOT: number;
  readonly EV_CLEAR: number;
  readonly EV_RECEIPT: number;
  readonly EV_DISPATCH: number;
  readonly EV_EOF: number;
  readonly EV_ERROR: number;
  readonly NOTE_TRIGGER: number;
  readonly NOTE_FFNOP: number;
  readonly NOTE_FFAND: number;
  readonly NOTE_FFOR: number;
  readonly NOTE_FFCOPY: number;
  readonly NOTE_FFCTRLMASK: number;
  readonly NOTE_FFLAGSMASK: number;
}

/** poll(2) over an Int32Array of (fd, events, revents) triples; returns the ready count or -errno. */
export interface PollFunction {
  (fds: Int32Array, timeoutMs: number): number;
  readonly POLLIN: number;
  readonly POLLOUT: number;
  readonly POLLPRI: number;
  readonly POLLERR: number;
  readonly POLLHUP: number;
  readonly POLLNVAL: number;
}

export type BackendKind = "epoll" | "kqueue" | "poll";

/** One readiness backend behind the common contract: interest and results in READ=1 / WRITE=2. */
export interface NativePoller {
  /** "uring": the io_uring ring (readiness through poll requests, plus NativeUring's operations). */
  readonly kind: BackendKind | "uring";
  /** Throws the kernel's refusal as a system error. */
  add(fd: number, interest: number): void;
  /** Throws the kernel's refusal as a system error. */
  modify(fd: number, oldInterest: number, interest: number): void;
  /** Returns 0 or -errno: a closed fd's registration is gone either way. */
  remove(fd: number, oldInterest: number): number;
  /** (fd, bits) pairs into out, bits masked by the fd's interest; returns the count or -errno. */
  wait(out: Int32Array, timeoutMs: number): number;
  close(): void;
  /** The epoll/kqueue fd, or -1 (poll, or closed). */
  fileno(): number;
}

/**
 * The io_uring ring's completion operations (native/uring.cc), on a Poller of kind "uring". Each
 * operation is named by a positive int32 id not in flight; each returns 0 or -errno (EBUSY: no
 * submission slot). Its completions come out of the Poller's wait() as (id, res, flags) triples in
 * the array given to setCompletions (slot 0: their count); `res` is the syscall's result or -errno.
 * A buffer is held until the operation's last completion. Held is the ArrayBuffer object: a
 * transfer of it (structuredClone, postMessage) would move the memory the kernel uses to a new
 * owner, so mark it untransferable first (node:worker_threads markAsUntransferable), as
 * ProactorEventLoop does.
 */
export interface NativeUring {
  /** Whether this build has the ring (liburing was found when it was built). */
  readonly compiled: boolean;
  /** "" when a ring with every operation used can be set up here, else why not. */
  probe(): string;
  accept?(ring: RingRef, id: number, fd: number, multishot: boolean): number;
  recv?(ring: RingRef, id: number, fd: number, buffer: BufferLike, offset: number, length: number, flags?: number): number;
  send?(ring: RingRef, id: number, fd: number, buffer: BufferLike, offset: number, length: number, flags?: number): number;
  recvmsg?(ring: RingRef, id: number, fd: number, buffer: BufferLike, offset: number, length: number, flags?: number): number;
  sendmsg?(
    ring: RingRef,
    id: number,
    fd: number,
    buffer: BufferLike,
    offset: number,
    length: number,
    flags: number,
    family: number,
    ...address: unknown[]
  ): number;
  connect?(ring: RingRef, id: number, fd: number, family: number, ...address: unknown[]): number;
  /**
   * `count` (a power of two, up to 32768) provided buffers of `size` bytes for multishot receives;
   * each wait copies their bytes into `slab` (at least `size` bytes), one completion's after the
   * other from its start: 0 or -errno (EOPNOTSUPP: the kernel is older than 6.0).
   */
  setupBuffers?(ring: RingRef, count: number, size: number, slab: ArrayBuffer): number;
  /**
   * A multishot receive into the provided buffers; each completion's res bytes are in the slab
   * (flags has IORING_CQE_F_BUFFER). It ends once it has brought `limit` bytes in all (0 or
   * undefined: no limit; only where multishotLimit()).
   */
  recvMultishot?(ring: RingRef, id: number, fd: number, limit?: number): number;
  /** Whether recvMultishot takes a byte limit here (Linux 6.17). */
  multishotLimit?(): boolean;
  /** An operation with nothing in the kernel, ended (-ECANCELED) only by cancel(), close(fd) or the ring's close: 0 or -errno. */
  watchClose?(ring: RingRef, id: number, fd: number): number;
  /** 0, -ENOENT (not in flight) or -EALREADY. */
  cancel?(ring: RingRef, id: number): number;
  /** Submits what is queued without waiting, with the re-arms of the fds the last wait reported: the count or -errno. */
  submit?(ring: RingRef): number;
  setCompletions?(ring: RingRef, out: Int32Array): void;
  /**
   * Writes the sender of a recvmsg completion (once) into out as acceptInto writes an address,
   * with length 0 when there is none.
   */
  takeAddressInto?(ring: RingRef, id: number, out: Int32Array | ArrayBuffer): void;
  /** Operations whose last completion is still to come. */
  inflight?(ring: RingRef): number;
  /**
   * The ring's id, which every operation takes in place of the Poller: a number found in a table,
   * where the Poller costs two type checks per call. Not reused: a closed ring's id stays closed.
   */
  ringId?(ring: NativePoller): number;
}

/** The ring an io_uring operation works on: the Poller of kind "uring", or its ringId(). */
export type RingRef = NativePoller | number;

/** A uv_poll_t on Node's own loop. The callback gets (status, bits): status < 0 is a libuv error. */
export interface NativeWatcher {
  readonly fd: number;
  readonly events: number;
  start(events: number): void;
  stop(): void;
  close(): void;
  setRef(ref: boolean): void;
}

/** One getaddrinfo result, as Python's: `[family, type, proto, canonname, sockaddr]`. */
export type AddrInfo = [family: number, type: number, proto: number, canonname: string, sockaddr: SocketAddress | null];

/** The addon's exports. Functions documented "or -errno" never throw for a failed syscall. */
export interface NativeBinding {
  readonly epoll: EpollBinding | undefined;
  readonly kqueue: KqueueBinding | undefined;
  readonly poll: PollFunction;
  readonly Poller: new (kind: BackendKind | "uring", entries?: number) => NativePoller;
  /**
   * An open Poller's id, which pollerAdd, pollerModify, pollerRemove and pollerWait take in its
   * place: a number found in a table, where a method call on the object costs a type check (about
   * 600 instructions). Not reused: a closed Poller's id stays ERR_SELECTOR_CLOSED.
   */
  pollerId(poller: NativePoller): number;
  /** As `Poller#add` on the Poller with this id. */
  pollerAdd(id: number, fd: number, interest: number): void;
  /** As `Poller#modify` on the Poller with this id. */
  pollerModify(id: number, fd: number, oldInterest: number, interest: number): void;
  /** As `Poller#remove` on the Poller with this id: 0 or -errno. */
  pollerRemove(id: number, fd: number, oldInterest: number): number;
  /** As `Poller#wait` on the Poller with this id; `out` may be the array's ArrayBuffer (one cheap call to read). */
  pollerWait(id: number, out: Int32Array | Uint32Array | ArrayBuffer, timeoutMs: number): number;
  /** The io_uring ring's operations (see NativeUring). */
  readonly uring: NativeUring;
  readonly Watcher: new (fd: number, callback: (status: number, events: number) => void) => NativeWatcher;
  readonly backends: Readonly<Record<BackendKind, boolean>>;
  readonly defaultBackend: BackendKind;
  /** Whether libuv can watch the backend's own fd (false for poll, and for libkqueue on Linux). */
  readonly backendFdWatchable: Readonly<Record<BackendKind, boolean>> & { readonly uring?: boolean };
  readonly constants: NativeConstants;

  /** socket(2) with CLOEXEC (and NONBLOCK when asked); throws. */
  socket(family: number, type: number, proto?: number, nonblock?: boolean): number;
  /** socketpair(2), defaults AF_UNIX / SOCK_STREAM; throws. */
  socketpair(family?: number, type?: number, proto?: number, nonblock?: boolean): [number, number];
  /** pipe2(2): [read, write], non-blocking unless asked otherwise; throws. */
  pipe(nonblock?: boolean): [number, number];
  /** Binds to (host, port[, flowinfo, scopeId]) or a Unix path; names are resolved; throws. */
  bind(fd: number, family: number, hostOrPath: string, port?: number, flowinfo?: number, scopeId?: number): void;
  /** Returns 0 or -errno (-EINPROGRESS on a non-blocking socket); throws for bad arguments and names. */
  connect(fd: number, family: number, hostOrPath: string, port?: number, flowinfo?: number, scopeId?: number): number;
  listen(fd: number, backlog?: number): void;
  /** accept4 with CLOEXEC (NONBLOCK by default): the new fd or -errno. */
  accept(fd: number, nonblock?: boolean): number;
  /** As accept, with the peer's address: [fd, address] or -errno. */
  acceptAddress(fd: number, nonblock?: boolean): [number, SocketAddress] | number;
  /**
   * As accept, with the peer's address written into `out` (at least sockaddrOutWords int32s,
   * checked before the accept) as [family, length, the sockaddr's bytes]: the new fd or -errno.
   * decodeAddress(out) reads it back; lib/sockio.ts reads IPv4 itself. `out` may be the array's
   * ArrayBuffer, which the addon reads with one cheap call where a typed array takes several.
   */
  acceptInto(fd: number, out: Int32Array | Uint32Array | ArrayBuffer, nonblock?: boolean): number;
  /** How many elements acceptInto's `out` must hold: 2 + sizeof(sockaddr_storage) / 4 (34 on Linux, macOS and the BSDs). */
  readonly sockaddrOutWords: number;
  /** getpeername(2) into `out` as acceptInto writes it: 0 or -errno (-ENOTCONN without a peer). */
  getpeernameInto(fd: number, out: Int32Array | Uint32Array | ArrayBuffer): number;
  /** The address acceptInto or getpeernameInto wrote into `out`, as getpeername() returns it (null for an unknown family). */
  decodeAddress(out: Int32Array | Uint32Array | ArrayBuffer): SocketAddress | null;
  /** Accepts until out is full or the backlog is empty: the count, or -errno when none was accepted. */
  acceptBatch(fd: number, out: Int32Array, nonblock?: boolean): number;
  /** Bytes read into buffer[offset, offset+length) (0 at EOF) or -errno. */
  recv(fd: number, buffer: BufferLike, offset?: number, length?: number, flags?: number): number;
  /** As recv, into bytes [offset, offset+length) of an ArrayBuffer itself (no view): a cheaper argument to look into. */
  recvArrayBuffer(fd: number, arrayBuffer: ArrayBuffer, offset?: number, length?: number, flags?: number): number;
  /** Bytes written from buffer[offset, offset+length) or -errno; never raises SIGPIPE. */
  send(fd: number, buffer: BufferLike, offset?: number, length?: number, flags?: number): number;
  /** As recv, with the sender's address: [bytes, address] (null when the kernel gives none) or -errno. */
  recvfrom(fd: number, buffer: BufferLike, offset?: number, length?: number, flags?: number): [number, SocketAddress | null] | number;
  /**
   * As recvfrom, the count (or -errno) returned and the sender's address written into `out` as
   * acceptInto writes it (length 0 when the kernel gives none; read it with decodeAddress).
   * `buffer` may also be an ArrayBuffer; `out` is checked before the syscall.
   */
  recvfromAddressInto(
    fd: number,
    buffer: BufferLike | ArrayBuffer,
    offset: number | undefined,
    length: number | undefined,
    flags: number | undefined,
    out: Int32Array | Uint32Array | ArrayBuffer,
  ): number;
  /** Sends buffer[offset, offset+length) to an address (a datagram): bytes written or -errno. Host names resolve (blocking). */
  sendto(
    fd: number,
    buffer: BufferLike,
    offset: number | undefined,
    length: number | undefined,
    flags: number | undefined,
    family: number,
    hostOrPath: string,
    port?: number,
    flowinfo?: number,
    scopeId?: number,
  ): number;
  /** A gathered write (sendmsg): bytes written or -errno. */
  writev(fd: number, buffers: readonly BufferLike[]): number;
  shutdown(fd: number, how: number): void;
  close(fd: number): void;
  setsockopt(fd: number, level: number, option: number, value: number | boolean): void;
  getsockopt(fd: number, level: number, option: number): number;
  getsockname(fd: number): SocketAddress | null;
  getpeername(fd: number): SocketAddress | null;
  setNonBlocking(fd: number, nonblock: boolean): void;
  getNonBlocking(fd: number): boolean;
  /** Whether fd is an open descriptor. */
  isOpen(fd: number): boolean;
  /**
   * What CPython's socket() finds out about a socket fd it wraps: [family, type, proto,
   * nonblocking] (SO_TYPE, SO_DOMAIN or getsockname, SO_PROTOCOL or 0, O_NONBLOCK). Throws ENOTSOCK
   * (syscall getsockopt) for an fd that is not a socket, EBADF for a closed one.
   */
  socketInfo(fd: number): [family: number, type: number, proto: number, nonblocking: boolean];
  /** A new CLOEXEC fd for the same open socket (F_DUPFD_CLOEXEC); throws (syscall 'dup'). */
  dup(fd: number): number;
  /**
   * getaddrinfo(3), blocking: Python's socket.getaddrinfo. `port` is a number, a service name or
   * numeric string, or null. Throws Node's dns error shape (code ENOTFOUND, EAI_AGAIN...).
   */
  getaddrinfo(host: string | null, port: string | number | null, family?: number, type?: number, proto?: number, flags?: number): AddrInfo[];
  /**
   * Sends up to `count` bytes of the file `fileFd` from `offset` (its position is neither used nor
   * moved) on the socket: the count sent, 0 at the end of the file, or -errno. sendfile(2) on Linux,
   * pread + send elsewhere and for files sendfile(2) refuses.
   */
  sendfile(sockFd: number, fileFd: number, offset: number, count: number): number;
  /** poll(2) on one fd: revents (0 on timeout) or -errno. */
  waitFd(fd: number, events: number, timeoutMs: number): number;
  /** The Node-shaped system Error for an errno (either sign). */
  errorFromErrno(errno: number, syscall: string): NodeJS.ErrnoException;
  /** An errno's (either sign) code and description: ["EAGAIN", "resource temporarily unavailable"]. */
  errnoInfo(errno: number): [code: string, description: string];
  /**
   * Runs `iterate` from a libuv callback until it returns false, draining microtasks after each
   * call. Between two calls, when Node's own libuv loop has work (a timer due, setImmediate,
   * pending callbacks), the run lets libuv run one turn first. With `poller`, that poller's waits
   * also wake for libuv's I/O (its backend fd) and end at libuv's next timer (native/owned.cc).
   */
  runOwned(iterate: () => boolean, done: (error?: unknown) => void, poller?: NativePoller): void;
  /**
   * Whether Node's own libuv loop holds nothing that could run JavaScript later (no referenced
   * handle or request, no pending or closing callback), not counting the calling run's own timer:
   * true exactly when a plain Node process would exit.
   */
  nodeLoopIdle(): boolean;
  /** From now on, each delivery of `signal` writes one byte to `writeFd`. */
  watchSignal(signal: number, writeFd: number): void;
  unwatchSignal(signal: number, writeFd: number): boolean;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Directories searched for the package root, from both lib/ (sources) and dist/lib/ (compiled). */
function packageRoot(): string {
  let dir = here;
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, "binding.gyp"))) return dir;
    dir = dirname(dir);
  }
  return join(here, "..");
}

function loadBinding(): { binding: NativeBinding; path: string } {
  const root = packageRoot();
  const override = process.env.NATIVE_SELECTORS_ADDON;
  const candidates = [
    ...(override ? [override] : []),
    join(root, "build", "Release", "native_selectors.node"),
    join(root, "build", "Debug", "native_selectors.node"),
    join(root, "build-cmake", "Release", "native_selectors.node"),
    join(root, "build-cmake", "Debug", "native_selectors.node"),
  ];
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const candidate of candidates) {
    if (!existsSync(candidate)) {
      failures.push(`${candidate} (not found)`);
      continue;
    }
    try {
      return { binding: require(candidate) as NativeBinding, path: resolve(candidate) };
    } catch (error) {
      failures.push(`${candidate} (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const error = new Error(
    `native-selectors: the native addon is not built. Tried:\n  ${failures.join("\n  ")}\n` +
      `Build it with \`npm run build\` (or \`npm install\`) in ${root}.`,
  ) as NodeJS.ErrnoException;
  error.code = "ERR_NATIVE_NOT_BUILT";
  throw error;
}

const loaded = loadBinding();

/**
 * The loaded addon, copied into a plain object: the binding's own exports object is in V8's
 * dictionary mode (slow properties), so every `native.x` on a hot path would be a hash lookup;
 * the copy has fast properties.
 */
export const native: NativeBinding = { ...loaded.binding };

/**
 * The absolute path of the addon file that loaded (what a child process needs in
 * NATIVE_SELECTORS_ADDON to load the same build).
 * @internal
 */
export const addonPath: string = loaded.path;
