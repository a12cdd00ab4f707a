/**
 * bench/servers/http.ts — the tiny HTTP responder every bench server shares, so they all do the
 * same work and send the same bytes. Its constants are the one source of the response bytes:
 * bench/c/http_response.h and bench/py/http_response.py are generated from them
 * (bench/http-files.ts), and bench/conformance.ts holds every server to them. The rules
 * (bench/c/epoll_server.c and bench/py/framing.py implement the same):
 * - a request ends at "\r\n\r\n";
 * - a request whose method starts with 'P' (POST) has a body of `Content-Length` bytes, which is
 *   echoed back as the response body (the 1 MiB echo workload);
 * - any other request gets the seed's 18-byte JSON body `{"Hello": "World"}`;
 * - a request header containing "Connection: close" (exact case, as wrk and bench/c/loadgen send
 *   it) gets "Connection: close" in its response, and the connection closes after it.
 * Also the server-side helpers: the port argument and the READY line.
 */

/** The JSON body every GET gets (seed 000's). */
export const BODY = '{"Hello": "World"}';
export const STATUS_LINE = "HTTP/1.1 200 OK\r\n";
export const JSON_TYPE = "application/json";
export const ECHO_TYPE = "application/octet-stream";
/** The header field a response to a "Connection: close" request carries, before the blank line. */
export const CLOSE_FIELD = "Connection: close\r\n";
/** An echo response's head up to its length: the length, "\r\n", CLOSE_FIELD if closing and "\r\n" follow. */
export const ECHO_HEAD = `${STATUS_LINE}Content-Type: ${ECHO_TYPE}\r\nContent-Length: `;

/** The response to a GET (or any request not starting with 'P'), as text (every byte < 0x80). */
export function responseText(close: boolean): string {
  return `${STATUS_LINE}Content-Type: ${JSON_TYPE}\r\nContent-Length: ${BODY.length}\r\n${close ? CLOSE_FIELD : ""}\r\n${BODY}`;
}

/** The head of the response to a POST whose body of `length` bytes is echoed after it. */
export function echoHeadText(length: number, close: boolean): string {
  return `${ECHO_HEAD}${length}\r\n${close ? CLOSE_FIELD : ""}\r\n`;
}

export const RESPONSE = Buffer.from(responseText(false), "latin1");
export const RESPONSE_CLOSE = Buffer.from(responseText(true), "latin1");

const HEADER_END = Buffer.from("\r\n\r\n", "latin1");
const CONNECTION_CLOSE = "\r\nConnection: close";
const CONTENT_LENGTH = "\r\nContent-Length:";
const LETTER_P = 0x50;
const CR = 0x0d;
/** Headers longer than this without an end are refused (the connection closes). */
const MAX_HEADER = 16 * 1024;

/**
 * Where `name` (starting "\r\n") begins within buf[from, to), or -1. A plain loop over the header
 * bytes: headers are short, and it needs no bound-limited view of a reused read buffer.
 */
function findField(buf: Uint8Array, from: number, to: number, name: string): number {
  const last = to - name.length;
  outer: for (let i = from; i <= last; i++) {
    if (buf[i] !== CR || buf[i + 2] !== name.charCodeAt(2)) continue;
    for (let j = 3; j < name.length; j++) if (buf[i + j] !== name.charCodeAt(j)) continue outer;
    return i;
  }
  return -1;
}

/** `RESPONSE` repeated n times, built once per n (pipelined requests answered with one write). */
const repeated: Buffer[] = [];
function responses(n: number): Buffer {
  if (n === 1) return RESPONSE;
  let buf = repeated[n];
  if (buf === undefined) {
    buf = Buffer.alloc(RESPONSE.length * n);
    for (let i = 0; i < n; i++) RESPONSE.copy(buf, i * RESPONSE.length);
    if (n < 256) repeated[n] = buf;
  }
  return buf;
}

function echoHeader(length: number, close: boolean): Buffer {
  return Buffer.from(echoHeadText(length, close), "latin1");
}

/**
 * One connection's request framing. `feed()` returns the response pieces for the bytes given, in
 * order; echoed body pieces are views of the input, so a caller that keeps them past its next read
 * into the same buffer must copy them.
 */
export class Framer {
  /** The connection must close once the pieces returned so far are sent. */
  closeAfter = false;
  /** The request framing is broken (oversized header): close at once. */
  broken = false;
  #partial: Buffer | null = null;
  #bodyLeft = 0;
  #closeAtBodyEnd = false;

  feed(input: Buffer, start: number, end: number): Uint8Array[] {
    // A new array per call: truncating a reused one (length = 0) is a slow runtime call in V8.
    const pieces: Uint8Array[] = [];
    let buf = input;
    if (this.#partial !== null) {
      buf = Buffer.concat([this.#partial, input.subarray(start, end)]);
      start = 0;
      end = buf.length;
      this.#partial = null;
    }
    let pos = start;
    let fixed = 0; // consecutive plain responses not yet pushed
    while (pos < end && !this.closeAfter) {
      if (this.#bodyLeft > 0) {
        const n = Math.min(end - pos, this.#bodyLeft);
        pieces.push(buf.subarray(pos, pos + n));
        pos += n;
        this.#bodyLeft -= n;
        if (this.#bodyLeft === 0 && this.#closeAtBodyEnd) this.closeAfter = true;
        continue;
      }
      // Buffer#indexOf has no end bound: a match past `end` (stale bytes of a reused buffer) is none.
      const headerEnd = buf.indexOf(HEADER_END, pos);
      if (headerEnd < 0 || headerEnd + 4 > end) break;
      const next = headerEnd + 4;
      const close = findField(buf, pos, headerEnd + 2, CONNECTION_CLOSE) >= 0;
      if (buf[pos] === LETTER_P) {
        if (fixed > 0) (pieces.push(responses(fixed)), (fixed = 0));
        const cl = findField(buf, pos, headerEnd + 2, CONTENT_LENGTH);
        const length = cl >= 0 ? Number.parseInt(buf.toString("latin1", cl + CONTENT_LENGTH.length, next), 10) || 0 : 0;
        pieces.push(echoHeader(length, close));
        this.#bodyLeft = length;
        this.#closeAtBodyEnd = close;
        if (close && length === 0) this.closeAfter = true;
      } else if (close) {
        if (fixed > 0) (pieces.push(responses(fixed)), (fixed = 0));
        pieces.push(RESPONSE_CLOSE);
        this.closeAfter = true;
      } else {
        fixed++;
      }
      pos = next;
    }
    if (fixed > 0) pieces.push(responses(fixed));
    if (pos < end && !this.closeAfter) {
      if (end - pos > MAX_HEADER) this.broken = true;
      else this.#partial = Buffer.from(buf.subarray(pos, end));
    }
    return pieces;
  }
}

/** The port from argv[2] or PORT (0, the default, picks a free one). */
export function portArgument(): number {
  // The first argument that is not a flag (see loop-choice.ts for --proactor).
  const raw = process.argv.slice(2).find((arg) => !arg.startsWith("--")) ?? process.env.PORT ?? "0";
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port: ${raw}`);
  return port;
}

/** Tells the bench the server is listening (stdout is a pipe: the write is synchronous on Linux). */
export function ready(port: number): void {
  process.stdout.write(`READY ${port}\n`);
}
