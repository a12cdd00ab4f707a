/**
 * lib/asyncio/datagram.ts — asyncio's create_datagram_endpoint and its DatagramTransport over a
 * non-blocking SOCK_DGRAM Socket (UDP, or AF_UNIX datagrams): one recvfrom per readable wake,
 * datagramReceived per datagram; sendto straight to the kernel, queued only when it is full.
 * Errors of one datagram (ECONNREFUSED after an ICMP reply...) go to errorReceived; the endpoint
 * stays open. Flow control at the queue's limits and the closing are the stream transport's too
 * (flow-control.ts).
 */
import { codedError, systemError } from "../errors.js";
import type { EventLoop } from "../loop/loop.js";
import type { SocketAddress } from "../native.js";
import { AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, SOL_SOCKET, SO_REUSEPORT, Socket, type AddressInput } from "../socket.js";
import { describe } from "../args.js";
import { recvfromBytes, wouldBlock } from "../sockio.js";
import type { DatagramProtocol } from "./protocols.js";
import type { ProtocolFactory } from "./server.js";
import { checkSignal } from "../loop/base.js";
import { resolveHost, transportMade, untilAborted } from "./connections.js";
import { FlowControlTransport } from "./flow-control.js";
import type { WriteData } from "./transports.js";

/** The largest UDP payload: one recvfrom reads a whole datagram. */
const MAX_DATAGRAM = 65536;

/** Options of createDatagramEndpoint. */
export interface DatagramEndpointOptions {
  /** Bind here: [host, port], or a path for AF_UNIX. */
  localAddr?: readonly [host: string, port: number] | string;
  /** Connect here (sendto then takes no address, and only this peer's datagrams arrive). */
  remoteAddr?: readonly [host: string, port: number] | string;
  /** SO_REUSEPORT. */
  reusePort?: boolean;
  /** A SOCK_DGRAM Socket to use instead; the transport owns it from now on. */
  sock?: Socket;
  /** Aborting rejects the call (AbortError) until connectionMade has run, and closes what it opened. */
  signal?: AbortSignal;
}

/** A datagram transport (asyncio.DatagramTransport). Made by createDatagramEndpoint. */
export class DatagramTransport extends FlowControlTransport<DatagramProtocol> {
  readonly #connected: boolean;
  /** Datagrams the kernel did not take yet, in order; _size is their total. */
  #queue: [Uint8Array, AddressInput | undefined][] = [];
  readonly #onReadable = (): void => this.#readReady();
  readonly #onWritable = (): void => this.#flush();

  /** @internal */
  constructor(loop: EventLoop, sock: Socket, protocol: DatagramProtocol, connected: boolean, onMade: (error?: unknown) => void) {
    super(loop, sock, protocol);
    this.#connected = connected;
    loop.callSoon(() => {
      try {
        protocol.connectionMade(this);
      } catch (error) {
        this._forceClose(error instanceof Error ? error : new Error(String(error)));
        return onMade(error);
      }
      if (!this._closing) loop.addReader(this._fd, this.#onReadable);
      onMade();
    });
  }

  #readReady(): void {
    if (this._lost) return;
    const r = recvfromBytes(this._fd, MAX_DATAGRAM);
    try {
      if (typeof r === "number") {
        if (!wouldBlock(r)) this._protocol.errorReceived(systemError(r, "recvfrom"));
        return;
      }
      this._protocol.datagramReceived(r[0], r[1]);
    } catch (error) {
      this._fatal(error, "a datagram protocol callback failed");
    }
  }

