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

/**
 * Lets `loop` run for `seconds` and measures this process's CPU time (user and system) meanwhile:
 * `cpuShare` is its share of one CPU over `wall` seconds. A loop that spins shows a share near 1.
 */
export async function loopCpuShare(loop: EventLoop, seconds: number): Promise<{ cpuShare: number; wall: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await loopSleep(loop, seconds);
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) / 1000;
  return { cpuShare: (cpu.user + cpu.system) / 1e6 / wall, wall };
}
