/**
 * bench/harness.ts — the bench's process machinery: the server and generator catalogue, building
 * the C programs, starting a server pinned to its CPU and waiting for READY, reading its CPU time
 * and RSS from /proc, running wrk or bench/c/loadgen and parsing their output. Every child is
 * tracked and killed on exit or SIGINT, and every wait is bounded.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { ProactorEventLoop } from "../lib/index.js";
import { BODY, JSON_TYPE } from "./servers/http.js";

/** The repository root (holds binding.gyp), from bench/ or dist/bench/. */
export const root: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "binding.gyp"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("bench: cannot find the repository root (binding.gyp)");
})();
export const distBench = join(root, "dist", "bench");
export const buildDir = join(root, "bench", ".build");

// ------------------------------------------------------------------------------------- children

const children = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL: the bench is ending). */
export function killAll(): void {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  children.clear();
}

let handlersInstalled = false;
/** Kill children on exit, SIGINT and SIGTERM. */
export function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      killAll();
      process.stderr.write(`\nbench: ${signal}, children killed\n`);
      process.exit(130);
    });
  }
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

export function which(command: string): string | null {
  const r = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() !== "" ? r.stdout.trim() : null;
}

// ------------------------------------------------------------------------------------- building

/**
 * Compiles bench/c/<name>.c into bench/.build/<name> when missing or older than the source or the
 * headers beside it (bench/c/*.h: the generated response bytes, the shared framing); returns the
 * path or null. `pkgConfig` names libraries whose `pkg-config --cflags --libs` flags are added.
 */
export function buildC(name: string, log: (line: string) => void, pkgConfig: readonly string[] = []): string | null {
  const dir = join(root, "bench", "c");
  const source = join(dir, `${name}.c`);
  const out = join(buildDir, name);
  const inputs = [source, ...readdirSync(dir).flatMap((f) => (f.endsWith(".h") ? [join(dir, f)] : []))];
  if (existsSync(out) && inputs.every((input) => statSync(out).mtimeMs >= statSync(input).mtimeMs)) return out;
  const cc = which("cc") ?? which("gcc") ?? which("clang");
  if (cc === null) {
    log(`bench: no C compiler found: ${name} is unavailable`);
    return null;
  }
  let flags: string[] = [];
  if (pkgConfig.length > 0) {
    const r = spawnSync("pkg-config", ["--cflags", "--libs", ...pkgConfig], { encoding: "utf8", timeout: 10_000 });
    if (r.status !== 0) {
      log(`bench: pkg-config --cflags --libs ${pkgConfig.join(" ")} failed: ${name} is unavailable\n${r.stderr ?? ""}${r.error?.message ?? ""}`);
      return null;
    }
    flags = r.stdout.trim().split(/\s+/).filter(Boolean);
  }
  mkdirSync(buildDir, { recursive: true });
  const r = spawnSync(cc, ["-O2", "-Wall", "-o", out, source, ...flags], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) {
    log(`bench: ${cc} failed for ${source}:\n${r.stderr ?? ""}${r.error?.message ?? ""}`);
    return null;
  }
  return out;
}

/** Whether pkg-config finds liburing (what bench/c/uring_server.c is built with). */
export function liburingFound(): boolean {
  return which("pkg-config") !== null && spawnSync("pkg-config", ["--exists", "liburing"], { timeout: 10_000 }).status === 0;
}

/** The C reference servers: each path, or null and why. */
export interface CServers {
  /** bench/c/epoll_server, or null: no C compiler, or it failed to compile. */
  epoll: string | null;
  /** bench/c/uring_server when it built and io_uring works on this machine, else null. */
  uring: string | null;
  /** Why `uring` is null ("" when it is not). */
  uringMissing: string;
}

/**
 * Builds the C servers. The io_uring one needs liburing (pkg-config) and a kernel that lets this
 * process use io_uring: its `--probe` sets up the same ring and provided-buffer ring the server
 * uses, and says why not when that fails (ENOSYS, EPERM from kernel.io_uring_disabled or seccomp,
 * a kernel before 5.19).
 */
