/**
 * lib/socket-functions.ts — the functions of Python's socket module that stand beside the socket
 * class: getaddrinfo, gethostname and socketpair (Modules/socketmodule.c), create_connection,
 * create_server and has_dualstack_ipv6 (Lib/socket.py), built on Socket. Everything here but
 * socketpair blocks the thread, as in Python: name resolution and connects wait in the kernel.
 */
import { hostname } from "node:os";

import { codedError, type AddressedError } from "./errors.js";
import { native, type AddrInfo } from "./native.js";
import {
  AF_INET,
  AF_INET6,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_REUSEPORT,
  Socket,
  checkFamily,
  checkTimeout,
  getdefaulttimeout,
  wrapNewFd,
  AF_UNIX,
  type AddressInput,
} from "./socket.js";
import { formatAddress } from "./addresses.js";
import { checkInt, describe, optionalBoolOption } from "./args.js";

export type { AddrInfo } from "./native.js";

/**
 * Python's socket.getaddrinfo(host, port, family=0, type=0, proto=0, flags=0), blocking: every
 * address `host` and `port` resolve to, as `[family, type, proto, canonname, sockaddr]` in the
 * resolver's order (sockaddr as getsockname returns it: `[host, port]` or `[host, port, flowinfo,
 * scopeId]`; canonname '' unless AI_CANONNAME asked for it). `host` is a name, an address literal
 * or null (with AI_PASSIVE: the any-address, else loopback); `port` a number (0-65535), a service
 * name or numeric string, or null. Failures are shaped like Node's dns errors: code 'ENOTFOUND'
 * (no such name), 'EAI_AGAIN', 'EAI_SERVICE', 'EAI_FAMILY'...; errno libuv's UV_EAI_* number, as
 * node:dns's; syscall 'getaddrinfo'; hostname.
 */
export function getaddrinfo(
  host: string | null,
  port: number | string | null,
  family: number = 0,
  type: number = 0,
  proto: number = 0,
  flags: number = 0,
): AddrInfo[] {
  // The native side checks each argument (type, range, NUL bytes) before resolving anything.
  return native.getaddrinfo(host, port, family, type, proto, flags);
}

/**
 * A connected pair of sockets (Python's socket.socketpair()), AF_UNIX / SOCK_STREAM by default,
 * both blocking (or with the default timeout, see setdefaulttimeout); typed `Socket<AF_UNIX>` unless
 * another family is given.
 */
export function socketpair<F extends number = AF_UNIX>(family?: F, type?: number, proto?: number): [Socket<F>, Socket<F>];
export function socketpair(family: number = AF_UNIX, type: number = SOCK_STREAM, proto: number = 0): [Socket, Socket] {
  checkFamily(family);
  checkInt("type", type, 0, 0xffff);
  checkInt("proto", proto, 0, 0xffff);
  const timeout = getdefaulttimeout();
  const [a, b] = native.socketpair(family, type, proto, timeout !== null);
  const first = wrapNewFd(family, type, proto, a, timeout);
  return [first, wrapNewFd(family, type, proto, b, timeout)];
}

/** Python's socket.gethostname(): this machine's host name (os.hostname(), gethostname(2)). */
export function gethostname(): string {
  return hostname();
}

/** A system error (it has a numeric errno), the kind create_connection tries the next address on. */
function isSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).errno === "number";
}

/**
 * Python's socket.create_connection((host, port), timeout, source_address): resolves `host` and
 * `port` (getaddrinfo, SOCK_STREAM, any family) and tries each address in the resolver's order
 * until a connect succeeds, and returns that Socket, connected. `timeout` (seconds, 0 or null) is
 * set on each socket before its connect; omitted, the socket keeps the default timeout
 * (setdefaulttimeout; blocking unless set), so by default the Socket returned is blocking.
 * `sourceAddress` (optional) is bound before each connect. Every socket whose attempt failed is
 * closed. When every address fails, the last system error is thrown (ECONNREFUSED, ETIMEDOUT...,
 * with `address` and `port`), as Python raises the last one; an argument error (a bad
 * sourceAddress...) is thrown at once, as Python lets TypeError through; a resolver error
 * (ENOTFOUND...) comes from getaddrinfo.
 */
