/**
 * bench/servers/loop-reactor.ts — the bench responder on `EventLoop` readers and writers:
 * `addReader(listener, accept)`, `addReader(fd, onReadable, conn)` per connection, `addWriter` while
 * output is pending. Sockets are plain fds driven by the `lowlevel` native calls, so what differs
 * from selectors-lowlevel.ts is the reactor alone. Same framing and bytes as every bench server.
 *
 * usage: node dist/bench/servers/loop-reactor.js owned|attached [port]   prints "READY <port>"
 *   owned:    loop.runForever() owns the thread (like Python's loop)
 *   attached: loop.attach(): Node's own libuv loop drives the reactor
 */
import { EventLoop, lowlevel as native } from "../../lib/index.js";
import { Framer, ready } from "./http.js";

const mode = process.argv[2];
if (mode !== "owned" && mode !== "attached") throw new Error("usage: loop-reactor.js owned|attached [port]");
const port = Number(process.argv[3] ?? process.env.PORT ?? "0");

const { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SOMAXCONN, EAGAIN } = native.constants;
const loop = new EventLoop();
const rbuf = Buffer.allocUnsafe(65536);
const acceptOut = new Int32Array(64);

class Conn extends Framer {
  /** Output the kernel has not taken yet (created on first need: idle connections stay small). */
  pending: Buffer[] | null = null;
  writing = false;
  constructor(readonly fd: number) {
    super();
  }
}

function finish(conn: Conn): void {
  loop.removeReader(conn.fd);
  if (conn.writing) loop.removeWriter(conn.fd);
  native.close(conn.fd);
}

function queue(conn: Conn, pieces: readonly Uint8Array[], sent: number): void {
  for (const piece of pieces) {
    if (sent >= piece.length) {
      sent -= piece.length;
      continue;
    }
    (conn.pending ??= []).push(Buffer.from(piece.subarray(sent)));
    sent = 0;
  }
}

function afterOutput(conn: Conn): void {
  const waiting = conn.pending !== null && conn.pending.length > 0;
  if (!waiting && conn.closeAfter) return finish(conn);
  if (waiting === conn.writing) return;
  conn.writing = waiting;
  // While output waits, stop reading (backpressure), as the other servers do.
  if (waiting) {
    loop.removeReader(conn.fd);
    loop.addWriter(conn.fd, onWritable, conn);
  } else {
    loop.removeWriter(conn.fd);
    loop.addReader(conn.fd, onReadable, conn);
  }
}

function onWritable(conn: Conn): void {
  while (conn.pending !== null && conn.pending.length > 0) {
    const head = conn.pending[0]!;
    const n = native.send(conn.fd, head);
    if (n === -EAGAIN) break;
    if (n < 0) return finish(conn);
    if (n < head.length) {
      conn.pending[0] = head.subarray(n);
      break;
    }
    conn.pending.shift();
  }
  afterOutput(conn);
}

function onReadable(conn: Conn): void {
  const n = native.recv(conn.fd, rbuf, 0, rbuf.length);
  if (n === -EAGAIN) return;
  if (n <= 0) return finish(conn);
  const pieces = conn.feed(rbuf, 0, n);
  if (conn.broken) return finish(conn);
  let total = 0;
  for (const piece of pieces) total += piece.length;
  if (total > 0) {
    const sent = pieces.length === 1 ? native.send(conn.fd, pieces[0]!) : native.writev(conn.fd, pieces);
    if (sent < 0 && sent !== -EAGAIN) return finish(conn);
    if (sent < total) queue(conn, pieces, Math.max(sent, 0));
  }
  afterOutput(conn);
}

function accept(listener: number): void {
  const count = native.acceptBatch(listener, acceptOut);
  for (let i = 0; i < count; i++) {
    const conn = new Conn(acceptOut[i]!);
    loop.addReader(conn.fd, onReadable, conn);
  }
}

const listener = native.socket(AF_INET, SOCK_STREAM, 0, true);
native.setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, 1);
native.bind(listener, AF_INET, "127.0.0.1", port);
native.listen(listener, SOMAXCONN);
loop.addReader(listener, accept, listener);
const address = native.getsockname(listener);
ready(Array.isArray(address) ? address[1] : 0);

if (mode === "owned") {
  await loop.runForever();
} else {
  loop.attach();
  process.on("SIGTERM", () => process.exit(0));
}
