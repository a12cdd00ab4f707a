/**
 * lib/args.ts — the one argument policy of the TypeScript layers (Socket, the loop's sock* calls,
 * the selectors, the socket functions), in the message style of Node's own errors and of
 * `native/args.cc`: `The "name" argument must be <what>. Received <describe(value)>`.
 *
 * A value of the wrong type is ERR_INVALID_ARG_TYPE (TypeError), a number out of range or not an
 * integer ERR_OUT_OF_RANGE (RangeError), a value of the right type that names nothing valid
 * ERR_INVALID_ARG_VALUE.
 */
import { Buffer, constants as bufferConstants } from "node:buffer";
import { Socket as DgramSocket } from "node:dgram";
import { Socket as NetSocket } from "node:net";

import { codedError } from "./errors.js";

/** The largest Buffer this Node can make. */
const MAX_BUFFER = bufferConstants.MAX_LENGTH;

/**
 * A value as Node's argument errors (and native/args.cc's DescribeValue) describe it: "undefined",
 * "null", "type number (16)", "type string ('16')", "type boolean (true)", "type symbol",
 * "function f", "an instance of Map"; a node:net or node:dgram Socket is "an instance of node:net
 * Socket", so it does not read like this package's Socket.
 */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an instance of Array";
  if (typeof value === "function") return `function ${value.name || "<anonymous>"}`;
  if (typeof value === "object") {
    const foreign = foreignSocket(value);
    if (foreign !== undefined) return `an instance of ${foreign} Socket`;
    return `an instance of ${safeString(() => (value as object).constructor?.name ?? "Object")}`;
  }
  if (typeof value === "string") return `type string ('${value.length > 28 ? value.slice(0, 25) + "..." : value}')`;
  if (typeof value === "symbol" || typeof value === "bigint") return `type ${typeof value}`;
  return `type ${typeof value} (${String(value)})`;
}

/**
 * "node:net" for a node:net Socket (a tls.TLSSocket too), "node:dgram" for a node:dgram Socket,
 * else undefined: the sockets of Node's own modules, which libuv owns and which have no fileno().
 * Used to name them in argument errors, where "an instance of Socket" would read like ours.
 */
export function foreignSocket(value: unknown): "node:net" | "node:dgram" | undefined {
  if (value instanceof NetSocket) return "node:net";
  if (value instanceof DgramSocket) return "node:dgram";
  return undefined;
}

/** make()'s text, or "<unprintable>" when it throws (an object whose toString throws). */
export function safeString(make: () => string): string {
  try {
    return make();
  } catch {
    return "<unprintable>";
  }
}

/** ERR_INVALID_ARG_TYPE: `The "name" argument must be <expected>. Received <value>`. */
export function argTypeError(name: string, expected: string, value: unknown): Error {
  return codedError("ERR_INVALID_ARG_TYPE", `The "${name}" argument must be ${expected}. Received ${describe(value)}`, "TypeError");
}

/** options[name] as a boolean: `fallback` when absent, else ERR_INVALID_ARG_TYPE unless a boolean. */
export function optionalBoolOption(options: object, name: string, fallback: boolean): boolean {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean")
    throw codedError("ERR_INVALID_ARG_TYPE", `The "options.${name}" property must be of type boolean. Received ${describe(value)}`, "TypeError");
  return value;
}

/** An integer in [min, max], else ERR_INVALID_ARG_TYPE (not a number) or ERR_OUT_OF_RANGE. */
export function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") throw argTypeError(name, "of type number", value);
  if (!Number.isInteger(value) || value < min || value > max)
    throw codedError(
      "ERR_OUT_OF_RANGE",
      `The value of "${name}" is out of range. It must be an integer >= ${min} and <= ${max}. Received ${value}`,
      "RangeError",
    );
  return value;
}

/** A recv size: an integer from 0 to the largest Buffer. */
export function checkBufsize(value: unknown, name = "bufsize"): number {
  // The common case costs three comparisons; anything else gets checkInt's error.
  if (typeof value === "number" && value >= 0 && value <= MAX_BUFFER && Math.floor(value) === value) return value;
  return checkInt(name, value, 0, MAX_BUFFER);
}

/** How many bytes of `buffer` a recv*Into call may fill: its first `nbytes` (0 or omitted: all of it). */
export function intoLength(buffer: unknown, nbytes: unknown): number {
  if (!ArrayBuffer.isView(buffer)) throw argTypeError("buffer", "an instance of Buffer, TypedArray, or DataView", buffer);
  const length = buffer.byteLength;
  if (nbytes === undefined || nbytes === 0) return length;
  checkInt("nbytes", nbytes, 0, MAX_BUFFER);
  if ((nbytes as number) > length)
    throw codedError(
      "ERR_OUT_OF_RANGE",
      `The value of "nbytes" is out of range. It must be <= the buffer's length (${length}). Received ${nbytes as number}`,
      "RangeError",
    );
  return nbytes as number;
}

/** The bytes of `data` (a string as UTF-8), or ERR_INVALID_ARG_TYPE for anything else. */
export function toBytes(data: string | NodeJS.ArrayBufferView): NodeJS.ArrayBufferView {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (!ArrayBuffer.isView(data)) throw argTypeError("data", "a string, Buffer, TypedArray, or DataView", data);
  return data;
}

/** The largest fd number. */
const MAX_FD = 0x7fffffff;

/** Python's `_fileobj_to_fd`: the fd of an int or of an object's `fileno()`. */
export function fileobjToFd(fileobj: unknown): number {
  let fd: unknown;
  if (typeof fileobj === "number") {
    fd = fileobj;
  } else if (
    fileobj !== null &&
    (typeof fileobj === "object" || typeof fileobj === "function") &&
    typeof (fileobj as { fileno(): unknown }).fileno === "function"
  ) {
    try {
      fd = (fileobj as { fileno(): unknown }).fileno();
    } catch (cause) {
      const error = codedError(
        "ERR_INVALID_FD",
        `Invalid file object: fileno() threw (${cause instanceof Error ? cause.message : String(cause)})`,
        "TypeError",
      );
      (error as Error & { cause?: unknown }).cause = cause;
      throw error;
    }
    if (typeof fd !== "number" || !Number.isInteger(fd))
      throw codedError("ERR_INVALID_FD", `Invalid file object: fileno() returned ${describe(fd)}`, "TypeError");
  } else {
    const foreign = foreignSocket(fileobj);
    if (foreign !== undefined)
      throw codedError(
        "ERR_INVALID_FD",
        `Invalid file object: a ${foreign} Socket has no fileno() (libuv owns its fd); pass a native-selectors Socket or an fd`,
        "TypeError",
      );
    throw codedError("ERR_INVALID_FD", `Invalid file object: ${describe(fileobj)}`, "TypeError");
  }
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0 || fd > MAX_FD)
    throw codedError("ERR_INVALID_FD", `Invalid file descriptor: ${describe(fd)}`, "RangeError");
  return fd;
}
