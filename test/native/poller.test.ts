// test/native/poller.test.ts — the raw `poll()` export over (fd, events, revents) triples, and the
// native `Poller` class for every backend this build has (epoll, kqueue, poll): add, modify,
// remove, wait (also through the per-call functions that take its id), HUP/ERR mapped to
// READ|WRITE masked by the interest, closed fds, close, fileno.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { backends, defaultBackend, lowlevel, poll, type BackendKind } from "../../lib/index.js";
import { expectCode, expectFdCount, expectSystemError } from "../support/expect.js";
import { closeAll, closedFd, fdBaseline } from "../support/fds.js";
import { listenTcp, tcpPair } from "../support/native.js";
import { sleep } from "../support/time.js";

const c = lowlevel.constants;
const READ = 1;
const WRITE = 2;
const kinds = (Object.keys(backends) as BackendKind[]).filter((kind) => backends[kind]);

let fdsAtStart = 0;
beforeAll(async () => {
  fdsAtStart = await fdBaseline();
});
afterAll(async () => {
  await expectFdCount(fdsAtStart);
});

describe("poll()", () => {
  it("exports the POLL* constants", () => {
    expect(poll.POLLIN).toBe(1);
    expect(poll.POLLPRI).toBe(2);
    expect(poll.POLLOUT).toBe(4);
    expect(poll.POLLERR).toBe(8);
    expect(poll.POLLHUP).toBe(16);
    expect(poll.POLLNVAL).toBe(32);
  });

  it("fills revents in (fd, events, revents) triples and returns the ready count", () => {
    const [a, b] = lowlevel.socketpair();
    try {
      const fds = new Int32Array([a, poll.POLLIN, 77, b, poll.POLLOUT, 77, -1, poll.POLLIN, 77]);
      expect(poll(fds, 0)).toBe(1);
      expect(fds[2]).toBe(0);
      expect(fds[5]).toBe(poll.POLLOUT);
      // A negative fd is ignored and its revents cleared.
      expect(fds[8]).toBe(0);
      lowlevel.send(b, Buffer.from("x"));
      expect(poll(fds, 1000)).toBe(2);
      expect(fds[2]).toBe(poll.POLLIN);
      // Uint32Array works too; a closed fd reports POLLNVAL.
      const dead = closedFd();
      const u = new Uint32Array([dead, poll.POLLIN, 0]);
      expect(poll(u as unknown as Int32Array, 0)).toBe(1);
      expect(u[2]).toBe(poll.POLLNVAL);
    } finally {
      closeAll(a, b);
    }
  });

  it("reports POLLHUP for a closed peer and waits for its timeout", () => {
    const [a, b] = lowlevel.socketpair();
    try {
      const fds = new Int32Array([a, poll.POLLIN, 0]);
      const t = performance.now();
      expect(poll(fds, 80)).toBe(0);
      expect(performance.now() - t).toBeGreaterThanOrEqual(75);
      lowlevel.close(b);
      expect(poll(fds, 0)).toBe(1);
      expect(fds[2]! & poll.POLLHUP).toBe(poll.POLLHUP);
      // No fds at all: a plain sleep of the timeout.
      expect(poll(new Int32Array(0), 10)).toBe(0);
    } finally {
      closeAll(a, b);
    }
  });

  it("checks its arguments", () => {
    expectCode(() => poll(new Int32Array(4), 0), "ERR_INVALID_ARG_VALUE");
    expectCode(() => poll(new Int32Array([0, 0x10000, 0]), 0), "ERR_OUT_OF_RANGE");
    expectCode(() => poll(new Int32Array([0, -1, 0]), 0), "ERR_OUT_OF_RANGE");
    expectCode(() => poll([1, 1, 0] as unknown as Int32Array, 0), "ERR_INVALID_ARG_TYPE");
    expectCode(() => poll(new Int16Array(3) as unknown as Int32Array, 0), "ERR_INVALID_ARG_TYPE");
    expectCode(() => poll(new Int32Array(3), Number.NaN), "ERR_OUT_OF_RANGE");
    expectCode(() => poll(new Int32Array(3), undefined as unknown as number), "ERR_INVALID_ARG_TYPE");
  });
});

