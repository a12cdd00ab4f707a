// test/socket-timeout.test.ts — Python's socket timeouts on the Socket, through the public API on
// real loopback and Unix sockets: settimeout / gettimeout and setblocking / getblocking defined
// through the timeout (null blocking, 0 non-blocking, x > 0 timed with a non-blocking fd), bad
// timeouts, ETIMEDOUT (code, errno, syscall, message) from every call that would block (recv,
// recvInto, recvfrom, recvfromInto, send, sendall, sendto, accept, connect), sendall's single
// deadline (a peer process reading slowly), calls that complete within the timeout (data or a
// connection arriving during the wait, from a child process), connect / connectEx on a timed socket
// (success, ECONNREFUSED, a connect held pending by a full backlog, an AF_UNIX full backlog),
// timed sockets in a selector and refused by the loop's sock* calls, and no fd leaks.
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { AF_INET, AF_UNIX, DefaultSelector, EVENT_READ, EventLoop, SOCK_DGRAM, SOCK_STREAM, Socket, lowlevel, socketpair } from "../lib/index.js";
import { expectCode, expectSystemError, fileTempDir } from "./support/expect.js";
import { portOf, tcpListener, udp } from "./support/net.js";

const E = lowlevel.constants;

const tmp = fileTempDir("ns-timeout-");

/** Asserts Python's TimeoutError as this library shapes it: code, errno, syscall and message. */
function expectTimeout(fn: () => unknown, syscall: string, suffix = ""): NodeJS.ErrnoException {
  const error = expectSystemError(fn, "ETIMEDOUT", syscall, suffix);
  expect(error.errno).toBe(-E.ETIMEDOUT);
  if (process.platform === "linux") expect(error.errno).toBe(-110);
  expect(error.message).toBe(`ETIMEDOUT: timed out, ${syscall}${suffix}`);
  return error;
}

/** Runs fn, returning how long it took in ms. */
function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** Expects fn to throw ETIMEDOUT from `syscall` after about `seconds` (a safe lower bound, a loose upper one). */
function expectTimeoutAfter(seconds: number, fn: () => unknown, syscall: string, suffix = ""): void {
  const elapsed = timed(() => expectTimeout(fn, syscall, suffix));
  expect(elapsed).toBeGreaterThanOrEqual(seconds * 1000 - 10);
  expect(elapsed).toBeLessThan(5000);
}

/** Fills `sock`'s send buffer (the peer never reads) until even one byte does not fit; leaves it non-blocking. */
function fill(sock: Socket): void {
  sock.setblocking(false);
  for (let size = 65536; size >= 1; size >>= 1) {
    const chunk = Buffer.alloc(size, 0x78);
    for (let i = 0; i < 1_000_000; i++) {
      try {
        sock.send(chunk);
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe("EAGAIN");
        break;
      }
    }
  }
}

/**
 * A node child process running `code` (CommonJS), with `fd` (if given) as its fd 3. `ready`
 * resolves on the child's first stdout line; `exited` with its exit code and whole stdout. The
 * child is killed if it is still running 20 s later (on Node's clock, once this thread is free again).
 */
function child(code: string, fd?: number): { ready: Promise<void>; exited: Promise<{ code: number | null; out: string }> } {
  const proc = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit", ...(fd === undefined ? [] : [fd])] });
  const stdout = proc.stdout;
  if (stdout === null) throw new Error("the child has no stdout pipe");
  const killer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  let out = "";
  let onLine: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => (onLine = resolve));
  stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.includes("\n")) onLine?.();
  });
  // "close" comes after the exit and the end of the child's stdio, so `out` is complete then.
  const exited = new Promise<{ code: number | null; out: string }>((resolve) =>
    proc.on("close", (exitCode) => {
      clearTimeout(killer);
      resolve({ code: exitCode, out });
    }),
  );
  return { ready, exited };
}

/**
 * A loopback listener that never accepts, with listen(0) and its backlog full of connections
 * nobody takes: a fresh connect to it stays pending (the kernel drops its SYNs). `port` is the
 * listener's; close everything with `close()`.
 */
function fullBacklog(): { port: number; found: boolean; close: () => void } {
  const server = tcpListener({ backlog: 0, blocking: true });
  const port = portOf(server);
  const held: Socket[] = [];
  let found = false;
  for (let i = 0; i < 64 && !found; i++) {
    const s = new Socket();
    held.push(s);
    s.setblocking(false);
    s.connectEx(["127.0.0.1", port]);
    // A connect the kernel completed is writable at once; one it holds back stays pending.
    found = lowlevel.waitFd(s.fileno(), lowlevel.poll.POLLOUT, 150) === 0;
  }
  return {
    port,
    found,
    close: () => {
      for (const s of held) s.close();
      server.close();
    },
  };
}