  /**
   * Sends one datagram: to `address`, or to the remote address of a connected endpoint (which
   * takes no other address: ERR_INVALID_ARG_VALUE). A send that fails goes to errorReceived.
   */
  sendto(data: WriteData, address?: AddressInput): void {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : ArrayBuffer.isView(data) ? data : undefined;
    if (bytes === undefined)
      throw codedError("ERR_INVALID_ARG_TYPE", `The "data" argument must be a string or a Buffer. Received ${describe(data)}`, "TypeError");
    if (this.#connected && address !== undefined)
      throw codedError("ERR_INVALID_ARG_VALUE", "a connected endpoint sends to its remote address only", "TypeError");
    if (!this.#connected && address === undefined)
      throw codedError("ERR_INVALID_ARG_VALUE", "sendto() needs an address on an endpoint without remoteAddr", "TypeError");
    if (this._closing) return;
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this._size === 0 && this.#send(view, address)) return;
    this.#queue.push([Buffer.from(view), address]);
    this._size += view.byteLength;
    if (this.#queue.length === 1) this._loop.addWriter(this._fd, this.#onWritable);
    this._maybePause();
  }

  /** One send; false when the kernel's buffer is full (queue it). */
  #send(view: Uint8Array, address: AddressInput | undefined): boolean {
    try {
      if (address === undefined) this._sock.send(view);
      else this._sock.sendto(view, address);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "EAGAIN" || code === "EWOULDBLOCK") return false;
      if (error instanceof Error && typeof (error as NodeJS.ErrnoException).errno === "number") this._protocol.errorReceived(error);
      else throw error;
    }
    return true;
  }

  #flush(): void {
    if (this._lost) return;
    while (this.#queue.length > 0) {
      const [view, address] = this.#queue[0]!;
      if (!this.#send(view, address)) return this._maybeResume();
      this.#queue.shift();
      this._size -= view.byteLength;
    }
    this._loop.removeWriter(this._fd);
    this._maybeResume();
    if (this._closing) this._scheduleLost(null);
  }

  /** @internal */
  protected override _dropBuffer(): void {
    this.#queue = [];
  }

  /** 'peername' (connected only), 'sockname' or 'socket'; else `defaultValue`. */
  getExtraInfo<T = undefined>(name: string, defaultValue?: T): SocketAddress | Socket | T | undefined {
    if (name === "socket") return this._sock;
    try {
      if (name === "sockname") return this._sock.getsockname();
      if (name === "peername" && this.#connected) return this._sock.getpeername();
    } catch {
      // Closed: no address.
    }
    return defaultValue;
  }

  getProtocol(): DatagramProtocol {
    return this._protocol;
  }
}

/** The [family, address] to use for a local or remote address (a path: AF_UNIX). */
async function endpointAddress(address: readonly [string, number] | string): Promise<[number, AddressInput][]> {
  if (typeof address === "string") return [[AF_UNIX, address]];
  if (!Array.isArray(address) || address.length !== 2)
    throw codedError("ERR_INVALID_ARG_TYPE", `An address must be [host, port] or a path. Received ${describe(address)}`, "TypeError");
  return (await resolveHost(address[0])).map(([family, host]) => [family, [host, address[1]] as const]);
}

/** asyncio's loop.create_datagram_endpoint: [transport, protocol] once connectionMade has run. */
export async function createDatagramEndpoint<P extends DatagramProtocol>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  options: DatagramEndpointOptions = {},
): Promise<[DatagramTransport, P]> {
  if (typeof protocolFactory !== "function")
    throw codedError("ERR_INVALID_ARG_TYPE", `The "protocolFactory" argument must be of type function. Received ${describe(protocolFactory)}`, "TypeError");
  const signal = checkSignal(options);
  let sock: Socket;
  let connected = false;
  if (options.sock !== undefined) {
    if (!(options.sock instanceof Socket) || options.sock.type !== SOCK_DGRAM)
      throw codedError("ERR_INVALID_ARG_VALUE", "options.sock must be a SOCK_DGRAM Socket", "TypeError");
    sock = options.sock;
    sock.setblocking(false);
    try {
      sock.getpeername();
      connected = true;
    } catch {
      connected = false;
    }
  } else {
    const local = options.localAddr === undefined ? undefined : await untilAborted(endpointAddress(options.localAddr), signal);
    const remote = options.remoteAddr === undefined ? undefined : await untilAborted(endpointAddress(options.remoteAddr), signal);
    if (local === undefined && remote === undefined)
      throw codedError("ERR_INVALID_ARG_VALUE", "createDatagramEndpoint needs localAddr, remoteAddr or sock", "TypeError");
    const family = (remote ?? local)![0]![0];
    const localFor = local?.find(([f]) => f === family);
    const remoteFor = remote?.find(([f]) => f === family);
    if ((local !== undefined && localFor === undefined) || (remote !== undefined && remoteFor === undefined))
      throw codedError("ERR_INVALID_ARG_VALUE", "localAddr and remoteAddr are of different address families", "TypeError");
    sock = new Socket(family, SOCK_DGRAM);
    try {
      sock.setblocking(false);
      if (options.reusePort === true) {
        if (SO_REUSEPORT === undefined || family === AF_UNIX) throw codedError("ERR_INVALID_ARG_VALUE", "SO_REUSEPORT is not supported here", "TypeError");
        sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
      }
      if (localFor !== undefined) sock.bind(localFor[1] as never);
      else if (family === AF_INET || family === AF_INET6) sock.bind([family === AF_INET ? "0.0.0.0" : "::", 0]);
      if (remoteFor !== undefined) {
        await loop.sockConnect(sock, remoteFor[1] as never, { signal });
        connected = true;
      }
    } catch (error) {
      sock.close();
      throw error;
    }
  }
  let protocol: P;
  try {
    protocol = protocolFactory();
  } catch (error) {
    sock.close();
    throw error;
  }
  return transportMade(sock, protocol, signal, (onMade) => new DatagramTransport(loop, sock, protocol, connected, onMade));
}
