/**
 * bench/run.ts — `npm run bench`: the seed programs on this library's public API against the same
 * programs in CPython, Node's libuv path (node:net, node:http) and C servers on epoll and io_uring
 * (c-epoll, c-uring), each a separate process serving the same tiny HTTP responder. The headline
 * rows:
 * - seed 003 (`Socket` + `DefaultSelector`, seed003-socket) against CPython's seed 003
 *   (python-seed003) and C, keep-alive and connection per request;
 * - seed 000 (`run()` + `loop.sockAccept/sockRecv/sockSendall`, seed000-sock) against node:net
 *   and CPython's asyncio (python-asyncio; python-uvloop beside it);
 * - memory per idle connection and peak RSS under connection churn (seed 003 against node:net);
 * - C on io_uring against C on epoll (whether a completion-based loop moves the limit);
 * - the micro-benchmarks (bench/micro-suite.ts) against CPython.
 * `--full` adds the tuned raw-fd servers (tuned-*) and every
 * workload (pipelined, 1 MiB echo, latency at a fixed rate, idle for every server).
 *
 * Server pinned to CPU 1, load generator (wrk, or bench/c/loadgen) to CPU 0; the server's own CPU
 * time per request is read from /proc around each run. Servers are interleaved round by round;
 * medians with min–max; every ratio is taken within a round. System calls per request: read/write
 * calls from /proc/<pid>/io around each run, and every call counted by `strace -f -c` attached to
 * each server for a fixed number of keep-alive requests once, in round 1 (when strace is
 * installed).
 *
 * The bench checks itself: each time a server starts, bench/conformance.ts checks its response
 * bytes (a server that fails is not measured), and both generators check every response they
 * read; a sample with transport errors or wrong responses is marked invalid, left out of the
 * medians and ratios, and counted in the report.
 *
 * Output: progress on stderr, the table and the targets on stdout, and bench/results/<date>.json,
 * <date>.svg and latest.md (--full writes <date>-full.* and latest-full.md, --quick adds -quick).
 * Run `npm run bench -- --help` for the options.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import {
  DEFAULT_SERVERS,
  SERVER_NAMES,
  buildC,
  buildCServers,
  countSyscalls,
  cpuDelta,
  cpuSeconds,
  findPython,
  hwmKiB,
  installExitHandlers,
  ioSyscalls,
  killAll,
  machineInfo,
  machineLine,
  pinning,
  root,
  runIdle,
  runLoadgen,
  runWrk,
  sampleRss,
  serverCatalogue,
  startServer,
  which,
  wrkSeconds,
  type GenResult,
  type LoadOptions,
  type Mode,
  type ServerName,
  type ServerSpec,
  type SyscallCount,
} from "./harness.js";
import { checkServer } from "./conformance.js";
import { MICRO_HEADER, microRows, microTargets, runMicro, type MicroResults } from "./micro-suite.js";
import {
  HEADER,
  WORKLOADS,
  WORKLOAD_TITLES,
  invalidity,
  markdownTable,
  rows,
  summarise,
  svgChart,
  targets,
  textTable,
  type Sample,
  type Workload,
} from "./report.js";

/** The default run's workloads; idle runs only for IDLE_SERVERS unless --servers or --full. */
const DEFAULT_WORKLOADS: readonly Workload[] = ["keepalive", "close", "idle"];
const IDLE_SERVERS: readonly ServerName[] = ["seed003-socket", "node-net"];

/** Items joined by ", " and wrapped at 100 columns, continuation lines indented by 26 spaces. */
function wrapList(items: readonly string[], first: number): string {
  const lines: string[] = [];
  let line = "";
  let width = 100 - first;
  for (const item of items) {
    const piece = line ? `, ${item}` : item;
    if (line && line.length + piece.length + 1 > width) {
      lines.push(`${line},`);
      line = item;
      width = 100 - 26;
    } else line += piece;
  }
  lines.push(line);
  return lines.join(`\n${" ".repeat(26)}`);
}

