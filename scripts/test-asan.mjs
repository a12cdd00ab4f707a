#!/usr/bin/env node
// scripts/test-asan.mjs — `npm run test:asan`: builds a Debug addon with AddressSanitizer and
// UndefinedBehaviorSanitizer (cmake-js, SANITIZE=ON) into build-asan/ and runs the whole vitest
// suite against it, with the compiler's ASan runtime preloaded into node (node itself is not
// instrumented, so the runtime must be loaded first). Fails if the suite fails or if any
// sanitizer report appears in the output.
//
// Leak detection is off (detect_leaks=0): V8 and Node keep memory alive until exit by design,
// and LeakSanitizer would report those allocations, not the addon's. Memory errors (overflows,
// use-after-free, double free) and undefined behaviour still halt the process at the first report.
//
//   node scripts/test-asan.mjs [-- vitest args]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { buildWithCmake, root } from "./test-variant.mjs";

const vitestArgs = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === "--"));

/** The shared ASan runtime of the compiler that builds the addon (gcc's, or clang's). */
function asanRuntime() {
  for (const compiler of [process.env.CXX, "g++", "c++", "clang++"]) {
    if (!compiler) continue;
    const result = spawnSync(compiler, ["-print-file-name=libasan.so"], { encoding: "utf8" });
    const path = result.status === 0 ? result.stdout.trim() : "";
    // An unknown file name is echoed back unchanged; a real runtime is an absolute path.
    if (path.startsWith("/") && existsSync(path)) return path;
  }
  return undefined;
}

if (process.platform !== "linux") {
  console.error("test:asan preloads gcc's libasan.so with LD_PRELOAD and runs on Linux only.");
  process.exit(2);
}
const runtime = asanRuntime();
if (!runtime) {
  console.error("test:asan: the ASan runtime (libasan.so) was not found: install gcc/g++ (e.g. apt-get install g++).");
  process.exit(2);
}

const addon = buildWithCmake("build-asan", { SANITIZE: "ON" }, { debug: true });

// Reports also go to files: a vitest worker's stderr may not reach this process whole.
const logDir = mkdtempSync(join(tmpdir(), "native-selectors-asan-"));
const env = {
  ...process.env,
  LD_PRELOAD: runtime,
  NATIVE_SELECTORS_ADDON: addon,
  ASAN_OPTIONS: `detect_leaks=0:halt_on_error=1:allow_user_segv_handler=1:log_path=${logDir}/asan`,
  UBSAN_OPTIONS: `halt_on_error=1:print_stacktrace=1:log_path=${logDir}/ubsan`,
  NATIVE_SELECTORS_ASAN: "1",
};
const vitest = `${root}/node_modules/vitest/vitest.mjs`;
console.log(`> LD_PRELOAD=${runtime} NATIVE_SELECTORS_ADDON=${addon} node ${vitest} run ${vitestArgs.join(" ")}`);

// Stream the output as it comes (a CI log shows progress) and keep it to search for reports.
const child = spawn(process.execPath, [vitest, "run", ...vitestArgs], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
let output = "";
child.stdout.on("data", (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});
child.stderr.on("data", (chunk) => {
  output += chunk;
  process.stderr.write(chunk);
});
child.on("close", (code, signal) => {
  const reports = [/ERROR: AddressSanitizer/, /runtime error:/, /ERROR: LeakSanitizer/, /SUMMARY: UndefinedBehaviorSanitizer/];
  let logs = "";
  for (const name of readdirSync(logDir)) logs += readFileSync(join(logDir, name), "utf8");
  rmSync(logDir, { recursive: true, force: true });
  if (logs) console.error(`\n--- sanitizer log files ---\n${logs}`);
  const found = reports.filter((pattern) => pattern.test(output) || pattern.test(logs));
  if (found.length > 0) {
    console.error(`\ntest:asan: sanitizer report(s) in the output (${found.map(String).join(", ")}): FAILED`);
    process.exit(1);
  }
  if (code !== 0) {
    console.error(`\ntest:asan: the test suite failed (exit ${code ?? signal})`);
    process.exit(code || 1);
  }
  console.log("\ntest:asan: the suite passed with the ASan+UBSan build and no sanitizer report.");
});