export function buildCServers(log: (line: string) => void): CServers {
  const epoll = buildC("epoll_server", log);
  const none = (uringMissing: string): CServers => ({ epoll, uring: null, uringMissing });
  if ((which("cc") ?? which("gcc") ?? which("clang")) === null) return none("no C compiler found");
  if (which("pkg-config") === null) return none("pkg-config not found, needed to find liburing (apt-get install pkg-config liburing-dev)");
  if (!liburingFound()) return none("liburing not found by pkg-config (apt-get install liburing-dev)");
  const uring = buildC("uring_server", log, ["liburing"]);
  if (uring === null) return none("bench/c/uring_server.c failed to compile against liburing");
  const probe = spawnSync(uring, ["--probe"], { encoding: "utf8", timeout: 10_000 });
  if (probe.status !== 0) {
    const why = (probe.stdout ?? "").trim() || (probe.stderr ?? "").trim() || probe.error?.message || `exit ${probe.status ?? probe.signal}`;
    return none(`io_uring unavailable here: ${why}`);
  }
  return { epoll, uring, uringMissing: "" };
}

// ------------------------------------------------------------------------------------- machine

function firstLine(argv: string[]): string | null {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 5000 });
  if (r.status !== 0 && !r.stdout && !r.stderr) return null;
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n")[0]!.trim() || null;
}

/** The machine and tool versions recorded with every result. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  packageVersion: string | null;
  commit: string | null;
  wrk: string | null;
  /** "Python 3.x.y" of the interpreter every Python row and micro.py ran on. */
  python: string | null;
  pythonPath: string | null;
  uvloop: string | null;
  cc: string | null;
  taskset: boolean;
}

export function machineInfo(wrk: string | null, python: PythonInfo | null): MachineInfo {
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
    python: python ? `Python ${python.version}` : null,
    pythonPath: python?.path ?? null,
    uvloop: python?.uvloop ?? null,
    cc: firstLine(["cc", "--version"]),
    taskset: which("taskset") !== null,
  };
}

/** One line: CPU, cores, kernel, Node and Python (with uvloop's version when present). */
export function machineLine(machine: MachineInfo): string {
  const py = machine.python ? `, ${machine.python}${machine.uvloop ? ` with uvloop ${machine.uvloop}` : ""} (${machine.pythonPath ?? "?"})` : "";
  return `${machine.cpuModel}, ${machine.cores} cores, ${machine.kernel}, Node ${machine.node}${py}`;
}

// ------------------------------------------------------------------------------------- servers

export interface ServerSpec {
  /** The name used by --servers and in the results. */
  readonly name: string;
  /** What it is, for the table. */
  readonly label: string;
  /** Command and arguments (the port is passed as 0 and read back from READY). */
  readonly command: readonly string[];
}

/**
 * Every server the bench knows, headline rows first:
 * - the seed programs on the public API: seed 003 (`Socket` + `DefaultSelector`) and seed 000
 *   (`run()` + `loop.sockAccept/sockRecv/sockSendall` on `Socket` objects), seed 000 also on
 *   ProactorEventLoop (and the asyncio layer's Protocol server too) where io_uring works;
 * - CPython running the same two programs (seed 000 also on uvloop);
 * - Node's libuv path (node:net, a second node:net for the noise floor, node:http) and C (epoll,
 *   and io_uring where liburing and the kernel allow);
 * - the tuned servers on raw fds (`lowlevel` calls, the EventLoop's readers), not what a user of
 *   the Python-shaped API writes.
 */
export const SERVER_NAMES = [
  "seed003-socket",
  "seed000-sock",
  // seed 000's program unchanged on ProactorEventLoop (io_uring completions), where io_uring works.
  "seed000-proactor",
  "python-seed003",
  "python-asyncio",
  "python-uvloop",
  // asyncio layer (lib/asyncio/): Protocol and streams servers, beside CPython asyncio and uvloop.
  "asyncio-protocol",
  "asyncio-protocol-proactor",
  "python-asyncio-protocol",
  "python-uvloop-protocol",
  "asyncio-streams",
  "python-asyncio-streams",
  "python-uvloop-streams",
  "node-net",
  "node-net-2",
  "node-http",
  "c-epoll",
  "c-uring",
  "tuned-selectors",
  "tuned-loop-owned",
  "tuned-loop-attached",
] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

/** The servers measured on the raw-fd paths (labelled "tuned" in the tables and targets). */
export const TUNED_SERVERS: readonly ServerName[] = ["tuned-selectors", "tuned-loop-owned", "tuned-loop-attached"];

