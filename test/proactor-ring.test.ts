// test/proactor-ring.test.ts — the io_uring ring under ProactorEventLoop at the lowlevel layer
// (lowlevel.Poller("uring") and lowlevel.uring): the close watch (an operation with nothing in the
// kernel, ended by cancel, close(fd) or the ring's close), a recvmsg's sender written into an
// address array (takeAddressInto), and a signal during a wait that also submitted requests.
// Skipped only where io_uring cannot be used here, with the reason in the suite's name.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

import { ProactorEventLoop, lowlevel, type NativePoller, type NativeUring } from "../lib/index.js";
import { closeAll, closedFd } from "./support/fds.js";

const available = ProactorEventLoop.available;
const reason = ProactorEventLoop.unavailableReason;
const ECANCELED = -125;

/** A ring with its completion array, and what each wait() delivered. */
function ring(): { p: NativePoller; ops: Required<NativeUring>; wait: (timeoutMs: number) => number[][] } {
  const p = new lowlevel.Poller("uring", 8);
  const ops = lowlevel.uring as Required<NativeUring>;
  const completions = new Int32Array(1 + 3 * 16);
  ops.setCompletions(p, completions);
  const ready = new Int32Array(16);
  const wait = (timeoutMs: number): number[][] => {
    p.wait(ready, timeoutMs);
    const got: number[][] = [];
    for (let i = 0; i < completions[0]!; i++) got.push([...completions.subarray(1 + 3 * i, 4 + 3 * i)]);
    completions[0] = 0;
    return got;
  };
  return { p, ops, wait };
}

