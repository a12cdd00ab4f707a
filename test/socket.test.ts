// test/socket.test.ts — the Python-shaped Socket on real loopback sockets: IPv4, IPv6 (::1), Unix
// sockets, socketpair, blocking and non-blocking modes, EOF, EAGAIN, ECONNREFUSED, EINPROGRESS then
// SO_ERROR, connectEx, sendall of a large body, every bad argument, closed sockets (EBADF), close
// by Symbol.dispose and by the garbage collector, and no fd leaks across the file.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

import { describe, expect, it } from "vitest";

import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  EVENT_WRITE,
  EVENT_READ,
  IPPROTO_TCP,
  PollSelector,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_SNDBUF,
  Socket,
  TCP_NODELAY,
  lowlevel,
  socketpair,
} from "../lib/index.js";
import { expectCode, expectSystemError, fileTempDir, thrown } from "./support/expect.js";
import { fdTarget } from "./support/fds.js";
import { portOf, tcpListener } from "./support/net.js";
import { sleep } from "./support/time.js";

const E = lowlevel.constants;

/**
 * Waits (at most `seconds`) until `sock` is ready for `events`; fails the test otherwise. poll(2)
 * on purpose: libkqueue's EVFILT_WRITE reads (and so clears) SO_ERROR, which these tests check.
 */
function waitFor(sock: Socket, events: number, seconds = 5): number {
  using sel = new PollSelector();
  sel.register(sock, events);
  const ready = sel.select(seconds);
  expect(ready.length, `socket not ready for ${events} within ${seconds}s`).toBe(1);
  return ready[0]![1];
}

const tmp = fileTempDir("ns-socket-");

describe("constants", () => {
  it("are the platform's numbers", () => {
    for (const value of [
      AF_INET,
      AF_INET6,
      AF_UNIX,
      SOCK_STREAM,
      SOCK_DGRAM,
      SOL_SOCKET,
      SO_REUSEADDR,
      SO_ERROR,
      SO_KEEPALIVE,
      SO_SNDBUF,
      SO_RCVBUF,
      IPPROTO_TCP,
      TCP_NODELAY,
    ])
      expect(Number.isInteger(value)).toBe(true);
    expect([SHUT_RD, SHUT_WR, SHUT_RDWR]).toEqual([0, 1, 2]);
    if (process.platform === "linux") {
      expect([AF_UNIX, AF_INET, AF_INET6]).toEqual([1, 2, 10]);
      expect([SOCK_STREAM, SOCK_DGRAM, SOL_SOCKET, SO_REUSEADDR, SO_ERROR, SO_REUSEPORT]).toEqual([1, 2, 1, 2, 4, 15]);
      expect([IPPROTO_TCP, TCP_NODELAY]).toEqual([6, 1]);
    }
  });
});

