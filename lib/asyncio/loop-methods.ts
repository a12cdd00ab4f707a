/**
 * lib/asyncio/loop-methods.ts — what EventLoop's asyncio-layer methods delegate to (lib/loop.ts
 * has one thin method per function here). Nothing here imports lib/loop.ts's values, so the
 * import cycle loop.ts → asyncio/ is type-only the other way.
 */
export { createServer, createConnection, createUnixServer, createUnixConnection } from "./connections.js";
export type { CreateServerOptions, CreateConnectionOptions, CreateUnixServerOptions, CreateUnixConnectionOptions } from "./connections.js";
export { createDatagramEndpoint, type DatagramEndpointOptions, type DatagramTransport } from "./datagram.js";
export { loopTimeout } from "./timeouts.js";
export type { DatagramProtocol, StreamProtocol } from "./protocols.js";
export type { Server, ProtocolFactory } from "./server.js";
export type { Transport } from "./transports.js";
