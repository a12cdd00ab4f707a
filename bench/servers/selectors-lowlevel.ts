/**
 * bench/servers/selectors-lowlevel.ts — the seed-style DefaultSelector server (seed 003's shape):
 * an accept callback registers a read callback, and `while (true)` over `sel.select()` calls
 * `key.data(key.fileobj, mask)`. Sockets are plain fds driven by the `lowlevel` native calls,
 * which return -errno on the hot path. Keep-alive connections stay registered; a request with
 * "Connection: close" gets its response and the connection is unregistered and closed, as in the
 * seed. Unsent output switches the registration to EVENT_WRITE until drained.
 *
 * usage: node dist/bench/servers/selectors-lowlevel.js [port]   prints "READY <port>"
 */
import { DefaultSelector, EVENT_READ, EVENT_WRITE, lowlevel as native } from "../../lib/index.js";
import { Framer, portArgument, ready } from "./http.js";

/** A key's data: seed 003's `callback(key.fileobj, mask)`; fileobj is the listener fd or a Conn. */
type Callback = (fileobj: Conn | number, mask: number) => void;

const { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SOMAXCONN, EAGAIN } = native.constants;
const sel = new DefaultSelector<Callback, Conn | number>();
const rbuf = Buffer.allocUnsafe(65536);
const acceptOut = new Int32Array(64);

/**
 * One connection: its fd, its framing (inherited) and the output the kernel has not taken yet.
 * It is the registered file object (it has fileno()), so, as in the seed, one shared `read`
 * callback serves every connection and no closure is made per connection.
 */
class Conn extends Framer {
  /** Output the kernel has not taken yet (created on first need: idle connections stay small). */
  pending: Buffer[] | null = null;
  writing = false;
  constructor(readonly fd: number) {
    super();
  }
  fileno(): number {
    return this.fd;
  }
}

function finish(conn: Conn): void {
  sel.unregister(conn);
  native.close(conn.fd);
}

/** Sends pieces in order; whatever the kernel does not take is copied and queued. */
function send(conn: Conn, pieces: readonly Uint8Array[]): boolean {
  let total = 0;
  for (const piece of pieces) total += piece.length;
  if (total === 0) return true;
  const n = pieces.length === 1 ? native.send(conn.fd, pieces[0]!) : native.writev(conn.fd, pieces);
  if (n < 0 && n !== -EAGAIN) return false;
  let sent = n < 0 ? 0 : n;
  if (sent === total) return true;
  for (const piece of pieces) {
    if (sent >= piece.length) {
      sent -= piece.length;
      continue;
    }
    (conn.pending ??= []).push(Buffer.from(piece.subarray(sent)));
    sent = 0;
  }
  return true;
}

function flushPending(conn: Conn): boolean {
  while (conn.pending !== null && conn.pending.length > 0) {
    const head = conn.pending[0]!;
    const n = native.send(conn.fd, head);
    if (n === -EAGAIN) return true;
    if (n < 0) return false;
    if (n < head.length) {
      conn.pending[0] = head.subarray(n);
      return true;
    }
    conn.pending.shift();
  }
  return true;
}

function afterOutput(conn: Conn): void {
  const waiting = conn.pending !== null && conn.pending.length > 0;
  if (!waiting && conn.closeAfter) return finish(conn);
  if (waiting !== conn.writing) {
    conn.writing = waiting;
    sel.modify(conn, waiting ? EVENT_WRITE : EVENT_READ, read);
  }
}

function read(fileobj: Conn | number, mask: number): void {
  const conn = fileobj as Conn;
  if (mask & EVENT_WRITE) {
    if (!flushPending(conn)) return finish(conn);
    return afterOutput(conn);
  }
  const n = native.recv(conn.fd, rbuf, 0, rbuf.length);
  if (n === -EAGAIN) return;
  if (n <= 0) return finish(conn);
  const pieces = conn.feed(rbuf, 0, n);
  if (conn.broken || !send(conn, pieces)) return finish(conn);
  afterOutput(conn);
}

function accept(fileobj: Conn | number): void {
  const listener = fileobj as number;
  const count = native.acceptBatch(listener, acceptOut);
  for (let i = 0; i < count; i++) {
    const conn = new Conn(acceptOut[i]!);
    sel.register(conn, EVENT_READ, read);
  }
}

const listener = native.socket(AF_INET, SOCK_STREAM, 0, true);
native.setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, 1);
native.bind(listener, AF_INET, "127.0.0.1", portArgument());
native.listen(listener, SOMAXCONN);
sel.register(listener, EVENT_READ, accept);
const address = native.getsockname(listener);
ready(Array.isArray(address) ? address[1] : 0);

// BENCH_EXIT_AFTER=<seconds>: exit (cleanly, so --cpu-prof writes its profile) after that long.
const exitAfter = Number(process.env.BENCH_EXIT_AFTER ?? "0");
if (exitAfter > 0) {
  const stopAt = performance.now() + exitAfter * 1000;
  while (performance.now() < stopAt) for (const [key, mask] of sel.select(0.2)) key.data(key.fileobj, mask);
  process.exit(0);
}
for (;;) {
  for (const [key, mask] of sel.select()) key.data(key.fileobj, mask);
}
