// Seed 000's asyncio server, as a user writes it against the published package: no casts.
// Type-checked by test/types.test.ts, never run.
import { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, Socket, getRunningLoop, run } from "native-selectors";

async function handleClient(clientSocket: Socket, clientAddress: [host: string, port: number]): Promise<void> {
  const [host, port] = clientAddress;
  const loop = getRunningLoop();
  try {
    for (;;) {
      const data = await loop.sockRecv(clientSocket, 1024);
      if (data.length === 0) break;
      console.log(`Received from ${host}:${port}: ${data.toString()}`);
      await loop.sockSendall(clientSocket, "HTTP/1.0 200 OK\r\nContent-Length: 14\r\n\r\nHello, Client!");
    }
  } finally {
    clientSocket.close();
  }
}

async function startServer(host = "127.0.0.1", port = 8888): Promise<void> {
  const serverSocket = new Socket(AF_INET, SOCK_STREAM);
  serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  serverSocket.bind([host, port]);
  serverSocket.listen(100);
  serverSocket.setblocking(false);
  const loop = getRunningLoop();
  for (;;) {
    const [clientSocket, clientAddress] = await loop.sockAccept(serverSocket);
    clientSocket.setblocking(false);
    void handleClient(clientSocket, clientAddress);
  }
}

export async function main(): Promise<void> {
  await run(async (loop) => {
    loop.addSignalHandler("SIGINT", () => loop.stop());
    await startServer();
  });
}
