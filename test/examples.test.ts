// test/examples.test.ts — the two seed examples, run as built (dist/examples/*.js, made by
// `npm run build` / `node scripts/build.mjs`; this file builds nothing): each is started on a free
// port, answers a GET and the seed's JSON POST through node:http (and curl when installed) with
// `{"Hello": "World"}`, prints the seed's log lines, and ends on SIGINT as Ctrl-C would end it.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { request, type IncomingHttpHeaders } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { afterEach, beforeAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const CURL = "/usr/bin/curl";
const BODY = '{"Hello": "World"}';

interface Server {
  child: ChildProcessWithoutNullStreams;
  port: number;
  /** Everything the server printed so far. */
  output(): string;
  /** Resolves once the output matches, rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: Server[] = [];
afterEach(() => {
  for (const server of running.splice(0)) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGKILL");
});

function built(name: string): string {
  const js = join(root, "dist", "examples", `${name}.js`);
  const ts = join(root, "examples", `${name}.ts`);
  if (!existsSync(js)) throw new Error(`${js} is missing: build the package first with \`npm run build\` (or \`node scripts/build.mjs\`).`);
  if (statSync(js).mtimeMs < statSync(ts).mtimeMs) throw new Error(`${js} is older than ${ts}: rebuild with \`npm run build\`.`);
  return js;
}

async function start(name: string, portLine: RegExp): Promise<Server> {
  const child = spawn(process.execPath, [built(name), "--port", "0"], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer): void => {
    out += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      resolve({ code, signal });
      for (const wake of waiters.splice(0)) wake();
    }),
  );
  const server: Server = {
    child,
    port: 0,
    output: () => out,
    async waitFor(pattern, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const match = out.match(pattern);
        if (match) return match;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited before printing ${pattern}; it printed:\n${out}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${name} did not print ${pattern} within ${ms} ms; it printed:\n${out}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    exited,
  };
  running.push(server);
  server.port = Number((await server.waitFor(portLine))[1]);
  expect(server.port).toBeGreaterThan(0);
  return server;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  localPort: number;
}

/**
 * One HTTP request with node:http. The seed's server reads at most 100 bytes and then closes, so
 * a longer request may end in a reset after the full response: that counts once the response is in.
 */
function http(port: number, method: "GET" | "POST", body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let localPort = 0;
    let done = false;
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: "/",
        agent: false,
        headers: body === undefined ? {} : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          done = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), localPort });
        });
        res.on("error", (error) => {
          if (!done) reject(error);
        });
      },
    );
    req.on("socket", (socket) => socket.on("connect", () => (localPort = socket.localPort ?? 0)));
    req.on("error", (error) => {
      if (!done) reject(error);
    });
    req.setTimeout(10_000, () => req.destroy(new Error("HTTP request timed out")));
    req.end(body);
  });
}

function expectSeedResponse(reply: Reply): void {
  expect(reply.status).toBe(200);
  expect(reply.headers["content-type"]).toBe("application/json");
  expect(reply.headers["content-length"]).toBe("18");
  expect(reply.headers.connection).toBe("close");
  expect(reply.body).toBe(BODY);
}

/** curl -sS -i, as a user would run it; returns stdout. */
function curl(port: number, post: boolean): string {
  const args = ["-sS", "-i", "--max-time", "10", `http://127.0.0.1:${port}/`];
  if (post) args.unshift("-X", "POST", "-H", "Content-Type: application/json", "-d", BODY);
  const result = spawnSync(CURL, args, { encoding: "utf8" });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

function expectCurlResponse(text: string): void {
  expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  expect(text).toContain("Content-Type: application/json\r\n");
  expect(text).toContain("Content-Length: 18\r\n");
  expect(text.endsWith(`\r\n\r\n${BODY}`)).toBe(true);
}

async function stopWithCtrlC(server: Server): Promise<void> {
  server.child.kill("SIGINT");
  const { code, signal } = await server.exited;
  expect({ code, signal }).toEqual({ code: null, signal: "SIGINT" });
}

beforeAll(() => {
  // Fails the whole file (not skips it) when the examples were not built.
  built("selectors-server");
  built("blocking-server");
});

describe("examples/selectors-server (the seed's DefaultSelector server)", () => {
  it("answers GET and the JSON POST with the seed's response and prints the seed's log lines", async () => {
    const server = await start("selectors-server", /Server is running on port (\d+)\.\.\./);
    expect(server.output().split("\n")[0]).toBe(`Server is running on port ${server.port}...`);

    const get = await http(server.port, "GET");
    expectSeedResponse(get);
    await server.waitFor(/Closing connection\n/);
    const expected = [
      "events length: 1",
      "handler_name: accept",
      `Accepted connection from [ '127.0.0.1', ${get.localPort} ]`,
      "events length: 1",
      "handler_name: read",
      "response to",
      "Closing connection",
    ];
    expect(
      server
        .output()
        .split("\n")
        .slice(1, 1 + expected.length),
    ).toEqual(expected);

    const post = await http(server.port, "POST", BODY);
    expectSeedResponse(post);
    await server.waitFor(new RegExp(`Accepted connection from \\[ '127\\.0\\.0\\.1', ${post.localPort} \\]`));
    await stopWithCtrlC(server);
  });

  it("serves many clients at once from its one select() loop", async () => {
    const server = await start("selectors-server", /Server is running on port (\d+)\.\.\./);
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => http(server.port, i % 2 ? "POST" : "GET", i % 2 ? BODY : undefined)));
    for (const reply of replies) expectSeedResponse(reply);
    await server.waitFor(/(?:Closing connection\n[^]*){20}/);
    expect(server.output().match(/handler_name: accept/g)?.length).toBe(20);
    await stopWithCtrlC(server);
  });

  it.runIf(existsSync(CURL))("answers curl GET and the curl JSON POST", async () => {
    const server = await start("selectors-server", /Server is running on port (\d+)\.\.\./);
    expectCurlResponse(curl(server.port, false));
    expectCurlResponse(curl(server.port, true));
    await server.waitFor(/(?:Closing connection\n[^]*){2}/);
    await stopWithCtrlC(server);
  });
});

