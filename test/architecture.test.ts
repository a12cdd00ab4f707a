// test/architecture.test.ts — the shape of lib/, checked from its import statements (parsed with
// the TypeScript compiler, no other tool): no import cycle between lib/ files (type-only imports
// count too), nothing in lib/loop/ imports the native binding by value (the loop reaches the native
// layer only through the layers below it: see ALLOWED_NATIVE_GATEWAYS), and no lib/ file over
// MAX_LINES lines. The checks run on synthetic graphs first, so each is seen to fail when it should.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

import ts from "typescript";
import { describe, expect, it } from "vitest";

const LIB = resolve(__dirname, "..", "lib");
const MAX_LINES = 450;
/**
 * The modules outside lib/loop/ that lib/loop/ may import by value although they reach the native
 * layer: the socket layer (the Socket facade, sockio's non-throwing syscalls, the address and
 * sendfile policies), the selector (its poller, libuv watchers of its fds, the owned run) and the
 * io_uring ring selector under ProactorEventLoop (ring.ts), the
 * signal plumbing (signal.ts, as Python's signal module is below asyncio), and the error and
 * argument helpers (errors.ts reads errno names from the binding; args.ts builds on errors.ts).
 * Type-only imports are not counted. Nothing in lib/loop/ imports native.ts by value.
 */
const ALLOWED_NATIVE_GATEWAYS = ["socket.ts", "sockio.ts", "addresses.ts", "sendfile.ts", "selectors.ts", "ring.ts", "signal.ts", "errors.ts", "args.ts"];

interface Import {
  /** The imported file, relative to lib/ (e.g. "loop/base.ts"). */
  target: string;
  /** Whether only types are imported (erased at run time). */
  typeOnly: boolean;
}

function libFiles(dir = LIB): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...libFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(relative(LIB, path));
  }
  return files.sort();
}

/** The relative imports and re-exports of one lib/ file. */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(join(LIB, file), "utf8"), ts.ScriptTarget.Latest, false);
  const found: Import[] = [];
  const add = (specifier: ts.Expression | undefined, typeOnly: boolean): void => {
    if (specifier === undefined || !ts.isStringLiteral(specifier) || !specifier.text.startsWith(".")) return;
    const target = relative(LIB, resolve(LIB, dirname(file), specifier.text.replace(/\.js$/, ".ts")));
    found.push({ target, typeOnly });
  };
  for (const node of source.statements) {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      // `import type {...}`, or `import { type A, type B }` with no default and every name a type.
      let typeOnly = clause?.isTypeOnly ?? false;
      if (clause !== undefined && !typeOnly && clause.name === undefined && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings))
        typeOnly = clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((element) => element.isTypeOnly);
      add(node.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(node)) {
      let typeOnly = node.isTypeOnly;
      if (!typeOnly && node.exportClause !== undefined && ts.isNamedExports(node.exportClause))
        typeOnly = node.exportClause.elements.length > 0 && node.exportClause.elements.every((element) => element.isTypeOnly);
      add(node.moduleSpecifier, typeOnly);
    }
  }
  return found;
}

/** Every import cycle in `graph` (each as the path that closes it), found by depth-first search. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") found.push([...path.slice(path.indexOf(next)), next]);
      else if (state.get(next) === undefined) visit(next);
    }
    path.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (state.get(node) === undefined) visit(node);
  return found;
}

/** Value imports of native.ts from lib/loop/ files: "file -> native.ts". */
function nativeFromLoop(imports: ReadonlyMap<string, readonly Import[]>): string[] {
  const offending: string[] = [];
  for (const [file, list] of imports) {
    if (!file.startsWith(`loop/`)) continue;
    for (const { target, typeOnly } of list) if (target === "native.ts" && !typeOnly) offending.push(`${file} -> ${target}`);
  }
  return offending;
}

const files = libFiles();
const imports = new Map(files.map((file) => [file, importsOf(file)] as const));
const graph = new Map([...imports].map(([file, list]) => [file, list.map((i) => i.target)] as const));

describe("the checks themselves", () => {
  it("find a cycle, and only a cycle", () => {
    expect(
      cycles(
        new Map([
          ["a.ts", ["b.ts"]],
          ["b.ts", ["c.ts"]],
          ["c.ts", []],
        ]),
      ),
    ).toEqual([]);
    expect(
      cycles(
        new Map([
          ["a.ts", ["b.ts"]],
          ["b.ts", ["c.ts"]],
          ["c.ts", ["a.ts"]],
        ]),
      ),
    ).toEqual([["a.ts", "b.ts", "c.ts", "a.ts"]]);
    expect(cycles(new Map([["a.ts", ["a.ts"]]]))).toEqual([["a.ts", "a.ts"]]);
  });

  it("tell a value import of native.ts from lib/loop/ from a type-only one", () => {
    expect(nativeFromLoop(new Map([["loop/x.ts", [{ target: "native.ts", typeOnly: true }]]]))).toEqual([]);
    expect(nativeFromLoop(new Map([["socket.ts", [{ target: "native.ts", typeOnly: false }]]]))).toEqual([]);
    expect(nativeFromLoop(new Map([["loop/x.ts", [{ target: "native.ts", typeOnly: false }]]]))).toEqual(["loop/x.ts -> native.ts"]);
  });

  it("read the imports of the real files (the parser sees lib/loop/'s imports)", () => {
    expect(files).toContain("loop/loop.ts");
    expect(imports.get("loop/loop.ts")!.map((i) => i.target)).toContain("loop/base.ts");
    expect(imports.get("index.ts")!.some((i) => i.target === "native.ts" && !i.typeOnly)).toBe(true);
    expect(imports.get("index.ts")!.some((i) => i.target === "native.ts" && i.typeOnly)).toBe(true);
  });
});

describe("lib/", () => {
  it("has no import cycle", () => {
    expect(cycles(graph).map((cycle) => cycle.join(" -> "))).toEqual([]);
  });

  it("lib/loop/ imports the native binding by value only through the layers below it", () => {
    expect(nativeFromLoop(imports)).toEqual([]);
    // Whatever lib/loop/ imports from outside lib/loop/ either never reaches native.ts by value, or
    // is one of the gateways.
    const reachesNative = (file: string, seen = new Set<string>()): boolean => {
      if (file === "native.ts") return true;
      if (seen.has(file)) return false;
      seen.add(file);
      return (imports.get(file) ?? []).some((i) => !i.typeOnly && reachesNative(i.target, seen));
    };
    const outside = new Set<string>();
    for (const [file, list] of imports)
      if (file.startsWith("loop/")) for (const i of list) if (!i.typeOnly && !i.target.startsWith("loop/")) outside.add(i.target);
    const ungated = [...outside].filter((target) => !ALLOWED_NATIVE_GATEWAYS.includes(target) && reachesNative(target));
    expect(ungated).toEqual([]);
  });

  it(`has no file longer than ${MAX_LINES} lines`, () => {
    const long = files.map((file) => [file, readFileSync(join(LIB, file), "utf8").split("\n").length - 1] as const).filter(([, lines]) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
