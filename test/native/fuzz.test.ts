// test/native/fuzz.test.ts — the random-argument test: runs test/helpers/native-fuzz-child.mjs in a
// child process (so a crash or abort fails this test instead of killing the runner) against the
// addon this process loaded. Tens of thousands of calls to every native function and method with
// wrong types, NaN, ±Infinity, negative and huge numbers, short and detached buffers, closed and
// never-opened fds; each must return or throw an Error with a string code, and the child must exit
// 0 with no fd left open. The seed is printed; FUZZ_SEED=<n> reruns one, FUZZ_CALLS=<n> sets the size.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import { loadedAddonPath } from "../helpers/native-helpers.js";

const childScript = join(dirname(fileURLToPath(import.meta.url)), "..", "helpers", "native-fuzz-child.mjs");
const calls = Number(process.env.FUZZ_CALLS ?? 40_000);
// Under ASan every call is several times slower.
const timeoutMs = process.env.NATIVE_SELECTORS_ASAN ? 300_000 : 120_000;

function runFuzz(seed: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const cwd = mkdtempSync(join(tmpdir(), "ns-fuzz-"));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [childScript, loadedAddonPath(), String(seed), String(calls)], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs - 5000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      rmSync(cwd, { recursive: true, force: true });
      resolve({ code, signal, output });
    });
  });
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
