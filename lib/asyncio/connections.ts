/**
 * lib/asyncio/connections.ts — asyncio's create_server / create_connection and their Unix forms
 * on an EventLoop: name resolution (node:dns, which runs whether the loop owns the thread or is
 * attached), listening or connecting Sockets, and the Transport/protocol pair each connection gets.
 * Every Socket a failed call opened is closed before it rejects.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { lstatSync, unlinkSync } from "node:fs";

import { codedError } from "../errors.js";
import type { EventLoop } from "../loop/loop.js";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_REUSEPORT,
  Socket,
  type AddressInput,
} from "../socket.js";
import { checkInt, describe, optionalBoolOption } from "../args.js";
import type { StreamProtocol } from "./protocols.js";
import { Server, type ProtocolFactory } from "./server.js";
import { abortError, checkSignal } from "../loop/base.js";
import { Transport } from "./transports.js";

/** Options of createServer (asyncio's create_server keywords). */
export interface CreateServerOptions {
  /** listen()'s backlog (default 100, as asyncio). */
  backlog?: number;
  /** SO_REUSEADDR (default true, as asyncio on POSIX). */
  reuseAddress?: boolean;
  /** SO_REUSEPORT. */
  reusePort?: boolean;
  /** A bound SOCK_STREAM Socket to serve instead of a host and port; the Server owns it from now on. */
  sock?: Socket;
  /** Start accepting at once (default true); else call startServing() or serveForever(). */
  startServing?: boolean;
}

/** Options of createConnection. */
export interface CreateConnectionOptions {
  /** A connected (or connecting) SOCK_STREAM Socket to use instead of a host and port; the transport owns it from now on. */
  sock?: Socket;
  /** [host, port] to bind before connecting. */
  localAddr?: readonly [host: string, port: number];
  /** Aborting rejects the call (AbortError) and closes what it opened. */
  signal?: AbortSignal;
}

/** Options of createUnixServer. */
export type CreateUnixServerOptions = Omit<CreateServerOptions, "reuseAddress" | "reusePort">;
/** Options of createUnixConnection. */
export type CreateUnixConnectionOptions = Omit<CreateConnectionOptions, "localAddr">;

function checkFactory(factory: unknown): void {
  if (typeof factory !== "function")
    throw codedError("ERR_INVALID_ARG_TYPE", `The "protocolFactory" argument must be of type function. Received ${describe(factory)}`, "TypeError");
}

function checkStreamSocket(sock: unknown): Socket {
  if (!(sock instanceof Socket))
    throw codedError("ERR_INVALID_ARG_TYPE", `The "options.sock" property must be a Socket. Received ${describe(sock)}`, "TypeError");
  if (sock.type !== SOCK_STREAM) throw codedError("ERR_INVALID_ARG_VALUE", "options.sock must be a SOCK_STREAM socket", "TypeError");
  sock.setblocking(false);
  return sock;
}

/**
 * options.sock, checked, when a call is given one in place of its address (`what`: "host/port"
 * or "path", whose argument must then be absent); undefined when it is not given.
 */
function givenSock(options: { sock?: Socket }, what: string, address: unknown): Socket | undefined {
  if (options.sock === undefined) return undefined;
  if (address !== undefined && address !== null)
    throw codedError("ERR_INVALID_ARG_VALUE", `${what} and options.sock can not be specified at the same time`, "TypeError");
  return checkStreamSocket(options.sock);
}

/** The path argument of the Unix calls: a string. */
function checkPath(path: unknown): string {
  if (typeof path !== "string") throw codedError("ERR_INVALID_ARG_TYPE", `The "path" argument must be of type string. Received ${describe(path)}`, "TypeError");
  return path;
}

/** options.backlog: asyncio's 100 when absent. */
function checkBacklog(options: { backlog?: number }): number {
  return options.backlog === undefined ? 100 : checkInt("options.backlog", options.backlog, 0, 0x7fffffff);
}

/**
 * Settles as `work`, or rejects with the AbortError as soon as `signal` aborts (the work itself
 * goes on: a name lookup cannot be stopped, and what it finds is dropped).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * The last step of a connecting call, once its socket and protocol exist: `make(onMade)` makes the
 * transport (which queues connectionMade and calls onMade after it); the promise settles then,
 * with [transport, protocol] or what connectionMade threw. An abort of `signal` before that
 * rejects at once and aborts the transport (its protocol then gets connectionLost(null) after
 * connectionMade, as in asyncio); an abort before the transport is made closes `sock` instead.
 */
