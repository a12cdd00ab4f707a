#!/usr/bin/env node
// scripts/build.mjs — builds the addon (node-gyp) and, unless --native-only, the TypeScript.
//
//   npm run build                              the platform's best backend by default
//   npm run build -- --backend=poll            make poll the default backend
//   npm run build -- --backend=kqueue --kqueue-prefix=/opt/libkqueue
//                                              compile the kqueue backend on Linux against
//                                              libkqueue installed under that prefix
//   npm run build -- --sanitize                AddressSanitizer + UBSan (see npm run test:asan)
//   npm run build -- --debug                   a Debug build
//   npm run build -- --uring=off               leave the io_uring ring (ProactorEventLoop) out even
//                                              where liburing is found (also NATIVE_SELECTORS_URING=off)
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

const options = {
  backend: process.env.NATIVE_SELECTORS_BACKEND ?? "",
  kqueuePrefix: process.env.KQUEUE_PREFIX ?? "",
  sanitize: false,
  debug: false,
  nativeOnly: false,
  uring: process.env.NATIVE_SELECTORS_URING ?? "auto",
};
for (const arg of process.argv.slice(2)) {
  const [key, value] = arg.split("=", 2);
  if (key === "--backend") options.backend = value ?? "";
  else if (key === "--kqueue-prefix") options.kqueuePrefix = value ?? "";
  else if (key === "--sanitize") options.sanitize = true;
  else if (key === "--debug") options.debug = true;
  else if (key === "--native-only") options.nativeOnly = true;
  else if (key === "--uring") options.uring = value ?? "auto";
  else if (key === "--help") {
    console.log("usage: node scripts/build.mjs [--backend=epoll|kqueue|poll] [--kqueue-prefix=DIR] [--sanitize] [--debug] [--native-only] [--uring=auto|off]");
    process.exit(0);
  } else {
    console.error(`build: unknown option ${arg}`);
    process.exit(2);
  }
}
if (!["", "epoll", "kqueue", "poll"].includes(options.backend)) {
  console.error(`build: --backend must be epoll, kqueue or poll, not '${options.backend}'`);
  process.exit(2);
}
if (!["auto", "off"].includes(options.uring)) {
  console.error(`build: --uring must be auto or off, not '${options.uring}'`);
  process.exit(2);
}
if (options.backend === "kqueue" && process.platform === "linux") {
  if (!options.kqueuePrefix) options.kqueuePrefix = "/opt/libkqueue";
  if (!existsSync(join(options.kqueuePrefix, "include/kqueue/sys/event.h"))) {
    console.error(
      `build: libkqueue not found under ${options.kqueuePrefix} (expected include/kqueue/sys/event.h); see docs/building.md, "kqueue on Linux (libkqueue)"`,
    );
    process.exit(2);
  }
}

function run(command, args) {
  console.log(`> ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const nodeGyp = require.resolve("node-gyp/bin/node-gyp.js");
const gypArgs = [nodeGyp, "rebuild", `--backend=${options.backend}`, `--kqueue_prefix=${options.kqueuePrefix}`, `--sanitize=${options.sanitize ? 1 : 0}`];
if (options.debug) gypArgs.push("--debug");
// binding.gyp decides with pkg-config unless told to leave the ring out.
if (options.uring === "off") gypArgs.push("--uring=false");
// Build against the headers installed beside this Node (no download), as npm does when its
// nodedir is set; fall back to node-gyp's own lookup otherwise.
const installPrefix = dirname(dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir || (existsSync(join(installPrefix, "include/node/common.gypi")) ? installPrefix : "");
if (nodedir) gypArgs.push(`--nodedir=${nodedir}`);
gypArgs.push(`--jobs=${Math.max(1, Math.min(4, (await import("node:os")).availableParallelism()))}`);
run(process.execPath, gypArgs);
if (!options.nativeOnly) run(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.json"]);
