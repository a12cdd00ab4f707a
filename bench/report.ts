/**
 * bench/report.ts — turns the bench's samples into its outputs: per-(workload, server) summaries
 * (medians with min–max over rounds, every ratio taken against node:net within the same round),
 * the plain-text table, the markdown table (bench/results/latest.md), the targets verdicts, and a
 * self-contained SVG bar chart of each server against node:net.
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
  errors: number;
  seconds: number;
  rps: number;
  /** Server CPU seconds during the run (schedstat, nanosecond resolution, when available). */
  cpuSeconds: number;
  /** The same from /proc/<pid>/stat utime+stime (1/CLK_TCK resolution), for cross-checking. */
  statCpuSeconds: number;
  cpuSource: "schedstat" | "stat";
  /** Server CPU microseconds per request (NaN when no request completed). */
  cpuUsPerRequest: number;
  latency?: Latency;
  idle?: IdleResult;
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
  /** Requests per server CPU second relative to node:net's in the same round (higher is better). */
  perCpuVsNodeNet: Spread | null;
  /** Raw requests/s relative to node:net's in the same round. */
  rpsVsNodeNet: Spread | null;
  latency?: { p50: Spread; p99: Spread };
  /** Idle workload: bytes of server RSS per held connection. */
  bytesPerConnection?: Spread;
  /** Idle workload: node:net's bytes per connection divided by this server's (higher is better). */
  memoryVsNodeNet?: Spread | null;
  errors: number;
}

function spread(values: number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]! };
}

export const BASELINE = "node-net";

export function summarise(samples: readonly Sample[], servers: readonly string[]): Summary[] {
  const out: Summary[] = [];
  for (const workload of WORKLOADS) {
    const forWorkload = samples.filter((s) => s.workload === workload);
    if (forWorkload.length === 0) continue;
    const base = new Map<number, Sample>();
    for (const s of forWorkload) if (s.server === BASELINE) base.set(s.round, s);
    for (const server of servers) {
      const mine = forWorkload.filter((s) => s.server === server);
      if (mine.length === 0) continue;
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
        errors: mine.reduce((n, s) => n + s.errors, 0),
      };
      if (workload === "latency" || mine.some((s) => s.latency)) {
        summary.latency = { p50: spread(mine.map((s) => s.latency?.p50 ?? Number.NaN)), p99: spread(mine.map((s) => s.latency?.p99 ?? Number.NaN)) };
      }
      if (workload === "idle") {
        summary.bytesPerConnection = spread(mine.map((s) => s.idle?.bytesPerConnection ?? Number.NaN));
        summary.memoryVsNodeNet = ratio((s, b) => (b.idle?.bytesPerConnection ?? Number.NaN) / (s.idle?.bytesPerConnection ?? Number.NaN));
      }
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

/** The targets, measured as server CPU time per request. null: not measured in this run. */
export function targets(summaries: readonly Summary[]): Target[] {
  const list: Target[] = [];
  const vsNet = (workload: Workload, server: string, goal: number, label: string): void => {
    const s = find(summaries, workload, server);
    const r = s?.perCpuVsNodeNet?.median ?? Number.NaN;
    list.push({
      name: `${label}: ${server} ≥ ${goal}× node:net per CPU`,
      met: Number.isFinite(r) ? r >= goal : null,
      detail: s
        ? `${x(r)} (rounds ${x(s.perCpuVsNodeNet?.min ?? Number.NaN)}–${x(s.perCpuVsNodeNet?.max ?? Number.NaN)}); ${s.cpuUsPerRequest.median.toFixed(2)} µs/req`
        : "not run",
    });
  };
  const vsC = (workload: Workload, server: string, label: string): void => {
    const s = find(summaries, workload, server);
    const c = find(summaries, workload, "c-epoll");
    const r = s && c ? c.cpuUsPerRequest.median / s.cpuUsPerRequest.median : Number.NaN;
    list.push({
      name: `${label}: ${server} within 5% of the C epoll server per CPU`,
      met: Number.isFinite(r) ? r >= 0.95 : null,
      detail:
        s && c
          ? `${s.cpuUsPerRequest.median.toFixed(2)} vs ${c.cpuUsPerRequest.median.toFixed(2)} µs/req: C does ${x(1 / r)} as much per CPU (gap ${pctOf(1 / r)})`
          : "not run",
    });
  };
  vsNet("keepalive", "selectors", 1.5, "keep-alive");
  vsC("keepalive", "selectors", "keep-alive");
  vsNet("close", "selectors", 3, "connection per request");
  vsC("close", "selectors", "connection per request");
  {
    const owned = find(summaries, "keepalive", "loop-owned");
    const attached = find(summaries, "keepalive", "loop-attached");
    const r = owned && attached ? owned.cpuUsPerRequest.median / attached.cpuUsPerRequest.median : Number.NaN;
    list.push({
      name: "keep-alive: EventLoop attached within 10% of owning the thread per CPU",
      met: Number.isFinite(r) ? r >= 0.9 : null,
      detail:
        owned && attached
          ? `attached ${attached.cpuUsPerRequest.median.toFixed(2)} vs owned ${owned.cpuUsPerRequest.median.toFixed(2)} µs/req (attached does ${x(r)} as much per CPU)`
          : "not run",
    });
  }
  vsNet("keepalive", "promise", 1.3, "keep-alive");
  {
    const s = find(summaries, "idle", "selectors");
    const n = find(summaries, "idle", BASELINE);
    const r = s?.memoryVsNodeNet?.median ?? Number.NaN;
    list.push({
      name: "idle connections: selectors ≤ 1/10 of node:net's memory per connection",
      met: Number.isFinite(r) ? r >= 10 : null,
      detail:
        s && n
          ? `${(s.bytesPerConnection!.median / 1024).toFixed(2)} KiB vs node:net ${(n.bytesPerConnection!.median / 1024).toFixed(2)} KiB per connection (${x(r)} less)`
          : "not run",
    });
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

export const HEADER = ["workload", "server", "req/s", "server CPU µs/req", "per CPU vs node:net", "req/s vs node:net", "latency p50 / p99 ms", "KiB/conn"];

export function rows(summaries: readonly Summary[]): string[][] {
  return summaries.map((s) => {
    const idle = s.workload === "idle";
    return [
      WORKLOAD_TITLES[s.workload],
      s.server,
      idle ? "–" : fmtRps(s.rps),
      idle ? "–" : fmtSpread(s.cpuUsPerRequest, 2),
      idle ? (s.memoryVsNodeNet ? `${fmtSpread(s.memoryVsNodeNet, 2)}× less mem` : "–") : s.perCpuVsNodeNet ? `${fmtSpread(s.perCpuVsNodeNet, 2)}×` : "–",
      idle ? "–" : s.rpsVsNodeNet ? `${fmtSpread(s.rpsVsNodeNet, 2)}×` : "–",
      s.workload === "latency" && s.latency ? `${fmtSpread(s.latency.p50, 2, 1e-3)} / ${fmtSpread(s.latency.p99, 2, 1e-3)}` : "–",
      idle && s.bytesPerConnection ? fmtSpread(s.bytesPerConnection, 2, 1 / 1024) : "–",
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
  selectors: "#1f77b4",
  "selectors-socket": "#4a9fd8",
  "loop-owned": "#2ca02c",
  "loop-attached": "#7fcf7f",
  promise: "#9467bd",
  "node-net": "#7f7f7f",
  "node-net-2": "#b0b0b0",
  "node-http": "#d62728",
  "c-epoll": "#ff7f0e",
  python: "#bcbd22",
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
