// test/loop-dgram.test.ts — the EventLoop's datagram calls (asyncio's sock_recvfrom,
// sock_recvfrom_into and sock_sendto) through the public API on real loopback and Unix sockets, in
// every mode (owned, attached, attached on PollSelector): a UDP echo round trip, a pending receive
// resolved by a later datagram, AbortSignal (nothing received is lost), close() with calls pending
// (ERR_LOOP_CLOSED), message boundaries, truncation, zero-length datagrams, the scratch buffer of
// large receives, host names ('localhost', and an abort during the lookup while attached), IPv6 on
// ::1, AF_UNIX datagrams (bound and unbound senders), a connected TCP socket (address null), a
// refused connected UDP socket, the loop's rules (non-blocking sockets only, so a timed socket is
// refused too; bad arguments reject with codes), and no fd leaks across the file.
import { mkdtempSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { AF_INET, AF_INET6, AF_UNIX, SHUT_WR, SOCK_DGRAM, Socket, defaultBackend, lowlevel, type SocketAddress } from "../lib/index.js";
import { expectFdCount, fileTempDir } from "./support/expect.js";
import { fdBaseline } from "./support/fds.js";
import { MODES, drive, isOwned, isProactor, loopFixtures, ringOf } from "./support/loop.js";
import { ipv6Available, portOf, tcpListener, tcpSocket, udp } from "./support/net.js";
import { loopSleep } from "./support/time.js";

const { make, track } = loopFixtures();

const tmp = fileTempDir("ns-loop-dgram-");

const ABORTED = { name: "AbortError", code: "ABORT_ERR" };

/** The address a bound UDP socket receives on. */
function addressOf(s: Socket): [string, number] {
  return s.getsockname() as [string, number];
}

/** Whether nothing is queued on a non-blocking datagram socket (a recvfrom would block). */
function isEmpty(s: Socket): boolean {
  try {
    s.recvfrom(1, lowlevel.constants.MSG_PEEK);
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EAGAIN") return true;
    throw error;
  }
}

describe.each(MODES)("datagram sock* calls (%s)", (mode) => {
  it("a UDP echo round trip: sockSendto → count, sockRecvfrom → [data, the sender's address]", async () => {
    const loop = make(mode);
    const server = track(udp(AF_INET, false));
    const client = track(udp(AF_INET, false));
    await drive(loop, mode, async () => {
      const echo = (async () => {
        const [data, address] = await loop.sockRecvfrom(server, 1024);
        expect(address).toEqual(client.getsockname());
        return loop.sockSendto(server, data, address!);
      })();
      expect(await loop.sockSendto(client, "héllo ✓", addressOf(server))).toBe(Buffer.byteLength("héllo ✓"));
      const [back, from] = await loop.sockRecvfrom(client, 1024);
      expect(back.toString("utf8")).toBe("héllo ✓");
      expect(from).toEqual(server.getsockname());
      expect(await echo).toBe(Buffer.byteLength("héllo ✓"));
      // Any ArrayBufferView is sent as its bytes.
      expect(await loop.sockSendto(client, new Uint16Array([0x0201, 0x0403]), addressOf(server))).toBe(4);
      expect([...(await loop.sockRecvfrom(server, 16))[0]]).toEqual([1, 2, 3, 4]);
    });
  });

  it("a pending sockRecvfrom resolves when a datagram arrives later", async () => {
    const loop = make(mode);
    const rx = track(udp(AF_INET, false));
    const tx = track(udp(AF_INET, false));
    await drive(loop, mode, async () => {
      let settled = false;
      const pending = loop.sockRecvfrom(rx, 64).finally(() => (settled = true));
      await loopSleep(loop, 0.05);
      expect(settled).toBe(false);
      if (isProactor(mode)) expect(ringOf(loop).inflight).toBe(1);
      else expect(loop.selector.getMap().get(rx.fileno())).toBeDefined();
      tx.sendto("late", addressOf(rx));
      expect(await pending).toEqual([Buffer.from("late"), tx.getsockname()]);
    });
  });

  it("sockRecvfromInto: [count, address]; pending until a datagram comes; nbytes limits the fill", async () => {
    const loop = make(mode);
    const rx = track(udp(AF_INET, false));
    const tx = track(udp(AF_INET, false));
    await drive(loop, mode, async () => {
      const buffer = Buffer.alloc(16, 0x2e);
      let settled = false;
      const pending = loop.sockRecvfromInto(rx, buffer).finally(() => (settled = true));
      await loopSleep(loop, 0.05);
      expect(settled).toBe(false);
      await loop.sockSendto(tx, "abcdefgh", addressOf(rx));
      expect(await pending).toEqual([8, tx.getsockname()]);
      expect(buffer.toString()).toBe("abcdefgh........");
      // nbytes: only the first 3 bytes are filled; the rest of that datagram is discarded.
      buffer.fill(0x2e);
      await loop.sockSendto(tx, "ABCDEFGH", addressOf(rx));
      await loop.sockSendto(tx, "xy", addressOf(rx));
      expect(await loop.sockRecvfromInto(rx, buffer, 3)).toEqual([3, tx.getsockname()]);
      expect(buffer.toString()).toBe("ABC.............");
      // nbytes 0 is the whole view; a DataView is filled from its start.
      const backing = new Uint8Array(8);
      expect(await loop.sockRecvfromInto(rx, new DataView(backing.buffer, 2, 4), 0)).toEqual([2, tx.getsockname()]);
      expect([...backing]).toEqual([0, 0, 0x78, 0x79, 0, 0, 0, 0]);
    });
  });

  it("keeps message boundaries, truncates a datagram longer than n, and passes zero-length datagrams", async () => {
    const loop = make(mode);
    const rx = track(udp(AF_INET, false));
    const tx = track(udp(AF_INET, false));
    await drive(loop, mode, async () => {
      const to = addressOf(rx);
      await loop.sockSendto(tx, "one", to);
      await loop.sockSendto(tx, "two", to);
      expect((await loop.sockRecvfrom(rx, 100))[0].toString()).toBe("one");
      expect((await loop.sockRecvfrom(rx, 100))[0].toString()).toBe("two");
      await loop.sockSendto(tx, "0123456789", to);
      await loop.sockSendto(tx, "next", to);
      expect((await loop.sockRecvfrom(rx, 4))[0].toString()).toBe("0123");
      expect((await loop.sockRecvfrom(rx, 100))[0].toString()).toBe("next");
      expect(await loop.sockSendto(tx, Buffer.alloc(0), to)).toBe(0);
      expect(await loop.sockSendto(tx, "", to)).toBe(0);
      for (let i = 0; i < 2; i++) {
        const [data, address] = await loop.sockRecvfrom(rx, 100);
        expect(data.length).toBe(0);
        expect(address).toEqual(tx.getsockname());
      }
      // A zero-length datagram wakes a pending receive too.
      const pending = loop.sockRecvfrom(rx, 100);
      await loopSleep(loop, 0.02);
      tx.sendto(Buffer.alloc(0), to);
      expect(await pending).toEqual([Buffer.alloc(0), tx.getsockname()]);
      expect(isEmpty(rx)).toBe(true);
    });
  });

  it("a large n (beyond the Buffer pool) returns each datagram in its own memory", async () => {
    const loop = make(mode);
    const rx = track(udp(AF_INET, false));
    const tx = track(udp(AF_INET, false));
    await drive(loop, mode, async () => {
      const to = addressOf(rx);
      tx.sendto("first", to);
      tx.sendto("second", to);
      const payload = Buffer.alloc(9000);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
      tx.sendto(payload, to);
      const [a] = await loop.sockRecvfrom(rx, 65536);
      const [b] = await loop.sockRecvfrom(rx, 65536);
      const [c, from] = await loop.sockRecvfrom(rx, 0x7fffffff);
      expect(a.toString()).toBe("first");
      expect(b.toString()).toBe("second");
      expect(c.equals(payload)).toBe(true);
      expect(from).toEqual(tx.getsockname());
      expect(a.buffer === c.buffer && a.byteOffset === c.byteOffset).toBe(false);
    });
  });

  it("an aborted sockRecvfrom rejects with ABORT_ERR and leaves no reader: the next call gets the datagram", async () => {
    const loop = make(mode);
    const rx = track(udp(AF_INET, false));
    const tx = track(udp(AF_INET, false));
    await drive(loop, mode, async () => {
      const to = addressOf(rx);
      const ac = new AbortController();
      const pending = loop.sockRecvfrom(rx, 64, { signal: ac.signal });
      await loopSleep(loop, 0);
      ac.abort();
      await expect(pending).rejects.toMatchObject(ABORTED);
      expect(loop.selector.getMap().get(rx.fileno())).toBeUndefined();
      tx.sendto("not lost", to);
      expect(await loop.sockRecvfrom(rx, 64)).toEqual([Buffer.from("not lost"), tx.getsockname()]);

      // Aborted in the batch the datagram arrives in, before the reader's turn: the datagram is kept.
      const ac2 = new AbortController();
      const pending2 = loop.sockRecvfrom(rx, 64, { signal: ac2.signal });
      loop.callSoon(() => ac2.abort());
      tx.sendto("kept", to);
      await expect(pending2).rejects.toMatchObject(ABORTED);
      expect(await loop.sockRecvfrom(rx, 64)).toEqual([Buffer.from("kept"), tx.getsockname()]);

      // An already aborted signal: rejected without reading.
      tx.sendto("still", to);
      await expect(loop.sockRecvfrom(rx, 64, { signal: AbortSignal.abort() })).rejects.toMatchObject(ABORTED);
      await expect(loop.sockRecvfromInto(rx, Buffer.alloc(8), undefined, { signal: AbortSignal.abort() })).rejects.toMatchObject(ABORTED);
      await expect(loop.sockSendto(tx, "never", to, { signal: AbortSignal.abort() })).rejects.toMatchObject(ABORTED);
      expect(await loop.sockRecvfrom(rx, 64)).toEqual([Buffer.from("still"), tx.getsockname()]);
      expect(isEmpty(rx)).toBe(true);
    });
  });

  it("an aborted sockRecvfromInto leaves the buffer alone and the next call gets the datagram", async () => {
    const loop = make(mode);
    const rx = track(udp(AF_INET, false));
    const tx = track(udp(AF_INET, false));
    await drive(loop, mode, async () => {
      const first = Buffer.alloc(8, 0x2e);
      const ac = new AbortController();
      const pending = loop.sockRecvfromInto(rx, first, undefined, { signal: ac.signal });
      await loopSleep(loop, 0);
      ac.abort();
      await expect(pending).rejects.toMatchObject(ABORTED);
      tx.sendto("datagram", addressOf(rx));
      await loopSleep(loop, 0.02);
      expect(first.toString()).toBe("........");
      const second = Buffer.alloc(8);
      expect(await loop.sockRecvfromInto(rx, second)).toEqual([8, tx.getsockname()]);
      expect(second.toString()).toBe("datagram");
    });
  });

  it("close() rejects pending sockRecvfrom / sockRecvfromInto with ERR_LOOP_CLOSED; later calls too", async () => {
    const loop = make(mode);
    const rx = track(udp(AF_INET, false));
    const other = track(udp(AF_INET, false));
    if (!isOwned(mode)) loop.attach();
    const pending = loop.sockRecvfrom(rx, 16);
    const pendingInto = loop.sockRecvfromInto(other, Buffer.alloc(16));
    loop.close();
    await expect(pending).rejects.toMatchObject({ code: "ERR_LOOP_CLOSED" });
    await expect(pendingInto).rejects.toMatchObject({ code: "ERR_LOOP_CLOSED" });
    await expect(loop.sockRecvfrom(rx, 16)).rejects.toMatchObject({ code: "ERR_LOOP_CLOSED" });
    await expect(loop.sockRecvfromInto(rx, Buffer.alloc(4))).rejects.toMatchObject({ code: "ERR_LOOP_CLOSED" });
    await expect(loop.sockSendto(rx, "x", addressOf(other))).rejects.toMatchObject({ code: "ERR_LOOP_CLOSED" });
    expect(isEmpty(other)).toBe(true);
  });

  it("sockSendto resolves 'localhost'", async () => {
    const loop = make(mode);
    const rx = track(udp(AF_INET, false));
    const tx = track(udp(AF_INET, false));
    await drive(loop, mode, async () => {
      expect(await loop.sockSendto(tx, "by name", ["localhost", portOf(rx)])).toBe(7);
      expect(await loop.sockRecvfrom(rx, 64)).toEqual([Buffer.from("by name"), ["127.0.0.1", portOf(tx)]]);
    });
  });

  it.runIf(ipv6Available(SOCK_DGRAM))("IPv6 on ::1 with [host, port, flowinfo, scopeId] addresses", async () => {
    const loop = make(mode);
    const rx = track(udp(AF_INET6, false));
    const tx = track(udp(AF_INET6, false));
    await drive(loop, mode, async () => {
      const port = portOf(rx);
      expect(await loop.sockSendto(tx, "v6 pair", ["::1", port])).toBe(7);
      expect(await loop.sockSendto(tx, "v6 tuple", ["::1", port, 0, 0])).toBe(8);
      const [data, from] = await loop.sockRecvfrom(rx, 64);
      expect(data.toString()).toBe("v6 pair");
      expect(from).toEqual(["::1", portOf(tx), 0, 0]);
      const buffer = Buffer.alloc(64);
      const [n, from2] = await loop.sockRecvfromInto(rx, buffer);
      expect(buffer.subarray(0, n).toString()).toBe("v6 tuple");
      expect(from2).toEqual(tx.getsockname());
      await loop.sockSendto(rx, "answer", from as SocketAddress as [string, number, number, number]);
      expect(await loop.sockRecvfrom(tx, 64)).toEqual([Buffer.from("answer"), rx.getsockname()]);
    });
  });

  it("AF_UNIX datagrams: a bound sender's path is reported, an unbound sender's address is null", async () => {
    const loop = make(mode);
    const dir = mkdtempSync(join(tmp(), `${mode}-`));
    const rxPath = join(dir, "rx.sock");
    const txPath = join(dir, "tx.sock");
    const rx = track(new Socket(AF_UNIX, SOCK_DGRAM));
    rx.bind(rxPath);
    rx.setblocking(false);
    const tx = track(new Socket(AF_UNIX, SOCK_DGRAM));
    tx.bind(txPath);
    tx.setblocking(false);
    const anonymous = track(new Socket(AF_UNIX, SOCK_DGRAM));
    anonymous.setblocking(false);
    await drive(loop, mode, async () => {
      const pending = loop.sockRecvfrom(rx, 64);
      await loopSleep(loop, 0.02);
      expect(await loop.sockSendto(tx, "over unix", rxPath)).toBe(9);
      expect(await pending).toEqual([Buffer.from("over unix"), txPath]);
      await loop.sockSendto(rx, "back", txPath);
      const buffer = Buffer.alloc(16);
      expect(await loop.sockRecvfromInto(tx, buffer)).toEqual([4, rxPath]);
      expect(buffer.subarray(0, 4).toString()).toBe("back");
      await loop.sockSendto(anonymous, "who?", rxPath);
      expect(await loop.sockRecvfrom(rx, 64)).toEqual([Buffer.from("who?"), null]);
      await expect(loop.sockSendto(tx, "x", join(dir, "nobody.sock"))).rejects.toMatchObject({ code: "ENOENT", syscall: "sendto" });
      await expect(loop.sockSendto(tx, "x", ["127.0.0.1", 1] as unknown as string)).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
    });
  });

  it("sockRecvfrom / sockRecvfromInto on a connected TCP socket: the data with address null, EOF empty", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const listener = track(tcpListener());
      const client = track(tcpSocket());
      const accepting = loop.sockAccept(listener);
      await loop.sockConnect(client, ["127.0.0.1", portOf(listener)]);
      const [server] = await accepting;
      track(server);
      await loop.sockSendall(client, "over tcp");
      let got = Buffer.alloc(0);
      while (got.length < 8) {
        const [data, address] = await loop.sockRecvfrom(server, 64);
        expect(address).toBeNull();
        got = Buffer.concat([got, data]);
      }
      expect(got.toString()).toBe("over tcp");
      await loop.sockSendall(server, "back");
      const into = Buffer.alloc(4);
      let n = 0;
      while (n < 4) {
        const [m, address] = await loop.sockRecvfromInto(client, into.subarray(n));
        expect(address).toBeNull();
        n += m;
      }
      expect(into.toString()).toBe("back");
      client.shutdown(SHUT_WR);
      expect(await loop.sockRecvfrom(server, 64)).toEqual([Buffer.alloc(0), null]);
    });
  });

  // Not over libkqueue: its read filter reads (and so clears) the socket's pending error to fill in
  // the event, and the recvfrom after it finds EAGAIN (see docs/reliability.md, "Where backends differ").
  const errorSurvivesWakeUp = mode === "attached-poll" || defaultBackend !== "kqueue";
  it.runIf(process.platform === "linux" && errorSurvivesWakeUp)(
    "a connected UDP socket whose peer port is closed: sockRecvfrom rejects with ECONNREFUSED",
    async () => {
      const loop = make(mode);
      const probe = new Socket(AF_INET, SOCK_DGRAM);
      probe.bind(["127.0.0.1", 0]);
      const port = portOf(probe);
      probe.close();
      const sock = track(udp(AF_INET, false));
      sock.connect(["127.0.0.1", port]);
      await drive(loop, mode, async () => {
        const pending = loop.sockRecvfrom(sock, 64);
        await loopSleep(loop, 0.02);
        sock.send("anyone?");
        await expect(pending).rejects.toMatchObject({ code: "ECONNREFUSED", syscall: "recvfrom" });
      });
    },
  );

  it("rejects blocking and timed sockets (ERR_SOCKET_BLOCKING), closed ones (EBADF) and bad arguments with codes", async () => {
    const loop = make(mode);
    const rx = track(udp(AF_INET, false));
    const tx = track(udp(AF_INET, false));
    const to = addressOf(rx);
    tx.sendto("queued", to);
    const blocking = track(new Socket(AF_INET, SOCK_DGRAM));
    const timed = track(new Socket(AF_INET, SOCK_DGRAM));
    timed.settimeout(0.5);
    for (const sock of [blocking, timed]) {
      await expect(loop.sockRecvfrom(sock, 16)).rejects.toMatchObject({ code: "ERR_SOCKET_BLOCKING" });
      await expect(loop.sockRecvfromInto(sock, Buffer.alloc(4))).rejects.toMatchObject({ code: "ERR_SOCKET_BLOCKING" });
      await expect(loop.sockSendto(sock, "x", to)).rejects.toMatchObject({ code: "ERR_SOCKET_BLOCKING" });
    }
    const closed = track(udp(AF_INET, false));
    closed.close();
    await expect(loop.sockRecvfrom(closed, 16)).rejects.toMatchObject({ code: "EBADF", syscall: "recvfrom" });
    await expect(loop.sockRecvfromInto(closed, Buffer.alloc(4))).rejects.toMatchObject({ code: "EBADF", syscall: "recvfrom" });
    await expect(loop.sockSendto(closed, "x", to)).rejects.toMatchObject({ code: "EBADF", syscall: "sendto" });
    // n and nbytes
    for (const n of [-1, 1.5, Number.NaN, 2 ** 53]) await expect(loop.sockRecvfrom(rx, n)).rejects.toMatchObject({ code: "ERR_OUT_OF_RANGE" });
    // The same argument policy as Socket.recvfrom: a value of the wrong type is a type error.
    await expect(loop.sockRecvfrom(rx, "16" as unknown as number)).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
    const buffer = Buffer.alloc(8);
    for (const nbytes of [9, -1, 2.5]) await expect(loop.sockRecvfromInto(rx, buffer, nbytes)).rejects.toMatchObject({ code: "ERR_OUT_OF_RANGE" });
    await expect(loop.sockRecvfromInto(rx, "buffer" as unknown as Buffer)).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
    // data and addresses
    await expect(loop.sockSendto(tx, 5 as unknown as string, to)).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
    await expect(loop.sockSendto(tx, "x", ["127.0.0.1", 70000])).rejects.toMatchObject({ code: "ERR_OUT_OF_RANGE" });
    await expect(loop.sockSendto(tx, "x", ["127.0.0.1", -1])).rejects.toMatchObject({ code: "ERR_OUT_OF_RANGE" });
    await expect(loop.sockSendto(tx, "x", "127.0.0.1")).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
    await expect(loop.sockSendto(tx, "x", ["127.0.0.1"] as unknown as [string, number])).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
    await expect(loop.sockSendto(tx, "x", ["127.0.0.1", "80"] as unknown as [string, number])).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
    await expect(loop.sockSendto(tx, "x", ["127.0.0.1", 1, 0, 0] as unknown as [string, number])).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
    // sock and signal
    await expect(loop.sockRecvfrom({} as unknown as Socket, 1)).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
    await expect(loop.sockSendto(null as unknown as Socket, "x", to)).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
    await expect(loop.sockRecvfrom(rx, 1, { signal: {} as AbortSignal })).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
    expect(loop.selector.getMap().size).toBe(0);
    // None of these consumed the queued datagram, nor sent one.
    expect(rx.recvfrom(64)).toEqual([Buffer.from("queued"), tx.getsockname()]);
    expect(isEmpty(rx)).toBe(true);
  });

  it("leaks no fds over exchanges, aborts and closed sockets", async () => {
    const loop = make(mode);
    const before = await fdBaseline();
    await drive(loop, mode, async () => {
      for (let i = 0; i < 5; i++) {
        const rx = new Socket(AF_INET, SOCK_DGRAM);
        rx.bind(["127.0.0.1", 0]);
        rx.setblocking(false);
        const tx = new Socket(AF_INET, SOCK_DGRAM);
        tx.setblocking(false);
        await loop.sockSendto(tx, "ping", addressOf(rx));
        await loop.sockRecvfrom(rx, 8);
        const ac = new AbortController();
        const p = loop.sockRecvfrom(rx, 8, { signal: ac.signal });
        ac.abort();
        await p.catch(() => undefined);
        rx.close();
        tx.close();
      }
    });
    await expectFdCount(before);
  });
});

describe.each(MODES.filter((m) => !isOwned(m)))("sockSendto while attached (%s)", (mode) => {
  it("an abort during the name lookup (node:dns while attached) rejects with ABORT_ERR and sends nothing", async () => {
    const loop = make(mode);
    const rx = track(udp(AF_INET, false));
    const tx = track(udp(AF_INET, false));
    await drive(loop, mode, async () => {
      const ac = new AbortController();
      const sending = loop.sockSendto(tx, "never", ["localhost", portOf(rx)], { signal: ac.signal });
      ac.abort();
      await expect(sending).rejects.toMatchObject(ABORTED);
      await loopSleep(loop, 0.05);
      expect(isEmpty(rx)).toBe(true);
    });
  });
});
