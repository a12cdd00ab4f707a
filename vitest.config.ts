// vitest.config.ts — the test runner's settings: every test in a forked child process (native
// addons and fd counting want a process of their own), generous timeouts for loopback load.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
