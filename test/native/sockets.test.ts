// test/native/sockets.test.ts — every socket syscall export of `lowlevel` with real sockets on
// loopback (IPv4, IPv6, Unix paths and Linux abstract names): creation flags (NONBLOCK, CLOEXEC),
// bind/listen/accept (single, with address, batched), non-blocking connect, recv/send over
// (buffer, offset, length) with bounds checks, writev, shutdown, close, options, addresses, name
// resolution, EPIPE without SIGPIPE, and the shape of system errors.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, readFileSync, unlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { lowlevel } from "../../lib/index.js";
import { addonPath } from "../support/child.js";
import { expectCode, expectFdCount, expectSystemError } from "../support/expect.js";
import { closeAll, closedFd, fdBaseline } from "../support/fds.js";
import { listenTcp, tcpPair, waitReady } from "../support/native.js";
import { unixPath } from "../support/net.js";

const c = lowlevel.constants;
const linux = process.platform === "linux";
const O_CLOEXEC = 0o2000000;

/** Whether fd has FD_CLOEXEC, from /proc/self/fdinfo (Linux) — independent of the addon. */
function hasCloexec(fd: number): boolean {
  const info = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
  const flags = /flags:\s*([0-7]+)/.exec(info);
  if (!flags) throw new Error(`no flags in fdinfo of ${fd}`);
  return (parseInt(flags[1]!, 8) & O_CLOEXEC) !== 0;
}

/** Which of fds a child shell process inherited. */
function inheritedByChild(fds: number[]): number[] {
  const script = `for f in ${fds.join(" ")}; do [ -e /proc/$$/fd/$f ] && echo $f; done; exit 0`;
  const result = spawnSync("sh", ["-c", script], { encoding: "utf8" });
  expect(result.status).toBe(0);
  return result.stdout.split(/\s+/).filter(Boolean).map(Number);
}

let fdsAtStart = 0;
beforeAll(async () => {
  fdsAtStart = await fdBaseline();
});
afterAll(async () => {
  await expectFdCount(fdsAtStart);
});

describe("creation: socket, socketpair, pipe", () => {
  it("socket() makes IPv4, IPv6 and Unix sockets, blocking unless asked", () => {
    const fds = [
      lowlevel.socket(c.AF_INET, c.SOCK_STREAM),
      lowlevel.socket(c.AF_INET6, c.SOCK_STREAM, 0, true),
      lowlevel.socket(c.AF_UNIX, c.SOCK_STREAM, 0, false),
      lowlevel.socket(c.AF_INET, c.SOCK_DGRAM, c.IPPROTO_UDP, true),
    ];
    try {
      expect(fds.map((fd) => lowlevel.getNonBlocking(fd))).toEqual([false, true, false, true]);
      expect(lowlevel.getsockopt(fds[0]!, c.SOL_SOCKET, c.SO_TYPE)).toBe(c.SOCK_STREAM);
      expect(lowlevel.getsockopt(fds[3]!, c.SOL_SOCKET, c.SO_TYPE)).toBe(c.SOCK_DGRAM);
    } finally {
      closeAll(...fds);
    }
  });

  it("socketpair() defaults to AF_UNIX/SOCK_STREAM; pipe() is non-blocking unless asked", () => {
    const [a, b] = lowlevel.socketpair();
    const [d1, d2] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_DGRAM, 0, true);
    const [r, w] = lowlevel.pipe();
    const [br, bw] = lowlevel.pipe(false);
    try {
      expect(lowlevel.getsockopt(a, c.SOL_SOCKET, c.SO_TYPE)).toBe(c.SOCK_STREAM);
      expect(lowlevel.getNonBlocking(a)).toBe(false);
      expect(lowlevel.getsockopt(d1, c.SOL_SOCKET, c.SO_TYPE)).toBe(c.SOCK_DGRAM);
      expect(lowlevel.getNonBlocking(d2)).toBe(true);
      expect(lowlevel.getNonBlocking(r)).toBe(true);
      expect(lowlevel.getNonBlocking(bw)).toBe(false);
      expect(lowlevel.send(d1, Buffer.from("dgram"))).toBe(5);
      const buf = Buffer.alloc(16);
      expect(lowlevel.recv(d2, buf)).toBe(5);
      expect(buf.subarray(0, 5).toString()).toBe("dgram");
      // A pipe is not a socket: send/recv say so with -ENOTSOCK.
      expect(lowlevel.send(w, Buffer.from("x"))).toBe(-c.ENOTSOCK);
      expect(lowlevel.recv(r, buf)).toBe(-c.ENOTSOCK);
      expect(lowlevel.recv(a, buf, 0, 1, c.MSG_DONTWAIT)).toBe(-c.EAGAIN);
    } finally {
      closeAll(a, b, d1, d2, r, w, br, bw);
    }
  });

  it.skipIf(!linux)("sets CLOEXEC on every fd it creates, so child processes inherit none", () => {
    const { fd: listener, port } = listenTcp();
    const client = lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, true);
    lowlevel.connect(client, c.AF_INET, "127.0.0.1", port);
    waitReady(listener);
    const accepted = lowlevel.accept(listener);
    const second = lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, true);
    lowlevel.connect(second, c.AF_INET, "127.0.0.1", port);
    const fds = [
      second,
      listener,
      client,
      accepted,
      lowlevel.socket(c.AF_INET6, c.SOCK_DGRAM),
      lowlevel.socket(c.AF_UNIX, c.SOCK_STREAM, 0, true),
      ...lowlevel.socketpair(),
      ...lowlevel.pipe(),
      ...lowlevel.pipe(false),
      lowlevel.epoll!.create(),
    ];
    waitReady(listener);
    const pair = lowlevel.acceptAddress(listener, false);
    if (typeof pair === "number") throw lowlevel.errorFromErrno(pair, "accept");
    fds.push(pair[0]);
    const batch = new Int32Array(4);
    const extra = lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, true);
    lowlevel.connect(extra, c.AF_INET, "127.0.0.1", port);
    waitReady(listener);
    expect(lowlevel.acceptBatch(listener, batch)).toBe(1);
    fds.push(batch[0]!, extra);
    try {
      expect(accepted).toBeGreaterThan(0);
      for (const fd of fds) expect(hasCloexec(fd), `fd ${fd}`).toBe(true);
      expect(inheritedByChild(fds)).toEqual([]);
      // Control: an fd passed on purpose is inherited (the check above can fail).
      const [r, w] = lowlevel.pipe();
      const inherited = spawnSync("sh", ["-c", "[ -e /proc/$$/fd/3 ] && echo yes"], {
        stdio: ["ignore", "pipe", "inherit", w],
        encoding: "utf8",
      });
      expect(inherited.stdout.trim()).toBe("yes");
      closeAll(r, w);
    } finally {
      closeAll(...fds);
    }
  });

  it("checks arguments and reports the kernel's refusals", () => {
    expectCode(() => lowlevel.socket(-1, c.SOCK_STREAM), "ERR_OUT_OF_RANGE");
    expectCode(() => lowlevel.socket(c.AF_INET, Number.NaN), "ERR_OUT_OF_RANGE");
    expectCode(() => lowlevel.socket("2" as unknown as number, c.SOCK_STREAM), "ERR_INVALID_ARG_TYPE");
    expectCode(() => lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, 1 as unknown as boolean), "ERR_INVALID_ARG_TYPE");
    expectSystemError(() => lowlevel.socket(200, c.SOCK_STREAM), "EAFNOSUPPORT", "socket");
    expectSystemError(() => lowlevel.socketpair(c.AF_INET, c.SOCK_STREAM), "ENOTSUP", "socketpair");
    expectCode(() => lowlevel.pipe("yes" as unknown as boolean), "ERR_INVALID_ARG_TYPE");
  });
});