describe("examples/blocking-server (the seed's plain blocking socket server)", () => {
  const started = /Listening on 127\.0\.0\.1:(\d+)/;
  const stamp = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}`;

  it("answers GET and the JSON POST and prints the seed's log lines", async () => {
    const server = await start("blocking-server", started);
    await server.waitFor(new RegExp(`${stamp} Waiting for a connection\\.\\.\\.`));

    const get = await http(server.port, "GET");
    expectSeedResponse(get);
    await server.waitFor(new RegExp(`${stamp} Got connection from \\[ '127\\.0\\.0\\.1', ${get.localPort} \\]\\nReceived: GET / HTTP/1\\.1\\r?\\n`));

    const post = await http(server.port, "POST", BODY);
    expectSeedResponse(post);
    const received = await server.waitFor(/Received: (POST \/ HTTP\/1\.1[^]*?\{"Hello": "World"\})\n/);
    expect(received[1]).toMatch(/\r\nContent-Type: application\/json\r\n/i);
    expect(received[1]).toMatch(/\r\nContent-Length: 18\r\n/i);
    await server.waitFor(new RegExp(`(?:${stamp} Waiting for a connection\\.\\.\\.[^]*){3}`));
    await stopWithCtrlC(server);
  });

  it.runIf(existsSync(CURL))("answers curl GET and the curl JSON POST", async () => {
    const server = await start("blocking-server", started);
    expectCurlResponse(curl(server.port, false));
    expectCurlResponse(curl(server.port, true));
    await server.waitFor(/Received: GET \/ HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\nUser-Agent: curl\//);
    await stopWithCtrlC(server);
  });
});

describe("examples/echo.ts (the README's first example)", () => {
  it("echoes two words through one run() loop on a free port, then exits 0", async () => {
    const child = spawn(process.execPath, [built("echo")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    clearTimeout(timer);
    expect(out).toMatch(/^echo server on 127\.0\.0\.1:\d+\n/);
    expect(out.split("\n").slice(1)).toEqual(["echoed: hello", "echoed: world", ""]);
    expect(code).toBe(0);
  });
});

describe.each(["asyncio-streams-server", "asyncio-protocol-server"])("examples/%s (seed 000 on the asyncio layer)", (name) => {
  it("answers GET and the JSON POST with the seed's HTTP/1.0 reply, logs each step, and shuts down on SIGINT", async () => {
    const server = await start(name, /Server listening on 127\.0\.0\.1:(\d+)/);
    for (const method of ["GET", "POST"] as const) {
      const reply = await http(server.port, method, method === "POST" ? BODY : undefined);
      expect(reply.status).toBe(200);
      expect(reply.headers["content-length"]).toBe("14");
      expect(reply.body).toBe("Hello, Client!");
      const who = `\\('127\\.0\\.0\\.1', ${reply.localPort}\\)`;
      await server.waitFor(new RegExp(`Connection from ${who}\\nReceived from ${who}: ${method} / HTTP/1\\.1\\r\\n`));
      await server.waitFor(new RegExp(`Closing connection to ${who}\\n`));
    }
    server.child.kill("SIGINT");
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output()).toMatch(/Server shut down\n$/);
  });
});
