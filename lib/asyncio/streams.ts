/**
 * lib/asyncio/streams.ts — asyncio's streams over the Transport: StreamReaderProtocol (feeds a
 * StreamReader, turns write flow control into drain()), StreamWriter, and the module-level
 * startServer / openConnection / startUnixServer / openUnixConnection on the running loop.
 */
import { codedError } from "../errors.js";
import { getRunningLoop } from "../loop/events.js";
import type { EventLoop } from "../loop/loop.js";
import type { Socket } from "../socket.js";
import { checkInt, describe } from "../args.js";
import { createConnection, createServer, createUnixConnection, createUnixServer } from "./connections.js";
import { Protocol } from "./protocols.js";
import type { Server } from "./server.js";
import { DEFAULT_LIMIT, StreamReader } from "./stream-reader.js";
import { abortError, checkSignal } from "../loop/base.js";
import type { Transport, WriteData } from "./transports.js";

/** Called for each connection of a stream server; a returned promise that rejects is reported and closes the connection. */
export type ClientConnected = (reader: StreamReader, writer: StreamWriter) => void | PromiseLike<void>;

function connectionLost(error: Error | null): Error {
  return error ?? codedError("ERR_CONNECTION_LOST", "Connection lost");
}

/** The protocol between a Transport and a StreamReader/StreamWriter pair (asyncio.StreamReaderProtocol). */
export class StreamReaderProtocol extends Protocol {
  readonly #reader: StreamReader;
  readonly #clientConnected: ClientConnected | null;
  #loop: EventLoop;
  #transport: Transport | null = null;
  /** @internal */ _writer: StreamWriter | null = null;
  #paused = false;
  #lost = false;
  #lostError: Error | null = null;
  #drainWaiters: [() => void, (error: Error) => void][] = [];
  #closedWaiters: [() => void, (error: Error) => void][] = [];

  constructor(reader: StreamReader, clientConnected: ClientConnected | null = null, loop: EventLoop = getRunningLoop()) {
    super();
    this.#reader = reader;
    this.#clientConnected = clientConnected;
    this.#loop = loop;
  }

