/**
 * bench/servers/node-http.ts — the libuv path with Node's HTTP stack: `node:http` answering GET
 * with the bench's 18-byte JSON body and echoing a POST body back (Content-Length set). Node adds
 * its own headers (Date, Connection/Keep-Alive), so its response is a few bytes longer than the
 * other servers'; that is the price of node:http and part of what it measures.
 *
 * usage: node dist/bench/servers/node-http.js [port]   prints "READY <port>"
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { BODY, portArgument, ready } from "./http.js";

const body = Buffer.from(BODY, "latin1");
const server = createServer((req, res) => {
  if (req.method === "POST") {
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": req.headers["content-length"] ?? "0" });
    req.pipe(res);
    return;
  }
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": body.length });
  res.end(body);
  req.resume();
});
server.keepAliveTimeout = 60_000;
server.listen(portArgument(), "127.0.0.1", 4096, () => ready((server.address() as AddressInfo).port));
process.on("SIGTERM", () => process.exit(0));
