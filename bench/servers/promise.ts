/**
 * bench/servers/promise.ts — seed 000's asyncio server shape on the promise API: `run(main)`
 * (the loop owns the thread, like asyncio.run), `await loop.sockAccept(server)` in a loop, one
 * async handler per client doing `await loop.sockRecv(client, 65536)` and
 * `await loop.sockSendall(client, response)` until EOF (or until a "Connection: close" request has
 * been answered). Same framing and bytes as every bench server (./http.ts). `--proactor` runs the
 * same program on ProactorEventLoop (`run(main, { loopFactory })`: the sock* calls as io_uring
 * completions), the seed000-proactor row.
 *
 * usage: node dist/bench/servers/promise.js [--proactor] [port]   prints "READY <port>"
 */
import { SOL_SOCKET, SO_REUSEADDR, Socket, run, type EventLoop } from "../../lib/index.js";
import { Framer, portArgument, ready } from "./http.js";
import { loopOptions } from "./loop-choice.js";

async function handleClient(loop: EventLoop, client: Socket): Promise<void> {
  const framer = new Framer();
  try {
    for (;;) {
      const data = await loop.sockRecv(client, 65536);
      if (data.length === 0) break;
      const pieces = framer.feed(data, 0, data.length);
      if (framer.broken) break;
      if (pieces.length === 1) await loop.sockSendall(client, pieces[0]!);
      else if (pieces.length > 1) await loop.sockSendall(client, Buffer.concat(pieces));
      if (framer.closeAfter) break;
    }
  } catch {
    // ECONNRESET and the like: the client is gone
  } finally {
    client.close();
  }
}

await run(async (loop) => {
  const server = new Socket();
  server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  server.bind(["127.0.0.1", portArgument()]);
  server.listen(4096);
  server.setblocking(false);
  const address = server.getsockname();
  ready(Array.isArray(address) ? address[1] : 0);
  for (;;) {
    const [client] = await loop.sockAccept(server);
    void handleClient(loop, client);
  }
}, loopOptions());
