/**
 * examples/asyncio-protocol-server.ts — the seed's asyncio HTTP server (examples/asyncio-server.ts)
 * as a Protocol served by loop.createServer, the callback style uvloop is fastest at. Line for line:
 *
 *   Python                                        here
 *   class HttpProtocol(asyncio.Protocol):         class HttpProtocol extends Protocol {
 *       def connection_made(self, transport):         connectionMade(transport) {...}
 *       def data_received(self, data):                dataReceived(data) {...}
 *       def connection_lost(self, exc):               connectionLost(error) {...}
 *   server = await loop.create_server(            const server = await loop.createServer(
 *       HttpProtocol, host, port)                     () => new HttpProtocol(), host, port)
 *
 *   npm run build && node dist/examples/asyncio-protocol-server.js --port 8888
 *   curl http://127.0.0.1:8888
 */
import { Protocol, run, type SocketAddress, type Transport } from "../lib/index.js";

const BODY = "Hello, Client!";
const RESPONSE = Buffer.from(`HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`);

/** Python's repr of an address tuple: ('127.0.0.1', 55980). */
function formatAddress(address: SocketAddress): string {
  if (typeof address === "string") return `'${address}'`;
  return `('${address[0]}', ${address.slice(1).join(", ")})`;
}

class HttpProtocol extends Protocol {
  transport: Transport | null = null;
  who = "";

  override connectionMade(transport: Transport): void {
    this.transport = transport;
    this.who = formatAddress(transport.getExtraInfo("peername") as SocketAddress);
    console.log(`Connection from ${this.who}`);
  }

  override dataReceived(data: Buffer): void {
    console.log(`Received from ${this.who}: ${data.toString()}`);
    this.transport!.write(RESPONSE);
  }

  override connectionLost(error: Error | null): void {
    if (error !== null) console.log(`Error with client ${this.who}: ${error.message}`);
    console.log(`Closing connection to ${this.who}`);
  }
}

function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}` && i + 1 < args.length) return args[i + 1]!;
    if (args[i]!.startsWith(`--${name}=`)) return args[i]!.slice(name.length + 3);
  }
  return fallback;
}

const host = option("host", "127.0.0.1");
const port = Number(option("port", "8888"));

await run(async (loop) => {
  const server = await loop.createServer(() => new HttpProtocol(), host, port, { backlog: 100 });
  const [, bound] = server.sockets[0]!.getsockname() as [string, number];
  console.log(`Server listening on ${host}:${bound}`);
  loop.addSignalHandler("SIGINT", () => server.close());
  loop.addSignalHandler("SIGTERM", () => server.close());
  await server.serveForever();
  server.abortClients();
  await server.waitClosed();
});
console.log("Server shut down");