/**
 * The servers `npm run bench` runs without --full or --servers: every one but the tuned ones — the
 * headline rows, their references, and node-net-2 (a second node:net: its ratio to node-net is the
 * noise floor).
 */
export const DEFAULT_SERVERS: readonly ServerName[] = SERVER_NAMES.filter((name) => !TUNED_SERVERS.includes(name));

export interface PythonInfo {
  /** The interpreter's path. */
  readonly path: string;
  /** sys.version's first word, e.g. "3.11.2". */
  readonly version: string;
  /** uvloop's version when this interpreter imports it, else null. */
  readonly uvloop: string | null;
}

function probePython(path: string): PythonInfo | null {
  const script = "import sys\nprint(sys.version.split()[0])\ntry:\n    import uvloop\n    print(uvloop.__version__)\nexcept Exception:\n    print('')\n";
  const r = spawnSync(path, ["-c", script], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0 || typeof r.stdout !== "string") return null;
  const [version = "", uvloop = ""] = r.stdout.split("\n").map((l) => l.trim());
  return version ? { path, version, uvloop: uvloop || null } : null;
}

/**
 * The CPython for every Python row (one interpreter for all, so python-asyncio and python-uvloop
 * differ only in the loop): `explicit` (--python or $BENCH_PYTHON) when given; otherwise the first
 * of python3 on PATH, /usr/bin/python3 and /usr/local/bin/python3 that imports uvloop, or failing
 * that the first that runs (the uvloop row is then skipped with the reason).
 */
export function findPython(explicit?: string): PythonInfo | null {
  if (explicit) return probePython(explicit);
  const candidates = [which("python3"), "/usr/bin/python3", "/usr/local/bin/python3"].filter((p): p is string => p !== null && existsSync(p));
  const seen = new Set<string>();
  let first: PythonInfo | null = null;
  for (const path of candidates) {
    if (seen.has(path)) continue;
    seen.add(path);
    const info = probePython(path);
    if (info === null) continue;
    if (info.uvloop !== null) return info;
    first ??= info;
  }
  return first;
}

/**
 * The servers this machine can run, and a reason for each one it cannot. `benchJs` is where the
 * compiled bench/ is (dist/bench by default; test/bench.test.ts compiles the sources afresh).
 */
