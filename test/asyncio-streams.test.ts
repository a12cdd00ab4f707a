// test/asyncio-streams.test.ts — streams (startServer, openConnection, StreamReader, StreamWriter)
// and loop-clock timeouts (loop.timeout, waitFor, the signal option) through the public API with
// real loopback sockets in every loop mode: reads and their errors (ERR_INCOMPLETE_READ,
// ERR_LIMIT_OVERRUN, a lost connection), drain() against a slow reader, Unix streams, no fd leaks.
import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { StreamReader, openConnection, openUnixConnection, startServer, startUnixServer, waitFor, type StreamWriter } from "../lib/index.js";
import { expectFdCountAfterEach } from "./support/expect.js";
import { MODES, drive, loopFixtures, type Mode } from "./support/loop.js";

expectFdCountAfterEach();
const { make } = loopFixtures();

function portOf(address: unknown): number {
  return (address as [string, number])[1];
}

describe.each(MODES)("streams (%s)", (mode: Mode) => {
  for (const host of ["127.0.0.1", "::1"]) {
    it(`serves lines, readuntil, readexactly and read (${host})`, async () => {
      const loop = make(mode);
      await drive(loop, mode, async () => {
        const handlers: Promise<void>[] = [];
        const server = await startServer(
          (reader, writer) => {
            handlers.push(
              (async () => {
                for await (const line of reader) writer.write(Buffer.concat([Buffer.from("> "), line]));
                writer.write("done\n");
                await writer.drain();
                writer.close();
                await writer.waitClosed();
              })(),
            );
          },
          host,
          0,
        );
        const [reader, writer] = await openConnection(host, portOf(server.sockets[0]!.getsockname()));
        expect(portOf(writer.getExtraInfo("peername"))).toBe(portOf(server.sockets[0]!.getsockname()));
        writer.write("one\ntw");
        expect((await reader.readline()).toString()).toBe("> one\n");
        writer.write("o\nthree\n");
        expect((await reader.readuntil("\n")).toString()).toBe("> two\n");
        expect((await reader.readexactly(4)).toString()).toBe("> th");
        writer.writeEof();
        expect((await reader.read()).toString()).toBe("ree\ndone\n");
        expect(reader.atEof()).toBe(true);
        expect((await reader.read(10)).length).toBe(0);
        expect((await reader.readline()).length).toBe(0);
        // EOF keeps a stream's write side open (as asyncio's): the client closes.
        expect(writer.isClosing()).toBe(false);
        writer.close();
        await writer.waitClosed();
        await Promise.all(handlers);
        server.close();
        await server.waitClosed();
      });
    });
  }

  it("raises ERR_INCOMPLETE_READ and ERR_LIMIT_OVERRUN with their fields", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const server = await startServer(
        async (_reader, writer) => {
          writer.write("x".repeat(40) + "\n" + "partial");
          writer.close();
        },
        "127.0.0.1",
        0,
      );
      const [reader, writer] = await openConnection("127.0.0.1", portOf(server.sockets[0]!.getsockname()), { limit: 16 });
      await expect(reader.readuntil("\n")).rejects.toMatchObject({ code: "ERR_LIMIT_OVERRUN", consumed: 40 });
      // readuntil leaves the bytes; readline drops the long line.
      await expect(reader.readline()).rejects.toMatchObject({ code: "ERR_LIMIT_OVERRUN" });
      const error = await reader.readexactly(100).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ERR_INCOMPLETE_READ", expected: 100 });
      expect((error as { partial: Buffer }).partial.toString()).toBe("partial");
      await expect(reader.readuntil("!")).rejects.toMatchObject({ code: "ERR_INCOMPLETE_READ", expected: null });
      writer.close();
      await writer.waitClosed();
      server.close();
      await server.waitClosed();
    });
  });

  it("drain() waits for a slow reader, and rejects once the connection is lost", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      let serverWriter!: StreamWriter;
      let serverReader!: StreamReader;
      const connected = new Promise<void>((resolve) => {
        void startServer(
          (reader, writer) => {
            serverReader = reader;
            serverWriter = writer;
            resolve();
          },
          "127.0.0.1",
          0,
        ).then((s) => servers.push(s));
      });
      const servers: Awaited<ReturnType<typeof startServer>>[] = [];
      await loop.sleep(0.01);
      const [reader, writer] = await openConnection("127.0.0.1", portOf(servers[0]!.sockets[0]!.getsockname()), { limit: 1024 });
      await connected;
      // Write until the transport's buffer passes the high-water mark (the kernel's buffers full).
      const piece = Buffer.alloc(64 * 1024, 3);
      let total = 0;
      while (serverWriter.transport.getWriteBufferSize() <= 65536) {
        serverWriter.write(piece);
        total += piece.length;
      }
      let drained = false;
      const draining = serverWriter.drain().then(() => (drained = true));
      await loop.sleep(0.05);
      expect(drained).toBe(false);
      let got = 0;
      while (got < total) got += (await reader.read(4096)).length;
      await draining;
      expect(drained).toBe(true);
      // The client goes away with bytes unread: the server's next writes fail.
      serverWriter.write(Buffer.alloc(1024 * 1024));
      writer.transport.abort();
      const lost = await (async () => {
        for (let i = 0; i < 100; i++) {
          serverWriter.write(Buffer.alloc(64 * 1024));
          await serverWriter.drain();
        }
      })().catch((e: unknown) => e);
      expect(["ECONNRESET", "EPIPE", "ERR_CONNECTION_LOST"]).toContain((lost as { code?: string }).code);
      await expect(serverReader.read()).rejects.toBeDefined();
      await writer.waitClosed();
      servers[0]!.close();
      await servers[0]!.waitClosed();
    });
  });

  it("timeouts on the loop's clock: loop.timeout, waitFor, and the signal option", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const server = await startServer(async () => {}, "127.0.0.1", 0);
      const [reader, writer] = await openConnection("127.0.0.1", portOf(server.sockets[0]!.getsockname()));
      const t0 = loop.time();
      const signal = loop.timeout(0.05);
      const error = await reader.readline({ signal }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "AbortError", code: "ABORT_ERR" });
      expect((error as Error).cause).toMatchObject({ code: "ETIMEDOUT" });
      expect(loop.time() - t0).toBeGreaterThanOrEqual(0.04);
      await expect(waitFor(loop.sleep(1), 0.02)).rejects.toMatchObject({ code: "ETIMEDOUT" });
      // The function form aborts the read, so the reader is free again.
      await expect(waitFor((s) => reader.readexactly(1, { signal: s }), 0.02)).rejects.toMatchObject({ code: "ETIMEDOUT" });
      expect(await waitFor(Promise.resolve(5), 1)).toBe(5);
      await expect(openConnection("127.0.0.1", 1, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "ABORT_ERR" });
      await expect(loop.sockRecv(writer.getExtraInfo("socket") as never, 1, { signal: loop.timeout(0) })).rejects.toMatchObject({ code: "ABORT_ERR" });
      writer.close();
      await writer.waitClosed();
      server.close();
      server.abortClients();
      await server.waitClosed();
    });
  });

  it("over Unix sockets", async () => {
    const loop = make(mode);
    const dir = mkdtempSync(join(tmpdir(), "ns-streams-"));
    try {
      await drive(loop, mode, async () => {
        const path = join(dir, "echo.sock");
        const server = await startUnixServer(async (reader, writer) => {
          const data = await reader.readuntil("\r\n\r\n");
          writer.write(data);
          writer.close();
        }, path);
        const [reader, writer] = await openUnixConnection(path);
        writer.write("GET / HTTP/1.1\r\n");
        writer.write("\r\n");
        expect((await reader.read()).toString()).toBe("GET / HTTP/1.1\r\n\r\n");
        writer.close();
        await writer.waitClosed();
        await server[Symbol.asyncDispose]();
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("StreamReader on its own", () => {
  it("searches across chunks without losing a separator split between them", async () => {
    const reader = new StreamReader(64);
    reader.feedData(Buffer.from("abc\r"));
    const pending = reader.readuntil("\r\n\r\n");
    reader.feedData(Buffer.from("\n\r"));
    reader.feedData(Buffer.from("\nrest"));
    expect((await pending).toString()).toBe("abc\r\n\r\n");
    reader.feedEof();
    expect((await reader.read()).toString()).toBe("rest");
    await expect(reader.readexactly(1)).rejects.toMatchObject({ code: "ERR_INCOMPLETE_READ", expected: 1 });
    expect(() => reader.readuntil("")).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
  });

  it("refuses a second concurrent read and fails reads after setException", async () => {
    const reader = new StreamReader();
    const first = reader.read(1);
    await expect(reader.read(1)).rejects.toMatchObject({ code: "ERR_READ_PENDING" });
    const boom = Object.assign(new Error("reset"), { code: "ECONNRESET" });
    reader.setException(boom);
    await expect(first).rejects.toBe(boom);
    await expect(reader.readline()).rejects.toBe(boom);
  });
});
