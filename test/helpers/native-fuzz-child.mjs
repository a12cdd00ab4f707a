// test/helpers/native-fuzz-child.mjs — the random-argument run of test/native/fuzz.test.ts, in a
// child process of its own: tens of thousands of calls to every native function and every
// Poller/Watcher method with wrong types, NaN, ±Infinity, negative and huge numbers, strings,
// objects, short and detached buffers, closed and never-opened fds. Every call must return or
// throw an Error with a string `code`; a crash, an abort or a hang fails the parent's test.
//
//   node native-fuzz-child.mjs <addon.node> <seed> <calls>
//
// Harmless by construction: it runs in a temporary working directory (Unix socket paths land
// there); the only fds it passes are ones it created itself, numbers it checked are closed just
// before the call, and numbers that can never be open (>= 100000) — never 0-2 or an fd of Node's;
// every fd it creates is made non-blocking, so no call can block; waits get timeouts of 0-2 ms
// (forever-waits are covered by the unit tests); hosts are loopback literals or 'localhost' (no
// DNS query), binds use port 0, connects go to its own listeners or to closed ports.
import { createRequire } from "node:module";
import { closeSync, openSync, readdirSync, writeSync } from "node:fs";
import { constants as osConstants } from "node:os";

const [addonPath, seedArg, callsArg] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const n = require(addonPath);
const seed = Number(seedArg) >>> 0;
const totalCalls = Number(callsArg) || 40000;
console.log(`fuzz: seed=${seed} calls=${totalCalls} addon=${addonPath}`);

// mulberry32: small, fast, and the same sequence for the same seed.
let state = seed;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (max) => Math.floor(random() * max);
const pick = (list) => list[int(list.length)];
const chance = (p) => random() < p;

