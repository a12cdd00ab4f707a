// test/selectors.test.ts — CPython's Lib/test/test_selectors.py, item by item, for every selector
// class this build has (`availableSelectors`: epoll and poll on Linux, kqueue where built), through
// the public API on real sockets; plus the contract of issue 3 that CPython leaves untested:
// timeout rounding, HUP/ERR masking, the getMap view, error codes, and closing by the GC.
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

import { describe, expect, it, vi } from "vitest";

import {
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  EpollSelector,
  KqueueSelector,
  PollSelector,
  Socket,
  availableSelectors,
  backends,
  defaultBackend,
  lowlevel,
  socketpair,
  type BaseSelector,
  type SelectorKey,
} from "../lib/index.js";
import { closeAfterEach, expectCode, fileTempDir, thrown } from "./support/expect.js";
import { fdCount, fdTarget, softFdLimit } from "./support/fds.js";
import { pair, socketpairsAt } from "./support/net.js";
import { sleep } from "./support/time.js";

const R = EVENT_READ;
const W = EVENT_WRITE;

const tmp = fileTempDir("ns-selectors-", 3000);

/** Everything a test opened, closed after it whatever happened. */
const track = closeAfterEach();

describe("selector classes", () => {
  it("DefaultSelector is the build's default backend and the first available one on this platform", () => {
    expect(availableSelectors.length).toBeGreaterThanOrEqual(1);
    expect(availableSelectors.map((s) => s.kind)).toContain("poll");
    const sel = new DefaultSelector();
    track(sel);
    expect(sel.backend).toBe(defaultBackend);
    if (process.platform === "linux") expect(availableSelectors[0]!.kind).toBe("epoll");
  });

  it("a class this platform lacks throws ERR_BACKEND_UNAVAILABLE", () => {
    const classes = { epoll: EpollSelector, kqueue: KqueueSelector, poll: PollSelector };
    for (const kind of ["epoll", "kqueue", "poll"] as const) {
      if (backends[kind]) {
        const sel = new classes[kind]();
        expect(sel.backend).toBe(kind);
        sel.close();
      } else {
        expectCode(() => new classes[kind](), "ERR_BACKEND_UNAVAILABLE");
      }
    }
  });
});