describe("Socket basics", () => {
  it("defaults to AF_INET / SOCK_STREAM / 0, blocking, with a really blocking fd", () => {
    using s = new Socket();
    expect([s.family, s.type, s.proto]).toEqual([AF_INET, SOCK_STREAM, 0]);
    expect(s.fileno()).toBeGreaterThanOrEqual(0);
    expect(s.getblocking()).toBe(true);
    expect(lowlevel.getNonBlocking(s.fileno())).toBe(false);
    expect(fdTarget(s.fileno())).toMatch(/^socket:/);
  });

  it("setblocking switches the fd's O_NONBLOCK and getblocking reports it", () => {
    using s = new Socket();
    s.setblocking(false);
    expect(s.getblocking()).toBe(false);
    expect(lowlevel.getNonBlocking(s.fileno())).toBe(true);
    s.setblocking(true);
    expect(s.getblocking()).toBe(true);
    expect(lowlevel.getNonBlocking(s.fileno())).toBe(false);
  });

  it("wraps an existing fd, keeping its blocking mode, and owns it", () => {
    const fd = lowlevel.socket(AF_INET, SOCK_STREAM, 0, true);
    const s = new Socket(AF_INET, SOCK_STREAM, 0, fd);
    expect(s.fileno()).toBe(fd);
    expect(s.getblocking()).toBe(false);
    s.close();
    expect(fdTarget(fd)).toBeNull();
    const fd2 = lowlevel.socket(AF_INET, SOCK_STREAM, 0, false);
    const s2 = new Socket(AF_INET, SOCK_STREAM, 0, fd2);
    expect(s2.getblocking()).toBe(true);
    expect(s2.detach()).toBe(fd2);
    expect(s2.fileno()).toBe(-1);
    expect(fdTarget(fd2)).toMatch(/^socket:/);
    lowlevel.close(fd2);
  });

  it("close() is idempotent, fileno() is -1 after it, and every call then throws EBADF", () => {
    // Typed as sockets of any family, so that the AF_INET-shaped addresses below type-check.
    const [a, b]: [Socket, Socket] = socketpair();
    b.close();
    const fd = a.fileno();
    a.close();
    a.close();
    expect(a.fileno()).toBe(-1);
    expect(a.closed).toBe(true);
    expect(fdTarget(fd)).toBeNull();
    // The fd number may be reused by now: a closed Socket must not touch it.
    using other = new Socket();
    void other;
    const calls: Array<[() => unknown, string]> = [
      [() => a.recv(10), "recv"],
      [() => a.recvInto(Buffer.alloc(4)), "recv"],
      [() => a.send("x"), "send"],
      [() => a.sendall("x"), "send"],
      [() => a.accept(), "accept"],
      [() => a.bind(["127.0.0.1", 0]), "bind"],
      [() => a.listen(), "listen"],
      [() => a.connect(["127.0.0.1", 1]), "connect"],
      [() => a.shutdown(SHUT_RDWR), "shutdown"],
      [() => a.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1), "setsockopt"],
      [() => a.getsockopt(SOL_SOCKET, SO_ERROR), "getsockopt"],
      [() => a.getsockname(), "getsockname"],
      [() => a.getpeername(), "getpeername"],
      [() => a.setblocking(false), "ioctl"],
    ];
    for (const [call, syscall] of calls) expectSystemError(call, "EBADF", syscall);
    // As Python's connect_ex: the errno comes back instead of being thrown.
    expect(a.connectEx(["127.0.0.1", 1])).toBe(E.EBADF);
    // getblocking answers without a syscall, as Python's does.
    expect(a.getblocking()).toBe(true);
  });

  it("Symbol.dispose closes the socket", () => {
    let fd = -1;
    let outer: Socket;
    {
      using s = new Socket();
      fd = s.fileno();
      outer = s;
    }
    expect(outer.fileno()).toBe(-1);
    expect(fdTarget(fd)).toBeNull();
  });

  it("socket options: SO_REUSEADDR, SO_KEEPALIVE, TCP_NODELAY, SO_RCVBUF", () => {
    using s = new Socket();
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    expect(s.getsockopt(SOL_SOCKET, SO_REUSEADDR)).not.toBe(0);
    s.setsockopt(SOL_SOCKET, SO_KEEPALIVE, true);
    expect(s.getsockopt(SOL_SOCKET, SO_KEEPALIVE)).not.toBe(0);
    s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
    expect(s.getsockopt(IPPROTO_TCP, TCP_NODELAY)).not.toBe(0);
    s.setsockopt(IPPROTO_TCP, TCP_NODELAY, false);
    expect(s.getsockopt(IPPROTO_TCP, TCP_NODELAY)).toBe(0);
    s.setsockopt(SOL_SOCKET, SO_RCVBUF, 65536);
    expect(s.getsockopt(SOL_SOCKET, SO_RCVBUF)).toBeGreaterThanOrEqual(65536);
    expect(s.getsockopt(SOL_SOCKET, SO_SNDBUF)).toBeGreaterThan(0);
    expect(s.getsockopt(SOL_SOCKET, SO_ERROR)).toBe(0);
    expectSystemError(() => s.setsockopt(SOL_SOCKET, 0x7fff, 1), process.platform === "linux" ? "ENOPROTOOPT" : "EINVAL", "setsockopt");
  });
});

