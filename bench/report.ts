/**
 * bench/report.ts — turns the bench's samples into its outputs: per-(workload, server) summaries
 * (medians with min–max over rounds, every ratio taken against its reference within the same
 * round; an invalid sample — transport errors or wrong bytes — is counted but left out), the plain-text table, the markdown table (bench/results/latest.md), the targets
 * verdicts, and a self-contained SVG bar chart of each server against node:net.
 */
import type { IdleResult, Latency } from "./harness.js";

export const WORKLOADS = ["keepalive", "close", "pipeline", "echo", "latency", "idle"] as const;
export type Workload = (typeof WORKLOADS)[number];

export const WORKLOAD_TITLES: Record<Workload, string> = {
  keepalive: "keep-alive",
  close: "connection per request",
  pipeline: "pipelined",
  echo: "1 MiB echo",
  latency: "latency at a fixed rate",
  idle: "idle connections",
};

export interface Sample {
  round: number;
  server: string;
  workload: Workload;
  generator: "wrk" | "native";
  requests: number;
  /** Transport errors plus wrong responses during the measured run. */
  errors: number;
  /** Responses that were not the expected bytes. */
  wrong?: number;
  /** Why the sample is left out of the medians and ratios (see `invalidity`); absent when valid. */
  invalid?: string;
  seconds: number;
  rps: number;
  /** Server CPU seconds during the run (schedstat, nanosecond resolution, when available). */
  cpuSeconds: number;
  /** The same from /proc/<pid>/stat utime+stime (1/CLK_TCK resolution), for cross-checking. */
  statCpuSeconds: number;
  cpuSource: "schedstat" | "stat";
  /** Server CPU microseconds per request (NaN when no request completed). */
  cpuUsPerRequest: number;
  /**
   * The server's read-like + write-like system calls per request during the run (syscr + syscw of
   * /proc/<pid>/io): read, write, readv, writev; not recv, send and their kin, io_uring operations or waits.
   */
  ioSyscallsPerRequest?: number;
  latency?: Latency;
  idle?: IdleResult;
  /**
   * Connection per request only: the server's highest VmRSS in KiB, sampled every 50 ms from the
   * start of the warm-up to the end of the measured run (the RSS under connection churn).
   */
  peakRssKiB?: number;
  /** VmHWM (peak RSS since the server started) in KiB at the end of the run, for reference. */
  hwmKiB?: number;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface Summary {
  workload: Workload;
  server: string;
  rounds: number;
  rps: Spread;
  cpuUsPerRequest: Spread;
  /** Read/write system calls per request from /proc/<pid>/io (see Sample.ioSyscallsPerRequest). */
  ioSyscallsPerRequest?: Spread;
  /** Keep-alive only: every system call per request, counted by strace in a separate short run. */
  syscallsPerRequest?: number;
  /** Requests per server CPU second relative to node:net's in the same round (higher is better). */
  perCpuVsNodeNet: Spread | null;
  /** Raw requests/s relative to node:net's in the same round. */
  rpsVsNodeNet: Spread | null;
  latency?: { p50: Spread; p99: Spread };
  /** Idle workload: bytes of server RSS per held connection. */
  bytesPerConnection?: Spread;
  /** Idle workload: node:net's bytes per connection divided by this server's (higher is better). */
  memoryVsNodeNet?: Spread | null;
  /** Connection per request: the server's peak RSS (KiB) during the run. */
  peakRssKiB?: Spread;
  errors: number;
  /** Samples left out (transport errors or wrong bytes); `rounds` counts the ones kept. */
  invalid: number;
}

/**
 * Why a measured run cannot be used, or undefined when it can: any transport error (connect,
 * read, write, timeout, a connection dropped) or any response that was not the expected bytes.
 */
export function invalidity(errors: number, wrong: number): string | undefined {
  if (wrong > 0) return `${wrong} wrong response${wrong === 1 ? "" : "s"}${errors > wrong ? ` and ${errors - wrong} transport errors` : ""}`;
  if (errors > 0) return `${errors} transport error${errors === 1 ? "" : "s"}`;
  return undefined;
}

/** The samples the medians and ratios use. */
export function validSamples(samples: readonly Sample[]): Sample[] {
  return samples.filter((s) => s.invalid === undefined);
}

function spread(values: number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]! };
}

export const BASELINE = "node-net";

/**
 * Per-(workload, server) summaries. `syscalls` holds each server's system calls per keep-alive
 * request counted under strace (bench/harness.ts countSyscalls), shown on its keep-alive row.
 */