export function serverCatalogue(
  c: CServers,
  python: PythonInfo | null,
  benchJs: string = distBench,
): { specs: Map<ServerName, ServerSpec>; missing: Map<ServerName, string> } {
  const node = process.execPath;
  const js = (file: string): string => join(benchJs, "servers", file);
  const py = (file: string): string => join(root, "bench", "py", file);
  const specs = new Map<ServerName, ServerSpec>();
  const missing = new Map<ServerName, string>();
  const add = (name: ServerName, label: string, command: string[] | null, reason: string): void => {
    if (command === null) missing.set(name, reason);
    else if (command[0] === node && !existsSync(command[1]!)) missing.set(name, `${command[1]} is not built (npm install / npx tsc)`);
    else specs.set(name, { name, label, command });
  };
  const noPython = "python3 not found";
  add("seed003-socket", "seed 003 on the public API: Socket + DefaultSelector", [node, js("selectors-socket.js"), "0"], "");
  add("seed000-sock", "seed 000 on the public API: run() + loop.sockAccept/sockRecv/sockSendall", [node, js("promise.js"), "0"], "");
  const noProactor = `ProactorEventLoop is unavailable: ${ProactorEventLoop.unavailableReason}`;
  const proactor = ProactorEventLoop.available;
  add(
    "seed000-proactor",
    "seed 000 on ProactorEventLoop: run(main, { loopFactory }), sock* as io_uring completions",
    proactor ? [node, js("promise.js"), "--proactor", "0"] : null,
    noProactor,
  );
  add("python-seed003", "seed 003 in CPython: socket + selectors.DefaultSelector", python === null ? null : [python.path, py("seed_server.py"), "0"], noPython);
  add(
    "python-asyncio",
    "seed 000 in CPython: asyncio.run + loop.sock_accept/sock_recv/sock_sendall",
    python === null ? null : [python.path, py("seed000_server.py"), "0"],
    noPython,
  );
  add(
    "python-uvloop",
    "seed 000 in CPython on uvloop",
    python === null || python.uvloop === null ? null : [python.path, py("seed000_server.py"), "--uvloop", "0"],
    python === null ? noPython : `uvloop is not importable by ${python.path} (apt install python3-uvloop, or --python=PATH)`,
  );
  // asyncio layer (lib/asyncio/): the same Protocol and streams programs here, in CPython asyncio and on uvloop.
  const noUvloop = python === null ? noPython : `uvloop is not importable by ${python.path} (apt install python3-uvloop, or --python=PATH)`;
  for (const kind of ["protocol", "streams"] as const) {
    const how = kind === "protocol" ? "Protocol + loop.createServer" : "streams: startServer + read/write/drain";
    add(`asyncio-${kind}`, `asyncio layer: ${how}`, [node, js(`asyncio-${kind}.js`), "0"], "");
    if (kind === "protocol")
      add(
        "asyncio-protocol-proactor",
        `asyncio layer: ${how} on ProactorEventLoop (io_uring poll requests)`,
        proactor ? [node, js("asyncio-protocol.js"), "--proactor", "0"] : null,
        noProactor,
      );
    add(`python-asyncio-${kind}`, `CPython asyncio ${kind}`, python === null ? null : [python.path, py("asyncio_servers.py"), kind, "0"], noPython);
    const uv = python === null || python.uvloop === null ? null : [python.path, py("asyncio_servers.py"), kind, "--uvloop", "0"];
    add(`python-uvloop-${kind}`, `uvloop ${kind}`, uv, noUvloop);
  }
  add("node-net", "node:net (libuv)", [node, js("node-net.js"), "0"], "");
  add("node-net-2", "node:net again (noise floor)", [node, js("node-net.js"), "0"], "");
  add("node-http", "node:http (libuv + llhttp)", [node, js("node-http.js"), "0"], "");
  add(
    "c-epoll",
    "C epoll (reference limit)",
    c.epoll === null ? null : [c.epoll, "0"],
    "bench/c/epoll_server.c is not built: no C compiler, or it failed to compile",
  );
  add("c-uring", "C io_uring (multishot accept and recv, buffer ring, batched sends)", c.uring === null ? null : [c.uring, "0"], c.uringMissing);
  add("tuned-selectors", "tuned (raw fds): DefaultSelector + lowlevel calls", [node, js("selectors-lowlevel.js"), "0"], "");
  add("tuned-loop-owned", "tuned (raw fds): EventLoop readers, owning the thread", [node, js("loop-reactor.js"), "owned", "0"], "");
  add("tuned-loop-attached", "tuned (raw fds): EventLoop readers, attached to libuv", [node, js("loop-reactor.js"), "attached", "0"], "");
  return { specs, missing };
}

export interface Pinning {
  server: string[];
  generator: string[];
}

/** taskset prefixes: server on CPU 1, generator on CPU 0, when there are two CPUs and taskset. */
export function pinning(enabled: boolean): Pinning {
  if (!enabled || cpus().length < 2 || which("taskset") === null) return { server: [], generator: [] };
  return { server: ["taskset", "-c", "1"], generator: ["taskset", "-c", "0"] };
}

