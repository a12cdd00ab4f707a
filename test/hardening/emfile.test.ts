// test/hardening/emfile.test.ts — a full fd table (children run under `ulimit -n 64`): accept and
// every fd-creating call fail with a coded EMFILE, never a crash; the reactor's accept paths
// (sockAccept, and an accept callback given to addReader) back off instead of spinning on the
// listener that stays readable, and serve every waiting client once fds are free again.
import { describe, expect, it } from "vitest";

import { lowlevel } from "../../lib/index.js";
import { expectClean, runFixture } from "../support/child.js";

const NOFILE = 64;

describe("full fd table", () => {
  it("accept and the constructors fail with EMFILE, and accept works again once fds are free", async () => {
    const r = await runFixture(new URL("./fixtures/emfile.ts", import.meta.url), ["errors"], { nofile: NOFILE });
    expectClean(r);
    const { results, backend } = r.result as { results: Record<string, unknown>; backend: string };
    const EMFILE = -24;
    // The hot-path calls return -errno...
    expect(results.accept).toBe(EMFILE);
    expect(results.acceptAddress).toBe(EMFILE);
    expect(results.acceptBatch).toBe(EMFILE);
    // ...the Python-shaped ones throw Node-shaped system errors.
    expect(results["Socket.accept"]).toEqual({ code: "EMFILE", errno: EMFILE, syscall: "accept" });
    const needFds = ["new Socket", "socketpair", "lowlevel.pipe"];
    if (lowlevel.epoll) needFds.push("epoll.create");
    if (lowlevel.kqueue) needFds.push("kqueue.create");
    // A PollSelector has no fd of its own, and an EventLoop's only fd is its selector's: with poll
    // as the default backend neither needs one, and both work with the table full.
    for (const name of ["new DefaultSelector", "new EventLoop"]) {
      if (backend === "poll") expect(results[name], name).toBe("returned");
      else needFds.push(name);
    }
    for (const name of needFds) expect((results[name] as { code?: string }).code, name).toBe("EMFILE");
    expect(results.afterFree).toBe(true);
  });

  for (const path of ["sockAccept", "reader"] as const) {
    for (const drive of ["owned", "attached"] as const) {
      it(`the ${path === "reader" ? "addReader accept callback" : "sockAccept loop"} backs off while the table is full, then serves (${drive})`, async () => {
        const r = await runFixture(new URL("./fixtures/emfile.ts", import.meta.url), [path, drive], { nofile: NOFILE, timeoutMs: 30_000 });
        expectClean(r);
        const res = r.result as {
          served: number;
          exceptions: string[];
          failures: unknown[];
          cpuShare: number;
          exceptionsWhileFull: number;
          answers: string[];
        };
        expect(res.failures).toEqual([]);
        // The failures were reported with their code...
        expect(res.exceptions).toEqual(["EMFILE"]);
        expect(res.exceptionsWhileFull).toBeGreaterThanOrEqual(1);
        // ...a handful of retries in that second, not thousands (a spinning loop makes ~10^4)...
        expect(res.exceptionsWhileFull).toBeLessThanOrEqual(20);
        // ...and the process stayed mostly idle (spinning costs 50-100% of a core).
        expect(res.cpuShare).toBeLessThan(0.3);
        // Every client waiting meanwhile is served once fds are free.
        expect(res.served).toBe(5);
        expect(res.answers).toEqual(Array(5).fill("pong:ping"));
      }, 40_000);
    }
  }
});
