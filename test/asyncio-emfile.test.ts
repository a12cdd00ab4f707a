// test/asyncio-emfile.test.ts — asyncio Servers (loop.createServer with a Protocol, startServer
// with streams) on a full fd table, in every loop mode: children run under `ulimit -n 64`, fill the
// table, and let clients connect; each server reports EMFILE, backs off instead of spinning on its
// listener, keeps serving, and serves every waiting client and new ones once fds are free.
import { describe, expect, it } from "vitest";

import { expectClean, runFixture } from "./support/child.js";
import { MODES, type Mode } from "./support/loop.js";

const NOFILE = 64;

describe.each(MODES)("asyncio Server on a full fd table (%s)", (mode: Mode) => {
  it("backs off while accept fails with EMFILE, then serves every waiting and new client", async () => {
    const r = await runFixture(new URL("./fixtures/asyncio-emfile.ts", import.meta.url), [mode], { nofile: NOFILE, timeoutMs: 30_000 });
    expectClean(r);
    const res = r.result as {
      exceptions: string[];
      failures: string[];
      cpuShare: number;
      exceptionsWhileFull: number;
      servingWhileFull: boolean[];
      answers: string[][];
      fresh: string[];
      fdsBefore: number;
      fdsAfter: number;
    };
    expect(res.failures).toEqual([]);
    // Both listeners failed to accept, and said why...
    expect(res.exceptions).toEqual(["EMFILE"]);
    expect(res.exceptionsWhileFull).toBeGreaterThanOrEqual(2);
    // ...a handful of retries per listener in that second, not thousands (a spinning loop makes ~10^4)...
    expect(res.exceptionsWhileFull).toBeLessThanOrEqual(40);
    // ...the process stayed mostly idle (spinning costs 50-100% of a core)...
    expect(res.cpuShare).toBeLessThan(0.3);
    // ...and the servers kept serving.
    expect(res.servingWhileFull).toEqual([true, true]);
    expect(res.answers).toEqual([Array(4).fill("pong:ping"), Array(4).fill("pong:ping")]);
    expect(res.fresh).toEqual(["pong:again", "pong:again"]);
    expect(res.fdsAfter).toBe(res.fdsBefore);
  }, 40_000);
});
