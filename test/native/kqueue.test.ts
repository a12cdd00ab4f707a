// test/native/kqueue.test.ts — the raw `kqueue` exports (create, kevent over six-int32 entries)
// with real fds: EVFILT_READ/WRITE, EV_DELETE, EV_RECEIPT, EVFILT_TIMER and EVFILT_USER with
// NOTE_TRIGGER. kqueue exists on macOS and the BSDs, and on Linux only in a build against
// libkqueue (`npm run test:kqueue`); elsewhere `kqueue` is undefined and this file is skipped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { kqueue, lowlevel, type KqueueBinding } from "../../lib/index.js";
import { expectCode, expectFdCount } from "../support/expect.js";
import { closeAll, closedFd, fdBaseline } from "../support/fds.js";
import { sleep } from "../support/time.js";

const c = lowlevel.constants;

describe.skipIf(kqueue === undefined)("kqueue raw exports (skipped only when this build has no kqueue backend: build one with npm run test:kqueue)", () => {
  // The describe's body is collected even when skipped: dereference kqueue only inside the tests.
  const kq = kqueue as KqueueBinding;
  const S = 6; // kq.STRIDE, checked below
  /** One change/event entry: ident, filter, flags, fflags, data, udata. */
  const entry = (ident: number, filter: number, flags: number, fflags = 0, data = 0, udata = 0): number[] => [ident, filter, flags, fflags, data, udata];
  const changes = (...entries: number[][]): Int32Array => new Int32Array(entries.flat());

  let fdsAtStart = 0;
  beforeAll(async () => {
    fdsAtStart = await fdBaseline();
  });
  afterAll(async () => {
    await expectFdCount(fdsAtStart);
  });

  it("exports the filters, flags and notes with their BSD values", () => {
    expect(kq.STRIDE).toBe(S);
    expect([kq.EVFILT_READ, kq.EVFILT_WRITE, kq.EVFILT_TIMER]).toEqual([-1, -2, -7]);
    expect(kq.EVFILT_SIGNAL).toBeLessThan(0);
    expect(kq.EVFILT_USER).toBeLessThan(0);
    expect([kq.EV_ADD, kq.EV_DELETE, kq.EV_ENABLE, kq.EV_DISABLE, kq.EV_ONESHOT, kq.EV_CLEAR]).toEqual([1, 2, 4, 8, 0x10, 0x20]);
    expect([kq.EV_RECEIPT, kq.EV_DISPATCH, kq.EV_ERROR, kq.EV_EOF]).toEqual([0x40, 0x80, 0x4000, 0x8000]);
    expect(kq.NOTE_TRIGGER).toBe(0x01000000);
    expect([kq.NOTE_FFNOP, kq.NOTE_FFAND, kq.NOTE_FFOR, kq.NOTE_FFCOPY]).toEqual([0, 0x40000000, 0x80000000, 0xc0000000]);
    expect(kq.NOTE_FFCTRLMASK).toBe(0xc0000000);
    expect(kq.NOTE_FFLAGSMASK).toBe(0x00ffffff);
  });

  it("EVFILT_READ reports readable bytes with the udata given; EV_DELETE removes it", () => {
    const q = kq.create();
    const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    try {
      expect(q).toBeGreaterThan(2);
      const out = new Int32Array(4 * S);
      expect(kq.kevent(q, changes(entry(a, kq.EVFILT_READ, kq.EV_ADD, 0, 0, 4242)), null, 0)).toBe(0);
      expect(kq.kevent(q, null, out, 0)).toBe(0);
      expect(lowlevel.send(b, Buffer.from("abc"))).toBe(3);
      expect(kq.kevent(q, null, out, 1000)).toBe(1);
      expect(out[0]).toBe(a);
      expect(out[1]).toBe(kq.EVFILT_READ);
      expect(out[4]).toBe(3);
      expect(out[5]).toBe(4242);
      expect(kq.kevent(q, changes(entry(a, kq.EVFILT_READ, kq.EV_DELETE)), null, 0)).toBe(0);
      expect(kq.kevent(q, null, out, 0)).toBe(0);
      // Deleting what is not there: -ENOENT with no event list...
      expect(kq.kevent(q, changes(entry(a, kq.EVFILT_READ, kq.EV_DELETE)), null, 0)).toBe(-c.ENOENT);
      // ...and an EV_ERROR entry carrying ENOENT when EV_RECEIPT asks for one.
      const n = kq.kevent(q, changes(entry(a, kq.EVFILT_READ, kq.EV_DELETE | kq.EV_RECEIPT)), out, 0);
      expect(n).toBe(1);
      expect(out[2]! & kq.EV_ERROR).toBe(kq.EV_ERROR);
      expect(out[4]).toBe(c.ENOENT);
    } finally {
      closeAll(a, b, q);
    }
  });

  it("EVFILT_WRITE reports a writable socket; EV_EOF marks a closed peer", () => {
    const q = kq.create();
    const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    try {
      const out = new Int32Array(2 * S);
      expect(kq.kevent(q, changes(entry(a, kq.EVFILT_WRITE, kq.EV_ADD), entry(a, kq.EVFILT_READ, kq.EV_ADD)), null, 0)).toBe(0);
      expect(kq.kevent(q, null, out, 1000)).toBe(1);
      expect([out[0], out[1]]).toEqual([a, kq.EVFILT_WRITE]);
      lowlevel.close(b);
      const n = kq.kevent(q, null, out, 1000);
      expect(n).toBeGreaterThanOrEqual(1);
      const filters = Array.from({ length: n }, (_, i) => out[i * S + 1]);
      expect(filters).toContain(kq.EVFILT_READ);
      const readIndex = filters.indexOf(kq.EVFILT_READ);
      expect(out[readIndex * S + 2]! & kq.EV_EOF).toBe(kq.EV_EOF);
    } finally {
      closeAll(a, b, q);
    }
  });

  it("EV_RECEIPT reports each change's outcome without waiting for events", () => {
    const q = kq.create();
    const [a, b] = lowlevel.socketpair();
    try {
      const out = new Int32Array(2 * S);
      const n = kq.kevent(
        q,
        changes(entry(a, kq.EVFILT_READ, kq.EV_ADD | kq.EV_RECEIPT), entry(closedFd(), kq.EVFILT_READ, kq.EV_ADD | kq.EV_RECEIPT)),
        out,
        0,
      );
      expect(n).toBe(2);
      expect(out[2]! & kq.EV_ERROR).toBe(kq.EV_ERROR);
      expect(out[4]).toBe(0);
      expect(out[S + 2]! & kq.EV_ERROR).toBe(kq.EV_ERROR);
      expect(out[S + 4]).toBe(c.EBADF);
    } finally {
      closeAll(a, b, q);
    }
  });

  it("EVFILT_TIMER fires after its period (EV_ONESHOT once)", () => {
    const q = kq.create();
    try {
      const out = new Int32Array(S);
      const t = performance.now();
      expect(kq.kevent(q, changes(entry(1, kq.EVFILT_TIMER, kq.EV_ADD | kq.EV_ONESHOT, 0, 50, 9)), null, 0)).toBe(0);
      expect(kq.kevent(q, null, out, 2000)).toBe(1);
      expect(performance.now() - t).toBeGreaterThanOrEqual(40);
      expect([out[0], out[1], out[5]]).toEqual([1, kq.EVFILT_TIMER, 9]);
      expect(kq.kevent(q, null, out, 120)).toBe(0);
    } finally {
      lowlevel.close(q);
    }
  });

  it("EVFILT_USER fires on NOTE_TRIGGER and carries fflags (NOTE_FFOR)", async () => {
    const q = kq.create();
    try {
      const out = new Int32Array(S);
      expect(kq.kevent(q, changes(entry(7, kq.EVFILT_USER, kq.EV_ADD | kq.EV_CLEAR)), null, 0)).toBe(0);
      expect(kq.kevent(q, null, out, 0)).toBe(0);
      expect(kq.kevent(q, changes(entry(7, kq.EVFILT_USER, 0, kq.NOTE_TRIGGER | kq.NOTE_FFOR | 0x5)), null, 0)).toBe(0);
      expect(kq.kevent(q, null, out, 1000)).toBe(1);
      expect([out[0], out[1]]).toEqual([7, kq.EVFILT_USER]);
      expect(out[3]! & kq.NOTE_FFLAGSMASK).toBe(0x5);
      // EV_CLEAR: consumed.
      await sleep(1);
      expect(kq.kevent(q, null, out, 0)).toBe(0);
      expect(kq.kevent(q, changes(entry(7, kq.EVFILT_USER, kq.EV_DELETE)), null, 0)).toBe(0);
      expect(kq.kevent(q, changes(entry(7, kq.EVFILT_USER, 0, kq.NOTE_TRIGGER)), null, 0)).toBe(-c.ENOENT);
    } finally {
      lowlevel.close(q);
    }
  });

  it("waits for its timeout; checks its arguments; a bad kq gives -EBADF", () => {
    const q = kq.create();
    try {
      const out = new Int32Array(S);
      const t = performance.now();
      expect(kq.kevent(q, null, out, 60)).toBe(0);
      expect(performance.now() - t).toBeGreaterThanOrEqual(55);
      expect(kq.kevent(closedFd(), null, out, 0)).toBe(-c.EBADF);
      expectCode(() => kq.kevent(q, new Int32Array(5), null, 0), "ERR_INVALID_ARG_VALUE");
      expectCode(() => kq.kevent(q, null, new Int32Array(7), 0), "ERR_INVALID_ARG_VALUE");
      expectCode(() => kq.kevent(q, changes(entry(-1, kq.EVFILT_READ, kq.EV_ADD)), null, 0), "ERR_OUT_OF_RANGE");
      expectCode(() => kq.kevent(q, [1, 2, 3, 4, 5, 6] as unknown as Int32Array, null, 0), "ERR_INVALID_ARG_TYPE");
      expectCode(() => kq.kevent(q, null, out, Number.NaN), "ERR_OUT_OF_RANGE");
      expectCode(() => kq.kevent(-1, null, out, 0), "ERR_OUT_OF_RANGE");
      expectCode(() => kq.kevent(q, null, new Int32Array(S * 65537), 0), "ERR_OUT_OF_RANGE");
    } finally {
      lowlevel.close(q);
    }
  });
});
