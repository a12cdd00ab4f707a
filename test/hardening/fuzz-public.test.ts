// test/hardening/fuzz-public.test.ts — the public API under tens of thousands of random calls
// (selectors, Socket, EventLoop, lowlevel) in a child process: every call ends in a return or an
// Error with a string code, and the child exits 0 (no crash, no abort, no sanitizer report).
import { describe, expect, it } from "vitest";

import { expectClean, runFixture } from "../support/child.js";

interface FuzzResult {
  seed: number;
  calls: number;
  ops: number;
  untouched: string[];
  returned: number;
  threw: number;
  codes: Record<string, number>;
  failures: Array<{ op: string; what: string }>;
}

const CALLS = Number(process.env.HARDENING_FUZZ_CALLS ?? 30_000);

describe("public API random-argument test", () => {
  it(`${CALLS} random calls end in returns or coded Errors, never a crash`, async () => {
    const seed = process.env.HARDENING_FUZZ_SEED ?? String((Date.now() ^ (process.pid << 16)) >>> 0);
    const r = await runFixture(new URL("./fixtures/fuzz-public.ts", import.meta.url), [seed, String(CALLS)], { timeoutMs: 170_000 });
    const first = r.stdout.split("\n")[0];
    expect(first).toBe(`fuzz-public seed=${seed} calls=${CALLS}`);
    const result = r.result as FuzzResult | undefined;
    if (result !== undefined && result.failures.length > 0)
      throw new Error(
        `seed ${seed}: ${result.failures.length} calls ended in something other than a coded Error:\n${result.failures.map((f) => `${f.op}: ${f.what}`).join("\n\n")}`,
      );
    try {
      expectClean(r);
    } catch (error) {
      throw new Error(`seed ${seed} (replay: HARDENING_FUZZ_SEED=${seed}): ${(error as Error).message}`);
    }
    expect(result).toBeDefined();
    expect(result!.returned + result!.threw).toBe(CALLS);
    // Every operation was drawn, and plenty of calls really failed with codes (the fuzz bites).
    expect(result!.untouched).toEqual([]);
    expect(result!.threw).toBeGreaterThan(CALLS / 5);
    expect(Object.keys(result!.codes).length).toBeGreaterThan(8);
  }, 180_000);
});
