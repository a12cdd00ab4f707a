/**
 * examples/asyncio-server.ts — the seed's asyncio HTTP server, translated: one thread, an event
 * loop that owns it, `await loop.sockAccept(...)`, `loop.sockRecv(client, 1024)` and
 * `loop.sockSendall(...)`. Ctrl-C (SIGINT, through loop.addSignalHandler) stops it.
 *
 *   npm run example:asyncio -- --port 8888      (defaults: --host 127.0.0.1 --port 8888)
 *   curl http://127.0.0.1:8888
 *
 * Differences from the seed: the response's Content-Length is computed (the seed's 13 is one
 * short for the 14-byte "Hello, Client!"); Python's KeyboardInterrupt becomes a SIGINT handler
 * that stops the loop.
 */
import { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, Socket, getRunningLoop, run, type SocketAddress } from "../lib/index.js";

type ClientHandler = (clientSocket: Socket, clientAddress: SocketAddress) => Promise<void>;

/** Python's repr of an address tuple: ('127.0.0.1', 55980). */
function formatAddress(address: SocketAddress): string {
  if (typeof address === "string") return `'${address}'`;
  return `('${address[0]}', ${address.slice(1).join(", ")})`;
}

async function startServer(clientHandler: ClientHandler, host = "127.0.0.1", port = 8888): Promise<void> {
  // Step 1: create a socket and bind it to the given port.
  const serverSocket = new Socket(AF_INET, SOCK_STREAM);
  serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  serverSocket.bind([host, port]);
  serverSocket.listen(100); // Set the backlog to 100
  serverSocket.setblocking(false); // Non-blocking mode for the event loop
  console.log(`Server listening on ${host}:${port}`);
  // Step 2: run a loop to accept client connections.
  try {
    await acceptClients(serverSocket, clientHandler);
  } finally {
    serverSocket.close();
  }
}

async function acceptClients(serverSocket: Socket, clientHandler: ClientHandler): Promise<void> {
  const loop = getRunningLoop();
  for (;;) {
    // Step 1: accept the client connection.
    const [clientSocket, clientAddress] = await loop.sockAccept(serverSocket);
    console.log(`Connection from ${formatAddress(clientAddress)}`);
    // Step 2: process the connection asynchronously, so the loop continues without waiting
    // (asyncio.create_task: the promise runs on by itself).
    clientSocket.setblocking(false);
    void clientHandler(clientSocket, clientAddress);
  }
}

async function handleClient(clientSocket: Socket, clientAddress: SocketAddress): Promise<void> {
  const who = formatAddress(clientAddress);
  try {
    const loop = getRunningLoop(); // the loop created by run()
    for (;;) {
      // Step 1: read data from the client.
      const data = await loop.sockRecv(clientSocket, 1024);
      if (data.length === 0) break; // Client disconnected
      console.log(`Received from ${who}: ${data.toString()}`);
      // Step 2: send a response back to the client.
      const body = "Hello, Client!";
      const httpResponse =
        "HTTP/1.0 200 OK\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` + // 14 bytes
        "\r\n" +
        body;
      await loop.sockSendall(clientSocket, httpResponse);
    }
  } catch (error) {
    console.log(`Error with client ${who}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    console.log(`Closing connection to ${who}`);
    clientSocket.close();
  }
}

function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === `--${name}` && i + 1 < args.length) return args[i + 1]!;
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return fallback;
}

const host = option("host", "127.0.0.1");
const port = Number(option("port", "8888"));
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid --port: ${option("port", "")}`);
  process.exit(2);
}

try {
  // Run the server; Ctrl-C stops the loop (Python: KeyboardInterrupt out of asyncio.run).
  await run(async (loop) => {
    loop.addSignalHandler("SIGINT", () => loop.stop());
    loop.addSignalHandler("SIGTERM", () => loop.stop());
    await startServer(handleClient, host, port);
  });
} catch (error) {
  if ((error as { code?: string }).code !== "ERR_LOOP_STOPPED") {
    console.error(error);
    process.exit(1);
  }
}
console.log("Server shut down");
