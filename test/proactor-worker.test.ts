// test/proactor-worker.test.ts — a ProactorEventLoop in a worker thread that ends (terminated, or
// by process.exit()) with operations in flight and without closing its loop: the environment's
// teardown cancels them, closes the ring and every fd, the main thread goes on, and a worker
// started afterwards works. Skipped only where io_uring cannot be used here, with the reason in
// the suite's name.
import { Worker } from "node:worker_threads";
import { beforeAll, describe, expect, it } from "vitest";

import { ProactorEventLoop } from "../lib/index.js";
import { childEnv, compiledPath } from "./support/child.js";
import { fdCount, settledFdCount } from "./support/fds.js";

const available = ProactorEventLoop.available;
const reason = ProactorEventLoop.unavailableReason;

/** Starts the fixture; resolves with its first message, and with its exit code. */
function start(scenario: string): { worker: Worker; message: Promise<unknown>; exited: Promise<number> } {
  const worker = new Worker(compiledPath(new URL("./fixtures/proactor-worker.ts", import.meta.url)), { workerData: scenario, env: childEnv() });
  const message = new Promise<unknown>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
  return { worker, message, exited };
}

async function roundTrip(): Promise<void> {
  const { message, exited } = start("run");
  expect(await message).toBe("echo from a worker");
  expect(await exited).toBe(0);
}

describe.skipIf(!available)(`ProactorEventLoop in a worker thread${available ? "" : ` — skipped: ${reason}`}`, () => {
  // Node opens a few things of its own once, on the first Worker: counted before the baseline.
  beforeAll(roundTrip);

  // The loop owns the worker's thread and waits with no timeout: longer than a worker's wait slice.
  it("run() with a ProactorEventLoop completes its operations in a worker", roundTrip);

  // Node's work (here a message) cuts the wait of a loop that owns the thread short, slice or not.
  it("a loop owning a worker's thread lets the worker get its messages", async () => {
    const { worker, message, exited } = start("message");
    expect(await message).toBe("ready");
    const answer = new Promise((resolve) => worker.once("message", resolve));
    worker.postMessage("hello");
    expect(await answer).toBe("worker got hello");
    expect(await exited).toBe(0);
  });

  it.each(["owned", "attached", "exit"])(
    "a worker ending with operations in flight and its loop never closed (%s) leaves no fd behind, and the next worker works",
    async (scenario) => {
      const before = fdCount();
      const { worker, message, exited } = start(scenario);
      // A multishot accept, receives on an accepted connection and on a socketpair.
      expect(((await message) as { inflight: number }).inflight).toBeGreaterThanOrEqual(4);
      if (scenario === "exit") expect(await exited).toBe(0);
      else {
        await worker.terminate();
        await exited;
      }
      expect(await settledFdCount(before, 3000)).toBe(before);
      await roundTrip();
      expect(await settledFdCount(before, 3000)).toBe(before);
    },
  );
});
