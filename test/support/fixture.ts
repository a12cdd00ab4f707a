// test/support/fixture.ts — the child side of a fixture run by runFixture (./child.ts): reading
// its arguments, reporting its result (a JSON last line the parent parses), a seeded PRNG, RSS,
// the string code of an error, and a worker's loop answering its parent's message.
import type { MessagePort } from "node:worker_threads";

import type { EventLoop } from "../../lib/index.js";

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)), the same sequence for the same seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resident set size in MiB. */
export function rssMiB(): number {
  return process.memoryUsage().rss / (1024 * 1024);
}

/** Prints the child's result as the last stdout line (the parent parses it). */
export function report(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** An integer argument from argv (0 is the first after the script), or the default. */
export function argInt(index: number, fallback: number): number {
  const v = process.argv[2 + index];
  return v === undefined || v === "" ? fallback : Number(v);
}

/** The error's string code, or undefined if it is not an Error with one. */
export function codeOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * A worker's loop owning the thread with nothing registered: posts "ready", answers the parent's
 * next message with "worker got <text>", then stops and closes. Node's own work (the message)
 * must reach the worker while the loop waits.
 */
export async function answerOneMessage(loop: EventLoop, port: MessagePort): Promise<void> {
  port.once("message", (text: string) => {
    port.postMessage(`worker got ${text}`);
    loop.stop();
  });
  loop.callSoon(() => port.postMessage("ready"));
  await loop.runForever();
  loop.close();
}
