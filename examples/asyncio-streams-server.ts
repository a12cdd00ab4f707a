/**
 * examples/asyncio-streams-server.ts — the seed's asyncio HTTP server (examples/asyncio-server.ts)
 * written the way most asyncio programs are: asyncio.start_server with a StreamReader and a
 * StreamWriter per client instead of sock_accept/sock_recv/sock_sendall. Line for line:
 *
 *   Python                                       here
 *   server = await asyncio.start_server(         const server = await startServer(
 *       handle_client, host, port)                   handleClient, host, port)
 *   data = await reader.read(1024)               const data = await reader.read(1024)
 *   writer.write(response); await writer.drain() writer.write(response); await writer.drain()
 *   writer.close(); await writer.wait_closed()   writer.close(); await writer.waitClosed()
 *   async with server: await server.serve_forever()   await server.serveForever()
 *
 *   npm run build && node dist/examples/asyncio-streams-server.js --port 8888
 *   curl http://127.0.0.1:8888
 */
import { run, startServer, type SocketAddress, type StreamReader, type StreamWriter } from "../lib/index.js";

/** Python's repr of an address tuple: ('127.0.0.1', 55980). */
function formatAddress(address: SocketAddress): string {
  if (typeof address === "string") return `'${address}'`;
  return `('${address[0]}', ${address.slice(1).join(", ")})`;
}

async function handleClient(reader: StreamReader, writer: StreamWriter): Promise<void> {
  const who = formatAddress(writer.getExtraInfo("peername") as SocketAddress);
  console.log(`Connection from ${who}`);
  try {
    for (;;) {
      // Step 1: read data from the client.
      const data = await reader.read(1024);
      if (data.length === 0) break; // Client disconnected
      console.log(`Received from ${who}: ${data.toString()}`);
      // Step 2: send a response back to the client.
      const body = "Hello, Client!";
      writer.write(`HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await writer.drain();
    }
  } catch (error) {
    console.log(`Error with client ${who}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    console.log(`Closing connection to ${who}`);
    writer.close();
    await writer.waitClosed().catch(() => {});
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
  const server = await startServer(handleClient, host, port, { backlog: 100 });
  const [, bound] = server.sockets[0]!.getsockname() as [string, number];
  console.log(`Server listening on ${host}:${bound}`);
  // Ctrl-C (Python: KeyboardInterrupt out of asyncio.run) closes the server and ends serveForever.
  loop.addSignalHandler("SIGINT", () => server.close());
  loop.addSignalHandler("SIGTERM", () => server.close());
  await server.serveForever();
  server.abortClients();
  await server.waitClosed();
});
console.log("Server shut down");