export function transportMade<T extends { abort(): void }, P>(
  sock: Socket,
  protocol: P,
  signal: AbortSignal | undefined,
  make: (onMade: (error?: unknown) => void) => T,
): Promise<[T, P]> {
  if (signal?.aborted === true) {
    sock.close();
    return Promise.reject(abortError(signal));
  }
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortError(signal!));
      transport.abort();
    };
    const transport = make((error) => {
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) resolve([transport, protocol]);
      else reject(error);
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The addresses a host names: literals as they are, names through node:dns (all families). */
export async function resolveHost(host: string): Promise<[family: number, address: string][]> {
  const literal = isIP(host);
  if (literal !== 0) return [[literal === 6 ? AF_INET6 : AF_INET, host]];
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map(({ address, family }) => [family === 6 ? AF_INET6 : AF_INET, address]);
}

/** The addresses a server listens on: `host` (or every host of a list); omitted or "": every IPv4 and IPv6 interface. */
async function listenAddresses(host: string | readonly string[] | undefined | null): Promise<[number, string][]> {
  if (host === undefined || host === null || host === "")
    return [
      [AF_INET, "0.0.0.0"],
      [AF_INET6, "::"],
    ];
  const hosts = typeof host === "string" ? [host] : host;
  const all: [number, string][] = [];
  for (const h of hosts) {
    if (typeof h !== "string")
      throw codedError("ERR_INVALID_ARG_TYPE", `The "host" argument must be a string or an array of strings. Received ${describe(h)}`, "TypeError");
    for (const entry of await resolveHost(h)) if (!all.some(([f, a]) => f === entry[0] && a === entry[1])) all.push(entry);
  }
  return all;
}

/** asyncio's loop.create_server: a Server listening on host:port (or on options.sock), serving at once unless startServing is false. */
export async function createServer(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<StreamProtocol>,
  host?: string | readonly string[] | null,
  port?: number | null,
  options: CreateServerOptions = {},
): Promise<Server> {
  checkFactory(protocolFactory);
  const backlog = checkBacklog(options);
  const reuseAddress = optionalBoolOption(options, "reuseAddress", true);
  const reusePort = optionalBoolOption(options, "reusePort", false);
  const start = optionalBoolOption(options, "startServing", true);
  if (reusePort && SO_REUSEPORT === undefined) throw codedError("ERR_INVALID_ARG_VALUE", "SO_REUSEPORT is not supported on this platform", "TypeError");
  const sockets: Socket[] = [];
  const given = givenSock(options, "host/port", host);
  if (given !== undefined) {
    sockets.push(given);
  } else {
    const listenPort = port === undefined || port === null ? 0 : checkInt("port", port, 0, 65535);
    const addresses = await listenAddresses(host);
    try {
      for (const [family, address] of addresses) {
        const sock = new Socket(family, SOCK_STREAM);
        sockets.push(sock);
        if (reuseAddress) sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
        if (reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT!, 1);
        // As asyncio: an IPv6 listener takes IPv6 only, so that "::" and "0.0.0.0" can share a port.
        if (family === AF_INET6) sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
        try {
          sock.bind([address, listenPort]);
        } catch (error) {
          // No IPv6 on this host: the wildcard list goes on without it, as asyncio skips such addresses.
          const code = (error as { code?: string }).code;
          if ((host === undefined || host === null || host === "") && family === AF_INET6 && (code === "EADDRNOTAVAIL" || code === "EAFNOSUPPORT")) {
            sockets.pop()!.close();
            continue;
          }
          if (error instanceof Error) error.message += ` (while attempting to bind on address ['${address}', ${listenPort}])`;
          throw error;
        }
        sock.setblocking(false);
      }
    } catch (error) {
      for (const sock of sockets) sock.close();
      throw error;
    }
  }
  const server = new Server(loop, sockets, protocolFactory, backlog);
  if (start) await server.startServing();
  return server;
}

/** asyncio's loop.create_unix_server: a Server on the Unix socket `path` (a stale socket file there is removed first; close() removes it). */
export async function createUnixServer(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<StreamProtocol>,
  path?: string | null,
  options: CreateUnixServerOptions = {},
): Promise<Server> {
  checkFactory(protocolFactory);
  const backlog = checkBacklog(options);
  const start = optionalBoolOption(options, "startServing", true);
  const paths: string[] = [];
  let sock = givenSock(options, "path", path);
  if (sock === undefined) {
    const unixPath = checkPath(path);
    try {
      if (lstatSync(unixPath).isSocket()) unlinkSync(unixPath);
    } catch {
      // Nothing there: the usual case.
    }
    sock = new Socket(AF_UNIX, SOCK_STREAM);
    try {
      sock.bind(unixPath);
      sock.setblocking(false);
    } catch (error) {
      sock.close();
      throw error;
    }
    paths.push(unixPath);
  }
  const server = new Server(loop, [sock], protocolFactory, backlog, paths);
  if (start) await server.startServing();
  return server;
}

/** Connects `sock` to `address` through the loop, closing it on failure. */
async function connectSocket(loop: EventLoop, sock: Socket, address: AddressInput, signal: AbortSignal | undefined): Promise<void> {
  try {
    sock.setblocking(false);
    await loop.sockConnect(sock, address as never, { signal });
  } catch (error) {
    sock.close();
    throw error;
  }
}

/**
 * asyncio's loop.create_connection: connects to host:port (each address the name resolves to, in
 * order, until one connects; the last failure otherwise) and resolves to [transport, protocol]
 * once protocol.connectionMade has run.
 */
export async function createConnection<P extends StreamProtocol>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  host?: string | null,
  port?: number | null,
  options: CreateConnectionOptions = {},
): Promise<[Transport, P]> {
  checkFactory(protocolFactory);
  const signal = checkSignal(options);
  let sock = givenSock(options, "host/port", host);
  if (sock === undefined) {
    if (typeof host !== "string")
      throw codedError("ERR_INVALID_ARG_TYPE", `The "host" argument must be of type string. Received ${describe(host)}`, "TypeError");
    const remotePort = checkInt("port", port, 0, 65535);
    const local = options.localAddr;
    let last: unknown = codedError("ERR_SOCKET_CONNECTION_FAILED", `${host} resolved to no address`);
    let connected: Socket | null = null;
    for (const [family, address] of await untilAborted(resolveHost(host), signal)) {
      checkSignal(options);
      const attempt = new Socket(family, SOCK_STREAM);
      try {
        if (local !== undefined) attempt.bind([local[0], local[1]]);
      } catch (error) {
        attempt.close();
        last = error;
        continue;
      }
      try {
        await connectSocket(loop, attempt, [address, remotePort], signal);
        connected = attempt;
        break;
      } catch (error) {
        if ((error as { code?: string }).code === "ABORT_ERR") throw error;
        last = error;
      }
    }
    if (connected === null) throw last;
    sock = connected;
  }
  return makeClient(loop, sock, protocolFactory, signal);
}

/** asyncio's loop.create_unix_connection: connects to the Unix socket `path`. */
export async function createUnixConnection<P extends StreamProtocol>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  path?: string | null,
  options: CreateUnixConnectionOptions = {},
): Promise<[Transport, P]> {
  checkFactory(protocolFactory);
  const signal = checkSignal(options);
  let sock = givenSock(options, "path", path);
  if (sock === undefined) {
    const unixPath = checkPath(path);
    sock = new Socket(AF_UNIX, SOCK_STREAM);
    await connectSocket(loop, sock, unixPath, signal);
  }
  return makeClient(loop, sock, protocolFactory, signal);
}

/** The protocol from the factory and a Transport over `sock`, settled once connectionMade has run. */
function makeClient<P extends StreamProtocol>(
  loop: EventLoop,
  sock: Socket,
  protocolFactory: ProtocolFactory<P>,
  signal: AbortSignal | undefined,
): Promise<[Transport, P]> {
  let protocol: P;
  try {
    protocol = protocolFactory();
  } catch (error) {
    sock.close();
    return Promise.reject(error);
  }
  return transportMade(sock, protocol, signal, (onMade) => new Transport(loop, sock, protocol, null, onMade));
}