describe("Poller", () => {
  it("reports the build's backends, its default and which backend fds libuv can watch", () => {
    expect(backends[defaultBackend]).toBe(true);
    // test:poll / test:kqueue (scripts/test-variant.mjs) say which default their build must have.
    const expected = process.env.NATIVE_SELECTORS_EXPECT_BACKEND;
    if (expected) expect(defaultBackend).toBe(expected);
    else if (process.platform === "linux" && !process.env.NATIVE_SELECTORS_ADDON) expect(defaultBackend).toBe("epoll");
    expect(lowlevel.backendFdWatchable.poll).toBe(false);
    expect(lowlevel.backendFdWatchable.epoll).toBe(backends.epoll);
    // libkqueue's kqueue fd (Linux) never becomes readable; a real kqueue fd does.
    expect(lowlevel.backendFdWatchable.kqueue).toBe(backends.kqueue && process.platform !== "linux");
  });

  it("has a backend for this platform, and rejects unknown or unavailable kinds", () => {
    expect(kinds).toContain("poll");
    if (process.platform === "linux") expect(kinds).toContain("epoll");
    expectCode(() => new lowlevel.Poller("select" as BackendKind), "ERR_INVALID_ARG_VALUE");
    expectCode(() => new lowlevel.Poller(1 as unknown as BackendKind), "ERR_INVALID_ARG_TYPE");
    for (const kind of ["epoll", "kqueue"] as const) {
      if (!backends[kind]) expectCode(() => new lowlevel.Poller(kind), "ERR_BACKEND_UNAVAILABLE");
    }
  });

  describe.each(kinds)("%s", (kind) => {
    it("reports kind and fileno, closes idempotently, and refuses use after close", () => {
      const p = new lowlevel.Poller(kind);
      expect(p.kind).toBe(kind);
      const fd = p.fileno();
      if (kind === "poll") expect(fd).toBe(-1);
      else {
        expect(fd).toBeGreaterThan(2);
        expect(lowlevel.isOpen(fd)).toBe(true);
      }
      p.close();
      p.close();
      expect(p.fileno()).toBe(-1);
      if (fd >= 0) expect(lowlevel.isOpen(fd)).toBe(false);
      expectCode(() => p.add(0, READ), "ERR_SELECTOR_CLOSED");
      expectCode(() => p.modify(0, READ, WRITE), "ERR_SELECTOR_CLOSED");
      expectCode(() => p.remove(0, READ), "ERR_SELECTOR_CLOSED");
      expectCode(() => p.wait(new Int32Array(2), 0), "ERR_SELECTOR_CLOSED");
    });

    it("adds, modifies, removes and waits with READ/WRITE bits", () => {
      const p = new lowlevel.Poller(kind);
      const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
      try {
        const out = new Int32Array(8);
        p.add(a, READ);
        expect(p.wait(out, 0)).toBe(0);
        lowlevel.send(b, Buffer.from("data"));
        expect(p.wait(out, 1000)).toBe(1);
        expect([out[0], out[1]]).toEqual([a, READ]);
        p.modify(a, READ, READ | WRITE);
        expect(p.wait(out, 1000)).toBe(1);
        expect([out[0], out[1]]).toEqual([a, READ | WRITE]);
        p.modify(a, READ | WRITE, WRITE);
        expect(p.wait(out, 1000)).toBe(1);
        expect([out[0], out[1]]).toEqual([a, WRITE]);
        p.add(b, READ | WRITE);
        expect(p.wait(out, 1000)).toBe(2);
        const got = new Map([
          [out[0], out[1]],
          [out[2], out[3]],
        ]);
        expect(got.get(a)).toBe(WRITE);
        expect(got.get(b)).toBe(WRITE);
        expect(p.remove(a, WRITE)).toBe(0);
        expect(p.remove(b, READ | WRITE)).toBe(0);
        expect(p.wait(out, 0)).toBe(0);
      } finally {
        p.close();
        closeAll(a, b);
      }
    });

    it("maps a hung-up peer to READ and WRITE, masked by the interest", () => {
      const [a, b] = tcpPair();
      const p = new lowlevel.Poller(kind);
      try {
        const out = new Int32Array(4);
        p.add(a, READ);
        expect(p.wait(out, 0)).toBe(0);
        lowlevel.close(b);
        expect(p.wait(out, 1000)).toBe(1);
        expect([out[0], out[1]]).toEqual([a, READ]);
        lowlevel.shutdown(a, c.SHUT_RDWR);
        p.modify(a, READ, READ | WRITE);
        expect(p.wait(out, 1000)).toBe(1);
        expect([out[0], out[1]]).toEqual([a, READ | WRITE]);
        p.modify(a, READ | WRITE, WRITE);
        expect(p.wait(out, 1000)).toBe(1);
        expect([out[0], out[1]]).toEqual([a, WRITE]);
      } finally {
        p.close();
        closeAll(a, b);
      }
    });

    it("maps a socket error (refused connect) to READ and WRITE, masked by the interest", () => {
      // A port that was just free: connecting to it is refused.
      const { fd: l, port } = listenTcp();
      lowlevel.close(l);
      const s = lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, true);
      const p = new lowlevel.Poller(kind);
      try {
        const r = lowlevel.connect(s, c.AF_INET, "127.0.0.1", port);
        expect([0, -c.EINPROGRESS, -c.ECONNREFUSED]).toContain(r);
        p.add(s, WRITE);
        const out = new Int32Array(4);
        expect(p.wait(out, 2000)).toBe(1);
        expect([out[0], out[1]]).toEqual([s, WRITE]);
        p.modify(s, WRITE, READ);
        expect(p.wait(out, 2000)).toBe(1);
        expect([out[0], out[1]]).toEqual([s, READ]);
        // libkqueue reads SO_ERROR itself to fill in EV_EOF's fflags, which clears it.
        if (r === -c.EINPROGRESS && kind !== "kqueue") expect(lowlevel.getsockopt(s, c.SOL_SOCKET, c.SO_ERROR)).toBe(c.ECONNREFUSED);
      } finally {
        p.close();
        closeAll(s);
      }
    });

    it("throws the kernel's refusals from add and modify as system errors", () => {
      const p = new lowlevel.Poller(kind);
      const [a, b] = lowlevel.socketpair();
      try {
        const syscall = kind === "epoll" ? "epoll_ctl" : kind === "kqueue" ? "kevent" : "poll";
        // kqueue's EV_ADD of an existing filter updates it, so only epoll and poll refuse a second add.
        p.add(a, READ);
        if (kind !== "kqueue") expectSystemError(() => p.add(a, READ), "EEXIST", syscall);
        expectSystemError(() => p.modify(b, READ, WRITE), "ENOENT", syscall);
        if (kind !== "poll") expectSystemError(() => p.add(closedFd(), READ), "EBADF", syscall);
        expectCode(() => p.add(-1, READ), "ERR_OUT_OF_RANGE");
        expectCode(() => p.add(a, 4), "ERR_OUT_OF_RANGE");
        expectCode(() => p.add(a, 1.5), "ERR_OUT_OF_RANGE");
        expectCode(() => p.modify(a, READ, -1), "ERR_OUT_OF_RANGE");
        expectCode(() => p.remove(a, "1" as unknown as number), "ERR_INVALID_ARG_TYPE");
        expectCode(() => p.wait(new Int32Array(1), 0), "ERR_OUT_OF_RANGE");
        expectCode(() => p.wait(new Uint8Array(8) as unknown as Int32Array, 0), "ERR_INVALID_ARG_TYPE");
        expectCode(() => p.wait(new Int32Array(2), Number.NaN), "ERR_OUT_OF_RANGE");
      } finally {
        p.close();
        closeAll(a, b);
      }
    });

    it("takes its id in the per-call functions (pollerId, pollerAdd/Modify/Remove/Wait) and checks it", () => {
      const p = new lowlevel.Poller(kind);
      const other = new lowlevel.Poller(kind);
      const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
      try {
        const id = lowlevel.pollerId(p);
        expect(Number.isInteger(id) && id > 0).toBe(true);
        expect(lowlevel.pollerId(p)).toBe(id);
        expect(lowlevel.pollerId(other)).not.toBe(id);
        const out = new Int32Array(8);
        lowlevel.pollerAdd(id, a, READ);
        expect(lowlevel.pollerWait(id, out, 0)).toBe(0);
        // The other Poller has nothing registered: the id picked this one.
        expect(other.wait(out, 0)).toBe(0);
        lowlevel.send(b, Buffer.from("data"));
        expect(lowlevel.pollerWait(id, out.buffer, 1000)).toBe(1);
        expect([out[0], out[1]]).toEqual([a, READ]);
        // The methods see what the functions did, and the other way round.
        expect(p.wait(out, 0)).toBe(1);
        lowlevel.pollerModify(id, a, READ, WRITE);
        expect(p.wait(out, 0)).toBe(1);
        expect([out[0], out[1]]).toEqual([a, WRITE]);
        p.modify(a, WRITE, READ | WRITE);
        expect(lowlevel.pollerWait(id, new Uint32Array(out.buffer), 0)).toBe(1);
        expect([out[0], out[1]]).toEqual([a, READ | WRITE]);
        expect(lowlevel.pollerRemove(id, a, READ | WRITE)).toBe(0);
        expect(lowlevel.pollerWait(id, out, 0)).toBe(0);
        expect(lowlevel.pollerRemove(id, b, READ)).toBeLessThan(0);
        // The same checks as the methods, and the kernel's refusals.
        const syscall = kind === "epoll" ? "epoll_ctl" : kind === "kqueue" ? "kevent" : "poll";
        expectSystemError(() => lowlevel.pollerModify(id, b, READ, WRITE), "ENOENT", syscall);
        expectCode(() => lowlevel.pollerAdd(id, -1, READ), "ERR_OUT_OF_RANGE");
        expectCode(() => lowlevel.pollerAdd(id, a, 4), "ERR_OUT_OF_RANGE");
        expectCode(() => lowlevel.pollerRemove(id, a, "1" as unknown as number), "ERR_INVALID_ARG_TYPE");
        expectCode(() => lowlevel.pollerWait(id, new ArrayBuffer(4), 0), "ERR_OUT_OF_RANGE");
        expectCode(() => lowlevel.pollerWait(id, new Uint8Array(8) as unknown as Int32Array, 0), "ERR_INVALID_ARG_TYPE");
        expectCode(() => lowlevel.pollerWait(id, out, Number.NaN), "ERR_OUT_OF_RANGE");
        // Ids that name no Poller, and values that are no ids.
        expectCode(() => lowlevel.pollerAdd(2 ** 31 - 1, a, READ), "ERR_INVALID_ARG_VALUE");
        expectCode(() => lowlevel.pollerAdd(0, a, READ), "ERR_OUT_OF_RANGE");
        expectCode(() => lowlevel.pollerAdd(1.5, a, READ), "ERR_OUT_OF_RANGE");
        expectCode(() => lowlevel.pollerAdd(String(id) as unknown as number, a, READ), "ERR_INVALID_ARG_TYPE");
        expectCode(() => lowlevel.pollerId({} as unknown as InstanceType<typeof lowlevel.Poller>), "ERR_INVALID_ARG_TYPE");
        // A closed Poller's id stays closed (ids are not reused), and it has no id to give.
        p.close();
        expectCode(() => lowlevel.pollerAdd(id, a, READ), "ERR_SELECTOR_CLOSED");
        expectCode(() => lowlevel.pollerWait(id, out, 0), "ERR_SELECTOR_CLOSED");
        expectCode(() => lowlevel.pollerId(p), "ERR_SELECTOR_CLOSED");
        const next = new lowlevel.Poller(kind);
        expect(lowlevel.pollerId(next)).toBeGreaterThan(id);
        next.close();
      } finally {
        p.close();
        other.close();
        closeAll(a, b);
      }
    });

    // poll has no fd of its own.
    if (kind !== "poll")
      it("refuses to watch its own fd (EINVAL)", () => {
        const p = new lowlevel.Poller(kind);
        try {
          expectSystemError(() => p.add(p.fileno(), READ), "EINVAL", kind === "epoll" ? "epoll_ctl" : "kevent");
          expect(p.wait(new Int32Array(2), 0)).toBe(0);
        } finally {
          p.close();
        }
      });

    it("remove of a closed fd returns -errno (or 0 for poll), and the registration is gone", () => {
      const p = new lowlevel.Poller(kind);
      const [a, b] = lowlevel.socketpair();
      try {
        p.add(a, READ | WRITE);
        lowlevel.close(a);
        const out = new Int32Array(4);
        if (kind === "poll") {
          // poll(2) reports a closed fd as POLLNVAL: both bits, masked by the interest.
          expect(p.wait(out, 0)).toBe(1);
          expect([out[0], out[1]]).toEqual([a, READ | WRITE]);
          expect(p.remove(a, READ | WRITE)).toBe(0);
        } else {
          // The kernel dropped the closed fd's registration. (libkqueue on Linux cannot see the
          // close, so there the delete still finds its knotes and succeeds.)
          expect(p.wait(out, 0)).toBe(0);
          const r = p.remove(a, READ | WRITE);
          expect([-c.EBADF, -c.ENOENT, ...(kind === "kqueue" && process.platform === "linux" ? [0] : [])]).toContain(r);
        }
        expect(p.wait(out, 0)).toBe(0);
        expect(p.remove(b, READ)).toBeLessThan(0);
      } finally {
        p.close();
        closeAll(a, b);
      }
    });

    it("writes no more pairs than the out array holds", () => {
      const p = new lowlevel.Poller(kind);
      const pairs = Array.from({ length: 4 }, () => lowlevel.socketpair());
      try {
        for (const [a] of pairs) p.add(a, WRITE);
        const tiny = new Int32Array(3); // one pair; the odd element stays untouched
        tiny[2] = 12345;
        expect(p.wait(tiny, 0)).toBe(1);
        expect(pairs.map(([a]) => a)).toContain(tiny[0]);
        expect(tiny[1]).toBe(WRITE);
        expect(tiny[2]).toBe(12345);
        const big = new Int32Array(16);
        expect(p.wait(big, 0)).toBe(4);
      } finally {
        p.close();
        for (const [a, b] of pairs) closeAll(a, b);
      }
    });

    it("waits for the timeout, -1 until an event, and resumes after a signal", async () => {
      let signals = 0;
      const onSignal = (): void => {
        signals++;
      };
      process.on("SIGUSR2", onSignal);
      const p = new lowlevel.Poller(kind);
      const [a, b] = lowlevel.socketpair();
      try {
        p.add(a, READ);
        const out = new Int32Array(2);
        let t = performance.now();
        expect(p.wait(out, 100)).toBe(0);
        expect(performance.now() - t).toBeGreaterThanOrEqual(95);
        const killer = spawn("sh", ["-c", `sleep 0.1; kill -USR2 ${process.pid}`], { stdio: "ignore" });
        t = performance.now();
        expect(p.wait(out, 400)).toBe(0);
        expect(performance.now() - t).toBeGreaterThanOrEqual(390);
        await new Promise((resolve) => killer.on("exit", resolve));
        const writer = spawn("sh", ["-c", `sleep 0.1; kill -USR2 ${process.pid}; sleep 0.1; printf x >&3`], {
          stdio: ["ignore", "ignore", "inherit", b],
        });
        t = performance.now();
        expect(p.wait(out, -1)).toBe(1);
        expect(performance.now() - t).toBeGreaterThanOrEqual(150);
        expect([out[0], out[1]]).toEqual([a, READ]);
        await new Promise((resolve) => writer.on("exit", resolve));
        await sleep(20);
        expect(signals).toBe(2);
      } finally {
        process.off("SIGUSR2", onSignal);
        p.close();
        closeAll(a, b);
      }
    });
  });
});
