// test/hardening/rude-callbacks.test.ts — callbacks that misbehave inside a dispatch batch: one
// that throws, one that closes or re-registers the other fds of the same batch, one that closes
// its own fd while registered; and registering a selector's own fd (for the backends that have
// one). The EventLoop runs owning the thread and attached, over DefaultSelector (the build's default
// backend) and PollSelector (one Watcher per fd when attached).
import { describe, expect, it } from "vitest";

import {
  DefaultSelector,
  EVENT_READ,
  EventLoop,
  PollSelector,
  Socket,
  availableSelectors,
  lowlevel,
  type ExceptionContext,
  type LoopKeyData,
} from "../../lib/index.js";
import { closeAfterEach } from "../support/expect.js";
import { pair, socketpairsAt } from "../support/net.js";
import { sleep } from "../support/time.js";

type Drive = "owned" | "attached";
const DRIVES: Drive[] = ["owned", "attached"];
const SELECTORS = [
  { name: "DefaultSelector", make: () => new DefaultSelector<LoopKeyData>() },
  { name: "PollSelector", make: () => new PollSelector<LoopKeyData>() },
] as const;

const track = closeAfterEach();

/** Runs the loop for `seconds`, owning the thread or attached to Node's loop. */
async function runFor(loop: EventLoop, drive: Drive, seconds: number): Promise<void> {
  if (drive === "owned") {
    loop.callLater(seconds, () => loop.stop());
    await loop.runForever();
  } else {
    loop.attach();
    await sleep(seconds * 1000);
    loop.detach();
  }
}

describe.each(DRIVES)("rude callbacks (%s)", (drive) => {
  describe.each(SELECTORS)("over $name", ({ make }) => {
    it("a throwing callback goes to the exception handler and the batch and the loop go on", async () => {
      const loop = new EventLoop(make());
      const contexts: ExceptionContext[] = [];
      loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
      const pairs = [track(pair()), track(pair()), track(pair())];
      const calls: number[] = [];
      pairs.forEach(([a, b], i) => {
        b.send("x");
        loop.addReader(a, () => {
          calls.push(i);
          a.recv(10);
          if (i === 0) throw Object.assign(new Error("reader failed"), { code: "EREADER" });
        });
      });
      loop.callSoon(() => {
        throw new Error("soon failed");
      });
      let later = false;
      loop.callLater(0.01, () => (later = true));
      await runFor(loop, drive, 0.1);
      // Every reader of the batch ran once, despite the first one throwing.
      expect(calls.sort()).toEqual([0, 1, 2]);
      expect(later).toBe(true);
      const messages = contexts.map((c) => (c.exception as Error).message).sort();
      expect(messages).toEqual(["reader failed", "soon failed"]);
      expect(contexts.every((c) => typeof c.message === "string" && c.handle !== undefined)).toBe(true);
      loop.close();
    });

    it("a callback that closes the other fds of its batch, and reuses their numbers, leaves no stale event", async () => {
      const loop = new EventLoop(make());
      const errors: unknown[] = [];
      loop.setExceptionHandler((_l, ctx) => errors.push(ctx.exception));
      const N = 6;
      const pairs = Array.from({ length: N }, () => track(pair()));
      const ran: number[] = [];
      const staleRuns: number[] = [];
      const replacements: Socket[] = [];
      let first = -1;
      pairs.forEach(([a, b], i) => {
        b.send("data");
        loop.addReader(a, () => {
          ran.push(i);
          if (first !== -1) return;
          first = i;
          a.recv(10);
          // The first to run closes every other reader's socket (without removeReader), then
          // opens new sockets: they take the freed fd numbers, and get readers of their own.
          const freed = new Set<number>();
          for (const [other] of pairs) {
            if (other === a) continue;
            freed.add(other.fileno());
            other.close();
          }
          for (let k = 0; k < N - 1; k++) {
            const [x, y] = track(pair());
            replacements.push(x, y);
            if (freed.has(x.fileno())) loop.addReader(x, () => staleRuns.push(x.fileno()));
          }
        });
      });
      await runFor(loop, drive, 0.1);
      // One reader ran; the closed ones did not; the new registrations on reused numbers got
      // nothing (no data was ever sent to them).
      expect(first).not.toBe(-1);
      expect(ran).toEqual([first]);
      expect(staleRuns).toEqual([]);
      expect(replacements.some((s) => loop.selector.getMap().has(s))).toBe(true);
      expect(errors).toEqual([]);
      loop.close();
    });

    it("a callback that removes or re-registers the other readers of its batch: the old ones do not run", async () => {
      const loop = new EventLoop(make());
      const errors: unknown[] = [];
      loop.setExceptionHandler((_l, ctx) => errors.push(ctx.exception));
      const pairs = [track(pair()), track(pair()), track(pair()), track(pair())];
      const oldRuns: number[] = [];
      const newRuns: number[] = [];
      let first = -1;
      pairs.forEach(([a, b], i) => {
        b.send("data");
        loop.addReader(a, () => {
          oldRuns.push(i);
          if (first !== -1) return;
          first = i;
          a.recv(10);
          pairs.forEach(([other], j) => {
            if (other === a) return;
            // Half are removed, half get a new reader (which drains the data when it runs).
            if (j % 2 === 0) loop.removeReader(other);
            else
              loop.addReader(other, () => {
                newRuns.push(j);
                other.recv(10);
              });
          });
        });
      });
      await runFor(loop, drive, 0.1);
      expect(oldRuns).toEqual([first]);
      // The replacements run in a later batch (their fd is still readable), each exactly once.
      const replaced = pairs.map((_, j) => j).filter((j) => j !== first && j % 2 === 1);
      expect(newRuns.sort()).toEqual(replaced);
      expect(errors).toEqual([]);
      loop.close();
    });

    it("a callback that closes its own fd while registered: no more calls, no crash, the number is reusable", async () => {
      const loop = new EventLoop(make());
      const errors: unknown[] = [];
      loop.setExceptionHandler((_l, ctx) => errors.push(ctx.exception));
      const [a, b] = track(pair());
      const fd = a.fileno();
      let calls = 0;
      b.send("x");
      loop.addReader(a, () => {
        calls++;
        a.close();
      });
      // The peer keeps the (now closed) socket's old number readable... if it were still there.
      await runFor(loop, drive, 0.05);
      expect(calls).toBe(1);
      // A new socket taking the same number is registered afresh and gets its own events. The
      // number is reused on purpose (not left to the next socket: libkqueue may free lower fds
      // of an earlier kqueue meanwhile).
      const [[c, d]] = socketpairsAt([fd], false);
      track([c, d]);
      expect(c.fileno()).toBe(fd);
      let newCalls = 0;
      loop.addReader(c, () => {
        newCalls++;
        c.recv(10);
      });
      d.send("y");
      await runFor(loop, drive, 0.05);
      expect(calls).toBe(1);
      expect(newCalls).toBe(1);
      expect(errors).toEqual([]);
      loop.close();
    });
  });
});

