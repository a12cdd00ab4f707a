// test/socket-details.test.ts — Python's socket details on the public API, on real loopback and
// Unix sockets: wrapping an fd (family, type and proto read from it, explicit ones winning,
// ENOTSOCK for a pipe), name-lookup errors shaped like node:dns's, `address`/`port` on connect
// errors like node:net's, setblocking's argument check, the util.inspect view, getaddrinfo,
// gethostname, createConnection, createServer, setdefaulttimeout, dup, sendfile, the MSG_*
// constants (MSG_TRUNC returning no stale bytes), and node:net / node:dgram sockets named as such
// in argument errors. No fd is left open by the file.
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { closeSync, openSync, readSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { connect as netConnect, Socket as NetSocket } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { getSystemErrorName, inspect } from "node:util";

import { afterEach, describe, expect, it } from "vitest";

import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  AI_CANONNAME,
  AI_NUMERICHOST,
  AI_PASSIVE,
  DefaultSelector,
  EVENT_READ,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV6_V6ONLY,
  MSG_DONTWAIT,
  MSG_PEEK,
  MSG_TRUNC,
  MSG_WAITALL,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_REUSEPORT,
  Socket,
  createConnection,
  createServer,
  getaddrinfo,
  getdefaulttimeout,
  gethostname,
  hasDualstackIpv6,
  lowlevel,
  setdefaulttimeout,
  socketpair,
  type AddressedError,
  type SocketAddress,
} from "../lib/index.js";
import * as api from "../lib/index.js";
import { expectCode, expectFdCount, fileTempDir, thrown } from "./support/expect.js";
import { fdBaseline } from "./support/fds.js";
import { freePort, ipv6Available, portOf, tcpListener, tcpSocketPair } from "./support/net.js";

const E = lowlevel.constants;
/** Linux and FreeBSD report the protocol of a wrapped fd (SO_PROTOCOL); elsewhere it reads 0. */
const HAS_SO_PROTOCOL = E.SO_PROTOCOL !== undefined;

const tmp = fileTempDir("ns-details-");
afterEach(() => {
  setdefaulttimeout(null);
});

/** node:net's own error for a refused connect to host:port. */
function netRefusal(host: string, port: number): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host, port });
    s.on("connect", () => reject(new Error("connected")));
    s.on("error", resolve);
  });
}

