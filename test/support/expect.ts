// test/support/expect.ts — the assertions and per-test cleanup the test files share, built on
// vitest (so test files only: child fixtures cannot import this file): the Error a call throws,
// its string code, the Node shape of a system error, the fd count coming back to a baseline,
// things closed after each test, and the temporary directories of a file or of each test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";

import { lowlevel } from "../../lib/index.js";
import { fdBaseline, openFds, settledFdCount } from "./fds.js";

/** The Error fn throws (failing the test if it returns or throws a non-Error). */
export function thrown(fn: () => unknown): NodeJS.ErrnoException {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as NodeJS.ErrnoException;
  }
  throw new Error("expected the call to throw");
}

/** Asserts that fn throws an Error with the given string code. */
export function expectCode(fn: () => unknown, code: string): NodeJS.ErrnoException {
  const error = thrown(fn);
  expect(error.code, error.message).toBe(code);
  return error;
}

/**
 * Asserts a Node-shaped system error: the code, a negative errno (the platform's number for the
 * code, when lowlevel.constants has it) and, when `syscall` is given, the syscall and the message
 * `CODE: description, syscall<suffix>` (`suffix` is a connect error's " 127.0.0.1:80").
 */
export function expectSystemError(fn: () => unknown, code: string, syscall?: string, suffix = ""): NodeJS.ErrnoException {
  const error = expectCode(fn, code);
  expect(typeof error.errno).toBe("number");
  expect(error.errno).toBeLessThan(0);
  const known = (lowlevel.constants as unknown as Record<string, number | undefined>)[code];
  if (known !== undefined) expect(error.errno).toBe(-known);
  if (syscall !== undefined) {
    expect(error.syscall).toBe(syscall);
    expect(error.message).toMatch(new RegExp(`^${code}: .+, ${syscall}${suffix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
  }
  return error;
}

/** Expects the fd count to come back to `baseline` within `timeoutMs` (libkqueue frees a closed kqueue's fds late). */
export async function expectFdCount(baseline: number, timeoutMs = 2000): Promise<void> {
  await settledFdCount(baseline, timeoutMs);
  expect(openFds().length, `open fds: ${openFds().join(" ")}`).toBe(baseline);
}

/**
 * Expects every test of the file to leave the fd count where it found it. Call once at the top
 * level, before loopFixtures() (hooks registered first run their afterEach last, so the count is
 * taken once the fixtures' loops are closed).
 */
export function expectFdCountAfterEach(): void {
  let before = 0;
  beforeEach(async () => {
    before = await fdBaseline();
  });
  afterEach(async () => {
    await expectFdCount(before);
  });
}

/** Anything with a close(): a Socket, a selector, a loop. */
export interface Closable {
  close(): void;
}

/**
 * Things a test file opens, closed after each test whatever happened. Call once at the top level
 * of the file: `const track = closeAfterEach();`, then `track(thing)` (or `track([a, b])`, each
 * element) returns what it was given.
 */
export function closeAfterEach(): <T extends Closable | readonly Closable[]>(thing: T) => T {
  const opened: Closable[] = [];
  afterEach(() => {
    for (const thing of opened.splice(0)) thing.close();
  });
  return (thing) => {
    if (Array.isArray(thing)) opened.push(...(thing as readonly Closable[]));
    else opened.push(thing as Closable);
    return thing;
  };
}

/**
 * A temporary directory (named from `prefix`) for all of the file's tests, and the file's fd count
 * checked at its end: the baseline is taken and the directory made before the first test; after
 * the last (and after the file's own later afterAll hooks, which run first) the directory is
 * removed and the count must be back within `fdTimeoutMs`. Returns the directory's path getter.
 */
export function fileTempDir(prefix: string, fdTimeoutMs?: number): () => string {
  let before = 0;
  let dir = "";
  beforeAll(async () => {
    before = await fdBaseline();
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await expectFdCount(before, fdTimeoutMs);
  });
  return () => dir;
}

/** A fresh temporary directory (named from `prefix`) for each test, removed after it. Returns its path getter. */
export function testTempDir(prefix: string): () => string {
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}