export function createConnection(
  address: readonly [host: string | null, port: number | string],
  timeout?: number | null,
  sourceAddress?: AddressInput | null,
): Socket {
  if (!Array.isArray(address) || address.length !== 2)
    throw codedError("ERR_INVALID_ARG_TYPE", `The "address" argument must be [host, port]. Received ${describe(address)}`, "TypeError");
  const useTimeout = timeout === undefined ? undefined : checkTimeout(timeout);
  const [host, port] = address as [string | null, number | string];
  let last: unknown;
  for (const [family, type, proto, , sockaddr] of getaddrinfo(host, port, 0, SOCK_STREAM)) {
    if (sockaddr === null) continue; // a family this module has no address format for
    let sock: Socket | undefined;
    try {
      sock = new Socket(family, type, proto);
      if (useTimeout !== undefined) sock.settimeout(useTimeout);
      if (sourceAddress !== undefined && sourceAddress !== null) sock.bind(sourceAddress);
      sock.connect(sockaddr as AddressInput);
      return sock;
    } catch (error) {
      sock?.close();
      if (!isSystemError(error)) throw error;
      last = error;
    }
  }
  if (last !== undefined) throw last;
  throw codedError("ERR_SOCKET_CONNECTION_FAILED", `getaddrinfo returned no address to connect to for ${formatAddress(address)}`);
}

/** Options of createServer (Python's create_server keyword arguments). */
export interface CreateServerOptions {
  /** AF_INET (default), AF_INET6 or AF_UNIX. */
  family?: number;
  /** listen()'s backlog; omitted: SOMAXCONN. */
  backlog?: number;
  /** Sets SO_REUSEPORT (AF_INET and AF_INET6 only); ERR_INVALID_ARG_VALUE where the platform lacks it. */
  reusePort?: boolean;
  /** An AF_INET6 socket that also takes IPv4 connections (IPV6_V6ONLY 0); see hasDualstackIpv6(). */
  dualstackIpv6?: boolean;
}

/**
 * Python's socket.has_dualstack_ipv6(): whether an AF_INET6 socket here can take IPv4 connections
 * too (IPV6_V6ONLY can be cleared). Makes and closes one socket.
 */
export function hasDualstackIpv6(): boolean {
  let fd = -1;
  try {
    fd = native.socket(AF_INET6, SOCK_STREAM, 0, false);
    native.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
    return true;
  } catch {
    return false;
  } finally {
    if (fd >= 0) native.close(fd);
  }
}

/**
 * Python's socket.create_server(address, family=AF_INET, backlog=None, reuse_port=False,
 * dualstack_ipv6=False): a SOCK_STREAM Socket bound to `address` and listening, blocking (or with
 * the default timeout). As Python on POSIX: SO_REUSEADDR is set (a failure to set it is ignored);
 * `reusePort` sets SO_REUSEPORT on AF_INET/AF_INET6 sockets; an AF_INET6 socket is IPv6-only
 * (IPV6_V6ONLY 1) unless `dualstackIpv6`, which needs AF_INET6 and a system that has it
 * (ERR_INVALID_ARG_VALUE otherwise, as Python's ValueError). A failed bind throws its system error
 * (EADDRINUSE...) with " (while attempting to bind on address [...])" added to the message and
 * `address`/`port` set, as Python adds the address to the message. The socket is closed on every
 * failure.
 */
export function createServer(address: AddressInput, options?: CreateServerOptions): Socket {
  if (options !== undefined && (options === null || typeof options !== "object"))
    throw codedError("ERR_INVALID_ARG_TYPE", `The "options" argument must be an object. Received ${describe(options)}`, "TypeError");
  const opts = (options ?? {}) as Record<string, unknown>;
  const family = opts.family === undefined ? AF_INET : checkFamily(opts.family);
  const backlog = opts.backlog === undefined ? undefined : checkInt("options.backlog", opts.backlog, -0x80000000, 0x7fffffff);
  const reusePort = optionalBoolOption(opts, "reusePort", false);
  const dualstack = optionalBoolOption(opts, "dualstackIpv6", false);
  if (reusePort && SO_REUSEPORT === undefined) throw codedError("ERR_INVALID_ARG_VALUE", "SO_REUSEPORT is not supported on this platform", "TypeError");
  if (dualstack) {
    if (family !== AF_INET6) throw codedError("ERR_INVALID_ARG_VALUE", "dualstackIpv6 requires the AF_INET6 family", "TypeError");
    if (!hasDualstackIpv6()) throw codedError("ERR_INVALID_ARG_VALUE", "dualstackIpv6 is not supported on this platform", "TypeError");
  }
  const sock = new Socket(family, SOCK_STREAM);
  try {
    try {
      sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    } catch {
      // As Python: a platform that refuses it fails later, at bind, if at all.
    }
    if (reusePort && (family === AF_INET || family === AF_INET6)) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT!, 1);
    if (family === AF_INET6) sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, dualstack ? 0 : 1);
    try {
      sock.bind(address);
    } catch (error) {
      if (isSystemError(error)) {
        const addressed = error as AddressedError;
        addressed.message += ` (while attempting to bind on address ${formatAddress(address)})`;
        if (typeof address === "string") addressed.address = address;
        else {
          addressed.address = address[0];
          addressed.port = address[1];
        }
      }
      throw error;
    }
    sock.listen(backlog);
    return sock;
  } catch (error) {
    sock.close();
    throw error;
  }
}