describe("bind, listen, accept, connect", () => {
  it("connects non-blocking with -EINPROGRESS, then SO_ERROR is 0 and addresses match (IPv4)", () => {
    const { fd: listener, port } = listenTcp();
    const client = lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, true);
    let server = -1;
    try {
      const r = lowlevel.connect(client, c.AF_INET, "127.0.0.1", port);
      expect([0, -c.EINPROGRESS]).toContain(r);
      waitReady(client, lowlevel.poll.POLLOUT);
      expect(lowlevel.getsockopt(client, c.SOL_SOCKET, c.SO_ERROR)).toBe(0);
      waitReady(listener);
      const pair = lowlevel.acceptAddress(listener);
      if (typeof pair === "number") throw lowlevel.errorFromErrno(pair, "accept");
      server = pair[0];
      expect(lowlevel.getNonBlocking(server)).toBe(true);
      const clientName = lowlevel.getsockname(client);
      expect(pair[1]).toEqual(clientName);
      expect(lowlevel.getpeername(client)).toEqual(["127.0.0.1", port]);
      expect(lowlevel.getsockname(server)).toEqual(["127.0.0.1", port]);
      expect(lowlevel.getpeername(server)).toEqual(clientName);
      // Connected: after the in-progress connect completed, connect reports it once (0), then EISCONN.
      const again = lowlevel.connect(client, c.AF_INET, "127.0.0.1", port);
      expect([0, -c.EISCONN]).toContain(again);
      expect(lowlevel.connect(client, c.AF_INET, "127.0.0.1", port)).toBe(-c.EISCONN);
      // An empty backlog says -EAGAIN.
      expect(lowlevel.accept(listener)).toBe(-c.EAGAIN);
      expect(lowlevel.acceptAddress(listener)).toBe(-c.EAGAIN);
      expect(lowlevel.acceptBatch(listener, new Int32Array(4))).toBe(-c.EAGAIN);
    } finally {
      closeAll(listener, client, server);
    }
  });

  it("acceptInto and getpeernameInto write the peer's address for decodeAddress (IPv4, IPv6, Unix); out is checked before accepting", () => {
    const words = lowlevel.sockaddrOutWords;
    expect(words).toBeGreaterThanOrEqual(2 + 128 / 4);
    const path = unixPath("accept-into");
    const listeners = [listenTcp(c.AF_INET), listenTcp(c.AF_INET6)];
    const unix = lowlevel.socket(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    lowlevel.bind(unix, c.AF_UNIX, path);
    lowlevel.listen(unix, 8);
    const fds = [unix, ...listeners.map((l) => l.fd)];
    try {
      const cases = [
        { listener: listeners[0]!.fd, family: c.AF_INET, host: "127.0.0.1", port: listeners[0]!.port },
        { listener: listeners[1]!.fd, family: c.AF_INET6, host: "::1", port: listeners[1]!.port },
        { listener: unix, family: c.AF_UNIX, host: path, port: undefined },
      ];
      for (const { listener, family, host, port } of cases) {
        const client = lowlevel.socket(family, c.SOCK_STREAM, 0, true);
        fds.push(client);
        const r = family === c.AF_UNIX ? lowlevel.connect(client, family, host) : lowlevel.connect(client, family, host, port, 0, 0);
        expect([0, -c.EINPROGRESS]).toContain(r);
        waitReady(listener);
        // Too small an array (or a wrong value) is refused before the accept: the connection stays queued.
        expectCode(() => lowlevel.acceptInto(listener, new Int32Array(words - 1)), "ERR_OUT_OF_RANGE");
        expectCode(() => lowlevel.acceptInto(listener, new Float64Array(words) as unknown as Int32Array), "ERR_INVALID_ARG_TYPE");
        const out = family === c.AF_INET6 ? new ArrayBuffer(4 * words) : new Int32Array(words);
        const fd = lowlevel.acceptInto(listener, out, false);
        expect(fd).toBeGreaterThan(2);
        fds.push(fd);
        expect(lowlevel.getNonBlocking(fd)).toBe(false);
        const view = new Int32Array(out instanceof ArrayBuffer ? out : out.buffer);
        expect(view[0]).toBe(family);
        const peer = lowlevel.getpeername(fd);
        expect(lowlevel.decodeAddress(out)).toEqual(peer);
        expect(peer).toEqual(family === c.AF_UNIX ? "" : lowlevel.getsockname(client));
        // getpeernameInto writes the same layout, from either end.
        const again = new Int32Array(words);
        expect(lowlevel.getpeernameInto(fd, again)).toBe(0);
        expect(Array.from(again)).toEqual(Array.from(view.subarray(0, words)));
        expect(lowlevel.getpeernameInto(client, again.buffer)).toBe(0);
        expect(lowlevel.decodeAddress(again)).toEqual(lowlevel.getpeername(client));
        expect(lowlevel.acceptInto(listener, out)).toBe(-c.EAGAIN);
      }
      // decodeAddress checks what it reads: its size, and a family and length that fit.
      expectCode(() => lowlevel.decodeAddress(new Int32Array(words - 1)), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.decodeAddress("x" as unknown as Int32Array), "ERR_INVALID_ARG_TYPE");
      const forged = new Int32Array(words);
      forged[0] = c.AF_INET;
      forged[1] = 100_000;
      expectCode(() => lowlevel.decodeAddress(forged), "ERR_INVALID_ARG_VALUE");
      expect(lowlevel.acceptInto(closedFd(), new Int32Array(words))).toBe(-c.EBADF);
      expect(lowlevel.getpeernameInto(closedFd(), new Int32Array(words))).toBe(-c.EBADF);
      expect(lowlevel.getpeernameInto(listeners[0]!.fd, new Int32Array(words))).toBe(-c.ENOTCONN);
      expectCode(() => lowlevel.getpeernameInto(listeners[0]!.fd, new Int32Array(2)), "ERR_OUT_OF_RANGE");
    } finally {
      closeAll(...fds);
      if (existsSync(path)) unlinkSync(path);
    }
  });

  it("works over IPv6 (::1) with 4-tuples, and IPV6_V6ONLY", () => {
    const { fd: listener, port } = listenTcp(c.AF_INET6);
    const client = lowlevel.socket(c.AF_INET6, c.SOCK_STREAM, 0, true);
    let server = -1;
    try {
      expect(lowlevel.getsockname(listener)).toEqual(["::1", port, 0, 0]);
      const r = lowlevel.connect(client, c.AF_INET6, "::1", port, 0, 0);
      expect([0, -c.EINPROGRESS]).toContain(r);
      waitReady(listener);
      const pair = lowlevel.acceptAddress(listener, false);
      if (typeof pair === "number") throw lowlevel.errorFromErrno(pair, "accept");
      server = pair[0];
      expect(lowlevel.getNonBlocking(server)).toBe(false);
      const peer = pair[1];
      expect(Array.isArray(peer) && peer.length === 4 && peer[0] === "::1").toBe(true);
      waitReady(client, lowlevel.poll.POLLOUT);
      expect(lowlevel.getpeername(client)).toEqual(["::1", port, 0, 0]);
      const fresh = lowlevel.socket(c.AF_INET6, c.SOCK_STREAM);
      lowlevel.setsockopt(fresh, c.IPPROTO_IPV6, c.IPV6_V6ONLY, true);
      expect(lowlevel.getsockopt(fresh, c.IPPROTO_IPV6, c.IPV6_V6ONLY)).toBe(1);
      lowlevel.setsockopt(fresh, c.IPPROTO_IPV6, c.IPV6_V6ONLY, false);
      expect(lowlevel.getsockopt(fresh, c.IPPROTO_IPV6, c.IPV6_V6ONLY)).toBe(0);
      lowlevel.close(fresh);
    } finally {
      closeAll(listener, client, server);
    }
  });

  it("binds and connects Unix sockets by path, and (Linux) by abstract name", () => {
    const path = unixPath("bind");
    const listener = lowlevel.socket(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    const client = lowlevel.socket(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    const fds = [listener, client];
    try {
      expect(lowlevel.getsockname(listener)).toBe("");
      lowlevel.bind(listener, c.AF_UNIX, path);
      lowlevel.listen(listener, 8);
      expect(lowlevel.getsockname(listener)).toBe(path);
      expect(lowlevel.connect(client, c.AF_UNIX, path)).toBe(0);
      expect(lowlevel.getpeername(client)).toBe(path);
      waitReady(listener);
      const pair = lowlevel.acceptAddress(listener);
      if (typeof pair === "number") throw lowlevel.errorFromErrno(pair, "accept");
      fds.push(pair[0]);
      expect(pair[1]).toBe("");
      // Binding the same path again fails: it exists.
      const again = lowlevel.socket(c.AF_UNIX, c.SOCK_STREAM);
      fds.push(again);
      expectSystemError(() => lowlevel.bind(again, c.AF_UNIX, path), "EADDRINUSE", "bind");
      expectCode(() => lowlevel.bind(again, c.AF_UNIX, "x".repeat(200)), "ERR_INVALID_ARG_VALUE");
      if (linux) {
        const name = `\0ns-abstract-${process.pid}-${Date.now()}`;
        const abs = lowlevel.socket(c.AF_UNIX, c.SOCK_STREAM, 0, true);
        const absClient = lowlevel.socket(c.AF_UNIX, c.SOCK_STREAM, 0, true);
        fds.push(abs, absClient);
        lowlevel.bind(abs, c.AF_UNIX, name);
        lowlevel.listen(abs);
        expect(lowlevel.getsockname(abs)).toBe(name);
        expect(lowlevel.connect(absClient, c.AF_UNIX, name)).toBe(0);
        expect(lowlevel.getpeername(absClient)).toBe(name);
        waitReady(abs);
        const accepted = lowlevel.accept(abs);
        expect(accepted).toBeGreaterThan(0);
        fds.push(accepted);
      }
      // Connecting to a path nobody listens on.
      const lone = lowlevel.socket(c.AF_UNIX, c.SOCK_STREAM, 0, true);
      fds.push(lone);
      expect(lowlevel.connect(lone, c.AF_UNIX, `${path}.none`)).toBe(-c.ENOENT);
    } finally {
      closeAll(...fds);
      if (existsSync(path)) unlinkSync(path);
    }
  });

  it("acceptBatch drains a backlog of 20 connections into an Int32Array in one call", () => {
    const { fd: listener, port } = listenTcp(c.AF_INET, 64);
    const clients: number[] = [];
    const out = new Int32Array(32).fill(-1);
    let n = 0;
    try {
      for (let i = 0; i < 20; i++) {
        const s = lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, true);
        clients.push(s);
        lowlevel.connect(s, c.AF_INET, "127.0.0.1", port);
      }
      for (const s of clients) waitReady(s, lowlevel.poll.POLLOUT);
      waitReady(listener);
      n = lowlevel.acceptBatch(listener, out);
      expect(n).toBe(20);
      const accepted = Array.from(out.subarray(0, n));
      expect(new Set(accepted).size).toBe(20);
      for (const fd of accepted) expect(lowlevel.getNonBlocking(fd)).toBe(true);
      expect(out[20]).toBe(-1);
      // A full out array stops the batch: connect three more, accept into room for two.
      for (let i = 0; i < 3; i++) {
        const s = lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, true);
        clients.push(s);
        lowlevel.connect(s, c.AF_INET, "127.0.0.1", port);
        waitReady(s, lowlevel.poll.POLLOUT);
      }
      const two = new Int32Array(2);
      expect(lowlevel.acceptBatch(listener, two, false)).toBe(2);
      expect(lowlevel.getNonBlocking(two[0]!)).toBe(false);
      const one = new Int32Array(4);
      expect(lowlevel.acceptBatch(listener, one)).toBe(1);
      clients.push(...two, one[0]!);
      expect(lowlevel.acceptBatch(listener, new Int32Array(0))).toBe(0);
      expectCode(() => lowlevel.acceptBatch(listener, [] as unknown as Int32Array), "ERR_INVALID_ARG_TYPE");
    } finally {
      closeAll(listener, ...clients, ...Array.from(out.subarray(0, Math.max(n, 0))));
    }
  });

  it("resolves 'localhost' for bind and connect; an unresolvable name gives Node's ENOTFOUND", () => {
    const listener = lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, true);
    const client = lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, true);
    let server = -1;
    try {
      lowlevel.bind(listener, c.AF_INET, "localhost", 0);
      lowlevel.listen(listener);
      const address = lowlevel.getsockname(listener) as [string, number];
      expect(address[0]).toBe("127.0.0.1");
      expect([0, -c.EINPROGRESS]).toContain(lowlevel.connect(client, c.AF_INET, "localhost", address[1]));
      waitReady(listener);
      server = lowlevel.accept(listener);
      expect(server).toBeGreaterThan(0);
    } finally {
      closeAll(listener, client, server);
    }
    let thrown: (NodeJS.ErrnoException & { hostname?: string }) | undefined;
    const s = lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, true);
    try {
      lowlevel.connect(s, c.AF_INET, "no-such-host.invalid", 80);
    } catch (error) {
      thrown = error as NodeJS.ErrnoException & { hostname?: string };
    } finally {
      lowlevel.close(s);
    }
    expect(thrown).toBeInstanceOf(Error);
    // As node:dns: code ENOTFOUND (EAI_NONAME or EAI_NODATA), errno libuv's UV_EAI_NONAME/NODATA.
    expect(thrown!.code).toBe("ENOTFOUND");
    expect([-3008, -3007]).toContain(thrown!.errno);
    expect(thrown!.syscall).toBe("getaddrinfo");
    expect(thrown!.hostname).toBe("no-such-host.invalid");
    expect(thrown!.message).toBe("getaddrinfo ENOTFOUND no-such-host.invalid");
    const b = lowlevel.socket(c.AF_INET6, c.SOCK_STREAM);
    try {
      expect(() => lowlevel.bind(b, c.AF_INET6, "no-such-host.invalid", 0)).toThrow(/getaddrinfo/);
    } finally {
      lowlevel.close(b);
    }
  });

  it("reports refused connections, bad addresses and bad arguments", () => {
    const { fd: l, port } = listenTcp();
    lowlevel.close(l);
    const s = lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, false);
    const t = lowlevel.socket(c.AF_INET, c.SOCK_STREAM, 0, true);
    try {
      // A blocking connect to a closed port is refused at once.
      expect(lowlevel.connect(s, c.AF_INET, "127.0.0.1", port)).toBe(-c.ECONNREFUSED);
      expect(lowlevel.connect(closedFd(), c.AF_INET, "127.0.0.1", port)).toBe(-c.EBADF);
      expectCode(() => lowlevel.connect(t, c.AF_INET, "127.0.0.1", 65536), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.connect(t, c.AF_INET, "127.0.0.1", -1), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.connect(t, c.AF_INET, "127.0.0.1"), "ERR_INVALID_ARG_TYPE");
      expectCode(() => lowlevel.connect(t, c.AF_INET, 127 as unknown as string, 80), "ERR_INVALID_ARG_TYPE");
      expectCode(() => lowlevel.connect(t, c.AF_INET, "127.0.0.1\0x", 80), "ERR_INVALID_ARG_VALUE");
      expectCode(() => lowlevel.connect(t, c.AF_INET6, "::1", 80, 1 << 20, 0), "ERR_OUT_OF_RANGE");
      expectSystemError(() => lowlevel.bind(t, c.AF_INET, "192.0.2.1", 0), "EADDRNOTAVAIL", "bind");
      expectSystemError(() => lowlevel.bind(closedFd(), c.AF_INET, "127.0.0.1", 0), "EBADF", "bind");
      expectSystemError(() => lowlevel.bind(t, c.AF_UNSPEC, "127.0.0.1", 0), "EAFNOSUPPORT", "getaddrinfo");
      expectSystemError(() => lowlevel.listen(closedFd()), "EBADF", "listen");
      expectCode(() => lowlevel.listen(t, -1), "ERR_OUT_OF_RANGE");
      expect(lowlevel.accept(t)).toBe(-c.EINVAL);
      expect(lowlevel.accept(closedFd())).toBe(-c.EBADF);
      expectCode(() => lowlevel.accept(t, 0 as unknown as boolean), "ERR_INVALID_ARG_TYPE");
    } finally {
      closeAll(s, t);
    }
  });
});

