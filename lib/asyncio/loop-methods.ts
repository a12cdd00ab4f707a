/**
 * lib/asyncio/loop-methods.ts — EventLoop's asyncio-layer methods (asyncio's loop.create_server,
 * create_connection, create_unix_server, create_unix_connection, create_datagram_endpoint, and
 * loop.timeout). The asyncio layer sits above the loop, so the loop does not import it: this
 * module declares the methods on EventLoop's type (a module augmentation) and installs them on
 * its prototype when lib/index.ts loads it. Each is a thin delegation to the function that does
 * the work, documented there.
 */
import { EventLoop } from "../loop/loop.js";
import {
  createConnection,
  createServer,
  createUnixConnection,
  createUnixServer,
  type CreateConnectionOptions,
  type CreateServerOptions,
  type CreateUnixConnectionOptions,
  type CreateUnixServerOptions,
} from "./connections.js";
import { createDatagramEndpoint, type DatagramEndpointOptions, type DatagramTransport } from "./datagram.js";
import type { DatagramProtocol, StreamProtocol } from "./protocols.js";
import type { ProtocolFactory, Server } from "./server.js";
import { loopTimeout } from "./timeouts.js";
import type { Transport } from "./transports.js";

declare module "../loop/loop.js" {
  interface EventLoop {
    /** asyncio's create_server (lib/asyncio/connections.ts). */
    createServer(
      protocolFactory: ProtocolFactory<StreamProtocol>,
      host?: string | readonly string[] | null,
      port?: number | null,
      options?: CreateServerOptions,
    ): Promise<Server>;
    /** asyncio's create_connection: [transport, protocol] once connectionMade ran (lib/asyncio/connections.ts). */
    createConnection<P extends StreamProtocol>(
      protocolFactory: ProtocolFactory<P>,
      host?: string | null,
      port?: number | null,
      options?: CreateConnectionOptions,
    ): Promise<[Transport, P]>;
    /** asyncio's create_unix_server (lib/asyncio/connections.ts). */
    createUnixServer(protocolFactory: ProtocolFactory<StreamProtocol>, path?: string | null, options?: CreateUnixServerOptions): Promise<Server>;
    /** asyncio's create_unix_connection (lib/asyncio/connections.ts). */
    createUnixConnection<P extends StreamProtocol>(
      protocolFactory: ProtocolFactory<P>,
      path?: string | null,
      options?: CreateUnixConnectionOptions,
    ): Promise<[Transport, P]>;
    /** asyncio's create_datagram_endpoint (lib/asyncio/datagram.ts). */
    createDatagramEndpoint<P extends DatagramProtocol>(protocolFactory: ProtocolFactory<P>, options?: DatagramEndpointOptions): Promise<[DatagramTransport, P]>;
    /** An AbortSignal aborted after `seconds` on this loop's clock, reason ETIMEDOUT (lib/asyncio/timeouts.ts). */
    timeout(seconds: number): AbortSignal;
  }
}

/** The methods, installed as non-enumerable like a class's own. */
const methods: Pick<EventLoop, "createServer" | "createConnection" | "createUnixServer" | "createUnixConnection" | "createDatagramEndpoint" | "timeout"> = {
  createServer(this: EventLoop, protocolFactory, host, port, options) {
    return createServer(this, protocolFactory, host, port, options);
  },
  createConnection(this: EventLoop, protocolFactory, host, port, options) {
    return createConnection(this, protocolFactory, host, port, options);
  },
  createUnixServer(this: EventLoop, protocolFactory, path, options) {
    return createUnixServer(this, protocolFactory, path, options);
  },
  createUnixConnection(this: EventLoop, protocolFactory, path, options) {
    return createUnixConnection(this, protocolFactory, path, options);
  },
  createDatagramEndpoint(this: EventLoop, protocolFactory, options) {
    return createDatagramEndpoint(this, protocolFactory, options);
  },
  timeout(this: EventLoop, seconds) {
    return loopTimeout(this, seconds);
  },
};
for (const [name, method] of Object.entries(methods)) {
  Object.defineProperty(EventLoop.prototype, name, { value: method, writable: true, configurable: true, enumerable: false });
}
