/**
 * bench/micro-report.ts — `npm run bench:micro`: the micro-benchmarks alone, in one go:
 * bench/micro.ts (this library's `Socket`, its `lowlevel` fd calls, `DefaultSelector`) and
 * bench/py/micro.py (CPython's socket.socket and selectors.DefaultSelector), each in a child
 * process pinned to CPU 1; prints the table with the speed against CPython and the
 * micro-benchmark targets. Writes nothing. `npm run bench` runs and prints the same table.
 *
 * usage: npm run bench:micro -- [--seconds=S] [--quick] [--python=PATH] [--no-pin] [--json]
 */
import { findPython, installExitHandlers, killAll, machineInfo, machineLine, pinning } from "./harness.js";
import { MICRO_HEADER, microRows, microTargets, runMicro } from "./micro-suite.js";
import { textTable } from "./report.js";

const HELP = `usage: npm run bench:micro -- [options]
  --seconds=S      seconds per case, after a warm-up of a fifth of that (default 0.5)
  --quick          0.15 s per case
  --python=PATH    the CPython to compare with (default: $BENCH_PYTHON, else the first python3
                   that imports uvloop, else the first python3 on PATH)
  --no-pin         do not pin the benchmarks to CPU 1 with taskset
  --json           print the raw figures as JSON after the table
  --help           this text
`;

let seconds = 0.5;
let python: string | undefined = process.env.BENCH_PYTHON || undefined;
let pin = true;
let json = false;
for (const arg of process.argv.slice(2)) {
  const eq = arg.indexOf("=");
  const key = eq < 0 ? arg : arg.slice(0, eq);
  const value = eq < 0 ? "" : arg.slice(eq + 1);
  if (key === "--help" || key === "-h") {
    process.stdout.write(HELP);
    process.exit(0);
  } else if (key === "--seconds" && Number(value) >= 0.05 && Number(value) <= 10) seconds = Number(value);
  else if (key === "--quick") seconds = 0.15;
  else if (key === "--python" && value) python = value;
  else if (key === "--no-pin") pin = false;
  else if (key === "--json") json = true;
  else {
    process.stderr.write(`bench:micro: bad option ${arg}\n\n${HELP}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  installExitHandlers();
  const started = Date.now();
  const py = findPython(python);
  if (python && py === null) throw new Error(`--python=${python} does not run`);
  const machine = machineInfo(null, py);
  const tty = process.stderr.isTTY === true;
  const progress = (line: string): void => void process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  const results = await runMicro(seconds, pinning(pin), py?.path ?? null, progress);
  if (tty) process.stderr.write("\r\x1b[K");
  const lines: string[] = [];
  lines.push(`native-selectors micro-benchmarks — ${new Date().toISOString().slice(0, 10)} — ${machineLine(machine)}`);
  lines.push(`${seconds} s per case after a ${(seconds / 5).toFixed(2)} s warm-up; speed vs CPython > 1 means faster than CPython.`, "");
  const table = microRows(results);
  if (table.length) lines.push(textTable(MICRO_HEADER, table), "");
  lines.push("targets:");
  for (const t of microTargets(results)) lines.push(`  [${t.met === null ? "n/a " : t.met ? "met " : "MISS"}] ${t.name}: ${t.detail}`);
  lines.push("");
  for (const note of results.notes) lines.push(`note: ${note}`);
  if (json) lines.push(JSON.stringify({ node: results.node ?? null, python: results.python ?? null }));
  lines.push(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(`${lines.join("\n")}\n`);
  if (!results.node) process.exitCode = 1;
}

main().then(
  () => killAll(),
  (error: unknown) => {
    killAll();
    process.stderr.write(`bench:micro: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
