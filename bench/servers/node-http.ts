/**
 * bench/servers/node-http.ts — the libuv path with Node's HTTP stack: `node:http` (llhttp parsing
 * every request) answering GET with the bench's 18-byte JSON body and echoing a POST body back,
 * with the same response bytes as every other bench server (./http.ts): no Date header
 * (`sendDate = false`), no Connection/Keep-Alive header on a keep-alive response (the Connection
 * header is removed, which keeps the connection open), and on a response to a
 * "Connection: close" request the "Connection: close" Node adds itself after the fields set here.
 *
 * usage: node dist/bench/servers/node-http.js [port]   prints "READY <port>"
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { BODY, ECHO_TYPE, JSON_TYPE, portArgument, ready } from "./http.js";

const body = Buffer.from(BODY, "latin1");

/** Sets Content-Type and Content-Length, in that order, and the Connection policy above. */
function head(res: ServerResponse, type: string, length: string | number): void {
  res.sendDate = false;
  res.setHeader("Content-Type", type);
  res.setHeader("Content-Length", length);
  if (res.shouldKeepAlive) res.removeHeader("Connection");
  res.statusCode = 200;
}

const server = createServer((req, res) => {
  if (req.method === "POST") {
    head(res, ECHO_TYPE, req.headers["content-length"] ?? "0");
    req.pipe(res);
    return;
  }
  head(res, JSON_TYPE, body.length);
  res.end(body);
  req.resume();
});
server.keepAliveTimeout = 60_000;
server.listen(portArgument(), "127.0.0.1", 4096, () => ready((server.address() as AddressInfo).port));
process.on("SIGTERM", () => process.exit(0));