describe("recvfromAddressInto", () => {
  it("returns the count and writes the sender for decodeAddress (UDP over IPv4 and IPv6, Unix datagrams, a stream)", () => {
    const words = lowlevel.sockaddrOutWords;
    const fds: number[] = [];
    const path = unixPath("recvfrom-into");
    try {
      for (const family of [c.AF_INET, c.AF_INET6, c.AF_UNIX]) {
        const rx = lowlevel.socket(family, c.SOCK_DGRAM, 0, true);
        const tx = lowlevel.socket(family, c.SOCK_DGRAM, 0, true);
        fds.push(rx, tx);
        if (family === c.AF_UNIX) lowlevel.bind(rx, family, path);
        else {
          lowlevel.bind(rx, family, family === c.AF_INET ? "127.0.0.1" : "::1", 0);
          lowlevel.bind(tx, family, family === c.AF_INET ? "127.0.0.1" : "::1", 0);
        }
        const to = lowlevel.getsockname(rx);
        const target = typeof to === "string" ? [to] : to!;
        expect(lowlevel.sendto(tx, Buffer.from("ping"), undefined, undefined, undefined, family, ...(target as [string, number?, number?, number?]))).toBe(4);
        waitReady(rx);
        // A bad out array is refused before the syscall: the datagram stays queued.
        expectCode(() => lowlevel.recvfromAddressInto(rx, Buffer.alloc(16), 0, 16, 0, new Int32Array(words - 1)), "ERR_OUT_OF_RANGE");
        const out = new Int32Array(words);
        const memory = new ArrayBuffer(16);
        // Into an ArrayBuffer (the slab's path) at an offset.
        expect(lowlevel.recvfromAddressInto(rx, memory, 2, 8, undefined, out.buffer)).toBe(4);
        expect(Buffer.from(memory, 2, 4).toString()).toBe("ping");
        if (family === c.AF_UNIX) {
          // An unbound Unix sender has no name: length 0 (recvfrom's null).
          expect(out[1]).toBe(0);
        } else {
          expect(out[0]).toBe(family);
          expect(lowlevel.decodeAddress(out)).toEqual(lowlevel.getsockname(tx));
        }
        expect(lowlevel.recvfromAddressInto(rx, Buffer.alloc(4), undefined, undefined, undefined, out)).toBe(-c.EAGAIN);
      }
      // A connected stream gives no address: length 0.
      const [a, b] = tcpPair();
      fds.push(a, b);
      lowlevel.send(a, Buffer.from("s"));
      waitReady(b);
      const out = new Int32Array(words).fill(7);
      expect(lowlevel.recvfromAddressInto(b, Buffer.alloc(4), 0, 4, 0, out)).toBe(1);
      expect(out[1]).toBe(0);
      expectCode(() => lowlevel.recvfromAddressInto(b, "x" as unknown as Buffer, 0, 4, 0, out), "ERR_INVALID_ARG_TYPE");
      expectCode(() => lowlevel.recvfromAddressInto(b, Buffer.alloc(4), 0, 5, 0, out), "ERR_OUT_OF_RANGE");
      expect(lowlevel.recvfromAddressInto(closedFd(), Buffer.alloc(4), 0, 4, 0, out)).toBe(-c.EBADF);
    } finally {
      closeAll(...fds);
      if (existsSync(path)) unlinkSync(path);
    }
  });
});

