// test/hardening/rude-peers.test.ts — peers that reset, half-close, vanish, refuse or never answer:
// each case is an error with its code (or a clean EOF), nothing already received is lost, and no
// SIGPIPE is raised. Runs the EventLoop owning the thread and attached to Node's loop.
import { describe, expect, it } from "vitest";

import { expectClean, runFixture } from "../support/child.js";

interface Read {
  bytes: number;
  end: string;
}

describe("rude peers", () => {
  for (const drive of ["owned", "attached"] as const) {
    it(`RST, half-close, EPIPE, refused and never-answered connects (${drive})`, async () => {
      const r = await runFixture(new URL("./fixtures/rude-peers.ts", import.meta.url), [drive], { timeoutMs: 30_000 });
      expectClean(r);
      const res = r.result as Record<string, Record<string, unknown>>;

      // RST mid-request: every byte sent before the reset is read, then ECONNRESET.
      expect(res.rst).toEqual({ sent: 20_000, bytes: 20_000, end: "ECONNRESET" });
      if (drive === "attached") expect(res.rstNet).toEqual({ sent: 20_000, bytes: 20_000, end: "ECONNRESET" });

      // Half-close: the server reads the whole request, then EOF, and still answers in full.
      const half = res.halfClose as { requestBytes: number; serverRead: Read; answerBytes: number; sendError?: string; clientRead: Read };
      expect(half.serverRead).toEqual({ bytes: half.requestBytes, end: "EOF" });
      expect(half.sendError).toBeUndefined();
      expect(half.clientRead).toEqual({ bytes: half.answerBytes, end: "EOF" });

      // Writes to a vanished peer: EPIPE/ECONNRESET, never a signal.
      const epipe = res.epipe as { socket: string[]; lowlevel: number; sockSendall: string };
      expect(epipe.socket.length).toBeGreaterThan(0);
      for (const code of epipe.socket) expect(["EPIPE", "ECONNRESET"]).toContain(code);
      expect([-32, -104]).toContain(epipe.lowlevel);
      expect(["EPIPE", "ECONNRESET"]).toContain(epipe.sockSendall);
      expect(res.sigpipes).toBe(0);

      // Refused: ECONNREFUSED from every connect path, and no writer left behind.
      expect(res.refused).toEqual({ connect: "ECONNREFUSED", connectEx: 111, sockConnect: "ECONNREFUSED", writerLeft: false, sockConnect6: "ECONNREFUSED" });

      // Never answered (a full backlog nobody accepts): pending until the caller's signal aborts it.
      const pending = res.pending as { found: boolean; result: string; name: string; waitedMs: number; writerLeft: boolean };
      expect(pending.found).toBe(true);
      expect(pending.result).toBe("ABORT_ERR");
      expect(pending.name).toBe("AbortError");
      expect(pending.waitedMs).toBeGreaterThanOrEqual(250);
      expect(pending.writerLeft).toBe(false);
    }, 40_000);
  }
});
