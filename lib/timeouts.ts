/**
 * lib/timeouts.ts — Python's socket timeouts: the default timeout new Sockets start with
 * (setdefaulttimeout), the check of a timeout argument, the ETIMEDOUT error, and the wait of a
 * timed call: poll(2) for readiness until the deadline, then the call again.
 */
import type { NativeAddress } from "./addresses.js";
import { argTypeError } from "./args.js";
import { codedError } from "./errors.js";
import { native } from "./native.js";
import { connectFd, pendingError, wouldBlock } from "./sockio.js";

const ETIMEDOUT = native.constants.ETIMEDOUT;
const EINPROGRESS = native.constants.EINPROGRESS;
const POLLIN = native.poll.POLLIN;
const POLLOUT = native.poll.POLLOUT;

/** The timeout every new Socket starts with (setdefaulttimeout); null: blocking. */
let defaultTimeout: number | null = null;

/**
 * Python's socket.setdefaulttimeout(): the timeout (seconds, 0 or null as settimeout takes them)
 * that every Socket made from now on starts with: created, wrapped from an fd, accepted by
 * accept(), made by socketpair(). null (the initial value) means blocking sockets. Sockets that
 * exist already keep theirs; the loop's sockAccept still gives non-blocking sockets. Per thread
 * (each worker has its own), where Python's is per process.
 */
export function setdefaulttimeout(timeout: number | null): void {
  defaultTimeout = checkTimeout(timeout);
}

/** The timeout new Sockets start with (see setdefaulttimeout): null when blocking. */
export function getdefaulttimeout(): number | null {
  return defaultTimeout;
}

/** A timeout in seconds as settimeout() takes it: null (blocking) or a finite number >= 0. */
export function checkTimeout(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "number") throw argTypeError("timeout", "a number of seconds or null", value);
  if (!(value >= 0) || !Number.isFinite(value))
    throw codedError("ERR_OUT_OF_RANGE", `The value of "timeout" is out of range. It must be a finite number >= 0. Received ${value}`, "RangeError");
  return value;
}

/** Python's TimeoutError("timed out"): code ETIMEDOUT with errno and syscall, as a system error. */
export function timeoutError(syscall: string): NodeJS.ErrnoException {
  const error = codedError("ETIMEDOUT", `ETIMEDOUT: timed out, ${syscall}`) as NodeJS.ErrnoException;
  error.errno = -ETIMEDOUT;
  error.syscall = syscall;
  return error;
}

/**
 * Given `first`, the result of a native call (>= 0, an address pair, or -errno), retries the call
 * while it would block on a socket with a `timeout` > 0, each time after waiting in poll(2) for
 * readiness until the deadline (ms on performance.now(); by default the timeout from now). Throws
 * ETIMEDOUT then. Returns `first` as is when the socket is blocking or non-blocking.
 */
export function retryTimed<T>(
  fd: number,
  write: boolean,
  syscall: string,
  timeout: number | null,
  call: () => T | number,
  first: T | number,
  deadline?: number,
): T | number {
  let r = first;
  if (timeout === null || timeout === 0 || typeof r !== "number" || !wouldBlock(r)) return r;
  const end = deadline ?? performance.now() + timeout * 1000;
  for (;;) {
    const left = Math.ceil(end - performance.now());
    if (left <= 0) throw timeoutError(syscall);
    const ready = native.waitFd(fd, write ? POLLOUT : POLLIN, left);
    if (ready < 0) return ready;
    if (ready === 0) throw timeoutError(syscall);
    r = call();
    if (typeof r !== "number" || !wouldBlock(r)) return r;
  }
}

/**
 * connect(2); on a timed socket, waits up to the timeout for the outcome (SO_ERROR): 0 or -errno
 * (-ETIMEDOUT when the wait ran out). Only EINPROGRESS is a connection under way; EAGAIN (a Unix
 * listener's full backlog) is final, as in CPython.
 */
export function connectTimed(fd: number, family: number, address: NativeAddress, timeout: number | null): number {
  const r = connectFd(fd, family, address);
  if (timeout === null || timeout === 0 || r !== -EINPROGRESS) return r;
  const ready = native.waitFd(fd, POLLOUT, Math.ceil(timeout * 1000));
  if (ready < 0) return ready;
  if (ready === 0) return -ETIMEDOUT;
  return 0 - pendingError(fd);
}