describe("recv, send, writev", () => {
  it("moves bytes through (buffer, offset, length) windows", () => {
    const [a, b] = tcpPair();
    try {
      const data = Buffer.from("0123456789");
      expect(lowlevel.send(a, data, 2, 5)).toBe(5);
      expect(lowlevel.send(a, data, 8)).toBe(2);
      expect(lowlevel.send(a, data, 10)).toBe(0);
      waitReady(b);
      const into = Buffer.alloc(12, ".");
      let got = 0;
      while (got < 7) {
        const n = lowlevel.recv(b, into, 1 + got, 11 - got);
        if (n === -c.EAGAIN) {
          waitReady(b);
          continue;
        }
        expect(n).toBeGreaterThan(0);
        got += n;
      }
      expect(into.toString()).toBe(".2345689....");
      expect(lowlevel.recv(b, into)).toBe(-c.EAGAIN);
      // MSG_PEEK leaves the bytes in place.
      lowlevel.send(a, Buffer.from("peek"));
      waitReady(b);
      const peek = Buffer.alloc(4);
      expect(lowlevel.recv(b, peek, 0, 4, c.MSG_PEEK)).toBe(4);
      expect(lowlevel.recv(b, into, 0, 4)).toBe(4);
      expect(into.subarray(0, 4).toString()).toBe("peek");
      // End of stream: 0.
      lowlevel.shutdown(a, c.SHUT_WR);
      waitReady(b);
      expect(lowlevel.recv(b, into)).toBe(0);
    } finally {
      closeAll(a, b);
    }
  });

  it("accepts Uint8Array, DataView and Float64Array views at their byte offsets", () => {
    const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    try {
      const backing = new ArrayBuffer(32);
      const bytes = new Uint8Array(backing);
      bytes.forEach((_, i) => (bytes[i] = i));
      const u8 = new Uint8Array(backing, 4, 8);
      expect(lowlevel.send(a, u8, 2, 3)).toBe(3); // bytes 6, 7, 8
      const dv = new DataView(backing, 16, 8);
      expect(lowlevel.send(a, dv)).toBe(8); // 16..23
      const f64 = new Float64Array(backing, 24, 1);
      expect(lowlevel.send(a, f64, 4)).toBe(4); // offsets count bytes: 28..31
      const into = new Uint8Array(15);
      expect(lowlevel.recv(b, into)).toBe(15);
      expect(Array.from(into)).toEqual([6, 7, 8, 16, 17, 18, 19, 20, 21, 22, 23, 28, 29, 30, 31]);
      // recv into a DataView window and a Float64Array.
      lowlevel.send(a, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
      const target = new ArrayBuffer(16);
      expect(lowlevel.recv(b, new DataView(target, 4, 4))).toBe(4);
      expect(lowlevel.recv(b, new Float64Array(target, 8, 1), 3)).toBe(5);
      expect(Array.from(new Uint8Array(target))).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 5, 6, 7, 8, 9]);
    } finally {
      closeAll(a, b);
    }
  });

  it("recvArrayBuffer reads into a window of an ArrayBuffer itself, with recv's checks", () => {
    const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    try {
      const memory = new ArrayBuffer(16);
      const bytes = new Uint8Array(memory).fill(0x2e);
      lowlevel.send(a, Buffer.from("hello world"));
      waitReady(b);
      expect(lowlevel.recvArrayBuffer(b, memory, 4, 5)).toBe(5);
      expect(Buffer.from(bytes).toString("latin1")).toBe("....hello.......");
      expect(lowlevel.recvArrayBuffer(b, memory, 10)).toBe(6); // no length: to the end
      expect(Buffer.from(bytes).toString("latin1")).toBe("....hello. world");
      expect(lowlevel.recvArrayBuffer(b, memory)).toBe(-c.EAGAIN);
      lowlevel.send(a, Buffer.from("pk"));
      waitReady(b);
      expect(lowlevel.recvArrayBuffer(b, memory, 0, 2, c.MSG_PEEK)).toBe(2);
      expect(lowlevel.recvArrayBuffer(b, memory, 2, 2)).toBe(2);
      expect(Buffer.from(bytes.subarray(0, 4)).toString("latin1")).toBe("pkpk");
      expectCode(() => lowlevel.recvArrayBuffer(b, memory, 17), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.recvArrayBuffer(b, memory, 12, 5), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.recvArrayBuffer(b, memory, 0, 4, -1), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.recvArrayBuffer(-1, memory), "ERR_OUT_OF_RANGE");
      // Views are recv's; a SharedArrayBuffer is not an ArrayBuffer.
      expectCode(() => lowlevel.recvArrayBuffer(b, bytes as unknown as ArrayBuffer), "ERR_INVALID_ARG_TYPE");
      expectCode(() => lowlevel.recvArrayBuffer(b, new SharedArrayBuffer(4) as unknown as ArrayBuffer), "ERR_INVALID_ARG_TYPE");
      expectCode(() => lowlevel.recvArrayBuffer(b, undefined as unknown as ArrayBuffer), "ERR_INVALID_ARG_TYPE");
      // A detached ArrayBuffer is empty: any window past 0 is out of range.
      const gone = new ArrayBuffer(8);
      structuredClone(gone, { transfer: [gone] });
      expectCode(() => lowlevel.recvArrayBuffer(b, gone, 0, 1), "ERR_OUT_OF_RANGE");
      // (A zero-byte recv with nothing queued: 0, or EAGAIN as Linux answers.)
      expect([0, -c.EAGAIN]).toContain(lowlevel.recvArrayBuffer(b, gone));
      lowlevel.shutdown(a, c.SHUT_WR);
      waitReady(b);
      expect(lowlevel.recvArrayBuffer(b, memory)).toBe(0);
    } finally {
      closeAll(a, b);
    }
  });

  it("checks offset and length against the buffer's bounds (ERR_OUT_OF_RANGE)", () => {
    const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    try {
      const buf = Buffer.alloc(8);
      expectCode(() => lowlevel.send(a, buf, 9), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.send(a, buf, 4, 5), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.send(a, buf, -1), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.send(a, buf, 0.5), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.send(a, buf, 0, Infinity), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.recv(a, buf, 8, 1), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.recv(a, buf, 0, 2 ** 53), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.recv(a, new Uint16Array(2), 0, 5), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.recv(a, buf, 0, 8, -1), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.send(a, "text" as unknown as Buffer), "ERR_INVALID_ARG_TYPE");
      expectCode(() => lowlevel.send(a, new ArrayBuffer(4) as unknown as Buffer), "ERR_INVALID_ARG_TYPE");
      expectCode(() => lowlevel.recv(a, null as unknown as Buffer), "ERR_INVALID_ARG_TYPE");
      expect(lowlevel.send(a, buf, 8)).toBe(0);
      expect(lowlevel.send(closedFd(), buf)).toBe(-c.EBADF);
      expect(lowlevel.recv(closedFd(), buf)).toBe(-c.EBADF);
    } finally {
      closeAll(a, b);
    }
  });

  it("treats a detached ArrayBuffer as empty", () => {
    const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    try {
      const ab = new ArrayBuffer(16);
      const view = new Uint8Array(ab, 4, 8);
      const dv = new DataView(ab);
      structuredClone(ab, { transfer: [ab] });
      expect(ab.byteLength).toBe(0);
      expect(lowlevel.send(a, view)).toBe(0);
      expect(lowlevel.send(a, dv)).toBe(0);
      expectCode(() => lowlevel.send(a, view, 0, 1), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.recv(b, view, 1), "ERR_OUT_OF_RANGE");
      expect(lowlevel.writev(a, [view, dv, Buffer.from("ok")])).toBe(2);
      const into = Buffer.alloc(4);
      expect(lowlevel.recv(b, into)).toBe(2);
    } finally {
      closeAll(a, b);
    }
  });

  it("writev gathers many views into one write", () => {
    const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    try {
      const parts = [Buffer.from("ab"), new Uint8Array([99, 100]), new DataView(new Uint8Array([101, 102, 103]).buffer, 1, 2)];
      expect(lowlevel.writev(a, parts)).toBe(6);
      expect(lowlevel.writev(a, [])).toBe(0);
      const many = Array.from({ length: 100 }, (_, i) => Buffer.from([i]));
      expect(lowlevel.writev(a, many)).toBe(100);
      const into = Buffer.alloc(200);
      expect(lowlevel.recv(b, into)).toBe(106);
      expect(into.subarray(0, 6).toString()).toBe("abcdfg");
      expect(into[6 + 99]).toBe(99);
      expectCode(() => lowlevel.writev(a, Buffer.from("x") as unknown as Buffer[]), "ERR_INVALID_ARG_TYPE");
      expectCode(() => lowlevel.writev(a, [Buffer.from("x"), "y" as unknown as Buffer]), "ERR_INVALID_ARG_TYPE");
      expectCode(
        () =>
          lowlevel.writev(
            a,
            Array.from({ length: 1025 }, () => Buffer.alloc(1)),
          ),
        "ERR_OUT_OF_RANGE",
      );
      expect(lowlevel.writev(closedFd(), [Buffer.from("x")])).toBe(-c.EBADF);
    } finally {
      closeAll(a, b);
    }
  });

  it("gives -EPIPE (never SIGPIPE) when the peer is gone", () => {
    const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    const [x, y] = tcpPair();
    try {
      lowlevel.close(b);
      expect(lowlevel.send(a, Buffer.from("x"))).toBe(-c.EPIPE);
      expect(lowlevel.writev(a, [Buffer.from("x")])).toBe(-c.EPIPE);
      lowlevel.close(y);
      waitReady(x);
      // TCP: the first write may still be accepted; then the reset arrives and writes fail.
      const results: number[] = [];
      for (let i = 0; i < 50 && !results.some((r) => r < 0); i++) {
        results.push(lowlevel.send(x, Buffer.alloc(1024)));
        lowlevel.waitFd(x, lowlevel.poll.POLLIN, 10);
      }
      expect([-c.EPIPE, -c.ECONNRESET]).toContain(results.find((r) => r < 0));
      // A pipe with no reader: the process is still alive to check the result.
      const [r, w] = lowlevel.pipe();
      lowlevel.close(r);
      expect(lowlevel.writev(w, [Buffer.from("x")])).toBe(-c.ENOTSOCK);
      lowlevel.close(w);
    } finally {
      closeAll(a, b, x, y);
    }
    // A child with the default SIGPIPE disposition survives a send to a closed peer too.
    const script = `const n = require(${JSON.stringify(addonPath())});
      process.on("SIGPIPE", () => {}); process.removeAllListeners("SIGPIPE");
      const [a, b] = n.socketpair(); n.close(b);
      const r = n.send(a, Buffer.from("x"));
      process.stdout.write(String(r));`;
    const child = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    expect(child.signal).toBeNull();
    expect(child.stdout).toBe(String(-c.EPIPE));
  });
});

