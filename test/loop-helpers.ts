// test/loop-helpers.ts — shared helpers of the EventLoop tests: the modes every behavioural test
// runs in, a driver that runs a test body in a mode with a watchdog, loopback sockets, and a
// compile step for tests that run the library in a child process.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { afterEach } from "vitest";

import { AF_INET, EventLoop, PollSelector, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, Socket, socketpair } from "../lib/index.js";

/** owned: runUntilComplete; attached: attach() on the default selector (one watcher on the epoll fd); attached-poll: attach() on PollSelector (a watcher per fd). */
export const MODES = ["owned", "attached", "attached-poll"] as const;
export type Mode = (typeof MODES)[number];

export function newLoop(mode: Mode): EventLoop {
  return mode === "attached-poll" ? new EventLoop(new PollSelector()) : new EventLoop();
}

/**
 * Runs `body(loop)` on the loop in `mode` and returns its result. Owned: runUntilComplete with a
 * loop timer as watchdog, which also stops the loop (vitest's own timeout would fail the test but
 * leave the loop owning the thread).
 */
export async function drive<T>(loop: EventLoop, mode: Mode, body: (loop: EventLoop) => Promise<T>, timeoutSeconds = 15): Promise<T> {
  if (mode === "owned") {
    let expired = false;
    const watchdog = loop.callLater(timeoutSeconds, () => {
      expired = true;
      loop.stop();
    });
    try {
      return await loop.runUntilComplete(body);
    } catch (error) {
      if (expired) throw new Error(`the owned loop's watchdog fired after ${timeoutSeconds}s`);
      throw error;
    } finally {
      watchdog.cancel();
    }
  }
  loop.attach();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      body(loop),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`attached body timed out after ${timeoutSeconds}s`)), timeoutSeconds * 1000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    loop.detach();
  }
}

/** A promise resolved after `seconds` on the loop's clock. */
export function sleep(loop: EventLoop, seconds: number): Promise<void> {
  return new Promise((resolve) => loop.callLater(seconds, resolve));
}

/** A non-blocking TCP listener on 127.0.0.1, port 0. */
export function tcpListener(backlog = 16): Socket {
  const s = new Socket(AF_INET, SOCK_STREAM);
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  s.bind(["127.0.0.1", 0]);
  s.listen(backlog);
  s.setblocking(false);
  return s;
}

export function tcpSocket(): Socket {
  const s = new Socket(AF_INET, SOCK_STREAM);
  s.setblocking(false);
  return s;
}

/** A connected non-blocking AF_UNIX stream pair. */
export function pair(): [Socket, Socket] {
  const [a, b] = socketpair();
  a.setblocking(false);
  b.setblocking(false);
  return [a, b];
}

/**
 * The loops and Sockets a test file makes, detached and closed after each test. Call once at the
 * top level of the file: `const { make, track } = loopFixtures();`. A file with modes of its own
 * passes the function that makes a loop for one of them.
 */
export function loopFixtures<M = Mode>(
  create: (mode: M) => EventLoop = newLoop as unknown as (mode: M) => EventLoop,
): { make: (mode: M) => EventLoop; track: <T extends Socket>(s: T) => T } {
  const loops: EventLoop[] = [];
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const loop of loops.splice(0)) {
      loop.detach();
      loop.close();
    }
    for (const s of sockets.splice(0)) s.close();
  });
  return {
    make(mode: M): EventLoop {
      const loop = create(mode);
      loops.push(loop);
      return loop;
    },
    track<T extends Socket>(s: T): T {
      sockets.push(s);
      return s;
    },
  };
}

/**
 * A connected TCP pair made through the loop: [client, server side]. `track` (from loopFixtures)
 * closes both after the test; the listener is closed at once.
 */
export async function connected(loop: EventLoop, track: <T extends Socket>(s: T) => T): Promise<[Socket, Socket]> {
  const listener = tcpListener();
  const client = track(tcpSocket());
  const accepting = loop.sockAccept(listener);
  await loop.sockConnect(client, ["127.0.0.1", portOf(listener)]);
  const [server] = await accepting;
  track(server);
  listener.close();
  return [client, server];
}

export function portOf(sock: Socket): number {
  const address = sock.getsockname();
  if (typeof address === "string") throw new Error("not an IP socket");
  return address[1];
}

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ADDON = join(root, "build", "Release", "native_selectors.node");

/**
 * Compiles lib/ and examples/ into a fresh temporary directory (the sources under test, not a
 * possibly stale dist/) and returns it; child processes load the addon via NATIVE_SELECTORS_ADDON.
 */
export function compileToTemp(): string {
  const out = mkdtempSync(join(tmpdir(), "ns-loop-"));
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  try {
    execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.json"), "--outDir", out, "--declaration", "false", "--sourceMap", "false"], {
      cwd: root,
      stdio: "pipe",
    });
  } catch {
    // Type errors elsewhere in the tree still emit JavaScript; the child tests check what they need.
  }
  return out;
}

export function childEnv(): NodeJS.ProcessEnv {
  // The addon this test process runs against (a variant build when one is chosen), else the default.
  return { ...process.env, NATIVE_SELECTORS_ADDON: process.env.NATIVE_SELECTORS_ADDON ?? ADDON };
}