export interface RunningServer {
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts a server (with RLIMIT_NOFILE raised to `nofile`, in `env`, default this process's) and
 * waits up to 15 s for "READY <port>".
 */
export function startServer(spec: ServerSpec, pin: Pinning, nofile: number, env?: NodeJS.ProcessEnv): Promise<RunningServer> {
  const argv = [...pin.server, "bash", "-c", `ulimit -n ${nofile} 2>/dev/null; exec "$@"`, "bench-server", ...spec.command];
  const child = track(spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env }));
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => fail(new Error(`${spec.name}: no READY within 15 s`)), 15_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${error.message}${err ? `\n${err.trim().slice(-2000)}` : ""}`));
    };
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.once("exit", (code, signal) => fail(new Error(`${spec.name} exited before READY (${code ?? signal})`)));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      child.stdout!.removeAllListeners("data");
      child.stdout!.resume();
      const stop = (): Promise<void> =>
        new Promise((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          const kill = setTimeout(() => child.kill("SIGKILL"), 2_000);
          child.once("exit", () => {
            clearTimeout(kill);
            done();
          });
          child.kill("SIGTERM");
        });
      resolve({ pid: child.pid!, port: Number(m[1]), stop });
    });
  });
}

// ------------------------------------------------------------------------------------- /proc

const CLK_TCK = (() => {
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** The process's user+system CPU time in seconds from /proc/<pid>/stat (all threads, 1/CLK_TCK steps). */
export function statCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14, stime field 15
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * The CPU time of the process's live threads in seconds at nanosecond resolution: the sum of
 * sum_exec_runtime in /proc/<pid>/task/<tid>/schedstat. NaN where schedstat is unavailable.
 * (A thread that exits between two readings takes its time with it; the bench servers' threads
 * live as long as the server.)
 */
export function schedCpuSeconds(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    return ns / 1e9;
  } catch {
    return Number.NaN;
  }
}

export interface CpuReading {
  stat: number;
  sched: number;
}

export function cpuSeconds(pid: number): CpuReading {
  return { stat: statCpuSeconds(pid), sched: schedCpuSeconds(pid) };
}

/** CPU seconds between two readings: schedstat's when available, else stat's. */
export function cpuDelta(a: CpuReading, b: CpuReading): { seconds: number; statSeconds: number; source: "schedstat" | "stat" } {
  const sched = b.sched - a.sched;
  const stat = b.stat - a.stat;
  return Number.isFinite(sched) && sched > 0
    ? { seconds: sched, statSeconds: stat, source: "schedstat" }
    : { seconds: stat, statSeconds: stat, source: "stat" };
}

function statusKiB(pid: number, field: string): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** VmRSS in KiB (NaN once the process is gone). */
export function rssKiB(pid: number): number {
  return statusKiB(pid, "VmRSS");
}

/** VmHWM, the peak RSS since the process started, in KiB. */
export function hwmKiB(pid: number): number {
  return statusKiB(pid, "VmHWM");
}

/**
 * Samples the process's VmRSS every `intervalMs` (and once at start and stop); stop() ends the
 * sampling and returns the highest reading in KiB.
 */
export function sampleRss(pid: number, intervalMs = 50): { stop(): number } {
  let peak = rssKiB(pid);
  const take = (): void => {
    const v = rssKiB(pid);
    if (Number.isFinite(v) && !(v <= peak)) peak = v;
  };
  const timer = setInterval(take, intervalMs);
  return {
    stop(): number {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}

export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

/**
 * syscr + syscw from /proc/<pid>/io: the process's read-like and write-like system calls (all
 * threads). The kernel counts read/readv/pread and write/writev/pwrite (on sockets too), not
 * recv/recvfrom/recvmsg or send/sendto/sendmsg, not the operations io_uring runs, and not the waits
 * (epoll_wait, io_uring_enter): see countSyscalls for the exact figure. NaN when unreadable.
 */
export function ioSyscalls(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/io`, "utf8");
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? Number.NaN);
    return field("syscr") + field("syscw");
  } catch {
    return Number.NaN;
  }
}

export interface SyscallCount {
  /** Responses the generator read while the server was traced. */
  requests: number;
  /** Every system call of every thread of the server meanwhile. */
  syscalls: number;
  perRequest: number;
  /** The most frequent calls, most first. */
  top: { name: string; calls: number }[];
}

/** Parses `strace -c`'s summary: every row's calls and name, and the total. */
export function parseStraceSummary(text: string): { total: number; calls: { name: string; calls: number }[] } | null {
  const calls: { name: string; calls: number }[] = [];
  let total = Number.NaN;
  for (const line of text.split("\n")) {
    // % time, seconds, usecs/call, calls, [errors], syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\S+)\s*$/.exec(line);
    if (m === null) continue;
    if (m[2] === "total") total = Number(m[1]);
    else calls.push({ name: m[2]!, calls: Number(m[1]) });
  }
  if (!Number.isFinite(total)) return null;
  return { total, calls: calls.sort((a, b) => b.calls - a.calls) };
}

/**
 * The exact count: attaches `strace -f -c` to the running server, sends `requests` keep-alive
 * requests over `connections` connections with bench/c/loadgen, detaches, and divides the server's
 * system calls (every thread, every call, waits included) by the responses. The server runs far
 * slower while traced, so each wait finds more work ready than it would untraced: the figure is
 * the server's calls per request at full batches, a lower bound for an untraced run's.
 */
