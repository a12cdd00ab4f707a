// test/types.test.ts — the published declarations as a user's project sees them. The fixture in
// test/types/consumer/ is laid out in a temporary folder as a project of its own: its files, a
// package.json with "type": "module", node_modules/native-selectors holding this package's
// package.json and declarations freshly emitted from lib/ with the build's tsconfig.json (so
// "exports", "types" and stripInternal are exercised), and node_modules/@types/node. The repo's
// tsc then checks it with strict, module nodenext and skipLibCheck false, once as is and once with
// "types": []; both must pass without a diagnostic. The fixture's @ts-expect-error lines are the
// misuse that must fail to type-check (an unused one is itself an error).
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(__dirname, "..");
const fixture = join(__dirname, "types", "consumer");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

let project: string;

function runTsc(args: string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [tsc, ...args], { cwd, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

describe("the published types in a user's project", () => {
  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), "ns-types-"));
    for (const name of readdirSync(fixture)) cpSync(join(fixture, name), join(project, name));
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    const pkg = join(project, "node_modules", "native-selectors");
    mkdirSync(pkg, { recursive: true });
    cpSync(join(root, "package.json"), join(pkg, "package.json"));
    // The declarations as `npm run build:ts` makes them, into the installed package's dist/.
    const emit = runTsc(["-p", join(root, "tsconfig.json"), "--emitDeclarationOnly", "--outDir", join(pkg, "dist")], root);
    expect(emit.output).toBe("");
    expect(emit.status).toBe(0);
    mkdirSync(join(project, "node_modules", "@types"), { recursive: true });
    symlinkSync(realpathSync(join(root, "node_modules", "@types", "node")), join(project, "node_modules", "@types", "node"), "dir");
  }, 120_000);

  afterAll(() => {
    if (project !== undefined) rmSync(project, { recursive: true, force: true });
  });

  it("compiles with strict, module nodenext and skipLibCheck false, and every @ts-expect-error misuse is an error", () => {
    const result = runTsc(["-p", "tsconfig.json"], project);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  }, 120_000);

  it('compiles with "types": [] (the declarations load @types/node themselves)', () => {
    const result = runTsc(["-p", "tsconfig.no-types.json"], project);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  }, 120_000);
});
