// The asyncio layer as a user writes it against the published package, no casts: a Protocol on
// loop.createServer (a method the layer adds to EventLoop's type), streams, and loop.timeout.
// Type-checked by test/types.test.ts, never run.
import { Protocol, openConnection, run, startServer, waitFor, type Transport } from "native-selectors";

class Echo extends Protocol {
  transport: Transport | null = null;
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  override dataReceived(data: Buffer): void {
    this.transport?.write(data);
  }
}

export async function main(): Promise<void> {
  await run(async (loop) => {
    const protocolServer = await loop.createServer(() => new Echo(), "127.0.0.1", 0);
    const port: number = protocolServer.sockets[0]!.getsockname()[1] as number;
    const [transport, echo] = await loop.createConnection(() => new Echo(), "127.0.0.1", port, { signal: loop.timeout(5) });
    const sameProtocol: Echo = echo;
    transport.write("hi");
    transport.close();
    void sameProtocol;

    const server = await startServer(
      async (reader, writer) => {
        const line: Buffer = await reader.readline();
        writer.write(line);
        await writer.drain();
        writer.close();
      },
      "127.0.0.1",
      0,
    );
    const [reader, writer] = await openConnection("127.0.0.1", port);
    writer.write("hello\n");
    const reply: Buffer = await waitFor(reader.readexactly(6), 5);
    void reply;
    server.close();
    protocolServer.close();
  });
}

// @ts-expect-error timeout takes seconds, a number
run((loop) => loop.timeout("5"));
