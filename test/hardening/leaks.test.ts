// test/hardening/leaks.test.ts — no fd or memory leak across thousands of connections (a
// selectors server, and the EventLoop owning the thread and attached), finalizers close dropped
// selectors and Sockets, and a worker terminated while its reactor runs closes what it opened.
import { describe, expect, it } from "vitest";

import { ProactorEventLoop } from "../../lib/index.js";
import { expectClean, runFixture } from "../support/child.js";

/** Under the ASan run the allocator's quarantine holds freed memory: RSS says nothing there. */
const SANITIZED = (process.env.LD_PRELOAD ?? "").includes("asan");
const CONNECTIONS = 5000;

interface LeakResult {
  samples: Array<{ at: number; fds: number; rss: number; heap: number }>;
}

describe("fd count and RSS stay flat across sequential connections", () => {
  for (const mode of ["selectors", "owned", "attached"] as const) {
    it(`${CONNECTIONS} connect/request/close through a ${mode === "selectors" ? "DefaultSelector server" : `${mode} EventLoop`}`, async () => {
      const r = await runFixture(new URL("./fixtures/leak-server.ts", import.meta.url), [mode, String(CONNECTIONS), "300"], {
        nodeArgs: ["--expose-gc"],
        timeoutMs: 100_000,
      });
      expectClean(r);
      const { samples } = r.result as LeakResult;
      expect(samples.map((s) => s.at)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
      // Every connection closed on both sides: the fd count is the warm-up's at every sample.
      for (const s of samples) expect(s.fds, `fds at ${s.at}`).toBe(samples[0]!.fds);
      if (!SANITIZED) {
        // After the first thousand (JIT, pools and heaps warmed up) RSS only moves in the steps of
        // V8's heap sizing (up to ~25 MB, then flat over 20,000 connections); a leak of 10 KB per
        // connection (a socket's buffers, a recv buffer) would add 40 MB over the last 4000.
        const growth = samples[samples.length - 1]!.rss - samples[1]!.rss;
        expect(growth, JSON.stringify(samples)).toBeLessThan(40);
      }
    }, 120_000);
  }
});

describe("finalizers", () => {
  it("close selectors and Sockets dropped without close()", async () => {
    const r = await runFixture(new URL("./fixtures/finalizers.ts", import.meta.url), [], { nodeArgs: ["--expose-gc"] });
    expectClean(r);
    const { backend, before, alive, after, N } = r.result as { backend: string; before: number; alive: number; after: number; N: number };
    // Each of the N rounds held a socketpair, a Socket (a PollSelector has no fd) and the default
    // selector's own fds: one epoll fd, none for poll, several for libkqueue (kqueue on Linux,
    // where the number depends on libkqueue's internals: at least one).
    const sockets = before + 3 * N;
    if (backend === "epoll") expect(alive).toBe(sockets + N);
    else if (backend === "poll") expect(alive).toBe(sockets);
    else expect(alive).toBeGreaterThanOrEqual(sockets + N);
    // Then all of them were closed by finalizers: the count is back to the warmed-up baseline
    // (the fixture waits out libkqueue's deferred closes).
    expect(after).toBe(before);
  });
});

describe.skipIf(!ProactorEventLoop.available)(
  `finalizers on ProactorEventLoop${ProactorEventLoop.available ? "" : ` — skipped: ${ProactorEventLoop.unavailableReason}`}`,
  () => {
    it("close stream sockets dropped without close() while their multishot receive is armed", async () => {
      const r = await runFixture(new URL("./fixtures/proactor-finalizers.ts", import.meta.url), [], { nodeArgs: ["--expose-gc"] });
      expectClean(r);
      const { before, alive, after, N } = r.result as { before: number; alive: number; after: number; N: number };
      // N socketpairs open (the loop's ring fd was counted in the baseline)...
      expect(alive).toBe(before + 2 * N);
      // ...then the N read ends, dropped, were closed by their finalizers; the peers stay open.
      expect(after).toBe(before + N);
    });
  },
);

describe("worker thread terminated while its reactor runs", () => {
  for (const mode of ["owned", "selectors", "attached"] as const) {
    it(`closes what it opened (${mode === "selectors" ? "blocked in DefaultSelector.select()" : `EventLoop ${mode}`})`, async () => {
      const r = await runFixture(new URL("./fixtures/worker-terminate.ts", import.meta.url), [mode, "3"], { timeoutMs: 60_000 });
      expectClean(r);
      const { results } = r.result as { results: Array<{ before: number; ready: number; after: number }> };
      expect(results).toHaveLength(3);
      const detail = JSON.stringify(results);
      for (const round of results) {
        // The worker had its listener, connections, socketpairs and raw fds open...
        expect(round.ready, detail).toBeGreaterThanOrEqual(round.before + 15);
        // ...and the process is back where it was once the worker is gone.
        expect(round.after, detail).toBe(round.before);
      }
    }, 70_000);
  }
});
