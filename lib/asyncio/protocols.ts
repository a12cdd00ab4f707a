/**
 * lib/asyncio/protocols.ts — the Protocol base classes of asyncio's protocols.py, in camelCase:
 * what a Transport calls as its connection lives. Subclass one and override what you need; every
 * method here does nothing (eofReceived returns undefined: the transport closes itself).
 *
 * Order of the calls on a stream protocol: connectionMade once; then dataReceived (or, for a
 * BufferedProtocol, getBuffer + bufferUpdated) any number of times; then eofReceived at most once;
 * then connectionLost exactly once. pauseWriting and resumeWriting alternate, starting with
 * pauseWriting, and may come between connectionMade and connectionLost. Also the two helpers the
 * stream transport gives a BufferedProtocol its bytes with (bufferOf, feedBuffered).
 */
import { codedError } from "../errors.js";
import type { SocketAddress } from "../native.js";

/** What every transport has (transports.ts implements it). */
export interface BaseTransport {
  getExtraInfo<T = unknown>(name: string, defaultValue?: T): T | unknown;
  isClosing(): boolean;
  close(): void;
}

/** Callbacks common to every protocol. */
export class BaseProtocol {
  /** The connection is made: `transport` is its transport. Called once, first. */
  connectionMade(_transport: never): void {}
  /** The connection is gone: `error` is why (a system error such as ECONNRESET), null for a clean close or EOF. Called once, last. */
  connectionLost(_error: Error | null): void {}
  /** The transport's write buffer went over its high-water mark. */
  pauseWriting(): void {}
  /** The transport's write buffer drained to its low-water mark. */
  resumeWriting(): void {}
}

/**
 * A stream protocol. `dataReceived(data)` gets the bytes of one recv, as a view that may share a
 * receive slab with other connections (as a pooled Buffer shares Node's pool): the bytes never
 * change, but copy a small piece you keep for long (`Buffer.from(data)`) so it does not pin a slab.
 */
export class Protocol extends BaseProtocol {
  override connectionMade(_transport: import("./transports.js").Transport): void {}
  dataReceived(_data: Buffer): void {}
  /** The peer closed its write side. Return true to keep this side open for writing; else the transport closes. */
  eofReceived(): boolean | void {}
}

/**
 * A stream protocol that receives into its own memory: getBuffer(sizeHint) returns where the next
 * bytes go (a non-empty Uint8Array), then bufferUpdated(n) says how many came. On EventLoop the
 * recv writes there (sizeHint -1: any size will do), which saves a copy where the protocol parses
 * in place; on ProactorEventLoop a received chunk is copied there (sizeHint: the bytes left of it,
 * given in as many getBuffer/bufferUpdated rounds as the buffers need).
 */
export class BufferedProtocol extends BaseProtocol {
  override connectionMade(_transport: import("./transports.js").Transport): void {}
  getBuffer(_sizeHint: number): Uint8Array {
    throw new Error("BufferedProtocol subclasses must implement getBuffer()");
  }
  bufferUpdated(_nbytes: number): void {}
  eofReceived(): boolean | void {}
}

/** A datagram protocol (createDatagramEndpoint). */
export class DatagramProtocol extends BaseProtocol {
  override connectionMade(_transport: import("./datagram.js").DatagramTransport): void {}
  /** One datagram and its sender (null when the kernel gives none). */
  datagramReceived(_data: Buffer, _address: SocketAddress | null): void {}
  /** A send or receive failed (e.g. ECONNREFUSED from an ICMP reply on a connected endpoint); the endpoint stays open. */
  errorReceived(_error: Error): void {}
}

/** What createServer/createConnection accept as the protocol: a Protocol or a BufferedProtocol. */
export type StreamProtocol = Protocol | BufferedProtocol;

/** @internal getBuffer(sizeHint), checked: throws ERR_INVALID_RETURN_VALUE unless it is a non-empty Uint8Array. */
export function bufferOf(protocol: BufferedProtocol, sizeHint: number): Uint8Array {
  const buffer = protocol.getBuffer(sizeHint);
  if (!(buffer instanceof Uint8Array) || buffer.length === 0) throw codedError("ERR_INVALID_RETURN_VALUE", "getBuffer() must return a non-empty Uint8Array");
  return buffer;
}

/**
 * @internal Copies received bytes into a BufferedProtocol, as CPython's proactor transports feed one:
 * getBuffer(bytes left) and bufferUpdated(n) until all is taken (getBuffer may give less each
 * time) or the transport is closing. Returns null, or which call failed and its error.
 */
export function feedBuffered(protocol: BufferedProtocol, data: Uint8Array, transport: BaseTransport): [message: string, error: unknown] | null {
  let offset = 0;
  while (offset < data.length && !transport.isClosing()) {
    let buffer: Uint8Array;
    try {
      buffer = bufferOf(protocol, data.length - offset);
    } catch (error) {
      return ["getBuffer() failed", error];
    }
    const n = Math.min(buffer.length, data.length - offset);
    buffer.set(data.subarray(offset, offset + n));
    offset += n;
    try {
      protocol.bufferUpdated(n);
    } catch (error) {
      return ["bufferUpdated() failed", error];
    }
  }
  return null;
}
