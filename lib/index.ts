/// <reference types="node" preserve="true" />
/**
 * lib/index.ts — the package's public entry.
 *
 * - Python-shaped layers: selectors (EVENT_READ, DefaultSelector...), Socket, EventLoop.
 * - Low-level layer, one function per syscall: `epoll`, `kqueue`, `poll`, and `lowlevel` (socket
 *   calls, watchers). Hot-path calls there return -errno instead of throwing.
 *
 * The declarations use Node's types (Buffer, NodeJS.ErrnoException, Disposable and Symbol.dispose
 * as @types/node >= 20.5 declares them): the reference above makes a TypeScript user's program
 * load @types/node whatever its `types` setting, so no `lib` setting is needed.
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
  type DataArgument,
  type DefaultSelectorClass,
} from "./selectors.js";
export {
  Socket,
  setdefaulttimeout,
  getdefaulttimeout,
  AF_UNSPEC,
  AF_INET,
  AF_INET6,
  AF_UNIX,
  SOCK_STREAM,
  SOCK_DGRAM,
  SOCK_SEQPACKET,
  SOCK_RAW,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_SNDBUF,
  SO_RCVBUF,
  SO_TYPE,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  TCP_NODELAY,
  SHUT_RD,
  SHUT_WR,
  SHUT_RDWR,
  SOMAXCONN,
  MSG_OOB,
  MSG_PEEK,
  MSG_DONTROUTE,
  MSG_DONTWAIT,
  MSG_EOR,
  MSG_TRUNC,
  MSG_CTRUNC,
  MSG_WAITALL,
  MSG_NOSIGNAL,
  MSG_MORE,
  MSG_CONFIRM,
  MSG_ERRQUEUE,
  MSG_CMSG_CLOEXEC,
  AI_PASSIVE,
  AI_CANONNAME,
  AI_NUMERICHOST,
  AI_NUMERICSERV,
  AI_ADDRCONFIG,
  AI_V4MAPPED,
  AI_ALL,
  type AddressFamily,
  type AddressInput,
  type AddressInputOf,
  type SendData,
  type SocketAddressOf,
  type SocketConstructor,
  type SocketType,
} from "./socket.js";
export {
  getaddrinfo,
  gethostname,
  socketpair,
  createConnection,
  createServer,
  hasDualstackIpv6,
  type AddrInfo,
  type CreateServerOptions,
} from "./socket-functions.js";
export type { SendfileSource } from "./sendfile.js";
export { EventLoop, type ConnectAddress, type ExceptionHandler, type LoopKeyData, type SleepOptions, type SockOptions, type SocketLike } from "./loop/loop.js";
export { Handle, TimerHandle, type ExceptionContext } from "./loop/handles.js";
export { ProactorEventLoop, type ProactorOptions } from "./loop/proactor.js";
export { getRunningLoop, run, sleep, type RunOptions } from "./loop/events.js";
export { codedError, systemError, type AddressedError, type CodedError } from "./errors.js";
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
  NativeUring,
  NativeWatcher,
  RingRef,
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

// asyncio layer (lib/asyncio/): Protocols and Transports, servers, streams, datagram endpoints, loop-clock timeouts.
// loop-methods installs EventLoop's createServer, createConnection, ..., timeout (and declares their types).
import "./asyncio/loop-methods.js";
export { BaseProtocol, Protocol, BufferedProtocol, DatagramProtocol, type StreamProtocol } from "./asyncio/protocols.js";
export { Transport, type WriteData } from "./asyncio/transports.js";
export { Server, type ProtocolFactory } from "./asyncio/server.js";
export type {
  CreateServerOptions as LoopCreateServerOptions,
  CreateConnectionOptions,
  CreateUnixServerOptions,
  CreateUnixConnectionOptions,
} from "./asyncio/connections.js";
export { DatagramTransport, type DatagramEndpointOptions } from "./asyncio/datagram.js";
export { StreamReader, type IncompleteReadError, type LimitOverrunError, type ReadOptions } from "./asyncio/stream-reader.js";
export {
  StreamReaderProtocol,
  StreamWriter,
  startServer,
  startUnixServer,
  openConnection,
  openUnixConnection,
  type ClientConnected,
  type StartServerOptions,
  type OpenConnectionOptions,
  type DrainOptions,
} from "./asyncio/streams.js";
export { waitFor } from "./asyncio/wait-for.js";
export type { Awaitable } from "./asyncio/timeouts.js";