  override connectionMade(transport: Transport): void {
    this.#transport = transport;
    this.#reader.setTransport(transport);
    if (this.#clientConnected === null) return;
    const writer = (this._writer = new StreamWriter(transport, this, this.#reader));
    let result: void | PromiseLike<void>;
    try {
      result = this.#clientConnected(this.#reader, writer);
    } catch (error) {
      return this.#failed(error);
    }
    if (result !== undefined && result !== null && typeof result.then === "function") result.then(undefined, (error: unknown) => this.#failed(error));
  }

  #failed(error: unknown): void {
    this.#loop.callExceptionHandler({ message: "Unhandled exception in client_connected_cb", exception: error, transport: this.#transport });
    this.#transport?.close();
  }

  override dataReceived(data: Buffer): void {
    this.#reader.feedData(data);
  }

  override eofReceived(): boolean {
    this.#reader.feedEof();
    return true;
  }

  override connectionLost(error: Error | null): void {
    this.#lost = true;
    this.#lostError = error;
    if (error === null) this.#reader.feedEof();
    else this.#reader.setException(error);
    const drains = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const [, reject] of drains) reject(connectionLost(error));
    const closed = this.#closedWaiters;
    this.#closedWaiters = [];
    for (const [resolve, reject] of closed) error === null ? resolve() : reject(error);
    this.#transport = null;
  }

  override pauseWriting(): void {
    this.#paused = true;
  }

  override resumeWriting(): void {
    this.#paused = false;
    const drains = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const [resolve] of drains) resolve();
  }

  /** @internal drain(): settled now unless writing is paused. */
  _drain(signal: AbortSignal | undefined): Promise<void> {
    if (this.#lost) return Promise.reject(connectionLost(this.#lostError));
    if (!this.#paused) return Promise.resolve();
    return this.#wait(this.#drainWaiters, signal);
  }

  /** @internal waitClosed(). */
  _closed(): Promise<void> {
    if (this.#lost) return this.#lostError === null ? Promise.resolve() : Promise.reject(this.#lostError);
    return this.#wait(this.#closedWaiters, undefined);
  }

  #wait(list: [() => void, (error: Error) => void][], signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal === undefined) return void list.push([resolve, reject]);
      const entry: [() => void, (error: Error) => void] = [
        () => (signal.removeEventListener("abort", onAbort), resolve()),
        (error) => (signal.removeEventListener("abort", onAbort), reject(error)),
      ];
      const onAbort = (): void => {
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
        reject(abortError(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      list.push(entry);
    });
  }
}

/** Options of drain(). */
export interface DrainOptions {
  signal?: AbortSignal;
}

/** A stream's writing side (asyncio.StreamWriter). */
export class StreamWriter {
  readonly #transport: Transport;
  readonly #protocol: StreamReaderProtocol;
  readonly #reader: StreamReader | null;

  /** @internal Made by startServer/openConnection. */
  constructor(transport: Transport, protocol: StreamReaderProtocol, reader: StreamReader | null) {
    this.#transport = transport;
    this.#protocol = protocol;
    this.#reader = reader;
  }

  /** The Transport underneath. */
  get transport(): Transport {
    return this.#transport;
  }

  /** Writes (buffered past what the kernel takes now); follow with drain() to respect flow control. */
  write(data: WriteData): void {
    this.#transport.write(data);
  }

  writelines(list: Iterable<WriteData>): void {
    this.#transport.writelines(list);
  }

  /**
   * Settles once the write buffer is at its low-water mark (at once when it is not paused);
   * rejects once the connection is lost: with its system error (ECONNRESET, EPIPE...) or ERR_CONNECTION_LOST.
   */
  drain(options?: DrainOptions): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      signal = checkSignal(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const failed = this.#reader?.exception();
    if (failed) return Promise.reject(failed);
    return this.#protocol._drain(signal);
  }

  canWriteEof(): boolean {
    return this.#transport.canWriteEof();
  }

  writeEof(): void {
    this.#transport.writeEof();
  }

  /** Closes the transport (after what is buffered is sent). */
  close(): void {
    this.#transport.close();
  }

  isClosing(): boolean {
    return this.#transport.isClosing();
  }

  /** Settles when the connection is gone (rejects with its error, if it had one). */
  waitClosed(): Promise<void> {
    return this.#protocol._closed();
  }

  getExtraInfo<T = undefined>(name: string, defaultValue?: T): ReturnType<Transport["getExtraInfo"]> | T {
    return this.#transport.getExtraInfo(name, defaultValue);
  }
}

/** Options of startServer. */
export interface StartServerOptions {
  /** The StreamReader limit (default 64 KiB). */
  limit?: number;
  backlog?: number;
  reuseAddress?: boolean;
  reusePort?: boolean;
  sock?: Socket;
  startServing?: boolean;
}

/** Options of openConnection. */
export interface OpenConnectionOptions {
  limit?: number;
  sock?: Socket;
  localAddr?: readonly [host: string, port: number];
  signal?: AbortSignal;
}

function checkLimit(limit: unknown): number {
  return limit === undefined ? DEFAULT_LIMIT : checkInt("options.limit", limit, 1, 0x7fffffff);
}

function checkClientConnected(callback: unknown): void {
  if (typeof callback !== "function")
    throw codedError("ERR_INVALID_ARG_TYPE", `The "clientConnected" argument must be of type function. Received ${describe(callback)}`, "TypeError");
}

/** asyncio.start_server on the running loop: `clientConnected(reader, writer)` per connection. */
export async function startServer(
  clientConnected: ClientConnected,
  host?: string | readonly string[] | null,
  port?: number | null,
  options: StartServerOptions = {},
): Promise<Server> {
  checkClientConnected(clientConnected);
  const limit = checkLimit(options.limit);
  const loop = getRunningLoop();
  return createServer(loop, () => new StreamReaderProtocol(new StreamReader(limit), clientConnected, loop), host, port, options);
}

/** asyncio.start_unix_server on the running loop. */
export async function startUnixServer(
  clientConnected: ClientConnected,
  path?: string | null,
  options: Omit<StartServerOptions, "reuseAddress" | "reusePort"> = {},
): Promise<Server> {
  checkClientConnected(clientConnected);
  const limit = checkLimit(options.limit);
  const loop = getRunningLoop();
  return createUnixServer(loop, () => new StreamReaderProtocol(new StreamReader(limit), clientConnected, loop), path, options);
}

/** asyncio.open_connection on the running loop: [reader, writer]. */
export async function openConnection(host?: string | null, port?: number | null, options: OpenConnectionOptions = {}): Promise<[StreamReader, StreamWriter]> {
  const limit = checkLimit(options.limit);
  const loop = getRunningLoop();
  const reader = new StreamReader(limit);
  const [transport, protocol] = await createConnection(loop, () => new StreamReaderProtocol(reader, null, loop), host, port, options);
  return [reader, new StreamWriter(transport, protocol, reader)];
}

/** asyncio.open_unix_connection on the running loop. */
export async function openUnixConnection(path?: string | null, options: Omit<OpenConnectionOptions, "localAddr"> = {}): Promise<[StreamReader, StreamWriter]> {
  const limit = checkLimit(options.limit);
  const loop = getRunningLoop();
  const reader = new StreamReader(limit);
  const [transport, protocol] = await createUnixConnection(loop, () => new StreamReaderProtocol(reader, null, loop), path, options);
  return [reader, new StreamWriter(transport, protocol, reader)];
}
