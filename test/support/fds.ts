// test/support/fds.ts — fd accounting for tests and child fixtures: the open fds of this process,
// a baseline that allows for what libkqueue keeps and frees late, a count that waits for late
// closes to land, fd numbers known to be closed, and closing fds by number.
import { existsSync, readFileSync, readdirSync, readlinkSync } from "node:fs";

import { lowlevel } from "../../lib/index.js";
import { sleep } from "./time.js";

const FD_DIR = existsSync("/proc/self/fd") ? "/proc/self/fd" : "/dev/fd";

/** Open fds of this process (/proc/self/fd on Linux, /dev/fd on macOS and the BSDs). */
export function openFds(): number[] {
  return readdirSync(FD_DIR)
    .map(Number)
    .filter((fd) => Number.isInteger(fd));
}

/** The number of open fds of this process. */
export function fdCount(): number {
  return openFds().length;
}

/** What /proc says fd is (e.g. "socket:[1234]"), or null when it is not open. */
export function fdTarget(fd: number): string | null {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/** The soft RLIMIT_NOFILE of this process (Linux /proc/self/limits). */
export function softFdLimit(): number {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const value = line?.split(/\s{2,}/)[1];
  return value === undefined || value === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(value);
}

/**
 * The fd count once it has settled: waits until it equals `target` (or, without a target, until it
 * stops changing over 150 ms), for at most `timeoutMs`, and returns the last count. Closes that
 * complete later than close() returns (libkqueue frees a closed kqueue's fds from its monitoring
 * thread ~100 ms later) are allowed for; an fd that stays open is not.
 */
export async function settledFdCount(target?: number, timeoutMs = 2000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = fdCount();
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    if (target !== undefined ? count === target : Date.now() - stableSince >= 150) break;
    await sleep(20);
    const next = fdCount();
    if (next !== count) stableSince = Date.now();
    count = next;
  }
  return count;
}

/**
 * The fd count to compare against later. Creates and closes one Poller of each backend first:
 * libkqueue (the kqueue backend on Linux) opens a monitoring thread's fds on first use and keeps
 * them for the life of the process, so a count taken before that would be too low, and one taken
 * right after a close too high.
 */
export async function fdBaseline(): Promise<number> {
  for (const kind of ["epoll", "kqueue", "poll"] as const) {
    if (lowlevel.backends[kind]) new lowlevel.Poller(kind).close();
  }
  return settledFdCount();
}

/** An fd number that is certainly not open now (closed just after creation). */
export function closedFd(): number {
  const [r, w] = lowlevel.pipe();
  lowlevel.close(w);
  lowlevel.close(r);
  return r;
}

/** Closes every fd given, ignoring those already closed. */
export function closeAll(...fds: number[]): void {
  for (const fd of fds) {
    if (fd >= 0 && lowlevel.isOpen(fd)) lowlevel.close(fd);
  }
}
