// test/native/watcher.test.ts — the parts of the native layer that live on Node's own libuv loop:
// `Watcher` (a uv_poll_t: start, stop, close, setRef), `runOwned` (a reactor that owns the
// thread, with microtasks drained between iterations and libuv's own turns when Node has work),
// `nodeLoopIdle` and `watchSignal`/`unwatchSignal` (a
// signal writes a byte to a socket, chaining to Node's own handler).
import { spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readFile, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { constants as osConstants } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { backends, lowlevel, type BackendKind, type NativePoller, type NativeWatcher } from "../../lib/index.js";
import { addonPath } from "../support/child.js";
import { expectCode, expectFdCount, expectSystemError } from "../support/expect.js";
import { closeAll, closedFd, fdBaseline } from "../support/fds.js";
import { sleep } from "../support/time.js";

const c = lowlevel.constants;
const READ = 1;

function availableKinds(): BackendKind[] {
  return (["epoll", "kqueue", "poll"] as const).filter((kind) => backends[kind]);
}

/** This test file's path (any readable file will do for a thread-pool read). */
function __filenameOf(): string {
  return fileURLToPath(import.meta.url);
}
const WRITE = 2;

let fdsAtStart = 0;
beforeAll(async () => {
  fdsAtStart = await fdBaseline();
});
afterAll(async () => {
  await expectFdCount(fdsAtStart);
});

/** Resolves with the first (status, events) the watcher reports, or rejects after timeoutMs. */
function nextEvent(events: Array<[number, number]>, timeoutMs = 2000): Promise<[number, number]> {
  const start = events.length;
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (events.length > start) resolve(events[start]!);
      else if (Date.now() > deadline) reject(new Error("no watcher callback"));
      else setTimeout(check, 5);
    };
    check();
  });
}

