/**
 * lib/socket-fd.ts — the fd behind a Socket: how the Socket constructor gets it (a new socket, or
 * an open socket fd wrapped as CPython's socket(fileno=...) wraps it, its family, type and proto
 * read from the kernel), and the finalizer that closes the fd of a Socket dropped without close().
 */
import { checkFamily } from "./addresses.js";
import { checkInt, foreignSocket } from "./args.js";
import { codedError } from "./errors.js";
import { native } from "./native.js";
import { AF_INET, SOCK_STREAM } from "./socket-constants.js";
import { getdefaulttimeout } from "./timeouts.js";

/**
 * What the finalizer needs of a Socket: its fd, -1 once closed or detached. The Socket keeps its fd
 * here and registers this cell as the held value, without an unregister token: close() only sets
 * `fd` to -1, which costs less than unregistering and leaves the finalizer nothing to do.
 */
export interface FdCell {
  fd: number;
}

/** Closes the fd of a Socket that was garbage-collected without close(). Never touches the Socket. */
export const finalizer = new FinalizationRegistry<FdCell>((cell) => {
  if (cell.fd === -1) return;
  try {
    native.close(cell.fd);
  } catch {
    // Already closed behind the Socket's back (e.g. lowlevel.close(sock.fileno())): nothing to do.
  }
});

/** The "fileno" argument: an fd number (a node:net or node:dgram Socket is named as such). */
function checkFileno(fileno: unknown): number {
  const foreign = foreignSocket(fileno);
  if (foreign !== undefined)
    throw codedError(
      "ERR_INVALID_ARG_TYPE",
      `The "fileno" argument must be an fd number, not a ${foreign} Socket (libuv owns its fd, which it does not expose)`,
      "TypeError",
    );
  return checkInt("fileno", fileno, 0, 0x7fffffff);
}

/**
 * The family, type, proto, fd and timeout of a Socket made by its constructor (the arguments as
 * the constructor documents them): a new socket when `fileno` is undefined, else `fileno` wrapped.
 */
export function openSocket(
  family: number | undefined,
  type: number | undefined,
  proto: number | undefined,
  fileno: number | undefined,
): [family: number, type: number, proto: number, fd: number, timeout: number | null] {
  const timeout = getdefaulttimeout();
  if (fileno === undefined) {
    const f = family === undefined ? AF_INET : checkFamily(family);
    const t = type === undefined ? SOCK_STREAM : checkInt("type", type, 0, 0xffff);
    const p = proto === undefined ? 0 : checkInt("proto", proto, 0, 0xffff);
    // A default timeout makes the socket non-blocking from birth: no second syscall.
    return [f, t, p, native.socket(f, t, p, timeout !== null), timeout];
  }
  // Every argument is checked before the fd is looked at.
  if (family !== undefined) checkFamily(family);
  if (type !== undefined) checkInt("type", type, 0, 0xffff);
  if (proto !== undefined) checkInt("proto", proto, 0, 0xffff);
  const fd = checkFileno(fileno);
  const [detectedFamily, detectedType, detectedProto, nonblocking] = native.socketInfo(fd);
  if (timeout !== null && !nonblocking) native.setNonBlocking(fd, true);
  return [family ?? detectedFamily, type ?? detectedType, proto ?? detectedProto, fd, timeout !== null ? timeout : nonblocking ? 0 : null];
}
