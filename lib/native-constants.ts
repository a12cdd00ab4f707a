/**
 * lib/native-constants.ts — the type of the addon's constants table (native/addon.cc): the
 * platform's values of the socket, message, addrinfo and errno constants the library uses.
 * Constants a platform lacks are optional.
 */
export interface NativeConstants {
  readonly AF_UNSPEC: number;
  readonly AF_INET: number;
  readonly AF_INET6: number;
  readonly AF_UNIX: number;
  readonly SOCK_STREAM: number;
  readonly SOCK_DGRAM: number;
  readonly SOCK_SEQPACKET: number;
  readonly SOCK_RAW: number;
  readonly SOL_SOCKET: number;
  readonly SO_REUSEADDR: number;
  readonly SO_REUSEPORT?: number;
  readonly SO_ERROR: number;
  readonly SO_KEEPALIVE: number;
  readonly SO_SNDBUF: number;
  readonly SO_RCVBUF: number;
  readonly SO_TYPE: number;
  /** Where the kernel has it (Linux, FreeBSD). */
  readonly SO_DOMAIN?: number;
  /** Where the kernel has it (Linux, FreeBSD). */
  readonly SO_PROTOCOL?: number;
  readonly SO_LINGER: number;
  readonly SO_BROADCAST: number;
  readonly IPPROTO_TCP: number;
  readonly IPPROTO_UDP: number;
  readonly IPPROTO_IPV6: number;
  readonly IPV6_V6ONLY: number;
  readonly TCP_NODELAY: number;
  readonly SHUT_RD: number;
  readonly SHUT_WR: number;
  readonly SHUT_RDWR: number;
  readonly MSG_OOB: number;
  readonly MSG_PEEK: number;
  readonly MSG_DONTROUTE: number;
  readonly MSG_DONTWAIT: number;
  readonly MSG_EOR: number;
  readonly MSG_TRUNC: number;
  readonly MSG_CTRUNC: number;
  readonly MSG_WAITALL: number;
  /** Linux and the BSDs (macOS has SO_NOSIGPIPE instead). */
  readonly MSG_NOSIGNAL?: number;
  /** Linux. */
  readonly MSG_MORE?: number;
  /** Linux. */
  readonly MSG_CONFIRM?: number;
  /** Linux. */
  readonly MSG_ERRQUEUE?: number;
  /** Linux and the BSDs. */
  readonly MSG_CMSG_CLOEXEC?: number;
  readonly AI_PASSIVE: number;
  readonly AI_CANONNAME: number;
  readonly AI_NUMERICHOST: number;
  readonly AI_NUMERICSERV: number;
  readonly AI_ADDRCONFIG: number;
  readonly AI_V4MAPPED: number;
  readonly AI_ALL: number;
  readonly SOMAXCONN: number;
  readonly EAGAIN: number;
  readonly EWOULDBLOCK: number;
  readonly EINPROGRESS: number;
  readonly EINTR: number;
  readonly EBADF: number;
  readonly EINVAL: number;
  readonly EPIPE: number;
  readonly ECONNRESET: number;
  readonly ECONNREFUSED: number;
  readonly ECONNABORTED: number;
  readonly ENOTCONN: number;
  readonly EISCONN: number;
  readonly EALREADY: number;
  readonly EMFILE: number;
  readonly ENFILE: number;
  readonly ENOBUFS: number;
  readonly ENOMEM: number;
  readonly EPERM: number;
  readonly ENOENT: number;
  readonly EEXIST: number;
  readonly ETIMEDOUT: number;
  readonly EADDRINUSE: number;
  readonly ENOTSOCK: number;
  readonly ESPIPE: number;
  readonly EPROTOTYPE: number;
}
