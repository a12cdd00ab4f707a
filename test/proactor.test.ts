// test/proactor.test.ts — what is ProactorEventLoop's own (the loop suites run against it too, as
// modes of test/support/loop.ts): availability, several operations on one fd, cancellation races,
// close() of a socket with operations in flight, more operations than ring entries, more
// receives than pooled buffers, a caller's buffer in flight kept from transfers, and many
// connections at once. Skipped only where io_uring cannot be used here, with the reason in the
// suite's name.
import { describe, expect, it } from "vitest";

import { AF_INET, EventLoop, ProactorEventLoop, Socket, run, type Socket as SocketType } from "../lib/index.js";
import { ACCEPT_QUEUE_LIMIT } from "../lib/loop/ringaccept.js";
import { fdCount, softFdLimit } from "./support/fds.js";
import { drive, loopFixtures, ringOf, type Mode } from "./support/loop.js";
import { pair, portOf, tcpListener, tcpSocket, udp } from "./support/net.js";

const available = ProactorEventLoop.available;
const reason = ProactorEventLoop.unavailableReason;

/** Whether the loop's stream receives are multishot receives (one operation per socket). */
function multishot(loop: EventLoop): boolean {
  return (loop as ProactorEventLoop)._recvFallbackReason === "";
}

describe("ProactorEventLoop availability", () => {
  it("says whether it is available, and why not", () => {
    expect(typeof available).toBe("boolean");
    expect(typeof reason).toBe("string");
    expect(reason === "").toBe(available);
  });

  it.runIf(!available)("throws ERR_BACKEND_UNAVAILABLE with the reason where io_uring cannot be used", () => {
    expect(() => new ProactorEventLoop()).toThrow(expect.objectContaining({ code: "ERR_BACKEND_UNAVAILABLE", message: expect.stringContaining(reason) }));
  });

  it("run() takes a loopFactory, and still a selector; a bad factory is refused", async () => {
    const made: EventLoop[] = [];
    const name = await run(async (loop) => loop.constructor.name, {
      loopFactory: () => {
        const loop = available ? new ProactorEventLoop() : new EventLoop();
        made.push(loop);
        return loop;
      },
    });
    expect(name).toBe(available ? "ProactorEventLoop" : "EventLoop");
    expect(made[0]!.isClosed()).toBe(true);
    await expect(run(async () => 1, { loopFactory: 5 as unknown as () => EventLoop })).rejects.toMatchObject({ code: "ERR_INVALID_ARG_TYPE" });
    await expect(run(async () => 1, { loopFactory: () => ({}) as EventLoop })).rejects.toMatchObject({ code: "ERR_INVALID_RETURN_VALUE" });
  });

  it.runIf(available)("checks its options", () => {
    expect(() => new ProactorEventLoop({ entries: 0 })).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
    expect(() => new ProactorEventLoop({ entries: "8" as unknown as number })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
  });
});

type PMode = Extract<Mode, "proactor-owned" | "proactor-attached">;
const PMODES: readonly PMode[] = ["proactor-owned", "proactor-attached"];

describe.skipIf(!available).each(PMODES)(`ProactorEventLoop's own behaviour (%s)${available ? "" : ` — skipped: ${reason}`}`, (mode) => {
  const { make, track } = loopFixtures<PMode>(() => new ProactorEventLoop({ entries: 8 }));

  // The kernel wakes both when data comes; which takes it first is its choice.
  it("several receives on one fd are separate operations, each completed with its own bytes", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const [a, b] = pair().map(track) as [SocketType, SocketType];
      const first = loop.sockRecv(a, 1);
      const second = loop.sockRecv(a, 1);
      await loop.sleep(0.01);
      await loop.sockSendall(b, "x");
      await loop.sleep(0.01);
      await loop.sockSendall(b, "y");
      const got = (await Promise.all([first, second])).map((data) => data.toString());
      expect(got.sort()).toEqual(["x", "y"]);
      // A multishot receive stays armed; single-shot receives have ended.
      expect(ringOf(loop).inflight).toBe(multishot(loop) ? 1 : 0);
    });
  });

  // Each poll request reports once; the next wait re-arms it. An attached loop waits only when the
  // ring has completions, so after a batch that used one up nothing re-armed it (the Protocol
  // layer's readers then hung), unless a timer or a callback happened to run another batch.
  it("a reader is reported again for data that comes after its callback ran, with nothing else on the loop", async () => {
    const loop = make(mode);
    await drive(
      loop,
      mode,
      async () => {
        const [a, b] = pair().map(track) as [SocketType, SocketType];
        const got: string[] = [];
        let wake = (): void => {};
        loop.addReader(a, () => {
          got.push(a.recv(16).toString());
          wake();
        });
        for (const word of ["one", "two", "three"]) {
          const reported = new Promise<void>((resolve) => (wake = resolve));
          // Sent from a Node timer, so that no loop timer or callback runs a batch meanwhile.
          setTimeout(() => b.send(Buffer.from(word)), 5);
          await reported;
        }
        loop.removeReader(a);
        expect(got).toEqual(["one", "two", "three"]);
      },
      5,
    );
  });

  it.runIf(mode === "proactor-attached")("a reader whose callback detached the loop is reported again once it is attached again", async () => {
    const loop = make(mode);
    const [a, b] = pair().map(track) as [SocketType, SocketType];
    const got: string[] = [];
    let wake = (): void => {};
    loop.addReader(a, () => {
      got.push(a.recv(16).toString());
      loop.detach();
      wake();
    });
    for (const word of ["one", "two"]) {
      const reported = new Promise<void>((resolve) => (wake = resolve));
      loop.attach();
      setTimeout(() => b.send(Buffer.from(word)), 5);
      const timeout = setTimeout(() => wake(), 5000);
      await reported;
      clearTimeout(timeout);
    }
    loop.removeReader(a);
    expect(got).toEqual(["one", "two"]);
  });

  it("cancellation races lose no byte: every byte sent is received or kept for the next receive (sockRecv or sockRecvInto)", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const [a, b] = pair().map(track) as [SocketType, SocketType];
      const total = 20_000;
      const sending = (async () => {
        for (let sent = 0; sent < total; sent += 100) {
          await loop.sockSendall(b, Buffer.alloc(100, sent / 100));
          if (sent % 1000 === 0) await loop.sleep(0);
        }
      })();
      const got: Buffer[] = [];
      let received = 0;
      let aborted = 0;
      for (let round = 0; received < total; round++) {
        if (round % 5 === 4) {
          // Not aborted, into the caller's buffer: it gets what an aborted receive kept first.
          const into = Buffer.alloc(37);
          const n = await loop.sockRecvInto(a, into);
          got.push(into.subarray(0, n));
          received += n;
          continue;
        }
        const ac = new AbortController();
        // Aborted receives of both kinds: into a buffer of the loop's, or into the caller's.
        const into = Buffer.alloc(37);
        const pending =
          round % 2 === 0 ? loop.sockRecv(a, 37, { signal: ac.signal }) : loop.sockRecvInto(a, into, { signal: ac.signal }).then((n) => into.subarray(0, n));
        // Abort at once, after one iteration, or not at all.
        if (round % 3 === 0) ac.abort();
        else if (round % 3 === 1) loop.callSoon(() => ac.abort());
        try {
          const data = await pending;
          got.push(data);
          received += data.length;
        } catch (error) {
          expect(error).toMatchObject({ name: "AbortError" });
          aborted++;
        }
      }
      await sending;
      expect(received).toBe(total);
      expect(aborted).toBeGreaterThan(0);
      const all = Buffer.concat(got);
      for (let i = 0; i < total; i += 100) expect(all[i]).toBe((i / 100) & 0xff);
    });
  });

  it("close() of a socket with operations in flight: they reject with EBADF, the fd's next user gets nothing of theirs", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const [a, b] = pair();
      track(b);
      const recv = loop.sockRecv(a, 16);
      const into = loop.sockRecvInto(a, Buffer.alloc(16));
      await loop.sleep(0.01);
      expect(ringOf(loop).inflight).toBe(multishot(loop) ? 1 : 2);
      const fd = a.fileno();
      a.close();
      await expect(recv).rejects.toMatchObject({ code: "EBADF" });
      await expect(into).rejects.toMatchObject({ code: "EBADF" });
      expect(ringOf(loop).inflight).toBe(0);
      // The number comes back for a new pair: its data goes to its own receive only.
      const [c, d] = pair().map(track) as [SocketType, SocketType];
      expect([c.fileno(), d.fileno()]).toContain(fd);
      await loop.sockSendall(d, "new");
      expect((await loop.sockRecv(c, 16)).toString()).toBe("new");
    });
  });

  it("a listener closed with its multishot accept in flight closes the queued connections", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const before = fdCount();
      const listener = tcpListener();
      const port = portOf(listener);
      const first = loop.sockAccept(listener);
      const clients = [0, 1, 2].map(() => tcpSocket());
      await Promise.all(clients.map((c) => loop.sockConnect(c, ["127.0.0.1", port])));
      const [server] = await first;
      server.close();
      await loop.sleep(0.02); // the other two wait in the queue
      listener.close();
      for (const c of clients) c.close();
      await loop.sleep(0.01);
      expect(fdCount()).toBe(before);
    });
  });

  // Sequential connects: each accept completion is seen (and the limit checked) before the next
  // connection comes, so what the kernel hands over after the cancel is at most a few.
  it(`a listener's queue holds about ${ACCEPT_QUEUE_LIMIT} connections nobody asked for; the rest wait in the backlog, and every one is accepted later`, async () => {
    const loop = make(mode);
    await drive(
      loop,
      mode,
      async () => {
        const before = fdCount();
        const listener = tcpListener({ backlog: 512 });
        const port = portOf(listener);
        const total = ACCEPT_QUEUE_LIMIT * 2 + 20;
        const first = loop.sockAccept(listener); // arms the multishot accept; then nobody asks
        const clients: SocketType[] = [];
        for (let i = 0; i < total; i++) {
          const c = tcpSocket();
          clients.push(c);
          await loop.sockConnect(c, ["127.0.0.1", port]);
          await loop.sockSendall(c, String(i).padStart(4, "0"));
        }
        const [firstServer] = await first;
        await loop.sleep(0.05);
        // This process's fds: the listener, the clients, the first accepted and those queued.
        const queued = fdCount() - before - 1 - total - 1;
        expect(queued).toBeGreaterThanOrEqual(ACCEPT_QUEUE_LIMIT);
        expect(queued).toBeLessThanOrEqual(ACCEPT_QUEUE_LIMIT + 8);
        // The multishot accept has ended; only the listener's close watch is in flight.
        expect(ringOf(loop).inflight).toBe(1);
        const ids = [(await loop.sockRecv(firstServer, 4)).toString()];
        firstServer.close();
        for (let i = 1; i < total; i++) {
          const [server] = await loop.sockAccept(listener);
          ids.push((await loop.sockRecv(server, 4)).toString());
          server.close();
        }
        expect(ids.sort()).toEqual(Array.from({ length: total }, (_, i) => String(i).padStart(4, "0")));
        listener.close();
        for (const c of clients) c.close();
        await loop.sleep(0.01);
        expect(ringOf(loop).inflight).toBe(0);
        expect(fdCount()).toBe(before);
      },
      30,
    );
  });

  it("a listener closed while its queue is full (the multishot accept stopped) closes the queued connections", async () => {
    const loop = make(mode);
    await drive(
      loop,
      mode,
      async () => {
        const before = fdCount();
        const listener = tcpListener({ backlog: 512 });
        const port = portOf(listener);
        const total = ACCEPT_QUEUE_LIMIT + 30;
        const first = loop.sockAccept(listener);
        const clients: SocketType[] = [];
        for (let i = 0; i < total; i++) {
          const c = tcpSocket();
          clients.push(c);
          await loop.sockConnect(c, ["127.0.0.1", port]);
        }
        (await first)[0].close();
        await loop.sleep(0.05);
        expect(fdCount() - before - 1 - total).toBeGreaterThanOrEqual(ACCEPT_QUEUE_LIMIT);
        listener.close();
        await loop.sleep(0.02);
        expect(fdCount()).toBe(before + total);
        expect(ringOf(loop).inflight).toBe(0);
        for (const c of clients) c.close();
        expect(fdCount()).toBe(before);
      },
      30,
    );
  });

  it("more operations in flight than ring entries (8): all complete", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const pairs = Array.from({ length: 100 }, () => pair().map(track) as [SocketType, SocketType]);
      const receives = pairs.map(([a]) => loop.sockRecv(a, 8));
      await loop.sleep(0.01);
      expect(ringOf(loop).inflight).toBe(100);
      await Promise.all(pairs.map(([, b], i) => loop.sockSendall(b, `m${i}`)));
      const got = await Promise.all(receives);
      expect(got.map((g) => g.toString())).toEqual(pairs.map((_, i) => `m${i}`));
    });
  });

  it("more receives than pooled buffers (64): each gets its own bytes", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const pairs = Array.from({ length: 150 }, () => pair().map(track) as [SocketType, SocketType]);
      const receives = pairs.map(([a]) => loop.sockRecv(a, 1024));
      await loop.sleep(0.01);
      for (const [i, [, b]] of pairs.entries()) b.send(Buffer.alloc(100 + i, i));
      const got = await Promise.all(receives);
      for (const [i, data] of got.entries()) expect(data.equals(Buffer.alloc(100 + i, i))).toBe(true);
    });
  });

  // The kernel writes into (or reads from) a caller's buffer until the operation completes; a
  // transfer of its ArrayBuffer would hand that memory to an owner that may free it meanwhile.
  it("a caller's buffer in flight cannot be transferred away: structuredClone copies it, and the bytes land in it", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const rx = track(udp(AF_INET, false));
      const tx = track(udp(AF_INET, false));
      const into = new Uint8Array(64);
      const receiving = loop.sockRecvfromInto(rx, into);
      await loop.sleep(0.01);
      const copy = structuredClone(into.buffer, { transfer: [into.buffer] });
      expect(into.byteLength).toBe(64); // not detached
      expect(copy.byteLength).toBe(64);
      tx.sendto(Buffer.from("landed"), rx.getsockname());
      const [count, from] = await receiving;
      expect(count).toBe(6);
      expect(from).toEqual(tx.getsockname());
      expect(Buffer.from(into.buffer, 0, 6).toString()).toBe("landed");

      // A send still in flight (its peer reads nothing yet): transferring its bytes leaves them in place.
      const [a, b] = pair().map(track) as [SocketType, SocketType];
      const payload = new Uint8Array(8 * 1024 * 1024).map((_, i) => i % 251);
      const sending = loop.sockSendall(a, payload);
      await loop.sleep(0.01);
      expect(ringOf(loop).inflight).toBeGreaterThan(0);
      structuredClone(payload.buffer, { transfer: [payload.buffer] });
      expect(payload.byteLength).toBe(8 * 1024 * 1024);
      const received: Buffer[] = [];
      let total = 0;
      while (total < payload.byteLength) {
        const data = await loop.sockRecv(b, 1 << 20);
        received.push(data);
        total += data.length;
      }
      await sending;
      expect(Buffer.concat(received).equals(Buffer.from(payload.buffer))).toBe(true);
    });
  });

  // 10,000 connections (20,000 fds) where the fd limit allows, else as many as it allows.
  const connections = Math.max(0, Math.min(10_000, Math.floor((softFdLimit() - fdCount() - 200) / 2)));
  it.runIf(mode === "proactor-owned" && connections >= 100)(
    `${connections} concurrent connections, each echoed once`,
    async () => {
      const loop = make(mode);
      await drive(
        loop,
        mode,
        async () => {
          const listener = track(tcpListener({ backlog: 4096 }));
          const port = portOf(listener);
          const servers: Promise<void>[] = [];
          const clients: Socket[] = [];
          const results: Promise<string>[] = [];
          // In waves of 1,000 connects, each accepted before the next starts: all 10,000 stay
          // open to the end, but the accept queue never nears the backlog (a loaded machine that
          // overflowed it had the kernel drop or reset connections: an ECONNRESET, not the ring's).
          for (let start = 0; start < connections; start += 1000) {
            const end = Math.min(connections, start + 1000);
            for (let i = start; i < end; i++) {
              const c = track(tcpSocket());
              clients.push(c);
              results.push(
                loop
                  .sockConnect(c, ["127.0.0.1", port])
                  .then(() => loop.sockSendall(c, `c${i}`))
                  .then(() => loop.sockRecv(c, 64))
                  .then((data) => data.toString()),
              );
            }
            for (let i = start; i < end; i++) {
              const [s] = await loop.sockAccept(listener);
              track(s);
              servers.push(loop.sockRecv(s, 64).then((data) => loop.sockSendall(s, data)));
            }
          }
          const echoed = await Promise.all(results);
          await Promise.all(servers);
          expect(echoed.every((text, i) => text === `c${i}`)).toBe(true);
        },
        60,
      );
    },
    90_000,
  );
});