const HELP = `usage: npm run bench -- [options]

  (no options)            the headline rows in about 2 minutes on 2 cores:
                          ${wrapList(DEFAULT_SERVERS, 26)};
                          keep-alive and connection per request (3 rounds × 1 s after a 0.5 s warm-up;
                          the server's peak RSS sampled during connection per request), idle
                          connections for ${IDLE_SERVERS.join(" and ")}, each server's syscalls per
                          keep-alive request under strace (once), and the micro-benchmarks
  --full                  the complete run: every server (adds the tuned raw-fd servers), every
                          workload, 3 rounds × 2 s, idle connections for every server
                          (~12 minutes on 2 cores)
  --quick                 a smoke run: 1 round, 0.4 s runs, 1,000 idle connections, 0.15 s micro
                          cases; the native generator unless --generator=wrk (with --full: all of it)
  --servers=a,b,...       servers to run (default: the headline rows above; --full: all):
                          ${wrapList(SERVER_NAMES, 26)}
  --workloads=a,b,...     ${WORKLOADS.join(", ")}
                          (default: keepalive, close, idle; --full: all)
  --rounds=N              rounds, servers interleaved in each (default 3; quick 1)
  --duration=S            seconds per measured run (default 1; --full 2; quick 0.4; wrk rounds up
                          to whole seconds)
  --warmup=S              seconds of warm-up before each measured run (default 0.5; quick 0.1)
  --connections=N         connections for keep-alive, close and latency (default 32)
  --pipeline-depth=N      requests per pipelined write (default 16; 16 connections)
  --echo-size=BYTES       echo body size (default 1048576; 4 connections)
  --idle=N                idle connections held (default 5000; quick 1000)
  --rate=N                offered requests/s for the latency workload (default 5000)
  --generator=G           auto | wrk | native (default auto: wrk for keep-alive, close and
                          pipelined when installed and runs are >= 1 s; the native generator
                          bench/c/loadgen always runs echo, idle and latency)
  --python=PATH           the CPython for every Python row and micro.py (default: $BENCH_PYTHON,
                          else the first python3 that imports uvloop, else the first python3)
  --micro-seconds=S       seconds per micro-benchmark case (default 0.5; quick 0.15)
  --no-pin                do not pin server and generator to CPUs with taskset
  --no-micro              skip the micro-benchmarks        --micro-only   only them
  --syscall-requests=N    keep-alive requests of the exact syscall count: each server traced with
                          strace -f -c once, in round 1 (default 5000; quick 2000)
  --no-syscalls           skip that count (without strace it is skipped; the r/w column, from
                          /proc/<pid>/io, is read around every run either way)
  --out=DIR               results directory (default bench/results): <date>.json, <date>.svg and
                          latest.md (--full: <date>-full.*, latest-full.md; --quick adds -quick)
  --no-save               write no files
  --help                  this text
`;

