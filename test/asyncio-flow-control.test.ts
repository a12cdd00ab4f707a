// test/asyncio-flow-control.test.ts — the flow control and closing that the datagram transport
// shares with the stream transport (lib/asyncio/flow-control.ts), through the public API in every
// loop mode, over AF_UNIX datagrams (a peer that does not read fills up, so sends queue): the
// write-buffer limits, pauseWriting above high and resumeWriting at low, close() sending what is
// queued before connectionLost, abort() dropping it, and no fd left.
import { describe, expect, it } from "vitest";
import { join } from "node:path";

import { AF_UNIX, DatagramProtocol, SOCK_DGRAM, Socket, type DatagramTransport, type EventLoop } from "../lib/index.js";
import { expectFdCountAfterEach, testTempDir } from "./support/expect.js";
import { MODES, drive, loopFixtures, type Mode } from "./support/loop.js";

expectFdCountAfterEach();
const { make, track } = loopFixtures();

const dir = testTempDir("ns-asyncio-flow-");

/** Records the flow-control and lifetime callbacks. */
class Recorder extends DatagramProtocol {
  readonly events: string[] = [];
  readonly errors: Error[] = [];
  lostError: Error | null | undefined = undefined;
  override connectionMade(_transport: DatagramTransport): void {
    this.events.push("made");
  }
  override pauseWriting(): void {
    this.events.push("pause");
  }
  override resumeWriting(): void {
    this.events.push("resume");
  }
  override errorReceived(error: Error): void {
    this.errors.push(error);
  }
  override connectionLost(error: Error | null): void {
    this.events.push("lost");
    this.lostError = error;
  }
}

async function until(loop: EventLoop, check: () => boolean, seconds = 5): Promise<void> {
  const end = loop.time() + seconds;
  while (!check()) {
    if (loop.time() > end) throw new Error("condition not met in time");
    await loop.sleep(0.005);
  }
}

/** A bound AF_UNIX datagram socket that reads only when told to. */
function unixPeer(): [Socket, string] {
  const path = join(dir(), `p${Math.random().toString(36).slice(2)}.sock`);
  const peer = track(new Socket(AF_UNIX, SOCK_DGRAM));
  peer.bind(path);
  peer.setblocking(false);
  return [peer, path];
}

/** Reads every datagram queued on `peer` now; how many there were. */
function drain(peer: Socket): number {
  let n = 0;
  for (;;) {
    try {
      peer.recv(65536);
      n++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") return n;
      throw error;
    }
  }
}

const DATAGRAM = Buffer.alloc(400, 0x61);

/** Sends datagrams until the transport's queue is above `size` bytes; how many were sent. */
function fillQueue(transport: DatagramTransport, size: number): number {
  let sent = 0;
  while (transport.getWriteBufferSize() <= size) {
    if (++sent > 10_000) throw new Error("the peer never filled up");
    transport.sendto(DATAGRAM);
  }
  return sent;
}

describe.each(MODES)("datagram transport flow control (%s)", (mode: Mode) => {
  it("pauses writing above the high-water mark, resumes at the low one, and close() sends what is queued first", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const [peer, path] = unixPeer();
      const [transport, protocol] = await loop.createDatagramEndpoint(() => new Recorder(), { remoteAddr: path });
      expect(transport.getWriteBufferLimits()).toEqual([16 * 1024, 64 * 1024]);
      expect(() => transport.setWriteBufferLimits(100, 200)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      transport.setWriteBufferLimits(2000, 800);
      expect(transport.getWriteBufferLimits()).toEqual([800, 2000]);
      let sent = fillQueue(transport, 2000);
      expect(protocol.events).toEqual(["made", "pause"]);
      // The peer reads: the queue drains, resumeWriting comes once it is at 800 bytes or less.
      let received = 0;
      await until(loop, () => {
        received += drain(peer);
        return transport.getWriteBufferSize() === 0;
      });
      expect(protocol.events).toEqual(["made", "pause", "resume"]);
      // Raising the high-water mark above the queue does not pause; lowering it below does.
      sent += fillQueue(transport, 1000);
      expect(protocol.events).toEqual(["made", "pause", "resume"]);
      transport.setWriteBufferLimits(500);
      expect(transport.getWriteBufferLimits()).toEqual([125, 500]);
      expect(protocol.events).toEqual(["made", "pause", "resume", "pause"]);
      transport.close();
      expect(transport.isClosing()).toBe(true);
      // A datagram after close() is dropped.
      transport.sendto(DATAGRAM);
      await loop.sleep(0.02);
      expect(protocol.events).not.toContain("lost");
      await until(loop, () => {
        received += drain(peer);
        return protocol.events.includes("lost");
      });
      received += drain(peer);
      expect(received).toBe(sent);
      expect(protocol.events).toEqual(["made", "pause", "resume", "pause", "resume", "lost"]);
      expect(protocol.lostError).toBeNull();
      expect(protocol.errors).toEqual([]);
      expect(transport.getExtraInfo("sockname")).toBeUndefined();
    });
  });

  it("abort() drops what is queued: connectionLost(null) comes although the peer never reads", async () => {
    const loop = make(mode);
    await drive(loop, mode, async () => {
      const [peer, path] = unixPeer();
      const [transport, protocol] = await loop.createDatagramEndpoint(() => new Recorder(), { remoteAddr: path });
      const sent = fillQueue(transport, 5000);
      expect(protocol.events).toEqual(["made"]);
      transport.abort();
      expect(transport.isClosing()).toBe(true);
      expect(transport.getWriteBufferSize()).toBe(0);
      transport.abort();
      transport.close();
      await until(loop, () => protocol.events.includes("lost"));
      expect(protocol.events).toEqual(["made", "lost"]);
      expect(protocol.lostError).toBeNull();
      const received = drain(peer);
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThan(sent);
    });
  });
});