/** Runs a CommonJS script in a child node with the addon's path as `addonPath`. */
// With `holdMs`, the child is killed holdMs after its first output (whatever the machine's speed)
// unless it has ended by then.
function runChild(
  source: string,
  timeoutMs = 30_000,
  holdMs?: number,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; timedOut: boolean }> {
  const script = `const addonPath = ${JSON.stringify(addonPath())};\n${source}`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const kill = (): void => {
      timedOut = true;
      child.kill("SIGKILL");
    };
    let holdTimer: NodeJS.Timeout | undefined;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (holdMs !== undefined && holdTimer === undefined) holdTimer = setTimeout(kill, holdMs);
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(kill, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(holdTimer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

describe("Watcher", () => {
  it("calls back with READ when a socketpair end gets data, and with WRITE when writable", async () => {
    const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    const events: Array<[number, number]> = [];
    const w = new lowlevel.Watcher(a, (status, bits) => {
      events.push([status, bits]);
      if (bits & READ) lowlevel.recv(a, Buffer.alloc(64));
    });
    try {
      expect(w.fd).toBe(a);
      expect(w.events).toBe(0);
      w.start(READ);
      expect(w.events).toBe(READ);
      await sleep(30);
      expect(events).toEqual([]);
      lowlevel.send(b, Buffer.from("wake"));
      expect(await nextEvent(events)).toEqual([0, READ]);
      w.start(WRITE);
      expect(w.events).toBe(WRITE);
      expect(await nextEvent(events)).toEqual([0, WRITE]);
      w.start(READ);
      // stop: no more callbacks although data is waiting.
      w.stop();
      expect(w.events).toBe(0);
      const seen = events.length;
      lowlevel.send(b, Buffer.from("ignored"));
      await sleep(50);
      expect(events.length).toBe(seen);
      // start again: the waiting data is reported.
      w.start(READ | WRITE);
      const [status, bits] = await nextEvent(events);
      expect(status).toBe(0);
      expect(bits & READ || bits & WRITE).toBeTruthy();
    } finally {
      w.close();
      closeAll(a, b);
    }
  });

  it("reports a hung-up peer as READ", async () => {
    const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    const events: Array<[number, number]> = [];
    const w = new lowlevel.Watcher(a, (status, bits) => {
      events.push([status, bits]);
      w.stop();
    });
    try {
      w.start(READ);
      lowlevel.close(b);
      const [status, bits] = await nextEvent(events);
      expect(status).toBe(0);
      expect(bits & READ).toBe(READ);
    } finally {
      w.close();
      closeAll(a);
    }
  });

  it("getters and methods check their receiver: another class's instance is refused, never read", () => {
    const [a, b] = lowlevel.socketpair();
    const watcher = new lowlevel.Watcher(a, () => {});
    const poller = new lowlevel.Poller("poll");
    try {
      const getter = (proto: object, name: string) => Object.getOwnPropertyDescriptor(proto, name)!.get!;
      const kind = getter(lowlevel.Poller.prototype, "kind");
      const fd = getter(lowlevel.Watcher.prototype, "fd");
      const events = getter(lowlevel.Watcher.prototype, "events");
      expect(kind.call(poller)).toBe("poll");
      expect(fd.call(watcher)).toBe(a);
      // A Watcher read as a Poller (and the reverse) would be type confusion in C++.
      for (const [get, receiver] of [
        [kind, watcher],
        [kind, {}],
        [kind, Object.create(lowlevel.Poller.prototype)],
        [fd, poller],
        [events, poller],
        [events, null],
      ] as const) {
        const error = expectCode(() => get.call(receiver), "ERR_INVALID_THIS");
        expect(error).toBeInstanceOf(TypeError);
      }
      // Methods: V8 checks their receiver itself ("Illegal invocation", a TypeError without a code).
      expect(() => lowlevel.Poller.prototype.add.call(watcher as never, b, READ)).toThrow(TypeError);
      expect(() => lowlevel.Watcher.prototype.start.call(poller as never, READ)).toThrow(TypeError);
    } finally {
      watcher.close();
      poller.close();
      closeAll(a, b);
    }
  });

  it("closes idempotently and refuses start after close; checks its arguments", () => {
    const [a, b] = lowlevel.socketpair();
    const w = new lowlevel.Watcher(a, () => {});
    try {
      w.start(READ);
      w.close();
      w.close();
      w.stop();
      w.setRef(false);
      expect(w.events).toBe(0);
      expectCode(() => w.start(READ), "ERR_WATCHER_CLOSED");
      const v = new lowlevel.Watcher(a, () => {});
      expectCode(() => v.start(0), "ERR_OUT_OF_RANGE");
      expectCode(() => v.start(4), "ERR_OUT_OF_RANGE");
      expectCode(() => v.setRef(1 as unknown as boolean), "ERR_INVALID_ARG_TYPE");
      v.close();
      expectCode(() => new lowlevel.Watcher(-1, () => {}), "ERR_OUT_OF_RANGE");
      expectCode(() => new lowlevel.Watcher(a, "cb" as unknown as () => void), "ERR_INVALID_ARG_TYPE");
      expectSystemError(() => new lowlevel.Watcher(closedFd(), () => {}), "EBADF", "uv_poll_init");
      const file = join(tmpdir(), `ns-watch-${process.pid}.txt`);
      const regular = openSync(file, "w");
      try {
        expectSystemError(() => new lowlevel.Watcher(regular, () => {}), "EPERM", "uv_poll_init");
      } finally {
        closeSync(regular);
        unlinkSync(file);
      }
    } finally {
      closeAll(a, b);
    }
  });

  it("refuses a second started watcher on the same fd (EEXIST)", () => {
    const [a, b] = lowlevel.socketpair();
    const w = new lowlevel.Watcher(a, () => {});
    try {
      w.start(READ);
      expectSystemError(() => new lowlevel.Watcher(a, () => {}), "EEXIST", "uv_poll_init");
    } finally {
      w.close();
      closeAll(a, b);
    }
  });

  it("close(fd) of a watched fd stops its watcher, and start() refuses a closed fd", async () => {
    // libuv aborts the process when a started handle's fd is gone before the loop registers it.
    const [a, b] = lowlevel.socketpair();
    const events: Array<[number, number]> = [];
    const w: NativeWatcher = new lowlevel.Watcher(a, (s, e) => events.push([s, e]));
    try {
      w.start(READ | WRITE);
      lowlevel.close(a);
      expect(w.events).toBe(0);
      expectSystemError(() => w.start(READ), "EBADF", "uv_poll_start");
      await sleep(30);
      expect(events).toEqual([]);
    } finally {
      w.close();
      closeAll(b);
    }
  });

  // Fuzz seed 583350149: a watcher stopped by close(fd) was started again once the fd's number
  // belonged to a regular file, and libuv's next poll aborted the process (epoll_ctl: EPERM).
  it("start() refuses once the watcher's fd was closed, even when the number is open again (EBADF: by another socket or a regular file)", () => {
    const [a, b] = lowlevel.socketpair();
    const w: NativeWatcher = new lowlevel.Watcher(a, () => {});
    const idle: NativeWatcher = new lowlevel.Watcher(b, () => {});
    const path = join(tmpdir(), `ns-watcher-reuse-${process.pid}`);
    let file = -1;
    let other = -1;
    try {
      w.start(READ);
      lowlevel.close(a); // stops w; idle on b was never started
      file = openSync(path, "w+");
      expect(file).toBe(a); // the lowest free number
      expectSystemError(() => w.start(READ), "EBADF", "uv_poll_start");
      lowlevel.close(b);
      expectSystemError(() => idle.start(WRITE), "EBADF", "uv_poll_start");
      // Closed behind the addon's back (fs.closeSync), then another socket took the number: a
      // different file than the watcher was made for (libuv would abort on EPOLL_CTL_MOD).
      const [c, d] = lowlevel.socketpair();
      other = d;
      const behind: NativeWatcher = new lowlevel.Watcher(c, () => {});
      try {
        behind.start(READ);
        behind.stop();
        closeSync(c);
        const [e, f] = lowlevel.socketpair();
        try {
          expect(e).toBe(c);
          expectSystemError(() => behind.start(WRITE), "EBADF", "uv_poll_start");
        } finally {
          lowlevel.close(f);
          closeSync(e); // behind the addon's back again: its watchers are not told
        }
        // ... and a regular file (which epoll would refuse).
        const again = openSync(path, "r");
        try {
          expect(again).toBe(c);
          expectSystemError(() => behind.start(READ), "EBADF", "uv_poll_start");
        } finally {
          closeSync(again);
        }
      } finally {
        behind.close();
      }
    } finally {
      w.close();
      idle.close();
      if (file >= 0) closeSync(file);
      if (other >= 0) lowlevel.close(other);
      unlinkSync(path);
    }
  });

  it("setRef(false) lets a child process exit by itself; a referenced watcher keeps it alive", async () => {
    const body = (ref: boolean): string => `
      const n = require(addonPath);
      const [a, b] = n.socketpair();
      const w = new n.Watcher(a, () => {});
      w.start(1);
      ${ref ? "" : "w.setRef(false);"}
      process.stdout.write("armed");`;
    const unref = await runChild(body(false));
    expect(unref.stdout).toBe("armed");
    expect(unref.timedOut).toBe(false);
    expect(unref.code).toBe(0);
    // Still alive 700 ms after it armed the watcher: only the kill ends it.
    const held = await runChild(body(true), 30_000, 700);
    expect(held.stdout).toBe("armed");
    expect(held.timedOut).toBe(true);
  });

  it("an exception thrown by the callback reaches process 'uncaughtException'", async () => {
    const result = await runChild(`
      const n = require(addonPath);
      const [a, b] = n.socketpair();
      const w = new n.Watcher(a, () => { w.close(); throw new Error("from callback"); });
      process.on("uncaughtException", (e) => { process.stdout.write("caught:" + e.message); n.close(a); n.close(b); });
      w.start(2);`);
    expect(result.stdout).toBe("caught:from callback");
    expect(result.code).toBe(0);
  });
});

describe("runOwned", () => {
  it("calls iterate until it returns false, draining microtasks and nextTicks between calls", async () => {
    const log: string[] = [];
    let calls = 0;
    const error = await new Promise<unknown>((resolve) => {
      lowlevel.runOwned(
        () => {
          calls++;
          if (calls > 1) {
            // What the previous call scheduled has already run.
            expect(log).toContain(`micro ${calls - 1}`);
            expect(log).toContain(`tick ${calls - 1}`);
            expect(log).toContain(`async ${calls - 1}`);
          }
          const n = calls;
          void Promise.resolve().then(() => log.push(`micro ${n}`));
          process.nextTick(() => log.push(`tick ${n}`));
          void (async () => {
            await null;
            await null;
            log.push(`async ${n}`);
          })();
          return calls < 10;
        },
        (e) => resolve(e),
      );
    });
    expect(error).toBeUndefined();
    expect(calls).toBe(10);
    expect(log).toContain("micro 10");
  });

  // The behaviour changed with issue 13: Node's timers used to wait until iterate returned false.
  it("lets libuv run a turn between two iterations when a Node timer is due, then goes on", async () => {
    let timerFired = false;
    const firedDuring: boolean[] = [];
    const start = Date.now();
    await new Promise<unknown>((resolve) =>
      lowlevel.runOwned(() => {
        if (firedDuring.length === 0) setTimeout(() => (timerFired = true), 5);
        lowlevel.waitFd(0x7fffffff, 0, 2); // sleep ~2 ms in the kernel (an fd that cannot be open)
        firedDuring.push(timerFired);
        return !timerFired && Date.now() - start < 5000;
      }, resolve),
    );
    // iterate was called again after the timer had run: the run went on past it.
    expect(firedDuring[0]).toBe(false);
    expect(firedDuring[firedDuring.length - 1]).toBe(true);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  describe.each(availableKinds())("with a %s poller", (kind) => {
    it("a wait of the poller ends at Node's next timer", async () => {
      const poller = new lowlevel.Poller(kind);
      const out = new Int32Array(8);
      let timerFired = false;
      const waits: number[] = [];
      try {
        await new Promise<unknown>((resolve) =>
          lowlevel.runOwned(
            () => {
              // The timer runs in one of libuv's turns between two calls: then there is nothing
              // left to wait for (a wait now would rightly last its whole 5 s).
              if (timerFired) return false;
              if (waits.length === 0) setTimeout(() => (timerFired = true), 20);
              const t = performance.now();
              expect(poller.wait(out, 5000)).toBe(0); // nothing registered: only libuv can end it early
              waits.push(performance.now() - t);
              return true;
            },
            resolve,
            poller,
          ),
        );
      } finally {
        poller.close();
      }
      expect(timerFired).toBe(true);
      expect(waits.reduce((a, b) => a + b, 0)).toBeLessThan(4000);
    });

    it("a wait of the poller wakes for Node's I/O (an fs callback from the thread pool)", async () => {
      const poller = new lowlevel.Poller(kind);
      const out = new Int32Array(8);
      let read: string | null = null;
      let calls = 0;
      const start = performance.now();
      try {
        await new Promise<unknown>((resolve) =>
          lowlevel.runOwned(
            () => {
              if (calls++ === 0) readFile(__filenameOf(), "utf8", (_e, text) => (read = text ?? ""));
              // The last callback may run in one of libuv's turns: then there is nothing to wait for.
              if (read !== null) return false;
              poller.wait(out, 5000);
              return read === null;
            },
            resolve,
            poller,
          ),
        );
      } finally {
        poller.close();
      }
      expect(read).not.toBeNull();
      expect(performance.now() - start).toBeLessThan(4000);
      // Unbound once the run is over: another run can take the poller... had it not been closed.
      expectCode(
        () =>
          lowlevel.runOwned(
            () => false,
            () => {},
            poller,
          ),
        "ERR_SELECTOR_CLOSED",
      );
    });

    it("a poller serves one run at a time, and is free again once that run is over", async () => {
      const poller = new lowlevel.Poller(kind);
      try {
        const inner: string[] = [];
        await new Promise<unknown>((resolve) =>
          lowlevel.runOwned(
            () => {
              try {
                lowlevel.runOwned(
                  () => false,
                  () => {},
                  poller,
                );
                inner.push("bound twice");
              } catch (e) {
                inner.push((e as NodeJS.ErrnoException).code ?? "no code");
              }
              return false;
            },
            resolve,
            poller,
          ),
        );
        expect(inner).toEqual(["ERR_LOOP_RUNNING"]);
        await new Promise<unknown>((resolve) => lowlevel.runOwned(() => false, resolve, poller));
      } finally {
        poller.close();
      }
    });
  });

  it("nodeLoopIdle() is true exactly when Node holds nothing that keeps a process alive (child process)", async () => {
    const result = await runChild(`
const n = require(addonPath);
const seen = [n.nodeLoopIdle()];
const t = setTimeout(() => {}, 1000);
seen.push(n.nodeLoopIdle());
t.unref();
seen.push(n.nodeLoopIdle());
clearTimeout(t);
n.runOwned(() => { seen.push(n.nodeLoopIdle()); return false; }, () => {
  const t2 = setTimeout(() => {}, 1000);
  n.runOwned(() => { seen.push(n.nodeLoopIdle()); return false; }, () => { clearTimeout(t2); process.stdout.write(JSON.stringify(seen)); });
});`);
    // Outside any run; a referenced timer; unreferenced; inside a run (its own timer left out);
    // inside a run with a referenced Node timer.
    expect(result.stdout).toBe(JSON.stringify([true, false, true, true, false]));
    expect(result.code).toBe(0);
  });

  it("passes an exception thrown by iterate to done, and stops iterating", async () => {
    let calls = 0;
    const error = await new Promise<unknown>((resolve) =>
      lowlevel.runOwned(() => {
        calls++;
        if (calls === 3) throw new Error("boom");
        return true;
      }, resolve),
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe("boom");
    expect(calls).toBe(3);
  });

  it("checks its arguments", () => {
    expectCode(() => lowlevel.runOwned(undefined as unknown as () => boolean, () => {}), "ERR_INVALID_ARG_TYPE");
    expectCode(() => lowlevel.runOwned(() => false, null as unknown as () => void), "ERR_INVALID_ARG_TYPE");
    expectCode(
      () =>
        lowlevel.runOwned(
          () => false,
          () => {},
          {} as unknown as NativePoller,
        ),
      "ERR_INVALID_ARG_TYPE",
    );
    const [a, b] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    const watcher = new lowlevel.Watcher(a, () => {});
    expectCode(
      () =>
        lowlevel.runOwned(
          () => false,
          () => {},
          watcher as unknown as NativePoller,
        ),
      "ERR_INVALID_ARG_TYPE",
    );
    watcher.close();
    closeAll(a, b);
  });
});

describe("watchSignal", () => {
  const SIGUSR1 = osConstants.signals.SIGUSR1;

  it("writes one byte per delivery to every watching fd, and chains to Node's own listener", async () => {
    let listenerCalls = 0;
    const listener = (): void => {
      listenerCalls++;
    };
    // A listener first, so SIGUSR1 does not start the inspector (Node's default for it).
    process.on("SIGUSR1", listener);
    const [r1, w1] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    const [r2, w2] = lowlevel.socketpair(c.AF_UNIX, c.SOCK_STREAM, 0, true);
    try {
      lowlevel.watchSignal(SIGUSR1, w1);
      lowlevel.watchSignal(SIGUSR1, w2);
      expectSystemError(() => lowlevel.watchSignal(SIGUSR1, w1), "EEXIST", "sigaction");
      process.kill(process.pid, "SIGUSR1");
      expect(lowlevel.waitFd(r1, lowlevel.poll.POLLIN, 2000)).toBe(lowlevel.poll.POLLIN);
      expect(lowlevel.waitFd(r2, lowlevel.poll.POLLIN, 2000)).toBe(lowlevel.poll.POLLIN);
      const buf = Buffer.alloc(8);
      expect(lowlevel.recv(r1, buf)).toBe(1);
      expect(buf[0]).toBe(SIGUSR1);
      expect(lowlevel.recv(r2, buf)).toBe(1);
      await sleep(30);
      expect(listenerCalls).toBe(1);
      expect(lowlevel.unwatchSignal(SIGUSR1, w1)).toBe(true);
      expect(lowlevel.unwatchSignal(SIGUSR1, w1)).toBe(false);
      process.kill(process.pid, "SIGUSR1");
      expect(lowlevel.waitFd(r2, lowlevel.poll.POLLIN, 2000)).toBe(lowlevel.poll.POLLIN);
      expect(lowlevel.recv(r1, buf)).toBe(-c.EAGAIN);
      expect(lowlevel.unwatchSignal(SIGUSR1, w2)).toBe(true);
      // All watches gone: Node's handler is back and still works.
      process.kill(process.pid, "SIGUSR1");
      await sleep(30);
      expect(listenerCalls).toBe(3);
      expect(lowlevel.recv(r1, buf)).toBe(-c.EAGAIN);
    } finally {
      lowlevel.unwatchSignal(SIGUSR1, w1);
      lowlevel.unwatchSignal(SIGUSR1, w2);
      process.off("SIGUSR1", listener);
      closeAll(r1, w1, r2, w2);
    }
  });

  it("refuses signals that cannot be caught and checks its arguments", () => {
    const [r, w] = lowlevel.socketpair();
    try {
      expectSystemError(() => lowlevel.watchSignal(osConstants.signals.SIGKILL, w), "EINVAL", "sigaction");
      expectSystemError(() => lowlevel.watchSignal(osConstants.signals.SIGSTOP, w), "EINVAL", "sigaction");
      expectCode(() => lowlevel.watchSignal(0, w), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.watchSignal(65, w), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.watchSignal(SIGUSR1, -1), "ERR_OUT_OF_RANGE");
      expectCode(() => lowlevel.watchSignal("SIGUSR1" as unknown as number, w), "ERR_INVALID_ARG_TYPE");
      expect(lowlevel.unwatchSignal(SIGUSR1, w)).toBe(false);
    } finally {
      closeAll(r, w);
    }
  });

  it("a child that watches SIGTERM survives it and reads the byte", () => {
    const script = `const n = require(${JSON.stringify(addonPath())});
      const [r, w] = n.socketpair(1, 1, 0, true);
      n.watchSignal(15, w);
      process.kill(process.pid, "SIGTERM");
      const revents = n.waitFd(r, 1, 2000);
      const b = Buffer.alloc(1);
      process.stdout.write(revents + ":" + n.recv(r, b) + ":" + b[0]);`;
    const child = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 10_000, killSignal: "SIGKILL" });
    expect(child.signal).toBeNull();
    expect(child.stdout).toBe("1:1:15");
  });

  it("a watched SIGPIPE whose watching fds include a broken pipe and a socket with no peer does not raise SIGPIPE from its own handler", () => {
    // Writing the byte to a pipe without readers (or a socket without its peer) raises SIGPIPE;
    // with SIGPIPE itself watched, that SIGPIPE ran the handler again, forever (found by the
    // native fuzz once sendfile(2) raised the first SIGPIPE). The healthy fd still gets its byte.
    const script = `const n = require(${JSON.stringify(addonPath())});
      const [pr, pw] = n.pipe(true);
      n.close(pr);
      const [sa, sb] = n.socketpair(1, 1, 0, true);
      n.close(sa);
      const [r, w] = n.socketpair(1, 1, 0, true);
      n.watchSignal(13, pw);
      n.watchSignal(13, sb);
      n.watchSignal(13, w);
      process.kill(process.pid, "SIGPIPE");
      const revents = n.waitFd(r, 1, 2000);
      const b = Buffer.alloc(4);
      process.stdout.write(revents + ":" + n.recv(r, b) + ":" + b[0]);`;
    const child = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 10_000, killSignal: "SIGKILL" });
    expect(child.signal, "the child hung in a SIGPIPE loop").toBeNull();
    expect(child.stdout).toBe("1:1:13");
  });
});
