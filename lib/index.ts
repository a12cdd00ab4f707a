/**
 * lib/index.ts — the package's public entry.
 *
 * - Python-shaped layers: selectors (EVENT_READ, DefaultSelector...), Socket, EventLoop.
 * - Low-level layer, one function per syscall: `epoll`, `kqueue`, `poll`, and `lowlevel` (socket
 *   calls, watchers). Hot-path calls there return -errno instead of throwing.
 */
import { native, type NativeBinding } from "./native.js";

export {
  EVENT_READ,
  EVENT_WRITE,
  BaseSelector,
  DefaultSelector,
  EpollSelector,
  KqueueSelector,
  PollSelector,
  SelectorMapping,
  availableSelectors,
  fileobjToFd,
  type FileLike,
  type FileObj,
  type SelectorKey,
  type SelectorReady,
  type SelectorClass,
} from "./selectors.js";
export {
  Socket,
  socketpair,
  AF_INET,
  AF_INET6,
  AF_UNIX,
  SOCK_STREAM,
  SOCK_DGRAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_SNDBUF,
  SO_RCVBUF,
  IPPROTO_TCP,
  TCP_NODELAY,
  SHUT_RD,
  SHUT_WR,
  SHUT_RDWR,
  type AddressInput,
  type SendData,
} from "./socket.js";
export {
  EventLoop,
  Handle,
  TimerHandle,
  getRunningLoop,
  run,
  sleep,
  type ConnectAddress,
  type ExceptionContext,
  type ExceptionHandler,
  type LoopKeyData,
  type SleepOptions,
  type SockOptions,
  type SocketLike,
} from "./loop.js";
export { codedError, systemError, type CodedError } from "./errors.js";
export type {
  BackendKind,
  BufferLike,
  EpollBinding,
  Inet4Address,
  Inet6Address,
  KqueueBinding,
  NativeBinding,
  NativeConstants,
  NativePoller,
  NativeWatcher,
  PollFunction,
  SocketAddress,
} from "./native.js";

/** Linux epoll syscalls (create, ctl, wait) and EPOLL* constants; undefined elsewhere. */
export const epoll = native.epoll;
/** kqueue syscalls (create, kevent) and EVFILT and EV constants; undefined where unavailable. */
export const kqueue = native.kqueue;
/** poll(2) over an Int32Array of (fd, events, revents) triples, with the POLL* constants. */
export const poll = native.poll;
/** Which backends this build has, and the default one. */
export const backends = native.backends;
export const defaultBackend = native.defaultBackend;
/** The whole native layer: socket syscalls, Poller, Watcher, constants. See NativeBinding. */
export const lowlevel: NativeBinding = native;
