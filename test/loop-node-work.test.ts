// test/loop-node-work.test.ts — Node's own work completes inside run(): node:timers/promises,
// fs.promises, dns.promises, worker messages, AbortSignal.timeout, setImmediate and setInterval,
// while the loop owns the thread (on epoll/kqueue and on poll) and while attached.
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { lookup } from "node:dns/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Worker } from "node:worker_threads";

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { EventLoop, PollSelector, type Socket } from "../lib/index.js";
import { drive, pair, portOf, tcpListener, tcpSocket } from "./loop-helpers.js";

/** The owned loop on the default selector and on poll (each waits for libuv its own way), and attached. */
const MODES = ["owned", "owned-poll", "attached", "attached-poll"] as const;
type Mode = (typeof MODES)[number];

const loops: EventLoop[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const loop of loops.splice(0)) {
    loop.detach();
    loop.close();
  }
  for (const s of sockets.splice(0)) s.close();
});

function make(mode: Mode): EventLoop {
  const loop = mode.endsWith("-poll") ? new EventLoop(new PollSelector()) : new EventLoop();
  loops.push(loop);
  return loop;
}

function track<T extends Socket>(s: T): T {
  sockets.push(s);
  return s;
}

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
