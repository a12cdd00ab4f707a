// test/smoke.test.ts — the package loads and the seed's shape works end to end on loopback.
import { describe, expect, it } from "vitest";

import { DefaultSelector, EVENT_READ, backends, defaultBackend, lowlevel } from "../lib/index.js";

describe("package", () => {
  it("loads the addon with at least poll and the platform's backend", () => {
    expect(backends.poll).toBe(true);
    expect(backends[defaultBackend]).toBe(true);
    if (process.platform === "linux") expect(backends.epoll).toBe(true);
  });

  it("selects a readable socketpair end", () => {
    const [a, b] = lowlevel.socketpair(lowlevel.constants.AF_UNIX, lowlevel.constants.SOCK_STREAM, 0, true);
    const sel = new DefaultSelector<string>();
    try {
      sel.register(a, EVENT_READ, "a");
      expect(sel.select(0)).toEqual([]);
      expect(lowlevel.send(b, Buffer.from("x"))).toBe(1);
      const ready = sel.select(1);
      expect(ready.length).toBe(1);
      expect(ready[0]![0].data).toBe("a");
      expect(ready[0]![1]).toBe(EVENT_READ);
    } finally {
      sel.close();
      lowlevel.close(a);
      lowlevel.close(b);
    }
  });
});
