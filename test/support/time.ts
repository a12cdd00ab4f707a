// test/support/time.ts — waiting in tests and child fixtures: on Node's timers, and on an
// EventLoop's own clock.
import type { EventLoop } from "../../lib/index.js";

/** Resolves after `ms` milliseconds on Node's timers, without blocking the thread. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A promise resolved after `seconds` on the loop's clock, by a bare callLater (not loop.sleep(),
 * which has its own tests), so a test of something else depends on timers only.
 */
export function loopSleep(loop: EventLoop, seconds: number): Promise<void> {
  return new Promise((resolve) => loop.callLater(seconds, resolve));
}