interface Options {
  quick: boolean;
  full: boolean;
  servers: ServerName[];
  /** Servers the idle workload runs for (null: every server in the run). */
  idleServers: readonly ServerName[] | null;
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
  python: string | undefined;
  microSeconds: number;
  pin: boolean;
  micro: boolean;
  microOnly: boolean;
  /** Count each server's system calls per request under strace (round 1, keep-alive). */
  syscalls: boolean;
  syscallRequests: number;
  out: string;
  save: boolean;
}

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${HELP}`);
  process.exit(2);
}

function parseOptions(argv: readonly string[]): Options {
  const quick = argv.includes("--quick");
  const full = argv.includes("--full");
  const o: Options = {
    quick,
    full,
    servers: full ? [...SERVER_NAMES] : [...DEFAULT_SERVERS],
    idleServers: full ? null : IDLE_SERVERS,
    workloads: full ? [...WORKLOADS] : [...DEFAULT_WORKLOADS],
    rounds: quick ? 1 : 3,
    duration: quick ? 0.4 : full ? 2 : 1,
    warmup: quick ? 0.1 : 0.5,
    connections: 32,
    depth: 16,
    echoSize: 1 << 20,
    idle: quick ? 1000 : 5000,
    rate: 5000,
    generator: "auto",
    python: process.env.BENCH_PYTHON || undefined,
    microSeconds: quick ? 0.15 : 0.5,
    pin: true,
    micro: true,
    microOnly: false,
    syscalls: true,
    syscallRequests: quick ? 2000 : 5000,
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
      case "--full":
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
        o.servers = SERVER_NAMES.filter((n) => names.includes(n));
        o.idleServers = null;
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
      case "--python":
        if (!value) usageError("--python needs a path");
        o.python = value;
        break;
      case "--micro-seconds":
        o.microSeconds = num(key, value, 0.05, 10);
        break;
      case "--no-pin":
        o.pin = false;
        break;
      case "--no-micro":
        o.micro = false;
        break;
      case "--no-syscalls":
        o.syscalls = false;
        break;
      case "--syscall-requests":
        o.syscallRequests = Math.round(num(key, value, 100, 1e7));
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

// ------------------------------------------------------------------------------------- running

const MODES: Record<Exclude<Workload, "idle">, Mode> = { keepalive: "keepalive", close: "close", pipeline: "pipeline", echo: "echo", latency: "rate" };

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  installExitHandlers();
  const started = Date.now();
  const loadgen = buildC("loadgen", log);
  const cServers = buildCServers(log);
  const wrk = which("wrk");
  let strace = o.syscalls ? which("strace") : null;
  if (o.syscalls && strace === null) log("bench: strace is not installed: no exact syscalls per request (the r/w column is still read from /proc)");
  const python = findPython(o.python);
  if (o.python && python === null) usageError(`--python=${o.python} does not run`);
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

  const { specs, missing } = serverCatalogue(cServers, python);
  const skipped: string[] = [];
  for (const name of o.servers)
    if (missing.has(name)) {
      skipped.push(`${name}: ${missing.get(name)}`);
      log(`bench: server ${name} skipped: ${missing.get(name)}`);
    }
  const servers: ServerSpec[] = o.servers.flatMap((n) => (specs.has(n) ? [specs.get(n)!] : []));
  if (!servers.some((s) => s.name === "node-net") && !o.microOnly) log("bench: node-net is not in the run: no ratios against node:net will be computed");

  const generatorNote = useWrk ? `wrk -t1 (keep-alive, close, pipelined); bench/c/loadgen (echo, latency, idle)` : `bench/c/loadgen for every workload`;
  const loadWorkloads = o.workloads.filter((w): w is Exclude<Workload, "idle"> => w !== "idle");
  const idleFor = (name: string): boolean => o.workloads.includes("idle") && (o.idleServers === null || (o.idleServers as readonly string[]).includes(name));
  const idleNames = servers.filter((s) => idleFor(s.name)).map((s) => s.name);
  log(
    `bench: ${servers.length} servers × ${loadWorkloads.length} load workloads × ${o.rounds} round(s), ${o.duration} s runs` +
      (idleNames.length ? `; idle connections for ${idleNames.length === servers.length ? "every server" : idleNames.join(", ")}` : "") +
      `; generator: ${generatorNote}; ${pin.server.length ? "server on CPU 1, generator on CPU 0" : "no CPU pinning"}` +
      (python ? `; ${machine.python} at ${python.path}${python.uvloop ? ` (uvloop ${python.uvloop})` : ""}` : ""),
  );

  const samples: Sample[] = [];
  const failures: string[] = [];
  const syscallCounts = new Map<string, SyscallCount>();
  const total = o.microOnly ? 0 : o.rounds * (servers.length * loadWorkloads.length + idleNames.length);
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
          const wrong = (await checkServer(server.port)).filter((r) => !r.ok);
          if (wrong.length > 0) {
            const why = wrong.map((r) => `${r.name}: ${r.problem}`).join("; ");
            failures.push(`round ${round} ${spec.name}: wrong response bytes, not measured: ${why}`);
            log(`bench: ${spec.name} sends wrong response bytes, not measured: ${why}`);
            step += loadWorkloads.length;
            await server.stop();
            server = null;
          }
        }
        if (server) {
          for (const workload of loadWorkloads) {
            step++;
            progress(`[${step}/${total}] round ${round}/${o.rounds}  ${WORKLOAD_TITLES[workload].padEnd(24)} ${spec.name}`);
            const viaWrk = useWrk && (workload === "keepalive" || workload === "close" || workload === "pipeline");
            // Connection per request: the server's RSS is sampled from the warm-up to the end.
            const rss = workload === "close" ? sampleRss(server.pid) : null;
            try {
              if (o.warmup > 0 && loadgen) await runLoadgen(loadgen, pin, options(workload, server.port, o.warmup));
              else if (o.warmup > 0 && wrk) await runWrk(wrk, pin, options(workload, server.port, 1));
              const cpu0 = cpuSeconds(server.pid);
              const io0 = ioSyscalls(server.pid);
              const r: GenResult = viaWrk
                ? await runWrk(wrk!, pin, options(workload, server.port, o.duration))
                : await runLoadgen(loadgen!, pin, options(workload, server.port, o.duration));
              const cpu = cpuDelta(cpu0, cpuSeconds(server.pid));
              const io = ioSyscalls(server.pid) - io0;
              const sample: Sample = {
                round,
                server: spec.name,
                workload,
                generator: viaWrk ? "wrk" : "native",
                requests: r.requests,
                errors: r.errors,
                wrong: r.wrong,
                seconds: r.seconds,
                rps: r.requests / r.seconds,
                cpuSeconds: cpu.seconds,
                statCpuSeconds: cpu.statSeconds,
                cpuSource: cpu.source,
                cpuUsPerRequest: r.requests > 0 ? (cpu.seconds * 1e6) / r.requests : Number.NaN,
                ioSyscallsPerRequest: r.requests > 0 ? io / r.requests : Number.NaN,
                latency: r.latency,
              };
              const invalid = invalidity(r.errors, r.wrong);
              if (invalid !== undefined) sample.invalid = invalid;
              if (rss) {
                sample.peakRssKiB = rss.stop();
                sample.hwmKiB = hwmKiB(server.pid);
              }
              samples.push(sample);
              if (invalid !== undefined) log(`bench: ${spec.name} ${workload}: invalid sample (${invalid}), left out of the medians`);
            } catch (error) {
              failures.push(`round ${round} ${spec.name} ${workload}: ${(error as Error).message}`);
              log(`bench: ${spec.name} ${workload} failed: ${(error as Error).message}`);
            } finally {
              rss?.stop();
            }
          }
          if (round === 1 && strace !== null && loadgen !== null) {
            progress(`[${step}/${total}] round ${round}/${o.rounds}  ${"syscalls (strace)".padEnd(24)} ${spec.name}`);
            try {
              const count = await countSyscalls(strace, loadgen, pin, server.pid, server.port, o.syscallRequests, o.connections);
              syscallCounts.set(spec.name, count);
            } catch (error) {
              const message = (error as Error).message;
              failures.push(`${spec.name} syscall count: ${message}`);
              log(`bench: ${spec.name} syscall count failed: ${message}`);
              // Not allowed to trace (ptrace_scope, a container): no other server will be either.
              if (/did not attach|before attaching/.test(message)) {
                strace = null;
                log("bench: strace cannot attach here: no syscalls/req for the remaining servers");
              }
            }
          }
          await server.stop();
        }
      }
      if (idleFor(spec.name) && loadgen) {
        step++;
        progress(`[${step}/${total}] round ${round}/${o.rounds}  ${WORKLOAD_TITLES.idle.padEnd(24)} ${spec.name}`);
        try {
          const server = await startServer(spec, pin, Math.round(o.idle * 1.2) + 1024);
          try {
            const idle = await runIdle(loadgen, pin, server.pid, server.port, o.idle, o.quick ? 150 : 400);
            const notHeld = o.idle - idle.held;
            if (notHeld > 0) log(`bench: ${spec.name} idle: invalid sample (${notHeld} of ${o.idle} connections not held), left out of the medians`);
            samples.push({
              round,
              server: spec.name,
              workload: "idle",
              generator: "native",
              requests: idle.held,
              errors: notHeld,
              ...(notHeld > 0 ? { invalid: `${notHeld} of ${o.idle} connections not held` } : {}),
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
  let micro: MicroResults = { notes: [] };
  if (o.micro) {
    micro = await runMicro(o.microSeconds, pin, python?.path ?? null, progress);
    if (progressOpen) process.stderr.write("\n");
    progressOpen = false;
    for (const note of micro.notes) log(`bench: ${note}`);
  }

  // report
  const elapsed = (Date.now() - started) / 1000;
  const date = new Date().toISOString().slice(0, 10);
  const summaries = summarise(
    samples,
    servers.map((s) => s.name),
    new Map([...syscallCounts].map(([name, count]) => [name, count.perRequest])),
  );
  const tableRows = rows(summaries);
  const verdicts = o.microOnly ? [] : targets(summaries, samples);
  const microVerdicts = o.micro ? microTargets(micro) : [];
  const microTable = o.micro ? microRows(micro) : [];
  const machineText = machineLine(machine);
  const kind = o.quick ? (o.full ? " (quick, full set)" : " (quick)") : o.full ? " (full)" : "";
  const method =
    `${o.rounds} round(s) × ${o.duration} s per run${useWrk ? ` (wrk runs: ${wrkSeconds(o.duration)} s)` : ""}, ${o.warmup} s warm-up, generator: ${generatorNote}, ` +
    `${pin.server.length ? "server pinned to CPU 1 and generator to CPU 0" : "no pinning"}; keep-alive/close/latency ${o.connections} connections` +
    (o.workloads.includes("pipeline") ? `, pipelined 16×${o.depth}` : "") +
    (o.workloads.includes("echo") ? `, echo 4×${o.echoSize} B` : "") +
    (idleNames.length ? `, idle ${o.idle} (${idleNames.length === servers.length ? "every server" : idleNames.join(", ")})` : "") +
    (o.workloads.includes("latency") ? `, latency at ${o.rate} req/s offered (bench/c/loadgen rate mode, from each request's scheduled send time)` : "") +
    (o.workloads.includes("close") ? "; peak RSS sampled every 50 ms during connection per request" : "") +
    (syscallCounts.size > 0
      ? `; syscalls/req: strace -f -c attached to each server for ${o.syscallRequests} keep-alive requests on ${o.connections} connections (round 1)`
      : "") +
    (o.micro ? `; micro-benchmarks ${o.microSeconds} s per case` : "") +
    "." +
    (skipped.length ? ` Skipped: ${skipped.join("; ")}.` : "");
  const mark = (met: boolean | null): string => (met === null ? "n/a " : met ? "met " : "MISS");
  const invalidSamples = samples.filter((s) => s.invalid !== undefined);
  const validity =
    `${samples.length} samples, ${invalidSamples.length} invalid (transport errors or wrong response bytes; left out of the medians and ratios)` +
    (invalidSamples.length ? `: ${invalidSamples.map((s) => `round ${s.round} ${s.server} ${WORKLOAD_TITLES[s.workload]}: ${s.invalid}`).join("; ")}` : "") +
    ".";

  const lines: string[] = [];
  lines.push(`native-selectors bench — ${date}${kind} — ${machineText}`);
  lines.push(method);
  lines.push("");
  if (tableRows.length) lines.push(textTable(HEADER, tableRows), validity, "");
  if (verdicts.length + microVerdicts.length > 0) {
    lines.push("targets (server CPU time per request, ratios within each round; micro: ns per operation):");
    for (const t of [...verdicts, ...microVerdicts]) lines.push(`  [${mark(t.met)}] ${t.name}: ${t.detail}`);
    lines.push("");
  }
  if (microTable.length) lines.push(textTable(MICRO_HEADER, microTable), "");
  if (failures.length) lines.push("failures:", ...failures.map((f) => `  ${f}`), "");
  lines.push(`took ${elapsed.toFixed(1)} s`);
  process.stdout.write(`${lines.join("\n")}\n`);

  if (!o.save) return;
  mkdirSync(o.out, { recursive: true });
  // A default run, a --full run and a --quick run each keep their own files, so none overwrites another's.
  const suffix = `${o.full ? "-full" : ""}${o.quick ? "-quick" : ""}`;
  const stem = `${date}${suffix}`;
  const latest = `latest${suffix}.md`;
  const json = {
    date,
    quick: o.quick,
    full: o.full,
    elapsedSeconds: elapsed,
    machine,
    options: { ...o, out: undefined },
    generator: generatorNote,
    skipped,
    samples,
    summaries,
    syscalls: Object.fromEntries(syscallCounts),
    targets: [...verdicts, ...microVerdicts],
    micro,
    failures,
  };
  writeFileSync(join(o.out, `${stem}.json`), `${JSON.stringify(json, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`);
  writeFileSync(join(o.out, `${stem}.svg`), svgChart(summaries, `native-selectors vs node:net — ${date}${kind}`, machineText));
  const md: string[] = [];
  md.push(`### Benchmark results — ${date}${kind}`, "");
  md.push(`Machine: ${machineText}. Took ${elapsed.toFixed(0)} s.`, "");
  md.push(`Method: ${method}`, "");
  if (tableRows.length) md.push(markdownTable(HEADER, tableRows), "", validity, "");
  if (verdicts.length + microVerdicts.length > 0) {
    md.push("Targets (server CPU time per request, ratios within each round; micro: ns per operation):", "");
    for (const t of [...verdicts, ...microVerdicts]) md.push(`- ${t.met === null ? "n/a" : t.met ? "**met**" : "**missed**"} — ${t.name}: ${t.detail}`);
    md.push("");
  }
  if (microTable.length) md.push(markdownTable(MICRO_HEADER, microTable), "");
  md.push(`Chart: [${stem}.svg](${stem}.svg). Raw data: [${stem}.json](${stem}.json).`, "");
  writeFileSync(join(o.out, latest), md.join("\n"));
  log(`bench: wrote ${join(o.out, `${stem}.json`)}, ${stem}.svg, ${latest}`);
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
