/**
 * bench/servers/asyncio-protocol.ts — the bench's tiny HTTP responder as an asyncio-style
 * Protocol on `loop.createServer` (the loop owns the thread via run()): dataReceived feeds the
 * framer and writes the response pieces; an echo that outruns the peer pauses reading at the
 * transport's high-water mark until resumeWriting. Same framing and bytes as every bench server
 * (./http.ts); the twin of bench/py/asyncio_servers.py's Protocol server. `--proactor` runs it on
 * ProactorEventLoop (its transports read with the ring's recv operations), the
 * asyncio-protocol-proactor row.
 *
 * usage: node dist/bench/servers/asyncio-protocol.js [--proactor] [port]   prints "READY <port>"
 */
import { Protocol, run, type Transport } from "../../lib/index.js";
import { Framer, portArgument, ready } from "./http.js";
import { loopOptions } from "./loop-choice.js";

class HttpProtocol extends Protocol {
  #transport!: Transport;
  readonly #framer = new Framer();

  override connectionMade(transport: Transport): void {
    this.#transport = transport;
  }

  override dataReceived(data: Buffer): void {
    const framer = this.#framer;
    const pieces = framer.feed(data, 0, data.length);
    if (framer.broken) return this.#transport.abort();
    if (pieces.length === 1) this.#transport.write(pieces[0]!);
    else if (pieces.length > 1) this.#transport.writelines(pieces);
    if (framer.closeAfter) this.#transport.close();
  }

  override pauseWriting(): void {
    this.#transport.pauseReading();
  }

  override resumeWriting(): void {
    this.#transport.resumeReading();
  }
}

await run(async (loop) => {
  const server = await loop.createServer(() => new HttpProtocol(), "127.0.0.1", portArgument(), { backlog: 4096 });
  const address = server.sockets[0]!.getsockname();
  ready(Array.isArray(address) ? address[1] : 0);
  loop.addSignalHandler("SIGTERM", () => server.close());
  await server.serveForever();
}, loopOptions());
