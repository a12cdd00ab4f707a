// test/support/loop.ts — the EventLoop tests' modes and drivers: the modes every behavioural test
// runs in, a driver that runs a test body in a mode with a watchdog, per-file loops and sockets closed after each test, and a TCP connection made through the loop.
import { afterEach } from "vitest";

import { EventLoop, PollSelector, ProactorEventLoop, Socket } from "../../lib/index.js";
import { portOf, tcpListener, tcpSocket } from "./net.js";

/**
 * owned: runUntilComplete; attached: attach() on the default selector (one watcher on the epoll fd);
 * attached-poll: attach() on PollSelector (a watcher per fd); proactor-owned / proactor-attached:
 * the same two drivers on a ProactorEventLoop (io_uring), in MODES only where it is available.
 */
export const ALL_MODES = ["owned", "attached", "attached-poll", "proactor-owned", "proactor-attached"] as const;
export type Mode = (typeof ALL_MODES)[number];

/** Why the proactor modes are left out here ("" when they run). */
export const proactorSkipReason = ProactorEventLoop.available ? "" : ProactorEventLoop.unavailableReason;
if (proactorSkipReason !== "") console.warn(`ProactorEventLoop modes skipped: ${proactorSkipReason}`);

/** The modes every behavioural test runs in. */
export const MODES: readonly Mode[] = ALL_MODES.filter((mode) => proactorSkipReason === "" || !isProactor(mode));

export function isProactor(mode: Mode): boolean {
  return mode.startsWith("proactor-");
}

/** Whether the loop owns the thread in this mode (runUntilComplete) rather than being attached. */
export function isOwned(mode: Mode): boolean {
  return mode === "owned" || mode === "proactor-owned";
}

/** The operations in flight on a ProactorEventLoop's ring. */
export function ringOf(loop: EventLoop): { readonly inflight: number } {
  return loop.selector as unknown as { readonly inflight: number };
}

export function newLoop(mode: Mode): EventLoop {
  if (isProactor(mode)) return new ProactorEventLoop();
  return mode === "attached-poll" ? new EventLoop(new PollSelector()) : new EventLoop();
}

/**
 * Runs `body(loop)` on the loop in `mode` and returns its result. Owned: runUntilComplete with a
 * loop timer as watchdog, which also stops the loop (vitest's own timeout would fail the test but
 * leave the loop owning the thread).
 */
export async function drive<T>(loop: EventLoop, mode: Mode, body: (loop: EventLoop) => Promise<T>, timeoutSeconds = 15): Promise<T> {
  if (isOwned(mode)) {
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

/**
 * The loops and Sockets a test file makes, detached and closed after each test (loops first).
 * Call once at the top level of the file: `const { make, track } = loopFixtures();`. A file with
 * modes of its own passes the function that makes a loop for one of them.
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
