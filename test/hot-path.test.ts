// test/hot-path.test.ts — the one hot path shared by Socket and the loop's sock* calls
// (lib/sockio.ts): the receive-buffer policy (right-sized results that never alias each other,
// large reads, the end of the stream), the one argument policy of Socket.recv and loop.sockRecv,
// and system errors (control-flow errors without a stack, the others with the caller's stack), over
// real socket pairs and loopback TCP.
import { inspect } from "node:util";

import { describe, expect, it } from "vitest";

import { EventLoop, Socket, codedError, run, socketpair, systemError } from "../lib/index.js";
import { expectCode, thrown } from "./support/expect.js";
import { pair } from "./support/net.js";

describe("receive-buffer policy", () => {
  it("recv(n) returns exactly the bytes that came, and results never share bytes with each other", () => {
    const [a, b] = pair();
    try {
      const results: Buffer[] = [];
      for (let i = 0; i < 300; i++) {
        b.sendall(Buffer.alloc(1 + (i % 97), i & 0xff));
        const data = a.recv(65536);
        expect(data.length).toBe(1 + (i % 97));
        // A Buffer like any of Node's own: same prototype, constructor and methods.
        expect(Buffer.isBuffer(data)).toBe(true);
        expect(Object.getPrototypeOf(data)).toBe(Buffer.prototype);
        results.push(data);
      }
      // Each result still holds its own bytes after the reads that followed it...
      for (let i = 0; i < results.length; i++) expect(results[i]!.every((byte) => byte === (i & 0xff))).toBe(true);
      // ...and writing into one changes no other one.
      for (let i = 0; i < results.length; i += 2) results[i]!.fill(0xee);
      for (let i = 1; i < results.length; i += 2) expect(results[i]!.every((byte) => byte === (i & 0xff))).toBe(true);
    } finally {
      a.close();
      b.close();
    }
  });

  it("many small reads of a large recv size keep their own bytes (slabs are replaced, not reused)", () => {
    const [a, b] = pair();
    try {
      const kept: [number, Buffer][] = [];
      // 4,000 reads of recv(65536) walk through several 128 KiB slabs.
      for (let i = 0; i < 4000; i++) {
        b.send(Buffer.from([i & 0xff, (i >> 8) & 0xff]));
        kept.push([i, a.recv(65536)]);
      }
      for (const [i, data] of kept) expect([...data]).toEqual([i & 0xff, (i >> 8) & 0xff]);
    } finally {
      a.close();
      b.close();
    }
  });

  it("a read larger than a slab gets a buffer of its own; a short one is copied out of it", () => {
    const [a, b] = pair();
    try {
      const big = Buffer.alloc(100_000, 7);
      b.setblocking(true);
      const sender = big.length;
      let got = 0;
      let sent = 0;
      while (got < sender) {
        if (sent < sender) sent += b.send(big.subarray(sent, Math.min(sender, sent + 50_000)));
        const data = a.recv(200_000);
        expect(data.every((byte) => byte === 7)).toBe(true);
        got += data.length;
      }
      expect(got).toBe(sender);
      b.send("x");
      const short = a.recv(1 << 20);
      expect(short.toString()).toBe("x");
      // Copied out: the 1 MiB read buffer is not kept alive by a 1-byte result.
      expect(short.buffer.byteLength).toBeLessThan(1 << 20);
    } finally {
      a.close();
      b.close();
    }
  });

  it("the end of the stream is an empty Buffer, and recv(0) reads nothing", () => {
    const [a, b] = pair();
    try {
      b.send("abc");
      expect(a.recv(0).length).toBe(0);
      expect(a.recv(10).toString()).toBe("abc");
      b.close();
      const eof = a.recv(65536);
      expect(eof.length).toBe(0);
    } finally {
      a.close();
      b.close();
    }
  });

  it("recvfrom on a datagram pair returns right-sized bytes with the sender's address", () => {
    const [a, b] = socketpair(undefined, 2 /* SOCK_DGRAM */);
    try {
      b.send("first");
      b.send("second datagram");
      const [one] = a.recvfrom(65536);
      const [two] = a.recvfrom(4);
      expect(one.toString()).toBe("first");
      // A datagram longer than bufsize is truncated, as recvfrom(2).
      expect(two.toString()).toBe("seco");
    } finally {
      a.close();
      b.close();
    }
  });
});

