/**
 * bench/micro.ts — micro-benchmarks of single operations, run in a child process by bench/run.ts
 * and bench/micro-report.ts. bench/py/micro.py is its twin: the same cases in the same order, each
 * the same loop on the same kind of object — socket objects (`Socket` here, socket.socket there)
 * for every socket and selector case, set up, checked and timed alike (the same warm-up, the same
 * slices, the median kept) — so the two columns compare the same work. Keep them symmetrical.
 * The one addition here is a third column for two socket cases: the same loop on the `lowlevel`
 * fd calls (the `lowlevel` field), timed in slices alternating with the `Socket` loop.
 *
 * Socket operations, on `Socket` objects:
 * - `recv(4096)` on an empty non-blocking socketpair end: Socket throws EAGAIN, caught (lowlevel
 *   returns -EAGAIN): nanoseconds per call;
 * - `b.send(1 byte)` then `a.recv(4096)` on a socketpair: nanoseconds per pair (lowlevel: into a
 *   preallocated buffer);
 * - `accept()` + `setblocking(false)` + `close()` of a loopback connection already queued on a
 *   non-blocking listener (lowlevel: accept4 with NONBLOCK, then close): nanoseconds per
 *   connection, timing only those calls; the connecting clients are made and closed outside the
 *   timed part, K at a time.
 * Selector operations, on DefaultSelector with `Socket` objects (as CPython's with socket objects):
 * - register + modify + unregister of one socketpair end: operations per second;
 * - select(0) with N fds ready (N socketpairs, one byte written to each): nanoseconds per ready event;
 * - an empty select(0) (nothing registered): nanoseconds per call.
 * Each case runs for a fixed time (--seconds, default 0.5) after a warm-up of a fifth of that.
 *
 * usage: node dist/bench/micro.js [--seconds S] [--sizes 1,100,1000]
 * prints one JSON object: { "<operation>": { "value": n, "unit": "...", "lowlevel"?: n } }
 */
import { AF_INET, DefaultSelector, EVENT_READ, EVENT_WRITE, SOCK_STREAM, Socket, lowlevel as native, socketpair } from "../lib/index.js";

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

/**
 * Nanoseconds per call of `first` and of `second`, measured in alternating slices (five each, the
 * median kept) after warming both, so a drift of the machine's speed during the run (another
 * process, frequency changes) weighs on both alike instead of on whichever ran second. `first`
 * gets the schedule micro.py's sliced_ns_per_call gives its loop: a tenth of `seconds` of
 * warm-up, then five slices of a fifth.
 */
function pairedNsPerCall(batch: number, first: () => void, second: () => void): [number, number] {
  timed(seconds / 10, batch, first);
  timed(seconds / 10, batch, second);
  const slices: [number[], number[]] = [[], []];
  for (let i = 0; i < 5; i++) {
    for (const [k, body] of [first, second].entries()) {
      const [calls, elapsed] = timed(seconds / 5, batch, body);
      slices[k]!.push((elapsed * 1e9) / calls);
    }
  }
  const median = (values: number[]): number => values.sort((x, y) => x - y)[values.length >> 1]!;
  return [median(slices[0]), median(slices[1])];
}

interface Result {
  value: number;
  unit: string;
  lowlevel?: number;
}
const results: Record<string, Result> = {};
const { EAGAIN } = native.constants;

// ------------------------------------------------------------------------------------- sockets

{
  const [a, b] = socketpair();
  a.setblocking(false);
  b.setblocking(false);
  const afd = a.fileno();
  const rbuf = Buffer.allocUnsafe(4096);
  let unexpected = 0;
  const socketCall = (): void => {
    try {
      a.recv(4096);
      unexpected++;
    } catch (error) {
      if ((error as { code?: unknown }).code !== "EAGAIN") throw error;
    }
  };
  const lowCall = (): void => {
    if (native.recv(afd, rbuf, 0, 4096) !== -EAGAIN) unexpected++;
  };
  const [value, lowlevel] = pairedNsPerCall(100, socketCall, lowCall);
  if (unexpected !== 0) throw new Error("micro: recv on an empty socket did not fail with EAGAIN");
  results["recv(4096) → EAGAIN, caught"] = { value, unit: "ns/call", lowlevel };
  a.close();
  b.close();
}

