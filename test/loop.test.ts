// test/loop.test.ts — EventLoop core through the public API, in every mode: callbacks, timers,
// run/stop/close, the exception handler, readers and writers (CPython test_events.py and
// test_selector_events.py cases), stale-event dispatch, signals, run() and getRunningLoop().
import { closeSync, openSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { describe, expect, it, vi } from "vitest";

import { EVENT_READ, EVENT_WRITE, EventLoop, Socket, getRunningLoop, lowlevel, run, type ExceptionContext } from "../lib/index.js";
import { runFixture } from "./support/child.js";
import { expectFdCount } from "./support/expect.js";
import { fdBaseline } from "./support/fds.js";
import { MODES, drive, isOwned, isProactor, loopFixtures, newLoop } from "./support/loop.js";
import { pair, socketpairsAt, tcpListener } from "./support/net.js";
import { loopSleep, sleep } from "./support/time.js";

const { make } = loopFixtures();

describe.each(MODES)("EventLoop (%s)", (mode) => {
  it("runs callSoon callbacks in FIFO order with their arguments; a cancelled one never runs", async () => {
    const loop = make(mode);
    const seen: string[] = [];
    await drive(loop, mode, async () => {
      loop.callSoon((x: string) => seen.push(x), "a");
      const h = loop.callSoon((x: string) => seen.push(x), "b");
      loop.callSoon((x: string, y: string) => seen.push(x + y), "c", "d");
      h.cancel();
      expect(h.cancelled()).toBe(true);
      await loopSleep(loop, 0.01);
    });
    expect(seen).toEqual(["a", "cd"]);
  });

  it("runs exactly the callbacks ready at the start of an iteration; new ones wait for the next", async () => {
    const loop = make(mode);
    const seen: string[] = [];
    await drive(loop, mode, async () => {
      await new Promise<void>((resolve) => {
        loop.callSoon(() => {
          seen.push("1");
          loop.callSoon(() => {
            seen.push("3");
            resolve();
          });
        });
        loop.callSoon(() => seen.push("2"));
      });
    });
    expect(seen).toEqual(["1", "2", "3"]);
  });

  it("fires timers in deadline order (FIFO for equal deadlines), never early; cancelled timers do not fire", async () => {
    const loop = make(mode);
    const seen: [string, number][] = [];
    const start = loop.time();
    await drive(loop, mode, async () => {
      const record = (name: string) => seen.push([name, loop.time() - start]);
      loop.callLater(0.05, record, "c");
      loop.callLater(0.01, record, "a");
      const when = loop.time() + 0.03;
      loop.callAt(when, record, "b1");
      loop.callAt(when, record, "b2");
      loop.callLater(0.02, record, "x").cancel();
      for (let i = 0; i < 200; i++) loop.callLater(0.001 * (i % 7), () => undefined).cancel();
      await loopSleep(loop, 0.08);
    });
    expect(seen.map(([n]) => n)).toEqual(["a", "b1", "b2", "c"]);
    expect(seen[0]![1]).toBeGreaterThanOrEqual(0.01);
    expect(seen[3]![1]).toBeGreaterThanOrEqual(0.05);
  });

  it("time() is monotonic seconds", async () => {
    const loop = make(mode);
    const t0 = loop.time();
    await drive(loop, mode, () => loopSleep(loop, 0.02));
    const dt = loop.time() - t0;
    expect(dt).toBeGreaterThanOrEqual(0.02);
    expect(dt).toBeLessThan(5);
  });

  it("reports a throwing callback to the exception handler with the callback and goes on", async () => {
    const loop = make(mode);
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((l, context) => {
      expect(l).toBe(loop);
      contexts.push(context);
    });
    const boom = new Error("boom");
    let after = false;
    await drive(loop, mode, async () => {
      function failing(): void {
        throw boom;
      }
      const handle = loop.callSoon(failing);
      loop.callSoon(async () => {
        throw new Error("async boom");
      });
      loop.callSoon(() => {
        after = true;
      });
      await loopSleep(loop, 0.01);
      expect(contexts[0]!.handle).toBe(handle);
    });
    expect(after).toBe(true);
    expect(contexts).toHaveLength(2);
    expect(contexts[0]!.exception).toBe(boom);
    expect(contexts[0]!.message).toMatch(/Exception in callback failing/);
    expect(typeof contexts[0]!.callback).toBe("function");
    expect((contexts[1]!.exception as Error).message).toBe("async boom");
  });

  it("prints to stderr by default, and survives a throwing exception handler", async () => {
    const loop = make(mode);
    const spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      await drive(loop, mode, async () => {
        loop.callSoon(function noisy() {
          throw new Error("printed");
        });
        await loopSleep(loop, 0.01);
        loop.setExceptionHandler(() => {
          throw new Error("handler broke");
        });
        loop.callSoon(() => {
          throw new Error("second");
        });
        await loopSleep(loop, 0.01);
      });
      const printed = spy.mock.calls.map((c) => String(c[0])).join("\n");
      expect(printed).toMatch(/Exception in callback noisy/);
      expect(printed).toMatch(/printed/);
      expect(printed).toMatch(/Unhandled error in exception handler/);
      expect(printed).toMatch(/handler broke/);
    } finally {
      spy.mockRestore();
    }
  });

  it("getRunningLoop() is the loop inside callbacks and after awaits", async () => {
    const loop = make(mode);
    const seen: EventLoop[] = [];
    await drive(loop, mode, async () => {
      await new Promise<void>((resolve) =>
        loop.callSoon(() => {
          seen.push(getRunningLoop());
          resolve();
        }),
      );
      seen.push(getRunningLoop());
      await loopSleep(loop, 0.005);
      seen.push(getRunningLoop());
    });
    expect(seen).toEqual([loop, loop, loop]);
  });

  // test_events.py test_reader_callback
  it("reader callback: reads 'abcdef' across wake-ups, removeReader() is true at EOF", async () => {
    const loop = make(mode);
    const [r, w] = pair();
    const chunks: Buffer[] = [];
    let removed: boolean | undefined;
    await drive(loop, mode, async () => {
      const eof = new Promise<void>((resolve) => {
        loop.addReader(r.fileno(), () => {
          const buffer = Buffer.alloc(1024);
          const n = lowlevel.recv(r.fileno(), buffer);
          if (n === -lowlevel.constants.EAGAIN) return; // spurious readiness is allowed
          if (n > 0) chunks.push(buffer.subarray(0, n));
          if (n === 0) {
            removed = loop.removeReader(r.fileno());
            resolve();
          }
        });
      });
      loop.callSoon(() => w.send("abc"));
      await loopSleep(loop, 0.02);
      loop.callSoon(() => w.send("def"));
      await loopSleep(loop, 0.02);
      loop.callSoon(() => w.close());
      await eof;
    });
    r.close();
    expect(Buffer.concat(chunks).toString()).toBe("abcdef");
    expect(removed).toBe(true);
  });

  // test_events.py test_writer_callback
  it("writer callback: sends, then removeWriter() is true once and false after", async () => {
    const loop = make(mode);
    const [r, w] = pair();
    const data = Buffer.alloc(1024, "x");
    await drive(loop, mode, async () => {
      await new Promise<void>((resolve) => {
        loop.addWriter(
          w,
          (d: Buffer) => {
            w.send(d);
            resolve();
          },
          data,
        );
      });
    });
    expect(loop.removeWriter(w)).toBe(true);
    expect(loop.removeWriter(w)).toBe(false);
    w.close();
    r.setblocking(true);
    expect(r.recv(2048).equals(data)).toBe(true);
    r.close();
  });

  it("one reader and one writer per fd: a second add replaces (and cancels) the first", async () => {
    const loop = make(mode);
    const [a, b] = pair();
    const seen: string[] = [];
    await drive(loop, mode, async () => {
      const first = loop.addReader(a, () => seen.push("first"));
      await new Promise<void>((resolve) => {
        loop.addReader(a, () => {
          seen.push("second");
          a.recv(100);
          loop.removeReader(a);
          resolve();
        });
        expect(first.cancelled()).toBe(true);
        b.send("x");
      });
    });
    expect(seen).toEqual(["second"]);
    a.close();
    b.close();
  });

  // test_selector_events.py add/remove reader/writer cases, observed through loop.selector.
  it("keeps one key per fd with [reader, writer] data and the matching events", () => {
    const loop = make(mode);
    const [a, b] = pair();
    const fd = a.fileno();
    const cb = (): void => undefined;
    const map = loop.selector.getMap();
    const reader = loop.addReader(fd, cb);
    expect(map.get(fd)!.events).toBe(EVENT_READ);
    expect(map.get(fd)!.data).toEqual([reader, null]);
    const writer = loop.addWriter(fd, cb);
    expect(map.get(fd)!.events).toBe(EVENT_READ | EVENT_WRITE);
    expect(map.get(fd)!.data).toEqual([reader, writer]);
    const reader2 = loop.addReader(fd, cb);
    expect(reader.cancelled()).toBe(true);
    expect(map.get(fd)!.data).toEqual([reader2, writer]);
    expect(loop.removeReader(fd)).toBe(true);
    expect(map.get(fd)!.events).toBe(EVENT_WRITE);
    expect(map.get(fd)!.data).toEqual([null, writer]);
    expect(loop.removeReader(fd)).toBe(false);
    expect(loop.removeWriter(fd)).toBe(true);
    expect(map.get(fd)).toBeUndefined();
    expect(loop.removeWriter(fd)).toBe(false);
    expect(loop.removeReader(12345)).toBe(false);
    a.close();
    b.close();
  });

  it("rejects invalid file objects and callbacks with codes", () => {
    const loop = make(mode);
    const bad = {} as unknown as number;
    expect(() => loop.addReader(bad, () => undefined)).toThrow(expect.objectContaining({ code: "ERR_INVALID_FD" }));
    expect(() => loop.addWriter(-1, () => undefined)).toThrow(expect.objectContaining({ code: "ERR_INVALID_FD" }));
    expect(() => loop.removeReader(bad)).toThrow(expect.objectContaining({ code: "ERR_INVALID_FD" }));
    expect(() => loop.callSoon(42 as unknown as () => void)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
    expect(() => loop.callLater(NaN, () => undefined)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
  });

  // epoll refuses regular files (EPERM), and so does libuv when attached with a watcher per fd;
  // poll and kqueue selectors accept them (always ready) when the loop owns the thread.
  it("a regular file: refused with EPERM leaving no registration, or accepted where the backend can", () => {
    const loop = make(mode);
    if (!isOwned(mode)) loop.attach();
    const fd = openSync(fileURLToPath(import.meta.url), "r");
    try {
      // The ring's poll requests accept a regular file too (always ready), in both drivers.
      if ((isOwned(mode) && loop.selector.backend !== "epoll") || isProactor(mode)) {
        loop.addReader(fd, () => undefined);
        expect(loop.removeReader(fd)).toBe(true);
      } else {
        expect(() => loop.addReader(fd, () => undefined)).toThrow(expect.objectContaining({ code: "EPERM" }));
      }
      expect(loop.selector.getMap().size).toBe(0);
    } finally {
      closeSync(fd);
      loop.detach();
    }
  });

  it("a cancelled reader handle is dropped lazily and never runs", async () => {
    const loop = make(mode);
    const [a, b] = pair();
    let ran = false;
    await drive(loop, mode, async () => {
      const h = loop.addReader(a, () => {
        ran = true;
      });
      h.cancel();
      b.send("x");
      await loopSleep(loop, 0.02);
    });
    expect(ran).toBe(false);
    expect(loop.selector.getMap().get(a.fileno())).toBeUndefined();
    a.close();
    b.close();
  });

  // The stale-event rule: two fds ready in one batch; the first callback closes the second fd and
  // registers a new socket that gets the same fd number. The old callback must not run, the new
  // registration must not get the old event, and it must work (its kernel registration is new).
  // The number is reused on purpose (socketpairsAt), not left to the next socket: libkqueue frees
  // an earlier loop's kqueue fds from its own thread, so lower numbers can come free meanwhile.
  it.each(["removed first", "closed without removeReader"])("stale events: an fd closed and reused within a batch gets none of it (%s)", async (how) => {
    const loop = make(mode);
    const [a1, a2] = pair();
    const [b1, b2] = pair();
    const seen: string[] = [];
    let fresh: Socket[] = [];
    let freshReader: Socket | undefined;
    let closedFd = -1;
    await drive(loop, mode, async () => {
      await new Promise<void>((resolve) => {
        const first = (self: Socket, other: Socket, name: string) => (): void => {
          seen.push(name);
          if (seen.length > 1) return;
          self.recv(16);
          closedFd = other.fileno();
          if (how === "removed first") loop.removeReader(other);
          other.close();
          fresh = socketpairsAt([closedFd], false)[0]!;
          freshReader = fresh[0];
          const writer = fresh[1]!;
          loop.addReader(freshReader, () => {
            seen.push("fresh");
            freshReader!.recv(16);
            resolve();
          });
          loop.callLater(0.03, () => {
            seen.push("later");
            writer.send("!");
          });
        };
        loop.addReader(a1, first(a1, b1, "a"));
        loop.addReader(b1, first(b1, a1, "b"));
        a2.send("1");
        b2.send("2");
      });
    });
    expect(seen).toEqual([expect.stringMatching(/^[ab]$/), "later", "fresh"]);
    expect(freshReader!.fileno()).toBe(closedFd);
    loop.close();
    for (const s of [a1, a2, b1, b2, ...fresh]) s.close();
  });

  it("close(): add*/call* throw ERR_LOOP_CLOSED, remove* return false, run* reject, close is idempotent", async () => {
    const loop = make(mode);
    const [a, b] = pair();
    loop.addReader(a, () => undefined);
    loop.addWriter(b, () => undefined);
    const timer = loop.callLater(10, () => undefined);
    loop.close();
    expect(loop.isClosed()).toBe(true);
    expect(loop.removeReader(a)).toBe(false);
    expect(loop.removeWriter(b)).toBe(false);
    timer.cancel();
    const closed = expect.objectContaining({ code: "ERR_LOOP_CLOSED" });
    expect(() => loop.addReader(a, () => undefined)).toThrow(closed);
    expect(() => loop.addWriter(b, () => undefined)).toThrow(closed);
    expect(() => loop.callSoon(() => undefined)).toThrow(closed);
    expect(() => loop.callLater(1, () => undefined)).toThrow(closed);
    expect(() => loop.callAt(1, () => undefined)).toThrow(closed);
    expect(() => loop.addSignalHandler("SIGUSR2", () => undefined)).toThrow(closed);
    expect(() => loop.attach()).toThrow(closed);
    await expect(loop.runForever()).rejects.toMatchObject({ code: "ERR_LOOP_CLOSED" });
    await expect(loop.runUntilComplete(Promise.resolve(1))).rejects.toMatchObject({ code: "ERR_LOOP_CLOSED" });
    await expect(loop.sockRecv(a, 1)).rejects.toMatchObject({ code: "ERR_LOOP_CLOSED" });
    loop.close();
    a.close();
    b.close();
  });

  it("close() inside a callback throws ERR_LOOP_RUNNING", async () => {
    const loop = make(mode);
    let error: unknown;
    await drive(loop, mode, async () => {
      await new Promise<void>((resolve) =>
        loop.callSoon(() => {
          try {
            loop.close();
          } catch (e) {
            error = e;
          }
          resolve();
        }),
      );
    });
    expect(error).toMatchObject({ code: "ERR_LOOP_RUNNING" });
    expect(loop.isClosed()).toBe(false);
  });

  it("signals: addSignalHandler gets SIGUSR2 with its arguments; removeSignalHandler restores", async () => {
    const loop = make(mode);
    const got: string[] = [];
    await drive(loop, mode, async () => {
      await new Promise<void>((resolve) => {
        loop.addSignalHandler(
          "SIGUSR2",
          (tag: string) => {
            got.push(tag);
            resolve();
          },
          "usr2",
        );
        loop.callSoon(() => process.kill(process.pid, "SIGUSR2"));
      });
      expect(getRunningLoop()).toBe(loop);
    });
    expect(got).toEqual(["usr2"]);
    expect(loop.removeSignalHandler("SIGUSR2")).toBe(true);
    expect(loop.removeSignalHandler("SIGUSR2")).toBe(false);
    expect(() => loop.addSignalHandler("SIGKILL", () => undefined)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
    expect(() => loop.addSignalHandler("SIGNOPE" as NodeJS.Signals, () => undefined)).toThrow(expect.objectContaining({ code: "ERR_UNKNOWN_SIGNAL" }));
  });

  // Node installs its own one-shot SIGINT/SIGTERM handler (reset the tty, re-raise): the loop's
  // handler must take the signal over without chaining into that re-raise.
  it.each(["SIGINT", "SIGTERM"] as const)("signals: %s (which Node itself handles) reaches the loop's handler", async (name) => {
    const loop = make(mode);
    let count = 0;
    await drive(loop, mode, async () => {
      await new Promise<void>((resolve) => {
        loop.addSignalHandler(name, () => {
          count++;
          if (count === 2) resolve();
        });
        loop.callSoon(() => process.kill(process.pid, name));
        loop.callLater(0.05, () => process.kill(process.pid, name));
      });
    });
    expect(count).toBe(2);
    expect(loop.removeSignalHandler(name)).toBe(true);
  });

  it("dispatches one batch per wake-up: ten fds ready together are served by one select", async () => {
    const loop = make(mode);
    const pairs = Array.from({ length: 10 }, () => pair());
    const selector = loop.selector;
    const original = selector.select.bind(selector);
    const batches: number[] = [];
    selector.select = (timeout?: number | null) => {
      const ready = original(timeout);
      if (ready.length > 0) batches.push(ready.length);
      return ready;
    };
    let served = 0;
    await drive(loop, mode, async () => {
      await new Promise<void>((resolve) => {
        for (const [r] of pairs)
          loop.addReader(r, () => {
            r.recv(16);
            loop.removeReader(r);
            if (++served === pairs.length) resolve();
          });
        for (const [, w] of pairs) w.send("x");
      });
    });
    expect(batches).toEqual([10]);
    for (const [a, b] of pairs) {
      a.close();
      b.close();
    }
  });

  it("leaks no fds through registrations, signals and close()", async () => {
    const before = await fdBaseline();
    const loop = newLoop(mode);
    const [a, b] = pair();
    await drive(loop, mode, async () => {
      loop.addSignalHandler("SIGUSR2", () => undefined);
      loop.addReader(a, () => undefined);
      loop.addWriter(b, () => undefined);
      await loopSleep(loop, 0.005);
    });
    loop.close();
    a.close();
    b.close();
    await expectFdCount(before);
  });
});

describe("EventLoop: owning the thread", () => {
  it("runForever() settles after stop(); callbacks after stop wait for the next run", async () => {
    const loop = make("owned");
    const seen: string[] = [];
    loop.callSoon(() => {
      seen.push("1");
      loop.stop();
      loop.callSoon(() => seen.push("3"));
    });
    loop.callSoon(() => seen.push("2"));
    const running = loop.runForever();
    expect(loop.isRunning()).toBe(true);
    await running;
    expect(loop.isRunning()).toBe(false);
    expect(seen).toEqual(["1", "2"]);
    loop.stop(); // before runForever: one pass with timeout 0
    await loop.runForever();
    expect(seen).toEqual(["1", "2", "3"]);
  });

  it("runUntilComplete returns the result, rejects with the rejection, accepts a function", async () => {
    const loop = make("owned");
    await expect(loop.runUntilComplete(Promise.resolve(7))).resolves.toBe(7);
    await expect(loop.runUntilComplete(async (l) => (await loopSleep(l, 0.001), "fn"))).resolves.toBe("fn");
    await expect(loop.runUntilComplete(Promise.reject(new Error("nope")))).rejects.toThrow("nope");
    const never = new Promise<void>(() => undefined);
    loop.callLater(0.01, () => loop.stop());
    await expect(loop.runUntilComplete(never)).rejects.toMatchObject({ code: "ERR_LOOP_STOPPED" });
    // A promise left behind by a stopped run settles during a later run: that run goes on.
    let settle!: () => void;
    const late = new Promise<void>((resolve) => (settle = resolve));
    loop.callLater(0.005, () => loop.stop());
    await expect(loop.runUntilComplete(late)).rejects.toMatchObject({ code: "ERR_LOOP_STOPPED" });
    const seen: string[] = [];
    loop.callLater(0.005, () => settle());
    loop.callLater(0.03, () => {
      seen.push("still running");
      loop.stop();
    });
    await loop.runForever();
    expect(seen).toEqual(["still running"]);
  });

  it("refuses a second run and attach() while running; another loop cannot run meanwhile", async () => {
    const loop = make("owned");
    const other = make("owned");
    const errors: unknown[] = [];
    await loop.runUntilComplete(async () => {
      await loop.runForever().catch((e: unknown) => errors.push(e));
      await other.runForever().catch((e: unknown) => errors.push(e));
      try {
        loop.attach();
      } catch (e) {
        errors.push(e);
      }
    });
    expect(errors).toMatchObject([{ code: "ERR_LOOP_RUNNING" }, { code: "ERR_LOOP_RUNNING" }, { code: "ERR_LOOP_RUNNING" }]);
  });

  it("run(main) runs main on a new loop, returns its result and closes the loop", async () => {
    let seen: EventLoop | undefined;
    const result = await run(async (loop) => {
      seen = getRunningLoop();
      expect(seen).toBe(loop);
      await loopSleep(loop, 0.001);
      return 42;
    });
    expect(result).toBe(42);
    expect(seen!.isClosed()).toBe(true);
    expect(() => getRunningLoop()).toThrow(expect.objectContaining({ code: "ERR_NO_RUNNING_LOOP" }));
    await expect(
      run(async () => {
        throw new Error("main failed");
      }),
    ).rejects.toThrow("main failed");
  });

  // test_events.py test_timeout_rounding: tiny sleeps must not spin (timeouts round up to 1 ms).
  // In a child process: in the runner's worker, its own messages add turns of Node's loop.
  it("sleeps of 1e-2 .. 1e-10 s take few iterations", async () => {
    const r = await runFixture(new URL("./fixtures/loop-tiny-sleeps.ts", import.meta.url), [], { timeoutMs: 8000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.result).toEqual({ selects: expect.any(Number) });
    expect((r.result as { selects: number }).selects).toBeLessThanOrEqual(20);
  });

  // Issue 13 changed this: Node's timers used to wait until the loop stopped.
  it("Node timers run while the loop owns the thread, also while it waits in its selector", async () => {
    const loop = make("owned");
    const elapsed = await loop.runUntilComplete(async () => {
      // The loop's own next event is 10 s away: its selector would wait that long for it.
      const far = loop.callLater(10, () => loop.stop());
      const start = performance.now();
      await sleep(5);
      far.cancel();
      return performance.now() - start;
    });
    expect(elapsed).toBeGreaterThanOrEqual(4);
    expect(elapsed).toBeLessThan(5000);
  });
});

describe("EventLoop: attached", () => {
  it("runForever/runUntilComplete reject with ERR_LOOP_ATTACHED; attach is idempotent; detach stops dispatch", async () => {
    const loop = make("attached");
    loop.attach();
    expect(loop.attach()).toBe(loop);
    expect(loop.isAttached()).toBe(true);
    expect(loop.isRunning()).toBe(true);
    await expect(loop.runForever()).rejects.toMatchObject({ code: "ERR_LOOP_ATTACHED" });
    await expect(loop.runUntilComplete(Promise.resolve())).rejects.toMatchObject({ code: "ERR_LOOP_ATTACHED" });
    let ran = 0;
    loop.callSoon(() => ran++);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(ran).toBe(1);
    loop.detach();
    loop.callSoon(() => ran++);
    await sleep(10);
    expect(ran).toBe(1);
    loop.attach();
    await sleep(10);
    expect(ran).toBe(2);
    loop.detach();
  });

  it("a listener with a pending reader: Node's timers fire meanwhile", async () => {
    const loop = make("attached");
    loop.attach();
    const listener = tcpListener();
    const accepting = loop.sockAccept(listener);
    // Four ticks of a 5 ms interval while the accept is pending; a starved Node loop times the test out.
    let ticks = 0;
    await new Promise<void>((resolve) => {
      const interval = setInterval(() => {
        if (++ticks < 4) return;
        clearInterval(interval);
        resolve();
      }, 5);
    });
    expect(ticks).toBe(4);
    loop.close();
    await expect(accepting).rejects.toMatchObject({ code: "ERR_LOOP_CLOSED" });
    listener.close();
  });
});
