// test/loop-example.test.ts — examples/asyncio-server.ts (the seed's asyncio server) in a child
// process: it listens on the port given, answers a node:http GET and the seed's JSON POST with
// "Hello, Client!" and the right Content-Length (14), logs like the seed, and on SIGINT prints
// "Server shut down" and exits with code 0.
import { spawn } from "node:child_process";
import { request } from "node:http";

import { beforeAll, describe, expect, it } from "vitest";

import { childEnv, compileForChildren, compiledPath } from "./support/child.js";
import { freePort } from "./support/net.js";
import { sleep } from "./support/time.js";

const SERVER = new URL("../examples/asyncio-server.ts", import.meta.url);

function call(port: number, method: string, body?: string): Promise<{ status: number; length: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method, path: "/", agent: false, headers: body === undefined ? {} : { "Content-Type": "application/json" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode!, length: res.headers["content-length"], body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("examples/asyncio-server", () => {
  beforeAll(() => {
    compileForChildren();
  });

  it("serves GET and the seed's JSON POST, then shuts down on SIGINT with exit code 0", async () => {
    const port = freePort();
    const child = spawn(process.execPath, [compiledPath(SERVER), "--port", String(port)], {
      env: childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (c: string) => {
          stdout += c;
          if (stdout.includes(`Server listening on 127.0.0.1:${port}`)) resolve();
        });
        child.on("close", () => reject(new Error(`server exited early: ${stdout}${stderr}`)));
      });

      const get = await call(port, "GET");
      expect(get).toEqual({ status: 200, length: "14", body: "Hello, Client!" });
      const json = '{ "title":"foo","body":"bar", "id": 1}';
      const post = await call(port, "POST", json);
      expect(post).toEqual({ status: 200, length: "14", body: "Hello, Client!" });

      await sleep(50); // let the server log the closes
      child.kill("SIGINT");
      const started = performance.now();
      const code = await exited;
      expect(performance.now() - started).toBeLessThan(5000);
      expect(code).toBe(0);
      expect(stderr).toBe("");
      expect(stdout).toMatch(/Connection from \('127\.0\.0\.1', \d+\)/);
      expect(stdout).toMatch(/Received from \('127\.0\.0\.1', \d+\): GET \/ HTTP\/1\.1/);
      expect(stdout).toContain(`Received from`);
      expect(stdout).toContain(json);
      expect(stdout).toMatch(/Closing connection to \('127\.0\.0\.1', \d+\)/);
      expect(stdout.trimEnd().endsWith("Server shut down")).toBe(true);
    } finally {
      clearTimeout(killer);
      child.kill("SIGKILL");
    }
  });

  it("refuses a bad --port with exit code 2", async () => {
    const child = spawn(process.execPath, [compiledPath(SERVER), "--port", "99999"], { env: childEnv(), stdio: "pipe" });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(2);
  });
});
