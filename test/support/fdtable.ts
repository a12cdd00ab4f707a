// test/support/fdtable.ts — filling this process's fd table (for a child run under a low
// RLIMIT_NOFILE, e.g. runFixture's `nofile`): every native path the child takes while the table is
// full is warmed up first, then pipes are opened until open() fails with EMFILE. Child side only.
import * as api from "../../lib/index.js";
import { fdCount } from "./fds.js";
import { codeOf } from "./fixture.js";

const L = api.lowlevel;
const C = L.constants;

/**
 * Under UBSan (the sanitizer run), the vptr check probes memory through a pipe() the first time it
 * meets a (type, vtable) pair: with no fd free, the probe fails and it reports a false "invalid
 * vptr". So every native path a scenario takes while the table is full runs once before: a
 * system error, an argument error, a poller wait.
 */
function warmUp(): void {
  for (const fn of [() => L.close(0x7ffffff0), () => L.socket(-1, 0), () => L.getsockopt(0x7ffffff0, C.SOL_SOCKET, C.SO_ERROR)]) {
    try {
      fn();
    } catch {
      // expected
    }
  }
  L.errorFromErrno(-C.EMFILE, "accept");
  const sel = new api.DefaultSelector();
  sel.select(0);
  sel.close();
  settleFdsSync();
}

/**
 * Blocks (at most 2 s) until the fd count has not changed for 150 ms. libkqueue (the kqueue
 * backend on Linux) frees a closed kqueue's fds on its monitoring thread ~100 ms after close():
 * filling the table before that would leave it full only until those fds come free. Blocking,
 * because an owned EventLoop runs no timers of Node's.
 */
function settleFdsSync(): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 2000;
  let count = fdCount();
  let stableSince = Date.now();
  while (Date.now() - stableSince < 150 && Date.now() < deadline) {
    Atomics.wait(cell, 0, 0, 20);
    const next = fdCount();
    if (next !== count) stableSince = Date.now();
    count = next;
  }
}

/** Opens pipes (and a last socket) until the table is full; returns their fds, for the caller to close. */
export function fillFdTable(): number[] {
  warmUp();
  const fds: number[] = [];
  for (;;) {
    try {
      fds.push(...L.pipe(true));
    } catch (e) {
      if (codeOf(e) !== "EMFILE") throw e;
      // One slot may be left (a pipe needs two): take it with a socket.
      try {
        fds.push(L.socket(C.AF_INET, C.SOCK_STREAM, 0, true));
      } catch (e2) {
        if (codeOf(e2) !== "EMFILE") throw e2;
      }
      return fds;
    }
  }
}
