// test/loop-sock-details.test.ts — the loop's side of Python's socket details, in every mode
// (owning the thread, attached on epoll, attached on poll): sockSendfile (asyncio's
// sock_sendfile) over real sockets with a concurrent reader, offsets, counts, FileHandles, abort,
// a vanished peer and its argument rules; sockAccept giving non-blocking sockets whatever the
// default timeout; one connect-error shape for sockConnect and Socket.connect; node:net and
// node:dgram sockets named in the sock* calls' argument errors.
import { createSocket } from "node:dgram";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { Socket as NetSocket } from "node:net";
import { join } from "node:path";

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { AF_INET, SOCK_DGRAM, SOCK_STREAM, Socket, lowlevel, setdefaulttimeout, socketpair, type AddressedError, type EventLoop } from "../lib/index.js";
import { fileTempDir, thrown } from "./support/expect.js";
import { MODES, connected, drive, loopFixtures } from "./support/loop.js";
import { pair, portOf, tcpListener, tcpSocket } from "./support/net.js";
import { loopSleep } from "./support/time.js";

const { make, track } = loopFixtures();

const tmp = fileTempDir("ns-loop-details-");
let big: { fd: number; path: string; bytes: Buffer };
// After fileTempDir's beforeAll (hooks run in order); its afterAll runs after this file's.
beforeAll(() => {
  const bytes = Buffer.alloc(3 * 1024 * 1024 + 77);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 13 + (i >> 9)) & 0xff;
  const path = join(tmp(), "big.bin");
  writeFileSync(path, bytes);
  big = { fd: openSync(path, "r"), path, bytes };
});
afterAll(() => {
  closeSync(big.fd);
});
afterEach(() => {
  setdefaulttimeout(null);
});

/** Receives until `n` bytes came or the stream ended, through the loop. */
async function recvAll(loop: EventLoop, sock: Socket, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const chunk = await loop.sockRecv(sock, Math.min(65536, n - got));
    if (chunk.length === 0) break;
    parts.push(chunk);
    got += chunk.length;
  }
  return Buffer.concat(parts);
}

type SendfileError = NodeJS.ErrnoException & { bytesSent?: number };

describe.each(MODES)("sockSendfile (%s)", (mode) => {
  it("a whole 3 MB file while the other end reads in the same loop: the count and the same bytes", async () => {
    const loop = make(mode);
    const [a, b] = pair();
    track(a);
    track(b);
    const [sent, received] = await drive(loop, mode, () => Promise.all([loop.sockSendfile(a, big.fd), recvAll(loop, b, big.bytes.length)]));
    expect(sent).toBe(big.bytes.length);
    expect(received.equals(big.bytes)).toBe(true);
  });

  it("offset and count over TCP; past the end, what is left; a FileHandle", async () => {
    const loop = make(mode);
    // Opened before the run: Node's own I/O waits while the loop owns the thread.
    const handle = await open(big.path, "r");
    await drive(loop, mode, async () => {
      const [client, server] = await connected(loop, track);
      const [n, part] = await Promise.all([loop.sockSendfile(client, big.fd, 1_000_000, 500_000), recvAll(loop, server, 500_000)]);
      expect(n).toBe(500_000);
      expect(part.equals(big.bytes.subarray(1_000_000, 1_500_000))).toBe(true);
      const tail = big.bytes.length - 100;
      const [m, rest] = await Promise.all([loop.sockSendfile(client, big.fd, tail, 1_000_000), recvAll(loop, server, 100)]);
      expect(m).toBe(100);
      expect(rest.equals(big.bytes.subarray(tail))).toBe(true);
      expect(await loop.sockSendfile(client, big.fd, big.bytes.length)).toBe(0);
      const [h, viaHandle] = await Promise.all([loop.sockSendfile(client, handle, 10, 70_000), recvAll(loop, server, 70_000)]);
      expect(h).toBe(70_000);
      expect(viaHandle.equals(big.bytes.subarray(10, 70_010))).toBe(true);
    }).finally(() => handle.close());
  });

  it("an abort stops it at once (part of the file may have gone); a vanished peer rejects with EPIPE and bytesSent", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const [a, b] = pair();
      track(a);
      track(b);
      const controller = new AbortController();
      const pending = loop.sockSendfile(a, big.fd, 0, undefined, { signal: controller.signal });
      // Nobody reads: the socket fills, the call waits for room; abort it.
      await loopSleep(loop, 0.02);
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: "AbortError", code: "ABORT_ERR" });
      b.close();
      const error = (await loop.sockSendfile(a, big.fd).catch((e: unknown) => e)) as SendfileError;
      expect(["EPIPE", "ECONNRESET"]).toContain(error.code);
      expect(error.syscall).toBe("sendfile");
      expect(error.bytesSent).toBe(0);
    });
  });

  it("argument rules: non-blocking SOCK_STREAM sockets only, offsets, counts and files as Socket.sendfile's", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const [a, b] = socketpair(); // blocking
      track(a);
      track(b);
      await expect(loop.sockSendfile(a, big.fd)).rejects.toMatchObject({ code: "ERR_SOCKET_BLOCKING" });
      a.setblocking(false);
      const udp = track(new Socket(AF_INET, SOCK_DGRAM));
      udp.setblocking(false);
      await expect(loop.sockSendfile(udp, big.fd)).rejects.toMatchObject({ code: "ERR_SOCKET_BAD_TYPE" });
      await expect(loop.sockSendfile(a, "big.bin" as unknown as number)).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
      await expect(loop.sockSendfile(a, big.fd, -1)).rejects.toMatchObject({ code: "ERR_OUT_OF_RANGE" });
      await expect(loop.sockSendfile(a, big.fd, 0, 0)).rejects.toMatchObject({ code: "ERR_OUT_OF_RANGE" });
      const [r, w] = lowlevel.pipe(true);
      try {
        await expect(loop.sockSendfile(a, r)).rejects.toMatchObject({ code: "ESPIPE", syscall: "sendfile", bytesSent: 0 });
      } finally {
        lowlevel.close(r);
        lowlevel.close(w);
      }
      const closed = track(new Socket(AF_INET, SOCK_STREAM));
      closed.setblocking(false);
      closed.close();
      await expect(loop.sockSendfile(closed, big.fd)).rejects.toMatchObject({ code: "EBADF" });
    });
  });
});

