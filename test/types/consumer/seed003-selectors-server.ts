// Seed 003's selectors server, as a user writes it against the published package: no casts.
// Type-checked by test/types.test.ts, never run.
import { DefaultSelector, EVENT_READ, Socket } from "native-selectors";

type Handler = (sock: Socket, mask: number) => void;

const sel = new DefaultSelector<Handler, Socket>();

function accept(sock: Socket, mask: number): void {
  const [conn, addr] = sock.accept();
  console.log("Accepted connection from", addr, mask);
  conn.setblocking(false);
  sel.register(conn, EVENT_READ, read);
}

function read(conn: Socket, mask: number): void {
  const data = conn.recv(100);
  console.log(data.toString(), mask);
  conn.send('HTTP/1.1 200 OK\r\nContent-Length: 18\r\nConnection: close\r\n\r\n{"Hello": "World"}');
  sel.unregister(conn);
  conn.close();
}

export function serve(port: number): never {
  const sock = new Socket();
  sock.bind(["localhost", port]);
  sock.listen();
  sock.setblocking(false);
  sel.register(sock, EVENT_READ, accept);
  const listening: number = sock.getsockname()[1];
  console.log(`Server is running on port ${listening}...`, sel.fileno());
  while (true) {
    const events = sel.select();
    for (const [key, mask] of events) {
      const callback = key.data;
      callback(key.fileobj, mask);
    }
  }
}