export async function countSyscalls(
  strace: string,
  loadgen: string,
  pin: Pinning,
  pid: number,
  port: number,
  requests: number,
  connections: number,
): Promise<SyscallCount> {
  const tracer = track(spawn(strace, ["-f", "-c", "-p", String(pid)], { stdio: ["ignore", "ignore", "pipe"] }));
  let err = "";
  tracer.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const closed = new Promise<void>((resolve) => tracer.once("close", () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`strace did not attach to ${pid} within 10 s: ${err.trim()}`)), 10_000);
      const poll = setInterval(() => {
        if (/attached/.test(err)) done(null);
      }, 20);
      const done = (error: Error | null): void => {
        clearTimeout(timer);
        clearInterval(poll);
        if (error) reject(error);
        else resolve();
      };
      tracer.once("exit", (code) => done(new Error(`strace exited (${code}) before attaching: ${err.trim()}`)));
    });
    tracer.removeAllListeners("exit");
    const r = await runLoadgen(loadgen, pin, { mode: "keepalive", port, seconds: 30, connections, depth: 1, bodySize: 1, rate: 1, requests });
    if (r.errors > 0 || r.requests === 0) throw new Error(`the traced run had ${r.errors} errors and ${r.requests} responses`);
    tracer.kill("SIGINT");
    const kill = setTimeout(() => tracer.kill("SIGKILL"), 10_000);
    await closed;
    clearTimeout(kill);
    const summary = parseStraceSummary(err);
    if (summary === null) throw new Error(`no strace -c summary: ${err.trim().slice(-500)}`);
    return { requests: r.requests, syscalls: summary.total, perRequest: summary.total / r.requests, top: summary.calls.slice(0, 6) };
  } finally {
    if (tracer.exitCode === null && tracer.signalCode === null) {
      tracer.kill("SIGKILL");
      await closed;
    }
  }
}

// ------------------------------------------------------------------------------------- generators

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  p999?: number;
  max: number;
}

export interface GenResult {
  requests: number;
  /** Transport errors (connect, read, write, timeout) plus wrong responses. */
  errors: number;
  /** Responses that were not the expected bytes (wrk: non-2xx or failing bench/wrk/check.lua). */
  wrong: number;
  seconds: number;
  /** Microseconds. */
  latency?: Latency;
}

/** Runs a command to completion with a hard time limit; resolves with stdout. */
export function runBounded(argv: readonly string[], limitMs: number, input?: "pipe"): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = track(spawn(argv[0]!, argv.slice(1), { stdio: [input ?? "ignore", "pipe", "pipe"] }));
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

export type Mode = "keepalive" | "close" | "pipeline" | "echo" | "rate";

export interface LoadOptions {
  mode: Mode;
  port: number;
  seconds: number;
  connections: number;
  depth: number;
  bodySize: number;
  rate: number;
  /** Stop after this many responses (loadgen only). */
  requests?: number;
}

export function loadgenArgs(loadgen: string, o: LoadOptions): string[] {
  return [
    loadgen,
    "--port",
    String(o.port),
    "--mode",
    o.mode,
    "--connections",
    String(o.connections),
    "--duration",
    String(o.seconds),
    "--depth",
    String(o.depth),
    "--body-size",
    String(o.bodySize),
    "--rate",
    String(o.rate),
    ...(o.requests ? ["--requests", String(o.requests)] : []),
  ];
}

export async function runLoadgen(loadgen: string, pin: Pinning, o: LoadOptions): Promise<GenResult> {
  const r = await runBounded([...pin.generator, ...loadgenArgs(loadgen, o)], o.seconds * 1000 + 15_000);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  let parsed: { requests: number; errors: number; wrong: number; seconds: number; latency_us: Latency };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    throw new Error(`loadgen failed (${r.code}): ${r.stderr.trim() || r.stdout.trim() || "no output"}`);
  }
  if (typeof parsed.wrong !== "number") throw new Error(`loadgen printed no count of wrong responses (stale bench/.build/loadgen?): ${line}`);
  return { requests: parsed.requests, errors: parsed.errors, wrong: parsed.wrong, seconds: parsed.seconds, latency: parsed.latency_us };
}

function wrkMicros(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v : m[2] === "ms" ? v * 1e3 : m[2] === "s" ? v * 1e6 : v * 60e6;
}

