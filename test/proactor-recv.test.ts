// test/proactor-recv.test.ts — ProactorEventLoop's stream receives as one multishot receive per
// socket into the ring's provided buffers (lib/loop/ringrecv.ts): the options and the native
// checks, provided-buffer exhaustion, queue backpressure, a queued chunk split between calls, end
// of stream and ECONNRESET after queued bytes, an abort while waiting on the queue, close() with the
// multishot receive armed, the single-shot fallback, and on the default ring the bounds of the
// queue and of a paused Protocol transport's read-ahead (exact with the kernel's byte limits, Linux
// 6.17). Skipped only where io_uring cannot be used here, with the reason in the suite's name.
import { release } from "node:os";
import { describe, expect, it } from "vitest";

import {
  AF_UNIX,
  ProactorEventLoop,
  Protocol,
  SOCK_DGRAM,
  lowlevel,
  socketpair,
  type EventLoop,
  type NativeUring,
  type Socket,
  type Transport,
} from "../lib/index.js";
import { proactorDefaults } from "../lib/loop/proactor.js";
import { READER_LIMIT, RECV_QUEUE_LIMIT } from "../lib/loop/ringrecv.js";
import { drive, loopFixtures, ringOf, type Mode } from "./support/loop.js";
import { pair, portOf, socketpairsAt, tcpListener, tcpSocketPair } from "./support/net.js";

const available = ProactorEventLoop.available;
const reason = ProactorEventLoop.unavailableReason;

type PMode = Extract<Mode, "proactor-owned" | "proactor-attached">;
const PMODES: readonly PMode[] = ["proactor-owned", "proactor-attached"];

/** The ring's receive path: "" when stream receives are multishot receives, else why not. */
function fallbackReason(loop: EventLoop): string {
  return (loop as ProactorEventLoop)._recvFallbackReason;
}

/** `n` bytes of a pattern that changes every byte, starting at `from` (so a lost or reordered byte shows). */
function pattern(from: number, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = (from + i) % 251;
  return out;
}

/** Reads with sockRecv(chunk) until `total` bytes have come. */
async function readAll(loop: EventLoop, sock: Socket, total: number, chunk: number): Promise<Buffer> {
  const got: Buffer[] = [];
  let n = 0;
  while (n < total) {
    const data = await loop.sockRecv(sock, chunk);
    if (data.length === 0) throw new Error(`end of stream after ${n} of ${total} bytes`);
    got.push(data);
    n += data.length;
  }
  return Buffer.concat(got);
}

