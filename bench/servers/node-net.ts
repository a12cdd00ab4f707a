/**
 * bench/servers/node-net.ts — the libuv path: the bench's tiny HTTP responder on `node:net`, with
 * the same framing and response bytes as every other bench server (./http.ts). Pipelined
 * responses go out in one corked write; an echo that outruns the socket pauses reading until drain.
 *
 * usage: node dist/bench/servers/node-net.js [port]   prints "READY <port>"
 */
import { createServer, type AddressInfo } from "node:net";

import { Framer, portArgument, ready } from "./http.js";

const server = createServer((socket) => {
  const framer = new Framer();
  socket.on("data", (chunk: Buffer) => {
    const pieces = framer.feed(chunk, 0, chunk.length);
    if (framer.broken) return void socket.destroy();
    let ok = true;
    if (pieces.length === 1) ok = socket.write(pieces[0]!);
    else if (pieces.length > 1) {
      socket.cork();
      for (const piece of pieces) ok = socket.write(piece);
      socket.uncork();
    }
    if (framer.closeAfter) socket.end();
    else if (!ok) {
      socket.pause();
      socket.once("drain", () => socket.resume());
    }
  });
  socket.on("error", () => socket.destroy());
});
server.listen(portArgument(), "127.0.0.1", 4096, () => ready((server.address() as AddressInfo).port));
process.on("SIGTERM", () => process.exit(0));
