/**
 * lib/asyncio/server.ts — asyncio's Server: listening Sockets whose reader accepts every pending
 * connection per wake-up (one batch syscall for up to ACCEPT_BATCH of them), wraps each in a
 * Transport with a protocol from the factory, and counts the live ones so waitClosed() can wait
 * for them. Out of fds (EMFILE...) the accept error goes through the loop's exception handler,
 * which backs the reader off as it does for any reader (lib/loop/io.ts), so the server survives it.
 */
import { constants as osConstants } from "node:os";
import { unlinkSync } from "node:fs";

import { systemError } from "../errors.js";
import type { EventLoop } from "../loop/loop.js";
import { wrapNewFd, type Socket } from "../socket.js";
import { acceptFds, closeFd, wouldBlock } from "../sockio.js";
import type { StreamProtocol } from "./protocols.js";
import { Transport, type TransportOwner } from "./transports.js";

const ECONNABORTED = osConstants.errno.ECONNABORTED;
/** How many connections one accept call takes at most. */
const ACCEPT_BATCH = 128;

/** Makes the protocol of each accepted connection. */
export type ProtocolFactory<P> = () => P;

/** A listening server (asyncio.Server). Made by createServer/startServer and their Unix forms. */
export class Server implements TransportOwner, AsyncDisposable {
  readonly #loop: EventLoop;
  #sockets: Socket[];
  readonly #factory: ProtocolFactory<StreamProtocol>;
  readonly #backlog: number;
  readonly #unixPaths: string[];
  #serving = false;
  #closed = false;
  readonly #clients = new Set<Transport>();
  #closedWaiters: (() => void)[] = [];
  #foreverWaiters: (() => void)[] = [];
  readonly #accepted = new Int32Array(ACCEPT_BATCH);

  /** @internal Use createServer/startServer. */
  constructor(loop: EventLoop, sockets: Socket[], factory: ProtocolFactory<StreamProtocol>, backlog: number, unixPaths: string[] = []) {
    this.#loop = loop;
    this.#sockets = sockets;
    this.#factory = factory;
    this.#backlog = backlog;
    this.#unixPaths = unixPaths;
  }

  /** The loop the server runs on. */
  getLoop(): EventLoop {
    return this.#loop;
  }

  /** The listening Sockets (empty once closed). Do not accept on them or close them yourself. */
  get sockets(): readonly Socket[] {
    return this.#sockets.slice();
  }

  /** Whether the server accepts connections. */
  isServing(): boolean {
    return this.#serving;
  }

  /** Starts accepting connections (no-op when serving or closed). */
  startServing(): Promise<void> {
    if (this.#serving || this.#closed) return Promise.resolve();
    this.#serving = true;
    for (const sock of this.#sockets) {
      sock.listen(this.#backlog);
      this.#loop.addReader(sock, this.#acceptReady, sock);
    }
    return Promise.resolve();
  }

  /** Starts serving if needed and settles once the server is closed (asyncio's serve_forever). */
  serveForever(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    void this.startServing();
    return new Promise((resolve) => this.#foreverWaiters.push(resolve));
  }

  readonly #acceptReady = (listener: Socket): void => {
    const out = this.#accepted;
    const fd = listener.fileno();
    for (;;) {
      if (!this.#serving) return;
      const n = acceptFds(fd, out);
      if (n < 0) {
        if (wouldBlock(n)) return;
        if (n === -ECONNABORTED) continue;
        // EMFILE and kin: thrown to the loop, which reports it and backs this reader off.
        throw systemError(n, "accept");
      }
      for (let i = 0; i < n; i++) this.#serve(listener, out[i]!);
      if (n < out.length) return;
    }
  };

  #serve(listener: Socket, fd: number): void {
    let sock: Socket;
    try {
      sock = wrapNewFd(listener.family, listener.type, listener.proto, fd, 0);
    } catch (error) {
      closeFd(fd);
      this.#loop.callExceptionHandler({ message: "Error wrapping an accepted connection", exception: error });
      return;
    }
    let protocol: StreamProtocol;
    try {
      protocol = this.#factory();
    } catch (error) {
      sock.close();
      this.#loop.callExceptionHandler({ message: "Error in the protocol factory of an accepted connection", exception: error, socket: listener });
      return;
    }
    new Transport(this.#loop, sock, protocol, this);
  }

  /** @internal */
  _attach(transport: Transport): void {
    this.#clients.add(transport);
  }

  /** @internal */
  _detach(transport: Transport): void {
    this.#clients.delete(transport);
    if (this.#clients.size === 0 && this.#closed) this.#wakeClosed();
  }

  /**
   * Stops listening and closes the listening Sockets (a Unix server also unlinks its path). Live
   * connections stay open (see closeClients, abortClients); waitClosed() waits for them.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#serving = false;
    const sockets = this.#sockets;
    this.#sockets = [];
    for (const sock of sockets) {
      this.#loop.removeReader(sock);
      sock.close();
    }
    for (const path of this.#unixPaths) {
      try {
        unlinkSync(path);
      } catch {
        // Removed by someone else already.
      }
    }
    const forever = this.#foreverWaiters;
    this.#foreverWaiters = [];
    for (const wake of forever) wake();
    if (this.#clients.size === 0) this.#wakeClosed();
  }

  #wakeClosed(): void {
    const waiters = this.#closedWaiters;
    this.#closedWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Settles once close() was called and every connection it accepted is gone. */
  waitClosed(): Promise<void> {
    if (this.#closed && this.#clients.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#closedWaiters.push(resolve));
  }

  /** close() on every live connection (each sends what it buffered first). */
  closeClients(): void {
    for (const transport of [...this.#clients]) transport.close();
  }

  /** abort() on every live connection. */
  abortClients(): void {
    for (const transport of [...this.#clients]) transport.abort();
  }

  /** close(), then waitClosed(): `await using server = await loop.createServer(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.waitClosed();
  }
}
