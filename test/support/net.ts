// test/support/net.ts — loopback sockets for tests, on the public Socket: TCP listeners and
// connected pairs, Unix stream pairs (also pairs landing on given fd numbers, to reuse a number
// deterministically), UDP sockets, free and closed ports, Unix socket paths, and whether IPv6 works.
import { tmpdir } from "node:os";
import { join } from "node:path";

import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, Socket, lowlevel, socketpair } from "../../lib/index.js";

/** The loopback address of an IP family. */
export function loopback(family: number = AF_INET): string {
  return family === AF_INET6 ? "::1" : "127.0.0.1";
}

/** The port an IP socket is bound to (its getsockname() is `[host, port, ...]`). */
export function portOf(sock: Socket): number {
  const address = sock.getsockname();
  if (typeof address === "string") throw new Error(`not an IP socket: ${address}`);
  return address[1];
}

export interface ListenerOptions {
  /** AF_INET (127.0.0.1, the default) or AF_INET6 (::1). */
  family?: number;
  /** listen()'s backlog; without one, listen()'s own default. */
  backlog?: number;
  /** true leaves the socket as created (blocking, or setdefaulttimeout's timeout); the default makes it non-blocking. */
  blocking?: boolean;
}

/** A TCP listener with SO_REUSEADDR on the loopback address of its family, port 0 (see portOf). */
export function tcpListener(options: ListenerOptions = {}): Socket {
  const family = options.family ?? AF_INET;
  const s = new Socket(family, SOCK_STREAM);
  try {
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    s.bind([loopback(family), 0]);
    if (options.backlog === undefined) s.listen();
    else s.listen(options.backlog);
    if (options.blocking !== true) s.setblocking(false);
    return s;
  } catch (error) {
    s.close();
    throw error;
  }
}

/** A non-blocking, unconnected IPv4 TCP socket. */
export function tcpSocket(): Socket {
  const s = new Socket(AF_INET, SOCK_STREAM);
  s.setblocking(false);
  return s;
}

/** A connected blocking TCP pair on 127.0.0.1: [client, server side]; the listener is closed. */
export function tcpSocketPair(): [Socket, Socket] {
  const listener = tcpListener({ blocking: true });
  try {
    const client = new Socket();
    client.connect(["127.0.0.1", portOf(listener)]);
    return [client, listener.accept()[0]];
  } finally {
    listener.close();
  }
}

/** A connected AF_UNIX stream pair, non-blocking unless `blocking`. */
export function pair(blocking = false): [Socket, Socket] {
  const [a, b] = socketpair();
  if (!blocking) {
    a.setblocking(false);
    b.setblocking(false);
  }
  return [a, b];
}

/**
 * Makes socketpairs until every number in `fds` (closed now) names one of their ends, and returns
 * `[socket at fd, its peer]` for each, in order; the spare pairs are closed. POSIX gives out the
 * lowest free number, so this reuses a number deterministically even when other fds below it are
 * freed meanwhile (libkqueue closes a closed kqueue's fds late, from its own thread). Throws when
 * a number is not reached within a bounded number of pairs.
 */
export function socketpairsAt(fds: readonly number[], blocking = true): Array<[Socket, Socket]> {
  const found = new Map<number, [Socket, Socket]>();
  const spare: Socket[] = [];
  try {
    for (let i = 0; i < 512 && found.size < fds.length; i++) {
      const [a, b] = pair(blocking);
      let used = false;
      for (const [s, peer] of [
        [a, b],
        [b, a],
      ] as const) {
        if (fds.includes(s.fileno()) && !found.has(s.fileno())) {
          found.set(s.fileno(), [s, peer]);
          used = true;
        }
      }
      if (!used) spare.push(a, b);
    }
  } finally {
    for (const s of spare) s.close();
  }
  if (found.size < fds.length) {
    // A pair found before the failure may be in `found` twice (both ends matched): close each once.
    for (const s of new Set([...found.values()].flat())) s.close();
    throw new Error(`could not reopen fd numbers ${fds.filter((fd) => !found.has(fd)).join(", ")}`);
  }
  return fds.map((fd) => found.get(fd)!);
}

/** A UDP socket bound to the loopback address of `family`, port 0; non-blocking unless `blocking`. */
export function udp(family: number = AF_INET, blocking = true): Socket {
  const s = new Socket(family, SOCK_DGRAM);
  try {
    s.bind([loopback(family), 0]);
    if (!blocking) s.setblocking(false);
    return s;
  } catch (error) {
    s.close();
    throw error;
  }
}

/** A TCP port on `host` that was bound a moment ago and is free now (a connect there is refused). */
export function freePort(host = "127.0.0.1", family: number = AF_INET): number {
  using probe = new Socket(family, SOCK_STREAM);
  probe.bind([host, 0]);
  return portOf(probe);
}

/** A fresh Unix socket path in the temp directory. */
export function unixPath(tag: string): string {
  return join(tmpdir(), `ns-${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`);
}

/** Whether a socket of `type` can bind ::1 here (a machine without IPv6 skips the IPv6 cases). */
export function ipv6Available(type: number = SOCK_STREAM): boolean {
  let fd = -1;
  try {
    fd = lowlevel.socket(AF_INET6, type, 0, true);
    lowlevel.bind(fd, AF_INET6, "::1", 0);
    return true;
  } catch {
    return false;
  } finally {
    if (fd >= 0) lowlevel.close(fd);
  }
}
