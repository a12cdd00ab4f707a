/**
 * bench/micro.ts — selector micro-benchmarks, run by bench/run.ts in a child process (and the same
 * in Python by bench/py/micro.py, so the two can be set side by side):
 * - register + modify + unregister of one socketpair end: operations per second;
 * - select(0) with N fds ready (N socketpairs, one byte written to each): nanoseconds per ready event;
 * - an empty select(0) (nothing registered): nanoseconds per call.
 * Each case runs for a fixed time (--seconds, default 0.5), after a short warm-up.
 *
 * usage: node dist/bench/micro.js [--seconds S] [--sizes 1,100,1000]   prints one JSON object
 */
import { DefaultSelector, EVENT_READ, EVENT_WRITE, lowlevel as native } from "../lib/index.js";

let seconds = 0.5;
let sizes = [1, 100, 1000];
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i]!;
  const value = process.argv[i + 1];
  if (arg === "--seconds" && value !== undefined) ((seconds = Number(value)), i++);
  else if (arg === "--sizes" && value !== undefined) ((sizes = value.split(",").map(Number)), i++);
  else throw new Error(`micro: unknown argument ${arg}`);
}

/** Calls `body` in batches until `budget` seconds pass; returns [calls, elapsed seconds]. */
function timed(budget: number, batch: number, body: () => void): [number, number] {
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(budget * 1e9));
  let calls = 0;
  for (;;) {
    for (let i = 0; i < batch; i++) body();
    calls += batch;
    const elapsed = process.hrtime.bigint() - start;
    if (elapsed >= limit) return [calls, Number(elapsed) / 1e9];
  }
}

const results: Record<string, { value: number; unit: string }> = {};

{
  const sel = new DefaultSelector();
  const [a, b] = native.socketpair();
  const cycle = (): void => {
    sel.register(a, EVENT_READ);
    sel.modify(a, EVENT_READ | EVENT_WRITE);
    sel.unregister(a);
  };
  timed(seconds / 5, 100, cycle);
  const [calls, elapsed] = timed(seconds, 100, cycle);
  results["register+modify+unregister"] = { value: (calls * 3) / elapsed, unit: "ops/s" };
  sel.close();
  native.close(a);
  native.close(b);
}

for (const n of sizes) {
  const sel = new DefaultSelector();
  const pairs: [number, number][] = [];
  const one = Buffer.from("x");
  for (let i = 0; i < n; i++) {
    const pair = native.socketpair();
    pairs.push(pair);
    native.send(pair[1], one);
    sel.register(pair[0], EVENT_READ);
  }
  let seen = 0;
  const poll = (): void => {
    seen += sel.select(0).length;
  };
  const batch = Math.max(1, Math.floor(1000 / n));
  timed(seconds / 5, batch, poll);
  seen = 0;
  const [calls, elapsed] = timed(seconds, batch, poll);
  if (seen !== calls * n) throw new Error(`micro: expected ${n} ready fds per select, saw ${seen / calls}`);
  results[`select(0), ${n} ready`] = { value: (elapsed * 1e9) / (calls * n), unit: "ns/event" };
  sel.close();
  for (const [x, y] of pairs) (native.close(x), native.close(y));
}

{
  const sel = new DefaultSelector();
  const poll = (): void => void sel.select(0);
  timed(seconds / 5, 1000, poll);
  const [calls, elapsed] = timed(seconds, 1000, poll);
  results["empty select(0)"] = { value: (elapsed * 1e9) / calls, unit: "ns/call" };
  sel.close();
}

process.stdout.write(`${JSON.stringify(results)}\n`);
