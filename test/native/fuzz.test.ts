// test/native/fuzz.test.ts — the random-argument test: runs test/native/fixtures/fuzz-child.mjs in a
// child process (so a crash or abort fails this test instead of killing the runner) against the
// addon this process loaded. Tens of thousands of calls to every native function and method (the
// io_uring ring's operations too, where a ring can be made here) with wrong types, NaN, ±Infinity,
// negative and huge numbers, short and detached buffers, closed and never-opened fds; each must
// return or throw an Error with a string code, and the child must exit 0 with no fd left open. The seed is printed; FUZZ_SEED=<n> reruns one, FUZZ_CALLS=<n> sets the size.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { addonPath, runFixture } from "../support/child.js";

const calls = Number(process.env.FUZZ_CALLS ?? 40_000);
// Under ASan every call is several times slower.
const timeoutMs = process.env.NATIVE_SELECTORS_ASAN ? 300_000 : 120_000;

async function runFuzz(seed: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const cwd = mkdtempSync(join(tmpdir(), "ns-fuzz-"));
  try {
    const r = await runFixture(new URL("./fixtures/fuzz-child.mjs", import.meta.url), [addonPath(), String(seed), String(calls)], {
      cwd,
      timeoutMs: timeoutMs - 5000,
    });
    return { code: r.code, signal: r.signal, output: r.stdout + r.stderr };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

describe("random arguments", () => {
  it(
    `${calls} calls to every native function end in values or coded Errors, never a crash`,
    async () => {
      const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 32);
      console.log(`native fuzz seed ${seed} (rerun with FUZZ_SEED=${seed})`);
      const started = performance.now();
      const { code, signal, output } = await runFuzz(seed);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`native fuzz: ${seconds} s\n${output.trim()}`);
      expect(signal, `seed ${seed}: the child died by a signal\n${output}`).toBeNull();
      expect(code, `seed ${seed}: the child failed\n${output}`).toBe(0);
      const made = /fuzz: made=(\d+)/.exec(output);
      expect(made, output).not.toBeNull();
      expect(Number(made![1])).toBeGreaterThanOrEqual(Math.min(calls, 30_000));
      expect(output).toContain("fuzz: ok");
    },
    timeoutMs,
  );
});