describe.each(MODES)("sockAccept, sockConnect and foreign sockets (%s)", (mode) => {
  it("sockAccept gives a non-blocking socket even with a default timeout set (asyncio's sock_accept sets it non-blocking)", async () => {
    const loop = make(mode);
    const listener = track(tcpListener());
    setdefaulttimeout(5);
    const client = track(new Socket());
    expect(client.gettimeout()).toBe(5);
    client.connect(["127.0.0.1", portOf(listener)]);
    const [conn] = await drive(loop, mode, () => loop.sockAccept(listener));
    track(conn);
    expect([conn.gettimeout(), conn.getblocking(), lowlevel.getNonBlocking(conn.fileno())]).toEqual([0, false, true]);
    expect([conn.family, conn.type, conn.proto]).toEqual([listener.family, listener.type, listener.proto]);
  });

  it("a refused connect has one shape from sockConnect and from Socket.connect: code, errno, syscall, address, port, message", async () => {
    const loop = make(mode);
    const probe = new Socket();
    probe.bind(["127.0.0.1", 0]);
    const port = portOf(probe);
    probe.close();
    const viaLoop = (await drive(loop, mode, () => loop.sockConnect(track(tcpSocket()), ["127.0.0.1", port]).catch((e: unknown) => e))) as AddressedError;
    const blocking = track(new Socket());
    const direct = thrown(() => blocking.connect(["127.0.0.1", port])) as AddressedError;
    for (const key of ["code", "errno", "syscall", "address", "port", "message"] as const) expect(direct[key], key).toEqual(viaLoop[key]);
    expect(Object.keys(direct).sort()).toEqual(Object.keys(viaLoop).sort());
  });

  it("a node:net or node:dgram socket passed to a sock* call is named as such (ERR_INVALID_ARG_TYPE)", async () => {
    const loop = make(mode);
    const net = new NetSocket();
    const udp = createSocket("udp4");
    try {
      await drive(loop, mode, async () => {
        const calls: Array<(s: never) => Promise<unknown>> = [
          (s) => loop.sockRecv(s, 10),
          (s) => loop.sockRecvInto(s, Buffer.alloc(4)),
          (s) => loop.sockSendall(s, "x"),
          (s) => loop.sockAccept(s),
          (s) => loop.sockConnect(s, ["127.0.0.1", 1]),
          (s) => loop.sockRecvfrom(s, 10),
          (s) => loop.sockRecvfromInto(s, Buffer.alloc(4)),
          (s) => loop.sockSendto(s, "x", ["127.0.0.1", 1]),
          (s) => loop.sockSendfile(s, 0),
        ];
        for (const call of calls) {
          await expect(call(net as never)).rejects.toMatchObject({
            code: "ERR_INVALID_ARG_TYPE",
            name: "TypeError",
            message: 'The "sock" argument must be a native-selectors Socket, not a node:net Socket',
          });
          await expect(call(udp as never)).rejects.toMatchObject({
            code: "ERR_INVALID_ARG_TYPE",
            message: 'The "sock" argument must be a native-selectors Socket, not a node:dgram Socket',
          });
        }
        await expect(loop.sockRecv({} as never, 10)).rejects.toMatchObject({
          code: "ERR_INVALID_ARG_TYPE",
          message: 'The "sock" argument must be a native-selectors Socket. Received an instance of Object',
        });
        // Readers and writers take file objects: the selector's message names node:net too.
        expect(() => loop.addReader(net as never, () => undefined)).toThrow(/a node:net Socket has no fileno\(\)/);
      });
    } finally {
      net.destroy();
      udp.close();
    }
  });
});