describe("shutdown, close, options, flags, waitFd, errors", () => {
  it("shutdown half-closes; it reports ENOTCONN and ENOTSOCK", () => {
    const [a, b] = tcpPair();
    const lone = lowlevel.socket(c.AF_INET, c.SOCK_STREAM);
    const [r, w] = lowlevel.pipe();
    try {
      lowlevel.shutdown(a, c.SHUT_WR);
      waitReady(b);
      expect(lowlevel.recv(b, Buffer.alloc(4))).toBe(0);
      expect(lowlevel.send(b, Buffer.from("still"))).toBe(5);
      waitReady(a);
      expect(lowlevel.recv(a, Buffer.alloc(8))).toBe(5);
      lowlevel.shutdown(b, c.SHUT_RDWR);
      expectSystemError(() => lowlevel.shutdown(lone, c.SHUT_RD), "ENOTCONN", "shutdown");
      expectSystemError(() => lowlevel.shutdown(r, c.SHUT_RD), "ENOTSOCK", "shutdown");
      expectCode(() => lowlevel.shutdown(a, 3), "ERR_OUT_OF_RANGE");
    } finally {
      closeAll(a, b, lone, r, w);
    }
  });

  it("close throws a Node-shaped EBADF for an fd that is not open", () => {
    const [a, b] = lowlevel.socketpair();
    lowlevel.close(a);
    lowlevel.close(b);
    let error: NodeJS.ErrnoException | undefined;
    try {
      lowlevel.close(a);
    } catch (e) {
      error = e as NodeJS.ErrnoException;
    }
    expect(error).toBeInstanceOf(Error);
    expect({ code: error!.code, errno: error!.errno, syscall: error!.syscall, message: error!.message }).toEqual({
      code: "EBADF",
      errno: -c.EBADF,
      syscall: "close",
      message: "EBADF: bad file descriptor, close",
    });
    expectCode(() => lowlevel.close(-1), "ERR_OUT_OF_RANGE");
    expectCode(() => lowlevel.close(2 ** 31), "ERR_OUT_OF_RANGE");
    expectCode(() => lowlevel.close(undefined as unknown as number), "ERR_INVALID_ARG_TYPE");
  });

  it("sets and gets integer socket options (numbers and booleans)", () => {
    const [a, b] = tcpPair();
    const udp = lowlevel.socket(c.AF_INET, c.SOCK_DGRAM);
    const [r, w] = lowlevel.pipe();
    try {
      lowlevel.setsockopt(a, c.IPPROTO_TCP, c.TCP_NODELAY, true);
      expect(lowlevel.getsockopt(a, c.IPPROTO_TCP, c.TCP_NODELAY)).toBe(1);
      lowlevel.setsockopt(a, c.IPPROTO_TCP, c.TCP_NODELAY, 0);
      expect(lowlevel.getsockopt(a, c.IPPROTO_TCP, c.TCP_NODELAY)).toBe(0);
      lowlevel.setsockopt(a, c.SOL_SOCKET, c.SO_KEEPALIVE, 1);
      expect(lowlevel.getsockopt(a, c.SOL_SOCKET, c.SO_KEEPALIVE)).toBe(1);
      lowlevel.setsockopt(a, c.SOL_SOCKET, c.SO_RCVBUF, 65536);
      expect(lowlevel.getsockopt(a, c.SOL_SOCKET, c.SO_RCVBUF)).toBeGreaterThanOrEqual(65536);
      lowlevel.setsockopt(udp, c.SOL_SOCKET, c.SO_BROADCAST, true);
      expect(lowlevel.getsockopt(udp, c.SOL_SOCKET, c.SO_BROADCAST)).toBe(1);
      if (c.SO_REUSEPORT !== undefined) {
        lowlevel.setsockopt(udp, c.SOL_SOCKET, c.SO_REUSEPORT, true);
        expect(lowlevel.getsockopt(udp, c.SOL_SOCKET, c.SO_REUSEPORT)).toBe(1);
      }
      expect(lowlevel.getsockopt(b, c.SOL_SOCKET, c.SO_ERROR)).toBe(0);
      expectSystemError(() => lowlevel.setsockopt(a, c.SOL_SOCKET, 99999, 1), "ENOPROTOOPT", "setsockopt");
      expectSystemError(() => lowlevel.getsockopt(a, 99999, 1), "ENOTSUP", "getsockopt");
      expectSystemError(() => lowlevel.getsockopt(r, c.SOL_SOCKET, c.SO_TYPE), "ENOTSOCK", "getsockopt");
      expectSystemError(() => lowlevel.setsockopt(closedFd(), c.SOL_SOCKET, c.SO_KEEPALIVE, 1), "EBADF", "setsockopt");
      expectCode(() => lowlevel.setsockopt(a, c.SOL_SOCKET, c.SO_KEEPALIVE, "1" as unknown as number), "ERR_INVALID_ARG_TYPE");
      expectCode(() => lowlevel.setsockopt(a, c.SOL_SOCKET, c.SO_KEEPALIVE, 2 ** 31), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.getsockopt(a, -1, 1), "ERR_OUT_OF_RANGE");
    } finally {
      closeAll(a, b, udp, r, w);
    }
  });

  it("getsockname/getpeername report errors for what has no address", () => {
    const s = lowlevel.socket(c.AF_INET, c.SOCK_STREAM);
    const [r, w] = lowlevel.pipe();
    try {
      expect(lowlevel.getsockname(s)).toEqual(["0.0.0.0", 0]);
      expectSystemError(() => lowlevel.getpeername(s), "ENOTCONN", "getpeername");
      expectSystemError(() => lowlevel.getsockname(r), "ENOTSOCK", "getsockname");
      expectSystemError(() => lowlevel.getsockname(closedFd()), "EBADF", "getsockname");
    } finally {
      closeAll(s, r, w);
    }
  });

  it("setNonBlocking/getNonBlocking and isOpen follow the fd", () => {
    const [a, b] = lowlevel.socketpair();
    expect(lowlevel.getNonBlocking(a)).toBe(false);
    lowlevel.setNonBlocking(a, true);
    expect(lowlevel.getNonBlocking(a)).toBe(true);
    expect(lowlevel.recv(a, Buffer.alloc(1))).toBe(-c.EAGAIN);
    lowlevel.setNonBlocking(a, true);
    lowlevel.setNonBlocking(a, false);
    expect(lowlevel.getNonBlocking(a)).toBe(false);
    expect(lowlevel.isOpen(a)).toBe(true);
    closeAll(a, b);
    expect(lowlevel.isOpen(a)).toBe(false);
    expect(lowlevel.isOpen(2 ** 31 - 1)).toBe(false);
    expectSystemError(() => lowlevel.setNonBlocking(a, true), "EBADF", "ioctl");
    expectSystemError(() => lowlevel.getNonBlocking(a), "EBADF", "fcntl");
    expectCode(() => lowlevel.setNonBlocking(a, 1 as unknown as boolean), "ERR_INVALID_ARG_TYPE");
    expectCode(() => lowlevel.isOpen(-5), "ERR_OUT_OF_RANGE");
  });

  it("waitFd polls one fd: revents, 0 on timeout, POLLNVAL for a closed fd", () => {
    const [a, b] = lowlevel.socketpair();
    try {
      const { POLLIN, POLLOUT, POLLNVAL } = lowlevel.poll;
      expect(lowlevel.waitFd(a, POLLIN, 0)).toBe(0);
      const t = performance.now();
      expect(lowlevel.waitFd(a, POLLIN, 60)).toBe(0);
      expect(performance.now() - t).toBeGreaterThanOrEqual(55);
      expect(lowlevel.waitFd(a, POLLOUT, -1)).toBe(POLLOUT);
      lowlevel.send(b, Buffer.from("x"));
      expect(lowlevel.waitFd(a, POLLIN | POLLOUT, 1000)).toBe(POLLIN | POLLOUT);
      expect(lowlevel.waitFd(closedFd(), POLLIN, 0)).toBe(POLLNVAL);
      expectCode(() => lowlevel.waitFd(a, 0x8000, 0), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.waitFd(a, POLLIN, Number.NaN), "ERR_OUT_OF_RANGE");
    } finally {
      closeAll(a, b);
    }
  });

  it("errorFromErrno builds Node-shaped errors from either sign", () => {
    const e = lowlevel.errorFromErrno(-c.ECONNRESET, "recv");
    expect(e).toBeInstanceOf(Error);
    expect([e.code, e.errno, e.syscall, e.message]).toEqual(["ECONNRESET", -c.ECONNRESET, "recv", "ECONNRESET: connection reset by peer, recv"]);
    const p = lowlevel.errorFromErrno(c.EAGAIN, "send");
    expect([p.code, p.errno]).toEqual(["EAGAIN", -c.EAGAIN]);
    const unknown = lowlevel.errorFromErrno(-4000, "x");
    expect(unknown.code).toBe("UNKNOWN");
    expect(unknown.errno).toBe(-4000);
    expectCode(() => lowlevel.errorFromErrno(5000, "x"), "ERR_OUT_OF_RANGE");
    expectCode(() => lowlevel.errorFromErrno(1, 2 as unknown as string), "ERR_INVALID_ARG_TYPE");
    // Its codes agree with Node's own system errors.
    let nodeError: NodeJS.ErrnoException | undefined;
    try {
      closeSync(closedFd());
    } catch (error) {
      nodeError = error as NodeJS.ErrnoException;
    }
    const ours = lowlevel.errorFromErrno(-c.EBADF, "close");
    expect([ours.code, ours.errno, ours.syscall]).toEqual([nodeError!.code, nodeError!.errno, nodeError!.syscall]);
  });

  it("exports the documented constants", () => {
    for (const name of ["AF_INET", "AF_INET6", "AF_UNIX", "SOCK_STREAM", "SOCK_DGRAM", "SOL_SOCKET", "SO_ERROR", "EAGAIN", "EINPROGRESS", "EPIPE"] as const) {
      expect(typeof c[name]).toBe("number");
    }
    if (linux) {
      expect([c.AF_INET, c.AF_INET6, c.AF_UNIX, c.SOCK_STREAM, c.SOCK_DGRAM, c.SOL_SOCKET]).toEqual([2, 10, 1, 1, 2, 1]);
      expect([c.EAGAIN, c.EBADF, c.EPIPE, c.EINPROGRESS, c.ECONNREFUSED]).toEqual([11, 9, 32, 115, 111]);
    }
  });
});
