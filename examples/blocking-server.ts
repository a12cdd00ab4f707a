/**
 * examples/blocking-server.ts — the seed's plain blocking socket server ("Socket Server" in
 * ../shared/seeds/003_7ab59c2833bd4fde.txt), translated line for line: a blocking accept(), one
 * recv(1024), sendall() of a fixed JSON response, close, and again.
 *
 *   npm run build && npm run example:blocking -- --port 8001
 *   curl http://127.0.0.1:8001
 *
 * Ctrl-C: accept() holds the thread, so SIGINT keeps its default action and ends the process at
 * once (the kernel closes its sockets), as in the Python original.
 */
import { Socket } from "../lib/index.js";

/** `--port N` or `--port=N` (default 8001); 0 picks a free port, printed before the loop. */
function portFromArgs(args: string[], fallback: number): number {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--port") value = args[++i];
    else if (args[i]!.startsWith("--port=")) value = args[i]!.slice("--port=".length);
  }
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be an integer from 0 to 65535, not '${value}'`);
    process.exit(2);
  }
  return port;
}

/** Python's str(datetime.now()) to the millisecond: local time, "2024-12-27 12:53:36.711". */
function now(): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

const port = portFromArgs(process.argv.slice(2), 8001);

// Create a TCP socket
const serverSocket = new Socket();
// Bind the socket to the specified IP address and port number
serverSocket.bind(["127.0.0.1", port]);
// Start listening for incoming connections
serverSocket.listen(5);
console.log(`Listening on 127.0.0.1:${serverSocket.getsockname()[1]}`);

// Loop to accept client connections
while (true) {
  console.log(`${now()} Waiting for a connection...`);
  const [clientSocket, addr] = serverSocket.accept(); // This will block, waiting for client connections
  console.log(`${now()} Got connection from`, addr);
  // Receive client data
  const data = clientSocket.recv(1024);
  console.log(`Received: ${data.toString()}`);
  // Send response data
  const response =
    "HTTP/1.1 200 OK\r\n" + "Content-Type: application/json\r\n" + "Content-Length: 18\r\n" + "Connection: close\r\n" + "\r\n" + '{"Hello": "World"}';
  clientSocket.sendall(response);
  // Close the client socket
  clientSocket.close();
}
