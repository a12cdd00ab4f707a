/**
 * bench/servers/asyncio-streams.ts — the bench's tiny HTTP responder on asyncio-style streams:
 * `startServer` (the loop owns the thread via run()), one async handler per client doing
 * `await reader.read(65536)`, `writer.write(...)` and `await writer.drain()` until EOF (or until a
 * "Connection: close" request is answered). Same framing and bytes as every bench server
 * (./http.ts); the twin of bench/py/asyncio_servers.py's streams server.
 *
 * usage: node dist/bench/servers/asyncio-streams.js [port]   prints "READY <port>"
 */
import { run, startServer, type StreamReader, type StreamWriter } from "../../lib/index.js";
import { Framer, portArgument, ready } from "./http.js";

async function handleClient(reader: StreamReader, writer: StreamWriter): Promise<void> {
  const framer = new Framer();
  try {
    for (;;) {
      const data = await reader.read(65536);
      if (data.length === 0) break;
      const pieces = framer.feed(data, 0, data.length);
      if (framer.broken) break;
      if (pieces.length === 1) writer.write(pieces[0]!);
      else if (pieces.length > 1) writer.writelines(pieces);
      await writer.drain();
      if (framer.closeAfter) break;
    }
  } catch {
    // ECONNRESET and the like: the client is gone
  } finally {
    writer.close();
  }
}

await run(async (loop) => {
  const server = await startServer(handleClient, "127.0.0.1", portArgument(), { backlog: 4096 });
  const address = server.sockets[0]!.getsockname();
  ready(Array.isArray(address) ? address[1] : 0);
  loop.addSignalHandler("SIGTERM", () => server.close());
  await server.serveForever();
});