describe("one argument policy for Socket.recv and loop.sockRecv", () => {
  const cases: [unknown, string][] = [
    ["16", "ERR_INVALID_ARG_TYPE"],
    [null, "ERR_INVALID_ARG_TYPE"],
    [-1, "ERR_OUT_OF_RANGE"],
    [1.5, "ERR_OUT_OF_RANGE"],
    [Number.NaN, "ERR_OUT_OF_RANGE"],
    [2 ** 53, "ERR_OUT_OF_RANGE"],
  ];

  it("gives the same code for the same bad size, in both layers", async () => {
    const [a, b] = pair();
    try {
      for (const [size, code] of cases) expectCode(() => a.recv(size as number), code);
      await run(async (loop: EventLoop) => {
        for (const [size, code] of cases) await expect(loop.sockRecv(a, size as number)).rejects.toMatchObject({ code });
      });
    } finally {
      a.close();
      b.close();
    }
  });
});

describe("system errors", () => {
  it("EAGAIN from recv is a Node-shaped Error without stack frames", () => {
    const [a, b] = pair();
    try {
      const error = thrown(() => a.recv(16)) as NodeJS.ErrnoException;
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe("EAGAIN");
      expect(error.syscall).toBe("recv");
      expect(error.errno).toBeLessThan(0);
      expect(error.message).toMatch(/^EAGAIN: .+, recv$/);
      // Control flow: the stack is the message line alone.
      expect(error.stack).toBe(`Error: ${error.message}`);
      expect(error.name).toBe("Error");
      expect(String(error)).toBe(`Error: ${error.message}`);
      // Shaped like Node's system errors: errno, code and syscall are its own enumerable
      // properties, message and stack are not enumerable.
      expect(Object.keys(error)).toEqual(["errno", "code", "syscall"]);
      expect(inspect(error)).toContain("code: 'EAGAIN'");
      expect(inspect(error)).toContain(error.message);
      // Each raise is a new object: changing one changes no other.
      const again = thrown(() => a.recv(16));
      expect(again).not.toBe(error);
      error.message = "changed";
      (error as { code?: string }).code = "X";
      expect([again.message, again.code]).toEqual(["EAGAIN: resource temporarily unavailable, recv", "EAGAIN"]);
    } finally {
      a.close();
      b.close();
    }
  });

  it("ECONNREFUSED keeps the stack of the call that failed", () => {
    const server = new Socket();
    server.bind(["127.0.0.1", 0]);
    const port = (server.getsockname() as [string, number])[1];
    server.close(); // nothing listens on the port now
    const client = new Socket();
    try {
      const error = thrown(() => client.connect(["127.0.0.1", port])) as NodeJS.ErrnoException;
      expect(error.code).toBe("ECONNREFUSED");
      expect(error.stack).toContain("hot-path.test");
      expect(error.stack).not.toContain("systemError");
    } finally {
      client.close();
    }
  });

  it("systemError() checks its arguments and caches nothing wrong", () => {
    expectCode(() => systemError(-9, 5 as unknown as string), "ERR_INVALID_ARG_TYPE");
    expectCode(() => systemError(1.5, "x"), "ERR_OUT_OF_RANGE");
    expectCode(() => systemError(100000, "x"), "ERR_OUT_OF_RANGE");
    expectCode(() => systemError("constructor" as unknown as number, "x"), "ERR_INVALID_ARG_TYPE");
    const first = systemError(-9, "close");
    const again = systemError(9, "read");
    expect([first.code, first.errno, first.syscall, first.message]).toEqual(["EBADF", -9, "close", "EBADF: bad file descriptor, close"]);
    expect([again.code, again.errno, again.syscall]).toEqual(["EBADF", -9, "read"]);
    expect(first).not.toBe(again);
    expect(codedError("ERR_X", "m").code).toBe("ERR_X");
  });
});