// ---------------------------------------------------------------------------------------------
describe("wrapping an fd: family, type and proto from the fd (CPython's socket(fileno=...))", () => {
  it("a Unix socketpair fd reports AF_UNIX / SOCK_STREAM / 0; a Unix datagram and a seqpacket pair their types", () => {
    for (const type of [SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET]) {
      const [a, b] = lowlevel.socketpair(AF_UNIX, type, 0, false);
      using sa = new Socket(undefined, undefined, undefined, a);
      using sb = new Socket(undefined, undefined, undefined, b);
      expect([sa.family, sa.type, sa.proto]).toEqual([AF_UNIX, type, 0]);
      expect([sb.family, sb.type, sb.proto]).toEqual([AF_UNIX, type, 0]);
      expect(sa.fileno()).toBe(a);
    }
  });

  it("a UDP fd reports SOCK_DGRAM, a TCP fd SOCK_STREAM, with the protocol where the kernel has SO_PROTOCOL", () => {
    using udp = new Socket(undefined, undefined, undefined, lowlevel.socket(AF_INET, SOCK_DGRAM, 0, false));
    expect([udp.family, udp.type, udp.proto]).toEqual([AF_INET, SOCK_DGRAM, HAS_SO_PROTOCOL ? IPPROTO_UDP : 0]);
    using tcp = new Socket(undefined, undefined, undefined, lowlevel.socket(AF_INET, SOCK_STREAM, 0, false));
    expect([tcp.family, tcp.type, tcp.proto]).toEqual([AF_INET, SOCK_STREAM, HAS_SO_PROTOCOL ? IPPROTO_TCP : 0]);
    // The wrapped UDP socket works as one: a datagram to itself.
    udp.bind(["127.0.0.1", 0]);
    udp.sendto("ping", udp.getsockname());
    expect(udp.recvfrom(10)[0].toString()).toBe("ping");
  });

  it("an AF_INET6 fd reports AF_INET6", () => {
    if (!ipv6Available()) {
      // No IPv6 here: making the socket is refused, and nothing is wrapped.
      expectCode(() => lowlevel.socket(AF_INET6, SOCK_STREAM), "EAFNOSUPPORT");
      return;
    }
    using s = new Socket(undefined, undefined, undefined, lowlevel.socket(AF_INET6, SOCK_STREAM, 0, false));
    expect([s.family, s.type]).toEqual([AF_INET6, SOCK_STREAM]);
    s.bind(["::1", 0]);
    expect((s.getsockname() as unknown[]).length).toBe(4);
  });

  it("explicit arguments win over what the fd says, as in CPython; the others are still read", () => {
    const [a, b] = lowlevel.socketpair(AF_UNIX, SOCK_DGRAM, 0, false);
    using sa = new Socket(AF_INET, SOCK_STREAM, 6, a);
    expect([sa.family, sa.type, sa.proto]).toEqual([AF_INET, SOCK_STREAM, 6]);
    using sb = new Socket(undefined, SOCK_STREAM, undefined, b);
    expect([sb.family, sb.type, sb.proto]).toEqual([AF_UNIX, SOCK_STREAM, 0]);
  });

  it("a family this module has no address format for is kept (AF_NETLINK on Linux); address calls then say so", () => {
    if (process.platform !== "linux") return;
    const AF_NETLINK = 16;
    using s = new Socket(undefined, undefined, undefined, lowlevel.socket(AF_NETLINK, SOCK_RAW, 0, false));
    expect([s.family, s.type]).toEqual([AF_NETLINK, SOCK_RAW]);
    expectCode(() => s.bind(["", 0]), "ERR_UNKNOWN_ADDRESS_FAMILY");
    expect(inspect(s)).toMatch(/^<Socket fd=\d+, family=16, type=SOCK_RAW, proto=0>$/);
  });

  it("a pipe or a regular file is refused with ENOTSOCK (syscall getsockopt), a closed fd with EBADF; the fd stays the caller's", () => {
    const [r, w] = lowlevel.pipe(false);
    const file = openSync(join(tmp(), "not-a-socket"), "w+");
    try {
      for (const fd of [r, w, file]) {
        const error = expectCode(() => new Socket(undefined, undefined, undefined, fd), "ENOTSOCK");
        expect(error.syscall).toBe("getsockopt");
        expect(error.errno).toBe(-E.ENOTSOCK);
        expect(error.message).toBe("ENOTSOCK: socket operation on non-socket, getsockopt");
        // Explicit arguments do not skip the check (CPython validates the fd too).
        expectCode(() => new Socket(AF_INET, SOCK_STREAM, 0, fd), "ENOTSOCK");
        expect(lowlevel.isOpen(fd)).toBe(true);
      }
    } finally {
      lowlevel.close(r);
      lowlevel.close(w);
      closeSync(file);
    }
    const closed = lowlevel.socket(AF_INET, SOCK_STREAM);
    lowlevel.close(closed);
    expect(expectCode(() => new Socket(undefined, undefined, undefined, closed), "EBADF").syscall).toBe("getsockopt");
  });

  it("bad arguments are checked before the fd is looked at", () => {
    const fd = lowlevel.socket(AF_INET, SOCK_STREAM);
    try {
      expectCode(() => new Socket(99, undefined, undefined, fd), "ERR_INVALID_ARG_VALUE");
      expectCode(() => new Socket(undefined, -1, undefined, fd), "ERR_OUT_OF_RANGE");
      expectCode(() => new Socket(undefined, undefined, "6" as unknown as number, fd), "ERR_INVALID_ARG_TYPE");
      expectCode(() => new Socket(undefined, undefined, undefined, -1), "ERR_OUT_OF_RANGE");
      expectCode(() => new Socket(undefined, undefined, undefined, 1.5), "ERR_OUT_OF_RANGE");
      expect(lowlevel.isOpen(fd)).toBe(true);
    } finally {
      lowlevel.close(fd);
    }
  });

  it("the wrapped fd keeps its blocking mode", () => {
    using nonblocking = new Socket(undefined, undefined, undefined, lowlevel.socket(AF_INET, SOCK_STREAM, 0, true));
    expect(nonblocking.gettimeout()).toBe(0);
    using blocking = new Socket(undefined, undefined, undefined, lowlevel.socket(AF_INET, SOCK_STREAM, 0, false));
    expect(blocking.gettimeout()).toBeNull();
  });

  it("accept() and socketpair() wrap with the values they know (no detection: proto stays the listener's 0)", () => {
    const l = tcpListener({ blocking: true });
    const port = portOf(l);
    using server = l;
    using client = new Socket();
    client.connect(["127.0.0.1", port]);
    const [conn] = server.accept();
    using c = conn;
    expect([c.family, c.type, c.proto]).toEqual([AF_INET, SOCK_STREAM, 0]);
    const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM);
    using pa = a;
    using pb = b;
    expect([pa.family, pa.type, pb.type]).toEqual([AF_UNIX, SOCK_DGRAM, SOCK_DGRAM]);
  });
});

// ---------------------------------------------------------------------------------------------
describe("IPv4 addresses", () => {
  it("come back in dotted decimal as inet_ntop writes them, for one-, two- and three-digit parts", () => {
    // All of 127/8 is loopback on Linux; elsewhere only 127.0.0.1 may be bound.
    const hosts = process.platform === "linux" ? ["127.0.0.1", "127.10.200.3", "127.255.255.254", "127.0.99.100", "127.1.0.9"] : ["127.0.0.1"];
    for (const host of [...hosts, "0.0.0.0"]) {
      using udp = new Socket(AF_INET, SOCK_DGRAM);
      udp.bind([host, 0]);
      const [got, port] = udp.getsockname();
      expect(got).toBe(host);
      expect(port).toBeGreaterThan(0);
    }
  });

  it("accept() returns each peer's own address and port, also when peers alternate (lib/sockio.ts reads IPv4 itself)", () => {
    const hosts = process.platform === "linux" ? ["127.0.0.1", "127.10.200.3", "127.10.200.3", "127.0.0.1", "127.255.255.254"] : ["127.0.0.1", "127.0.0.1"];
    using server = tcpListener({ blocking: true });
    const port = portOf(server);
    for (const host of hosts) {
      using client = new Socket();
      client.bind([host, 0]);
      client.connect(["127.0.0.1", port]);
      const [conn, address] = server.accept();
      using accepted = conn;
      expect(address).toEqual(client.getsockname());
      expect(address).toEqual(accepted.getpeername());
      expect(address[0]).toBe(host);
      // Ports above 255 use both bytes, in network order.
      expect(address[1]).toBeGreaterThan(255);
    }
  });
});

