/**
 * bench/servers/selectors-socket.ts — seed 003's "Socket Server Using Event Loops" written with the
 * Python-shaped `Socket`: `sock.accept()` in the accept callback, `conn.setblocking(false)`,
 * `sel.register(conn, EVENT_READ, read)`, `conn.recv(65536)` and `conn.send(...)` in the read
 * callback, `while (true)` over `sel.select()`. Same framing and bytes as every bench server
 * (./http.ts). Unsent output (EAGAIN or a short send) switches the key to EVENT_WRITE until drained.
 *
 * usage: node dist/bench/servers/selectors-socket.js [port]   prints "READY <port>"
 */
import { DefaultSelector, EVENT_READ, EVENT_WRITE, SOL_SOCKET, SO_REUSEADDR, Socket } from "../../lib/index.js";
import { Framer, portArgument, ready } from "./http.js";

type Callback = (sock: Socket, mask: number) => void;

const sel = new DefaultSelector<Callback, Socket>();

function sendSome(conn: Socket, data: Buffer): number {
  try {
    return conn.send(data);
  } catch (error) {
    if ((error as { code?: string }).code === "EAGAIN") return 0;
    throw error;
  }
}

function finish(conn: Socket): void {
  sel.unregister(conn);
  conn.close();
}

function accept(sock: Socket, _mask: number): void {
  const [conn] = sock.accept();
  conn.setblocking(false);
  const framer = new Framer();
  let pending: Buffer | null = null;

  const read = (conn: Socket, mask: number): void => {
    try {
      if (mask & EVENT_WRITE) {
        const n = sendSome(conn, pending!);
        pending = n < pending!.length ? pending!.subarray(n) : null;
      } else {
        const data = conn.recv(65536);
        if (data.length === 0) return finish(conn);
        const pieces = framer.feed(data, 0, data.length);
        if (framer.broken) return finish(conn);
        if (pieces.length > 0) {
          const out = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
          const n = sendSome(conn, out as Buffer);
          if (n < out.length) pending = Buffer.from(out.subarray(n));
        }
      }
    } catch {
      return finish(conn); // ECONNRESET and the like
    }
    if (pending === null && framer.closeAfter) return finish(conn);
    const events = pending === null ? EVENT_READ : EVENT_WRITE;
    if (sel.getKey(conn).events !== events) sel.modify(conn, events, read);
  };
  sel.register(conn, EVENT_READ, read);
}

const sock = new Socket();
sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
sock.bind(["127.0.0.1", portArgument()]);
sock.listen(4096);
sock.setblocking(false);
sel.register(sock, EVENT_READ, accept);
const address = sock.getsockname();
ready(Array.isArray(address) ? address[1] : 0);

for (;;) {
  const events = sel.select();
  for (const [key, mask] of events) {
    const callback = key.data;
    callback(key.fileobj, mask);
  }
}
