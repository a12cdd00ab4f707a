/**
 * bench/micro-suite.ts — the micro-benchmark part of the bench, shared by `npm run bench`
 * (bench/run.ts) and `npm run bench:micro` (bench/micro-report.ts): runs bench/micro.ts and
 * bench/py/micro.py in child processes (pinned to the server CPU, each bounded in time), then
 * builds the table (this library's `Socket` or `DefaultSelector`, the `lowlevel` fd calls where
 * they apply, CPython, and the speed against CPython) and the micro-benchmark targets.
 */
import { join } from "node:path";

import { distBench, root, runBounded, type Pinning } from "./harness.js";
import type { Target } from "./report.js";

/** One operation's figure; `lowlevel` is the same loop on the fd calls (bench/micro.ts only). */
export interface MicroFigure {
  value: number;
  unit: string;
  lowlevel?: number;
}
export type MicroFigures = Record<string, MicroFigure>;

export interface MicroResults {
  node?: MicroFigures;
  python?: MicroFigures;
  /** Why a side is missing (a child failed or timed out, or no python3). */
  notes: string[];
}

/** The operation names both micro-benchmark programs print (the targets refer to these). */
export const EAGAIN_OP = "recv(4096) → EAGAIN, caught";
export const SEND_RECV_OP = "send(1 B) + recv(4096)";

function parseFigures(stdout: string): MicroFigures | null {
  try {
    const value: unknown = JSON.parse(stdout.trim().split("\n").pop() ?? "");
    return typeof value === "object" && value !== null ? (value as MicroFigures) : null;
  } catch {
    return null;
  }
}

/** Runs both micro-benchmark programs, `seconds` per case; python is the interpreter (or null). */
export async function runMicro(seconds: number, pin: Pinning, python: string | null, progress: (line: string) => void = () => {}): Promise<MicroResults> {
  const out: MicroResults = { notes: [] };
  // Each program runs about 15 cases of 1.2 × seconds, plus set-up: bound it generously.
  const limit = Math.round(60_000 + seconds * 40_000);
  progress("micro-benchmarks: node");
  const n = await runBounded([...pin.server, process.execPath, join(distBench, "micro.js"), "--seconds", String(seconds)], limit);
  const node = parseFigures(n.stdout);
  if (node) out.node = node;
  else out.notes.push(`micro.js failed (${n.code ?? "killed"}): ${n.stderr.trim().slice(-500) || "no output"}`);
  if (python === null) out.notes.push("python3 not found: no CPython column");
  else {
    progress("micro-benchmarks: python");
    const p = await runBounded([...pin.server, python, join(root, "bench", "py", "micro.py"), "--seconds", String(seconds)], limit);
    const py = parseFigures(p.stdout);
    if (py) out.python = py;
    else out.notes.push(`micro.py failed (${p.code ?? "killed"}): ${p.stderr.trim().slice(-500) || "no output"}`);
  }
  return out;
}

export const MICRO_HEADER = ["micro-benchmark", "this library (Socket / DefaultSelector)", "lowlevel fds", "CPython", "speed vs CPython"];

function fmt(value: number | undefined, unit: string): string {
  if (value === undefined || !Number.isFinite(value)) return "–";
  return unit === "ops/s" ? `${(value / 1e3).toFixed(0)}k ${unit}` : `${value.toFixed(0)} ${unit}`;
}

/** How many times faster `a` is than `b` (ops/s: a/b; times: b/a). */
function speed(a: number | undefined, b: number | undefined, unit: string): number {
  if (a === undefined || b === undefined) return Number.NaN;
  return unit === "ops/s" ? a / b : b / a;
}

const times = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : "–");

/** The table's rows: every operation either side measured, in the node program's order. */
export function microRows(r: MicroResults): string[][] {
  const names = [...new Set([...Object.keys(r.node ?? {}), ...Object.keys(r.python ?? {})])];
  return names.map((name) => {
    const a = r.node?.[name];
    const b = r.python?.[name];
    const unit = a?.unit ?? b?.unit ?? "";
    const low = a?.lowlevel;
    const lowSpeed = speed(low, b?.value, unit);
    return [
      name,
      fmt(a?.value, unit),
      low === undefined ? "–" : `${fmt(low, unit)}${Number.isFinite(lowSpeed) ? ` (${times(lowSpeed)} CPython)` : ""}`,
      fmt(b?.value, unit),
      times(speed(a?.value, b?.value, unit)),
    ];
  });
}

/**
 * The micro-benchmark targets: raising and catching EAGAIN through `Socket` costs at most 1.5×
 * CPython's BlockingIOError; a `Socket` send+recv pair is within 15% of the same pair on the
 * `lowlevel` fd calls.
 */
export function microTargets(r: MicroResults): Target[] {
  const list: Target[] = [];
  {
    const a = r.node?.[EAGAIN_OP];
    const b = r.python?.[EAGAIN_OP];
    const ratio = a && b ? a.value / b.value : Number.NaN;
    list.push({
      name: "micro: Socket recv raising EAGAIN (caught) ≤ 1.5× CPython's cost (BlockingIOError caught)",
      met: Number.isFinite(ratio) ? ratio <= 1.5 : null,
      detail: a && b ? `${a.value.toFixed(0)} vs ${b.value.toFixed(0)} ns/call: ${times(ratio)} CPython's cost` : "not run",
    });
  }
  {
    const a = r.node?.[SEND_RECV_OP];
    const ratio = a?.lowlevel !== undefined ? a.value / a.lowlevel : Number.NaN;
    list.push({
      name: "micro: Socket send+recv pair within 15% of lowlevel send+recv",
      met: Number.isFinite(ratio) ? ratio <= 1.15 : null,
      detail:
        a?.lowlevel !== undefined
          ? `${a.value.toFixed(0)} vs ${a.lowlevel.toFixed(0)} ns/pair: Socket costs ${times(ratio)} lowlevel (${((ratio - 1) * 100).toFixed(1)}% more)`
          : "not run",
    });
  }
  return list;
}
