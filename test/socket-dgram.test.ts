// test/socket-dgram.test.ts — the Socket's datagram calls (Python's recvfrom, recvfrom_into and
// sendto) on real loopback and Unix sockets: UDP over 127.0.0.1 and ::1, AF_UNIX SOCK_DGRAM with
// bound paths and unbound senders (address null), message boundaries, truncation of a datagram
// longer than the buffer, zero-length datagrams, both sendto overloads, flags (MSG_PEEK), strings
// as UTF-8, host names, recvfrom on a connected TCP socket (address null), EAGAIN, EMSGSIZE, EBADF
// after close, every bad argument, and no fd leaks across the file.
import { rmSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { AF_INET, AF_INET6, AF_UNIX, SHUT_WR, SOCK_DGRAM, SOCK_STREAM, Socket, lowlevel, socketpair } from "../lib/index.js";
import { expectCode, expectSystemError, fileTempDir } from "./support/expect.js";
import { ipv6Available, portOf, udp } from "./support/net.js";

const E = lowlevel.constants;

const tmp = fileTempDir("ns-dgram-");

describe("UDP over IPv4", () => {
  it("sendto(data, address) → count; recvfrom → [Buffer, [host, port]] of the sender", () => {
    using rx = udp();
    using tx = udp();
    expect(tx.sendto(Buffer.from("hello"), ["127.0.0.1", portOf(rx)])).toBe(5);
    const [data, address] = rx.recvfrom(100);
    expect(Buffer.isBuffer(data)).toBe(true);
    expect(data.toString()).toBe("hello");
    expect(address).toEqual(["127.0.0.1", portOf(tx)]);
    expect(address).toEqual(tx.getsockname());
    // And back the other way, to the address recvfrom reported.
    expect(rx.sendto(new Uint8Array([1, 2, 3]), address!)).toBe(3);
    const [back, from] = tx.recvfrom(100);
    expect([...back]).toEqual([1, 2, 3]);
    expect(from).toEqual(rx.getsockname());
  });

  it("recvfrom and recvfromInto report each sender's own address, also when senders alternate", () => {
    using rx = udp();
    const hosts = process.platform === "linux" ? ["127.0.0.1", "127.20.30.40", "127.20.30.40", "127.0.0.1"] : ["127.0.0.1", "127.0.0.1"];
    for (const [i, host] of hosts.entries()) {
      using tx = new Socket(AF_INET, SOCK_DGRAM);
      tx.bind([host, 0]);
      tx.sendto(Buffer.from(`from ${host}`), ["127.0.0.1", portOf(rx)]);
      if (i % 2 === 0) {
        const [data, address] = rx.recvfrom(100);
        expect(data.toString()).toBe(`from ${host}`);
        expect(address).toEqual(tx.getsockname());
      } else {
        const into = Buffer.alloc(100);
        const [n, address] = rx.recvfromInto(into);
        expect(into.subarray(0, n).toString()).toBe(`from ${host}`);
        expect(address).toEqual(tx.getsockname());
      }
    }
  });

  it("strings are sent as UTF-8 and the count is in bytes", () => {
    using rx = udp();
    using tx = new Socket(AF_INET, SOCK_DGRAM);
    const text = "héllo ✓ 😀";
    expect(tx.sendto(text, ["127.0.0.1", portOf(rx)])).toBe(Buffer.byteLength(text, "utf8"));
    const [data, address] = rx.recvfrom(100);
    expect(data.toString("utf8")).toBe(text);
    // An unbound sender was bound by the kernel on its first sendto: the port is its own.
    expect((address as [string, number])[0]).toBe("127.0.0.1");
    expect((address as [string, number])[1]).toBe(portOf(tx));
  });

  it("sendto(data, flags, address): the three-argument overload sends the same datagram", () => {
    using rx = udp();
    using tx = udp();
    expect(tx.sendto("with flags", 0, ["127.0.0.1", portOf(rx)])).toBe(10);
    expect(tx.sendto("dontwait", E.MSG_DONTWAIT, ["127.0.0.1", portOf(rx)])).toBe(8);
    expect(rx.recvfrom(64)).toEqual([Buffer.from("with flags"), tx.getsockname()]);
    expect(rx.recvfrom(64)).toEqual([Buffer.from("dontwait"), tx.getsockname()]);
    // The flags reach sendto(2): Linux's UDP refuses MSG_OOB (1, Python's socket.MSG_OOB) with EOPNOTSUPP, named ENOTSUP there.
    if (process.platform === "linux") expectSystemError(() => tx.sendto("oob", 1, ["127.0.0.1", portOf(rx)]), "ENOTSUP", "sendto");
  });

  it("keeps message boundaries: two datagrams are two recvfroms", () => {
    using rx = udp();
    using tx = udp();
    const to: [string, number] = ["127.0.0.1", portOf(rx)];
    tx.sendto("one", to);
    tx.sendto("two", to);
    expect(rx.recvfrom(100)[0].toString()).toBe("one");
    expect(rx.recvfrom(100)[0].toString()).toBe("two");
    rx.setblocking(false);
    expectSystemError(() => rx.recvfrom(100), "EAGAIN", "recvfrom");
  });

  it("truncates a datagram longer than bufsize and discards the rest of it", () => {
    using rx = udp();
    using tx = udp();
    const to: [string, number] = ["127.0.0.1", portOf(rx)];
    tx.sendto("0123456789", to);
    tx.sendto("next", to);
    const [head, address] = rx.recvfrom(4);
    expect(head.toString()).toBe("0123");
    expect(address).toEqual(tx.getsockname());
    // The rest of the first datagram is gone: the next call gets the second one.
    expect(rx.recvfrom(100)[0].toString()).toBe("next");
    // recvfrom(0) consumes a datagram too, returning nothing of it.
    tx.sendto("dropped", to);
    tx.sendto("kept", to);
    const [nothing, from] = rx.recvfrom(0);
    expect(nothing.length).toBe(0);
    expect(from).toEqual(tx.getsockname());
    expect(rx.recvfrom(100)[0].toString()).toBe("kept");
  });

  it("zero-length datagrams are sent (count 0) and received as an empty Buffer with the address", () => {
    using rx = udp();
    using tx = udp();
    const to: [string, number] = ["127.0.0.1", portOf(rx)];
    expect(tx.sendto(Buffer.alloc(0), to)).toBe(0);
    expect(tx.sendto("", to)).toBe(0);
    tx.sendto("after", to);
    for (let i = 0; i < 2; i++) {
      const [data, address] = rx.recvfrom(100);
      expect(data.length).toBe(0);
      expect(address).toEqual(tx.getsockname());
    }
    expect(rx.recvfrom(100)[0].toString()).toBe("after");
  });

  it("a large bufsize (beyond the Buffer pool) returns a short datagram whole, and results do not share memory", () => {
    using rx = udp();
    using tx = udp();
    const to: [string, number] = ["127.0.0.1", portOf(rx)];
    tx.sendto("first", to);
    tx.sendto("second", to);
    const [a] = rx.recvfrom(65536);
    const [b] = rx.recvfrom(65536);
    expect(a.toString()).toBe("first");
    expect(b.toString()).toBe("second");
    const payload = Buffer.alloc(9000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    expect(tx.sendto(payload, to)).toBe(9000);
    const [big] = rx.recvfrom(65536);
    expect(big.equals(payload)).toBe(true);
  });

  it("recvfromInto(buffer, nbytes?) → [count, address]; nbytes limits the fill, the rest of the datagram is dropped", () => {
    using rx = udp();
    using tx = udp();
    const to: [string, number] = ["127.0.0.1", portOf(rx)];
    tx.sendto("abcdefgh", to);
    const buffer = Buffer.alloc(16, 0x2e);
    const [n, address] = rx.recvfromInto(buffer);
    expect(n).toBe(8);
    expect(address).toEqual(tx.getsockname());
    expect(buffer.toString()).toBe("abcdefgh........");
    tx.sendto("ABCDEFGH", to);
    tx.sendto("xy", to);
    buffer.fill(0x2e);
    expect(rx.recvfromInto(buffer, 3)).toEqual([3, tx.getsockname()]);
    expect(buffer.toString()).toBe("ABC.............");
    // nbytes 0 means the whole buffer; any ArrayBufferView is filled from its start.
    const backing = new Uint8Array(8);
    expect(rx.recvfromInto(new DataView(backing.buffer, 2, 4), 0)).toEqual([2, tx.getsockname()]);
    expect([...backing]).toEqual([0, 0, 0x78, 0x79, 0, 0, 0, 0]);
  });

  it("flags: MSG_PEEK leaves the datagram for the next call", () => {
    using rx = udp();
    using tx = udp();
    tx.sendto("peeked", ["127.0.0.1", portOf(rx)]);
    expect(rx.recvfrom(3, E.MSG_PEEK)).toEqual([Buffer.from("pee"), tx.getsockname()]);
    const into = Buffer.alloc(6);
    expect(rx.recvfromInto(into, 6, E.MSG_PEEK)).toEqual([6, tx.getsockname()]);
    expect(rx.recvfrom(100)).toEqual([Buffer.from("peeked"), tx.getsockname()]);
  });

  it("resolves 'localhost' in sendto", () => {
    using rx = udp();
    using tx = udp();
    expect(tx.sendto("by name", ["localhost", portOf(rx)])).toBe(7);
    expect(tx.sendto("by name too", 0, ["localhost", portOf(rx)])).toBe(11);
    expect(rx.recvfrom(64)).toEqual([Buffer.from("by name"), ["127.0.0.1", portOf(tx)]]);
    expect(rx.recvfrom(64)).toEqual([Buffer.from("by name too"), ["127.0.0.1", portOf(tx)]]);
  });

  it("a datagram too long for UDP throws EMSGSIZE from sendto", () => {
    using rx = udp();
    using tx = udp();
    const error = expectSystemError(() => tx.sendto(Buffer.alloc(70_000), ["127.0.0.1", portOf(rx)]), "EMSGSIZE", "sendto");
    expect(error.errno).toBeLessThan(0);
  });

  it("a non-blocking socket with nothing queued throws EAGAIN from recvfrom and recvfromInto", () => {
    using rx = udp();
    rx.setblocking(false);
    const a = expectSystemError(() => rx.recvfrom(16), "EAGAIN", "recvfrom");
    expect(a.errno).toBe(-E.EAGAIN);
    expectSystemError(() => rx.recvfromInto(Buffer.alloc(16)), "EAGAIN", "recvfrom");
    // A datagram sent now is received by the same non-blocking socket.
    using tx = udp();
    tx.sendto("now", rx.getsockname() as [string, number]);
    expect(rx.recvfrom(16)).toEqual([Buffer.from("now"), tx.getsockname()]);
  });
});

describe.runIf(ipv6Available(SOCK_DGRAM))("UDP over IPv6", () => {
  it("::1 with [host, port, flowinfo, scopeId] addresses, both sendto forms", () => {
    using rx = udp(AF_INET6);
    using tx = udp(AF_INET6);
    const port = portOf(rx);
    expect(tx.sendto("v6 pair", ["::1", port])).toBe(7);
    expect(tx.sendto("v6 tuple", ["::1", port, 0, 0])).toBe(8);
    expect(tx.sendto("v6 flags", 0, ["::1", port, 0, 0])).toBe(8);
    const [a, from] = rx.recvfrom(64);
    expect(a.toString()).toBe("v6 pair");
    expect(from).toEqual(["::1", portOf(tx), 0, 0]);
    expect(from).toEqual(tx.getsockname());
    expect(rx.recvfrom(64)).toEqual([Buffer.from("v6 tuple"), ["::1", portOf(tx), 0, 0]]);
    const into = Buffer.alloc(32);
    const [n, from2] = rx.recvfromInto(into);
    expect(into.subarray(0, n).toString()).toBe("v6 flags");
    expect(from2).toEqual(["::1", portOf(tx), 0, 0]);
    // Answering to the reported 4-tuple reaches the sender.
    rx.sendto("answer", from!);
    expect(tx.recvfrom(64)).toEqual([Buffer.from("answer"), rx.getsockname()]);
  });

  it("checks the IPv6 address shape and ranges", () => {
    using tx = new Socket(AF_INET6, SOCK_DGRAM);
    expectCode(() => tx.sendto("x", ["::1", 1, 0x100000]), "ERR_OUT_OF_RANGE");
    expectCode(() => tx.sendto("x", ["::1", 1, 0, -1]), "ERR_OUT_OF_RANGE");
    expectCode(() => tx.sendto("x", ["::1", 1, 0, 0, 0] as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
    expectCode(() => tx.sendto("x", "::1" as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
  });
});

describe("AF_UNIX SOCK_DGRAM", () => {
  it("between bound paths: recvfrom reports the sender's path", () => {
    const rxPath = join(tmp(), "rx.sock");
    const txPath = join(tmp(), "tx.sock");
    using rx = new Socket(AF_UNIX, SOCK_DGRAM);
    rx.bind(rxPath);
    using tx = new Socket(AF_UNIX, SOCK_DGRAM);
    tx.bind(txPath);
    expect(tx.sendto("over unix", rxPath)).toBe(9);
    expect(tx.sendto("with flags", 0, rxPath)).toBe(10);
    expect(rx.recvfrom(64)).toEqual([Buffer.from("over unix"), txPath]);
    const buffer = Buffer.alloc(64);
    const [n, from] = rx.recvfromInto(buffer);
    expect(buffer.subarray(0, n).toString()).toBe("with flags");
    expect(from).toBe(txPath);
    // And back to the reported path.
    rx.sendto("back", from!);
    expect(tx.recvfrom(64)).toEqual([Buffer.from("back"), rxPath]);
    rmSync(rxPath);
    rmSync(txPath);
  });

  it("an unbound sender has no address: recvfrom reports null", () => {
    const rxPath = join(tmp(), "rx-unbound.sock");
    using rx = new Socket(AF_UNIX, SOCK_DGRAM);
    rx.bind(rxPath);
    using tx = new Socket(AF_UNIX, SOCK_DGRAM);
    tx.sendto("anonymous", rxPath);
    tx.sendto("again", rxPath);
    expect(rx.recvfrom(64)).toEqual([Buffer.from("anonymous"), null]);
    expect(rx.recvfromInto(Buffer.alloc(64))).toEqual([5, null]);
    rmSync(rxPath);
  });

  it("a socketpair(AF_UNIX, SOCK_DGRAM): boundaries kept, truncation, zero length, address null", () => {
    const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM);
    using _a = a;
    using _b = b;
    a.send("first datagram");
    a.send("");
    a.send("second");
    expect(b.recvfrom(5)).toEqual([Buffer.from("first"), null]);
    expect(b.recvfrom(64)).toEqual([Buffer.alloc(0), null]);
    expect(b.recvfrom(64)).toEqual([Buffer.from("second"), null]);
  });

  it.runIf(process.platform === "linux")("a Linux abstract name (leading NUL) round-trips as the address", () => {
    const rxName = `\0ns-dgram-rx-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const txName = `\0ns-dgram-tx-${process.pid}-${Math.random().toString(36).slice(2)}`;
    using rx = new Socket(AF_UNIX, SOCK_DGRAM);
    rx.bind(rxName);
    using tx = new Socket(AF_UNIX, SOCK_DGRAM);
    tx.bind(txName);
    tx.sendto("abstract", rxName);
    expect(rx.recvfrom(64)).toEqual([Buffer.from("abstract"), txName]);
  });

  it("sending to a path nobody bound throws ENOENT from sendto", () => {
    using tx = new Socket(AF_UNIX, SOCK_DGRAM);
    expectSystemError(() => tx.sendto("x", join(tmp(), "nobody.sock")), "ENOENT", "sendto");
  });
});

describe("stream sockets", () => {
  it("recvfrom / recvfromInto on a connected TCP socket: the data with address null; EOF is empty", () => {
    using server = new Socket(AF_INET, SOCK_STREAM);
    server.bind(["127.0.0.1", 0]);
    server.listen(1);
    using client = new Socket(AF_INET, SOCK_STREAM);
    client.connect(["127.0.0.1", portOf(server)]);
    const [conn] = server.accept();
    using _conn = conn;
    client.sendall("over tcp");
    let got = Buffer.alloc(0);
    while (got.length < 8) {
      const [data, address] = conn.recvfrom(64);
      expect(address).toBeNull();
      got = Buffer.concat([got, data]);
    }
    expect(got.toString()).toBe("over tcp");
    conn.sendall("back");
    const into = Buffer.alloc(4);
    let n = 0;
    while (n < 4) {
      const [m, address] = client.recvfromInto(into.subarray(n));
      expect(address).toBeNull();
      n += m;
    }
    expect(into.toString()).toBe("back");
    client.shutdown(SHUT_WR);
    expect(conn.recvfrom(64)).toEqual([Buffer.alloc(0), null]);
    expect(conn.recvfromInto(Buffer.alloc(4))).toEqual([0, null]);
  });
});

describe("closed sockets and bad arguments", () => {
  it("EBADF after close from recvfrom, recvfromInto and sendto", () => {
    const s = udp();
    const to = s.getsockname() as [string, number];
    s.close();
    expectSystemError(() => s.recvfrom(16), "EBADF", "recvfrom");
    expectSystemError(() => s.recvfromInto(Buffer.alloc(16)), "EBADF", "recvfrom");
    expectSystemError(() => s.sendto("x", to), "EBADF", "sendto");
    expectSystemError(() => s.sendto("x", 0, to), "EBADF", "sendto");
  });

  it("bad addresses: port 70000, wrong shapes, a path for AF_INET, an array for AF_UNIX", () => {
    using rx = udp();
    using tx = udp();
    const port = portOf(rx);
    expectCode(() => tx.sendto("x", ["127.0.0.1", 70000]), "ERR_OUT_OF_RANGE");
    expectCode(() => tx.sendto("x", 0, ["127.0.0.1", -1]), "ERR_OUT_OF_RANGE");
    expectCode(() => tx.sendto("x", ["127.0.0.1", 1.5]), "ERR_OUT_OF_RANGE");
    expectCode(() => tx.sendto("x", ["127.0.0.1", "80"] as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
    expectCode(() => tx.sendto("x", ["127.0.0.1"] as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
    expectCode(() => tx.sendto("x", ["127.0.0.1", port, 0, 0] as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
    expectCode(() => tx.sendto("x", [1, port] as unknown as [string, number]), "ERR_INVALID_ARG_TYPE");
    expectCode(() => tx.sendto("x", "127.0.0.1"), "ERR_INVALID_ARG_TYPE");
    expectCode(() => tx.sendto("x", null as unknown as string), "ERR_INVALID_ARG_TYPE");
    expectCode(() => tx.sendto("x", 0, "127.0.0.1"), "ERR_INVALID_ARG_TYPE");
    // A socket of any family as far as the types go: the wrong address shape is a run-time TypeError.
    using unix: Socket = new Socket(AF_UNIX, SOCK_DGRAM);
    expectCode(() => unix.sendto("x", ["127.0.0.1", port]), "ERR_INVALID_ARG_TYPE");
    // Nothing of these reached the receiver.
    rx.setblocking(false);
    expectSystemError(() => rx.recvfrom(16), "EAGAIN", "recvfrom");
  });

  it("bad data and flags for sendto", () => {
    using rx = udp();
    using tx = udp();
    const to = rx.getsockname() as [string, number];
    expectCode(() => tx.sendto(5 as unknown as string, to), "ERR_INVALID_ARG_TYPE");
    expectCode(() => tx.sendto({} as unknown as string, to), "ERR_INVALID_ARG_TYPE");
    expectCode(() => tx.sendto("x", -1, to), "ERR_OUT_OF_RANGE");
    expectCode(() => tx.sendto("x", "0" as unknown as number, to), "ERR_INVALID_ARG_TYPE");
    rx.setblocking(false);
    expectSystemError(() => rx.recvfrom(16), "EAGAIN", "recvfrom");
  });

  it("bad sizes for recvfrom / recvfromInto leave the queued datagram in place", () => {
    using rx = udp();
    using tx = udp();
    tx.sendto("still here", rx.getsockname() as [string, number]);
    expectCode(() => rx.recvfrom(-1), "ERR_OUT_OF_RANGE");
    expectCode(() => rx.recvfrom(1.5), "ERR_OUT_OF_RANGE");
    expectCode(() => rx.recvfrom(Number.NaN), "ERR_OUT_OF_RANGE");
    expectCode(() => rx.recvfrom("10" as unknown as number), "ERR_INVALID_ARG_TYPE");
    expectCode(() => rx.recvfrom(10, -1), "ERR_OUT_OF_RANGE");
    const buffer = Buffer.alloc(8);
    expectCode(() => rx.recvfromInto(buffer, 9), "ERR_OUT_OF_RANGE");
    expectCode(() => rx.recvfromInto(buffer, -1), "ERR_OUT_OF_RANGE");
    expectCode(() => rx.recvfromInto(buffer, 2.5), "ERR_OUT_OF_RANGE");
    expectCode(() => rx.recvfromInto("buffer" as unknown as Buffer), "ERR_INVALID_ARG_TYPE");
    expectCode(() => rx.recvfromInto([1, 2, 3] as unknown as Buffer), "ERR_INVALID_ARG_TYPE");
    expect(rx.recvfrom(64)).toEqual([Buffer.from("still here"), tx.getsockname()]);
  });
});
