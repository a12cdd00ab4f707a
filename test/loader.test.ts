// test/loader.test.ts — the one loader: the package root imports with plain node (no TypeScript
// loader) through package.json `exports`, and a missing addon is an Error naming every path tried
// and the build command.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(__dirname, "..");

describe("loader", () => {
  it("plain node imports the package root by name", () => {
    const result = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        "import * as m from 'native-selectors'; console.log(typeof m.DefaultSelector, typeof m.lowlevel.socket, m.EVENT_READ, m.EVENT_WRITE)",
      ],
      { cwd: root, encoding: "utf8" },
    );
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("function function 1 2");
  });

  it("names the paths it tried and the build command when no addon loads", () => {
    const dir = mkdtempSync(join(tmpdir(), "ns-loader-"));
    try {
      cpSync(join(root, "dist", "lib"), join(dir, "dist", "lib"), { recursive: true });
      writeFileSync(join(dir, "binding.gyp"), "{}");
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      const result = spawnSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import(${JSON.stringify(join(dir, "dist", "lib", "index.js"))}).catch(e => { console.log(e.code); console.log(e.message); })`,
        ],
        { encoding: "utf8", env: { ...process.env, NATIVE_SELECTORS_ADDON: join(dir, "nowhere.node") } },
      );
      const [code, ...message] = result.stdout.trim().split("\n");
      expect(code).toBe("ERR_NATIVE_NOT_BUILT");
      const text = message.join("\n");
      expect(text).toContain(join(dir, "nowhere.node"));
      expect(text).toContain(join(dir, "build", "Release", "native_selectors.node"));
      expect(text).toContain("npm run build");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports an addon that exists but cannot be loaded", () => {
    const dir = mkdtempSync(join(tmpdir(), "ns-loader-"));
    try {
      cpSync(join(root, "dist", "lib"), join(dir, "dist", "lib"), { recursive: true });
      writeFileSync(join(dir, "binding.gyp"), "{}");
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      const bogus = join(dir, "bogus.node");
      writeFileSync(bogus, "not an ELF file");
      const result = spawnSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import(${JSON.stringify(join(dir, "dist", "lib", "index.js"))}).catch(e => { console.log(e.code); console.log(e.message); })`,
        ],
        { encoding: "utf8", env: { ...process.env, NATIVE_SELECTORS_ADDON: bogus } },
      );
      expect(result.stdout).toContain("ERR_NATIVE_NOT_BUILT");
      expect(result.stdout).toContain(bogus);
      expect(result.stdout).not.toContain(`${bogus} (not found)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