describe.each(availableSelectors)("$kind selector", ({ kind, cls }) => {
  function make<D = unknown>(): BaseSelector<D> {
    const sel = new cls<D>();
    track(sel);
    return sel;
  }

  // 1
  it("register returns the key { fileobj, fd, events, data }", () => {
    const s = make<string | undefined>();
    const [rd] = track(pair(true));
    const key = s.register(rd, R, "data");
    expect(key).toEqual({ fileobj: rd, fd: rd.fileno(), events: R, data: "data" });
    expect(key.fileobj).toBe(rd);
    const [other] = track(pair(true));
    expect(s.register(other, W).data).toBeUndefined();
  });

  // 2, 3, 4, 5
  it("register: invalid events (checked before the fd), invalid fd, twice, same fd through another object", () => {
    const s = make();
    const [rd] = track(pair(true));
    expectCode(() => s.register(0, 999999), "ERR_INVALID_EVENTS");
    expectCode(() => s.register(-10, 999999), "ERR_INVALID_EVENTS");
    expectCode(() => s.register(rd, 0), "ERR_INVALID_EVENTS");
    expectCode(() => s.register(rd, 4), "ERR_INVALID_EVENTS");
    expectCode(() => s.register(rd, R | 8), "ERR_INVALID_EVENTS");
    expectCode(() => s.register(rd, 1.5), "ERR_INVALID_EVENTS");
    expectCode(() => s.register(-10, R), "ERR_INVALID_FD");
    expectCode(() => s.register(1.5, R), "ERR_INVALID_FD");
    expectCode(() => s.register({} as unknown as number, R), "ERR_INVALID_FD");
    expectCode(() => s.register("3" as unknown as number, R), "ERR_INVALID_FD");
    expectCode(() => s.register({ fileno: () => "3" } as unknown as Socket, R), "ERR_INVALID_FD");
    expectCode(() => s.register({ fileno: () => -1 }, R), "ERR_INVALID_FD");
    const boom = new Error("boom");
    const e = expectCode(
      () =>
        s.register(
          {
            fileno: () => {
              throw boom;
            },
          },
          R,
        ),
      "ERR_INVALID_FD",
    );
    expect((e as Error & { cause?: unknown }).cause).toBe(boom);
    expect(s.getMap().size).toBe(0);
    s.register(rd, R);
    expectCode(() => s.register(rd, R), "ERR_ALREADY_REGISTERED");
    expectCode(() => s.register(rd.fileno(), W), "ERR_ALREADY_REGISTERED");
    expectCode(() => s.register({ fileno: () => rd.fileno() }, W), "ERR_ALREADY_REGISTERED");
    expect(s.getMap().size).toBe(1);
  });

  // 6
  it("unregister returns the key; unknown fd and a second unregister are ERR_NOT_REGISTERED", () => {
    const s = make();
    const [rd] = track(pair(true));
    const key = s.register(rd, R);
    expect(s.unregister(rd)).toBe(key);
    expectCode(() => s.unregister(999999), "ERR_NOT_REGISTERED");
    expectCode(() => s.unregister(rd), "ERR_NOT_REGISTERED");
    expectCode(() => s.unregister({ fileno: () => -1 }), "ERR_NOT_REGISTERED");
    expectCode(() => s.unregister(-1), "ERR_INVALID_FD");
    expect(s.getMap().size).toBe(0);
  });

  // 7
  it("unregister after the fds were closed does not throw", () => {
    const s = make();
    const [rd, wr] = socketpair();
    const r = rd.fileno();
    const w = wr.fileno();
    s.register(r, R);
    s.register(w, W);
    rd.close();
    wr.close();
    expect(s.unregister(r).fd).toBe(r);
    expect(s.unregister(w).fd).toBe(w);
    expect(s.getMap().size).toBe(0);
  });

  // 8
  it("unregister after close and reuse of the fd numbers does not throw, and the new files register cleanly", () => {
    const s = make();
    const [rd, wr] = socketpair();
    const r = rd.fileno();
    const w = wr.fileno();
    s.register(r, R);
    s.register(w, W);
    rd.close();
    wr.close();
    const reopened = socketpairsAt([r, w]);
    for (const p of reopened) track(p);
    const [[atR, peerR], [atW]] = reopened;
    expect(() => {
      s.unregister(r);
      s.unregister(w);
    }).not.toThrow();
    expect(s.getMap().size).toBe(0);
    // The numbers now name new sockets; they register cleanly and report their own state only.
    const key = s.register(atR, R);
    s.register(atW, R);
    expect(s.select(0)).toEqual([]);
    peerR.sendall("x");
    expect(s.select(1)).toEqual([[key, R]]);
  });

  // 9
  it("unregister of a closed Socket finds it by identity", () => {
    const s = make();
    const [rd, wr] = socketpair();
    const rkey = s.register(rd, R);
    const wkey = s.register(wr, W);
    rd.close();
    wr.close();
    expect(rd.fileno()).toBe(-1);
    expect(s.getKey(rd)).toBe(rkey);
    expect(s.getMap().get(wr)).toBe(wkey);
    expect(s.unregister(rd)).toBe(rkey);
    expect(s.unregister(wr)).toBe(wkey);
    expect(s.getMap().size).toBe(0);
    expectCode(() => s.unregister(rd), "ERR_NOT_REGISTERED");
  });

  /** Whether the kernel object behind `s` has events ready (epoll only: its fd is readable then). */
  function kernelHasReady(s: BaseSelector): boolean | undefined {
    return s instanceof EpollSelector ? lowlevel.waitFd(s.fileno(), lowlevel.poll.POLLIN, 0) > 0 : undefined;
  }

  it("unregister of a detached Socket removes the kernel registration: the still open fd registers again", () => {
    const s = make();
    const [rd, wr] = track(socketpair());
    s.register(rd, R);
    // detach() leaves the fd open: unlike a close, nothing took it out of the kernel's set.
    const fd = rd.detach();
    try {
      s.unregister(rd);
      wr.sendall("x");
      if (kind === "epoll") expect(kernelHasReady(s)).toBe(false);
      // EEXIST (epoll) here if the registration had been left behind.
      const key = s.register(fd, R);
      expect(s.select(1)).toEqual([[key, R]]);
      s.unregister(fd);
    } finally {
      lowlevel.close(fd);
    }
  });

  it("a Socket closed while registered, its number reused: the stale key is removed, and the new file's unregister removes it from the kernel", () => {
    const s = make();
    const [rd, wr] = socketpair();
    const r = rd.fileno();
    const stale = s.register(rd, R);
    rd.close();
    wr.close();
    const [[atR, peer]] = socketpairsAt([r]);
    track([atR, peer]);
    // CPython's rule: the number is still taken by the stale key until it is unregistered.
    expectCode(() => s.register(atR, R), "ERR_ALREADY_REGISTERED");
    expect(s.unregister(rd)).toBe(stale);
    const key = s.register(atR, R);
    peer.sendall("x");
    expect(s.select(1)).toEqual([[key, R]]);
    s.unregister(atR);
    expect(s.select(0)).toEqual([]);
    if (kind === "epoll") expect(kernelHasReady(s)).toBe(false);
    // And the same open file registers again.
    const again = s.register(atR, R);
    expect(s.select(1)).toEqual([[again, R]]);
  });

  // 10, 11, 12
  it("modify: events, data only, unknown fd", () => {
    const s = make<string | undefined>();
    const [rd] = track(pair(true));
    const key = s.register(rd, R);
    const key2 = s.modify(rd, W);
    expect(key2.events).not.toBe(key.events);
    expect(key2.events).toBe(W);
    expect(s.getKey(rd)).toBe(key2);
    s.unregister(rd);

    const d1 = "d1";
    const d2 = "d2";
    const k1 = s.register(rd, R, d1);
    const k2 = s.modify(rd, R, d2);
    expect(k2.events).toBe(k1.events);
    expect(k2.data).not.toBe(k1.data);
    expect(k2.data).toBe(d2);
    expect(s.getKey(rd)).toBe(k2);
    expect(k2.fileobj).toBe(rd);
    // Nothing changed: the same key comes back.
    expect(s.modify(rd, R, d2)).toBe(k2);
    expectCode(() => s.modify(999999, R), "ERR_NOT_REGISTERED");
  });

  it("modify with invalid events throws ERR_INVALID_EVENTS and keeps the registration", () => {
    const s = make();
    const [rd] = track(pair(true));
    const key = s.register(rd, R);
    expectCode(() => s.modify(rd, 0), "ERR_INVALID_EVENTS");
    expectCode(() => s.modify(rd, 999999), "ERR_INVALID_EVENTS");
    expect(s.getKey(rd)).toBe(key);
  });

  // 13
  it("modify of data alone calls neither register nor unregister and makes no syscall", () => {
    const s = make<string>();
    const [rd, wr] = socketpair();
    wr.close();
    s.register(rd, R, "d1");
    const spyR = vi.spyOn(s, "register");
    const spyU = vi.spyOn(s, "unregister");
    expect(s.modify(rd, R, "d3").data).toBe("d3");
    expect(spyR).not.toHaveBeenCalled();
    expect(spyU).not.toHaveBeenCalled();
    // With the fd closed, any epoll_ctl/kevent would fail: a data-only change still succeeds.
    rd.close();
    const key = s.modify(rd, R, "d4");
    expect(key.data).toBe("d4");
    expect(s.getKey(rd)).toBe(key);
    s.unregister(rd);
  });

  // 14
  it("modify refused by the kernel removes the key and throws the kernel's error", () => {
    const s = make();
    const [rd, wr] = socketpair();
    wr.close();
    s.register(rd, R);
    expect(s.getMap().size).toBe(1);
    rd.close();
    if (kind === "poll") {
      // poll(2) keeps interest in user space: there is no kernel to refuse, and the closed fd is
      // reported by the next wait (POLLNVAL counts as READ and WRITE).
      const key = s.modify(rd, W);
      expect(key.events).toBe(W);
      expect(s.select(0)).toEqual([[key, W]]);
      s.unregister(rd);
      return;
    }
    const error = thrown(() => s.modify(rd, W));
    expect(["EBADF", "ENOENT"]).toContain(error.code);
    expect(error.errno).toBeLessThan(0);
    expect(typeof error.syscall).toBe("string");
    expect(s.getMap().size).toBe(0);
    expectCode(() => s.getKey(rd), "ERR_NOT_REGISTERED");
  });

  // 15
  it("close: later calls throw ERR_SELECTOR_CLOSED and a view taken before is empty", () => {
    const s = make();
    const [rd, wr] = track(pair(true));
    const mapping = s.getMap();
    s.register(rd, R);
    s.register(wr, W);
    expect(mapping.size).toBe(2);
    s.close();
    s.close();
    expect(s.closed).toBe(true);
    expectCode(() => s.getKey(rd), "ERR_SELECTOR_CLOSED");
    expectCode(() => s.getKey(wr), "ERR_SELECTOR_CLOSED");
    expect(mapping.get(rd)).toBeUndefined();
    expect(mapping.get(wr)).toBeUndefined();
    expect(mapping.has(rd)).toBe(false);
    expect(mapping.size).toBe(0);
    expect([...mapping]).toEqual([]);
    expectCode(() => s.register(rd, R), "ERR_SELECTOR_CLOSED");
    expectCode(() => s.unregister(rd), "ERR_SELECTOR_CLOSED");
    expectCode(() => s.modify(rd, W), "ERR_SELECTOR_CLOSED");
    expectCode(() => s.select(0), "ERR_SELECTOR_CLOSED");
    expectCode(() => s.getMap(), "ERR_SELECTOR_CLOSED");
    expectCode(() => s.backend, "ERR_SELECTOR_CLOSED");
    // The registered sockets stay open.
    expect(rd.fileno()).toBeGreaterThanOrEqual(0);
    wr.sendall("x");
    expect(rd.recv(1).toString()).toBe("x");
  });

  // 16
  it("Symbol.dispose closes the selector (Python's context manager)", () => {
    const [rd, wr] = track(pair(true));
    let outer: BaseSelector;
    {
      using s = new cls();
      outer = s;
      s.register(rd, R);
      s.register(wr, W);
    }
    expect(outer.closed).toBe(true);
    expectCode(() => outer.getKey(rd), "ERR_SELECTOR_CLOSED");
    expectCode(() => outer.getKey(wr), "ERR_SELECTOR_CLOSED");
  });

  // 17
  it("getKey", () => {
    const s = make<string>();
    const [rd] = track(pair(true));
    const key = s.register(rd, R, "data");
    expect(s.getKey(rd)).toBe(key);
    expect(s.getKey(rd.fileno())).toBe(key);
    expectCode(() => s.getKey(999999), "ERR_NOT_REGISTERED");
  });

  // 18
  it("getMap: a live read-only view keyed by fd", () => {
    const s = make<string | undefined>();
    const [rd, wr] = track(pair(true));
    const keys = s.getMap();
    expect(keys.size).toBe(0);
    expect([...keys]).toEqual([]);
    expect(keys.get(rd)).toBeUndefined();
    expect(keys.has(rd)).toBe(false);
    const key = s.register(rd, R, "data");
    expect(keys.has(rd)).toBe(true);
    expect(keys.has(rd.fileno())).toBe(true);
    expect(keys.get(rd)).toBe(key);
    expect(keys.get(rd.fileno())).toBe(key);
    expect(keys.size).toBe(1);
    expect([...keys.keys()]).toEqual([rd.fileno()]);
    expect([...keys.values()]).toEqual([key]);
    expect([...keys]).toEqual([[rd.fileno(), key]]);
    expect([...keys.entries()]).toEqual([[rd.fileno(), key]]);
    expect(keys.get(999999)).toBeUndefined();
    expect(keys.has(999999)).toBe(false);
    // Read-only: no way to insert or delete through the view.
    const loose = keys as unknown as Record<string, unknown>;
    expect(loose.set).toBeUndefined();
    expect(loose.delete).toBeUndefined();
    expect(loose.clear).toBeUndefined();
    expect(() => {
      (keys as unknown as { size: number }).size = 0;
    }).toThrow(TypeError);
    expect(keys.size).toBe(1);
    // Live: the same view sees later changes.
    const wkey = s.register(wr, W);
    expect(keys.size).toBe(2);
    expect(keys.get(wr)).toBe(wkey);
    s.unregister(rd);
    expect(keys.size).toBe(1);
    expect(keys.has(rd)).toBe(false);
    expect(s.getMap()).toBe(keys);
  });

  // 19
  it("select() reports exactly the writable writer", () => {
    const s = make();
    const [rd, wr] = track(pair(true));
    s.register(rd, R);
    const wrKey = s.register(wr, W);
    const result = s.select();
    for (const [key, events] of result) {
      expect(events & ~(R | W)).toBe(0);
      expect(events).not.toBe(0);
      expect(s.getMap().get(key.fd)).toBe(key);
    }
    expect(result).toEqual([[wrKey, W]]);
  });

  // 20
  it("select() reports READ and WRITE of one fd exactly once each", () => {
    const s = make();
    const [sock1, sock2] = track(pair(true));
    sock2.send("foo");
    const myKey = s.register(sock1, R | W);
    const result = s.select();
    expect(result.length).toBeLessThanOrEqual(2);
    let seen = 0;
    for (const [key, events] of result) {
      expect(key).toBe(myKey);
      expect(seen & events).toBe(0);
      seen |= events;
    }
    expect(seen).toBe(R | W);
  });

  // 21
  it("fileno() of epoll/kqueue is the kernel object's fd; poll has none", () => {
    const s = make();
    if (kind === "poll") {
      expect("fileno" in s).toBe(false);
      return;
    }
    const fd = (s as unknown as { fileno(): number }).fileno();
    expect(fd).toBeGreaterThanOrEqual(0);
    if (kind === "epoll") expect(fdTarget(fd)).toBe("anon_inode:[eventpoll]");
    s.close();
    expectCode(() => (s as unknown as { fileno(): number }).fileno(), "ERR_SELECTOR_CLOSED");
  });

  // 22
  it("integration: 12 socketpairs, each message reported on exactly its reader", async () => {
    const s = make();
    const message = Buffer.from(" This is a test.");
    const w2r = new Map<Socket, Socket>();
    const r2w = new Map<Socket, Socket>();
    const NUM = 12;
    for (let i = 0; i < NUM; i++) {
      const [rd, wr] = track(pair(true));
      s.register(rd, R);
      s.register(wr, W);
      r2w.set(rd, wr);
      w2r.set(wr, rd);
    }
    const bufs: Buffer[] = [];
    while (w2r.size > 0) {
      const ready = s.select();
      const writers = ready.filter(([, ev]) => ev & W).map(([key]) => key.fileobj as Socket);
      expect(writers.length, "no sockets ready for writing").toBeGreaterThan(0);
      const wr = writers[Math.floor(Math.random() * writers.length)]!;
      wr.send(message);
      let readers: Socket[] = [];
      for (let i = 0; i < 10; i++) {
        readers = s
          .select(0)
          .filter(([, ev]) => ev & R)
          .map(([key]) => key.fileobj as Socket);
        if (readers.length > 0) break;
        await sleep(100);
      }
      expect(readers).toEqual([w2r.get(wr)]);
      const rd = readers[0]!;
      const got = rd.recv(message.length);
      expect(got.length).toBe(message.length);
      bufs.push(got);
      s.unregister(r2w.get(rd)!);
      s.unregister(rd);
      w2r.delete(wr);
    }
    expect(bufs).toEqual(Array.from({ length: NUM }, () => message));
  });

  // 23, 30
  it("select with nothing registered: select(0) is [] and select(1) waits the full second", () => {
    const s = make();
    expect(s.select(0)).toEqual([]);
    const t = performance.now();
    expect(s.select(1)).toEqual([]);
    const dt = performance.now() - t;
    expect(dt).toBeGreaterThanOrEqual(800);
    expect(dt).toBeLessThanOrEqual(2000);
  });

  // 24
  it("timeouts are seconds: 0 and negative poll, 1 waits about a second", () => {
    const s = make();
    const [rd, wr] = track(pair(true));
    s.register(wr, W);
    let t = performance.now();
    expect(s.select(0)).toHaveLength(1);
    expect(s.select(-1)).toHaveLength(1);
    expect(performance.now() - t).toBeLessThan(500);
    s.unregister(wr);
    s.register(rd, R);
    t = performance.now();
    expect(s.select(0)).toEqual([]);
    expect(s.select(-1)).toEqual([]);
    expect(performance.now() - t).toBeLessThan(500);
    t = performance.now();
    expect(s.select(1)).toEqual([]);
    const dt = performance.now() - t;
    expect(dt).toBeGreaterThanOrEqual(800);
    expect(dt).toBeLessThanOrEqual(2000);
    expectCode(() => s.select("1" as unknown as number), "ERR_INVALID_ARG_TYPE");
    expectCode(() => s.select(Number.NaN), "ERR_INVALID_ARG_TYPE");
    const wkey = s.register(wr, W);
    expect(s.select(null)).toEqual([[wkey, W]]);
  });

  it("fractions round up to whole milliseconds: select(0.0001) waits, it does not spin", () => {
    const s = make();
    const [rd] = track(pair(true));
    s.register(rd, R);
    const calls = 20;
    for (const timeout of [0.0001, 1e-10, 0.0005]) {
      const t = performance.now();
      for (let i = 0; i < calls; i++) expect(s.select(timeout)).toEqual([]);
      const dt = performance.now() - t;
      // Each call waits at least 1 ms; had the timeout been rounded down to 0 the loop would take
      // microseconds.
      expect(dt).toBeGreaterThanOrEqual(calls * 0.9);
    }
    // 0.0015 s rounds up to 2 ms.
    const t = performance.now();
    for (let i = 0; i < 10; i++) s.select(0.0015);
    expect(performance.now() - t).toBeGreaterThanOrEqual(10 * 1.9);
  });

  // 26
  it("a signal during the wait resumes it with the time left (EINTR)", async () => {
    const s = make();
    const [rd] = track(pair(true));
    s.register(rd, R);
    let delivered = 0;
    const onSignal = (): void => {
      delivered++;
    };
    process.on("SIGUSR2", onSignal);
    try {
      const killer = spawn("/bin/sh", ["-c", `sleep 0.3; kill -USR2 ${process.pid}`], { stdio: "ignore" });
      const exited = new Promise<number | null>((resolve) => killer.on("exit", (code) => resolve(code)));
      const t = performance.now();
      const result = s.select(1.5);
      const dt = performance.now() - t;
      expect(result).toEqual([]);
      expect(dt).toBeGreaterThanOrEqual(1400);
      expect(dt).toBeLessThan(5000);
      expect(await exited).toBe(0);
      // The signal really came during the wait: Node runs the listener once the thread is free.
      for (let i = 0; i < 50 && delivered === 0; i++) await sleep(10);
      expect(delivered).toBe(1);
    } finally {
      process.off("SIGUSR2", onSignal);
    }
  });

  // 27
  it("every ready fd comes back from one select() call (thousands of fds)", () => {
    // 3,000 socketpairs (6,000 fds) when the soft fd limit allows, else as many as fit, which
    // must still be far above select()'s FD_SETSIZE of 1024.
    const room = Math.floor((softFdLimit() - fdCount() - 64) / 2);
    const pairs = Math.min(3000, room);
    expect(pairs, `RLIMIT_NOFILE (${softFdLimit()}) leaves room for only ${room} socketpairs`).toBeGreaterThan(1024);
    const s = make();
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < pairs; i++) {
        const [rd, wr] = socketpair();
        sockets.push(rd, wr);
        s.register(rd, R);
        s.register(wr, W);
      }
      const ready = s.select();
      expect(ready.length).toBe(pairs);
      const fds = new Set(ready.map(([key, events]) => (expect(events).toBe(W), key.fd)));
      expect(fds.size).toBe(pairs);
      for (let i = 1; i < sockets.length; i += 2) expect(fds.has(sockets[i]!.fileno())).toBe(true);
    } finally {
      s.close();
      for (const sock of sockets) sock.close();
    }
  });

  it("HUP and ERR count as READ and WRITE, masked by the key's events", () => {
    const s = make();
    if (kind === "kqueue") {
      // kqueue has no HUP/ERR bits: the peer's close is EV_EOF on the filter that was asked for.
      const [a, b] = socketpair();
      track(a);
      const key = s.register(a, R);
      expect(s.select(0)).toEqual([]);
      b.close();
      expect(s.select(1)).toEqual([[key, R]]);
      return;
    }
    // The write end of a pipe registered for READ: never readable, but once the reader is gone
    // the kernel reports ERR, which counts as READ (and WRITE, masked off by the key).
    const [r1, w1] = lowlevel.pipe();
    const [r2, w2] = lowlevel.pipe();
    try {
      const errKey = s.register(w1, R);
      // The read end registered for WRITE: after the writer closes, HUP counts as WRITE.
      const hupKey = s.register(r2, W);
      expect(s.select(0)).toEqual([]);
      lowlevel.close(r1);
      lowlevel.close(w2);
      const ready = s.select(1);
      const byFd = new Map(ready.map(([key, events]) => [key.fd, [key, events] as const]));
      expect(byFd.get(w1)).toEqual([errKey, R]);
      expect(byFd.get(r2)).toEqual([hupKey, W]);
      expect(ready.length).toBe(2);
      // With both bits asked for, both are reported.
      s.modify(w1, R | W);
      expect(s.select(0).find(([key]) => key.fd === w1)?.[1]).toBe(R | W);
    } finally {
      s.close();
      lowlevel.close(w1);
      lowlevel.close(r2);
    }
  });

  // 28
  it("registering a regular file: EPERM on epoll, accepted by poll, never a key left on refusal", () => {
    const s = make();
    const fd = openSync(join(tmp(), `file-${kind}`), "w+");
    try {
      if (kind === "epoll") {
        const error = expectCode(() => s.register(fd, R), "EPERM");
        expect(error.errno).toBe(-lowlevel.constants.EPERM);
        expect(error.syscall).toBe("epoll_ctl");
        expectCode(() => s.getKey(fd), "ERR_NOT_REGISTERED");
        expect(s.getMap().size).toBe(0);
      } else if (kind === "poll") {
        const key = s.register(fd, R | W);
        expect(s.select(0)).toEqual([[key, R | W]]);
        s.unregister(fd);
      } else {
        // kqueue: EVFILT_READ on a regular file is allowed on the BSDs (readable until EOF).
        let key: SelectorKey | undefined;
        try {
          key = s.register(fd, R);
        } catch (error) {
          expect((error as NodeJS.ErrnoException).errno).toBeLessThan(0);
          expectCode(() => s.getKey(fd), "ERR_NOT_REGISTERED");
        }
        if (key !== undefined) s.unregister(fd);
      }
    } finally {
      closeSync(fd);
    }
  });

  // 29
  it("registering a closed fd: EBADF from epoll and kqueue with no key left; poll reports it as ready", () => {
    const s = make();
    const probe = new Socket();
    const bad = probe.fileno();
    probe.close();
    expect(fdTarget(bad)).toBeNull();
    if (kind === "poll") {
      // poll(2) learns of the bad fd only at the wait: POLLNVAL counts as READ and WRITE.
      const key = s.register(bad, R);
      expect(s.select(0)).toEqual([[key, R]]);
      s.unregister(bad);
      return;
    }
    const error = expectCode(() => s.register(bad, R), "EBADF");
    expect(error.errno).toBe(-lowlevel.constants.EBADF);
    expect(error.syscall).toBe(kind === "epoll" ? "epoll_ctl" : "kevent");
    expectCode(() => s.getKey(bad), "ERR_NOT_REGISTERED");
    expect(s.getMap().size).toBe(0);
  });
});

describe.each(availableSelectors.filter((s) => s.kind !== "poll"))("$kind selector lifetime", ({ cls }) => {
  it("a selector dropped without close() has its kernel fd closed by the GC", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const dropped: Array<[number, string]> = [];
    (() => {
      for (let i = 0; i < 4; i++) {
        const sel = new cls();
        const fd = (sel as unknown as { fileno(): number }).fileno();
        dropped.push([fd, fdTarget(fd)!]);
      }
    })();
    for (const [, target] of dropped) expect(target).not.toBeNull();
    let open = dropped.length;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      gc();
      await sleep(20);
      open = dropped.filter(([fd, target]) => fdTarget(fd) === target).length;
      if (open === 0) break;
    }
    expect(open).toBe(0);
  });
});