describe("name-lookup errors shaped like node:dns's", () => {
  it("a name that does not resolve: code ENOTFOUND, errno libuv's EAI_NONAME, message and hostname as Node's", () => {
    // AI_NUMERICHOST: the resolver answers without asking DNS.
    const error = expectCode(() => getaddrinfo("not a number", 80, 0, 0, 0, AI_NUMERICHOST), "ENOTFOUND") as NodeJS.ErrnoException & { hostname?: string };
    expect(getSystemErrorName(error.errno!)).toBe("EAI_NONAME");
    expect(error.errno).not.toBe(-E.ENOENT);
    expect(error.message).toBe("getaddrinfo ENOTFOUND not a number");
    expect(error.syscall).toBe("getaddrinfo");
    expect(error.hostname).toBe("not a number");
    // The same own properties as a node:dns lookup error has.
    expect(Object.keys(error).sort()).toEqual(["code", "errno", "hostname", "syscall"]);
  });

  it("other resolver failures keep libuv's EAI_* code, with errno the matching UV_EAI_* number", () => {
    const cases: Array<[unknown[], string]> = [
      [["127.0.0.1", "no-such-service-here"], "EAI_SERVICE"],
      [["127.0.0.1", 80, 12345], "EAI_FAMILY"],
      [["127.0.0.1", 80, 0, 0, 0, 0x40000000], "EAI_BADFLAGS"],
    ];
    for (const [args, code] of cases) {
      const error = expectCode(() => (getaddrinfo as (...a: unknown[]) => unknown)(...args), code);
      expect(getSystemErrorName(error.errno!)).toBe(code);
      expect(error.message).toBe(`getaddrinfo ${code} 127.0.0.1`);
      expect(error.syscall).toBe("getaddrinfo");
    }
    // No host: no hostname property, and none in the message (as Node's DNSException).
    const noHost = expectCode(() => getaddrinfo(null, null), "ENOTFOUND") as NodeJS.ErrnoException & { hostname?: string };
    expect(noHost.message).toBe("getaddrinfo ENOTFOUND");
    expect("hostname" in noHost).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
describe("connect errors carry address and port, as node:net's and loop.sockConnect's", () => {
  it("a refused blocking connect: the same code, errno, syscall, address and port as node:net's error", async () => {
    const port = freePort();
    using s = new Socket();
    const error = expectCode(() => s.connect(["127.0.0.1", port]), "ECONNREFUSED") as AddressedError;
    const net = await netRefusal("127.0.0.1", port);
    for (const key of ["code", "errno", "syscall", "address", "port"] as const) expect(error[key], key).toBe((net as AddressedError)[key]);
    expect(Object.keys(error).sort()).toEqual(Object.keys(net).sort());
    expect(error.message).toBe(`ECONNREFUSED: connection refused, connect 127.0.0.1:${port}`);
  });

  it("IPv6 and Unix paths too (a path has no port); a non-blocking connect's EINPROGRESS says where it goes", () => {
    if (ipv6Available()) {
      const port = freePort("::1", AF_INET6);
      using s6 = new Socket(AF_INET6);
      expect(thrown(() => s6.connect(["::1", port]))).toMatchObject({ code: "ECONNREFUSED", address: "::1", port });
    }
    const path = join(tmp(), "nobody-listens");
    using su = new Socket(AF_UNIX);
    const unix = thrown(() => su.connect(path)) as AddressedError;
    expect(unix).toMatchObject({ code: "ENOENT", syscall: "connect", address: path });
    expect("port" in unix).toBe(false);
    expect(unix.message).toBe(`ENOENT: no such file or directory, connect ${path}`);
    const l = tcpListener({ blocking: true });
    const port = portOf(l);
    using server = l;
    using nb = new Socket();
    nb.setblocking(false);
    const pending = thrown(() => nb.connect(["127.0.0.1", port]));
    expect(pending).toMatchObject({ code: "EINPROGRESS", address: "127.0.0.1", port });
    // A control-flow error (no stack frames) keeps message non-enumerable, and its stack line says where.
    expect(Object.keys(pending).sort()).toEqual(["address", "code", "errno", "port", "syscall"]);
    expect(pending.stack).toBe(`Error: ${pending.message}`);
    expect(pending.message).toMatch(new RegExp(`^EINPROGRESS: .+, connect 127\\.0\\.0\\.1:${port}$`));
    // connectEx still returns the bare errno.
    using other = new Socket();
    expect(other.connectEx(["127.0.0.1", freePort()])).toBe(E.ECONNREFUSED);
  });
});

// ---------------------------------------------------------------------------------------------
describe("setblocking checks its argument", () => {
  it("takes a boolean, 0 or 1; anything else is ERR_INVALID_ARG_TYPE and changes nothing", () => {
    using s = new Socket();
    for (const bad of ["true", null, undefined, 2, -1, 0.5, {}, [], Symbol("x")]) {
      expectCode(() => s.setblocking(bad as unknown as boolean), "ERR_INVALID_ARG_TYPE");
      expect(s.gettimeout()).toBeNull();
    }
    s.setblocking(0 as unknown as boolean);
    expect([s.getblocking(), s.gettimeout(), lowlevel.getNonBlocking(s.fileno())]).toEqual([false, 0, true]);
    s.setblocking(1 as unknown as boolean);
    expect([s.getblocking(), s.gettimeout(), lowlevel.getNonBlocking(s.fileno())]).toEqual([true, null, false]);
    s.setblocking(false);
    expect(s.getblocking()).toBe(false);
    s.setblocking(true);
    expect(s.getblocking()).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
describe("util.inspect shows what CPython's repr shows", () => {
  it("a connected TCP socket: fd, family, type, proto, laddr and raddr", () => {
    const [client, server] = tcpSocketPair();
    using c = client;
    using s = server;
    const [lhost, lport] = c.getsockname() as [string, number];
    const [rhost, rport] = c.getpeername() as [string, number];
    expect(inspect(c)).toBe(`<Socket fd=${c.fileno()}, family=AF_INET, type=SOCK_STREAM, proto=0, laddr=['${lhost}', ${lport}], raddr=['${rhost}', ${rport}]>`);
    expect(`${inspect(s)}`).toContain(`raddr=['127.0.0.1', ${lport}]`);
  });

  it("a listener shows laddr only; an unbound Unix socket neither; a bound one its path; IPv6 the 4-tuple", () => {
    const l = tcpListener({ blocking: true });
    const port = portOf(l);
    using server = l;
    expect(inspect(server)).toBe(`<Socket fd=${server.fileno()}, family=AF_INET, type=SOCK_STREAM, proto=0, laddr=['127.0.0.1', ${port}]>`);
    using unix = new Socket(AF_UNIX, SOCK_DGRAM);
    expect(inspect(unix)).toBe(`<Socket fd=${unix.fileno()}, family=AF_UNIX, type=SOCK_DGRAM, proto=0>`);
    const path = join(tmp(), "it's-bound");
    unix.bind(path);
    expect(inspect(unix)).toBe(`<Socket fd=${unix.fileno()}, family=AF_UNIX, type=SOCK_DGRAM, proto=0, laddr='${path.replace("'", "\\'")}'>`);
    if (ipv6Available()) {
      using six = new Socket(AF_INET6);
      six.bind(["::1", 0]);
      expect(inspect(six)).toMatch(/laddr=\['::1', \d+, 0, 0\]>$/);
    }
  });

  it("[closed] once closed or detached; a subclass shows its own name", () => {
    const s = new Socket(AF_INET, SOCK_DGRAM);
    s.close();
    expect(inspect(s)).toBe("<Socket [closed] fd=-1, family=AF_INET, type=SOCK_DGRAM, proto=0>");
    const d = new Socket();
    const fd = d.detach();
    lowlevel.close(fd);
    expect(inspect(d)).toBe("<Socket [closed] fd=-1, family=AF_INET, type=SOCK_STREAM, proto=0>");
    class Mine extends Socket<number> {}
    using m = new Mine(AF_UNIX);
    expect(inspect(m)).toBe(`<Mine fd=${m.fileno()}, family=AF_UNIX, type=SOCK_STREAM, proto=0>`);
    // console.log goes through the same view.
    expect(inspect({ sock: m })).toContain("<Mine fd=");
  });

  it("never throws: an fd closed behind the Socket's back only loses laddr and raddr", () => {
    const [client, server] = tcpSocketPair();
    using s = server;
    const fd = client.fileno();
    lowlevel.close(fd); // getsockname and getpeername now fail with EBADF
    expect(inspect(client)).toBe(`<Socket fd=${fd}, family=AF_INET, type=SOCK_STREAM, proto=0>`);
    client.detach();
    // Called on something that is not a Socket (the prototype, another object): a plain answer.
    const custom = (Socket.prototype as unknown as Record<symbol, () => string>)[inspect.custom]!;
    expect(custom.call(Socket.prototype)).toBe("Socket {}");
    expect(custom.call({})).toBe("Socket {}");
  });
});

// ---------------------------------------------------------------------------------------------
describe("getaddrinfo and gethostname", () => {
  it("numeric hosts: [family, type, proto, canonname, sockaddr] as Python's", () => {
    expect(getaddrinfo("127.0.0.1", 80, 0, SOCK_STREAM)).toEqual([[AF_INET, SOCK_STREAM, IPPROTO_TCP, "", ["127.0.0.1", 80]]]);
    expect(getaddrinfo("127.0.0.1", "8080", AF_INET, SOCK_DGRAM)).toEqual([[AF_INET, SOCK_DGRAM, IPPROTO_UDP, "", ["127.0.0.1", 8080]]]);
    expect(getaddrinfo("::1", 443, AF_INET6, SOCK_STREAM)).toEqual([[AF_INET6, SOCK_STREAM, IPPROTO_TCP, "", ["::1", 443, 0, 0]]]);
    // No type asked: one entry per socket type the resolver knows, all with the address.
    const all = getaddrinfo("127.0.0.1", 53);
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const entry of all) expect(entry[4]).toEqual(["127.0.0.1", 53]);
    // A service name, from the services database.
    expect(getaddrinfo("127.0.0.1", "http", AF_INET, SOCK_STREAM)[0]![4]).toEqual(["127.0.0.1", 80]);
  });

  it("a null host: loopback addresses, or the any-address with AI_PASSIVE; a null port: port 0", () => {
    const loopback = getaddrinfo(null, 9, 0, SOCK_STREAM).map((e) => e[4]);
    expect(loopback).toContainEqual(["127.0.0.1", 9]);
    const passive = getaddrinfo(null, 9, AF_INET, SOCK_STREAM, 0, AI_PASSIVE);
    expect(passive.map((e) => e[4])).toEqual([["0.0.0.0", 9]]);
    expect(getaddrinfo("127.0.0.1", null, AF_INET, SOCK_STREAM)[0]![4]).toEqual(["127.0.0.1", 0]);
  });

  it("AI_CANONNAME fills canonname of the first entry ('localhost' from /etc/hosts, IPv4 only: no DNS)", () => {
    const [first] = getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM, 0, AI_CANONNAME);
    expect(first![3]).toBe("localhost");
    expect(first![4]).toEqual(["127.0.0.1", 80]);
  });

  it("checks every argument before resolving", () => {
    const call = getaddrinfo as (...a: unknown[]) => unknown;
    expectCode(() => call(5, 80), "ERR_INVALID_ARG_TYPE");
    expectCode(() => call("127.0.0.1", {}), "ERR_INVALID_ARG_TYPE");
    expectCode(() => call("127.0.0.1", 65536), "ERR_OUT_OF_RANGE");
    expectCode(() => call("127.0.0.1", -1), "ERR_OUT_OF_RANGE");
    expectCode(() => call("127.0.0.1", 1.5), "ERR_OUT_OF_RANGE");
    expectCode(() => call("a\0b", 80), "ERR_INVALID_ARG_VALUE");
    expectCode(() => call("127.0.0.1", "8\0"), "ERR_INVALID_ARG_VALUE");
    expectCode(() => call("127.0.0.1", 80, -1), "ERR_OUT_OF_RANGE");
    expectCode(() => call("127.0.0.1", 80, 0, "1"), "ERR_INVALID_ARG_TYPE");
    expectCode(() => call("127.0.0.1", 80, 0, 0, 0.5), "ERR_OUT_OF_RANGE");
    expectCode(() => call("127.0.0.1", 80, 0, 0, 0, NaN), "ERR_OUT_OF_RANGE");
  });

  it("gethostname() is the machine's host name", () => {
    expect(gethostname()).toBe(hostname());
    expect(gethostname().length).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
describe("setdefaulttimeout / getdefaulttimeout", () => {
  it("starts as null; every Socket made afterwards starts with it: created, wrapped, accepted, socketpair()", () => {
    expect(getdefaulttimeout()).toBeNull();
    setdefaulttimeout(1.5);
    expect(getdefaulttimeout()).toBe(1.5);
    using made = new Socket();
    expect([made.gettimeout(), made.getblocking(), lowlevel.getNonBlocking(made.fileno())]).toEqual([1.5, true, true]);
    using wrapped = new Socket(undefined, undefined, undefined, lowlevel.socket(AF_INET, SOCK_STREAM, 0, false));
    expect([wrapped.gettimeout(), lowlevel.getNonBlocking(wrapped.fileno())]).toEqual([1.5, true]);
    const [a, b] = socketpair();
    using pa = a;
    using pb = b;
    expect([pa.gettimeout(), pb.gettimeout(), lowlevel.getNonBlocking(pa.fileno())]).toEqual([1.5, 1.5, true]);
    setdefaulttimeout(null);
    const l = tcpListener({ blocking: true }); // blocking listener, made without a default
    const port = portOf(l);
    using server = l;
    setdefaulttimeout(0.2);
    using client = new Socket();
    client.connect(["127.0.0.1", port]);
    const [conn] = server.accept();
    using accepted = conn;
    expect([accepted.gettimeout(), lowlevel.getNonBlocking(accepted.fileno())]).toEqual([0.2, true]);
    // The accepted socket really is timed: a recv with nothing to read times out.
    const t0 = performance.now();
    expect(expectCode(() => accepted.recv(10), "ETIMEDOUT").syscall).toBe("recv");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(180);
    // Existing sockets keep theirs.
    setdefaulttimeout(0);
    expect(accepted.gettimeout()).toBe(0.2);
    using nonblocking = new Socket(AF_UNIX);
    expect(nonblocking.getblocking()).toBe(false);
    setdefaulttimeout(null);
    using blocking = new Socket();
    expect([blocking.gettimeout(), lowlevel.getNonBlocking(blocking.fileno())]).toEqual([null, false]);
  });

  it("checks its argument as settimeout does", () => {
    for (const bad of [-1, NaN, Infinity]) expectCode(() => setdefaulttimeout(bad), "ERR_OUT_OF_RANGE");
    for (const bad of ["1", {}, true]) expectCode(() => setdefaulttimeout(bad as unknown as number), "ERR_INVALID_ARG_TYPE");
    expect(getdefaulttimeout()).toBeNull();
    setdefaulttimeout(undefined as unknown as null);
    expect(getdefaulttimeout()).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
describe("createConnection (CPython's create_connection)", () => {
  it("connects to each address in the resolver's order and returns a connected blocking Socket; timeout and sourceAddress as asked", () => {
    const l = tcpListener({ blocking: true });
    const port = portOf(l);
    using server = l;
    using c = createConnection(["127.0.0.1", port]);
    expect(c.gettimeout()).toBeNull();
    expect(c.getpeername()).toEqual(["127.0.0.1", port]);
    const [conn] = server.accept();
    using s = conn;
    c.sendall("over");
    expect(s.recv(10).toString()).toBe("over");
    using timed = createConnection(["127.0.0.1", String(port)], 2);
    expect(timed.gettimeout()).toBe(2);
    server.accept()[0].close();
    const source = freePort();
    using sourced = createConnection(["127.0.0.1", port], null, ["127.0.0.1", source]);
    expect(sourced.getsockname()).toEqual(["127.0.0.1", source]);
    server.accept()[0].close();
  });

  it("a failed address is skipped (and its socket closed) for the next one; the last one's family wins", async () => {
    const results = getaddrinfo(null, 1, 0, SOCK_STREAM);
    expect(results.length, "a null host resolves to the loopback of each family").toBeGreaterThanOrEqual(2);
    const last = results[results.length - 1]!;
    const family = last[0];
    const l = tcpListener({ family, blocking: true });
    const port = portOf(l);
    using server = l;
    // Only the last address listens (on a port whose twin on the other family is free).
    const before = await fdBaseline();
    using c = createConnection([null, port]);
    expect(c.family).toBe(family);
    expect((c.getpeername() as SocketAddress)[1]).toBe(port);
    server.accept()[0].close();
    c.close();
    await expectFdCount(before);
  });

  it("when every address fails, the last error is thrown (with address and port), and no socket is left open", async () => {
    const port = freePort();
    const before = await fdBaseline();
    const results = getaddrinfo(null, port, 0, SOCK_STREAM);
    const error = thrown(() => createConnection([null, port])) as AddressedError;
    expect(error.syscall).toBe("connect");
    expect(error.address).toBe((results[results.length - 1]![4] as [string, number])[0]);
    expect(error.port).toBe(port);
    expect(thrown(() => createConnection(["127.0.0.1", port]))).toMatchObject({ code: "ECONNREFUSED", address: "127.0.0.1", port });
    await expectFdCount(before);
  });

  it("argument errors come out at once (a bad source address is not another address to try); resolver errors as getaddrinfo's", async () => {
    const l = tcpListener({ blocking: true });
    const port = portOf(l);
    using server = l;
    const before = await fdBaseline();
    expectCode(() => createConnection(["127.0.0.1", port], null, 5 as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
    expectCode(() => createConnection("127.0.0.1" as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
    expectCode(() => createConnection(["127.0.0.1", port], -1), "ERR_OUT_OF_RANGE");
    expectCode(() => createConnection(["127.0.0.1", "no-such-service-here"]), "EAI_SERVICE");
    await expectFdCount(before);
  });
});

// ---------------------------------------------------------------------------------------------
describe("createServer (CPython's create_server) and hasDualstackIpv6", () => {
  it("a blocking listener with SO_REUSEADDR that accepts", () => {
    using server = createServer(["127.0.0.1", 0]);
    expect(server.getblocking()).toBe(true);
    expect(server.getsockopt(SOL_SOCKET, SO_REUSEADDR)).not.toBe(0);
    const port = (server.getsockname() as [string, number])[1];
    using c = new Socket();
    c.connect(["127.0.0.1", port]);
    const [conn, address] = server.accept();
    conn.close();
    expect(address).toEqual(c.getsockname());
    using withBacklog = createServer(["127.0.0.1", 0], { backlog: 1 });
    expect(withBacklog.fileno()).toBeGreaterThan(0);
  });

  it("EADDRINUSE names the address, as Python's message does, and closes the socket; reusePort shares the port", async () => {
    using first = createServer(["127.0.0.1", 0]);
    const port = (first.getsockname() as [string, number])[1];
    const before = await fdBaseline();
    const error = expectCode(() => createServer(["127.0.0.1", port]), "EADDRINUSE") as AddressedError;
    expect(error.syscall).toBe("bind");
    expect(error.message).toBe(`EADDRINUSE: address already in use, bind (while attempting to bind on address ['127.0.0.1', ${port}])`);
    expect([error.address, error.port]).toEqual(["127.0.0.1", port]);
    await expectFdCount(before);
    if (SO_REUSEPORT === undefined) {
      expectCode(() => createServer(["127.0.0.1", 0], { reusePort: true }), "ERR_INVALID_ARG_VALUE");
      return;
    }
    using a = createServer(["127.0.0.1", 0], { reusePort: true });
    const shared = (a.getsockname() as [string, number])[1];
    using b = createServer(["127.0.0.1", shared], { reusePort: true });
    expect(a.getsockopt(SOL_SOCKET, SO_REUSEPORT)).not.toBe(0);
    expect((b.getsockname() as [string, number])[1]).toBe(shared);
  });

  it("AF_INET6 is IPv6-only unless dualstackIpv6, which then takes IPv4 clients too", () => {
    if (!ipv6Available()) {
      expect(hasDualstackIpv6()).toBe(false);
      expectCode(() => createServer(["::", 0], { family: AF_INET6, dualstackIpv6: true }), "ERR_INVALID_ARG_VALUE");
      return;
    }
    using only6 = createServer(["::1", 0], { family: AF_INET6 });
    expect(only6.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY)).toBe(1);
    expect(hasDualstackIpv6()).toBe(true);
    using dual = createServer(["::", 0], { family: AF_INET6, dualstackIpv6: true });
    expect(dual.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY)).toBe(0);
    const port = (dual.getsockname() as [string, number])[1];
    using v4 = new Socket(AF_INET);
    v4.connect(["127.0.0.1", port]);
    const [conn, address] = dual.accept();
    conn.close();
    expect((address as [string, number])[0]).toBe("::ffff:127.0.0.1");
  });

  it("AF_UNIX paths; bad options are argument errors", () => {
    const path = join(tmp(), "server.sock");
    using unix = createServer(path, { family: AF_UNIX });
    using c = new Socket(AF_UNIX);
    c.connect(path);
    unix.accept()[0].close();
    expectCode(() => createServer(["127.0.0.1", 0], { family: AF_INET, dualstackIpv6: true }), "ERR_INVALID_ARG_VALUE");
    expectCode(() => createServer(["127.0.0.1", 0], { family: 99 }), "ERR_INVALID_ARG_VALUE");
    expectCode(() => createServer(["127.0.0.1", 0], { reusePort: "yes" as unknown as boolean }), "ERR_INVALID_ARG_TYPE");
    expectCode(() => createServer(["127.0.0.1", 0], 5 as unknown as object), "ERR_INVALID_ARG_TYPE");
    expectCode(() => createServer(["127.0.0.1", 0], { backlog: 1.5 }), "ERR_OUT_OF_RANGE");
    expectCode(() => createServer(["127.0.0.1", 70000]), "ERR_OUT_OF_RANGE");
  });
});

// ---------------------------------------------------------------------------------------------
describe("dup", () => {
  it("a new fd on the same socket: same family, type, proto and timeout; either works; closing one leaves the other", () => {
    const [a, b] = socketpair();
    using other = b;
    a.settimeout(3);
    const copy = a.dup();
    expect(copy.fileno()).not.toBe(a.fileno());
    expect([copy.family, copy.type, copy.proto, copy.gettimeout()]).toEqual([a.family, a.type, a.proto, 3]);
    copy.sendall("from the copy");
    expect(other.recv(100).toString()).toBe("from the copy");
    a.close();
    copy.sendall("still");
    expect(other.recv(100).toString()).toBe("still");
    // O_NONBLOCK belongs to the open socket: both fds share it.
    const again = copy.dup();
    copy.setblocking(false);
    expect(lowlevel.getNonBlocking(again.fileno())).toBe(true);
    again.close();
    copy.close();
    expect(other.recv(10).length).toBe(0);
    expectCode(() => copy.dup(), "EBADF");
  });
});

// ---------------------------------------------------------------------------------------------
describe("sendfile", () => {
  /** A file of `size` bytes of a known pattern, open for reading; its path and fd. */
  function patternFile(name: string, size: number): { path: string; fd: number; bytes: Buffer } {
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
    const path = join(tmp(), name);
    writeFileSync(path, bytes);
    return { path, fd: openSync(path, "r"), bytes };
  }

  /** Reads exactly n bytes (blocking). */
  function recvExactly(s: Socket, n: number): Buffer {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const chunk = s.recv(n - got);
      if (chunk.length === 0) break;
      parts.push(chunk);
      got += chunk.length;
    }
    return Buffer.concat(parts);
  }

  it("a whole 3 MB file to a reader in another process: the byte count, and the same bytes", async () => {
    const { fd, bytes } = patternFile("big.bin", 3 * 1024 * 1024 + 123);
    const l = tcpListener({ blocking: true });
    const port = portOf(l);
    using server = l;
    const reader = spawn(
      process.execPath,
      [
        "-e",
        `const h = require("crypto").createHash("sha256"); let n = 0;
         require("net").connect(${port}, "127.0.0.1").on("data", (d) => { n += d.length; h.update(d); }).on("end", () => process.stdout.write(n + " " + h.digest("hex")));`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    reader.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => reader.on("close", () => resolve()));
    try {
      const [conn] = server.accept();
      using c = conn;
      expect(c.sendfile(fd)).toBe(bytes.length);
      c.close();
      await exited;
      const { createHash } = await import("node:crypto");
      expect(out).toBe(`${bytes.length} ${createHash("sha256").update(bytes).digest("hex")}`);
    } finally {
      closeSync(fd);
    }
  });

  it("offset and count: exactly those bytes; past the end, what is left; the file's position is not moved", () => {
    const { fd, bytes } = patternFile("small.bin", 10_000);
    const [a, b] = socketpair();
    using sa = a;
    using sb = b;
    try {
      expect(sa.sendfile(fd, 1000, 5000)).toBe(5000);
      expect(recvExactly(sb, 5000).equals(bytes.subarray(1000, 6000))).toBe(true);
      expect(sa.sendfile(fd, 9000, 5000)).toBe(1000);
      expect(recvExactly(sb, 1000).equals(bytes.subarray(9000))).toBe(true);
      expect(sa.sendfile(fd, 10_000)).toBe(0);
      expect(sa.sendfile(fd, 123_456)).toBe(0);
      expect(sa.sendfile(fd, 9990)).toBe(10);
      expect(recvExactly(sb, 10).equals(bytes.subarray(9990))).toBe(true);
      const head = Buffer.alloc(4);
      expect(readSync(fd, head, 0, 4, null)).toBe(4); // position null: the fd's own position
      expect(head.equals(bytes.subarray(0, 4))).toBe(true);
    } finally {
      closeSync(fd);
    }
    const empty = patternFile("empty.bin", 0);
    try {
      expect(sa.sendfile(empty.fd)).toBe(0);
    } finally {
      closeSync(empty.fd);
    }
  });

  it("a node:fs/promises FileHandle, which stays open; a closed one is EBADF", async () => {
    const { path, fd, bytes } = patternFile("handle.bin", 4096);
    closeSync(fd);
    const handle = await open(path, "r");
    const [a, b] = socketpair();
    using sa = a;
    using sb = b;
    try {
      expect(sa.sendfile(handle, 96)).toBe(4000);
      expect(recvExactly(sb, 4000).equals(bytes.subarray(96))).toBe(true);
      expect((await handle.stat()).size).toBe(4096);
    } finally {
      await handle.close();
    }
    expect(expectCode(() => sa.sendfile(handle), "EBADF").syscall).toBe("sendfile");
  });

  it("refuses non-blocking and non-stream sockets, bad offsets and counts, and what is not a file", () => {
    const { fd } = patternFile("args.bin", 100);
    const [a, b] = socketpair();
    using sa = a;
    using sb = b;
    using udp = new Socket(AF_INET, SOCK_DGRAM);
    try {
      expectCode(() => sa.sendfile("args.bin" as unknown as number), "ERR_INVALID_ARG_TYPE");
      expectCode(() => sa.sendfile({ fd: 3 } as unknown as number), "ERR_INVALID_ARG_TYPE");
      expectCode(() => sa.sendfile(-1), "ERR_OUT_OF_RANGE");
      expectCode(() => sa.sendfile(fd, -1), "ERR_OUT_OF_RANGE");
      expectCode(() => sa.sendfile(fd, 0.5), "ERR_OUT_OF_RANGE");
      expectCode(() => sa.sendfile(fd, 0, 0), "ERR_OUT_OF_RANGE");
      expectCode(() => sa.sendfile(fd, 0, "10" as unknown as number), "ERR_INVALID_ARG_TYPE");
      expectCode(() => udp.sendfile(fd), "ERR_SOCKET_BAD_TYPE");
      sa.setblocking(false);
      expectCode(() => sa.sendfile(fd), "ERR_SOCKET_NONBLOCKING");
      sa.setblocking(true);
      // A pipe or a socket as the file: sendfile(2) refuses it, pread cannot read it.
      const [r, w] = lowlevel.pipe(false);
      try {
        const error = expectCode(() => sa.sendfile(r), "ESPIPE") as NodeJS.ErrnoException & { bytesSent?: number };
        expect([error.syscall, error.bytesSent]).toEqual(["sendfile", 0]);
      } finally {
        lowlevel.close(r);
        lowlevel.close(w);
      }
      expectCode(() => sa.sendfile(sb.fileno()), "ESPIPE");
      sa.close();
      expectCode(() => sa.sendfile(fd), "EBADF");
    } finally {
      closeSync(fd);
    }
  });

  it("a peer that went away: EPIPE (never a SIGPIPE), with bytesSent; a timed socket nobody reads: ETIMEDOUT with bytesSent", () => {
    const { fd, bytes } = patternFile("peer.bin", 2 * 1024 * 1024);
    try {
      const [a, b] = socketpair();
      using sa = a;
      b.close();
      const error = thrown(() => sa.sendfile(fd)) as NodeJS.ErrnoException & { bytesSent?: number };
      expect(["EPIPE", "ECONNRESET"]).toContain(error.code);
      expect(error.bytesSent).toBe(0);
      const [c, d] = socketpair();
      using sc = c;
      using sd = d;
      sc.settimeout(0.2);
      const t0 = performance.now();
      const timeout = expectCode(() => sc.sendfile(fd), "ETIMEDOUT") as NodeJS.ErrnoException & { bytesSent?: number };
      expect(performance.now() - t0).toBeGreaterThanOrEqual(180);
      expect(timeout.syscall).toBe("sendfile");
      expect(timeout.bytesSent).toBeGreaterThan(0);
      expect(timeout.bytesSent).toBeLessThan(bytes.length);
      // What went out is the start of the file.
      expect(recvExactly(sd, timeout.bytesSent!).equals(bytes.subarray(0, timeout.bytesSent))).toBe(true);
    } finally {
      closeSync(fd);
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe("MSG_* constants, exported from the package root", () => {
  it("are the platform's numbers, and work as recv flags", () => {
    for (const name of ["MSG_OOB", "MSG_PEEK", "MSG_DONTROUTE", "MSG_DONTWAIT", "MSG_EOR", "MSG_TRUNC", "MSG_CTRUNC", "MSG_WAITALL"] as const) {
      expect(typeof api[name], name).toBe("number");
      expect(api[name]).toBe(E[name]);
    }
    if (process.platform === "linux") {
      expect([api.MSG_NOSIGNAL, api.MSG_MORE, api.MSG_CONFIRM]).toEqual([0x4000, 0x8000, 0x800]);
      expect([MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, MSG_TRUNC]).toEqual([2, 0x40, 0x100, 0x20]);
    }
    const [a, b] = socketpair();
    using sa = a;
    using sb = b;
    expectCode(() => sb.recv(10, MSG_DONTWAIT), "EAGAIN");
    sa.sendall("peeked");
    expect(sb.recv(100, MSG_PEEK).toString()).toBe("peeked");
    expect(sb.recv(100).toString()).toBe("peeked");
  });

  it("MSG_TRUNC: recv returns only the bytes received, never stale bytes, while recvInto returns the datagram's full length", () => {
    using rx = new Socket(AF_INET, SOCK_DGRAM);
    rx.bind(["127.0.0.1", 0]);
    using tx = new Socket(AF_INET, SOCK_DGRAM);
    tx.bind(["127.0.0.1", 0]);
    // Fill the shared receive buffer with other bytes first.
    const [p, q] = socketpair();
    using sp = p;
    using sq = q;
    sp.sendall(Buffer.alloc(64, 0x58));
    expect(sq.recv(64).length).toBe(64);
    tx.sendto("0123456789", rx.getsockname());
    expect(rx.recv(4, MSG_TRUNC).toString()).toBe("0123");
    tx.sendto("0123456789", rx.getsockname());
    const [data, from] = rx.recvfrom(4, MSG_TRUNC);
    expect([data.toString(), from]).toEqual(["0123", tx.getsockname()]);
    tx.sendto("0123456789", rx.getsockname());
    const into = Buffer.alloc(4);
    expect(rx.recvInto(into, 0, MSG_TRUNC)).toBe(process.platform === "linux" ? 10 : 4);
    expect(into.toString()).toBe("0123");
    if (process.platform === "linux") {
      // TCP on Linux: MSG_TRUNC discards the bytes without writing them; what comes back is zeros.
      const [client, server] = tcpSocketPair();
      using c = client;
      using s = server;
      c.sendall("secret");
      const discarded = s.recv(6, MSG_TRUNC | MSG_WAITALL);
      expect([...discarded]).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe("node:net and node:dgram sockets are named in argument errors", () => {
  it("a selector, the Socket constructor and describe() say node:net / node:dgram, not 'an instance of Socket'", () => {
    const net = new NetSocket();
    const udp = createSocket("udp4");
    try {
      using sel = new DefaultSelector();
      const e1 = expectCode(() => sel.register(net as unknown as number, EVENT_READ), "ERR_INVALID_FD");
      expect(e1.message).toBe("Invalid file object: a node:net Socket has no fileno() (libuv owns its fd); pass a native-selectors Socket or an fd");
      expect(expectCode(() => sel.register(udp as unknown as number, EVENT_READ), "ERR_INVALID_FD").message).toContain("a node:dgram Socket");
      const e2 = expectCode(() => new Socket(undefined, undefined, undefined, net as unknown as number), "ERR_INVALID_ARG_TYPE");
      expect(e2.message).toBe('The "fileno" argument must be an fd number, not a node:net Socket (libuv owns its fd, which it does not expose)');
      // Any other argument check describes it by its module too.
      using s = new Socket();
      expect(expectCode(() => s.sendall(net as unknown as string), "ERR_INVALID_ARG_TYPE").message).toContain("Received an instance of node:net Socket");
    } finally {
      net.destroy();
      udp.close();
    }
  });
});
