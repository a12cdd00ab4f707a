// test/hardening/kqueue-close-registered.test.ts — an fd closed while registered in a kqueue
// selector, its socket kept open by a dup: kqueue drops the registration on close, and so must
// the libkqueue build (kqueue on Linux), where the registration lives in an epoll set keyed by the
// open file. There an EV_DELETE after the close could not remove it, libkqueue freed its record
// anyway, and the left-over registration went on waking the selector with freed memory (a crash in
// linux_kevent_copyout, or a select() that returns at once with nothing). close() now deletes the
// fd's filters first. Skipped only in a build without kqueue (run it with npm run test:kqueue).
import { afterEach, describe, expect, it } from "vitest";

import { EVENT_READ, EVENT_WRITE, EventLoop, KqueueSelector, kqueue, lowlevel, socketpair, type LoopKeyData, type Socket } from "../../lib/index.js";

const opened: Socket[] = [];
function pair(): [Socket, Socket] {
  const p = socketpair();
  for (const s of p) {
    s.setblocking(false);
    opened.push(s);
  }
  return p;
}
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

const CLOSES = {
  "Socket.close()": (s: Socket) => s.close(),
  "lowlevel.close()": (s: Socket) => lowlevel.close(s.detach()),
} as const;

describe.skipIf(kqueue === undefined)("kqueue: an fd closed while registered, its socket kept open by a dup", () => {
  describe.each(Object.keys(CLOSES) as Array<keyof typeof CLOSES>)("closed by %s", (how) => {
    it("the closed registration is gone: no wake-ups, and the number's next owner gets only its own events", () => {
      const close = CLOSES[how];
      const sel = new KqueueSelector<string>();
      try {
        // Several rounds, each leaving a dup of a closed, registered, readable and writable socket.
        for (let round = 0; round < 20; round++) {
          const [a, b] = pair();
          sel.register(a, EVENT_READ | EVENT_WRITE, "old");
          const fd = a.fileno();
          opened.push(a.dup());
          close(a);
          expect(sel.unregister(a).data).toBe("old");
          const [c, e] = pair();
          // (The number is reused, which makes the round meaningful: Linux gives the lowest free fd.)
          if (process.platform === "linux") expect(c.fileno()).toBe(fd);
          sel.register(c, EVENT_READ, "new");
          b.send("x");
          expect(sel.select(0)).toEqual([]);
          e.send("y");
          const ready = sel.select(1);
          expect(ready.map(([key, events]) => [key.fd, key.data, events])).toEqual([[c.fileno(), "new", EVENT_READ]]);
          expect(c.recv(10).toString()).toBe("y");
          sel.unregister(c);
        }
        // Nothing registered is ready: the select waits its time out.
        const [idle] = pair();
        sel.register(idle, EVENT_READ, "idle");
        const started = performance.now();
        expect(sel.select(0.15)).toEqual([]);
        expect(performance.now() - started).toBeGreaterThanOrEqual(100);
      } finally {
        sel.close();
      }
    });
  });

  it("an EventLoop writer whose Socket is closed (a dup alive): no more calls, and the number's next owner is watched", async () => {
    const loop = new EventLoop(new KqueueSelector<LoopKeyData>());
    const errors: unknown[] = [];
    loop.setExceptionHandler((_l, ctx) => errors.push(ctx.exception));
    try {
      const [a] = pair();
      opened.push(a.dup());
      let writes = 0;
      loop.addWriter(a, () => {
        writes++;
        a.close();
      });
      loop.callLater(0.05, () => loop.stop());
      await loop.runForever();
      expect(writes).toBe(1);
      const [c, e] = pair();
      let reads = 0;
      loop.addReader(c, () => {
        reads++;
        c.recv(10);
      });
      e.send("y");
      loop.callLater(0.05, () => loop.stop());
      await loop.runForever();
      expect([writes, reads]).toEqual([1, 1]);
      expect(errors).toEqual([]);
    } finally {
      loop.close();
    }
  });
});
