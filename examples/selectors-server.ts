/**
 * examples/selectors-server.ts — the seed program "Socket Server Using Event Loops"
 * (../shared/seeds/003_7ab59c2833bd4fde.txt), translated line for line from Python's `selectors`
 * and `socket` to this package.
 *
 *   npm run build && npm run example:selectors -- --port 8000
 *   curl http://127.0.0.1:8000
 *
 * Ctrl-C: select() holds the thread while it waits, so a process.on("SIGINT") listener could not
 * run until the next event. This program installs none and keeps SIGINT's default action, which
 * ends the process at once (the kernel closes its sockets), as Ctrl-C ends the Python original.
 */
import { DefaultSelector, EVENT_READ, Socket } from "../lib/index.js";

/** `--port N` or `--port=N` (default 8000); 0 picks a free port, printed in the first log line. */
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

const port = portFromArgs(process.argv.slice(2), 8000);

type Handler = (sock: Socket, mask: number) => void;

// Create a selectors object, equivalent to the implementation of epoll, when running on Linux
const sel = new DefaultSelector<Handler, Socket>();

// Request reception event handling function. Accept new connections and register read events
function accept(sock: Socket, mask: number): void {
  const [conn, addr] = sock.accept(); // Accept the connection
  console.log("Accepted connection from", addr);
  conn.setblocking(false);
  sel.register(conn, EVENT_READ, read); // Register the read event
}

// Request reading event handling function. Read request data and send an HTTP response, then close the connection.
function read(conn: Socket, mask: number): void {
  const data = conn.recv(100); // Read data from the connection
  console.log("response to");
  const response =
    "HTTP/1.1 200 OK\r\n" + "Content-Type: application/json\r\n" + "Content-Length: 18\r\n" + "Connection: close\r\n" + "\r\n" + '{"Hello": "World"}';
  conn.send(response); // Echo the data (strings are sent as UTF-8, like response.encode())
  console.log("Closing connection");
  sel.unregister(conn); // Unregister the event
  conn.close(); // Close the connection
}

// Create a server socket
const sock = new Socket();
sock.bind(["localhost", port]);
sock.listen();
sock.setblocking(false);

// Register the accept event
sel.register(sock, EVENT_READ, accept);
console.log(`Server is running on port ${sock.getsockname()[1]}...`);

// Event loop
while (true) {
  // This will block when there are no requests
  const events = sel.select(); // Select the file descriptors (events) that are ready
  console.log("events length:", events.length);
  for (const [key, mask] of events) {
    const callback = key.data; // Get the event handling function
    console.log("handler_name:", callback.name);
    callback(key.fileobj, mask); // Call the event handling function
  }
}
