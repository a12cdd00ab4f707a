// test/loop-node-work.test.ts — Node's own work completes inside run(): node:timers/promises,
// fs.promises, dns.promises, worker messages, AbortSignal.timeout, setImmediate and setInterval,
// while the loop owns the thread (on epoll/kqueue and on poll) and while attached; sleep() as
// asyncio.sleep; run() refused inside a running loop (ERR_LOOP_RUNNING); and a main coroutine
// that can never complete rejecting with ERR_LOOP_DEADLOCK (in child processes: the test runner's
// own IPC channel keeps Node busy here).
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { lookup } from "node:dns/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Worker } from "node:worker_threads";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { EventLoop, PollSelector, getRunningLoop, run, sleep, type LoopKeyData } from "../lib/index.js";
import { compileForChildren, runFixture } from "./support/child.js";
import { drive, loopFixtures } from "./support/loop.js";
import { pair, portOf, tcpListener, tcpSocket } from "./support/net.js";

/** The owned loop on the default selector and on poll (each waits for libuv its own way), and attached. */
const MODES = ["owned", "owned-poll", "attached", "attached-poll"] as const;
type Mode = (typeof MODES)[number];

const { make, track } = loopFixtures<Mode>((mode) => (mode.endsWith("-poll") ? new EventLoop(new PollSelector()) : new EventLoop()));

/** Runs body on the loop in `mode` (owned: runUntilComplete; attached: attach()), bounded by a watchdog. */
function driveIn<T>(loop: EventLoop, mode: Mode, body: (loop: EventLoop) => Promise<T>): Promise<T> {
  return drive(loop, mode.startsWith("owned") ? "owned" : "attached", body, 10);
}

/** The result of `work()` and how long it took, in ms: Node's work must not wait for an unrelated wake-up. */
async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ns-node-work-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(MODES)("Node's work inside the loop (%s)", (mode) => {
  it("awaits node:timers/promises setTimeout, its value and its timing", async () => {
    const loop = make(mode);
    const [value, elapsed] = await driveIn(loop, mode, async () => {
      const start = performance.now();
      const v = await delay(30, "later");
      return [v, performance.now() - start] as const;
    });
    expect(value).toBe("later");
    expect(elapsed).toBeGreaterThanOrEqual(25);
    expect(elapsed).toBeLessThan(5000);
  });

  it("awaits fs.promises.readFile (a thread-pool completion)", async () => {
    const loop = make(mode);
    const file = join(dir, `read-${mode}.txt`);
    writeFileSync(file, "contents of the file");
    const [text, elapsed] = await driveIn(loop, mode, async () => timed(() => readFile(file, "utf8")));
    expect(text).toBe("contents of the file");
    expect(elapsed).toBeLessThan(2000);
  });

  it("awaits dns.promises.lookup('localhost')", async () => {
    const loop = make(mode);
    const [{ address, family }, elapsed] = await driveIn(loop, mode, async () => timed(() => lookup("localhost")));
    expect(elapsed).toBeLessThan(2000);
    expect([4, 6]).toContain(family);
    expect(address === "127.0.0.1" || address === "::1").toBe(true);
  });

  it("receives a worker_threads message", async () => {
    const loop = make(mode);
    const worker = new Worker(`require("node:worker_threads").parentPort.postMessage({ hello: "from the worker" });`, { eval: true });
    try {
      const [[message], elapsed] = await driveIn(loop, mode, async () => timed(() => once(worker, "message")));
      expect(message).toEqual({ hello: "from the worker" });
      expect(elapsed).toBeLessThan(5000);
    } finally {
      await worker.terminate();
    }
  });

  it("AbortSignal.timeout(50) aborts a pending sockRecv with an AbortError", async () => {
    const loop = make(mode);
    const [a, b] = pair();
    track(a);
    track(b);
    const [error, elapsed] = await driveIn(loop, mode, async () => {
      const start = performance.now();
      const e = await loop.sockRecv(b, 16, { signal: AbortSignal.timeout(50) }).then(
        () => new Error("sockRecv resolved"),
        (err: unknown) => err,
      );
      return [e, performance.now() - start] as const;
    });
    expect(error).toMatchObject({ name: "AbortError", code: "ABORT_ERR" });
    expect(elapsed).toBeGreaterThanOrEqual(40);
    expect(elapsed).toBeLessThan(5000);
    // Nothing was consumed and the registration is gone: the data goes to the next call.
    a.send(Buffer.from("after"));
    const data = await driveIn(loop, mode, async () => loop.sockRecv(b, 16));
    expect(data.toString()).toBe("after");
  });

  it("runs setImmediate and setInterval callbacks", async () => {
    const loop = make(mode);
    const seen = await driveIn(loop, mode, async () => {
      const log: string[] = [];
      await new Promise<void>((resolve) => setImmediate(() => (log.push("immediate"), resolve())));
      await new Promise<void>((resolve) => {
        let ticks = 0;
        const interval = setInterval(() => {
          log.push(`tick ${++ticks}`);
          if (ticks === 3) {
            clearInterval(interval);
            resolve();
          }
        }, 5);
      });
      return log;
    });
    expect(seen).toEqual(["immediate", "tick 1", "tick 2", "tick 3"]);
  });

  it("a Node timer fires while the loop always has ready callbacks (no starvation)", async () => {
    const loop = make(mode);
    const spins = await driveIn(loop, mode, async () => {
      let count = 0;
      let fired = false;
      const spin = (): void => {
        count++;
        if (!fired) loop.callSoon(spin);
      };
      loop.callSoon(spin);
      await delay(20);
      fired = true;
      return count;
    });
    expect(spins).toBeGreaterThan(1);
  });

  it("echoes over loopback TCP through sock* calls while a setInterval ticks", async () => {
    const loop = make(mode);
    const listener = track(tcpListener());
    const { replies, ticks } = await driveIn(loop, mode, async () => {
      let ticked = 0;
      const interval = setInterval(() => ticked++, 2);
      try {
        const serving = (async () => {
          const [conn] = await loop.sockAccept(listener);
          track(conn);
          for (;;) {
            const data = await loop.sockRecv(conn, 1024);
            if (data.length === 0) break;
            await loop.sockSendall(conn, data);
          }
        })();
        serving.catch(() => undefined); // awaited below; if the test fails first, close() rejects it
        const client = track(tcpSocket());
        await loop.sockConnect(client, ["127.0.0.1", portOf(listener)]);
        const got: string[] = [];
        for (let i = 0; i < 5; i++) {
          const tickedBefore = ticked;
          await loop.sockSendall(client, `message ${i}`);
          got.push((await loop.sockRecv(client, 1024)).toString());
          // Between two messages, wait on Node's clock until the interval has ticked again.
          while (ticked === tickedBefore) await delay(1);
        }
        client.shutdown(1);
        await serving;
        return { replies: got, ticks: ticked };
      } finally {
        clearInterval(interval);
      }
    });
    expect(replies).toEqual([0, 1, 2, 3, 4].map((i) => `message ${i}`));
    expect(ticks).toBeGreaterThanOrEqual(5);
  });
});

