#!/usr/bin/env node
// scripts/test-variant.mjs — builds one variant of the addon with cmake-js into a directory of its
// own (never build/, which the default node-gyp build and other test runs use) and runs the whole
// vitest suite against it through NATIVE_SELECTORS_ADDON.
//
//   node scripts/test-variant.mjs poll      BACKEND=poll into build-poll/     (npm run test:poll)
//   node scripts/test-variant.mjs kqueue    BACKEND=kqueue against libkqueue into build-kqueue/
//                                           (npm run test:kqueue; KQUEUE_PREFIX, default /opt/libkqueue)
//   node scripts/test-variant.mjs epoll     BACKEND=epoll into build-epoll/
//   node scripts/test-variant.mjs build     only builds the platform default into build-cmake/
//                                           (npm run build:cmake; the loader finds it there)
//   ... -- <vitest args>                    passes the rest to vitest (e.g. a file filter)
//
// The build uses the Node headers installed beside the running node (no download): cmake-js reads
// the headers directory from npm_config_nodedir. scripts/test-asan.mjs reuses these helpers.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

/** Prints the command and runs it; returns its exit status (a signal counts as failure). */
export function run(command, args, options = {}) {
  console.log(`> ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
  if (result.error) {
    console.error(`${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

/** The directory holding include/node/node_api.h for the running node, or undefined. */
export function nodeHeadersPrefix() {
  const candidates = [process.env.npm_config_nodedir, dirname(dirname(process.execPath)), "/usr", "/usr/local"];
  return candidates.find((dir) => dir && existsSync(join(dir, "include", "node", "node_api.h")));
}

/**
 * Builds the addon with cmake-js into `outDir` (relative to the package root) with the given CMake
 * definitions; returns the absolute path of the built native_selectors.node or exits on failure.
 */
export function buildWithCmake(outDir, definitions, { debug = false, env = {} } = {}) {
  const prefix = nodeHeadersPrefix();
  if (!prefix) {
    console.error("Node's headers (include/node/node_api.h) were not found beside node; set npm_config_nodedir.");
    process.exit(2);
  }
  const cmakeJs = require.resolve("cmake-js/bin/cmake-js");
  const config = debug ? "Debug" : "Release";
  const args = [cmakeJs, "build", "--directory", root, "--out", outDir, "--config", config, "--log-level", "warn"];
  for (const [key, value] of Object.entries(definitions)) args.push(`--CD${key}=${value}`);
  args.push("--parallel", "2");
  const status = run(process.execPath, args, {
    env: { ...process.env, npm_config_nodedir: prefix, ...env },
  });
  if (status !== 0) {
    console.error(`cmake-js build into ${outDir} failed (exit ${status})`);
    process.exit(status);
  }
  const addon = join(root, outDir, config, "native_selectors.node");
  if (!existsSync(addon)) {
    console.error(`cmake-js reported success but ${addon} does not exist`);
    process.exit(1);
  }
  return addon;
}

/** Runs the whole vitest suite (plus extra args) with env added; returns the exit status. */
export function runVitest(extraArgs, env, options = {}) {
  const vitest = join(root, "node_modules", "vitest", "vitest.mjs");
  return run(process.execPath, [vitest, "run", ...extraArgs], { env: { ...process.env, ...env }, ...options });
}

function main() {
  const [variant, ...rest] = process.argv.slice(2);
  const vitestArgs = rest[0] === "--" ? rest.slice(1) : rest;
  const definitions = {};
  if (variant === "build") {
    buildWithCmake("build-cmake", {});
    return;
  }
  if (variant === "poll" || variant === "epoll") {
    definitions.BACKEND = variant;
  } else if (variant === "kqueue") {
    const prefix = resolve(process.env.KQUEUE_PREFIX || "/opt/libkqueue");
    if (process.platform === "linux") {
      if (!existsSync(join(prefix, "include", "kqueue", "sys", "event.h"))) {
        console.error(
          `test:kqueue: libkqueue is not installed under ${prefix} (no include/kqueue/sys/event.h).\n` +
            'Build and install mheily/libkqueue there (see docs/building.md, "kqueue on Linux (libkqueue)"), or set KQUEUE_PREFIX.',
        );
        process.exit(2);
      }
      definitions.KQUEUE_PREFIX = prefix;
    }
    definitions.BACKEND = "kqueue";
  } else {
    console.error("usage: node scripts/test-variant.mjs poll|kqueue|epoll [-- vitest args]");
    process.exit(2);
  }
  const addon = buildWithCmake(`build-${variant}`, definitions);
  console.log(`Running the test suite against ${addon} (default backend ${variant})`);
  const status = runVitest(vitestArgs, { NATIVE_SELECTORS_ADDON: addon, NATIVE_SELECTORS_EXPECT_BACKEND: variant });
  process.exit(status);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
