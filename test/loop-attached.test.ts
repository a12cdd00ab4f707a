// test/loop-attached.test.ts — an EventLoop attached to Node's own loop: node:net and node:http
// clients in the same process talk to reactor-served sockets while Node timers fire, and child
// processes show the process lifetime rules (alive while registrations, timers or callbacks are
// pending; exits on its own with nothing pending and after detach()).
import { request } from "node:http";
import { connect } from "node:net";
import { Worker } from "node:worker_threads";

import { beforeAll, describe, expect, it } from "vitest";

import { ProactorEventLoop, type Socket } from "../lib/index.js";
import { childEnv, compileForChildren, compiledPath, linesOf, runFixture } from "./support/child.js";
import { newLoop } from "./support/loop.js";
import { portOf, tcpListener } from "./support/net.js";

describe.each(["attached", "attached-poll"] as const)("attached beside Node (%s)", (mode) => {
  it("a node:net client in the same process talks to a reactor-served socket while setTimeout fires", async () => {
    const loop = newLoop(mode).attach();
    const listener = tcpListener();
    const port = portOf(listener);
    const ticks: number[] = [];
    const interval = setInterval(() => ticks.push(performance.now()), 2);
    try {
      const serving = (async () => {
        const [conn] = await loop.sockAccept(listener);
        try {
          for (;;) {
            const data = await loop.sockRecv(conn, 1024);
            if (data.length === 0) return;
            await loop.sockSendall(conn, Buffer.concat([Buffer.from("echo:"), data]));
          }
        } finally {
          conn.close();
        }
      })();
      const replies = await new Promise<string[]>((resolve, reject) => {
        const got: string[] = [];
        const client = connect(port, "127.0.0.1");
        client.setEncoding("utf8");
        let buffered = "";
        const words = ["one", "two", "three"];
        client.on("connect", () => client.write(words[0]!));
        client.on("data", (chunk: string) => {
          buffered += chunk;
          const expected = `echo:${words[got.length]}`;
          if (buffered.length < expected.length) return;
          got.push(buffered);
          buffered = "";
          // Wait a little between messages so that Node timers fire meanwhile.
          if (got.length < words.length) setTimeout(() => client.write(words[got.length]!), 15);
          else client.end();
        });
        client.on("end", () => resolve(got));
        client.on("error", reject);
      });
      await serving;
      expect(replies).toEqual(["echo:one", "echo:two", "echo:three"]);
      expect(ticks.length).toBeGreaterThan(5);
    } finally {
      clearInterval(interval);
      listener.close();
      loop.close();
    }
  });

  it("a node:http client gets answers from a reactor HTTP server, with a loop timer and a Node timer in between", async () => {
    const loop = newLoop(mode).attach();
    const listener = tcpListener();
    const port = portOf(listener);
    const served: string[] = [];
    const serve = async (): Promise<void> => {
      for (;;) {
        let conn: Socket;
        try {
          [conn] = await loop.sockAccept(listener);
        } catch {
          return; // the loop closed
        }
        void (async () => {
          try {
            let head = "";
            while (!head.includes("\r\n\r\n")) {
              const data = await loop.sockRecv(conn, 1024);
              if (data.length === 0) return;
              head += data.toString();
            }
            served.push(head.split("\r\n")[0]!);
            await new Promise<void>((r) => loop.callLater(0.01, () => r()));
            const body = "Hello, Client!";
            await loop.sockSendall(conn, `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
          } finally {
            conn.close();
          }
        })();
      }
    };
    const serving = serve();
    const get = (path: string) =>
      new Promise<[number, string]>((resolve, reject) => {
        request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => resolve([res.statusCode!, body]));
        })
          .on("error", reject)
          .end();
      });
    try {
      // Node's own timers keep running beside the attached loop (a starved timer times the test out).
      const nodeTimer = new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 1));
      expect(await get("/a")).toEqual([200, "Hello, Client!"]);
      expect(await get("/b")).toEqual([200, "Hello, Client!"]);
      expect(await nodeTimer).toBe(true);
      expect(served).toEqual(["GET /a HTTP/1.1", "GET /b HTTP/1.1"]);
    } finally {
      loop.close();
      await serving;
      listener.close();
    }
  });
});

describe("attached: process lifetime (child processes)", () => {
  const LIFETIME = new URL("./fixtures/loop-lifetime.ts", import.meta.url);
  beforeAll(() => {
    compileForChildren();
  });

  async function runChild(args: string[], onLine?: (line: string) => void, killAfterMs?: number) {
    const started = performance.now();
    const r = await runFixture(LIFETIME, args, { onLine, timeoutMs: killAfterMs ?? 8000 });
    const lines = linesOf(r.stdout);
    if (r.stderr.trim() !== "") lines.push(`stderr: ${r.stderr.trim()}`);
    return { code: r.code, lines, ms: performance.now() - started };
  }

  it.each(["epoll", "poll"])("a child attaches, serves one request, detach()es and exits by itself with code 0 (%s)", async (backend) => {
    let reply = "";
    const result = await runChild(["serve-one", backend], (line) => {
      if (!line.startsWith("port ")) return;
      const client = connect(Number(line.slice(5)), "127.0.0.1", () => client.write("ping"));
      client.setEncoding("utf8");
      client.on("data", (c: string) => (reply += c));
    });
    expect(result.lines).toEqual([expect.stringMatching(/^port \d+$/), "detached", "exit 0"]);
    expect(result.code).toBe(0);
    expect(result.ms).toBeLessThan(5000);
    expect(reply).toBe("served:ping");
  });

  it.each([
    ["nothing", ["attached with nothing", "exit 0"]],
    ["signal-only", ["signal handler only", "exit 0"]],
    ["cancelled-timer", ["cancelled", "exit 0"]],
    ["timer", ["timer fired", "exit 0"]],
  ])("an attached loop with %s pending lets the process exit when nothing else is", async (scenario, expected) => {
    const result = await runChild([scenario]);
    expect(result.lines).toEqual(expected);
    expect(result.code).toBe(0);
    expect(result.ms).toBeLessThan(5000);
    if (scenario === "timer") expect(result.ms).toBeGreaterThanOrEqual(300);
  });

  // A socket read once and left open holds nothing on EventLoop (its reader goes with the call);
  // on ProactorEventLoop its multishot receive stays armed, and must not hold the process either.
  it.each(ProactorEventLoop.available ? ["epoll", "proactor"] : ["epoll"])(
    "an attached loop (%s) whose only socket was read once and left open lets the process exit",
    async (kind) => {
      const result = await runChild(["read-once", kind]);
      expect(result.lines).toEqual(["read once", "exit 0"]);
      expect(result.code).toBe(0);
      expect(result.ms).toBeLessThan(5000);
    },
  );

  it.each(["run", "block", "attached"])("in a worker thread (%s): the loop works and Worker#terminate() ends it promptly", async (scenario) => {
    const worker = new Worker(compiledPath(new URL("./fixtures/loop-worker.ts", import.meta.url)), { workerData: scenario, env: childEnv() });
    const message = await new Promise<unknown>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    expect(message).toBe({ run: "hi from a worker", block: "owning the thread", attached: "read ping" }[scenario]);
    const started = performance.now();
    await worker.terminate();
    expect(performance.now() - started).toBeLessThan(2000);
  });

  // Node's work (a message) cuts an owned loop's wait short; in a worker that wait is cut into
  // slices too, and a slice cut short must end the wait rather than start the next slice.
  it("in a worker thread, a loop owning the thread with nothing registered gets the worker's messages", async () => {
    const worker = new Worker(compiledPath(new URL("./fixtures/loop-worker.ts", import.meta.url)), { workerData: "message", env: childEnv() });
    const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
    const first = await new Promise<unknown>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    expect(first).toBe("ready");
    let timer: NodeJS.Timeout | undefined;
    const answer = Promise.race([
      new Promise((resolve) => worker.once("message", resolve)),
      new Promise((resolve) => (timer = setTimeout(() => resolve("no answer in 10 s"), 10_000))),
    ]);
    worker.postMessage("hello");
    try {
      expect(await answer).toBe("worker got hello");
      expect(await exited).toBe(0);
    } finally {
      clearTimeout(timer);
      await worker.terminate();
    }
  });

  it.each(["epoll", "poll"])("an attached loop with a registered reader keeps the process alive (%s)", async (backend) => {
    const result = await runChild(["reader", backend], undefined, 1500);
    expect(result.lines).toEqual(["reader registered"]);
    expect(result.code).toBe(null); // killed by the test after 1.5 s, never exited on its own
  });
});