/** wrk's -d takes whole seconds. */
export function wrkSeconds(seconds: number): number {
  return Math.max(1, Math.round(seconds));
}

/**
 * Runs wrk (keep-alive, close or pipeline) with bench/wrk/check.lua, which checks every response
 * against the expected one. Every socket error wrk reports counts, in every mode (the servers close
 * a "Connection: close" connection only after the response, which wrk does not count as an error),
 * and so do non-2xx responses and the responses the script found wrong.
 */
export async function runWrk(wrk: string, pin: Pinning, o: LoadOptions): Promise<GenResult> {
  const seconds = wrkSeconds(o.seconds);
  const argv = [...pin.generator, wrk, "-t1", `-c${o.connections}`, `-d${seconds}s`, "--latency", "--timeout", "5s"];
  if (o.mode === "close") argv.push("-H", "Connection: close");
  argv.push("-s", join(root, "bench", "wrk", "check.lua"), `http://127.0.0.1:${o.port}/`);
  argv.push("--", String(o.mode === "pipeline" ? o.depth : 1), BODY, JSON_TYPE, o.mode === "close" ? "close" : "keep-alive");
  const r = await runBounded(argv, seconds * 1000 + 15_000);
  const done = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(r.stdout);
  const checked = /wrong responses: (\d+)/.exec(r.stdout);
  if (!done || !checked) throw new Error(`wrk failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(r.stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout);
  const wrong = Math.max(Number(checked[1]), non2xx ? Number(non2xx[1]) : 0);
  let errors = wrong;
  if (socketErrors) errors += Number(socketErrors[1]) + Number(socketErrors[2]) + Number(socketErrors[3]) + Number(socketErrors[4]);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(r.stdout);
    return m ? wrkMicros(m[1]!) : Number.NaN;
  };
  const max = /Latency\s+\S+\s+\S+\s+(\S+)/.exec(r.stdout);
  return {
    requests: Number(done[1]),
    errors,
    wrong,
    seconds: wrkMicros(`${done[2]}${done[3]}`) / 1e6,
    latency: { p50: pct("50"), p90: pct("90"), p99: pct("99"), max: max ? wrkMicros(max[1]!) : Number.NaN },
  };
}

export interface IdleResult {
  held: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  bytesPerConnection: number;
}

/** Starts bench/c/loadgen in idle mode: resolves once it holds its connections (release with stdin). */
async function holdConnections(loadgen: string, pin: Pinning, port: number, count: number): Promise<{ held: number; release(): Promise<void> }> {
  const argv = [
    ...pin.generator,
    "bash",
    "-c",
    `ulimit -n ${count + 256} 2>/dev/null; exec "$@"`,
    "loadgen",
    loadgen,
    "--port",
    String(port),
    "--mode",
    "idle",
    "--connections",
    String(count),
    "--duration",
    "20",
  ];
  const child = track(spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] }));
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const held = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`idle: connections not held within 30 s ${err}`));
    }, 30_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /HELD (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`idle: loadgen exited (${code}) before holding: ${err.trim()}`));
    });
  });
  child.removeAllListeners("exit");
  const release = async (): Promise<void> => {
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    child.stdin!.end();
    const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(kill);
  };
  return { held, release };
}

/**
 * Memory per idle connection, as the marginal cost of live connections: a first batch of
 * count/5 connections (one request each) is opened and kept, so the server's accept and request
 * paths are compiled and its heap has started to grow; then `count` more are opened (one request
 * each) and held beside them. The server's RSS growth over that second batch, divided by the
 * connections in it, is the figure. Nothing is released in between, so no freed memory is reused.
 */
export async function runIdle(loadgen: string, pin: Pinning, pid: number, port: number, count: number, settleMs: number): Promise<IdleResult> {
  const warm = await holdConnections(loadgen, pin, port, Math.max(100, Math.round(count / 5)));
  try {
    await sleep(settleMs);
    const before = rssKiB(pid);
    const hold = await holdConnections(loadgen, pin, port, count);
    await sleep(settleMs);
    const after = rssKiB(pid);
    await hold.release();
    const held = hold.held;
    return { held, rssBeforeKiB: before, rssAfterKiB: after, bytesPerConnection: held > 0 ? ((after - before) * 1024) / held : Number.NaN };
  } finally {
    await warm.release();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
