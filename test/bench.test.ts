// test/bench.test.ts — the bench's own correctness, not its speed:
// - conformance: every server in the bench's catalogue (bench/harness.ts serverCatalogue, so a
//   server added there is covered here) answers GET, keep-alive, Connection: close, pipelined and
//   POST exchanges (bench/conformance.ts) with exactly the bytes of bench/servers/http.ts, the one
//   source of the response bytes; the generated copies of those bytes for C and Python are
//   current. The JavaScript servers run from a fresh compile of the sources (not a possibly stale
//   dist/); the Python rows need python3 (python-uvloop an interpreter that imports uvloop), the C
//   servers a C compiler (c-uring also liburing and a kernel that allows io_uring); a server
//   missing one is skipped with the reason;
// - the load generators: bench/c/loadgen and wrk (with bench/wrk/check.lua) count a response with
//   one wrong byte as wrong;
// - the report: ratios, targets, invalid samples left out of the medians, syscalls per request
//   (the strace summary parser, the columns).
import { readFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { EXCHANGES, checkServer, expected } from "../bench/conformance.js";
import {
  SERVER_NAMES,
  buildC,
  buildCServers,
  findPython,
  killAll,
  liburingFound,
  parseStraceSummary,
  root,
  runLoadgen,
  runWrk,
  serverCatalogue,
  startServer,
  which,
  type LoadOptions,
  type Mode,
} from "../bench/harness.js";
import { generatedFiles } from "../bench/http-files.js";
import { microRows, microTargets, type MicroResults } from "../bench/micro-suite.js";
import { HEADER, invalidity, perCpuVs, rows, summarise, targets, type Sample, type Target, type Workload } from "../bench/report.js";
import { BODY, Framer, RESPONSE, RESPONSE_CLOSE } from "../bench/servers/http.js";
import { childEnv, compileForChildren } from "./support/child.js";

afterAll(() => killAll());

describe("bench servers answer with the same bytes", () => {
  // Compiled while the tests are collected: the catalogue is read from it to name the tests.
  const compiled = compileForChildren();
  const python = findPython(process.env.BENCH_PYTHON);
  const buildLog: string[] = [];
  const { specs, missing } = serverCatalogue(
    buildCServers((line) => buildLog.push(line)),
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
    for (const [name, reason] of missing) expect(reason, name).toMatch(/python3|uvloop|C compiler|liburing|io_uring/);
    // With a compiler, the C servers must build: a broken bench/c/*.c is a failure, not a skip. The
    // io_uring one may still be skipped where the kernel refuses io_uring (its --probe says why).
    if ((which("cc") ?? which("gcc") ?? which("clang")) !== null) {
      expect(missing.get("c-epoll"), buildLog.join("\n")).toBeUndefined();
      if (liburingFound()) expect(missing.get("c-uring") ?? "", buildLog.join("\n")).toMatch(/^$|^io_uring unavailable here: /);
    }
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

/**
 * The bench responder in this process, on node:net; `wrong` changes one kind of byte in its output
 * ('W' to 'w': the JSON body's "World"; 'q' to 'Q': in an echoed body), so every response is wrong.
 */
async function responder(wrong: boolean): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const framer = new Framer();
    socket.on("data", (chunk: Buffer) => {
      const out = Buffer.concat(framer.feed(chunk, 0, chunk.length));
      if (wrong) for (let i = 0; i < out.length; i++) out[i] = out[i] === 0x57 ? 0x77 : out[i] === 0x71 ? 0x51 : out[i]!;
      if (out.length > 0) socket.write(out);
      if (framer.closeAfter || framer.broken) socket.end();
    });
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

describe("the load generators check every response", () => {
  const loadgen = buildC("loadgen", () => {});
  const wrk = which("wrk");
  const options = (mode: Mode, port: number, seconds: number): LoadOptions => ({
    mode,
    port,
    seconds,
    connections: 4,
    depth: 8,
    bodySize: 100_000,
    rate: 2000,
  });

  it.skipIf(loadgen === null)("bench/c/loadgen counts a response with one wrong byte as wrong and as an error, in every mode", async () => {
    const right = await responder(false);
    const bad = await responder(true);
    try {
      for (const mode of ["keepalive", "close", "pipeline", "echo", "rate"] as const) {
        const good = await runLoadgen(loadgen!, { server: [], generator: [] }, options(mode, right.port, 0.3));
        expect([mode, good.requests > 0, good.errors, good.wrong]).toEqual([mode, true, 0, 0]);
        const wrongOnes = await runLoadgen(loadgen!, { server: [], generator: [] }, options(mode, bad.port, 0.3));
        expect([mode, wrongOnes.requests, wrongOnes.wrong > 0, wrongOnes.errors >= wrongOnes.wrong]).toEqual([mode, 0, true, true]);
      }
    } finally {
      await right.close();
      await bad.close();
    }
  });

  if (wrk === null) console.warn("bench: wrk is not installed: its response check is not tested");
  it.skipIf(wrk === null)("wrk with bench/wrk/check.lua counts wrong responses (keep-alive, close, pipelined)", async () => {
    const right = await responder(false);
    const bad = await responder(true);
    try {
      for (const mode of ["keepalive", "close", "pipeline"] as const) {
        const good = await runWrk(wrk!, { server: [], generator: [] }, options(mode, right.port, 1));
        expect([mode, good.requests > 0, good.errors, good.wrong]).toEqual([mode, true, 0, 0]);
      }
      const wrongOnes = await runWrk(wrk!, { server: [], generator: [] }, options("keepalive", bad.port, 1));
      expect(wrongOnes.wrong).toBeGreaterThan(0);
      expect(wrongOnes.errors).toBeGreaterThanOrEqual(wrongOnes.wrong);
    } finally {
      await right.close();
      await bad.close();
    }
  });
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

  it("leaves an invalid sample out of the medians and ratios, and counts it", () => {
    expect(invalidity(0, 0)).toBeUndefined();
    expect(invalidity(3, 0)).toBe("3 transport errors");
    expect(invalidity(5, 2)).toBe("2 wrong responses and 3 transport errors");
    const bad = { errors: 7, wrong: 7, invalid: invalidity(7, 7)! };
    const samples = [
      sample(1, "seed003-socket", "keepalive", 10),
      sample(1, "node-net", "keepalive", 20),
      sample(2, "seed003-socket", "keepalive", 1, bad),
      sample(2, "node-net", "keepalive", 20),
      sample(3, "seed003-socket", "keepalive", 30),
      sample(3, "node-net", "keepalive", 20),
      sample(4, "seed003-socket", "keepalive", 10),
      sample(4, "node-net", "keepalive", 2, { errors: 1, invalid: invalidity(1, 0)! }),
    ];
    const [net, seed] = [summarise(samples, ["node-net", "seed003-socket"])[0]!, summarise(samples, ["node-net", "seed003-socket"])[1]!];
    expect([seed.server, seed.rounds, seed.invalid, seed.errors]).toEqual(["seed003-socket", 3, 1, 7]);
    expect(seed.cpuUsPerRequest).toEqual({ median: 10, min: 10, max: 30 });
    // rounds 1 and 3 only: round 2's sample and round 4's reference are invalid
    expect(seed.perCpuVsNodeNet).toEqual({ median: (2 + 2 / 3) / 2, min: 2 / 3, max: 2 });
    expect(perCpuVs(samples, "keepalive", "seed003-socket", "node-net")).toEqual(seed.perCpuVsNodeNet);
    expect([net.rounds, net.invalid]).toEqual([3, 1]);
    expect(rows([net, seed]).map((r) => r[1])).toEqual(["node-net (1 invalid)", "seed003-socket (1 invalid)"]);
    // every sample invalid: the row stays, with no figures
    const none = summarise([sample(1, "c-epoll", "close", 5, bad)], ["c-epoll"]);
    expect([none[0]!.rounds, none[0]!.invalid, rows(none)[0]![2]]).toEqual([0, 1, "–"]);
    const onlyInvalid = [sample(1, "seed003-socket", "keepalive", 5, bad), sample(1, "python-seed003", "keepalive", 6)];
    const verdict = targets(summarise(onlyInvalid, ["seed003-socket", "python-seed003"]), onlyInvalid).find((t) =>
      t.name.includes("keep-alive: seed003-socket ≥ 1.0× python-seed003"),
    );
    expect([verdict?.met, verdict?.detail]).toEqual([null, "no round where both have a valid sample"]);
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
    expect(verdict("keep-alive: c-uring ≥ 1.2× c-epoll")).toBeNull();
    const withUring = [...samples, sample(1, "c-uring", "keepalive", 3)];
    const uringVerdict = targets(summarise(withUring, [...servers, "c-uring"]), withUring).find((t) => t.name.includes("c-uring ≥ 1.2× c-epoll"));
    expect([uringVerdict?.met, uringVerdict?.detail]).toEqual([true, "1.33× (rounds 1.33×–1.33×); 3.00 vs 4.00 µs/req"]);
    expect(verdict("asyncio-protocol ≥ 1.5× node-net")).toBeNull();
    const withLayer = [...samples, sample(1, "asyncio-protocol", "keepalive", 6), sample(1, "asyncio-streams", "keepalive", 9)];
    const layer = targets(summarise(withLayer, [...servers, "asyncio-protocol", "asyncio-streams"]), withLayer);
    expect(layer.find((t) => t.name.includes("asyncio-protocol ≥ 1.5× node-net"))?.met).toBe(true);
    expect(layer.find((t) => t.name.includes("asyncio-streams ≥ 1.3× python-uvloop-streams"))?.met).toBeNull();
    expect(verdict("keep-alive: seed000-proactor ≥ 1.3× seed000-sock")).toBeNull();
    expect(verdict("seed000-proactor makes ≤ 0.2 system calls")).toBeNull();
    const withProactor = [
      ...samples,
      sample(1, "seed000-proactor", "keepalive", 5),
      sample(1, "seed000-sock", "close", 20),
      sample(1, "seed000-proactor", "close", 18),
    ];
    const proactorServers = [...servers, "seed000-proactor"];
    const proactor = (counts: Map<string, number>, part: string): Target | undefined =>
      targets(summarise(withProactor, proactorServers, counts), withProactor).find((t) => t.name.includes(part));
    const keepalive = proactor(new Map(), "keep-alive: seed000-proactor ≥ 1.3× seed000-sock");
    expect([keepalive?.met, keepalive?.detail]).toEqual([true, "1.60× (rounds 1.60×–1.60×); 5.00 vs 8.00 µs/req"]);
    expect(proactor(new Map(), "connection per request: seed000-proactor ≥ 1.3× seed000-sock")?.met).toBe(false);
    expect(proactor(new Map(), "≤ 0.2 system calls")).toMatchObject({ met: null, detail: "not counted (strace unavailable)" });
    expect(proactor(new Map([["seed000-proactor", 0.15]]), "≤ 0.2 system calls")).toMatchObject({
      met: true,
      detail: "0.15 syscalls/req (strace, separate short run)",
    });
    expect(proactor(new Map([["seed000-proactor", 1.02]]), "≤ 0.2 system calls")?.met).toBe(false);
    expect(verdict("peak RSS below node-net's")).toBe(true);
    expect(verdict("idle connections: seed003-socket")).toBeNull();
    // the tuned servers did not run: their targets are not printed
    expect(list.some((t) => t.name.startsWith("tuned"))).toBe(false);
  });

  it("shows syscalls per request: strace's count on the keep-alive row, /proc's read/write count on every load row", () => {
    const strace = [
      "strace: Process 123 attached with 2 threads",
      "% time     seconds  usecs/call     calls    errors syscall",
      "------ ----------- ----------- --------- --------- ----------------",
      " 60.00    0.000600           1       500           sendto",
      " 30.00    0.000300           0       500        20 recvfrom",
      " 10.00    0.000100           1        17           epoll_wait",
      "------ ----------- ----------- --------- --------- ----------------",
      "100.00    0.001000           0      1017        20 total",
      "strace: Process 123 detached",
    ].join("\n");
    expect(parseStraceSummary(strace)).toEqual({
      total: 1017,
      calls: [
        { name: "sendto", calls: 500 },
        { name: "recvfrom", calls: 500 },
        { name: "epoll_wait", calls: 17 },
      ],
    });
    expect(parseStraceSummary("strace: attach: ptrace(PTRACE_SEIZE, 1): Operation not permitted")).toBeNull();
    const samples = [
      sample(1, "c-epoll", "keepalive", 4, { ioSyscallsPerRequest: 0 }),
      sample(2, "c-epoll", "keepalive", 4, { ioSyscallsPerRequest: 0.5 }),
      sample(1, "c-epoll", "close", 9, { ioSyscallsPerRequest: 1.25 }),
    ];
    const table = rows(summarise(samples, ["c-epoll"], new Map([["c-epoll", 2.034]])));
    const column = (name: string): number => HEADER.indexOf(name);
    expect(table.map((r) => [r[0], r[column("syscalls/req")], r[column("r/w syscalls/req")]])).toEqual([
      ["keep-alive", "2.03", "0.25 (0.00–0.50)"],
      ["connection per request", "–", "1.25"],
    ]);
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