describe.each(["owned", "attached"] as const)("sleep (%s)", (mode) => {
  it("resolves with its value after the delay, on the loop's clock", async () => {
    const loop = make(mode);
    const [plain, valued, elapsed] = await driveIn(loop, mode, async () => {
      const start = loop.time();
      const p = await loop.sleep(0.03);
      const v = await sleep(0.001, { answer: 42 });
      return [p, v, loop.time() - start] as const;
    });
    expect(plain).toBeUndefined();
    expect(valued).toEqual({ answer: 42 });
    expect(elapsed).toBeGreaterThanOrEqual(0.03);
  });

  it("sleep(0) yields exactly one iteration, after the callbacks scheduled before it", async () => {
    const loop = make(mode);
    const [log, counts] = await driveIn(loop, mode, async () => {
      const order: string[] = [];
      const seen: number[] = [];
      let iterations = 0;
      let done = false;
      // One callSoon per iteration: it counts the iterations.
      const tick = (): void => {
        iterations++;
        if (!done) loop.callSoon(tick);
      };
      loop.callSoon(tick);
      loop.callSoon(() => order.push("callSoon before"));
      await sleep(0);
      order.push("after sleep(0)");
      seen.push(iterations);
      await loop.sleep(0, "v");
      seen.push(iterations);
      await sleep(0);
      seen.push(iterations);
      done = true;
      return [order, seen];
    });
    expect(log).toEqual(["callSoon before", "after sleep(0)"]);
    expect(counts).toEqual([1, 2, 3]);
  });

  it("checks its arguments with coded errors; the module-level sleep needs a running loop", async () => {
    const loop = make(mode);
    await expect(sleep(0.01)).rejects.toMatchObject({ code: "ERR_NO_RUNNING_LOOP" });
    const errors = await driveIn(loop, mode, async () => {
      const results: unknown[] = [];
      for (const bad of [-1, -Infinity, NaN, "1", null, undefined, 10n]) {
        results.push(await loop.sleep(bad as number).catch((e: { code?: string }) => e.code));
      }
      results.push(await loop.sleep(0, 1, { signal: "nope" as unknown as AbortSignal }).catch((e: { code?: string }) => e.code));
      return results;
    });
    expect(errors).toEqual([
      "ERR_OUT_OF_RANGE",
      "ERR_OUT_OF_RANGE",
      "ERR_INVALID_ARG_TYPE",
      "ERR_INVALID_ARG_TYPE",
      "ERR_INVALID_ARG_TYPE",
      "ERR_INVALID_ARG_TYPE",
      "ERR_INVALID_ARG_TYPE",
      "ERR_INVALID_ARG_TYPE",
    ]);
  });

  it("options.signal aborts a sleep (also an infinite one) and cancels its timer; close() rejects a pending sleep", async () => {
    const loop = make(mode);
    const outcome = await driveIn(loop, mode, async () => {
      const already = await loop.sleep(1, 1, { signal: AbortSignal.abort() }).catch((e: { code?: string }) => e.code);
      const controller = new AbortController();
      const pending = loop.sleep(10, "never", { signal: controller.signal });
      const forever = loop.sleep(Infinity, "never", { signal: controller.signal });
      loop.callLater(0.01, () => controller.abort());
      const aborted = await Promise.allSettled([pending, forever]);
      return { already, aborted: aborted.map((r) => (r.status === "rejected" ? (r.reason as { name: string }).name : r.value)) };
    });
    expect(outcome).toEqual({ already: "ABORT_ERR", aborted: ["AbortError", "AbortError"] });
    const orphan = loop.sleep(5);
    const infinite = loop.sleep(Infinity);
    loop.detach();
    loop.close();
    await expect(orphan).rejects.toMatchObject({ code: "ERR_LOOP_CLOSED" });
    await expect(infinite).rejects.toMatchObject({ code: "ERR_LOOP_CLOSED" });
    await expect(loop.sleep(0)).rejects.toMatchObject({ code: "ERR_LOOP_CLOSED" });
  });
});

