// test/native/workers.test.ts — the addon as a good Node-API citizen in worker_threads: it loads in
// two workers at once, each with its own state (sockets, pollers, watchers on its own loop), and a
// terminated worker's fds are closed by the environment cleanup hook.
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { lowlevel } from "../../lib/index.js";
import { addonPath } from "../support/child.js";
import { expectFdCount } from "../support/expect.js";
import { fdBaseline, fdCount, openFds } from "../support/fds.js";
import { sleep } from "../support/time.js";

let fdsAtStart = 0;
beforeAll(async () => {
  fdsAtStart = await fdBaseline();
});
afterAll(async () => {
  await expectFdCount(fdsAtStart);
});

/** A worker (CommonJS, eval) with `addonPath` and `workerData` in scope. */
function startWorker(body: string, data: unknown): Worker {
  const source = `const { parentPort, workerData } = require("node:worker_threads");
const addonPath = ${JSON.stringify(addonPath())};
${body}`;
  return new Worker(source, { eval: true, workerData: data });
}

function nextMessage<T>(worker: Worker, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("worker sent nothing")), timeoutMs);
    worker.once("message", (m: T) => {
      clearTimeout(timer);
      resolve(m);
    });
    worker.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

// Each worker uses every part of the addon on its own loop and reports what it saw.
const exerciseBody = `
const n = require(addonPath);
const out = { kinds: [], echoed: "", watcher: null, owned: 0 };
const [a, b] = n.socketpair(1, 1, 0, true);
for (const kind of ["epoll", "kqueue", "poll"]) {
  if (!n.backends[kind]) continue;
  const p = new n.Poller(kind);
  p.add(a, 1);
  n.send(b, Buffer.from(workerData.tag));
  const ev = new Int32Array(2);
  const count = p.wait(ev, 2000);
  const buf = Buffer.alloc(32);
  const got = n.recv(a, buf);
  out.kinds.push([kind, count, ev[0] === a, ev[1], buf.subarray(0, got).toString()]);
  p.close();
}
const w = new n.Watcher(a, (status, bits) => {
  w.close();
  out.watcher = [status, bits];
  n.runOwned(() => ++out.owned < 5, () => {
    n.close(a); n.close(b);
    parentPort.postMessage(out);
  });
});
w.start(1);
n.send(b, Buffer.from("x"));
`;

describe("worker_threads", () => {
  it("loads in two workers at once, each with its own sockets, pollers, watcher and owned loop", async () => {
    const workers = [startWorker(exerciseBody, { tag: "one" }), startWorker(exerciseBody, { tag: "two" })];
    try {
      type Report = { kinds: Array<[string, number, boolean, number, string]>; watcher: [number, number]; owned: number };
      const reports = await Promise.all(workers.map((w) => nextMessage<Report>(w)));
      reports.forEach((report, i) => {
        const tag = i === 0 ? "one" : "two";
        const kinds = (["epoll", "kqueue", "poll"] as const).filter((k) => lowlevel.backends[k]);
        expect(report.kinds.map((k) => k[0])).toEqual(kinds);
        for (const [, count, sameFd, bits, text] of report.kinds) {
          expect([count, sameFd, bits, text]).toEqual([1, true, 1, tag]);
        }
        expect(report.watcher).toEqual([0, 1]);
        expect(report.owned).toBe(5);
      });
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
    // The main thread's addon still works after the workers are gone.
    const [a, b] = lowlevel.socketpair();
    lowlevel.close(a);
    lowlevel.close(b);
  });

  it("closes the fds a terminated worker left open", async () => {
    const before = fdCount();
    const worker = startWorker(
      `
const n = require(addonPath);
const fds = [];
for (let i = 0; i < 10; i++) fds.push(...n.socketpair());
fds.push(...n.pipe());
const s = n.socket(2, 1, 0, true);
n.bind(s, 2, "127.0.0.1", 0);
n.listen(s);
fds.push(s);
if (n.epoll) fds.push(n.epoll.create());
const pollers = [];
for (const kind of ["epoll", "kqueue", "poll"]) if (n.backends[kind]) pollers.push(new n.Poller(kind));
const w = new n.Watcher(fds[0], () => {});
w.start(1);
n.watchSignal(12, fds[1]); // SIGUSR2: dropped at teardown
parentPort.postMessage(fds);
setInterval(() => {}, 1000); // stays alive until terminated
`,
      {},
    );
    const fds = await nextMessage<number[]>(worker);
    expect(fds.length).toBeGreaterThanOrEqual(24);
    const open = new Set(openFds());
    for (const fd of fds) expect(open.has(fd)).toBe(true);
    expect(fdCount()).toBeGreaterThan(before + 20);
    await worker.terminate();
    await sleep(50);
    await expectFdCount(before, 5000);
  });
});
