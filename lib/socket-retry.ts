/**
 * lib/socket-retry.ts — a blocking or timed Socket's path after a call failed: a would-block on a
 * timed socket waits in poll(2) and retries until the deadline (retryTimed), and what is still a
 * failure then becomes the thrown system error. A blocking socket's syscall waited in the kernel
 * already, so its failure is thrown as is.
 *
 * These are functions of their own, apart from Socket's accept, recv, recvInto, recvfrom,
 * recvfromInto, send, sendto and sendall, for two reasons. The retry closure is made only here,
 * so a method's own call allocates no closure context. And each of those methods falls through on
 * its open, failing, non-blocking path (EAGAIN, Python's BlockingIOError) and throws there,
 * skipping no `if` body: Node 20's V8 credits a function's tier-up budget with every forward jump
 * it takes and debits it only when the function returns, so a function that jumps forward and
 * then throws raises its budget each time. After ~600k EAGAINs, Socket#recv laid out the old way
 * ran in the interpreter for the next ~300k reads (a send+recv pair 12% slower).
 */
import { systemError } from "./errors.js";
import type { BufferLike, SocketAddress } from "./native.js";
import * as sockio from "./sockio.js";
import type { NativeAddress } from "./addresses.js";
import { retryTimed } from "./timeouts.js";

/**
 * retryTimed() of `call` after `failure`, then what is still -errno thrown as the system error of
 * `syscall`. A call's success is a non-negative count or something other than a number.
 */
function retried<T>(fd: number, write: boolean, syscall: string, timeout: number | null, call: () => T | number, failure: number): T {
  const r = retryTimed(fd, write, syscall, timeout, call, failure);
  if (typeof r === "number" && r < 0) throw systemError(r, syscall);
  return r as T;
}

/** accept() after `failure` (-errno): the accepted [fd, address], or throws. */
export function accept(fd: number, timeout: number | null, nonblocking: boolean, failure: number): [number, SocketAddress] {
  return retried(fd, false, "accept", timeout, () => sockio.acceptFd(fd, nonblocking), failure);
}

/** recv() after `failure` (-errno): the bytes read, or throws. */
export function recv(fd: number, timeout: number | null, size: number, flags: number | undefined, failure: number): Buffer {
  return retried(fd, false, "recv", timeout, () => sockio.recvBytes(fd, size, flags), failure);
}

/** recvInto() after `failure` (-errno): the count read, or throws. */
export function recvInto(fd: number, timeout: number | null, buffer: BufferLike, length: number, flags: number | undefined, failure: number): number {
  return retried(fd, false, "recv", timeout, () => sockio.recvInto(fd, buffer, length, flags), failure);
}

/** recvfrom() after `failure` (-errno): [bytes, address], or throws. */
export function recvfrom(fd: number, timeout: number | null, size: number, flags: number | undefined, failure: number): [Buffer, SocketAddress | null] {
  return retried(fd, false, "recvfrom", timeout, () => sockio.recvfromBytes(fd, size, flags), failure);
}

/** recvfromInto() after `failure` (-errno): [count, address], or throws. */
export function recvfromInto(
  fd: number,
  timeout: number | null,
  buffer: BufferLike,
  length: number,
  flags: number | undefined,
  failure: number,
): [number, SocketAddress | null] {
  return retried(fd, false, "recvfrom", timeout, () => sockio.recvfromInto(fd, buffer, length, flags), failure);
}

/** send() after `failure` (-errno): the count sent, or throws. */
export function send(fd: number, timeout: number | null, bytes: BufferLike, flags: number | undefined, failure: number): number {
  return retried(fd, true, "send", timeout, () => sockio.sendView(fd, bytes, flags), failure);
}

/** sendto() after `failure` (-errno): the count sent, or throws. */
export function sendto(
  fd: number,
  timeout: number | null,
  bytes: BufferLike,
  flags: number | undefined,
  family: number,
  address: NativeAddress,
  failure: number,
): number {
  return retried(fd, true, "sendto", timeout, () => sockio.sendtoBytes(fd, bytes, flags, family, address), failure);
}

/**
 * sendall() after a first send that did not take everything (`first`: its count or -errno): sends
 * the rest, or throws. A timed sendall has one deadline for all of its data (as Python since 3.5),
 * counted from here.
 */
export function sendallRest(fd: number, timeout: number | null, bytes: BufferLike, flags: number | undefined, first: number): void {
  const total = bytes.byteLength;
  const deadline = timeout !== null && timeout > 0 ? performance.now() + timeout * 1000 : undefined;
  let offset = 0;
  const sendRest = (): number => sockio.sendBytes(fd, bytes, offset, total - offset, flags);
  let n = first;
  for (;;) {
    if (n < 0 && deadline !== undefined) n = retryTimed(fd, true, "send", timeout, sendRest, n, deadline);
    if (n < 0) throw systemError(n, "send");
    offset += n;
    if (offset >= total) return;
    n = sendRest();
  }
}