export function summarise(samples: readonly Sample[], servers: readonly string[], syscalls: ReadonlyMap<string, number> = new Map()): Summary[] {
  const out: Summary[] = [];
  for (const workload of WORKLOADS) {
    const all = samples.filter((s) => s.workload === workload);
    if (all.length === 0) continue;
    const forWorkload = validSamples(all);
    const base = new Map<number, Sample>();
    for (const s of forWorkload) if (s.server === BASELINE) base.set(s.round, s);
    for (const server of servers) {
      const invalid = all.filter((s) => s.server === server && s.invalid !== undefined).length;
      const mine = forWorkload.filter((s) => s.server === server);
      if (mine.length === 0 && invalid === 0) continue;
      const ratio = (f: (s: Sample, b: Sample) => number): Spread | null => {
        const values = mine.flatMap((s) => {
          const b = base.get(s.round);
          return b ? [f(s, b)] : [];
        });
        return values.length ? spread(values) : null;
      };
      const summary: Summary = {
        workload,
        server,
        rounds: mine.length,
        rps: spread(mine.map((s) => s.rps)),
        cpuUsPerRequest: spread(mine.map((s) => s.cpuUsPerRequest)),
        perCpuVsNodeNet: ratio((s, b) => b.cpuUsPerRequest / s.cpuUsPerRequest),
        rpsVsNodeNet: ratio((s, b) => s.rps / b.rps),
        errors: all.reduce((n, s) => n + (s.server === server ? s.errors : 0), 0),
        invalid,
      };
      if (workload === "latency" || mine.some((s) => s.latency)) {
        summary.latency = { p50: spread(mine.map((s) => s.latency?.p50 ?? Number.NaN)), p99: spread(mine.map((s) => s.latency?.p99 ?? Number.NaN)) };
      }
      if (workload === "idle") {
        summary.bytesPerConnection = spread(mine.map((s) => s.idle?.bytesPerConnection ?? Number.NaN));
        summary.memoryVsNodeNet = ratio((s, b) => (b.idle?.bytesPerConnection ?? Number.NaN) / (s.idle?.bytesPerConnection ?? Number.NaN));
      }
      if (mine.some((s) => s.ioSyscallsPerRequest !== undefined)) summary.ioSyscallsPerRequest = spread(mine.map((s) => s.ioSyscallsPerRequest ?? Number.NaN));
      const counted = syscalls.get(server);
      if (workload === "keepalive" && counted !== undefined) summary.syscallsPerRequest = counted;
      if (mine.some((s) => s.peakRssKiB !== undefined)) summary.peakRssKiB = spread(mine.map((s) => s.peakRssKiB ?? Number.NaN));
      out.push(summary);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------- targets

export interface Target {
  name: string;
  met: boolean | null;
  detail: string;
}

function find(summaries: readonly Summary[], workload: Workload, server: string): Summary | undefined {
  return summaries.find((s) => s.workload === workload && s.server === server);
}

const x = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : "n/a");
const pctOf = (v: number): string => (Number.isFinite(v) ? `${((v - 1) * 100).toFixed(1)}%` : "n/a");
const us = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : "n/a");
const mib = (kib: number): string => (Number.isFinite(kib) ? (kib / 1024).toFixed(1) : "n/a");

/**
 * The reference's server CPU per request ÷ the server's, taken in each round where both ran
 * (how many requests the server serves for one of the reference's CPU seconds), summarised.
 */
export function perCpuVs(all: readonly Sample[], workload: Workload, server: string, reference: string): Spread | null {
  const samples = validSamples(all);
  const base = new Map<number, Sample>();
  for (const s of samples) if (s.workload === workload && s.server === reference) base.set(s.round, s);
  const values = samples.flatMap((s) => {
    const b = s.workload === workload && s.server === server ? base.get(s.round) : undefined;
    return b ? [b.cpuUsPerRequest / s.cpuUsPerRequest] : [];
  });
  return values.length ? spread(values) : null;
}

/** What the references the targets use are. */
const REFERENCE_TITLES: Record<string, string> = {
  "node-net": "node-net (node:net)",
  "c-epoll": "c-epoll (C)",
  "python-seed003": "python-seed003 (CPython)",
  "python-asyncio": "python-asyncio (CPython)",
  "seed000-sock": "seed000-sock (the same program on EventLoop)",
};

/**
 * The targets, measured as server CPU time per request with every ratio taken within a round:
 * the seed programs on the public API against CPython, C and node:net, seed 000 on
 * ProactorEventLoop against the same program on EventLoop (and its system calls), memory per idle
 * connection and RSS under churn (seed 003 against node:net); the tuned raw-fd servers keep their
 * own targets, checked only when they ran (--full). null: not measured in this run. The
 * micro-benchmark targets are in bench/micro-suite.ts.
 */
export function targets(summaries: readonly Summary[], samples: readonly Sample[]): Target[] {
  const list: Target[] = [];
  const label = (w: Workload): string => WORKLOAD_TITLES[w];
  const cpuVs = (workload: Workload, server: string, reference: string, goal: number, title: string): void => {
    const s = find(summaries, workload, server);
    const b = find(summaries, workload, reference);
    const r = perCpuVs(samples, workload, server, reference);
    list.push({
      name: `${title}, ${label(workload)}: ${server} ≥ ${goal.toFixed(1)}× ${REFERENCE_TITLES[reference] ?? reference} per CPU`,
      met: r && Number.isFinite(r.median) ? r.median >= goal : null,
      detail:
        s && b && r
          ? `${x(r.median)} (rounds ${x(r.min)}–${x(r.max)}); ${us(s.cpuUsPerRequest.median)} vs ${us(b.cpuUsPerRequest.median)} µs/req`
          : s && b
            ? "no round where both have a valid sample"
            : `not run (${s ? reference : server} missing)`,
    });
  };
  const idleVsNet = (server: string, title: string): void => {
    const s = find(summaries, "idle", server);
    const n = find(summaries, "idle", BASELINE);
    const r = s?.memoryVsNodeNet?.median ?? Number.NaN;
    list.push({
      name: `${title}, idle connections: ${server} ≤ 1/10 of node-net's memory per connection`,
      met: Number.isFinite(r) ? r >= 10 : null,
      detail:
        s && n
          ? `${(s.bytesPerConnection!.median / 1024).toFixed(2)} KiB vs node:net ${(n.bytesPerConnection!.median / 1024).toFixed(2)} KiB per connection (${x(r)} less)`
          : "not run",
    });
  };

  const seed = "seed 003";
  cpuVs("keepalive", "seed003-socket", "python-seed003", 1.0, seed);
  cpuVs("close", "seed003-socket", "python-seed003", 1.0, seed);
  cpuVs("keepalive", "seed003-socket", "c-epoll", 0.9, seed);
  const seed0 = "seed 000";
  cpuVs("keepalive", "seed000-sock", BASELINE, 1.5, seed0);
  cpuVs("keepalive", "seed000-sock", "python-asyncio", 3, seed0);
  cpuVs("keepalive", "c-uring", "c-epoll", 1.2, "C io_uring");
  const proactor = "ProactorEventLoop";
  cpuVs("keepalive", "seed000-proactor", "seed000-sock", 1.3, proactor);
  cpuVs("close", "seed000-proactor", "seed000-sock", 1.3, proactor);
  {
    const s = find(summaries, "keepalive", "seed000-proactor");
    const count = s?.syscallsPerRequest ?? Number.NaN;
    list.push({
      name: `${proactor}, keep-alive: seed000-proactor makes ≤ 0.2 system calls per request`,
      met: Number.isFinite(count) ? count <= 0.2 : null,
      detail: Number.isFinite(count) ? `${count.toFixed(2)} syscalls/req (strace, separate short run)` : s ? "not counted (strace unavailable)" : "not run",
    });
  }
  const layer = "asyncio layer";
  cpuVs("keepalive", "asyncio-protocol", "python-uvloop-protocol", 1.1, layer);
  cpuVs("keepalive", "asyncio-protocol", BASELINE, 1.5, layer);
  cpuVs("keepalive", "asyncio-streams", "python-uvloop-streams", 1.3, layer);
  idleVsNet("seed003-socket", seed);
  {
    const s = find(summaries, "close", "seed003-socket");
    const n = find(summaries, "close", BASELINE);
    const mine = s?.peakRssKiB?.median ?? Number.NaN;
    const theirs = n?.peakRssKiB?.median ?? Number.NaN;
    list.push({
      name: `${seed}, connection per request: seed003-socket's peak RSS below node-net's`,
      met: Number.isFinite(mine) && Number.isFinite(theirs) ? mine < theirs : null,
      detail:
        Number.isFinite(mine) && Number.isFinite(theirs)
          ? `peak RSS during connection per request ${mib(mine)} MiB vs node:net ${mib(theirs)} MiB (${x(theirs / mine)} less)`
          : "not run",
    });
  }

  // The tuned servers (raw fds), when they ran.
  if (samples.some((s) => s.server.startsWith("tuned-"))) {
    const tuned = "tuned (raw fds)";
    cpuVs("keepalive", "tuned-selectors", BASELINE, 1.5, tuned);
    const vsC = (workload: Workload): void => {
      const s = find(summaries, workload, "tuned-selectors");
      const c = find(summaries, workload, "c-epoll");
      const r = perCpuVs(samples, workload, "tuned-selectors", "c-epoll");
      list.push({
        name: `${tuned}, ${label(workload)}: tuned-selectors within 5% of the C server per CPU`,
        met: r && Number.isFinite(r.median) ? r.median >= 0.95 : null,
        detail:
          s && c && r
            ? `${us(s.cpuUsPerRequest.median)} vs ${us(c.cpuUsPerRequest.median)} µs/req: C does ${x(1 / r.median)} as much per CPU (gap ${pctOf(1 / r.median)})`
            : "not run",
      });
    };
    vsC("keepalive");
    cpuVs("close", "tuned-selectors", BASELINE, 3, tuned);
    vsC("close");
    cpuVs("keepalive", "tuned-loop-attached", "tuned-loop-owned", 0.9, tuned);
    idleVsNet("tuned-selectors", tuned);
  }
  return list;
}

// ------------------------------------------------------------------------------------- tables

function fmtSpread(s: Spread, digits: number, scale = 1): string {
  if (!Number.isFinite(s.median)) return "–";
  const f = (v: number): string => (v * scale).toFixed(digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

function fmtRps(s: Spread): string {
  if (!Number.isFinite(s.median)) return "–";
  const f = (v: number): string => (v >= 1e5 ? `${(v / 1e3).toFixed(0)}k` : v >= 1e4 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(0));
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

export interface Row {
  cells: string[];
}

export const HEADER = [
  "workload",
  "server",
  "req/s",
  "server CPU µs/req",
  "syscalls/req",
  "r/w syscalls/req",
  "per CPU vs node:net",
  "req/s vs node:net",
  "latency p50 / p99 ms",
  "KiB/conn",
  "peak RSS MiB",
];

export function rows(summaries: readonly Summary[]): string[][] {
  return summaries.map((s) => {
    const idle = s.workload === "idle";
    return [
      WORKLOAD_TITLES[s.workload],
      s.invalid > 0 ? `${s.server} (${s.invalid} invalid)` : s.server,
      idle ? "–" : fmtRps(s.rps),
      idle ? "–" : fmtSpread(s.cpuUsPerRequest, 2),
      s.syscallsPerRequest !== undefined && Number.isFinite(s.syscallsPerRequest) ? s.syscallsPerRequest.toFixed(2) : "–",
      idle || !s.ioSyscallsPerRequest ? "–" : fmtSpread(s.ioSyscallsPerRequest, 2),
      idle ? (s.memoryVsNodeNet ? `${fmtSpread(s.memoryVsNodeNet, 2)}× less mem` : "–") : s.perCpuVsNodeNet ? `${fmtSpread(s.perCpuVsNodeNet, 2)}×` : "–",
      idle ? "–" : s.rpsVsNodeNet ? `${fmtSpread(s.rpsVsNodeNet, 2)}×` : "–",
      s.workload === "latency" && s.latency ? `${fmtSpread(s.latency.p50, 2, 1e-3)} / ${fmtSpread(s.latency.p99, 2, 1e-3)}` : "–",
      idle && s.bytesPerConnection ? fmtSpread(s.bytesPerConnection, 2, 1 / 1024) : "–",
      s.peakRssKiB ? fmtSpread(s.peakRssKiB, 1, 1 / 1024) : "–",
    ];
  });
}

export function textTable(header: readonly string[], body: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max([...h].length, ...body.map((r) => [...(r[i] ?? "")].length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c + " ".repeat(widths[i]! - [...c].length))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

export function markdownTable(header: readonly string[], body: readonly string[][]): string {
  const esc = (c: string): string => c.replace(/\|/g, "\\|");
  return [`| ${header.map(esc).join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...body.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}

// ------------------------------------------------------------------------------------- SVG

const COLORS: Record<string, string> = {
  "seed003-socket": "#1f77b4",
  "seed000-sock": "#9467bd",
  "seed000-proactor": "#c5b0d5",
  "asyncio-protocol": "#17becf",
  "asyncio-protocol-proactor": "#9edae5",
  "python-seed003": "#bcbd22",
  "python-asyncio": "#8c8c1a",
  "python-uvloop": "#dbdb8d",
  "node-net": "#7f7f7f",
  "node-net-2": "#b0b0b0",
  "node-http": "#d62728",
  "c-epoll": "#ff7f0e",
  "c-uring": "#ffbb78",
  "tuned-selectors": "#4a9fd8",
  "tuned-loop-owned": "#2ca02c",
  "tuned-loop-attached": "#7fcf7f",
};

function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** One panel per workload: each server's per-CPU throughput (idle: memory) relative to node:net. */
export function svgChart(summaries: readonly Summary[], title: string, subtitle: string): string {
  const workloads = WORKLOADS.filter((w) => summaries.some((s) => s.workload === w));
  const panelWidth = 420;
  const barHeight = 16;
  const labelWidth = 130;
  const cols = 2;
  const panels = workloads.map((w) => {
    const list = summaries.filter((s) => s.workload === w);
    const value = (s: Summary): Spread | null | undefined => (w === "idle" ? s.memoryVsNodeNet : s.perCpuVsNodeNet);
    const max = Math.max(1.5, ...list.map((s) => value(s)?.max ?? 0).filter(Number.isFinite));
    return { w, list, value, max, height: 46 + list.length * (barHeight + 4) };
  });
  const rowHeights: number[] = [];
  for (let i = 0; i < panels.length; i += cols) rowHeights.push(Math.max(...panels.slice(i, i + cols).map((p) => p.height)));
  const width = cols * panelWidth + 20;
  const height = 84 + rowHeights.reduce((a, b) => a + b + 16, 0);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<text x="10" y="22" font-size="15" font-weight="bold">${xmlEscape(title)}</text>`);
  parts.push(`<text x="10" y="40" fill="#555">${xmlEscape(subtitle)}</text>`);
  parts.push(
    `<text x="10" y="56" fill="#555">Bars: requests per server CPU second ÷ node:net's (idle: node:net's memory per connection ÷ the server's), same round;</text>`,
  );
  let y = 84;
  panels.forEach((p, index) => {
    const col = index % cols;
    if (col === 0 && index > 0) y += rowHeights[index / cols - 1]! + 16;
    const x0 = 10 + col * panelWidth;
    const plotX = x0 + labelWidth;
    const plotW = panelWidth - labelWidth - 60;
    const scale = (v: number): number => (Math.min(v, p.max) / p.max) * plotW;
    parts.push(`<g>`);
    parts.push(`<text x="${x0}" y="${y + 14}" font-weight="bold">${xmlEscape(WORKLOAD_TITLES[p.w])}${p.w === "idle" ? " (memory per connection)" : ""}</text>`);
    p.list.forEach((s, i) => {
      const by = y + 26 + i * (barHeight + 4);
      const v = p.value(s);
      parts.push(`<text x="${plotX - 6}" y="${by + 12}" text-anchor="end">${xmlEscape(s.server)}</text>`);
      if (v && Number.isFinite(v.median)) {
        parts.push(`<rect x="${plotX}" y="${by}" width="${scale(v.median).toFixed(1)}" height="${barHeight}" fill="${COLORS[s.server] ?? "#888"}"/>`);
        if (v.min !== v.max)
          parts.push(
            `<line x1="${(plotX + scale(v.min)).toFixed(1)}" x2="${(plotX + scale(v.max)).toFixed(1)}" y1="${by + barHeight / 2}" y2="${by + barHeight / 2}" stroke="#000" stroke-width="1"/>`,
          );
        parts.push(`<text x="${(plotX + scale(Math.max(v.median, v.max)) + 4).toFixed(1)}" y="${by + 12}">${v.median.toFixed(2)}×</text>`);
      } else {
        parts.push(`<text x="${plotX + 4}" y="${by + 12}" fill="#999">n/a</text>`);
      }
    });
    const oneX = plotX + scale(1);
    parts.push(
      `<line x1="${oneX.toFixed(1)}" x2="${oneX.toFixed(1)}" y1="${y + 22}" y2="${y + 26 + p.list.length * (barHeight + 4)}" stroke="#333" stroke-dasharray="3,3"/>`,
    );
    parts.push(`</g>`);
  });
  parts.push(`</svg>`);
  return parts.join("\n") + "\n";
}