describe.each(DRIVES)("a registration made behind the loop's back (%s)", (drive) => {
  it("on loop.selector directly: removed and reported (ERR_FOREIGN_REGISTRATION), the loop goes on", async () => {
    const loop = new EventLoop(new DefaultSelector<LoopKeyData>());
    const codes: Array<string | undefined> = [];
    loop.setExceptionHandler((_l, ctx) => codes.push((ctx.exception as { code?: string } | undefined)?.code));
    const [a, b] = track(pair());
    const [c, d] = track(pair());
    b.send("x");
    d.send("y");
    // Foreign data on a ready fd, and on an fd the loop is then asked to watch.
    (loop.selector as unknown as { register(f: unknown, e: number, d: unknown): void }).register(a, EVENT_READ, 70000);
    (loop.selector as unknown as { register(f: unknown, e: number, d: unknown): void }).register(c, EVENT_READ, null);
    let read = "";
    loop.addReader(c, () => (read += c.recv(10).toString()));
    await runFor(loop, drive, 0.05);
    expect(read).toBe("y");
    expect(codes).toEqual(["ERR_FOREIGN_REGISTRATION", "ERR_FOREIGN_REGISTRATION"]);
    expect(loop.selector.getMap().has(a)).toBe(false);
    loop.close();
  });
});

// Only the backends with an fd of their own (epoll, kqueue): a PollSelector has none to register.
describe("registering a selector's own fd", () => {
  for (const { kind, cls } of availableSelectors) {
    if (kind === "poll") continue;
    it(`${kind}: the kernel refuses (EINVAL), as an Error with its code, and no key is left`, () => {
      const sel = new cls();
      const own = (sel as unknown as { fileno(): number }).fileno();
      let error: NodeJS.ErrnoException | undefined;
      try {
        sel.register(own, EVENT_READ);
      } catch (e) {
        error = e as NodeJS.ErrnoException;
      }
      expect(error).toBeInstanceOf(Error);
      expect(error!.code).toBe("EINVAL");
      expect(error!.errno).toBe(-lowlevel.constants.EINVAL);
      expect(error!.syscall).toBe(kind === "epoll" ? "epoll_ctl" : "kevent");
      expect(sel.getMap().size).toBe(0);
      sel.close();
    });

    it(`EventLoop over ${kind}: addReader on the loop's own selector fd throws EINVAL and leaves no reader`, () => {
      const loop = new EventLoop(new cls<LoopKeyData>());
      const own = (loop.selector as unknown as { fileno(): number }).fileno();
      expect(() => loop.addReader(own, () => undefined)).toThrow(expect.objectContaining({ code: "EINVAL" }));
      expect(loop.selector.getMap().size).toBe(0);
      expect(loop.removeReader(own)).toBe(false);
      loop.close();
    });
  }
});
