// test/native/wait-eintr.test.ts — lowlevel.waitFd (the poll behind Socket timeouts) under a
// signal: like the backends' waits (test/native/epoll.test.ts, poller.test.ts), it resumes after
// EINTR with the time left, so a signal neither ends the wait early nor loses a later event.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

import { lowlevel } from "../../lib/index.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("waitFd and EINTR", () => {
  it("a signal during the wait neither ends it early nor loses the event that follows", async () => {
    let signals = 0;
    const onSignal = (): void => {
      signals++;
    };
    process.on("SIGUSR2", onSignal);
    const [a, b] = lowlevel.socketpair();
    const { POLLIN } = lowlevel.poll;
    try {
      // 1. Nothing arrives: the wait lasts its whole timeout although a signal comes at ~100 ms.
      let child = spawn("sh", ["-c", `sleep 0.1; kill -USR2 ${process.pid}`], { stdio: "ignore" });
      let t = performance.now();
      expect(lowlevel.waitFd(a, POLLIN, 600)).toBe(0);
      expect(performance.now() - t).toBeGreaterThanOrEqual(590);
      await new Promise((resolve) => child.on("exit", resolve));
      for (let i = 0; i < 50 && signals === 0; i++) await sleep(10);
      expect(signals).toBe(1);
      // 2. Waiting forever (-1): the signal at ~100 ms, data at ~300 ms; the wait returns POLLIN.
      child = spawn("sh", ["-c", `sleep 0.1; kill -USR2 ${process.pid}; sleep 0.2; printf x >&3`], {
        stdio: ["ignore", "ignore", "inherit", b],
      });
      t = performance.now();
      expect(lowlevel.waitFd(a, POLLIN, -1)).toBe(POLLIN);
      expect(performance.now() - t).toBeGreaterThanOrEqual(250);
      await new Promise((resolve) => child.on("exit", resolve));
      for (let i = 0; i < 50 && signals === 1; i++) await sleep(10);
      expect(signals).toBe(2);
    } finally {
      process.off("SIGUSR2", onSignal);
      lowlevel.close(a);
      lowlevel.close(b);
    }
  });
});
