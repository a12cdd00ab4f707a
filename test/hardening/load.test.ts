// test/hardening/load.test.ts — load on loopback: one reactor (EventLoop owning the thread, or
// attached, or a bare DefaultSelector) holding 10,000 concurrent connections, the server and the
// clients in two children whose soft RLIMIT_NOFILE is raised to the hard limit; and four worker
// threads, one EventLoop each, sharing one port through SO_REUSEPORT, every one of them serving.
import { describe, expect, it } from "vitest";

import { lowlevel } from "../../lib/index.js";
import { expectClean, hardNofile, runFixture } from "../support/child.js";

const WANTED = 10_000;

describe("load", () => {
  for (const mode of ["owned", "attached", "selectors"] as const) {
    it(`one ${mode === "selectors" ? "DefaultSelector" : `${mode} EventLoop`} holds ${WANTED} concurrent connections`, async () => {
      const hard = await hardNofile();
      // Each side needs one fd per connection plus a few dozen of its own.
      const n = Math.min(WANTED, hard - 200);
      if (n < WANTED) console.warn(`load: the hard RLIMIT_NOFILE is ${hard}; holding ${n} connections instead of ${WANTED}`);
      expect(n).toBeGreaterThan(500);
      let portSeen!: (port: number) => void;
      const port = new Promise<number>((resolve) => (portSeen = resolve));
      const server = runFixture(new URL("./fixtures/load-server.ts", import.meta.url), [mode, String(n)], {
        nofile: hard,
        timeoutMs: 180_000,
        onLine: (line) => {
          const m = /^port (\d+)$/.exec(line);
          if (m) portSeen(Number(m[1]));
        },
      });
      const client = runFixture(new URL("./fixtures/load-client.ts", import.meta.url), [String(await Promise.race([port, server.then(() => 0)])), String(n)], {
        nofile: hard,
        timeoutMs: 180_000,
      });
      const [s, c] = await Promise.all([server, client]);
      expectClean(c);
      expectClean(s);
      const cr = c.result as { ponged: number; connectedAtOnce: number; closedByServer: number; errorCount: number; errors: string[] };
      const sr = s.result as { maxOpen: number; served: number; closed: number; fdsBefore: number; fdsAfter: number };
      expect(cr.errors).toEqual([]);
      // Every connection was answered while all of them were open at once...
      expect(cr.ponged).toBe(n);
      expect(cr.connectedAtOnce).toBe(n);
      expect(sr.maxOpen).toBe(n);
      expect(sr.served).toBe(n);
      // ...then closed on both sides, and the server is back to its own fds.
      expect(cr.closedByServer).toBe(n);
      expect(sr.closed).toBe(n);
      expect(sr.fdsAfter).toBe(sr.fdsBefore);
    }, 200_000);
  }

  // Linux spreads the connections of SO_REUSEPORT listeners over all of them (macOS gives them to one).
  it.runIf(process.platform === "linux" && lowlevel.constants.SO_REUSEPORT !== undefined)(
    "four worker threads, one EventLoop each, share a port with SO_REUSEPORT and all serve",
    async () => {
      const r = await runFixture(new URL("./fixtures/reuseport.ts", import.meta.url), ["800"], { timeoutMs: 60_000 });
      expectClean(r);
      const { counts, bad } = r.result as { counts: number[]; bad: string[] };
      expect(bad).toEqual([]);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(800);
      // The kernel spreads connections over the four listeners: every worker served some.
      for (const [id, count] of counts.entries()) expect(count, `worker ${id}`).toBeGreaterThan(0);
    },
    70_000,
  );
});