const c = n.constants;
// libkqueue (the kqueue backend on Linux) opens its monitoring thread's fds on first use and
// keeps them for the life of the process, and frees a closed kqueue's fds a little later. So the
// first call is a raw kevent from cold (it must not crash; the addon readies libkqueue), and the
// fds are counted once that has settled.
if (n.kqueue) {
  const r = n.kqueue.kevent(100000, null, null, 0);
  if (r !== -c.EBADF) throw new Error(`kevent on a never-open fd from cold gave ${r}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const fdsAtStart = readdirSync("/proc/self/fd").length;

// ---- the fd pool --------------------------------------------------------------------------------
const owned = new Set(); // created by this run and not closed by it
const closedNumbers = new Set(); // created and closed by this run
const NEVER_OPEN = [100000, 123456, 999999, 2 ** 31 - 1];

function adopt(fd) {
  if (typeof fd !== "number" || fd < 3) return;
  owned.add(fd);
  closedNumbers.delete(fd);
  // No fd of this run may block: a blocking recv or accept would hang the run.
  try {
    n.setNonBlocking(fd, true);
  } catch {
    // not an fd that takes O_NONBLOCK changes; nothing blocks on it then
  }
}
function forget(fd) {
  if (owned.delete(fd)) closedNumbers.add(fd);
}
/** An fd for a call: one of ours, a number of ours that is closed now, or one never open. */
function fd() {
  const r = random();
  if (r < 0.7 && owned.size > 0) {
    const chosen = pick([...owned]);
    // Made non-blocking again before each use: the setNonBlocking op's junk flag can be `false`,
    // and a later recv on that fd then blocked the run for good (seed 1233227695).
    try {
      n.setNonBlocking(chosen, true);
    } catch {
      // closed behind the pool's back, or not an fd that takes the flag: the call gets it as is
    }
    return chosen;
  }
  if (r < 0.85 && closedNumbers.size > 0) {
    const candidate = pick([...closedNumbers]);
    if (!n.isOpen(candidate)) return candidate;
    closedNumbers.delete(candidate); // reused by something else: never touch it
  }
  return pick(NEVER_OPEN);
}

/**
 * A regular file for sendfile to read (in the run's own cwd), kept apart from the pool: no call
 * closes it, and it is never a sendfile target (a file copied into itself could grow for GiBs).
 */
const files = [];
function fileFd() {
  if (files.length === 0 || chance(0.01)) {
    const f = openSync(`sendfile-${files.length}`, "w+");
    writeSync(f, Buffer.alloc(pick([0, 1, 4096, 300000]), 0x61));
    files.push(f);
  }
  return pick(files);
}

// ---- value generators ---------------------------------------------------------------------------
const weirdNumbers = [
  NaN,
  Infinity,
  -Infinity,
  -1,
  -0,
  0.5,
  1.5,
  -(2 ** 31),
  2 ** 31,
  2 ** 32,
  2 ** 53,
  -(2 ** 53),
  1e300,
  Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER,
];
function detached(kind) {
  const ab = new ArrayBuffer(16);
  const view = kind === 0 ? new Uint8Array(ab, 4, 8) : kind === 1 ? new DataView(ab, 2) : new Float64Array(ab, 8, 1);
  structuredClone(ab, { transfer: [ab] });
  return view;
}
function buffer() {
  switch (int(9)) {
    case 0:
      return Buffer.alloc(int(64));
    case 1:
      return new Uint8Array(int(16));
    case 2:
      return new DataView(new ArrayBuffer(32), int(16), int(16));
    case 3:
      return new Float64Array(new ArrayBuffer(64), 8 * int(4), int(4));
    case 4:
      return detached(int(3));
    case 5:
      return new Int32Array(int(8));
    case 6:
      return new BigInt64Array(int(3));
    case 7:
      return Buffer.alloc(0);
    default:
      return new Uint16Array(new ArrayBuffer(40), 2 * int(8), int(8));
  }
}
function junk() {
  switch (int(14)) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2:
      return pick([true, false]);
    case 3:
      return pick(weirdNumbers);
    case 4:
      return pick(["", "0", "1", "x".repeat(300), "\0", "☃", "127.0.0.1", "NaN"]);
    case 5:
      return {};
    case 6:
      return [];
    case 7:
      return [1, 2, 3];
    case 8:
      return () => 1;
    case 9:
      return Symbol("s");
    case 10:
      return 10n;
    case 11:
      return buffer();
    case 12:
      return new ArrayBuffer(8);
    default:
      return { valueOf: () => 3, toString: () => "3" };
  }
}
/** Mostly a plausible value from `good`, sometimes junk. */
const maybe = (good, p = 0.75) => (chance(p) ? good() : junk());
const smallInt = () => pick([0, 1, 2, 3, 4, 7, 8, 16, 255, 1024, 65535, 65536, -1]);
const bits = () => pick([0, 1, 2, 3, 4, -1, 0x7fffffff]);
const timeoutValue = () => pick([0, 0, 1, 2, 0.2, NaN, "1", null, undefined]);
/** A wait's timeout, junk included, but never one that waits long (negative = forever). */
function timeout() {
  const v = chance(0.9) ? timeoutValue() : junk();
  return typeof v === "number" && (v < 0 || v > 2) ? pick([0, NaN]) : v;
}
const family = () => pick([c.AF_INET, c.AF_INET6, c.AF_UNIX, c.AF_UNSPEC, 99, -1, NaN]);
const sockType = () => pick([c.SOCK_STREAM, c.SOCK_DGRAM, c.SOCK_SEQPACKET, 0, 99, -1]);
const flagsArg = () => pick([0, c.MSG_PEEK, c.MSG_DONTWAIT, c.MSG_WAITALL, 0x40000000, -1, 1.5, undefined]);
const listeners = { v4: [], v6: [] };
function host(fam) {
  if (fam === c.AF_UNIX) return pick(["u" + int(50), "\0abstract-fuzz-" + int(50), "", "d/no/such/dir", "x".repeat(120), "a\0b"]);
  if (fam === c.AF_INET6) return pick(["::1", "127.0.0.1", "a\0b"]);
  return pick(["127.0.0.1", "localhost", "::1", "a\0b"]);
}
function port(forBind) {
  if (forBind) return pick([0, 0, 0, -1, 65536, NaN, 1.5, "80"]);
  const own = [...listeners.v4, ...listeners.v6];
  return pick([...own, ...own, 1, 0, -1, 65536, NaN]);
}
function int32Array() {
  switch (int(6)) {
    case 0:
      return new Int32Array(int(13));
    case 1:
      return new Uint32Array(int(13));
    case 2:
      return new Int32Array(0);
    case 3:
      return detachedInt32();
    case 4:
      return new Int32Array(new ArrayBuffer(64), 4 * int(4), int(10));
    default:
      return new Int32Array(1 + int(40));
  }
}
function detachedInt32() {
  const a = new Int32Array(8);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}
/** A poll() triple array of our fds with random events. */
function pollTriples() {
  if (chance(0.2)) return int32Array();
  const count = int(5);
  const a = new Int32Array(count * 3 + (chance(0.1) ? 1 : 0));
  for (let i = 0; i + 2 < a.length; i += 3) {
    a[i] = chance(0.1) ? -1 : fd();
    a[i + 1] = pick([1, 4, 5, 0, 0x10000, -1, 0x7fff]);
  }
  return a;
}
function keventArray() {
  if (chance(0.3)) return pick([null, undefined, int32Array()]);
  const k = n.kqueue;
  const count = int(4);
  const a = new Int32Array(count * 6 + (chance(0.1) ? 2 : 0));
  for (let i = 0; i + 5 < a.length; i += 6) {
    a[i] = pick([fd(), -1, 1, 7, 123]);
    a[i + 1] = pick([k.EVFILT_READ, k.EVFILT_WRITE, k.EVFILT_TIMER, k.EVFILT_USER, 0, -99, 5]);
    a[i + 2] = pick([k.EV_ADD, k.EV_DELETE, k.EV_ADD | k.EV_ONESHOT, k.EV_ADD | k.EV_CLEAR, k.EV_ENABLE, k.EV_DISABLE, k.EV_ADD | k.EV_RECEIPT, 0, 0xffff]);
    a[i + 3] = pick([0, k.NOTE_TRIGGER, k.NOTE_FFOR | 3, -1]);
    a[i + 4] = pick([0, 1, 5, -1, 0x7fffffff]); // TIMER periods stay tiny or huge, never a busy loop
    a[i + 5] = int(1000);
  }
  return a;
}
// Signals that are safe to take over here: not the synchronous faults (a real crash must stay a
// crash), not SIGKILL/SIGSTOP (refused anyway, tried through junk numbers).
const unsafeSignals = new Set(["SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGTRAP", "SIGSYS", "SIGABRT"]);
const safeSignals = Object.entries(osConstants.signals)
  .filter(([name]) => !unsafeSignals.has(name))
  .map(([, number]) => number);

// ---- objects -------------------------------------------------------------------------------------
const pollers = [];
const watchers = [];
const kinds = ["epoll", "kqueue", "poll"].filter((k) => n.backends[k]);
const noop = () => {};

// ---- the calls ----------------------------------------------------------------------------------
function track(result, name) {
  if (typeof result === "number" && ["socket", "accept", "create", "dup"].includes(name)) adopt(result);
  else if (Array.isArray(result) && ["socketpair", "pipe"].includes(name)) result.forEach(adopt);
  else if (Array.isArray(result) && name === "acceptAddress") adopt(result[0]);
}

const calls = [
  [
    "socket",
    () =>
      n.socket(
        maybe(family, 0.9),
        maybe(sockType, 0.9),
        maybe(() => pick([0, 6, 17, 255, -1])),
        maybe(() => true, 0.9),
      ),
  ],
  [
    "socketpair",
    () =>
      n.socketpair(
        maybe(() => pick([c.AF_UNIX, c.AF_INET, 99])),
        maybe(sockType),
        maybe(() => 0),
        maybe(() => true, 0.9),
      ),
  ],
  ["pipe", () => n.pipe(maybe(() => true, 0.8))],
  [
    "bind",
    () => {
      const f = maybe(family, 0.9);
      return n.bind(
        maybe(fd, 0.9),
        f,
        maybe(() => host(f), 0.9),
        maybe(() => port(true), 0.9),
        maybe(() => pick([0, 1, 0xfffff, 0x100000])),
        maybe(() => pick([0, 1, 2 ** 32])),
      );
    },
  ],
  [
    "connect",
    () => {
      const f = maybe(family, 0.9);
      return n.connect(
        maybe(fd, 0.9),
        f,
        maybe(() => host(f), 0.9),
        maybe(() => port(false), 0.9),
        maybe(() => 0),
        maybe(() => 0),
      );
    },
  ],
  [
    "listen",
    () =>
      n.listen(
        maybe(fd, 0.9),
        maybe(() => pick([0, 1, 128, 2 ** 31 - 1, -1])),
      ),
  ],
  [
    "accept",
    () =>
      n.accept(
        maybe(fd, 0.9),
        maybe(() => true, 0.9),
      ),
  ],
  [
    "acceptAddress",
    () =>
      n.acceptAddress(
        maybe(fd, 0.9),
        maybe(() => true, 0.9),
      ),
  ],
  [
    "acceptBatch",
    () => {
      const out = maybe(int32Array, 0.9);
      const r = n.acceptBatch(
        maybe(fd, 0.9),
        out,
        maybe(() => true, 0.9),
      );
      if (typeof r === "number" && r > 0 && ArrayBuffer.isView(out)) for (let i = 0; i < r; i++) adopt(out[i]);
      return r;
    },
  ],
  ["recv", () => n.recv(maybe(fd, 0.9), maybe(buffer, 0.9), maybe(smallInt, 0.6), maybe(smallInt, 0.6), maybe(flagsArg, 0.9))],
  ["send", () => n.send(maybe(fd, 0.9), maybe(buffer, 0.9), maybe(smallInt, 0.6), maybe(smallInt, 0.6), maybe(flagsArg, 0.9))],
  ["recvfrom", () => n.recvfrom(maybe(fd, 0.9), maybe(buffer, 0.9), maybe(smallInt, 0.6), maybe(smallInt, 0.6), maybe(flagsArg, 0.9))],
  [
    "sendto",
    () => {
      const f = maybe(family, 0.9);
      return n.sendto(
        maybe(fd, 0.9),
        maybe(buffer, 0.9),
        maybe(smallInt, 0.6),
        maybe(smallInt, 0.6),
        maybe(flagsArg, 0.9),
        f,
        maybe(() => host(f), 0.9),
        maybe(() => port(false), 0.9),
        maybe(() => pick([0, 1, 0xfffff, 0x100000])),
        maybe(() => pick([0, 1, 2 ** 32])),
      );
    },
  ],
  [
    "writev",
    () =>
      n.writev(
        maybe(fd, 0.9),
        maybe(() => (chance(0.02) ? Array.from({ length: 1025 }, () => Buffer.alloc(1)) : Array.from({ length: int(6) }, () => maybe(buffer, 0.85))), 0.9),
      ),
  ],
  [
    "shutdown",
    () =>
      n.shutdown(
        maybe(fd, 0.9),
        maybe(() => pick([0, 1, 2, 3, -1])),
      ),
  ],
  [
    "close",
    () => {
      const target = maybe(fd, 0.9);
      try {
        return n.close(target);
      } finally {
        forget(target);
      }
    },
  ],
  [
    "setsockopt",
    () =>
      n.setsockopt(
        maybe(fd, 0.9),
        maybe(() => pick([c.SOL_SOCKET, c.IPPROTO_TCP, c.IPPROTO_IPV6, 0, 99999, -1])),
        maybe(() => pick([c.SO_REUSEADDR, c.SO_KEEPALIVE, c.SO_RCVBUF, c.SO_SNDBUF, c.TCP_NODELAY, c.IPV6_V6ONLY, c.SO_LINGER, 0, 9999, -1])),
        maybe(() => pick([0, 1, true, false, 65536, -1, 2 ** 31])),
      ),
  ],
  [
    "getsockopt",
    () =>
      n.getsockopt(
        maybe(fd, 0.9),
        maybe(() => pick([c.SOL_SOCKET, c.IPPROTO_TCP, 0, 99999, -1])),
        maybe(() => pick([c.SO_ERROR, c.SO_TYPE, c.SO_RCVBUF, c.SO_LINGER, c.TCP_NODELAY, 0, 9999])),
      ),
  ],
  ["getsockname", () => n.getsockname(maybe(fd, 0.9))],
  ["getpeername", () => n.getpeername(maybe(fd, 0.9))],
  // Only ever sets O_NONBLOCK: a blocking fd could hang a later call.
  [
    "setNonBlocking",
    () =>
      n.setNonBlocking(
        maybe(fd, 0.9),
        maybe(() => true, 0.8),
      ),
  ],
  ["getNonBlocking", () => n.getNonBlocking(maybe(fd, 0.9))],
  ["isOpen", () => n.isOpen(maybe(fd, 0.9))],
  ["socketInfo", () => n.socketInfo(chance(0.1) ? fileFd() : maybe(fd, 0.9))],
  ["dup", () => n.dup(maybe(fd, 0.9))],
  [
    "getaddrinfo",
    () => {
      // No DNS query: hosts are null, literals, or 'localhost' (in /etc/hosts) asked for IPv4
      // only; any other host string goes with AI_NUMERICHOST. Junk is never a string.
      const host = chance(0.85) ? pick([null, "localhost", "127.0.0.1", "::1", "0", "a\0b", "", "x y"]) : pick([undefined, 5, {}, [], true, 10n, buffer()]);
      const local = host === "localhost";
      let flags = maybe(
        () => pick([0, c.AI_PASSIVE, c.AI_CANONNAME, c.AI_NUMERICSERV, c.AI_ADDRCONFIG | c.AI_V4MAPPED, c.AI_ALL | c.AI_V4MAPPED, 0x7fffffff, -1]),
        0.8,
      );
      if (!local && typeof flags === "number" && Number.isInteger(flags) && flags >= 0) flags |= c.AI_NUMERICHOST;
      if (!local && typeof flags !== "number") flags = c.AI_NUMERICHOST;
      return n.getaddrinfo(
        host,
        maybe(() => pick([null, 0, 80, 65535, 65536, -1, 1.5, "80", "http", "no-such-service", "a\0b", ""]), 0.85),
        local ? c.AF_INET : maybe(() => pick([c.AF_UNSPEC, c.AF_INET, c.AF_INET6, c.AF_UNIX, 12345, -1]), 0.85),
        maybe(() => pick([0, c.SOCK_STREAM, c.SOCK_DGRAM, c.SOCK_RAW, 99, -1]), 0.85),
        maybe(() => pick([0, 6, 17, 255, -1]), 0.85),
        flags,
      );
    },
  ],
  [
    "sendfile",
    () =>
      n.sendfile(
        maybe(fd, 0.9),
        chance(0.7) ? fileFd() : maybe(fd, 0.9),
        maybe(() => pick([0, 1, 4095, 300000, 2 ** 40, 2 ** 53 - 1, 2 ** 53, -1, 0.5]), 0.85),
        maybe(() => pick([0, 1, 100, 65536, 2 ** 31 - 1, 2 ** 31, -1, 1.5]), 0.85),
      ),
  ],
  [
    "waitFd",
    () =>
      n.waitFd(
        maybe(fd, 0.9),
        maybe(() => pick([1, 4, 5, 0, 0x7fff, 0x8000, -1])),
        timeout(),
      ),
  ],
  [
    "errorFromErrno",
    () =>
      n.errorFromErrno(
        maybe(() => pick([-9, 9, -4095, 4095, 0, -115, 4096, -200, 3.5])),
        maybe(() => pick(["close", "", "x".repeat(100)])),
      ),
  ],
  ["poll", () => n.poll(maybe(pollTriples, 0.9), timeout())],
  [
    "watchSignal",
    () =>
      n.watchSignal(
        maybe(() => pick(safeSignals), 0.8),
        maybe(fd, 0.9),
      ),
  ],
  [
    "unwatchSignal",
    () =>
      n.unwatchSignal(
        maybe(() => pick(safeSignals), 0.8),
        maybe(fd, 0.9),
      ),
  ],
  [
    "runOwned",
    () => {
      // iterate never returns true, so each run ends after one call.
      const iterate = maybe(
        () =>
          pick([
            () => false,
            () => 1,
            () => undefined,
            () => {
              throw new Error("iterate");
            },
          ]),
        0.9,
      );
      // The poller argument: a live or closed Poller of this run, or a wrong value.
      const poller = maybe(() => (pollers.length > 0 && chance(0.8) ? pick(pollers) : pick([{}, 1, "epoll", null])), 0.5);
      return n.runOwned(
        iterate,
        maybe(() => noop, 0.9),
        poller,
      );
    },
  ],
  ["nodeLoopIdle", () => n.nodeLoopIdle()],
  [
    "Poller",
    () => {
      const p = new n.Poller(maybe(() => pick([...kinds, "select", "KQUEUE", ""]), 0.9));
      pollers.push(p);
      if (pollers.length > 24) pollers.shift().close();
      return p;
    },
  ],
  ["Poller.add", () => pollers.length && pick(pollers).add(maybe(fd, 0.9), maybe(bits, 0.9))],
  ["Poller.modify", () => pollers.length && pick(pollers).modify(maybe(fd, 0.9), maybe(bits, 0.9), maybe(bits, 0.9))],
  ["Poller.remove", () => pollers.length && pick(pollers).remove(maybe(fd, 0.9), maybe(bits, 0.9))],
  ["Poller.wait", () => pollers.length && pick(pollers).wait(maybe(int32Array, 0.9), timeout())],
  ["Poller.close", () => pollers.length && pick(pollers).close()],
  ["Poller.fileno", () => pollers.length && pick(pollers).fileno() + pick(pollers).kind.length],
  [
    "Watcher",
    () => {
      const w = new n.Watcher(
        maybe(fd, 0.9),
        maybe(() => noop, 0.9),
      );
      watchers.push(w);
      if (watchers.length > 24) watchers.shift().close();
      return w;
    },
  ],
  ["Watcher.start", () => watchers.length && pick(watchers).start(maybe(() => pick([1, 2, 3, 0, 4]), 0.9))],
  ["Watcher.stop", () => watchers.length && pick(watchers).stop()],
  ["Watcher.close", () => watchers.length && pick(watchers).close()],
  ["Watcher.setRef", () => watchers.length && pick(watchers).setRef(maybe(() => pick([true, false]), 0.9))],
  // Getters on any receiver, the other class's instances included: a coded ERR_INVALID_THIS, never a read.
  [
    "getter-receiver",
    () => {
      const getter = pick([
        Object.getOwnPropertyDescriptor(n.Poller.prototype, "kind").get,
        Object.getOwnPropertyDescriptor(n.Watcher.prototype, "fd").get,
        Object.getOwnPropertyDescriptor(n.Watcher.prototype, "events").get,
      ]);
      const receivers = [...pollers, ...watchers, {}, null, 3, Object.create(n.Poller.prototype), Object.create(n.Watcher.prototype)];
      return getter.call(pick(receivers));
    },
  ],
  ["Watcher.fd", () => watchers.length && pick(watchers).fd + pick(watchers).events],
];
if (n.epoll) {
  const e = n.epoll;
  calls.push(
    ["epoll.create", () => n.epoll.create()],
    [
      "epoll.ctl",
      () =>
        e.ctl(
          maybe(fd, 0.9),
          maybe(() => pick([1, 2, 3, 0, 4])),
          maybe(fd, 0.9),
          maybe(() => pick([e.EPOLLIN, e.EPOLLOUT, e.EPOLLIN | e.EPOLLET, e.EPOLLONESHOT | e.EPOLLOUT, e.EPOLLEXCLUSIVE | e.EPOLLIN, 0, -1, 2 ** 32])),
        ),
    ],
    ["epoll.wait", () => e.wait(maybe(fd, 0.9), maybe(int32Array, 0.9), timeout())],
  );
}
if (n.kqueue) {
  calls.push(["kqueue.create", () => n.kqueue.create()], ["kqueue.kevent", () => n.kqueue.kevent(maybe(fd, 0.9), keventArray(), keventArray(), timeout())]);
}
// Methods called on the wrong receiver, and a class called without new: V8's own checks answer
// these ("Illegal invocation", a TypeError without a code, thrown before the addon runs); any Error
// is acceptable there, a crash is not. (Getters check their receiver themselves: "getter-receiver".)
const receiverMisuse = [
  () => n.Poller.prototype.add.call({}, 3, 1),
  () => n.Poller.prototype.wait.call(Object.create(n.Poller.prototype), new Int32Array(2), 0),
  () => n.Watcher.prototype.start.call(null, 1),
  () => n.Watcher.prototype.stop.call(pollers.length ? pick(pollers) : {}),
  () => n.Poller.prototype.close.call(watchers.length ? pick(watchers) : {}),
  () => n.Poller("poll"),
];

// Listeners to connect to (IPv4 and IPv6 loopback, port 0).
for (const [f, h, list] of [
  [c.AF_INET, "127.0.0.1", listeners.v4],
  [c.AF_INET6, "::1", listeners.v6],
]) {
  const s = n.socket(f, c.SOCK_STREAM, 0, true);
  adopt(s);
  n.bind(s, f, h, 0);
  n.listen(s, 64);
  list.push(n.getsockname(s)[1]);
}

const trace = process.env.FUZZ_TRACE === "1"; // each call's name on stderr, to find a hang
const byCall = new Map();
const codes = new Map();
const violations = [];
const started = Date.now();
let made = 0;
for (let i = 0; i < totalCalls; i++) {
  const misuse = chance(0.01);
  const [name, fn] = misuse ? ["receiver-misuse", pick(receiverMisuse)] : pick(calls);
  made++;
  if (trace) process.stderr.write(`${i} ${name}\n`);
  byCall.set(name, (byCall.get(name) ?? 0) + 1);
  try {
    track(fn(), name.replace(/^(epoll|kqueue)\./, ""));
  } catch (error) {
    const ok = error instanceof Error && (misuse || (typeof error.code === "string" && error.code.length > 0));
    if (!ok) {
      violations.push(`${name}: ${error instanceof Error ? `${error.constructor.name} without code: ${error.message}` : `threw a non-Error ${String(error)}`}`);
    } else {
      const code = misuse ? `(misuse) ${error.constructor.name}` : error.code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
  }
  // Keep the run bounded in fds: close some of ours when there are many.
  if (owned.size > 150) {
    for (const fdToClose of [...owned].slice(0, 50)) {
      n.close(fdToClose);
      forget(fdToClose);
    }
  }
}
const elapsed = Date.now() - started;

// Let the loop run: watcher callbacks and the owned runs happen now. Then close everything.
setTimeout(() => {
  for (const w of watchers) w.close();
  for (const p of pollers) p.close();
  for (const fdToClose of owned) {
    try {
      n.close(fdToClose);
    } catch (error) {
      violations.push(`final close(${fdToClose}): ${error.message}`);
    }
  }
  owned.clear();
  for (const f of files) closeSync(f);
  setTimeout(() => {
    const fdsAtEnd = readdirSync("/proc/self/fd").length;
    const summary = [...codes.entries()].sort((a, b) => b[1] - a[1]).map(([code, count]) => `${code}=${count}`);
    console.log(`fuzz: made=${made} in ${elapsed} ms; functions=${byCall.size}; thrown: ${summary.join(" ")}`);
    console.log(`fuzz: fds at start ${fdsAtStart}, at end ${fdsAtEnd}`);
    if (violations.length > 0) {
      console.log(`fuzz: ${violations.length} violation(s):\n  ${[...new Set(violations)].slice(0, 40).join("\n  ")}`);
      process.exit(1);
    }
    if (fdsAtEnd > fdsAtStart) {
      console.log(`fuzz: fd leak: ${fdsAtEnd - fdsAtStart} more open fds than at start`);
      process.exit(1);
    }
    console.log("fuzz: ok");
  }, 200);
}, 100);