/** run(main) with a loop timer as watchdog: a run that never ends rejects with ERR_LOOP_STOPPED after 10 s. */
function guardedRun<T>(main: (loop: EventLoop) => Promise<T>): Promise<T> {
  return run(async (loop) => {
    const watchdog = loop.callLater(10, () => loop.stop());
    try {
      return await main(loop);
    } finally {
      watchdog.cancel();
    }
  });
}

describe("run() inside a running loop: ERR_LOOP_RUNNING", () => {
  it("run() inside run() rejects, and the outer run goes on to its result", async () => {
    const result = await guardedRun(async (loop) => {
      const inner = await run(async () => "inner ran").catch((e: { code?: string }) => e.code);
      await loop.sleep(0.001);
      return [inner, getRunningLoop() === loop];
    });
    expect(result).toEqual(["ERR_LOOP_RUNNING", true]);
  });

  it("run() from a Node callback while run() owns the thread rejects too", async () => {
    const result = await guardedRun(async () => {
      await delay(1);
      return new Promise((resolve) => setImmediate(() => resolve(run(async () => 1).catch((e: { code?: string }) => e.code))));
    });
    expect(result).toBe("ERR_LOOP_RUNNING");
  });

  it("run() inside an attached loop's callback (and while one is attached) rejects; the selector given stays open", async () => {
    const loop = make("attached");
    const selector = new PollSelector<LoopKeyData>();
    const fromCallback = await drive(loop, "attached", async () => {
      const inCallback = await new Promise((resolve) => loop.callSoon(() => resolve(run(async () => 1, selector).catch((e: { code?: string }) => e.code))));
      const outside = await run(async () => 1).catch((e: { code?: string }) => e.code);
      return [inCallback, outside];
    });
    expect(fromCallback).toEqual(["ERR_LOOP_RUNNING", "ERR_LOOP_RUNNING"]);
    expect(selector.closed).toBe(false);
    selector.close();
    // Detached (drive detaches): run() works again.
    await expect(guardedRun(async () => "ok")).resolves.toBe("ok");
  });
});

describe("ERR_LOOP_DEADLOCK (child processes)", () => {
  beforeAll(() => {
    compileForChildren();
  });

  async function runChild(args: string[]): Promise<{ code: number | null; lines: string[] }> {
    const r = await runFixture(new URL("./fixtures/loop-deadlock.ts", import.meta.url), args, { timeoutMs: 8000 });
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    if (r.stderr.trim() !== "") lines.push(`stderr: ${r.stderr.trim()}`);
    return { code: r.code, lines };
  }

  it.each([
    ["never", "error ERR_LOOP_DEADLOCK"],
    ["sleep-forever", "error ERR_LOOP_DEADLOCK"],
    ["after-work", "error ERR_LOOP_DEADLOCK"],
    // As for Node itself (an unsettled top-level await exits): an unreferenced timer keeps nothing alive.
    ["unref-timer", "error ERR_LOOP_DEADLOCK"],
    ["node-timer", "result 1"],
    ["fs", "result true"],
    ["reader", 'result "late"'],
  ])("%s", async (scenario, expected) => {
    for (const backend of ["default", "poll"]) {
      const { code, lines } = await runChild([scenario, backend]);
      expect(lines[0], `${scenario} on ${backend}: ${lines.join(" | ")}`).toBe(expected);
      expect(lines[1]).toMatch(/^ms \d+$/);
      expect(Number(lines[1]!.slice(3))).toBeLessThan(3000);
      expect(code).toBe(0);
    }
  });
});
