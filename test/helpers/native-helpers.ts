// test/helpers/native-helpers.ts — helpers shared by the test files: fd accounting, the path of
// the loaded addon (for child processes), connected loopback pairs, error-shape checks.
import { readdirSync, readlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

import { lowlevel } from "../../lib/index.js";

const c = lowlevel.constants;

/** Open fds of this process (Linux /proc; elsewhere /dev/fd). */
export function openFds(): number[] {
  const dir = process.platform === "linux" ? "/proc/self/fd" : "/dev/fd";
  return readdirSync(dir)
    .map(Number)
    .filter((fd) => Number.isInteger(fd));
}

/** The number of open fds, after letting pending closes settle. */
export function fdCount(): number {
  return openFds().length;
}

/**
 * The fd count to compare against at the end of a test file. Creates and closes one Poller of each
 * backend first: libkqueue (the kqueue backend on Linux) opens a monitoring thread's fds on first
 * use and keeps them for the life of the process.
 */
export async function fdBaseline(): Promise<number> {
  for (const kind of ["epoll", "kqueue", "poll"] as const) {
    if (lowlevel.backends[kind]) new lowlevel.Poller(kind).close();
  }
  await settle();
  return fdCount();
}

/** Expects the fd count to come back to `baseline` (libkqueue frees a closed kqueue's fds asynchronously). */
export async function expectFdCount(baseline: number, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (fdCount() !== baseline && Date.now() < deadline) await sleep(20);
  expect(openFds().length, `open fds: ${openFds().join(" ")}`).toBe(baseline);
}

async function settle(): Promise<void> {
  await sleep(lowlevel.backends.kqueue && process.platform === "linux" ? 50 : 0);
}

/** The absolute path of the native_selectors.node this process has loaded. */
export function loadedAddonPath(): string {
  const require = createRequire(import.meta.url);
  const path = Object.keys(require.cache).find((key) => key.endsWith("native_selectors.node"));
  if (path) return path;
  if (process.env.NATIVE_SELECTORS_ADDON) return process.env.NATIVE_SELECTORS_ADDON;
  throw new Error("the addon's path is not in require.cache");
}

/** What /proc says fd is (e.g. "socket:[1234]"), or null when it is not open. */
export function fdTarget(fd: number): string | null {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/** The Error fn throws (failing the test if it returns or throws a non-Error). */
export function thrown(fn: () => unknown): NodeJS.ErrnoException {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as NodeJS.ErrnoException;
  }
  throw new Error("expected the call to throw");
}

/** Asserts that fn throws an Error with the given string code. */
export function expectCode(fn: () => unknown, code: string): NodeJS.ErrnoException {
  const error = thrown(fn);
  expect(error.code, error.message).toBe(code);
  return error;
}

/**
 * Asserts a Node-shaped system error: code, negative errno, syscall and message. `suffix` is what
 * follows the syscall in the message (a connect error's " 127.0.0.1:80").
 */
export function expectSystemError(fn: () => unknown, code: string, syscall: string, suffix = ""): NodeJS.ErrnoException {
  const error = expectCode(fn, code);
  expect(error.syscall).toBe(syscall);
  expect(typeof error.errno).toBe("number");
  expect(error.errno).toBeLessThan(0);
  expect(error.message).toMatch(new RegExp(`^${code}: .+, ${syscall}${suffix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
  return error;
}

/** A listening TCP socket on 127.0.0.1 (or ::1) port 0, and its port. */
export function listenTcp(family: number = c.AF_INET, backlog = 128): { fd: number; port: number } {
  const fd = lowlevel.socket(family, c.SOCK_STREAM, 0, true);
  lowlevel.setsockopt(fd, c.SOL_SOCKET, c.SO_REUSEADDR, 1);
  lowlevel.bind(fd, family, family === c.AF_INET6 ? "::1" : "127.0.0.1", 0);
  lowlevel.listen(fd, backlog);
  const address = lowlevel.getsockname(fd);
  if (!Array.isArray(address)) throw new Error("expected an IP address");
  return { fd, port: address[1] };
}

/** Waits (blocking, bounded) until fd reports one of `events` (POLLIN by default). */
export function waitReady(fd: number, events: number = lowlevel.poll.POLLIN, timeoutMs = 5000): number {
  const revents = lowlevel.waitFd(fd, events, timeoutMs);
  if (revents <= 0) throw new Error(`fd ${fd} not ready within ${timeoutMs} ms (${revents})`);
  return revents;
}

/** A connected non-blocking TCP pair on loopback: [client, server-side], listener closed. */
export function tcpPair(family: number = c.AF_INET): [number, number] {
  const listener = listenTcp(family);
  try {
    const client = lowlevel.socket(family, c.SOCK_STREAM, 0, true);
    const r = lowlevel.connect(client, family, family === c.AF_INET6 ? "::1" : "127.0.0.1", listener.port);
    if (r !== 0 && r !== -c.EINPROGRESS) throw lowlevel.errorFromErrno(r, "connect");
    waitReady(listener.fd);
    const server = lowlevel.accept(listener.fd);
    if (server < 0) throw lowlevel.errorFromErrno(server, "accept");
    waitReady(client, lowlevel.poll.POLLOUT);
    return [client, server];
  } finally {
    lowlevel.close(listener.fd);
  }
}

/** A fresh Unix socket path in the temp directory. */
export function unixPath(tag: string): string {
  return join(tmpdir(), `ns-${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`);
}

/** Closes every fd given, ignoring those already closed. */
export function closeAll(...fds: number[]): void {
  for (const fd of fds) {
    if (fd >= 0 && lowlevel.isOpen(fd)) lowlevel.close(fd);
  }
}

/** An fd number that is certainly not open now (closed just after creation). */
export function closedFd(): number {
  const [r, w] = lowlevel.pipe();
  lowlevel.close(w);
  lowlevel.close(r);
  return r;
}

/** Sleeps without blocking the event loop. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether a socket of `type` can bind ::1 here (a machine without IPv6 skips the IPv6 cases). */
export function ipv6Available(type: number = c.SOCK_STREAM): boolean {
  let fd = -1;
  try {
    fd = lowlevel.socket(c.AF_INET6, type, 0, true);
    lowlevel.bind(fd, c.AF_INET6, "::1", 0);
    return true;
  } catch {
    return false;
  } finally {
    if (fd >= 0) lowlevel.close(fd);
  }
}
