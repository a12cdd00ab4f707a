// test/asyncio-signals.test.ts — the `signal` option of createUnixConnection and
// createDatagramEndpoint through the public API with real sockets, in every loop mode: an
// already-aborted signal rejects before anything is opened; an abort while the call resolves a
// name, connects, or makes the transport rejects with an AbortError whose cause is the signal's
// reason, and closes what the call opened (the fd count is checked after each call and each test).
import { describe, expect, it } from "vitest";
import { join } from "node:path";

import { AF_UNIX, DatagramProtocol, Protocol, SOCK_STREAM, Socket, type DatagramTransport, type EventLoop, type Transport } from "../lib/index.js";
import { expectFdCountAfterEach, testTempDir } from "./support/expect.js";
import { fdCount } from "./support/fds.js";
import { MODES, drive, loopFixtures, type Mode } from "./support/loop.js";
import { portOf, udp } from "./support/net.js";

expectFdCountAfterEach();
const { make, track } = loopFixtures();

const dir = testTempDir("ns-asyncio-signals-");

/** A listening AF_UNIX socket (closed after the test) and its path. */
function unixListener(backlog = 16): [Socket, string] {
  const path = join(dir(), `l${Math.random().toString(36).slice(2)}.sock`);
  const listener = track(new Socket(AF_UNIX, SOCK_STREAM));
  listener.bind(path);
  listener.listen(backlog);
  listener.setblocking(false);
  return [listener, path];
}

/** Accepts what is queued on a non-blocking listener now, closing each; how many there were. */
function drain(listener: Socket): number {
  let n = 0;
  for (;;) {
    try {
      listener.accept()[0].close();
      n++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") return n;
      throw error;
    }
  }
}

/** A protocol recording its callbacks. */
class Events extends Protocol {
  readonly seen: string[] = [];
  override connectionMade(_transport: Transport): void {
    this.seen.push("made");
  }
  override connectionLost(): void {
    this.seen.push("lost");
  }
}
class DatagramEvents extends DatagramProtocol {
  readonly seen: string[] = [];
  override connectionMade(_transport: DatagramTransport): void {
    this.seen.push("made");
  }
  override connectionLost(): void {
    this.seen.push("lost");
  }
}

/** Waits `seconds` on the loop's clock. */
function pause(loop: EventLoop, seconds: number): Promise<void> {
  return new Promise((resolve) => loop.callLater(seconds, resolve));
}

/**
 * Expects `call` to reject with an AbortError caused by `reason`, and the fd count to be the same
 * as before it once a transport the call made has had its connectionLost (a few iterations).
 */
async function expectAborted(loop: EventLoop, call: () => Promise<unknown>, reason: unknown): Promise<void> {
  const before = fdCount();
  const error = await call().then(
    () => new Error("the call resolved"),
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ name: "AbortError", code: "ABORT_ERR" });
  expect((error as Error).cause).toBe(reason);
  await pause(loop, 0.01);
  expect(fdCount()).toBe(before);
}

