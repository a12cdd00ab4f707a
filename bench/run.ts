/**
 * bench/run.ts — `npm run bench`: the comparison of this library's paths (seed-style selectors,
 * EventLoop owned and attached, the promise API) with Node's libuv path (node:net, node:http), a C
 * epoll server (this machine's limit) and CPython's selectors, each a separate process serving the
 * same tiny HTTP responder. Server pinned to CPU 1, load generator (wrk, or bench/c/loadgen) to
 * CPU 0; the server's own CPU time per request is read from /proc/<pid>/stat around each run.
 * Servers are interleaved round by round; medians with min–max; every ratio is against node:net in
 * the same round; node-net-2 (a second node:net) shows the noise floor. Then the selector
 * micro-benchmarks, against Python's when python3 is present.
 *
 * Output: progress on stderr, the table and the targets on stdout, and bench/results/<date>.json,
 * <date>.svg and latest.md (a --quick run writes <date>-quick.* and latest-quick.md instead).
 * Run `npm run bench -- --help` for the options.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";

import {
  SERVER_NAMES,
  buildC,
  cpuDelta,
  cpuSeconds,
  distBench,
  installExitHandlers,
  killAll,
  pinning,
  root,
  runBounded,
  runIdle,
  runLoadgen,
  runWrk,
  serverCatalogue,
  startServer,
  which,
  wrkSeconds,
  type GenResult,
  type LoadOptions,
  type Mode,
  type ServerName,
  type ServerSpec,
} from "./harness.js";
import { HEADER, WORKLOADS, WORKLOAD_TITLES, markdownTable, rows, summarise, svgChart, targets, textTable, type Sample, type Workload } from "./report.js";

const HELP = `usage: npm run bench -- [options]

  --quick                 1 round, 0.4 s runs, 1,000 idle connections, short micro-benchmarks
                          (< 1 minute); uses the native generator unless --generator=wrk
  --servers=a,b,...       servers to run (default: all available):
                          ${SERVER_NAMES.join(", ")}
  --workloads=a,b,...     ${WORKLOADS.join(", ")} (default: all)
  --rounds=N              rounds, servers interleaved in each (default 3; quick 1)
  --duration=S            seconds per measured run (default 2; quick 0.4; wrk rounds up to whole s)
  --warmup=S              seconds of warm-up before each measured run (default 0.5; quick 0.1)
  --connections=N         connections for keep-alive, close and latency (default 32)
  --pipeline-depth=N      requests per pipelined write (default 16; 16 connections)
  --echo-size=BYTES       echo body size (default 1048576; 4 connections)
  --idle=N                idle connections held (default 5000; quick 1000)
  --rate=N                offered requests/s for the latency workload (default 5000)
  --generator=G           auto | wrk | native (default auto: wrk for keep-alive, close and
                          pipelined when installed and runs are >= 1 s; the native generator
                          bench/c/loadgen always runs echo, idle and latency)
  --no-pin                do not pin server and generator to CPUs with taskset
  --no-micro              skip the micro-benchmarks        --micro-only   only them
  --out=DIR               results directory (default bench/results); --no-save writes nothing
  --help                  this text
`;

interface Options {
  quick: boolean;
  servers: ServerName[] | null;
  workloads: Workload[];
  rounds: number;
  duration: number;
  warmup: number;
  connections: number;
  depth: number;
  echoSize: number;
  idle: number;
  rate: number;
  generator: "auto" | "wrk" | "native";
  pin: boolean;
  micro: boolean;
  microOnly: boolean;
  out: string;
  save: boolean;
}

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${HELP}`);
  process.exit(2);
}

function parseOptions(argv: readonly string[]): Options {
  const quick = argv.includes("--quick");
  const o: Options = {
    quick,
    servers: null,
    workloads: [...WORKLOADS],
    rounds: quick ? 1 : 3,
    duration: quick ? 0.4 : 2,
    warmup: quick ? 0.1 : 0.5,
    connections: 32,
    depth: 16,
    echoSize: 1 << 20,
    idle: quick ? 1000 : 5000,
    rate: 5000,
    generator: "auto",
    pin: true,
    micro: true,
    microOnly: false,
    out: join(root, "bench", "results"),
    save: true,
  };
  const num = (key: string, value: string | undefined, min: number, max: number): number => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min || n > max) usageError(`${key} needs a number in [${min}, ${max}]`);
    return n;
  };
  for (const arg of argv) {
    const eq = arg.indexOf("=");
    const key = eq < 0 ? arg : arg.slice(0, eq);
    const value = eq < 0 ? undefined : arg.slice(eq + 1);
    switch (key) {
      case "--quick":
        break;
      case "--help":
      case "-h":
        process.stdout.write(HELP);
        process.exit(0);
        break;
      case "--servers": {
        const names = (value ?? "").split(",").filter(Boolean);
        for (const n of names) if (!(SERVER_NAMES as readonly string[]).includes(n)) usageError(`unknown server '${n}'`);
        if (names.length === 0) usageError("--servers needs a list");
        o.servers = names as ServerName[];
        break;
      }
      case "--workloads": {
        const names = (value ?? "").split(",").filter(Boolean);
        for (const n of names) if (!(WORKLOADS as readonly string[]).includes(n)) usageError(`unknown workload '${n}'`);
        if (names.length === 0) usageError("--workloads needs a list");
        o.workloads = WORKLOADS.filter((w) => names.includes(w));
        break;
      }
      case "--rounds":
        o.rounds = Math.round(num(key, value, 1, 50));
        break;
      case "--duration":
        o.duration = num(key, value, 0.1, 600);
        break;
      case "--warmup":
        o.warmup = num(key, value, 0, 60);
        break;
      case "--connections":
        o.connections = Math.round(num(key, value, 1, 10000));
        break;
      case "--pipeline-depth":
        o.depth = Math.round(num(key, value, 1, 64));
        break;
      case "--echo-size":
        o.echoSize = Math.round(num(key, value, 1, 1 << 30));
        break;
      case "--idle":
        o.idle = Math.round(num(key, value, 1, 100000));
        break;
      case "--rate":
        o.rate = num(key, value, 1, 1e7);
        break;
      case "--generator":
        if (value !== "auto" && value !== "wrk" && value !== "native") usageError("--generator is auto, wrk or native");
        o.generator = value;
        break;
      case "--no-pin":
        o.pin = false;
        break;
      case "--no-micro":
        o.micro = false;
        break;
      case "--micro-only":
        o.microOnly = true;
        break;
      case "--out":
        if (!value) usageError("--out needs a directory");
        o.out = value;
        break;
      case "--no-save":
        o.save = false;
        break;
      default:
        usageError(`unknown option ${arg}`);
    }
  }
  return o;
}

// ------------------------------------------------------------------------------------- progress

const tty = process.stderr.isTTY === true;
let progressOpen = false;
function progress(line: string): void {
  if (tty) {
    process.stderr.write(`\r\x1b[K${line}`);
    progressOpen = true;
  } else process.stderr.write(`${line}\n`);
}
function log(line: string): void {
  if (progressOpen) process.stderr.write("\n");
  progressOpen = false;
  process.stderr.write(`${line}\n`);
}

// ------------------------------------------------------------------------------------- machine

function firstLine(argv: string[]): string | null {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 5000 });
  if (r.status !== 0 && !r.stdout && !r.stderr) return null;
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n")[0]!.trim() || null;
}

function machineInfo(wrk: string | null, python: string | null): Record<string, unknown> {
  const cpu = cpus();
  let pkg: { version?: string } = {};
  try {
    pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version?: string };
  } catch {
    // no version then
  }
  const git = spawnSync("git", ["-C", root, "rev-parse", "--short", "HEAD"], { encoding: "utf8" });
  return {
    cpuModel: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${process.platform} ${release()}`,
    node: process.version,
    packageVersion: pkg.version ?? null,
    commit: git.status === 0 ? git.stdout.trim() : null,
    wrk: wrk ? (firstLine([wrk, "--version"]) ?? "present") : null,
    python: python ? firstLine([python, "--version"]) : null,
    cc: firstLine(["cc", "--version"]),
    taskset: which("taskset") !== null,
  };
}

// ------------------------------------------------------------------------------------- running

const MODES: Record<Exclude<Workload, "idle">, Mode> = { keepalive: "keepalive", close: "close", pipeline: "pipeline", echo: "echo", latency: "rate" };

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  installExitHandlers();
  const started = Date.now();
  const loadgen = buildC("loadgen", log);
  const cEpoll = buildC("epoll_server", log);
  const wrk = which("wrk");
  const python = which("python3");
  const pin = pinning(o.pin);
  const machine = machineInfo(wrk, python);

  // The generator for keep-alive, close and pipelined.
  let useWrk: boolean;
  if (o.generator === "wrk") {
    if (!wrk) usageError("--generator=wrk but wrk is not installed");
    useWrk = true;
  } else if (o.generator === "native") {
    if (!loadgen) usageError("--generator=native but bench/c/loadgen could not be built (no C compiler?)");
    useWrk = false;
  } else {
    useWrk = wrk !== null && (!o.quick || loadgen === null);
  }
  if (!loadgen && !useWrk) usageError("no load generator: install wrk or a C compiler (cc) for bench/c/loadgen");
  const nativeOnly: Workload[] = ["echo", "latency", "idle"];
  if (!loadgen) {
    log("bench: bench/c/loadgen is unavailable: echo, latency and idle are skipped");
    o.workloads = o.workloads.filter((w) => !nativeOnly.includes(w));
  }

  const { specs, missing } = serverCatalogue(cEpoll, python);
  const wanted = o.servers ?? [...SERVER_NAMES];
  for (const name of wanted) if (missing.has(name)) log(`bench: server ${name} skipped: ${missing.get(name)}`);
  const servers: ServerSpec[] = wanted.flatMap((n) => (specs.has(n) ? [specs.get(n)!] : []));
  if (!servers.some((s) => s.name === "node-net") && !o.microOnly) log("bench: node-net is not in the run: no ratios will be computed");

  const generatorNote = useWrk ? `wrk -t1 (keep-alive, close, pipelined); bench/c/loadgen (echo, latency, idle)` : `bench/c/loadgen for every workload`;
  log(
    `bench: ${servers.length} servers × ${o.workloads.length} workloads × ${o.rounds} round(s), ${o.duration} s runs; generator: ${generatorNote}; ` +
      (pin.server.length ? "server on CPU 1, generator on CPU 0" : "no CPU pinning"),
  );

  const samples: Sample[] = [];
  const failures: string[] = [];
  const loadWorkloads = o.workloads.filter((w): w is Exclude<Workload, "idle"> => w !== "idle");
  const total = o.microOnly ? 0 : o.rounds * servers.length * o.workloads.length;
  let step = 0;

  const options = (workload: Exclude<Workload, "idle">, port: number, seconds: number): LoadOptions => ({
    mode: MODES[workload],
    port,
    seconds,
    connections: workload === "pipeline" ? 16 : workload === "echo" ? 4 : o.connections,
    depth: o.depth,
    bodySize: o.echoSize,
    rate: o.rate,
  });

  for (let round = 1; round <= o.rounds && !o.microOnly; round++) {
    // rotate the order each round so no server always runs first
    const order = servers.map((_, i) => servers[(i + round - 1) % servers.length]!);
    for (const spec of order) {
      if (loadWorkloads.length > 0) {
        let server;
        try {
          server = await startServer(spec, pin, 4096);
        } catch (error) {
          failures.push(`round ${round} ${spec.name}: ${(error as Error).message}`);
          log(`bench: ${spec.name} failed to start: ${(error as Error).message}`);
          step += loadWorkloads.length;
          server = null;
        }
        if (server) {
          for (const workload of loadWorkloads) {
            step++;
            progress(`[${step}/${total}] round ${round}/${o.rounds}  ${WORKLOAD_TITLES[workload].padEnd(24)} ${spec.name}`);
            const viaWrk = useWrk && (workload === "keepalive" || workload === "close" || workload === "pipeline");
            try {
              if (o.warmup > 0 && loadgen) await runLoadgen(loadgen, pin, options(workload, server.port, o.warmup));
              else if (o.warmup > 0 && wrk) await runWrk(wrk, pin, options(workload, server.port, 1));
              const cpu0 = cpuSeconds(server.pid);
              const r: GenResult = viaWrk
                ? await runWrk(wrk!, pin, options(workload, server.port, o.duration))
                : await runLoadgen(loadgen!, pin, options(workload, server.port, o.duration));
              const cpu = cpuDelta(cpu0, cpuSeconds(server.pid));
              samples.push({
                round,
                server: spec.name,
                workload,
                generator: viaWrk ? "wrk" : "native",
                requests: r.requests,
                errors: r.errors,
                seconds: r.seconds,
                rps: r.requests / r.seconds,
                cpuSeconds: cpu.seconds,
                statCpuSeconds: cpu.statSeconds,
                cpuSource: cpu.source,
                cpuUsPerRequest: r.requests > 0 ? (cpu.seconds * 1e6) / r.requests : Number.NaN,
                latency: r.latency,
              });
              if (r.errors > 0) log(`bench: ${spec.name} ${workload}: ${r.errors} errors`);
            } catch (error) {
              failures.push(`round ${round} ${spec.name} ${workload}: ${(error as Error).message}`);
              log(`bench: ${spec.name} ${workload} failed: ${(error as Error).message}`);
            }
          }
          await server.stop();
        }
      }
      if (o.workloads.includes("idle") && loadgen) {
        step++;
        progress(`[${step}/${total}] round ${round}/${o.rounds}  ${WORKLOAD_TITLES.idle.padEnd(24)} ${spec.name}`);
        try {
          const server = await startServer(spec, pin, Math.round(o.idle * 1.2) + 1024);
          try {
            const idle = await runIdle(loadgen, pin, server.pid, server.port, o.idle, o.quick ? 150 : 400);
            samples.push({
              round,
              server: spec.name,
              workload: "idle",
              generator: "native",
              requests: idle.held,
              errors: o.idle - idle.held,
              seconds: 0,
              rps: Number.NaN,
              cpuSeconds: Number.NaN,
              statCpuSeconds: Number.NaN,
              cpuSource: "stat",
              cpuUsPerRequest: Number.NaN,
              idle,
            });
          } finally {
            await server.stop();
          }
        } catch (error) {
          failures.push(`round ${round} ${spec.name} idle: ${(error as Error).message}`);
          log(`bench: ${spec.name} idle failed: ${(error as Error).message}`);
        }
      }
    }
  }
  if (progressOpen) process.stderr.write("\n");
  progressOpen = false;

  // micro-benchmarks
  let micro: { node?: Record<string, { value: number; unit: string }>; python?: Record<string, { value: number; unit: string }> } = {};
  if (o.micro) {
    const seconds = o.quick ? "0.15" : "0.5";
    progress("micro-benchmarks: node");
    const n = await runBounded([...pin.server, process.execPath, join(distBench, "micro.js"), "--seconds", seconds], 120_000);
    try {
      micro.node = JSON.parse(n.stdout.trim()) as typeof micro.node;
    } catch {
      log(`bench: micro.js failed: ${n.stderr.trim()}`);
    }
    if (python) {
      progress("micro-benchmarks: python");
      const p = await runBounded([...pin.server, python, join(root, "bench", "py", "micro.py"), "--seconds", seconds], 120_000);
      try {
        micro.python = JSON.parse(p.stdout.trim()) as typeof micro.python;
      } catch {
        log(`bench: micro.py failed: ${p.stderr.trim()}`);
      }
    }
    if (progressOpen) process.stderr.write("\n");
    progressOpen = false;
  } else micro = {};

  // report
  const elapsed = (Date.now() - started) / 1000;
  const date = new Date().toISOString().slice(0, 10);
  const summaries = summarise(
    samples,
    servers.map((s) => s.name),
  );
  const tableRows = rows(summaries);
  const verdicts = targets(summaries);
  const microRows = Object.keys(micro.node ?? micro.python ?? {}).map((k) => {
    const a = micro.node?.[k];
    const b = micro.python?.[k];
    const fmt = (v: { value: number; unit: string } | undefined): string =>
      v ? `${v.unit === "ops/s" ? `${(v.value / 1e3).toFixed(0)}k` : v.value.toFixed(0)} ${v.unit}` : "–";
    const better = a && b ? (a.unit === "ops/s" ? a.value / b.value : b.value / a.value) : Number.NaN;
    return [k, fmt(a), fmt(b), Number.isFinite(better) ? `${better.toFixed(2)}×` : "–"];
  });
  const microHeader = ["micro-benchmark", "this library (DefaultSelector)", "CPython selectors", "speed vs Python"];
  const machineLine = `${String(machine.cpuModel)}, ${String(machine.cores)} cores, ${String(machine.kernel)}, Node ${process.version}${machine.python ? `, ${String(machine.python)}` : ""}`;
  const method =
    `${o.rounds} round(s) × ${o.duration} s per run${useWrk ? ` (wrk runs: ${wrkSeconds(o.duration)} s)` : ""}, generator: ${generatorNote}, ` +
    `${pin.server.length ? "server pinned to CPU 1 and generator to CPU 0" : "no pinning"}; keep-alive/close/latency ${o.connections} connections, ` +
    `pipelined 16×${o.depth}, echo 4×${o.echoSize} B, idle ${o.idle}, latency at ${o.rate} req/s offered (bench/c/loadgen rate mode, from each request's scheduled send time).`;

  const lines: string[] = [];
  lines.push(`native-selectors bench — ${date}${o.quick ? " (quick)" : ""} — ${machineLine}`);
  lines.push(method);
  lines.push("");
  if (tableRows.length) lines.push(textTable(HEADER, tableRows));
  lines.push("");
  if (verdicts.length && tableRows.length) {
    lines.push("targets (server CPU time per request, this run):");
    for (const t of verdicts) lines.push(`  [${t.met === null ? "n/a " : t.met ? "met " : "MISS"}] ${t.name}: ${t.detail}`);
    lines.push("");
  }
  if (microRows.length) lines.push(textTable(microHeader, microRows), "");
  if (failures.length) lines.push("failures:", ...failures.map((f) => `  ${f}`), "");
  lines.push(`took ${elapsed.toFixed(1)} s`);
  process.stdout.write(`${lines.join("\n")}\n`);

  if (!o.save) return;
  mkdirSync(o.out, { recursive: true });
  const stem = o.quick ? `${date}-quick` : date;
  const json = {
    date,
    quick: o.quick,
    elapsedSeconds: elapsed,
    machine,
    options: { ...o, out: undefined },
    generator: generatorNote,
    samples,
    summaries,
    targets: verdicts,
    micro,
    failures,
  };
  writeFileSync(join(o.out, `${stem}.json`), `${JSON.stringify(json, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`);
  writeFileSync(join(o.out, `${stem}.svg`), svgChart(summaries, `native-selectors vs node:net — ${date}${o.quick ? " (quick)" : ""}`, machineLine));
  const md: string[] = [];
  md.push(`### Benchmark results — ${date}${o.quick ? " (quick run)" : ""}`, "");
  md.push(`Machine: ${machineLine}. ${method}`, "");
  md.push(markdownTable(HEADER, tableRows), "");
  md.push("Targets (server CPU time per request, same run):", "");
  for (const t of verdicts) md.push(`- ${t.met === null ? "n/a" : t.met ? "**met**" : "**missed**"} — ${t.name}: ${t.detail}`);
  md.push("");
  if (microRows.length) md.push(markdownTable(microHeader, microRows), "");
  md.push(`Chart: [${stem}.svg](${stem}.svg). Raw data: [${stem}.json](${stem}.json).`, "");
  writeFileSync(join(o.out, o.quick ? "latest-quick.md" : "latest.md"), md.join("\n"));
  log(`bench: wrote ${join(o.out, `${stem}.json`)}, ${stem}.svg, ${o.quick ? "latest-quick.md" : "latest.md"}`);
}

main().then(
  () => {
    killAll();
  },
  (error: unknown) => {
    killAll();
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