describe.skipIf(!available)(`the io_uring ring${available ? "" : ` — skipped: ${reason}`}`, () => {
  it("watchClose checks its arguments and refuses an fd that is not open", () => {
    const { p, ops } = ring();
    const [a, b] = lowlevel.socketpair();
    try {
      expect(() => ops.watchClose(p, 0, a)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      expect(() => ops.watchClose(p, 1, "3" as unknown as number)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      expect(() => ops.watchClose({} as NativePoller, 1, a)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      expect(ops.watchClose(p, 1, closedFd())).toBe(-9); // EBADF
      expect(ops.inflight(p)).toBe(0);
      expect(ops.watchClose(p, 1, a)).toBe(0);
      expect(() => ops.watchClose(p, 1, a)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
    } finally {
      p.close();
      closeAll(a, b);
    }
  });

  it("takeAddressInto writes a recvmsg's sender once, as acceptInto writes an address, and checks its arguments first", () => {
    const { p, ops, wait } = ring();
    const rx = lowlevel.socket(lowlevel.constants.AF_INET, lowlevel.constants.SOCK_DGRAM);
    const tx = lowlevel.socket(lowlevel.constants.AF_INET, lowlevel.constants.SOCK_DGRAM);
    try {
      lowlevel.bind(rx, lowlevel.constants.AF_INET, "127.0.0.1", 0);
      lowlevel.bind(tx, lowlevel.constants.AF_INET, "127.0.0.1", 0);
      const into = Buffer.alloc(16);
      expect(ops.recvmsg(p, 3, rx, into, 0, into.length)).toBe(0);
      const [, port] = lowlevel.getsockname(rx) as [string, number];
      expect(lowlevel.sendto(tx, Buffer.from("hi"), 0, 2, 0, lowlevel.constants.AF_INET, "127.0.0.1", port)).toBe(2);
      expect(wait(1000)).toEqual([[3, 2, 0]]);
      const out = new Int32Array(lowlevel.sockaddrOutWords);
      // A bad ring, id or array throws before anything is taken.
      expect(() => ops.takeAddressInto({} as NativePoller, 3, out)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      expect(() => ops.takeAddressInto(p, 0, out)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      expect(() => ops.takeAddressInto(p, 3, new Int32Array(4))).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
      expect(() => ops.takeAddressInto(p, 3, new Float64Array(40) as unknown as Int32Array)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      expect(() => ops.takeAddressInto(p, 3, undefined as unknown as Int32Array)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      ops.takeAddressInto(p, 3, out.buffer);
      expect(out[0]).toBe(lowlevel.constants.AF_INET);
      expect(lowlevel.decodeAddress(out)).toEqual(lowlevel.getsockname(tx));
      // Taken once: the next take (or one for an id that never had a sender) writes length 0.
      ops.takeAddressInto(p, 3, out);
      expect(out[1]).toBe(0);
      out[1] = 99;
      ops.takeAddressInto(p, 12345, out);
      expect(out[1]).toBe(0);
    } finally {
      p.close();
      closeAll(rx, tx);
    }
  });

  // Each operation names its ring: operations alternating between two rings, the same ids on
  // both, and a closed ring among them are told apart.
  it("operations alternating between two rings land on their own ring; a closed ring refuses them", () => {
    const one = ring();
    const two = ring();
    const [a, b] = lowlevel.socketpair();
    const [c, d] = lowlevel.socketpair();
    const intoOne = Buffer.alloc(8);
    const intoTwo = Buffer.alloc(8);
    try {
      expect(one.ops.recv(one.p, 11, a, intoOne, 0, 8)).toBe(0);
      expect(two.ops.recv(two.p, 22, c, intoTwo, 0, 8)).toBe(0);
      expect(one.ops.inflight(one.p)).toBe(1);
      expect(two.ops.inflight(two.p)).toBe(1);
      lowlevel.send(b, Buffer.from("to one"));
      lowlevel.send(d, Buffer.from("to two"));
      expect(two.wait(1000)).toEqual([[22, 6, 0]]);
      expect(one.wait(1000)).toEqual([[11, 6, 0]]);
      expect(intoOne.subarray(0, 6).toString()).toBe("to one");
      expect(intoTwo.subarray(0, 6).toString()).toBe("to two");
      // The same id on both rings, in turn: each ring has its own operations.
      expect(one.ops.recv(one.p, 5, a, intoOne, 0, 8)).toBe(0);
      expect(two.ops.recv(two.p, 5, c, intoTwo, 0, 8)).toBe(0);
      expect(one.ops.cancel(one.p, 5)).toBe(0);
      expect(one.wait(1000)).toEqual([[5, ECANCELED, 0]]);
      expect(two.ops.inflight(two.p)).toBe(1);
      // The ring used last, closed: refused, as is the other one once closed; a foreign object still is not a ring.
      two.p.close();
      expect(() => two.ops.inflight(two.p)).toThrow(expect.objectContaining({ code: "ERR_SELECTOR_CLOSED" }));
      expect(one.ops.inflight(one.p)).toBe(0);
      expect(() => one.ops.inflight({} as NativePoller)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      expect(() => one.ops.inflight(new lowlevel.Poller("poll"))).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      one.p.close();
      expect(() => one.ops.inflight(one.p)).toThrow(expect.objectContaining({ code: "ERR_SELECTOR_CLOSED" }));
    } finally {
      one.p.close();
      two.p.close();
      closeAll(a, b, c, d);
    }
  });

  // The ProactorEventLoop names its ring by ringId() (a table lookup) rather than by the Poller
  // (two type checks per call): the id is its ring's, checked, and never reused.
  it("a ring's id stands for its Poller in every operation; a closed ring's id stays closed", () => {
    const one = ring();
    const two = ring();
    const [a, b] = lowlevel.socketpair();
    const into = Buffer.alloc(8);
    try {
      const idOne = one.ops.ringId(one.p);
      const idTwo = two.ops.ringId(two.p);
      expect(Number.isInteger(idOne) && idOne > 0).toBe(true);
      expect(idTwo).not.toBe(idOne);
      expect(one.ops.ringId(one.p)).toBe(idOne);
      expect(one.ops.recv(idOne, 7, a, into, 0, 8)).toBe(0);
      expect(one.ops.inflight(one.p)).toBe(1);
      expect(two.ops.inflight(idTwo)).toBe(0);
      lowlevel.send(b, Buffer.from("by id"));
      expect(one.wait(1000)).toEqual([[7, 5, 0]]);
      expect(into.subarray(0, 5).toString()).toBe("by id");
      // Bad ids: not an integer id, one no ring ever had; ringId() takes only a Poller.
      for (const bad of [0, -1, 1.5, NaN, 2 ** 31])
        expect(() => one.ops.inflight(bad)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_(OUT_OF_RANGE|INVALID_ARG_TYPE)$/) }));
      expect(() => one.ops.inflight(idTwo + 1000)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
      expect(() => one.ops.ringId(idOne as unknown as NativePoller)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      expect(() => one.ops.ringId(new lowlevel.Poller("poll"))).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
      two.p.close();
      expect(() => two.ops.inflight(idTwo)).toThrow(expect.objectContaining({ code: "ERR_SELECTOR_CLOSED" }));
      expect(() => two.ops.ringId(two.p)).toThrow(expect.objectContaining({ code: "ERR_SELECTOR_CLOSED" }));
      // A ring made after it gets a new id: the closed one's stays closed.
      const three = ring();
      try {
        expect(three.ops.ringId(three.p)).toBeGreaterThan(idTwo);
        expect(() => two.ops.inflight(idTwo)).toThrow(expect.objectContaining({ code: "ERR_SELECTOR_CLOSED" }));
      } finally {
        three.p.close();
      }
    } finally {
      one.p.close();
      two.p.close();
      closeAll(a, b);
    }
  });

  it("a close watch ends (ECANCELED) only when cancelled, when its fd is closed, or with the ring", () => {
    const { p, ops, wait } = ring();
    const [a, b] = lowlevel.socketpair();
    try {
      expect(ops.watchClose(p, 1, a)).toBe(0);
      expect(ops.watchClose(p, 2, a)).toBe(0);
      expect(ops.watchClose(p, 3, b)).toBe(0);
      expect(wait(20)).toEqual([]);
      expect(ops.inflight(p)).toBe(3);
      // Cancelled: it completes at the next wait, once.
      expect(ops.cancel(p, 1)).toBe(0);
      expect(ops.cancel(p, 1)).toBe(-2); // ENOENT: over
      expect(wait(1000)).toEqual([[1, ECANCELED, 0]]);
      // close(fd) ends the fd's watches at once: no wait for the kernel, whose bound is 10 s (the
      // margin is for a loaded machine, an ASan build).
      const started = performance.now();
      lowlevel.close(a);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(wait(1000)).toEqual([[2, ECANCELED, 0]]);
      expect(ops.inflight(p)).toBe(1);
    } finally {
      p.close();
      closeAll(a, b);
    }
    expect(() => ops.inflight(p)).toThrow(expect.objectContaining({ code: "ERR_SELECTOR_CLOSED" }));
  });

  // io_uring_enter reports the requests it took even when a signal then cuts its wait short.
  it("a signal during a wait that also submitted a request resumes the wait with the time left", async () => {
    const { p, ops, wait } = ring();
    const [a, b] = lowlevel.socketpair();
    let signals = 0;
    const onSignal = (): void => {
      signals++;
    };
    process.on("SIGUSR2", onSignal);
    try {
      expect(ops.recv(p, 1, a, Buffer.alloc(8), 0, 8)).toBe(0); // queued: the wait submits it
      const killer = spawn("sh", ["-c", `sleep 0.1; kill -USR2 ${process.pid}`], { stdio: "ignore" });
      const t = performance.now();
      expect(wait(400)).toEqual([]);
      expect(performance.now() - t).toBeGreaterThanOrEqual(390);
      await new Promise((resolve) => killer.on("exit", resolve));
      for (let i = 0; i < 50 && signals === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(signals).toBe(1);
      lowlevel.send(b, Buffer.from("x"));
      expect(wait(1000)).toEqual([[1, 1, 0]]);
    } finally {
      process.off("SIGUSR2", onSignal);
      p.close();
      closeAll(a, b);
    }
  });
});
