// test/support/native.ts — loopback sockets by fd number for the tests of the native layer
// (test/native/), on `lowlevel`: a TCP listener, a bounded wait for readiness, a connected TCP
// pair. Fd accounting and closing by number are in ./fds.ts.
import { lowlevel } from "../../lib/index.js";
import { loopback } from "./net.js";

const c = lowlevel.constants;

/** A listening TCP socket on 127.0.0.1 (or ::1) port 0, and its port. */
export function listenTcp(family: number = c.AF_INET, backlog = 128): { fd: number; port: number } {
  const fd = lowlevel.socket(family, c.SOCK_STREAM, 0, true);
  lowlevel.setsockopt(fd, c.SOL_SOCKET, c.SO_REUSEADDR, 1);
  lowlevel.bind(fd, family, loopback(family), 0);
  lowlevel.listen(fd, backlog);
  const address = lowlevel.getsockname(fd);
  if (!Array.isArray(address)) throw new Error("expected an IP address");
  return { fd, port: address[1] };
}

/** Waits (blocking, bounded) until fd reports one of `events` (POLLIN by default). */
export function waitReady(fd: number, events: number = lowlevel.poll.POLLIN, timeoutMs = 5000): number {
  const revents = lowlevel.waitFd(fd, events, timeoutMs);
  if (revents <= 0) throw new Error(`fd ${fd} not ready within ${timeoutMs} ms (${revents})`);
  return revents;
}

/** A connected non-blocking TCP pair on loopback: [client, server-side], listener closed. */
export function tcpPair(family: number = c.AF_INET): [number, number] {
  const listener = listenTcp(family);
  try {
    const client = lowlevel.socket(family, c.SOCK_STREAM, 0, true);
    const r = lowlevel.connect(client, family, loopback(family), listener.port);
    if (r !== 0 && r !== -c.EINPROGRESS) throw lowlevel.errorFromErrno(r, "connect");
    waitReady(listener.fd);
    const server = lowlevel.accept(listener.fd);
    if (server < 0) throw lowlevel.errorFromErrno(server, "accept");
    waitReady(client, lowlevel.poll.POLLOUT);
    return [client, server];
  } finally {
    lowlevel.close(listener.fd);
  }
}