describe("IPv4", () => {
  it("blocking listen / connect / accept / send / recv / getpeername", () => {
    const server = tcpListener({ blocking: true });
    const port = portOf(server);
    using _server = server;
    using client = new Socket(AF_INET, SOCK_STREAM);
    client.connect(["127.0.0.1", port]);
    const [conn, address] = server.accept();
    using _conn = conn;
    expect(conn).toBeInstanceOf(Socket);
    expect([conn.family, conn.type, conn.proto]).toEqual([AF_INET, SOCK_STREAM, 0]);
    expect(address).toEqual(client.getsockname());
    expect(client.getpeername()).toEqual(["127.0.0.1", port]);
    expect(conn.getpeername()).toEqual(address);
    expect(conn.getblocking()).toBe(true);
    expect(lowlevel.getNonBlocking(conn.fileno())).toBe(false);

    expect(client.send("GET / HTTP/1.1\r\n\r\n")).toBe(18);
    const got = conn.recv(100);
    expect(Buffer.isBuffer(got)).toBe(true);
    expect(got.toString()).toBe("GET / HTTP/1.1\r\n\r\n");
    conn.sendall(Buffer.from("pong"));
    expect(client.recv(4).toString()).toBe("pong");
  });

  it("accept() on a non-blocking listener returns a blocking socket, as Python does", () => {
    const server = tcpListener({ blocking: true });
    const port = portOf(server);
    using _server = server;
    server.setblocking(false);
    using client = new Socket();
    client.connect(["127.0.0.1", port]);
    waitFor(server, EVENT_READ);
    const [conn] = server.accept();
    using _conn = conn;
    expect(conn.getblocking()).toBe(true);
    expect(lowlevel.getNonBlocking(conn.fileno())).toBe(false);
  });

  it("resolves 'localhost' and binds '' to any address", () => {
    using a = new Socket();
    a.bind(["localhost", 0]);
    expect((a.getsockname() as [string, number])[0]).toBe("127.0.0.1");
    using b = new Socket();
    b.bind(["", 0]);
    expect((b.getsockname() as [string, number])[0]).toBe("0.0.0.0");
  });

  it("ECONNREFUSED from a port that was bound and closed; connectEx returns the errno", () => {
    const probe = new Socket();
    probe.bind(["127.0.0.1", 0]);
    const port = (probe.getsockname() as [string, number])[1];
    probe.close();
    using a = new Socket();
    expectSystemError(() => a.connect(["127.0.0.1", port]), "ECONNREFUSED", "connect", ` 127.0.0.1:${port}`);
    using b = new Socket();
    expect(b.connectEx(["127.0.0.1", port])).toBe(E.ECONNREFUSED);
  });

  it("connectEx: 0 on success, EISCONN when connected again", () => {
    const server = tcpListener({ blocking: true });
    const port = portOf(server);
    using _server = server;
    using client = new Socket();
    expect(client.connectEx(["127.0.0.1", port])).toBe(0);
    expect(client.connectEx(["127.0.0.1", port])).toBe(E.EISCONN);
    const [conn] = server.accept();
    conn.close();
  });

  it("non-blocking connect throws EINPROGRESS, then SO_ERROR is 0 once writable", () => {
    const server = tcpListener({ blocking: true });
    const port = portOf(server);
    using _server = server;
    using client = new Socket();
    client.setblocking(false);
    expectSystemError(() => client.connect(["127.0.0.1", port]), "EINPROGRESS", "connect", ` 127.0.0.1:${port}`);
    expect(waitFor(client, EVENT_WRITE) & EVENT_WRITE).toBe(EVENT_WRITE);
    expect(client.getsockopt(SOL_SOCKET, SO_ERROR)).toBe(0);
    expect(client.getpeername()).toEqual(["127.0.0.1", port]);
    const [conn] = server.accept();
    conn.close();
  });

  it("non-blocking connect to a closed port: EINPROGRESS (connectEx), then SO_ERROR is ECONNREFUSED", () => {
    const probe = new Socket();
    probe.bind(["127.0.0.1", 0]);
    const port = (probe.getsockname() as [string, number])[1];
    probe.close();
    using client = new Socket();
    client.setblocking(false);
    expect(client.connectEx(["127.0.0.1", port])).toBe(E.EINPROGRESS);
    waitFor(client, EVENT_WRITE);
    expect(client.getsockopt(SOL_SOCKET, SO_ERROR)).toBe(E.ECONNREFUSED);
  });

  it("non-blocking recv, send and accept throw EAGAIN (Python's BlockingIOError)", () => {
    const server = tcpListener({ blocking: true });
    const port = portOf(server);
    using _server = server;
    server.setblocking(false);
    expectSystemError(() => server.accept(), "EAGAIN", "accept");
    const [a, b] = socketpair();
    using _a = a;
    using _b = b;
    a.setblocking(false);
    expectSystemError(() => a.recv(10), "EAGAIN", "recv");
    expectSystemError(() => a.recvInto(Buffer.alloc(10)), "EAGAIN", "recv");
    // Fill the send buffer: the next send would block.
    const chunk = Buffer.alloc(65536, 0x61);
    let sent = 0;
    for (let i = 0; i < 10_000; i++) {
      let n: number;
      try {
        n = a.send(chunk);
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe("EAGAIN");
        break;
      }
      sent += n;
    }
    expect(sent).toBeGreaterThan(0);
    expectSystemError(() => a.send(chunk), "EAGAIN", "send");
    expectSystemError(() => a.sendall(chunk), "EAGAIN", "send");
    void port;
  });

  it("EOF: recv returns an empty Buffer after the peer's SHUT_WR and after its close", () => {
    const [a, b] = socketpair();
    using _a = a;
    b.sendall("last");
    b.shutdown(SHUT_WR);
    expect(a.recv(100).toString()).toBe("last");
    const eof = a.recv(100);
    expect(Buffer.isBuffer(eof)).toBe(true);
    expect(eof.length).toBe(0);
    expect(a.recvInto(Buffer.alloc(8))).toBe(0);
    b.close();
    expect(a.recv(100).length).toBe(0);
  });

  it("sendall delivers a 4 MiB body to a peer process reading it", async () => {
    const server = tcpListener({ blocking: true });
    const port = portOf(server);
    using _server = server;
    const body = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >>> 10)) & 0xff;
    const reader = spawn(
      process.execPath,
      [
        "-e",
        `const net = require("node:net"); const crypto = require("node:crypto");
         const h = crypto.createHash("sha256"); let n = 0;
         const c = net.connect(${port}, "127.0.0.1");
         c.on("data", (d) => { n += d.length; h.update(d); });
         c.on("end", () => { process.stdout.write(JSON.stringify({ n, sha: h.digest("hex") })); c.end(); });`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    reader.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => reader.on("exit", (code) => resolve(code)));
    waitFor(server, EVENT_READ, 20);
    const [conn] = server.accept();
    try {
      conn.sendall(body);
    } finally {
      conn.close();
    }
    expect(await exited).toBe(0);
    const { createHash } = await import("node:crypto");
    expect(JSON.parse(out)).toEqual({ n: body.length, sha: createHash("sha256").update(body).digest("hex") });
  });

  it("strings are sent as UTF-8; recvInto honours nbytes; recv of a short read", () => {
    const [a, b] = socketpair();
    using _a = a;
    using _b = b;
    expect(a.send("héllo ✓")).toBe(Buffer.byteLength("héllo ✓"));
    expect(b.recv(1024).toString("utf8")).toBe("héllo ✓");
    a.sendall("0123456789");
    const into = Buffer.alloc(16, 0x2e);
    expect(b.recvInto(into, 4)).toBe(4);
    expect(into.toString()).toBe("0123............");
    expect(b.recvInto(new Uint8Array(into.buffer, into.byteOffset + 8, 8))).toBe(6);
    expect(into.toString()).toBe("0123....456789..");
    a.sendall("abc");
    const big = b.recv(1 << 20);
    expect(big.toString()).toBe("abc");
    a.sendall("xyz");
    expect(b.recv(0).length).toBe(0);
    expect(b.recv(3).toString()).toBe("xyz");
  });
});

