// test/bench.test.ts — the bench's own correctness, not its speed: every bench server that talks
// the shared tiny HTTP responder (bench/servers/http.ts; bench/py/framing.py for the Python ones)
// answers the same requests with the same bytes, so their CPU figures compare the same work; and
// the report's ratios and targets come out as documented. The JavaScript servers run as built
// (dist/bench/servers/*.js, made by `npm run build:ts`); the Python rows run when python3 is
// installed (python-uvloop when it imports uvloop), c-epoll when a C compiler is.
import { connect } from "node:net";

import { afterAll, describe, expect, it } from "vitest";

import { buildC, findPython, killAll, serverCatalogue, startServer, type ServerName } from "../bench/harness.js";
import { microRows, microTargets, type MicroResults } from "../bench/micro-suite.js";
import { perCpuVs, summarise, targets, type Sample, type Workload } from "../bench/report.js";

afterAll(() => killAll());

const BODY = '{"Hello": "World"}';
const RESPONSE = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n${BODY}`;
const RESPONSE_CLOSE = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\nConnection: close\r\n\r\n${BODY}`;

/**
 * Writes `pieces` one by one (a pause between them, so a server sees them as separate reads) on
 * one connection, and collects everything until the server closes it; bounded by 10 s.
 */
function exchange(port: number, pieces: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 10 s; received ${JSON.stringify(Buffer.concat(chunks).toString("latin1"))}`));
    }, 10_000);
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
    socket.on("connect", async () => {
      for (const piece of pieces) {
        socket.write(piece, "latin1");
        await new Promise((r) => setTimeout(r, 30));
      }
    });
  });
}

describe("bench servers answer with the same bytes", () => {
  const python = findPython(process.env.BENCH_PYTHON);
  const { specs, missing } = serverCatalogue(
    buildC("epoll_server", () => {}),
    python,
  );
  // node-http adds its own Date and Connection headers: it does the same work with other bytes.
  const names: ServerName[] = [
    "seed003-socket",
    "seed000-sock",
    "python-seed003",
    "python-asyncio",
    "python-uvloop",
    "node-net",
    "c-epoll",
    "tuned-selectors",
    "tuned-loop-owned",
    "tuned-loop-attached",
  ];

  it("the JavaScript servers are built", () => {
    for (const name of ["seed003-socket", "seed000-sock", "node-net", "tuned-selectors"] as const) expect(missing.get(name)).toBeUndefined();
  });

  for (const name of names) {
    const spec = specs.get(name);
    it.skipIf(spec === undefined)(`${name}: pipelined GETs, a split POST echoed, Connection: close`, async () => {
      const server = await startServer(spec!, { server: [], generator: [] }, 1024);
      try {
        const got = await exchange(server.port, [
          "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
          "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello",
          " world",
          "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ]);
        const echo = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 11\r\n\r\nhello world";
        expect(got).toBe(RESPONSE + RESPONSE + echo + RESPONSE_CLOSE);
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
