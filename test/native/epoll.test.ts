// test/native/epoll.test.ts — the raw `epoll` exports (create, ctl, wait and every EPOLL* flag)
// with real fds: ctl's errors, wait filling (fd, events) pairs into caller-owned arrays, timeouts,
// and a wait interrupted by a signal (EINTR) resuming with the time left.
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { epoll, lowlevel } from "../../lib/index.js";
import { expectCode, expectFdCount, expectSystemError } from "../support/expect.js";
import { closeAll, closedFd, fdBaseline } from "../support/fds.js";
import { tcpPair } from "../support/native.js";
import { sleep } from "../support/time.js";

const linux = process.platform === "linux";

describe.skipIf(!linux)("epoll (Linux)", () => {
  // Defined on Linux; the describe is skipped elsewhere, where epoll does not exist.
  const ep = epoll!;
  let fdsAtStart = 0;
  beforeAll(async () => {
    fdsAtStart = await fdBaseline();
  });
  afterAll(async () => {
    await expectFdCount(fdsAtStart);
  });

  it("is exported with every flag and op, matching the kernel's values", () => {
    expect(ep).toBeDefined();
    expect(ep.EPOLLIN).toBe(0x001);
    expect(ep.EPOLLPRI).toBe(0x002);
    expect(ep.EPOLLOUT).toBe(0x004);
    expect(ep.EPOLLERR).toBe(0x008);
    expect(ep.EPOLLHUP).toBe(0x010);
    expect(ep.EPOLLRDHUP).toBe(0x2000);
    expect(ep.EPOLLEXCLUSIVE).toBe(1 << 28);
    expect(ep.EPOLLONESHOT).toBe(1 << 30);
    expect(ep.EPOLLET >>> 0).toBe(0x80000000);
    expect([ep.EPOLL_CTL_ADD, ep.EPOLL_CTL_DEL, ep.EPOLL_CTL_MOD]).toEqual([1, 2, 3]);
    expect(ep.EPOLL_CLOEXEC).toBe(0o2000000);
  });

  it("create() returns a CLOEXEC epoll fd that close() closes", () => {
    const epfd = ep.create();
    expect(epfd).toBeGreaterThan(2);
    expect(lowlevel.isOpen(epfd)).toBe(true);
    lowlevel.close(epfd);
    expect(lowlevel.isOpen(epfd)).toBe(false);
  });

  it("ctl adds, modifies and deletes; wait reports (fd, events) pairs", () => {
    const epfd = ep.create();
    const [a, b] = lowlevel.socketpair(lowlevel.constants.AF_UNIX, lowlevel.constants.SOCK_STREAM, 0, true);
    try {
      const out = new Int32Array(16);
      ep.ctl(epfd, ep.EPOLL_CTL_ADD, a, ep.EPOLLIN);
      expect(ep.wait(epfd, out, 0)).toBe(0);
      expect(lowlevel.send(b, Buffer.from("hi"))).toBe(2);
      expect(ep.wait(epfd, out, 1000)).toBe(1);
      expect(out[0]).toBe(a);
      expect(out[1]).toBe(ep.EPOLLIN);
      // Level-triggered: still readable.
      expect(ep.wait(epfd, out, 0)).toBe(1);
      ep.ctl(epfd, ep.EPOLL_CTL_MOD, a, ep.EPOLLIN | ep.EPOLLOUT);
      expect(ep.wait(epfd, out, 0)).toBe(1);
      expect(out[1]).toBe(ep.EPOLLIN | ep.EPOLLOUT);
      ep.ctl(epfd, ep.EPOLL_CTL_DEL, a);
      expect(ep.wait(epfd, out, 0)).toBe(0);
    } finally {
      closeAll(a, b, epfd);
    }
  });

  it("wait fills a Uint32Array too; events may be given as uint32 or as JavaScript's int32 bits", () => {
    const epfd = ep.create();
    const [a, b] = lowlevel.socketpair(lowlevel.constants.AF_UNIX, lowlevel.constants.SOCK_STREAM, 0, true);
    try {
      ep.ctl(epfd, ep.EPOLL_CTL_ADD, a, (ep.EPOLLOUT | ep.EPOLLET) >>> 0);
      const out = new Uint32Array(4);
      expect(ep.wait(epfd, out, 0)).toBe(1);
      expect(out[0]).toBe(a);
      expect(out[1]).toBe(ep.EPOLLOUT);
      // Edge-triggered: no new edge, no new event.
      expect(ep.wait(epfd, out, 0)).toBe(0);
      // `EPOLLIN | EPOLLET` in JavaScript is a negative int32: the same bits.
      expect(ep.EPOLLIN | ep.EPOLLET).toBeLessThan(0);
      ep.ctl(epfd, ep.EPOLL_CTL_MOD, a, ep.EPOLLIN | ep.EPOLLET);
      expect(lowlevel.send(b, Buffer.from("x"))).toBe(1);
      expect(ep.wait(epfd, out, 1000)).toBe(1);
      expect(out[1]).toBe(ep.EPOLLIN);
      expect(ep.wait(epfd, out, 0)).toBe(0);
    } finally {
      closeAll(a, b, epfd);
    }
  });

  it("EPOLLONESHOT disarms after one event until re-armed with MOD", () => {
    const epfd = ep.create();
    const [a, b] = lowlevel.socketpair(lowlevel.constants.AF_UNIX, lowlevel.constants.SOCK_STREAM, 0, true);
    try {
      ep.ctl(epfd, ep.EPOLL_CTL_ADD, a, ep.EPOLLOUT | ep.EPOLLONESHOT);
      const out = new Int32Array(2);
      expect(ep.wait(epfd, out, 0)).toBe(1);
      expect(ep.wait(epfd, out, 0)).toBe(0);
      ep.ctl(epfd, ep.EPOLL_CTL_MOD, a, ep.EPOLLOUT | ep.EPOLLONESHOT);
      expect(ep.wait(epfd, out, 0)).toBe(1);
    } finally {
      closeAll(a, b, epfd);
    }
  });

  it("EPOLLRDHUP and EPOLLHUP report a peer that shut down or closed", () => {
    const epfd = ep.create();
    const [a, b] = tcpPair();
    try {
      ep.ctl(epfd, ep.EPOLL_CTL_ADD, a, ep.EPOLLIN | ep.EPOLLRDHUP);
      const out = new Int32Array(2);
      expect(ep.wait(epfd, out, 0)).toBe(0);
      lowlevel.shutdown(b, lowlevel.constants.SHUT_WR);
      expect(ep.wait(epfd, out, 1000)).toBe(1);
      expect(out[1]! & ep.EPOLLRDHUP).toBe(ep.EPOLLRDHUP);
      expect(out[1]! & ep.EPOLLIN).toBe(ep.EPOLLIN);
      lowlevel.close(b);
      lowlevel.shutdown(a, lowlevel.constants.SHUT_WR);
      expect(ep.wait(epfd, out, 1000)).toBe(1);
      expect(out[1]! & ep.EPOLLHUP).toBe(ep.EPOLLHUP);
    } finally {
      closeAll(a, b, epfd);
    }
  });

  it("EPOLLPRI and EPOLLEXCLUSIVE are accepted by ctl", () => {
    const epfd = ep.create();
    const [a, b] = lowlevel.socketpair();
    try {
      ep.ctl(epfd, ep.EPOLL_CTL_ADD, a, ep.EPOLLIN | ep.EPOLLEXCLUSIVE);
      // EPOLLEXCLUSIVE may not be modified (EINVAL), as the kernel documents.
      expectSystemError(() => ep.ctl(epfd, ep.EPOLL_CTL_MOD, a, ep.EPOLLIN), "EINVAL", "epoll_ctl");
      ep.ctl(epfd, ep.EPOLL_CTL_ADD, b, ep.EPOLLPRI);
      expect(ep.wait(epfd, new Int32Array(4), 0)).toBe(0);
    } finally {
      closeAll(a, b, epfd);
    }
  });

  it("ctl throws EEXIST, ENOENT, EBADF and EPERM as Node-shaped errors", () => {
    const epfd = ep.create();
    const [a, b] = lowlevel.socketpair();
    const file = join(tmpdir(), `ns-epoll-${process.pid}.txt`);
    const regular = openSync(file, "w");
    try {
      ep.ctl(epfd, ep.EPOLL_CTL_ADD, a, ep.EPOLLIN);
      const exists = expectSystemError(() => ep.ctl(epfd, ep.EPOLL_CTL_ADD, a, ep.EPOLLIN), "EEXIST", "epoll_ctl");
      expect(exists.errno).toBe(-lowlevel.constants.EEXIST);
      expect(exists.message).toBe("EEXIST: file already exists, epoll_ctl");
      expectSystemError(() => ep.ctl(epfd, ep.EPOLL_CTL_MOD, b, ep.EPOLLIN), "ENOENT", "epoll_ctl");
      expectSystemError(() => ep.ctl(epfd, ep.EPOLL_CTL_DEL, b), "ENOENT", "epoll_ctl");
      const badf = expectSystemError(() => ep.ctl(epfd, ep.EPOLL_CTL_ADD, closedFd(), ep.EPOLLIN), "EBADF", "epoll_ctl");
      expect(badf.message).toBe("EBADF: bad file descriptor, epoll_ctl");
      expectSystemError(() => ep.ctl(closedFd(), ep.EPOLL_CTL_ADD, a, ep.EPOLLIN), "EBADF", "epoll_ctl");
      // A regular file cannot be polled.
      expectSystemError(() => ep.ctl(epfd, ep.EPOLL_CTL_ADD, regular, ep.EPOLLIN), "EPERM", "epoll_ctl");
      // epfd that is not an epoll fd.
      expectSystemError(() => ep.ctl(a, ep.EPOLL_CTL_ADD, b, ep.EPOLLIN), "EINVAL", "epoll_ctl");
    } finally {
      closeSync(regular);
      closeAll(a, b, epfd);
    }
  });

  it("checks every argument of ctl and wait", () => {
    const epfd = ep.create();
    try {
      expectCode(() => ep.ctl(-1, 1, 0, 1), "ERR_OUT_OF_RANGE");
      expectCode(() => ep.ctl(epfd, 0, 0, 1), "ERR_OUT_OF_RANGE");
      expectCode(() => ep.ctl(epfd, 4, 0, 1), "ERR_OUT_OF_RANGE");
      expectCode(() => ep.ctl(epfd, 1, 1.5, 1), "ERR_OUT_OF_RANGE");
      expectCode(() => ep.ctl(epfd, 1, 0, -(2 ** 31) - 1), "ERR_OUT_OF_RANGE");
      expectCode(() => ep.ctl(epfd, 1, 0, 2 ** 32), "ERR_OUT_OF_RANGE");
      expectCode(() => ep.ctl("3" as unknown as number, 1, 0, 1), "ERR_INVALID_ARG_TYPE");
      expectCode(() => ep.wait(epfd, new Int32Array(1), 0), "ERR_OUT_OF_RANGE");
      expectCode(() => ep.wait(epfd, new Float64Array(4) as unknown as Int32Array, 0), "ERR_INVALID_ARG_TYPE");
      expectCode(() => ep.wait(epfd, [] as unknown as Int32Array, 0), "ERR_INVALID_ARG_TYPE");
      expectCode(() => ep.wait(epfd, new Int32Array(2), Number.NaN), "ERR_OUT_OF_RANGE");
      expectCode(() => ep.wait(epfd, new Int32Array(2), "1" as unknown as number), "ERR_INVALID_ARG_TYPE");
      // A hot-path wait on a bad epfd returns -errno instead of throwing.
      expect(ep.wait(closedFd(), new Int32Array(2), 0)).toBe(-lowlevel.constants.EBADF);
      const [a, b] = lowlevel.socketpair();
      expect(ep.wait(a, new Int32Array(2), 0)).toBe(-lowlevel.constants.EINVAL);
      closeAll(a, b);
    } finally {
      lowlevel.close(epfd);
    }
  });

  it("reports at most out.length/2 events per call, the rest on the next call", () => {
    const epfd = ep.create();
    const pairs = Array.from({ length: 5 }, () => lowlevel.socketpair());
    try {
      for (const [a] of pairs) ep.ctl(epfd, ep.EPOLL_CTL_ADD, a, ep.EPOLLOUT | ep.EPOLLET);
      const out = new Int32Array(6); // three pairs, plus no room for more
      expect(ep.wait(epfd, out, 0)).toBe(3);
      expect(ep.wait(epfd, out, 0)).toBe(2);
      expect(ep.wait(epfd, out, 0)).toBe(0);
    } finally {
      for (const [a, b] of pairs) closeAll(a, b);
      lowlevel.close(epfd);
    }
  });

  it("timeout 0 polls, a positive timeout waits, -1 waits until an event", async () => {
    const epfd = ep.create();
    const [a, b] = lowlevel.socketpair();
    try {
      ep.ctl(epfd, ep.EPOLL_CTL_ADD, a, ep.EPOLLIN);
      const out = new Int32Array(2);
      let t = performance.now();
      expect(ep.wait(epfd, out, 0)).toBe(0);
      expect(performance.now() - t).toBeLessThan(50);
      t = performance.now();
      expect(ep.wait(epfd, out, 120)).toBe(0);
      expect(performance.now() - t).toBeGreaterThanOrEqual(115);
      // -1 (and any negative) waits forever: a child writes after 150 ms.
      const child = spawn("sh", ["-c", "sleep 0.15; printf x >&3"], { stdio: ["ignore", "ignore", "inherit", b] });
      t = performance.now();
      expect(ep.wait(epfd, out, -1)).toBe(1);
      expect(performance.now() - t).toBeGreaterThanOrEqual(100);
      expect(out[0]).toBe(a);
      await new Promise((resolve) => child.on("exit", resolve));
    } finally {
      closeAll(a, b, epfd);
    }
  });

  it("resumes after EINTR with the time left: a signal neither ends the wait early nor loses later events", async () => {
    let signals = 0;
    const onSignal = (): void => {
      signals++;
    };
    process.on("SIGUSR2", onSignal);
    const epfd = ep.create();
    const [a, b] = lowlevel.socketpair();
    try {
      ep.ctl(epfd, ep.EPOLL_CTL_ADD, a, ep.EPOLLIN);
      const out = new Int32Array(2);
      // 1. Nothing arrives: the wait lasts its whole timeout although a signal comes at ~100 ms.
      let child = spawn("sh", ["-c", `sleep 0.1; kill -USR2 ${process.pid}`], { stdio: "ignore" });
      let t = performance.now();
      expect(ep.wait(epfd, out, 600)).toBe(0);
      let elapsed = performance.now() - t;
      expect(elapsed).toBeGreaterThanOrEqual(590);
      await new Promise((resolve) => child.on("exit", resolve));
      await sleep(20);
      expect(signals).toBe(1);
      // 2. The signal at ~100 ms, data at ~300 ms: the wait returns the event.
      child = spawn("sh", ["-c", `sleep 0.1; kill -USR2 ${process.pid}; sleep 0.2; printf x >&3`], {
        stdio: ["ignore", "ignore", "inherit", b],
      });
      t = performance.now();
      expect(ep.wait(epfd, out, 5000)).toBe(1);
      elapsed = performance.now() - t;
      expect(out[0]).toBe(a);
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(4000);
      await new Promise((resolve) => child.on("exit", resolve));
      await sleep(20);
      expect(signals).toBe(2);
    } finally {
      process.off("SIGUSR2", onSignal);
      closeAll(a, b, epfd);
    }
  });
});