describe("IPv6", () => {
  it("binds ::1, reports [host, port, flowinfo, scopeId], connects and exchanges data", () => {
    using server = new Socket(AF_INET6, SOCK_STREAM);
    server.bind(["::1", 0]);
    server.listen(5);
    const name = server.getsockname() as [string, number, number, number];
    expect(name).toHaveLength(4);
    expect(name[0]).toBe("::1");
    expect(name[2]).toBe(0);
    expect(name[3]).toBe(0);
    using client = new Socket(AF_INET6);
    client.connect(["::1", name[1]]);
    const [conn, address] = server.accept();
    using _conn = conn;
    expect(conn.family).toBe(AF_INET6);
    expect(address).toEqual(client.getsockname());
    expect(client.getpeername()).toEqual(["::1", name[1], 0, 0]);
    client.sendall("over v6");
    expect(conn.recv(64).toString()).toBe("over v6");
  });

  it("accepts the 4-tuple form and checks flowinfo / scopeId ranges", () => {
    using s = new Socket(AF_INET6);
    s.bind(["::1", 0, 0, 0]);
    expect(s.getsockname()[0]).toBe("::1");
    using t = new Socket(AF_INET6);
    expectCode(() => t.bind(["::1", 0, 0x100000]), "ERR_OUT_OF_RANGE");
    expectCode(() => t.bind(["::1", 0, 0, -1]), "ERR_OUT_OF_RANGE");
    expectCode(() => t.bind(["::1", 0, 0, 0, 0] as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
  });
});

describe("Unix sockets", () => {
  it("binds a path, connects, accepts with address '' and exchanges data", () => {
    const path = join(tmp(), "s.sock");
    using server = new Socket(AF_UNIX, SOCK_STREAM);
    server.bind(path);
    server.listen();
    expect(server.getsockname()).toBe(path);
    using client = new Socket(AF_UNIX);
    client.connect(path);
    const [conn, address] = server.accept();
    using _conn = conn;
    expect(address).toBe("");
    expect(conn.family).toBe(AF_UNIX);
    expect(client.getpeername()).toBe(path);
    client.sendall("unix");
    expect(conn.recv(10).toString()).toBe("unix");
    conn.shutdown(SHUT_RDWR);
    expect(client.recv(10).length).toBe(0);
  });

  it("ENOENT connecting to a missing path; a path too long is a bad argument", () => {
    using s = new Socket(AF_UNIX);
    expectSystemError(() => s.connect(join(tmp(), "missing.sock")), "ENOENT", "connect", ` ${join(tmp(), "missing.sock")}`);
    expect(s.connectEx(join(tmp(), "missing.sock"))).toBe(E.ENOENT);
    expectCode(() => s.bind(join(tmp(), "x".repeat(200))), "ERR_INVALID_ARG_VALUE");
  });

  it("socketpair() defaults to AF_UNIX / SOCK_STREAM, both ends blocking; SOCK_DGRAM keeps boundaries", () => {
    const [a, b] = socketpair();
    using _a = a;
    using _b = b;
    expect([a.family, a.type, b.family, b.type]).toEqual([AF_UNIX, SOCK_STREAM, AF_UNIX, SOCK_STREAM]);
    expect([a.getblocking(), b.getblocking()]).toEqual([true, true]);
    expect(lowlevel.getNonBlocking(a.fileno())).toBe(false);
    const [c, d] = socketpair(AF_UNIX, SOCK_DGRAM);
    using _c = c;
    using _d = d;
    c.send("one");
    c.send("two");
    expect(d.recv(100).toString()).toBe("one");
    expect(d.recv(100).toString()).toBe("two");
  });
});

describe("bad arguments", () => {
  it("unknown family, bad type or proto, bad fileno", () => {
    expectCode(() => new Socket(12345), "ERR_INVALID_ARG_VALUE");
    expectCode(() => new Socket("inet" as unknown as number), "ERR_INVALID_ARG_TYPE");
    expectCode(() => new Socket(AF_INET, -1), "ERR_OUT_OF_RANGE");
    expectCode(() => new Socket(AF_INET, SOCK_STREAM, 1.5), "ERR_OUT_OF_RANGE");
    expectCode(() => new Socket(AF_INET, SOCK_STREAM, 0, -5), "ERR_OUT_OF_RANGE");
    expectCode(() => socketpair(999), "ERR_INVALID_ARG_VALUE");
    // A number that is no open fd.
    const probe = new Socket();
    const fd = probe.fileno();
    probe.close();
    if (fdTarget(fd) === null) expectSystemError(() => new Socket(AF_INET, SOCK_STREAM, 0, fd), "EBADF");
    // A protocol the family does not have is the kernel's refusal.
    expect(thrown(() => new Socket(AF_INET, SOCK_STREAM, 250)).syscall).toBe("socket");
  });

  it("wrong address shapes and port 70000", () => {
    using s = new Socket();
    expectCode(() => s.bind("127.0.0.1:80" as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
    expectCode(() => s.bind(["127.0.0.1"] as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
    expectCode(() => s.bind([80, "127.0.0.1"] as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
    expectCode(() => s.bind(["127.0.0.1", 0, 0, 0] as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
    expectCode(() => s.bind(["127.0.0.1", "80"] as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
    expectCode(() => s.bind(["127.0.0.1", 70000]), "ERR_OUT_OF_RANGE");
    expectCode(() => s.bind(["127.0.0.1", -1]), "ERR_OUT_OF_RANGE");
    expectCode(() => s.connect(["127.0.0.1", 70000]), "ERR_OUT_OF_RANGE");
    expectCode(() => s.connectEx(["127.0.0.1", 70000]), "ERR_OUT_OF_RANGE");
    expectCode(() => s.connect(["127.0.0.1", 1.5]), "ERR_OUT_OF_RANGE");
    expectCode(() => s.bind(["bad\0host", 0]), "ERR_INVALID_ARG_VALUE");
    using u = new Socket(AF_UNIX);
    expectCode(() => u.bind(["/tmp/x", 1] as unknown as string), "ERR_INVALID_ARG_TYPE");
    // The socket is still usable after every refusal.
    s.bind(["127.0.0.1", 0]);
    expect((s.getsockname() as [string, number])[1]).toBeGreaterThan(0);
  });

  it("negative or fractional sizes, nbytes beyond the buffer, non-buffers, bad how / backlog", () => {
    const [a, b] = socketpair();
    using _a = a;
    using _b = b;
    expectCode(() => a.recv(-1), "ERR_OUT_OF_RANGE");
    expectCode(() => a.recv(1.5), "ERR_OUT_OF_RANGE");
    expectCode(() => a.recv(Number.NaN), "ERR_OUT_OF_RANGE");
    expectCode(() => a.recv("10" as unknown as number), "ERR_INVALID_ARG_TYPE");
    expectCode(() => a.recvInto(Buffer.alloc(10), 11), "ERR_OUT_OF_RANGE");
    expectCode(() => a.recvInto(Buffer.alloc(10), -1), "ERR_OUT_OF_RANGE");
    expectCode(() => a.recvInto("buffer" as unknown as Buffer), "ERR_INVALID_ARG_TYPE");
    expectCode(() => a.recv(10, -1), "ERR_OUT_OF_RANGE");
    expectCode(() => a.send(123 as unknown as string), "ERR_INVALID_ARG_TYPE");
    expectCode(() => a.sendall({} as unknown as string), "ERR_INVALID_ARG_TYPE");
    expectCode(() => a.shutdown(5), "ERR_OUT_OF_RANGE");
    expectCode(() => a.listen(1.5), "ERR_OUT_OF_RANGE");
    expectCode(() => a.setsockopt(SOL_SOCKET, SO_KEEPALIVE, "yes" as unknown as number), "ERR_INVALID_ARG_TYPE");
    // Nothing was consumed or broken by the refusals.
    b.sendall("ok");
    expect(a.recv(2).toString()).toBe("ok");
  });

  it("getpeername on an unconnected socket is ENOTCONN; a negative backlog counts as 0", () => {
    using s = new Socket();
    expectSystemError(() => s.getpeername(), "ENOTCONN", "getpeername");
    s.bind(["127.0.0.1", 0]);
    s.listen(-5);
    expect((s.getsockname() as [string, number])[1]).toBeGreaterThan(0);
  });
});

describe("garbage collection", () => {
  /** gc() without --expose-gc on the command line: the flag is set at run time and gc fetched from a new context. */
  function getGc(): () => void {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  }

  function dropSockets(count: number): Array<[number, string]> {
    const seen: Array<[number, string]> = [];
    for (let i = 0; i < count; i++) {
      const s = new Socket();
      seen.push([s.fileno(), fdTarget(s.fileno())!]);
    }
    return seen;
  }

  /** Collects garbage every 20 ms until every dropped fd is closed (or 10 s pass): how many are still open. */
  async function openAfterCollections(dropped: Array<[number, string]>): Promise<number> {
    const gc = getGc();
    const deadline = Date.now() + 10_000;
    let open = dropped.length;
    while (Date.now() < deadline) {
      gc();
      await sleep(20);
      // Closed, or the number now names another file.
      open = dropped.filter(([fd, target]) => fdTarget(fd) === target).length;
      if (open === 0) break;
    }
    return open;
  }

  it("a Socket dropped without close() has its fd closed by the finalizer", async () => {
    const dropped = dropSockets(8);
    for (const [, target] of dropped) expect(target).toMatch(/^socket:/);
    expect(await openAfterCollections(dropped)).toBe(0);
  });

  it("a Socket dropped among many closed at once is closed by the finalizer too (its turn comes by count)", async () => {
    const dropped: Array<[number, string]> = [];
    // A busy server's pattern: most Sockets are closed soon after they are made, and never enter
    // the finalizer; the few dropped open enter it 256-512 Sockets later, or by the timer.
    for (let i = 0; i < 700; i++) {
      const s = new Socket();
      if (i % 100 === 50) dropped.push([s.fileno(), fdTarget(s.fileno())!]);
      else s.close();
    }
    expect(dropped.length).toBe(7);
    expect(await openAfterCollections(dropped)).toBe(0);
  });

  it("a closed or detached Socket is not closed again by the finalizer", async () => {
    const gc = getGc();
    const fds: number[] = [];
    (() => {
      const s = new Socket();
      fds.push(s.detach());
      const t = new Socket();
      t.close();
    })();
    // Past two turns of the finalizer's watch (250 ms each), with collections in between.
    for (let i = 0; i < 40; i++) {
      gc();
      await sleep(20);
    }
    expect(fdTarget(fds[0]!)).toMatch(/^socket:/);
    lowlevel.close(fds[0]!);
  });
});
