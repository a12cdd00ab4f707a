/**
 * examples/echo.ts — the README's first example, complete: an echo server on a port the kernel
 * picks (port 0) and a client talking to it, both in one process on one `run()` loop, in the shape
 * of asyncio's `loop.sock_accept` / `sock_recv` / `sock_sendall`.
 *
 * usage: node dist/examples/echo.js   prints the port, then "echoed: hello" and "echoed: world"
 */
import { Socket, run } from "../lib/index.js";

await run(async (loop) => {
  const server = new Socket(); // AF_INET, SOCK_STREAM
  server.bind(["127.0.0.1", 0]); // port 0: the kernel picks a free port
  server.listen();
  server.setblocking(false); // the loop's sock* calls need non-blocking sockets
  const port = server.getsockname()[1]; // a number: new Socket() is a Socket<AF_INET>
  console.log(`echo server on 127.0.0.1:${port}`);

  // One client connection, echoed until the client closes its end.
  const serving = (async () => {
    const [conn] = await loop.sockAccept(server);
    for (;;) {
      const data = await loop.sockRecv(conn, 1024);
      if (data.length === 0) break; // end of stream
      await loop.sockSendall(conn, data);
    }
    conn.close();
  })();

  const client = new Socket();
  client.setblocking(false);
  await loop.sockConnect(client, ["127.0.0.1", port]);
  for (const word of ["hello", "world"]) {
    await loop.sockSendall(client, word);
    console.log(`echoed: ${(await loop.sockRecv(client, 1024)).toString()}`);
  }
  client.close();
  await serving;
  server.close();
});
