// test/bench.test.ts — the bench's own correctness, not its speed:
// - conformance: every server in the bench's catalogue (bench/harness.ts serverCatalogue, so a
//   server added there is covered here) answers GET, keep-alive, Connection: close, pipelined and
//   POST exchanges (bench/conformance.ts) with exactly the bytes of bench/servers/http.ts, the one
//   source of the response bytes; the generated copies of those bytes for C and Python are
//   current. The JavaScript servers run from a fresh compile of the sources (not a possibly stale
//   dist/); the Python rows need python3 (python-uvloop an interpreter that imports uvloop), the C
//   server a C compiler; a server missing one is skipped with the reason;
// - the report: ratios, targets, invalid samples left out of the medians.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { EXCHANGES, checkServer, expected } from "../bench/conformance.js";
import { SERVER_NAMES, buildC, findPython, killAll, root, serverCatalogue, startServer } from "../bench/harness.js";
import { generatedFiles } from "../bench/http-files.js";
import { microRows, microTargets, type MicroResults } from "../bench/micro-suite.js";
import { perCpuVs, rows, summarise, targets, type Sample, type Workload } from "../bench/report.js";
import { BODY, RESPONSE, RESPONSE_CLOSE } from "../bench/servers/http.js";
import { childEnv, compileToTemp } from "./loop-helpers.js";

afterAll(() => killAll());

