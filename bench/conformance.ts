/**
 * bench/conformance.ts — the bench checking itself: the exchanges every bench server must answer
 * with exactly the same bytes, and a client that plays them against a running server. The expected
 * bytes come from bench/servers/http.ts, the one source of the response bytes. Used by
 * test/bench.test.ts for every server in the catalogue, and by bench/run.ts before a server is
 * measured (a server that fails is not measured).
 *
 * Each exchange runs on a connection of its own: steps are written one by one (a step waits until
 * the responses it expects have arrived, or for a pause when it expects none, so a server sees
 * separate reads), then the connection must either close (after a "Connection: close" request) or
 * stay open with nothing more sent. Every wait is bounded.
 */
import { connect, type Socket } from "node:net";

import { RESPONSE, RESPONSE_CLOSE, echoHeadText } from "./servers/http.js";

interface Step {
  /** Bytes written in one write. */
  readonly send: Buffer;
  /** The response bytes this step completes (empty: none; then wait `PAUSE_MS`). */
  readonly expect: Buffer;
}

export interface Exchange {
  readonly name: string;
  readonly steps: readonly Step[];
  /** After the last step: the server closes the connection, or it stays open and quiet. */
  readonly end: "close" | "open";
}

const PAUSE_MS = 20;
/** How long an open connection must stay quiet after its last response. */
const QUIET_MS = 60;
const STEP_LIMIT_MS = 5_000;

const latin1 = (s: string): Buffer => Buffer.from(s, "latin1");
const GET = latin1("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
const GET_CLOSE = latin1("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
const postHead = (length: number, close = false): Buffer =>
  latin1(
    `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n${close ? "Connection: close\r\n" : ""}\r\n`,
  );
const echo = (body: Buffer, close = false): Buffer => Buffer.concat([latin1(echoHeadText(body.length, close)), body]);
const post = (body: Buffer, close = false): Buffer => Buffer.concat([postHead(body.length, close), body]);
const times = (b: Buffer, n: number): Buffer => Buffer.concat(Array.from({ length: n }, () => b));
const step = (send: Buffer | string, expect: Buffer = Buffer.alloc(0)): Step => ({ send: typeof send === "string" ? latin1(send) : send, expect });

/** A body bigger than any server's 64 KiB read and than a socket buffer: echoed over many reads and writes. */
const BIG = Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) => 0x61 + (i % 26)));
const HELLO = latin1("hello world");

/** The exchanges: GET, keep-alive, Connection: close, pipelined and POST. */
export const EXCHANGES: readonly Exchange[] = [
  { name: "one GET, the connection kept open", steps: [step(GET, RESPONSE)], end: "open" },
  {
    name: "keep-alive: three GETs one after another, then Connection: close",
    steps: [step(GET, RESPONSE), step(GET, RESPONSE), step(GET, RESPONSE), step(GET_CLOSE, RESPONSE_CLOSE)],
    end: "close",
  },
  { name: "Connection: close", steps: [step(GET_CLOSE, RESPONSE_CLOSE)], end: "close" },
  {
    name: "pipelined: eight GETs, a POST and a GET in one write, then two GETs and a Connection: close in one write",
    steps: [
      step(Buffer.concat([times(GET, 8), post(HELLO), GET]), Buffer.concat([times(RESPONSE, 8), echo(HELLO), RESPONSE])),
      step(Buffer.concat([GET, GET, GET_CLOSE]), Buffer.concat([RESPONSE, RESPONSE, RESPONSE_CLOSE])),
    ],
    end: "close",
  },
  {
    name: "POST: a body echoed, a body split over three writes, a header split, 256 KiB, an empty body, then a POST with Connection: close",
    steps: [
      step(post(HELLO), echo(HELLO)),
      step(Buffer.concat([postHead(11), latin1("hel")])),
      step("lo wor"),
      step("ld", echo(HELLO)),
      step("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le"),
      step("ngth: 5\r\n\r\nabcde", echo(latin1("abcde"))),
      step(post(BIG), echo(BIG)),
      step(post(Buffer.alloc(0)), echo(Buffer.alloc(0))),
      step(GET, RESPONSE),
      step(post(latin1("bye"), true), echo(latin1("bye"), true)),
    ],
    end: "close",
  },
];

