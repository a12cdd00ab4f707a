/**
 * bench/soak.ts — `npm run bench:soak`: a million requests (by default) through the tuned
 * seed-style DefaultSelector server (tuned-selectors, on raw fds; --server picks another),
 * printing the server's RSS and open fd count at intervals, to show that memory and descriptors
 * stay flat. Load comes from bench/c/loadgen in alternating phases of keep-alive requests and
 * connection-per-request (every connection accepted, registered, unregistered and closed).
 * Bounded in time as well as in count.
 *
 * usage: npm run bench:soak -- [--requests=N] [--max-seconds=S] [--server=NAME] [--mode=mixed|keepalive|close]
 */
import {
  SERVER_NAMES,
  buildC,
  buildCServers,
  fdCount,
  findPython,
  installExitHandlers,
  killAll,
  pinning,
  rssKiB,
  runLoadgen,
  serverCatalogue,
  startServer,
  type ServerName,
} from "./harness.js";

const HELP = `usage: npm run bench:soak -- [--requests=N] [--max-seconds=S] [--server=NAME] [--mode=mixed|keepalive|close] [--interval=S]
  --requests=N       requests to serve (default 1000000)
  --max-seconds=S    stop after this long whatever the count (default 300)
  --server=NAME      one of ${SERVER_NAMES.join(", ")} (default tuned-selectors)
  --mode=M           mixed (default: keep-alive phases and connection-per-request phases), keepalive, close
  --interval=S       seconds between RSS/fd lines (default 2)
`;

let requests = 1_000_000;
let maxSeconds = 300;
let serverName: ServerName = "tuned-selectors";
let mode: "mixed" | "keepalive" | "close" = "mixed";
let interval = 2;
for (const arg of process.argv.slice(2)) {
  const [key, value = ""] = arg.split("=", 2) as [string, string | undefined];
  if (key === "--help") {
    process.stdout.write(HELP);
    process.exit(0);
  } else if (key === "--requests" && Number(value) > 0) requests = Math.round(Number(value));
  else if (key === "--max-seconds" && Number(value) > 0) maxSeconds = Number(value);
  else if (key === "--interval" && Number(value) > 0) interval = Number(value);
  else if (key === "--server" && (SERVER_NAMES as readonly string[]).includes(value)) serverName = value as ServerName;
  else if (key === "--mode" && (value === "mixed" || value === "keepalive" || value === "close")) mode = value;
  else {
    process.stderr.write(`soak: bad option ${arg}\n${HELP}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  installExitHandlers();
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const loadgen = buildC("loadgen", log);
  if (loadgen === null) throw new Error("soak needs bench/c/loadgen (a C compiler)");
  const { specs, missing } = serverCatalogue(buildCServers(log), findPython(process.env.BENCH_PYTHON));
  const spec = specs.get(serverName);
  if (spec === undefined) throw new Error(`server ${serverName} unavailable: ${missing.get(serverName) ?? "?"}`);
  const pin = pinning(true);
  const server = await startServer(spec, pin, 4096);
  const start = Date.now();
  const deadline = start + maxSeconds * 1000;
  const first = { rss: rssKiB(server.pid), fds: fdCount(server.pid) };
  let served = 0;
  let errors = 0;
  let maxRss = first.rss;
  let maxFds = first.fds;
  const report = (): void => {
    const rss = rssKiB(server.pid);
    const fds = fdCount(server.pid);
    maxRss = Math.max(maxRss, rss);
    maxFds = Math.max(maxFds, fds);
    process.stdout.write(
      `${((Date.now() - start) / 1000).toFixed(1).padStart(6)} s  ${String(served).padStart(8)} requests  RSS ${(rss / 1024).toFixed(1)} MiB  fds ${fds}\n`,
    );
  };
  process.stdout.write(`soak: ${requests} requests through ${spec.name} (${spec.label}), ${mode}, at most ${maxSeconds} s; pid ${server.pid}\n`);
  report();
  const timer = setInterval(report, interval * 1000);
  let phase = 0;
  try {
    while (served < requests && Date.now() < deadline) {
      const close = mode === "close" || (mode === "mixed" && phase % 2 === 1);
      const chunk = Math.min(requests - served, close ? 10_000 : 50_000);
      const seconds = Math.max(1, Math.min(60, (deadline - Date.now()) / 1000));
      const r = await runLoadgen(loadgen, pin, {
        mode: close ? "close" : "keepalive",
        port: server.port,
        seconds,
        connections: 32,
        depth: 1,
        bodySize: 0,
        rate: 1,
        requests: chunk,
      });
      served += r.requests;
      errors += r.errors;
      phase++;
      if (r.requests === 0) throw new Error("the server stopped answering");
    }
  } finally {
    clearInterval(timer);
  }
  report();
  const last = { rss: rssKiB(server.pid), fds: fdCount(server.pid) };
  await server.stop();
  const elapsed = (Date.now() - start) / 1000;
  process.stdout.write(
    `soak: ${served} requests in ${elapsed.toFixed(1)} s (${(served / elapsed).toFixed(0)}/s), ${errors} errors; ` +
      `RSS ${(first.rss / 1024).toFixed(1)} → ${(last.rss / 1024).toFixed(1)} MiB (max ${(maxRss / 1024).toFixed(1)}), ` +
      `fds ${first.fds} → ${last.fds} (max ${maxFds})${served < requests ? `; stopped by the ${maxSeconds} s bound` : ""}\n`,
  );
  if (last.fds > first.fds + 2) {
    process.stdout.write("soak: the fd count grew: a descriptor leak?\n");
    process.exitCode = 1;
  }
}

main().then(
  () => killAll(),
  (error: unknown) => {
    killAll();
    process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
