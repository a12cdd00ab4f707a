// test/asyncio-protocols.test.ts — Protocols and Transports through the public API (createServer,
// createConnection, the Unix forms and datagram endpoints) with real loopback sockets, in every
// loop mode: callback order, half-close, close vs abort, flow control on both sides, a server
// closing with live clients, a peer reset mid-write, and the fd count after each test.
import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import {
  DatagramProtocol,
  Protocol,
  SOL_SOCKET,
  SO_SNDBUF,
  type EventLoop,
  Socket as SocketClass,
  type Socket,
  type SocketAddress,
  type Transport,
  BufferedProtocol,
  DatagramTransport,
  defaultBackend,
} from "../lib/index.js";
import { expectFdCountAfterEach } from "./support/expect.js";
import { MODES, drive, isProactor, loopFixtures, type Mode } from "./support/loop.js";

expectFdCountAfterEach();
const { make } = loopFixtures();

/** A protocol that records its callbacks and the bytes it got, and can be awaited until lost. */
class Recorder extends Protocol {
  events: string[] = [];
  received: Buffer[] = [];
  transport: Transport | null = null;
  lostError: Error | null | undefined = undefined;
  keepOpenOnEof = false;
  readonly lost: Promise<void>;
  readonly eof: Promise<void>;
  #lost!: () => void;
  #eof!: () => void;
  onData: ((data: Buffer) => void) | null = null;
  constructor() {
    super();
    this.lost = new Promise((resolve) => (this.#lost = resolve));
    this.eof = new Promise((resolve) => (this.#eof = resolve));
  }
  override connectionMade(transport: Transport): void {
    this.events.push("made");
    this.transport = transport;
  }
  override dataReceived(data: Buffer): void {
    if (this.events[this.events.length - 1] !== "data") this.events.push("data");
    this.received.push(Buffer.from(data));
    this.onData?.(data);
  }
  override eofReceived(): boolean {
    this.events.push("eof");
    this.#eof();
    return this.keepOpenOnEof;
  }
  override connectionLost(error: Error | null): void {
    this.events.push("lost");
    this.lostError = error;
    this.#lost();
  }
  override pauseWriting(): void {
    this.events.push("pause");
  }
  override resumeWriting(): void {
    this.events.push("resume");
  }
  get bytes(): Buffer {
    return Buffer.concat(this.received);
  }
}

function portOf(address: unknown): number {
  return (address as [string, number])[1];
}

/** A promise and its resolver. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function until(loop: EventLoop, check: () => boolean, seconds = 5): Promise<void> {
  const end = loop.time() + seconds;
  while (!check()) {
    if (loop.time() > end) throw new Error("condition not met in time");
    await loop.sleep(0.005);
  }
}

describe.each(MODES)("Protocol over TCP (%s)", (mode: Mode) => {
  for (const host of ["127.0.0.1", "::1"]) {
    it(`orders the callbacks and half-closes (${host})`, async () => {
      const loop = make(mode);
      await drive(loop, mode, async () => {
        const serverSide: Recorder[] = [];
        const server = await loop.createServer(
          () => {
            const p = new Recorder();
            p.keepOpenOnEof = true;
            p.onData = (data) => p.transport!.write(data);
            void p.eof.then(() => {
              p.transport!.write("bye");
              p.transport!.close();
            });
            serverSide.push(p);
            return p;
          },
          host,
          0,
        );
        const port = portOf(server.sockets[0]!.getsockname());
        const [transport, client] = await loop.createConnection(() => new Recorder(), host, port);
        expect(client.events).toEqual(["made"]);
        expect(portOf(transport.getExtraInfo("peername"))).toBe(port);
        expect(transport.getExtraInfo("nothing", 7)).toBe(7);
        transport.write("hello ");
        transport.writelines(["wor", Buffer.from("ld")]);
        await until(loop, () => client.bytes.length >= 11);
        expect(transport.canWriteEof()).toBe(true);
        transport.writeEof();
        expect(() => transport.write("x")).toThrow(expect.objectContaining({ code: "ERR_TRANSPORT_EOF" }));
        await client.lost;
        expect(client.bytes.toString()).toBe("hello worldbye");
        expect(client.events).toEqual(["made", "data", "eof", "lost"]);
        expect(client.lostError).toBeNull();
        await serverSide[0]!.lost;
        expect(serverSide[0]!.events).toEqual(["made", "data", "eof", "lost"]);
        server.close();
        await server.waitClosed();
        expect(server.sockets).toEqual([]);
        expect(server.isServing()).toBe(false);
      });
    });
  }

  it("close() sends the buffer first, abort() drops it", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const big = Buffer.alloc(4 * 1024 * 1024, 7);
      const modes: ("close" | "abort")[] = [];
      // What connectionMade saw (an expect() failing in there would only reach the exception handler).
      const seen: { buffered: number; closing: boolean }[] = [];
      const server = await loop.createServer(
        () => {
          const p = new Recorder();
          const how = modes.shift()!;
          p.connectionMade = (t: Transport) => {
            p.transport = t;
            // A fixed, small send buffer: autotuned, loopback's can grow to 4 MiB and take the
            // whole write at once (it took 3.9 MiB of 4 on a fresh connection here), and a
            // kernel that holds every byte leaves abort() nothing to drop.
            (t.getExtraInfo("socket") as Socket).setsockopt(SOL_SOCKET, SO_SNDBUF, 64 * 1024);
            t.write(big);
            const buffered = t.getWriteBufferSize();
            if (how === "close") t.close();
            else t.abort();
            seen.push({ buffered, closing: t.isClosing() });
          };
          return p;
        },
        "127.0.0.1",
        0,
      );
      const port = portOf(server.sockets[0]!.getsockname());
      modes.push("close");
      const [, closed] = await loop.createConnection(() => new Recorder(), "127.0.0.1", port);
      await closed.lost;
      expect(closed.bytes.length).toBe(big.length);
      modes.push("abort");
      const [, aborted] = await loop.createConnection(() => new Recorder(), "127.0.0.1", port);
      await aborted.lost;
      expect(aborted.bytes.length).toBeLessThan(big.length);
      expect(seen).toHaveLength(2);
      for (const { buffered, closing } of seen) {
        expect(buffered).toBeGreaterThan(0);
        expect(closing).toBe(true);
      }
      server.close();
      await server.waitClosed();
    });
  });

  it("pauses and resumes writing at the limits while the peer pauses reading", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const made = deferred<Recorder>();
      const server = await loop.createServer(
        () => {
          const p = new Recorder();
          void Promise.resolve().then(() => made.resolve(p));
          return p;
        },
        "127.0.0.1",
        0,
      );
      const [transport, client] = await loop.createConnection(() => new Recorder(), "127.0.0.1", portOf(server.sockets[0]!.getsockname()));
      transport.pauseReading();
      expect(transport.isReading()).toBe(false);
      const writer = await made.promise;
      const t = writer.transport!;
      expect(t.getWriteBufferLimits()).toEqual([16384, 65536]);
      const chunk = Buffer.alloc(64 * 1024, 1);
      let written = 0;
      while (!writer.events.includes("pause")) {
        t.write(chunk);
        written += chunk.length;
        if (written > 64 * 1024 * 1024) throw new Error("never paused");
      }
      expect(t.getWriteBufferSize()).toBeGreaterThan(65536);
      await loop.sleep(0.05);
      expect(client.received.length).toBe(0);
      transport.resumeReading();
      expect(transport.isReading()).toBe(true);
      await until(loop, () => writer.events.includes("resume"));
      expect(t.getWriteBufferSize()).toBeLessThanOrEqual(16384);
      await until(loop, () => client.bytes.length === written);
      expect(writer.events).toEqual(["made", "pause", "resume"]);
      t.setWriteBufferLimits(100);
      expect(t.getWriteBufferLimits()).toEqual([25, 100]);
      expect(() => t.setWriteBufferLimits(10, 20)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      transport.close();
      await client.lost;
      await writer.lost;
      server.close();
      await server.waitClosed();
    });
  });

  it("a closed server keeps its live clients until closeClients()/abortClients()", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const serverSide: Recorder[] = [];
      const server = await loop.createServer(() => (serverSide.push(new Recorder()), serverSide[serverSide.length - 1]!), "127.0.0.1", 0);
      const port = portOf(server.sockets[0]!.getsockname());
      const [t1, c1] = await loop.createConnection(() => new Recorder(), "127.0.0.1", port);
      const [t2, c2] = await loop.createConnection(() => new Recorder(), "127.0.0.1", port);
      await until(loop, () => serverSide.length === 2 && serverSide.every((p) => p.transport !== null));
      server.close();
      let closed = false;
      void server.waitClosed().then(() => (closed = true));
      await loop.sleep(0.02);
      expect(closed).toBe(false);
      t1.write("still here");
      await until(loop, () => serverSide[0]!.bytes.length === 10);
      server.closeClients();
      await c1.lost;
      await c2.lost;
      expect(c1.events).toEqual(["made", "eof", "lost"]);
      await server.waitClosed();
      expect(closed).toBe(true);
      expect(t2.isClosing()).toBe(true);
      await expect(loop.createConnection(() => new Recorder(), "127.0.0.1", port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    });
  });

  it("reports a peer reset in the middle of a write to connectionLost", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const made = deferred<Recorder>();
      const server = await loop.createServer(
        () => {
          const p = new Recorder();
          void Promise.resolve().then(() => made.resolve(p));
          return p;
        },
        "127.0.0.1",
        0,
      );
      // The client never reads: the server's bytes pile up in its receive queue, so its abort resets.
      const silent = (): Recorder => {
        const p = new Recorder();
        p.connectionMade = (t: Transport) => ((p.transport = t), t.pauseReading());
        return p;
      };
      const [transport, client] = await loop.createConnection(silent, "127.0.0.1", portOf(server.sockets[0]!.getsockname()));
      const writer = await made.promise;
      writer.transport!.write(Buffer.alloc(8 * 1024 * 1024));
      await until(loop, () => writer.events.includes("pause"));
      await loop.sleep(0.02);
      expect(writer.transport!.getWriteBufferSize()).toBeGreaterThan(0);
      transport.abort();
      await client.lost;
      await writer.lost;
      expect(["ECONNRESET", "EPIPE"]).toContain((writer.lostError as NodeJS.ErrnoException).code);
      server.close();
      await server.waitClosed();
    });
  });

  it("reads into a BufferedProtocol's own memory", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      class Into extends BufferedProtocol {
        memory = Buffer.alloc(5);
        got: Buffer[] = [];
        done = deferred();
        override getBuffer(hint: number): Uint8Array {
          // As in CPython: a readiness read does not know its size (-1); a completion read's
          // bytes are copied in, and the hint is how many are left.
          if (isProactor(mode)) expect(hint).toBeGreaterThan(0);
          else expect(hint).toBe(-1);
          return this.memory;
        }
        override bufferUpdated(n: number): void {
          this.got.push(Buffer.from(this.memory.subarray(0, n)));
        }
        override eofReceived(): boolean {
          return false;
        }
        override connectionLost(): void {
          this.done.resolve();
        }
      }
      const into = new Into();
      const server = await loop.createServer(() => into, "127.0.0.1", 0);
      const [transport] = await loop.createConnection(() => new Recorder(), "127.0.0.1", portOf(server.sockets[0]!.getsockname()));
      transport.write("0123456789abc");
      transport.close();
      await into.done.promise;
      expect(Buffer.concat(into.got).toString()).toBe("0123456789abc");
      expect(Math.max(...into.got.map((b) => b.length))).toBeLessThanOrEqual(5);
      server.close();
      await server.waitClosed();
    });
  });

  it("setProtocol() sends the next bytes to the new protocol: Protocol to BufferedProtocol and back", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const last = new Recorder();
      class Into extends BufferedProtocol {
        memory = Buffer.alloc(4);
        got: Buffer[] = [];
        override getBuffer(): Uint8Array {
          return this.memory;
        }
        override bufferUpdated(n: number): void {
          this.got.push(Buffer.from(this.memory.subarray(0, n)));
          if (Buffer.concat(this.got).toString() === "second") last.transport!.setProtocol(last);
        }
      }
      const into = new Into();
      const first = new Recorder();
      first.onData = () => {
        if (first.bytes.toString() === "first") first.transport!.setProtocol(into);
      };
      const server = await loop.createServer(() => first, "127.0.0.1", 0);
      const [transport] = await loop.createConnection(() => new Recorder(), "127.0.0.1", portOf(server.sockets[0]!.getsockname()));
      await until(loop, () => first.transport !== null);
      last.transport = first.transport;
      transport.write("first");
      await until(loop, () => first.bytes.length === 5);
      expect(first.transport!.getProtocol()).toBe(into);
      transport.write("second");
      await until(loop, () => Buffer.concat(into.got).length === 6);
      expect(Buffer.concat(into.got).toString()).toBe("second");
      expect(first.transport!.getProtocol()).toBe(last);
      transport.write("third");
      transport.close();
      await last.lost;
      expect(last.bytes.toString()).toBe("third");
      expect(last.events).toEqual(["data", "eof", "lost"]);
      expect(first.events).toEqual(["made", "data"]);
      server.close();
      await server.waitClosed();
    });
  });

  it("over Unix sockets, and a stale socket file is replaced", async () => {
    const loop = make(mode);
    const dir = mkdtempSync(join(tmpdir(), "ns-asyncio-"));
    try {
      await drive(loop, mode, async () => {
        const path = join(dir, "s.sock");
        const first = await loop.createUnixServer(() => new Recorder(), path);
        first.sockets[0]!.close(); // leaves the file behind, as a crashed server would
        first.close();
        const server = await loop.createUnixServer(() => {
          const p = new Recorder();
          p.onData = (data) => p.transport!.write(data);
          return p;
        }, path);
        const [transport, client] = await loop.createUnixConnection(() => new Recorder(), path);
        transport.write("over unix");
        await until(loop, () => client.bytes.length === 9);
        expect(transport.getExtraInfo("peername")).toBe(path);
        transport.close();
        await client.lost;
        server.close();
        await server.waitClosed();
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("connection arguments", () => {
  it("reject an address beside options.sock, a path that is not a string and a bad backlog, with codes", async () => {
    const loop = make("owned");
    await drive(loop, "owned", async () => {
      const sock = new SocketClass();
      try {
        const code = (error: unknown): unknown => (error as NodeJS.ErrnoException).code;
        await expect(loop.createConnection(() => new Protocol(), "127.0.0.1", 1, { sock }).catch(code)).resolves.toBe("ERR_INVALID_ARG_VALUE");
        await expect(loop.createServer(() => new Protocol(), "127.0.0.1", 0, { sock }).catch(code)).resolves.toBe("ERR_INVALID_ARG_VALUE");
        await expect(loop.createUnixConnection(() => new Protocol(), "/tmp/x", { sock }).catch(code)).resolves.toBe("ERR_INVALID_ARG_VALUE");
        await expect(loop.createUnixServer(() => new Protocol(), "/tmp/x", { sock }).catch(code)).resolves.toBe("ERR_INVALID_ARG_VALUE");
        await expect(loop.createUnixConnection(() => new Protocol(), 42 as never).catch(code)).resolves.toBe("ERR_INVALID_ARG_TYPE");
        await expect(loop.createUnixServer(() => new Protocol(), 42 as never).catch(code)).resolves.toBe("ERR_INVALID_ARG_TYPE");
        await expect(loop.createServer(() => new Protocol(), "127.0.0.1", 0, { backlog: "x" as never }).catch(code)).resolves.toBe("ERR_INVALID_ARG_TYPE");
        await expect(loop.createUnixServer(() => new Protocol(), null, { backlog: -1 }).catch(code)).resolves.toBe("ERR_OUT_OF_RANGE");
      } finally {
        sock.close();
      }
    });
  });
});

describe.each(MODES)("datagram endpoints (%s)", (mode: Mode) => {
  it("echoes datagrams and reports ECONNREFUSED to errorReceived (where the backend keeps the error)", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      class Echo extends DatagramProtocol {
        transport: DatagramTransport | null = null;
        override connectionMade(t: DatagramTransport): void {
          this.transport = t;
        }
        override datagramReceived(data: Buffer, address: SocketAddress | null): void {
          this.transport!.sendto(Buffer.concat([Buffer.from("echo:"), data]), address as [string, number]);
        }
      }
      const [serverT] = await loop.createDatagramEndpoint(() => new Echo(), { localAddr: ["127.0.0.1", 0] });
      const port = portOf(serverT.getExtraInfo("sockname"));
      const got: string[] = [];
      const errors: string[] = [];
      let lost = false;
      class Client extends DatagramProtocol {
        override datagramReceived(data: Buffer): void {
          got.push(data.toString());
        }
        override errorReceived(error: Error): void {
          errors.push((error as NodeJS.ErrnoException).code!);
        }
        override connectionLost(): void {
          lost = true;
        }
      }
      const [clientT] = await loop.createDatagramEndpoint(() => new Client(), { remoteAddr: ["127.0.0.1", port] });
      expect(() => clientT.sendto("x", ["127.0.0.1", port])).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
      clientT.sendto("one");
      clientT.sendto("two");
      await until(loop, () => got.length === 2);
      expect(got).toEqual(["echo:one", "echo:two"]);
      serverT.close();
      await until(loop, () => serverT.getExtraInfo("sockname") === undefined);
      // Over libkqueue's read filter the socket's pending error is read (and cleared) to fill in the
      // event, so the recvfrom after it finds EAGAIN (docs/reliability.md, "Where backends differ").
      const errorSurvivesWakeUp = defaultBackend !== "kqueue" || !(mode === "owned" || mode === "attached");
      if (errorSurvivesWakeUp) {
        clientT.sendto("nobody");
        await until(loop, () => errors.length > 0);
        expect(errors).toEqual(["ECONNREFUSED"]);
      }
      expect(clientT.isClosing()).toBe(false);
      clientT.close();
      await until(loop, () => lost);
    });
  });
});