/** The bytes a server must send for the whole exchange. */
export function expected(exchange: Exchange): Buffer {
  return Buffer.concat(exchange.steps.map((s) => s.expect));
}

export interface ExchangeResult {
  readonly name: string;
  readonly ok: boolean;
  /** What went wrong, with the first differing byte in context; "" when ok. */
  readonly problem: string;
  readonly received: Buffer;
}

function show(bytes: Buffer): string {
  return JSON.stringify(bytes.toString("latin1"));
}

/** Where `got` first differs from `want`, with a little context from each. */
export function firstDifference(want: Buffer, got: Buffer): string {
  let i = 0;
  while (i < want.length && i < got.length && want[i] === got[i]) i++;
  if (i === want.length && i === got.length) return "";
  const from = Math.max(0, i - 24);
  return `byte ${i} of ${want.length} expected (${got.length} received): expected ${show(want.subarray(from, i + 24))}, received ${show(got.subarray(from, i + 24))}`;
}

/** Plays one exchange against 127.0.0.1:port. */
export function play(port: number, exchange: Exchange, host = "127.0.0.1"): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    const want = expected(exchange);
    const chunks: Buffer[] = [];
    let received = 0;
    let closed = false;
    let finished = false;
    let wake: (() => void) | null = null;
    let timer: NodeJS.Timeout | undefined;
    const socket: Socket = connect(port, host);
    socket.setNoDelay(true);
    const done = (problem: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const got = Buffer.concat(chunks);
      const diff = problem || firstDifference(want, got);
      resolve({ name: exchange.name, ok: diff === "", problem: diff, received: got });
    };
    const poke = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      poke();
    });
    socket.on("end", () => {
      closed = true;
      poke();
    });
    socket.on("close", () => {
      closed = true;
      poke();
    });
    socket.on("error", (error) => done(`socket error: ${error.message}`));
    /** Resolves when `ready()` holds or the socket closes; false after `ms`. */
    const until = (ready: () => boolean, ms: number): Promise<boolean> =>
      new Promise((ok) => {
        const check = (): void => {
          if (ready() || closed) {
            clearTimeout(timer);
            ok(ready());
          } else wake = check;
        };
        timer = setTimeout(() => {
          wake = null;
          ok(ready());
        }, ms);
        check();
      });
    socket.on("connect", async () => {
      let total = 0;
      for (const [index, s] of exchange.steps.entries()) {
        if (finished) return;
        if (closed) return done(`the server closed the connection before step ${index + 1} of ${exchange.steps.length}`);
        socket.write(s.send);
        total += s.expect.length;
        if (s.expect.length === 0) await new Promise((r) => setTimeout(r, PAUSE_MS));
        else if (!(await until(() => received >= total, STEP_LIMIT_MS)) && !closed)
          return done(`step ${index + 1}: ${total - received} of ${total} bytes still missing after ${STEP_LIMIT_MS} ms`);
      }
      if (exchange.end === "close") {
        if (!(await until(() => closed, STEP_LIMIT_MS))) return done(`the server did not close the connection within ${STEP_LIMIT_MS} ms`);
        return done("");
      }
      await until(() => false, QUIET_MS);
      if (closed) return done("the server closed a keep-alive connection");
      done("");
    });
  });
}

/** Plays every exchange against one server, one after another. */
export async function checkServer(port: number): Promise<ExchangeResult[]> {
  const results: ExchangeResult[] = [];
  for (const exchange of EXCHANGES) results.push(await play(port, exchange));
  return results;
}
