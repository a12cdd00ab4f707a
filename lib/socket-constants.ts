/**
 * lib/socket-constants.ts — the socket module's constants (Python's socket.AF_*, SOCK_*, SO_*,
 * MSG_*, AI_*...), read from the native layer, and the type-level tags of the three address
 * families that give a `Socket<F>` its address shapes. Re-exported by lib/socket.ts.
 */
import { native } from "./native.js";

const C = native.constants;

/** The key of the type-only tag that tells the AF_* constants apart (no such property exists). */
declare const addressFamily: unique symbol;

/**
 * The type of the AF_INET constant: a number (2), tagged at the type level only, so that
 * `new Socket(AF_INET)` is a `Socket<AF_INET>` whose getsockname() is `[host, port]`.
 */
export type AF_INET = number & { readonly [addressFamily]: "AF_INET" };
/** The type of the AF_INET6 constant (its value differs between platforms: 10 on Linux, 30 on macOS...). */
export type AF_INET6 = number & { readonly [addressFamily]: "AF_INET6" };
/** The type of the AF_UNIX constant (1). */
export type AF_UNIX = number & { readonly [addressFamily]: "AF_UNIX" };
/** The address families a Socket supports (Python's socket.AddressFamily, restricted to these). */
export type AddressFamily = AF_INET | AF_INET6 | AF_UNIX;

/** IPv4. `new Socket()` and `new Socket(AF_INET)` make a `Socket<AF_INET>`. */
export const AF_INET: AF_INET = C.AF_INET as AF_INET;
/** IPv6: a `Socket<AF_INET6>` has `[host, port, flowinfo, scopeId]` addresses. */
export const AF_INET6: AF_INET6 = C.AF_INET6 as AF_INET6;
/** Unix domain sockets: a `Socket<AF_UNIX>` has path-string addresses. */
export const AF_UNIX: AF_UNIX = C.AF_UNIX as AF_UNIX;
export const SOCK_STREAM: number = C.SOCK_STREAM;
export const SOCK_DGRAM: number = C.SOCK_DGRAM;
export const SOCK_SEQPACKET: number = C.SOCK_SEQPACKET;
export const SOCK_RAW: number = C.SOCK_RAW;
export const AF_UNSPEC: number = C.AF_UNSPEC;
export const SOL_SOCKET: number = C.SOL_SOCKET;
export const SO_REUSEADDR: number = C.SO_REUSEADDR;
/** Undefined on platforms without SO_REUSEPORT (Python leaves `socket.SO_REUSEPORT` undefined there too). */
export const SO_REUSEPORT: number | undefined = C.SO_REUSEPORT;
export const SO_ERROR: number = C.SO_ERROR;
export const SO_KEEPALIVE: number = C.SO_KEEPALIVE;
export const SO_SNDBUF: number = C.SO_SNDBUF;
export const SO_RCVBUF: number = C.SO_RCVBUF;
export const SO_TYPE: number = C.SO_TYPE;
export const IPPROTO_TCP: number = C.IPPROTO_TCP;
export const IPPROTO_UDP: number = C.IPPROTO_UDP;
export const IPPROTO_IPV6: number = C.IPPROTO_IPV6;
export const IPV6_V6ONLY: number = C.IPV6_V6ONLY;
export const TCP_NODELAY: number = C.TCP_NODELAY;
export const SHUT_RD: number = C.SHUT_RD;
export const SHUT_WR: number = C.SHUT_WR;
export const SHUT_RDWR: number = C.SHUT_RDWR;
export const SOMAXCONN: number = C.SOMAXCONN;

/** recv/send flags. The ones typed `number | undefined` are undefined where the platform lacks them (as in Python). */
export const MSG_OOB: number = C.MSG_OOB;
export const MSG_PEEK: number = C.MSG_PEEK;
export const MSG_DONTROUTE: number = C.MSG_DONTROUTE;
export const MSG_DONTWAIT: number = C.MSG_DONTWAIT;
export const MSG_EOR: number = C.MSG_EOR;
export const MSG_TRUNC: number = C.MSG_TRUNC;
export const MSG_CTRUNC: number = C.MSG_CTRUNC;
export const MSG_WAITALL: number = C.MSG_WAITALL;
/** Linux and the BSDs; every send of this package sets it already (macOS: SO_NOSIGPIPE instead). */
export const MSG_NOSIGNAL: number | undefined = C.MSG_NOSIGNAL;
/** Linux. */
export const MSG_MORE: number | undefined = C.MSG_MORE;
/** Linux. */
export const MSG_CONFIRM: number | undefined = C.MSG_CONFIRM;
/** Linux. */
export const MSG_ERRQUEUE: number | undefined = C.MSG_ERRQUEUE;
/** Linux and the BSDs. */
export const MSG_CMSG_CLOEXEC: number | undefined = C.MSG_CMSG_CLOEXEC;

/** getaddrinfo flags. */
export const AI_PASSIVE: number = C.AI_PASSIVE;
export const AI_CANONNAME: number = C.AI_CANONNAME;
export const AI_NUMERICHOST: number = C.AI_NUMERICHOST;
export const AI_NUMERICSERV: number = C.AI_NUMERICSERV;
export const AI_ADDRCONFIG: number = C.AI_ADDRCONFIG;
export const AI_V4MAPPED: number = C.AI_V4MAPPED;
export const AI_ALL: number = C.AI_ALL;