describe.each(MODES)("the signal option (%s)", (mode: Mode) => {
  it("an already-aborted signal: createUnixConnection and createDatagramEndpoint reject before opening anything", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const [listener, path] = unixListener();
      const reason = new Error("stop");
      const signal = AbortSignal.abort(reason);
      let made = 0;
      const factory = (): Events => (made++, new Events());
      await expectAborted(loop, () => loop.createUnixConnection(factory, path, { signal }), reason);
      await expectAborted(loop, () => loop.createDatagramEndpoint(() => (made++, new DatagramEvents()), { localAddr: ["127.0.0.1", 0], signal }), reason);
      const peer = track(udp());
      await expectAborted(
        loop,
        () => loop.createDatagramEndpoint(() => (made++, new DatagramEvents()), { remoteAddr: ["127.0.0.1", portOf(peer)], signal }),
        reason,
      );
      await expectAborted(loop, () => loop.createDatagramEndpoint(() => (made++, new DatagramEvents()), { localAddr: join(dir(), "d.sock"), signal }), reason);
      // Nothing was made, and nothing connected.
      expect(made).toBe(0);
      expect(drain(listener)).toBe(0);
    });
  });

  it("an abort while the name resolves: createDatagramEndpoint rejects and opens nothing", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const peer = track(udp());
      for (const options of [{ localAddr: ["localhost", 0] as const }, { remoteAddr: ["localhost", portOf(peer)] as const }]) {
        const ac = new AbortController();
        const reason = new Error("stop resolving");
        const factory = (): DatagramEvents => new DatagramEvents();
        await expectAborted(
          loop,
          () => {
            const call = loop.createDatagramEndpoint(factory, { ...options, signal: ac.signal });
            ac.abort(reason);
            return call;
          },
          reason,
        );
      }
    });
  });

  it("an abort while the transport is made (from the protocol factory): the call rejects and closes its socket", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const [listener, path] = unixListener();
      const reason = new Error("factory said stop");
      let ac = new AbortController();
      const stream = new Events();
      await expectAborted(
        loop,
        () =>
          loop.createUnixConnection(
            () => {
              ac.abort(reason);
              return stream;
            },
            path,
            { signal: ac.signal },
          ),
        reason,
      );
      // The connection was made, then closed by the call: the server side sees EOF.
      const [conn] = listener.accept();
      track(conn);
      conn.setblocking(false);
      expect((await loop.sockRecv(conn, 10)).length).toBe(0);
      ac = new AbortController();
      const dgram = new DatagramEvents();
      await expectAborted(
        loop,
        () =>
          loop.createDatagramEndpoint(
            () => {
              ac.abort(reason);
              return dgram;
            },
            { localAddr: ["127.0.0.1", 0], signal: ac.signal },
          ),
        reason,
      );
      // The protocols were never connected.
      await pause(loop, 0.01);
      expect(stream.seen).toEqual([]);
      expect(dgram.seen).toEqual([]);
    });
  });

  it("an abort from a loop callback during the call: the call rejects, its protocol (if made) is lost, no fd is left", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const [listener, path] = unixListener();
      const reason = new Error("callback said stop");
      const stream = new Events();
      let ac = new AbortController();
      // Queued before the call: it runs while the call connects or waits for connectionMade.
      loop.callSoon(() => ac.abort(reason));
      await expectAborted(loop, () => loop.createUnixConnection(() => stream, path, { signal: ac.signal }), reason);
      ac = new AbortController();
      const dgram = new DatagramEvents();
      loop.callSoon(() => ac.abort(reason));
      await expectAborted(loop, () => loop.createDatagramEndpoint(() => dgram, { localAddr: ["127.0.0.1", 0], signal: ac.signal }), reason);
      // A protocol that was connected gets its connectionLost.
      await pause(loop, 0.01);
      for (const seen of [stream.seen, dgram.seen]) expect([[], ["made", "lost"]]).toContainEqual(seen);
      drain(listener);
    });
  });

  it("createUnixConnection to a listener whose backlog is full, with loop.timeout: rejects with EAGAIN at once, no fd is left, the queue is untouched", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const [listener, path] = unixListener(0);
      // Fill the backlog: connects succeed until one finds it full (EAGAIN).
      const queued: Socket[] = [];
      for (let r = 0; r === 0 && queued.length < 64;) {
        const s = track(new Socket(AF_UNIX, SOCK_STREAM));
        s.setblocking(false);
        r = s.connectEx(path);
        if (r === 0) queued.push(s);
      }
      const before = fdCount();
      const error = await loop
        .createUnixConnection(() => new Events(), path, { signal: loop.timeout(0.05) })
        .then(
          () => new Error("connected to a full backlog"),
          (e: unknown) => e,
        );
      // connect(2) says EAGAIN for a full backlog: every loop reports it at once (as libuv does),
      // before the timeout; none waits on the always-writable unconnected socket.
      expect(error).toMatchObject({ code: "EAGAIN", syscall: "connect" });
      expect(fdCount()).toBe(before);
      expect(drain(listener)).toBe(queued.length);
    });
  });
});