describe("bench servers answer with the same bytes", () => {
  // Compiled while the tests are collected: the catalogue is read from it to name the tests.
  const compiled = compileToTemp();
  afterAll(() => rmSync(compiled, { recursive: true, force: true }));
  const python = findPython(process.env.BENCH_PYTHON);
  const buildLog: string[] = [];
  const { specs, missing } = serverCatalogue(
    buildC("epoll_server", (line) => buildLog.push(line)),
    python,
    join(compiled, "bench"),
  );

  it("the expected responses are well-formed HTTP/1.1 with the JSON body", () => {
    for (const [response, close] of [
      [RESPONSE, false],
      [RESPONSE_CLOSE, true],
    ] as const) {
      const text = response.toString("latin1");
      const [head, body] = text.split("\r\n\r\n");
      expect(body).toBe(BODY);
      expect(head!.split("\r\n")).toEqual([
        "HTTP/1.1 200 OK",
        "Content-Type: application/json",
        `Content-Length: ${Buffer.byteLength(BODY)}`,
        ...(close ? ["Connection: close"] : []),
      ]);
    }
    for (const exchange of EXCHANGES) expect(expected(exchange).length).toBeGreaterThan(0);
  });

  it("the C and Python copies of the response bytes are generated from bench/servers/http.ts and current", () => {
    for (const { path, text } of generatedFiles()) {
      expect(readFileSync(join(root, path), "utf8"), `${path} is stale: run node dist/bench/http-files.js`).toBe(text);
    }
  });

  it("every catalogue server runs here or is skipped for a missing prerequisite", () => {
    for (const name of SERVER_NAMES) expect(specs.has(name) !== missing.has(name), `${name} is in the catalogue once`).toBe(true);
    // The JavaScript servers need nothing but this compile.
    for (const [name, reason] of missing) expect(reason, name).toMatch(/python3|uvloop|C compiler/);
  });

  for (const name of SERVER_NAMES) {
    const spec = specs.get(name);
    const reason = missing.get(name);
    if (spec === undefined) {
      console.warn(`bench conformance: ${name} skipped: ${reason ?? "not in the catalogue"}${buildLog.length ? `\n${buildLog.join("\n")}` : ""}`);
      it.skip(`${name}: skipped: ${reason ?? "not in the catalogue"}`, () => {});
      continue;
    }
    it(`${name}: GET, keep-alive, Connection: close, pipelined and POST get the expected bytes`, async () => {
      const server = await startServer(spec, { server: [], generator: [] }, 1024, childEnv());
      try {
        const results = await checkServer(server.port);
        expect(results.map((r) => r.name)).toEqual(EXCHANGES.map((e) => e.name));
        const failures = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.problem}`);
        expect(failures, `${name} (${spec.command.join(" ")})`).toEqual([]);
      } finally {
        await server.stop();
      }
    });
  }
});

function sample(round: number, server: string, workload: Workload, cpuUsPerRequest: number, extra: Partial<Sample> = {}): Sample {
  return {
    round,
    server,
    workload,
    generator: "native",
    requests: 1000,
    errors: 0,
    seconds: 1,
    rps: 1000,
    cpuSeconds: cpuUsPerRequest / 1000,
    statCpuSeconds: cpuUsPerRequest / 1000,
    cpuSource: "schedstat",
    cpuUsPerRequest,
    ...extra,
  };
}

describe("bench report", () => {
  it("takes every CPU ratio within a round, then the median", () => {
    const samples = [
      sample(1, "seed003-socket", "keepalive", 10),
      sample(1, "python-seed003", "keepalive", 12),
      sample(2, "seed003-socket", "keepalive", 20),
      sample(2, "python-seed003", "keepalive", 20),
      sample(3, "seed003-socket", "keepalive", 10),
      sample(3, "python-seed003", "keepalive", 8),
    ];
    const r = perCpuVs(samples, "keepalive", "seed003-socket", "python-seed003");
    expect(r).toEqual({ median: 1, min: 0.8, max: 1.2 });
    expect(perCpuVs(samples, "close", "seed003-socket", "python-seed003")).toBeNull();
  });

  it("prints each target as met, missed or not run", () => {
    const samples = [
      sample(1, "seed003-socket", "keepalive", 5),
      sample(1, "python-seed003", "keepalive", 6),
      sample(1, "c-epoll", "keepalive", 4),
      sample(1, "seed000-sock", "keepalive", 8),
      sample(1, "node-net", "keepalive", 10),
      sample(1, "seed003-socket", "close", 30, { peakRssKiB: 50 * 1024 }),
      sample(1, "node-net", "close", 40, { peakRssKiB: 80 * 1024 }),
    ];
    const servers = ["seed003-socket", "seed000-sock", "python-seed003", "node-net", "c-epoll"];
    const list = targets(summarise(samples, servers), samples);
    const verdict = (part: string): boolean | null | undefined => list.find((t) => t.name.includes(part))?.met;
    expect(verdict("keep-alive: seed003-socket ≥ 1.0× python-seed003")).toBe(true);
    expect(verdict("keep-alive: seed003-socket ≥ 0.9× c-epoll")).toBe(false);
    expect(verdict("connection per request: seed003-socket ≥ 1.0× python-seed003")).toBeNull();
    expect(verdict("seed000-sock ≥ 1.5× node-net")).toBe(false);
    expect(verdict("seed000-sock ≥ 3.0× python-asyncio")).toBeNull();
    expect(verdict("peak RSS below node-net's")).toBe(true);
    expect(verdict("idle connections: seed003-socket")).toBeNull();
    // the tuned servers did not run: their targets are not printed
    expect(list.some((t) => t.name.startsWith("tuned"))).toBe(false);
  });

  it("builds the micro table and its targets", () => {
    const results: MicroResults = {
      node: {
        "recv(4096) → EAGAIN, caught": { value: 1200, unit: "ns/call", lowlevel: 400 },
        "send(1 B) + recv(4096)": { value: 2000, unit: "ns/pair", lowlevel: 1800 },
        "register+modify+unregister": { value: 1_000_000, unit: "ops/s" },
      },
      python: {
        "recv(4096) → EAGAIN, caught": { value: 1000, unit: "ns/call" },
        "send(1 B) + recv(4096)": { value: 2500, unit: "ns/pair" },
        "register+modify+unregister": { value: 500_000, unit: "ops/s" },
      },
      notes: [],
    };
    expect(microRows(results)).toEqual([
      ["recv(4096) → EAGAIN, caught", "1200 ns/call", "400 ns/call (2.50× CPython)", "1000 ns/call", "0.83×"],
      ["send(1 B) + recv(4096)", "2000 ns/pair", "1800 ns/pair (1.39× CPython)", "2500 ns/pair", "1.25×"],
      ["register+modify+unregister", "1000k ops/s", "–", "500k ops/s", "2.00×"],
    ]);
    expect(microTargets(results).map((t) => t.met)).toEqual([true, true]);
    expect(microTargets({ notes: [] }).map((t) => t.met)).toEqual([null, null]);
  });
});