describe("settimeout / gettimeout / setblocking / getblocking", () => {
  it("a new socket is blocking: timeout null, getblocking() true, the fd blocking", () => {
    using s = new Socket();
    expect(s.gettimeout()).toBeNull();
    expect(s.getblocking()).toBe(true);
    expect(lowlevel.getNonBlocking(s.fileno())).toBe(false);
    const [a, b] = socketpair();
    using _a = a;
    using _b = b;
    expect([a.gettimeout(), b.gettimeout()]).toEqual([null, null]);
  });

  it("settimeout(0) is non-blocking, settimeout(x > 0) timed on a non-blocking fd, settimeout(null) blocking again", () => {
    using s = new Socket();
    s.settimeout(0);
    expect(s.gettimeout()).toBe(0);
    expect(s.getblocking()).toBe(false);
    expect(lowlevel.getNonBlocking(s.fileno())).toBe(true);
    s.settimeout(0.25);
    expect(s.gettimeout()).toBe(0.25);
    expect(s.getblocking()).toBe(true);
    expect(lowlevel.getNonBlocking(s.fileno())).toBe(true);
    s.settimeout(3);
    expect(s.gettimeout()).toBe(3);
    s.settimeout(null);
    expect(s.gettimeout()).toBeNull();
    expect(s.getblocking()).toBe(true);
    expect(lowlevel.getNonBlocking(s.fileno())).toBe(false);
    s.settimeout(1e-3);
    expect(s.gettimeout()).toBe(1e-3);
    expect(lowlevel.getNonBlocking(s.fileno())).toBe(true);
  });

  it("setblocking(true) is settimeout(null) and setblocking(false) is settimeout(0), from any mode", () => {
    using s = new Socket();
    s.settimeout(2);
    s.setblocking(false);
    expect(s.gettimeout()).toBe(0);
    expect(lowlevel.getNonBlocking(s.fileno())).toBe(true);
    s.settimeout(2);
    s.setblocking(true);
    expect(s.gettimeout()).toBeNull();
    expect(lowlevel.getNonBlocking(s.fileno())).toBe(false);
    s.setblocking(false);
    s.setblocking(true);
    expect(s.gettimeout()).toBeNull();
    expect(s.getblocking()).toBe(true);
  });

  it("a wrapped non-blocking fd has timeout 0, a wrapped blocking fd null", () => {
    const fd = lowlevel.socket(AF_INET, SOCK_STREAM, 0, true);
    using s = new Socket(AF_INET, SOCK_STREAM, 0, fd);
    expect(s.gettimeout()).toBe(0);
    const fd2 = lowlevel.socket(AF_INET, SOCK_STREAM, 0, false);
    using t = new Socket(AF_INET, SOCK_STREAM, 0, fd2);
    expect(t.gettimeout()).toBeNull();
  });

  it("bad timeouts: negative, NaN and infinite are ERR_OUT_OF_RANGE, non-numbers ERR_INVALID_ARG_TYPE; the mode is kept", () => {
    using s = new Socket();
    s.settimeout(1.5);
    for (const bad of [-1, -0.001, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const error = expectCode(() => s.settimeout(bad), "ERR_OUT_OF_RANGE");
      expect(error).toBeInstanceOf(RangeError);
    }
    for (const bad of ["1", "", true, 1n, {}, [1]]) {
      const error = expectCode(() => s.settimeout(bad as unknown as number), "ERR_INVALID_ARG_TYPE");
      expect(error).toBeInstanceOf(TypeError);
    }
    expect(s.gettimeout()).toBe(1.5);
    expect(lowlevel.getNonBlocking(s.fileno())).toBe(true);
  });

  it("settimeout and setblocking on a closed socket throw EBADF", () => {
    const s = new Socket();
    s.close();
    expectCode(() => s.settimeout(1), "EBADF");
    expectCode(() => s.settimeout(null), "EBADF");
    expectCode(() => s.settimeout(0), "EBADF");
    expectCode(() => s.setblocking(true), "EBADF");
    expectCode(() => s.setblocking(false), "EBADF");
  });
});

describe("a timed call that would block throws ETIMEDOUT", () => {
  it("recv and recvInto on an empty socketpair ('recv'); the socket still works afterwards", () => {
    const [a, b] = socketpair();
    using _a = a;
    using _b = b;
    a.settimeout(0.2);
    expectTimeoutAfter(0.2, () => a.recv(16), "recv");
    expectTimeoutAfter(0.2, () => a.recvInto(Buffer.alloc(16)), "recv");
    expect(a.gettimeout()).toBe(0.2);
    b.sendall("later");
    expect(a.recv(16).toString()).toBe("later");
  });

  it("recvfrom and recvfromInto on an empty UDP socket ('recvfrom')", () => {
    using rx = udp();
    rx.settimeout(0.15);
    expectTimeoutAfter(0.15, () => rx.recvfrom(16), "recvfrom");
    expectTimeoutAfter(0.15, () => rx.recvfromInto(Buffer.alloc(16)), "recvfrom");
    using tx = udp();
    tx.sendto("queued", rx.getsockname() as [string, number]);
    expect(rx.recvfrom(16)).toEqual([Buffer.from("queued"), tx.getsockname()]);
  });

  it("accept on a timed listener with nothing pending ('accept')", () => {
    const server = tcpListener({ backlog: 16, blocking: true });
    using _server = server;
    server.settimeout(0.2);
    expectTimeoutAfter(0.2, () => server.accept(), "accept");
  });

  it("send on a full socketpair ('send')", () => {
    const [a, b] = socketpair();
    using _a = a;
    using _b = b;
    fill(a);
    a.settimeout(0.2);
    expectTimeoutAfter(0.2, () => a.send("x"), "send");
  });

  it("sendall of a body the peer never reads: one ETIMEDOUT ('send') after about the timeout", () => {
    const [a, b] = socketpair();
    using _a = a;
    using _b = b;
    a.settimeout(0.2);
    expectTimeoutAfter(0.2, () => a.sendall(Buffer.alloc(8 * 1024 * 1024)), "send");
    // Some of it went out before the buffer filled up.
    b.setblocking(false);
    expect(b.recv(16).length).toBeGreaterThan(0);
  });

  it.runIf(process.platform === "linux")("sendto a Unix datagram socket whose queue is full ('sendto')", () => {
    const path = join(tmp(), "full-dgram.sock");
    using rx = new Socket(AF_UNIX, SOCK_DGRAM);
    rx.bind(path);
    using tx = new Socket(AF_UNIX, SOCK_DGRAM);
    tx.settimeout(0.2);
    let sent = 0;
    const elapsed = timed(() => {
      expectTimeout(() => {
        for (let i = 0; i < 100_000; i++) {
          tx.sendto("x", path);
          sent++;
        }
      }, "sendto");
    });
    expect(sent).toBeGreaterThan(0);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(5000);
    rmSync(path);
  });
});

describe("a timed call completes when it can", () => {
  it("data already queued is returned at once; a timed send / sendall of what fits completes", () => {
    const [a, b] = socketpair();
    using _a = a;
    using _b = b;
    a.settimeout(30);
    b.settimeout(30);
    const elapsed = timed(() => {
      expect(a.send("one")).toBe(3);
      a.sendall("two");
      expect(b.recv(16).toString()).toBe("onetwo");
      a.sendall(Buffer.alloc(100_000, 0x61));
      let got = 0;
      const into = Buffer.alloc(65536);
      while (got < 100_000) got += b.recvInto(into);
      expect(got).toBe(100_000);
    });
    expect(elapsed).toBeLessThan(5000);
  });

  it("recv returns data that arrives during its wait (from another process)", async () => {
    const [a, b] = socketpair();
    using _a = a;
    using _b = b;
    const writer = child(`setTimeout(() => require("node:fs").writeSync(3, "late"), 300);`, b.fileno());
    a.settimeout(10);
    let data: Buffer = Buffer.alloc(0);
    const elapsed = timed(() => {
      data = a.recv(16);
    });
    expect(data.toString()).toBe("late");
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(10_000);
    expect((await writer.exited).code).toBe(0);
  });

  it("accept returns a connection made during its wait (from another process)", async () => {
    const server = tcpListener({ backlog: 16, blocking: true });
    const port = portOf(server);
    using _server = server;
    server.settimeout(10);
    const peer = child(
      `setTimeout(() => {
         const c = require("node:net").connect(${port}, "127.0.0.1");
         c.on("error", () => process.exit(2));
         c.on("close", () => process.exit(0));
         c.resume();
       }, 300);`,
    );
    let accepted: [Socket, unknown] | undefined;
    const elapsed = timed(() => {
      accepted = server.accept();
    });
    const [conn, address] = accepted!;
    try {
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(10_000);
      expect((address as [string, number])[0]).toBe("127.0.0.1");
      expect(conn.gettimeout()).toBeNull();
    } finally {
      conn.close();
    }
    expect((await peer.exited).code).toBe(0);
  });

  it("accept with a connection pending: [Socket, address], the accepted socket blocking; the listener keeps its timeout", () => {
    const server = tcpListener({ backlog: 16, blocking: true });
    const port = portOf(server);
    using _server = server;
    server.settimeout(0.3);
    using client = new Socket();
    client.connect(["127.0.0.1", port]);
    const [conn, address] = server.accept();
    using _conn = conn;
    expect(conn).toBeInstanceOf(Socket);
    expect(address).toEqual(client.getsockname());
    expect(conn.gettimeout()).toBeNull();
    expect(conn.getblocking()).toBe(true);
    expect(lowlevel.getNonBlocking(conn.fileno())).toBe(false);
    expect(server.gettimeout()).toBe(0.3);
    client.sendall("hi");
    expect(conn.recv(8).toString()).toBe("hi");
  });

  it("sendall has one deadline for all of its data: a peer reading steadily but slowly does not keep it going", async () => {
    const [a, b] = socketpair();
    using _a = a;
    using _b = b;
    // The reader takes 64 KiB at a time with a 5 ms pause: at most ~13 MB/s, so 16 MiB need over
    // a second, while each wait for room in the buffer is only a few ms.
    const reader = child(
      `const fs = require("node:fs");
       const buf = Buffer.alloc(65536);
       const pause = new Int32Array(new SharedArrayBuffer(4));
       let total = 0;
       process.stdout.write("ready\\n");
       for (;;) {
         const n = fs.readSync(3, buf, 0, buf.length, null);
         if (n === 0) break;
         total += n;
         Atomics.wait(pause, 0, 0, 5);
       }
       process.stdout.write("total " + total + "\\n");`,
      b.fileno(),
    );
    await reader.ready;
    const SIZE = 16 * 1024 * 1024;
    a.settimeout(0.3);
    expectTimeoutAfter(0.3, () => a.sendall(Buffer.alloc(SIZE, 0x62)), "send");
    a.close();
    const { code, out } = await reader.exited;
    expect(code).toBe(0);
    const total = Number(/total (\d+)/.exec(out)?.[1]);
    // The reader made progress (so no single wait lasted the timeout), yet not all was sent.
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(SIZE);
  });
});

describe("connect on a timed socket", () => {
  it("connects to a listening loopback socket and exchanges data; connectEx returns 0", () => {
    const server = tcpListener({ backlog: 16, blocking: true });
    const port = portOf(server);
    using _server = server;
    using client = new Socket();
    client.settimeout(2);
    client.connect(["127.0.0.1", port]);
    expect(client.getpeername()).toEqual(server.getsockname());
    expect(client.gettimeout()).toBe(2);
    const [conn] = server.accept();
    using _conn = conn;
    client.sendall("timed");
    expect(conn.recv(16).toString()).toBe("timed");
    conn.sendall("back");
    expect(client.recv(16).toString()).toBe("back");
    using other = new Socket();
    other.settimeout(2);
    expect(other.connectEx(["127.0.0.1", port])).toBe(0);
    server.accept()[0].close();
  });

  it("a closed port: connect throws ECONNREFUSED, connectEx returns ECONNREFUSED", () => {
    const probe = new Socket();
    probe.bind(["127.0.0.1", 0]);
    const port = (probe.getsockname() as [string, number])[1];
    probe.close();
    using a = new Socket();
    a.settimeout(2);
    const error = expectSystemError(() => a.connect(["127.0.0.1", port]), "ECONNREFUSED", "connect", ` 127.0.0.1:${port}`);
    expect(error.errno).toBe(-E.ECONNREFUSED);
    expect(error).toMatchObject({ address: "127.0.0.1", port });
    using b = new Socket();
    b.settimeout(2);
    expect(b.connectEx(["127.0.0.1", port])).toBe(E.ECONNREFUSED);
  });

  it("a connect held pending (a full listen(0) backlog): connect throws ETIMEDOUT, connectEx returns EAGAIN", () => {
    const backlog = fullBacklog();
    try {
      expect(backlog.found, "a connect to a listener whose backlog is full should stay pending").toBe(true);
      using a = new Socket();
      a.settimeout(0.2);
      expectTimeoutAfter(0.2, () => a.connect(["127.0.0.1", backlog.port]), "connect", ` 127.0.0.1:${backlog.port}`);
      using b = new Socket();
      b.settimeout(0.2);
      let r = -1;
      const elapsed = timed(() => {
        r = b.connectEx(["127.0.0.1", backlog.port]);
      });
      expect(r).toBe(E.EAGAIN);
      expect(elapsed).toBeGreaterThanOrEqual(190);
      expect(elapsed).toBeLessThan(5000);
    } finally {
      backlog.close();
    }
  });

  // CPython's internal_connect waits only for EINPROGRESS: an AF_UNIX connect to a full backlog
  // (EAGAIN at once) raises BlockingIOError, and connect_ex returns EAGAIN, on a timed socket.
  it("an AF_UNIX listener with a full backlog: connect throws EAGAIN and connectEx returns it, as CPython", () => {
    const path = join(tmp(), "full-stream.sock");
    const server = new Socket(AF_UNIX, SOCK_STREAM);
    server.bind(path);
    server.listen(0);
    const held: Socket[] = [];
    try {
      let r = 0;
      for (let i = 0; i < 64 && r === 0; i++) {
        const s = new Socket(AF_UNIX, SOCK_STREAM);
        held.push(s);
        s.setblocking(false);
        r = s.connectEx(path);
      }
      expect(r).toBe(E.EAGAIN);
      const a = new Socket(AF_UNIX, SOCK_STREAM);
      held.push(a);
      a.settimeout(0.2);
      const error = thrownOrNull(() => a.connect(path));
      // Not a silent success that leaves the socket unconnected (what an earlier version did).
      expect(error?.code, "a timed AF_UNIX connect to a full backlog returned as if connected").toBe("EAGAIN");
      expect(error?.syscall).toBe("connect");
      const b = new Socket(AF_UNIX, SOCK_STREAM);
      held.push(b);
      b.settimeout(0.2);
      expect(b.connectEx(path)).toBe(E.EAGAIN);
    } finally {
      for (const s of held) s.close();
      server.close();
      rmSync(path, { force: true });
    }
  });
});

function thrownOrNull(fn: () => unknown): NodeJS.ErrnoException | null {
  try {
    fn();
    return null;
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
}

describe("timed sockets with a selector and the loop", () => {
  it("a timed socket registers in a selector (its fd is non-blocking) and reports readiness", () => {
    const [a, b] = socketpair();
    using _a = a;
    using _b = b;
    a.settimeout(0.5);
    using sel = new DefaultSelector();
    sel.register(a, EVENT_READ);
    expect(sel.select(0)).toEqual([]);
    b.sendall("ready");
    const ready = sel.select(5);
    expect(ready.length).toBe(1);
    expect(ready[0]![0].fileobj).toBe(a);
    expect(ready[0]![1]).toBe(EVENT_READ);
    expect(a.recv(16).toString()).toBe("ready");
    expect(sel.select(0)).toEqual([]);
    sel.unregister(a);
  });

  it("loop sock* calls reject a timed socket with ERR_SOCKET_BLOCKING (asyncio wants timeout 0)", async () => {
    const loop = new EventLoop();
    const [a, b] = socketpair();
    try {
      a.settimeout(0.5);
      expect(a.getblocking()).toBe(true);
      b.sendall("data");
      await expect(loop.sockRecv(a, 16)).rejects.toMatchObject({ code: "ERR_SOCKET_BLOCKING" });
      await expect(loop.sockSendall(a, "x")).rejects.toMatchObject({ code: "ERR_SOCKET_BLOCKING" });
      await expect(loop.sockRecvInto(a, Buffer.alloc(4))).rejects.toMatchObject({ code: "ERR_SOCKET_BLOCKING" });
      await expect(loop.sockRecvfrom(a, 16)).rejects.toMatchObject({ code: "ERR_SOCKET_BLOCKING" });
      a.settimeout(0);
      // Non-blocking now: the data already queued is read at once.
      expect((await loop.sockRecv(a, 16)).toString()).toBe("data");
      expect(loop.selector.getMap().size).toBe(0);
    } finally {
      a.close();
      b.close();
      loop.close();
    }
  });
});