{
  const [a, b] = socketpair();
  a.setblocking(false);
  b.setblocking(false);
  const [afd, bfd] = [a.fileno(), b.fileno()];
  const one = Buffer.from("x");
  const rbuf = Buffer.allocUnsafe(4096);
  let bad = 0;
  const socketPair = (): void => {
    b.send(one);
    if (a.recv(4096).length !== 1) bad++;
  };
  const lowPair = (): void => {
    native.send(bfd, one);
    if (native.recv(afd, rbuf, 0, 4096) !== 1) bad++;
  };
  const [value, lowlevel] = pairedNsPerCall(100, socketPair, lowPair);
  if (bad !== 0) throw new Error("micro: send+recv of 1 byte did not read 1 byte");
  results["send(1 B) + recv(4096)"] = { value, unit: "ns/pair", lowlevel };
  a.close();
  b.close();
}

{
  /** Connections per batch: the clients connect (untimed), then the server side is timed. */
  const K = 32;
  /** At most this many connections per measurement (bounds the TIME_WAIT entries left behind). */
  const maxConnections = 20_000;
  const listener = new Socket(AF_INET, SOCK_STREAM);
  listener.bind(["127.0.0.1", 0]);
  listener.listen(K * 2);
  listener.setblocking(false);
  const address = listener.getsockname();
  const port = Array.isArray(address) ? Number(address[1]) : 0;
  const lfd = listener.fileno();
  const clients: Socket[] = [];
  const connectClients = (): void => {
    for (let i = 0; i < K; i++) {
      const c = new Socket(AF_INET, SOCK_STREAM);
      c.connect(["127.0.0.1", port]);
      clients.push(c);
    }
  };
  const closeClients = (): void => {
    for (const c of clients) c.close();
    clients.length = 0;
  };
  /** Runs batches of K for `budget` seconds (or maxConnections): ns per connection in `serve`. */
  const measure = (budget: number, serve: () => void): number => {
    const start = process.hrtime.bigint();
    const limit = BigInt(Math.round(budget * 1e9));
    let inside = 0n;
    let count = 0;
    while (process.hrtime.bigint() - start < limit && count < maxConnections) {
      connectClients();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < K; i++) serve();
      inside += process.hrtime.bigint() - t0;
      count += K;
      closeClients();
    }
    return Number(inside) / count;
  };
  const socketAccept = (): void => {
    const [conn] = listener.accept();
    conn.setblocking(false);
    conn.close();
  };
  const lowAccept = (): void => {
    const fd = native.accept(lfd);
    if (fd < 0) throw native.errorFromErrno(fd, "accept");
    native.close(fd);
  };
  measure(seconds / 5, socketAccept);
  const value = measure(seconds, socketAccept);
  measure(seconds / 5, lowAccept);
  const lowlevel = measure(seconds, lowAccept);
  results["accept + setblocking(false) + close"] = { value, unit: "ns/conn", lowlevel };
  listener.close();
}

// ------------------------------------------------------------------------------------- selectors

{
  const sel = new DefaultSelector();
  const [a, b] = socketpair();
  const cycle = (): void => {
    sel.register(a, EVENT_READ);
    sel.modify(a, EVENT_READ | EVENT_WRITE);
    sel.unregister(a);
  };
  timed(seconds / 5, 100, cycle);
  const [calls, elapsed] = timed(seconds, 100, cycle);
  results["register+modify+unregister"] = { value: (calls * 3) / elapsed, unit: "ops/s" };
  sel.close();
  a.close();
  b.close();
}

for (const n of sizes) {
  const sel = new DefaultSelector();
  const pairs: [Socket, Socket][] = [];
  const one = Buffer.from("x");
  for (let i = 0; i < n; i++) {
    const [x, y] = socketpair();
    pairs.push([x, y]);
    y.send(one);
    sel.register(x, EVENT_READ);
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
  for (const [x, y] of pairs) (x.close(), y.close());
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