describe.skipIf(!available)(`ProactorEventLoop receive options and the native buffer ring${available ? "" : ` — skipped: ${reason}`}`, () => {
  it("checks recvBufferCount and recvBufferSize, and says which receive path it took", () => {
    const bad: [object, string][] = [
      [{ recvBufferCount: 3 }, "ERR_INVALID_ARG_VALUE"],
      [{ recvBufferCount: -1 }, "ERR_OUT_OF_RANGE"],
      [{ recvBufferCount: 65536 }, "ERR_OUT_OF_RANGE"],
      [{ recvBufferCount: "8" }, "ERR_INVALID_ARG_TYPE"],
      [{ recvBufferSize: 0 }, "ERR_OUT_OF_RANGE"],
      [{ recvBufferSize: 1.5 }, "ERR_OUT_OF_RANGE"],
      [{ recvBufferSize: (1 << 20) + 1 }, "ERR_OUT_OF_RANGE"],
    ];
    for (const [options, code] of bad) expect(() => new ProactorEventLoop(options)).toThrow(expect.objectContaining({ code }));
    const single = new ProactorEventLoop({ recvBufferCount: 0 });
    const multi = new ProactorEventLoop({ recvBufferCount: 2, recvBufferSize: 1 });
    try {
      expect(fallbackReason(single)).not.toBe("");
      // Linux 6.0 has multishot receives; an older kernel says so and falls back.
      const major = Number(release().split(".")[0]);
      if (major >= 6) expect(fallbackReason(multi)).toBe("");
      else expect(fallbackReason(multi)).toMatch(/Linux 6\.0/);
    } finally {
      single.close();
      multi.close();
    }
  });

  it("setupBuffers and recvMultishot check their arguments", () => {
    const p = new lowlevel.Poller("uring", 8);
    const ops = lowlevel.uring as Required<NativeUring>;
    const [a, b] = lowlevel.socketpair();
    try {
      ops.setCompletions(p, new Int32Array(16));
      expect(() => ops.recvMultishot(p, 1, a)).toThrow(expect.objectContaining({ code: "ERR_INVALID_STATE" }));
      const slab = new ArrayBuffer(64);
      expect(() => ops.setupBuffers(p, 3, 64, slab)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
      expect(() => ops.setupBuffers(p, 0, 64, slab)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      expect(() => ops.setupBuffers(p, 65536, 64, slab)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      expect(() => ops.setupBuffers(p, 4, 0, slab)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      expect(() => ops.setupBuffers(p, 4, 128, slab)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      expect(() => ops.setupBuffers(p, 4, 64, new Uint8Array(64) as unknown as ArrayBuffer)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      expect(() => ops.setupBuffers({} as typeof p, 4, 64, slab)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      expect(ops.setupBuffers(p, 4, 64, slab)).toBe(0);
      expect(ops.setupBuffers(p, 4, 64, slab)).toBe(-114); // EALREADY
      expect(() => ops.recvMultishot(p, 0, a)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      expect(() => ops.recvMultishot(p, 1, -1)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      expect(() => ops.recvMultishot(p, 1, a, -1)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      expect(() => ops.recvMultishot(p, 1, a, 1.5)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      expect(() => ops.recvMultishot(p, 1, a, 2 ** 31)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      expect(() => ops.recvMultishot(p, 1, a, "8" as unknown as number)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      const [major, minor] = release().split(".").map(Number) as [number, number];
      expect(ops.multishotLimit()).toBe(major > 6 || (major === 6 && minor >= 17));
      expect(ops.recvMultishot(p, 1, a)).toBe(0);
      expect(() => ops.recvMultishot(p, 1, a)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
      expect(ops.inflight(p)).toBe(1);
    } finally {
      p.close(); // cancels the multishot receive and waits for its end
      lowlevel.close(a);
      lowlevel.close(b);
    }
  });
});

describe.skipIf(!available).each(PMODES)(`ProactorEventLoop multishot stream receives (%s)${available ? "" : ` — skipped: ${reason}`}`, (mode) => {
  // A tiny provided-buffer ring: 4 buffers of 64 bytes.
  const { make, track } = loopFixtures<PMode>(() => new ProactorEventLoop({ entries: 16, recvBufferCount: 4, recvBufferSize: 64 }));

  /** A loop on the multishot path (the suite is about it; the fallback has its own test). */
  function loopOf(m: PMode): EventLoop {
    const loop = make(m);
    expect(fallbackReason(loop)).toBe("");
    return loop;
  }

  /**
   * A new socketpair whose first socket takes `fd`, the number of a socket just closed with its
   * receive armed: once that receive has ended, the new socket's sockRecv gets only its own bytes.
   */
  async function expectOwnBytesOnReusedFd(loop: EventLoop, fd: number): Promise<[Socket, Socket]> {
    const [[c, d]] = socketpairsAt([fd], false) as [[Socket, Socket]];
    track(c);
    track(d);
    expect(c.fileno()).toBe(fd);
    await loop.sleep(0.01);
    expect(ringOf(loop).inflight).toBe(0);
    const got = loop.sockRecv(c, 100);
    await loop.sleep(0.01);
    await loop.sockSendall(d, "new");
    expect((await got).toString()).toBe("new");
    return [c, d];
  }

  it("more bytes at once than the provided buffers hold, on many sockets: every byte arrives, in order", async () => {
    const loop = loopOf(mode);
    await drive(
      loop,
      mode,
      async () => {
        const pairs = Array.from({ length: 24 }, () => pair().map(track) as [Socket, Socket]);
        const size = 20_000; // over 75 times what the 4 buffers hold
        const readers = pairs.map(([a]) => readAll(loop, a, size, 1000));
        await loop.sleep(0.01); // every multishot receive armed
        const writers = pairs.map(([, b], i) => loop.sockSendall(b, pattern(i, size)));
        await Promise.all(writers);
        const got = await Promise.all(readers);
        for (const [i, data] of got.entries()) expect(data.equals(pattern(i, size))).toBe(true);
      },
      30,
    );
  });

  // With the default provided buffers (2 MiB), so that the queue's bound stops the receive before
  // the buffers run out.
  it(`a peer writing far past the queue's bound (${RECV_QUEUE_LIMIT} bytes) while nobody reads: the receive stops, and reads get it all in order`, async () => {
    const loop = new ProactorEventLoop({ entries: 16 });
    try {
      expect(fallbackReason(loop)).toBe("");
      await drive(
        loop,
        mode,
        async () => {
          const [a, b] = pair().map(track) as [Socket, Socket];
          const first = loop.sockRecv(a, 1); // arms the multishot receive
          await loop.sockSendall(b, "!");
          expect((await first).toString()).toBe("!");
          const total = 800 * 1024;
          let sent = false;
          const sending = loop.sockSendall(b, pattern(0, total)).then(() => (sent = true));
          await loop.sleep(0.1);
          // The socket buffers hold less than what the queue leaves: the send still waits, and
          // the multishot receive has been cancelled at the bound, so only the send is in flight.
          expect(sent).toBe(false);
          expect(ringOf(loop).inflight).toBe(1);
          const data = await readAll(loop, a, total, 65536);
          await sending;
          expect(data.equals(pattern(0, total))).toBe(true);
          expect(ringOf(loop).inflight).toBe(1); // armed again by a read that found the queue empty
        },
        30,
      );
    } finally {
      loop.detach();
      loop.close();
    }
  });

  it("a queued chunk is split between calls: sockRecv(3) on 10 queued bytes, then sockRecvInto", async () => {
    const loop = loopOf(mode);
    await drive(loop, mode, async () => {
      const [a, b] = pair().map(track) as [Socket, Socket];
      const first = loop.sockRecv(a, 5);
      await loop.sockSendall(b, "x");
      expect((await first).toString()).toBe("x");
      await loop.sockSendall(b, "0123456789");
      await loop.sleep(0.02); // queued
      expect((await loop.sockRecv(a, 3)).toString()).toBe("012");
      expect((await loop.sockRecv(a, 3)).toString()).toBe("345");
      const into = Buffer.alloc(2);
      expect(await loop.sockRecvInto(a, into)).toBe(2);
      expect(into.toString()).toBe("67");
      expect((await loop.sockRecv(a, 100)).toString()).toBe("89");
    });
  });

  it("end of stream and ECONNRESET come after the bytes queued before them", async () => {
    const loop = loopOf(mode);
    await drive(loop, mode, async () => {
      const [a, b] = pair().map(track) as [Socket, Socket];
      const first = loop.sockRecv(a, 5);
      await loop.sockSendall(b, "x");
      await first;
      await loop.sockSendall(b, "last words");
      b.close();
      await loop.sleep(0.02);
      expect((await loop.sockRecv(a, 4)).toString()).toBe("last");
      expect((await loop.sockRecv(a, 100)).toString()).toBe(" words");
      expect((await loop.sockRecv(a, 100)).length).toBe(0);
      expect(await loop.sockRecvInto(a, Buffer.alloc(8))).toBe(0);

      // A TCP peer that closes with bytes unread resets the connection.
      const [c, d] = tcpSocketPair().map(track) as [Socket, Socket];
      c.setblocking(false);
      d.setblocking(false);
      const armed = loop.sockRecv(c, 5);
      await loop.sockSendall(d, "y");
      await armed;
      await loop.sockSendall(c, "never read by d");
      await loop.sockSendall(d, "before the reset");
      await loop.sleep(0.02);
      d.close();
      await loop.sleep(0.02);
      expect((await readAll(loop, c, 16, 100)).toString()).toBe("before the reset");
      await expect(loop.sockRecv(c, 100)).rejects.toMatchObject({ code: "ECONNRESET", syscall: "recv" });
    });
  });

  it("an abort of a call waiting on the queue rejects at once and takes nothing", async () => {
    const loop = loopOf(mode);
    await drive(loop, mode, async () => {
      const [a, b] = pair().map(track) as [Socket, Socket];
      const ac = new AbortController();
      const waiting = loop.sockRecv(a, 100, { signal: ac.signal });
      const intoAc = new AbortController();
      const into = loop.sockRecvInto(a, Buffer.alloc(8), { signal: intoAc.signal });
      await loop.sleep(0.01);
      let settled = "";
      waiting.catch((error: unknown) => (settled = (error as Error).name));
      ac.abort();
      intoAc.abort();
      await Promise.resolve();
      await Promise.resolve();
      expect(settled).toBe("AbortError"); // before any iteration of the loop
      await expect(into).rejects.toMatchObject({ name: "AbortError" });
      expect(ringOf(loop).inflight).toBe(1); // the multishot receive stays armed
      await loop.sockSendall(b, "kept for the next call");
      await loop.sleep(0.02);
      expect((await readAll(loop, a, 22, 100)).toString()).toBe("kept for the next call");
    });
  });

  it("close() with the multishot receive armed: it ends before the fd is closed, and the fd's next user gets only its own bytes", async () => {
    const loop = loopOf(mode);
    await drive(loop, mode, async () => {
      const [a, b] = pair();
      track(b);
      const pending = loop.sockRecv(a, 100);
      await loop.sleep(0.01);
      expect(ringOf(loop).inflight).toBe(1);
      const fd = a.fileno();
      b.send(Buffer.from("stale")); // may reach the multishot receive before the close
      a.close();
      // Its call got the bytes that came before the close, or rejects as closed.
      const outcome = await pending.then(
        (data) => data.toString(),
        (error: unknown) => (error as NodeJS.ErrnoException).code,
      );
      expect(["stale", "EBADF"]).toContain(outcome);
      await expectOwnBytesOnReusedFd(loop, fd);
    });
  });

  it("bytes queued for a socket closed unread never reach the fd's next user, whose stream starts empty", async () => {
    const loop = loopOf(mode);
    await drive(loop, mode, async () => {
      const [a, b] = pair();
      track(b);
      const first = loop.sockRecv(a, 3);
      await loop.sleep(0.01);
      await loop.sockSendall(b, "0123456789");
      expect((await first).toString()).toBe("012");
      await loop.sleep(0.01); // the rest, "3456789", stays queued for nobody
      const fd = a.fileno();
      a.close();
      const [c, d] = await expectOwnBytesOnReusedFd(loop, fd);
      // And again on the same socket, past the first call's stream.
      const again = loop.sockRecv(c, 100);
      await loop.sockSendall(d, "more");
      expect((await again).toString()).toBe("more");
    });
  });

  it("datagram sockets keep single-shot receives", async () => {
    const loop = loopOf(mode);
    await drive(loop, mode, async () => {
      const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM).map(track);
      a.setblocking(false);
      b.setblocking(false);
      const got = loop.sockRecv(a, 3);
      await loop.sleep(0.01);
      expect(ringOf(loop).inflight).toBe(1);
      await loop.sockSendall(b, "datagram");
      expect((await got).toString()).toBe("dat"); // cut, as recv cuts a datagram
      expect(ringOf(loop).inflight).toBe(0);
    });
  });
});

/**
 * Whether the loops bound a multishot receive by bytes: this kernel has the limits (Linux 6.17) and
 * the suite is not rerun without them (proactor-nolimits.test.ts). The bounds below are exact then.
 */
function kernelHasByteLimits(): boolean {
  const [major, minor] = release().split(".").map(Number) as [number, number];
  return proactorDefaults.recvByteLimits && (major > 6 || (major === 6 && minor >= 17));
}

describe.skipIf(!available).each(PMODES)(`ProactorEventLoop receive bounds on the default ring (%s)${available ? "" : ` — skipped: ${reason}`}`, (mode) => {
  // The default ring: 128 provided buffers of 16 KiB, 2 MiB that one fast peer could fill at once.
  const { make, track } = loopFixtures<PMode>(() => new ProactorEventLoop());

  function proactorOf(m: PMode): ProactorEventLoop {
    const loop = make(m) as ProactorEventLoop;
    expect(fallbackReason(loop)).toBe("");
    expect(ringOf(loop)).toMatchObject({ multishotLimit: kernelHasByteLimits() });
    return loop;
  }

  /** A non-blocking TCP pair whose `a` has its multishot receive armed (for calls) by one sockRecv. */
  async function armedPair(loop: ProactorEventLoop): Promise<[Socket, Socket]> {
    const [a, b] = tcpSocketPair().map(track) as [Socket, Socket];
    a.setblocking(false);
    b.setblocking(false);
    const first = loop.sockRecv(a, 1);
    await loop.sockSendall(b, "!");
    expect((await first).toString()).toBe("!");
    return [a, b];
  }

  /**
   * What sockRecv's queue may hold for nobody: with byte limits the kernel ends a receive at the
   * completion that reaches the limit, one provided buffer (16 KiB) past it at most; without, a
   * cancel that lands late lets the whole ring (128 × 16 KiB) in.
   */
  function queueBound(): number {
    return kernelHasByteLimits() ? RECV_QUEUE_LIMIT + 16384 : RECV_QUEUE_LIMIT + 128 * 16384;
  }

  /** A Protocol that keeps every chunk and pauses reading after the first; `lost` settles with connectionLost's error. */
  function pausesAtOnce(): { factory: () => Protocol; received: Buffer[]; lost: Promise<Error | null> } {
    const received: Buffer[] = [];
    let settle: (error: Error | null) => void = () => {};
    const lost = new Promise<Error | null>((resolve) => (settle = resolve));
    class PausesAtOnce extends Protocol {
      #transport: Transport | null = null;
      override connectionMade(t: Transport): void {
        this.#transport = t;
      }
      override dataReceived(data: Buffer): void {
        received.push(Buffer.from(data));
        if (received.length === 1) this.#transport!.pauseReading();
      }
      override connectionLost(error: Error | null): void {
        settle(error);
      }
    }
    return { factory: () => new PausesAtOnce(), received, lost };
  }

  /** Resumes `t` whenever it paused (after each chunk) until `total` bytes came; throws after 20 s. */
  async function readAllResuming(loop: ProactorEventLoop, t: Transport, received: Buffer[], total: number): Promise<void> {
    const deadline = loop.time() + 20;
    while (received.reduce((n, d) => n + d.length, 0) < total) {
      if (loop.time() > deadline) throw new Error("not all bytes arrived");
      if (!t.isReading()) t.resumeReading();
      await loop.sleep(0.001);
    }
  }

  it(`sockRecv's queue holds at most ${RECV_QUEUE_LIMIT} bytes and one buffer for nobody, whatever the peer sends (byte limits; before Linux 6.17, the cancel's overshoot stays within the ring)`, async () => {
    const loop = proactorOf(mode);
    await drive(
      loop,
      mode,
      async () => {
        const [a, b] = await armedPair(loop);
        const total = 16 * 1024 * 1024;
        const sending = loop.sockSendall(b, pattern(0, total));
        await loop.sleep(0.2);
        expect(loop._recvQueued(a)).toBeGreaterThan(0);
        expect(loop._recvQueued(a)).toBeLessThanOrEqual(queueBound());
        const data = await readAll(loop, a, total, 1 << 20);
        await sending;
        expect(data.equals(pattern(0, total))).toBe(true);
      },
      30,
    );
  });

  it("a socket read with sockRecv, then given to a Protocol transport: what its receive queued comes first, in order, and the queue stays bounded while paused", async () => {
    const loop = proactorOf(mode);
    await drive(
      loop,
      mode,
      async () => {
        const [a, b] = await armedPair(loop);
        const total = 8 * 1024 * 1024;
        const sending = loop.sockSendall(b, pattern(0, total));
        await loop.sleep(0.1);
        expect(loop._recvQueued(a)).toBeGreaterThan(0);
        const { factory, received } = pausesAtOnce();
        const [t] = await loop.createConnection(factory, null, null, { sock: a });
        await loop.sleep(0.1);
        expect(received.length).toBe(1);
        expect(loop._recvQueued(a)).toBeLessThanOrEqual(queueBound());
        await readAllResuming(loop, t, received, total);
        await sending;
        expect(Buffer.concat(received).equals(pattern(0, total))).toBe(true);
        t.abort();
      },
      30,
    );
  });

  it(`a Protocol transport whose reading is paused takes in at most ${READER_LIMIT} bytes and one buffer more, and gets every byte in order once resumed`, async () => {
    const loop = proactorOf(mode);
    expect(loop._streamReads).toBe(kernelHasByteLimits());
    await drive(
      loop,
      mode,
      async () => {
        const listener = track(tcpListener());
        const { factory, received, lost } = pausesAtOnce();
        const [t] = await loop.createConnection(factory, "127.0.0.1", portOf(listener));
        const [peer] = listener.accept();
        track(peer).setblocking(false);
        const total = 16 * 1024 * 1024;
        const sending = loop.sockSendall(peer, pattern(0, total));
        await loop.sleep(0.2);
        expect(received.length).toBe(1);
        const sock = t.getExtraInfo("socket") as Socket;
        // The first chunk went to dataReceived, what came after the pause waits in the queue.
        if (loop._streamReads) expect(loop._recvQueued(sock)).toBeLessThanOrEqual(READER_LIMIT + 16384);
        else expect(loop._recvQueued(sock)).toBe(0); // one single-shot read, held by the transport
        // Each chunk pauses it again: the rest streams in order as it is resumed.
        await readAllResuming(loop, t, received, total);
        await sending;
        expect(Buffer.concat(received).equals(pattern(0, total))).toBe(true);
        t.close();
        expect(await lost).toBeNull();
      },
      30,
    );
  });
});
