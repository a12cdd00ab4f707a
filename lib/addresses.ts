/**
 * lib/addresses.ts — socket addresses: the shapes a `Socket<F>` takes and returns (typed by its
 * family), the one check that turns an address argument into the native (host, port, flowinfo,
 * scopeId) arguments — shared by Socket and the loop's sockConnect/sockSendto — the family check,
 * and how an address reads in messages and inspect output.
 */
import { argTypeError, checkInt, describe, safeString } from "./args.js";
import { codedError } from "./errors.js";
import type { Inet4Address, Inet6Address, SocketAddress } from "./native.js";
import { AF_INET, AF_INET6, AF_UNIX } from "./socket-constants.js";

/**
 * An address as `bind`/`connect` take it: `[host, port]` for AF_INET, `[host, port, flowinfo?,
 * scopeId?]` for AF_INET6, a path string for AF_UNIX (a leading NUL names a Linux abstract socket).
 * Host names such as 'localhost' are resolved; '' means any address.
 */
export type AddressInput = string | readonly [host: string, port: number] | readonly [host: string, port: number, flowinfo?: number, scopeId?: number];

/**
 * The address a `Socket<F>` returns from getsockname(), getpeername(), accept() and recvfrom():
 * `[host, port]` for AF_INET, `[host, port, flowinfo, scopeId]` for AF_INET6, a path string for
 * AF_UNIX, and any of these (SocketAddress) when the family is only known as a number.
 */
export type SocketAddressOf<F extends number> = F extends AF_INET
  ? Inet4Address
  : F extends AF_INET6
    ? Inet6Address
    : F extends AF_UNIX
      ? string
      : SocketAddress;

/**
 * The address a `Socket<F>` takes in bind(), connect(), connectEx() and sendto(): `[host, port]`
 * for AF_INET, `[host, port, flowinfo?, scopeId?]` for AF_INET6, a path for AF_UNIX, and any of
 * these (AddressInput) when the family is only known as a number.
 */
export type AddressInputOf<F extends number> = F extends AF_INET
  ? readonly [host: string, port: number]
  : F extends AF_INET6
    ? readonly [host: string, port: number, flowinfo?: number, scopeId?: number]
    : F extends AF_UNIX
      ? string
      : AddressInput;

/** The native (hostOrPath, port, flowinfo, scopeId) arguments for an address of a family. */
export type NativeAddress = [hostOrPath: string, port?: number, flowinfo?: number, scopeId?: number];

/** A family: AF_INET, AF_INET6 or AF_UNIX (ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE otherwise). */
export function checkFamily(family: unknown): number {
  if (typeof family !== "number") throw argTypeError("family", "of type number", family);
  if (family !== AF_INET && family !== AF_INET6 && family !== AF_UNIX)
    throw codedError(
      "ERR_INVALID_ARG_VALUE",
      `The "family" argument must be AF_INET (${AF_INET}), AF_INET6 (${AF_INET6}) or AF_UNIX (${AF_UNIX}). Received ${String(family)}`,
      "TypeError",
    );
  return family;
}

/** `address` checked for `family` (`method` names the call in the message): the native address arguments. */
export function addressArgs(family: number, address: unknown, method: string): NativeAddress {
  if (family === AF_UNIX) {
    if (typeof address !== "string")
      throw codedError("ERR_INVALID_ARG_TYPE", `${method}(): an AF_UNIX address must be a path string. Received ${describe(address)}`, "TypeError");
    return [address];
  }
  const inet6 = family === AF_INET6;
  const shape = inet6 ? "[host, port, flowinfo?, scopeId?]" : "[host, port]";
  if (!Array.isArray(address) || address.length < 2 || address.length > (inet6 ? 4 : 2) || typeof address[0] !== "string")
    throw codedError(
      "ERR_INVALID_ARG_TYPE",
      `${method}(): an ${inet6 ? "AF_INET6" : "AF_INET"} address must be ${shape}. Received ${describe(address)}`,
      "TypeError",
    );
  const host = address[0] as string;
  const port = checkInt("port", address[1], 0, 65535);
  if (!inet6) {
    // A wrapped fd of a family this module has no address format for (AF_NETLINK...).
    if (family !== AF_INET)
      throw codedError("ERR_UNKNOWN_ADDRESS_FAMILY", `${method}(): no address format for address family ${family} (AF_INET, AF_INET6 and AF_UNIX have one)`);
    return [host, port];
  }
  const flowinfo = address[2] === undefined ? 0 : checkInt("flowinfo", address[2], 0, 0xfffff);
  const scopeId = address[3] === undefined ? 0 : checkInt("scopeId", address[3], 0, 0xffffffff);
  return [host, port, flowinfo, scopeId];
}

/** A string in single quotes, with quotes, backslashes and control characters escaped. */
function quote(text: string): string {
  return `'${text.replace(/[\\'\x00-\x1f\x7f]/g, (c) => (c === "\\" || c === "'" ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`))}'`;
}

/** An address as inspect and error messages show it: ['127.0.0.1', 8080], or a quoted Unix path. */
export function formatAddress(address: unknown): string {
  if (typeof address === "string") return quote(address);
  if (Array.isArray(address)) return `[${address.map((part) => (typeof part === "string" ? quote(part) : safeString(() => String(part)))).join(", ")}]`;
  return safeString(() => String(address));
}

/**
 * A getsockname/getpeername result as the family's shape. null comes back only for a wrapped fd
 * whose family (given to the constructor or detected) has no address format here:
 * ERR_UNKNOWN_ADDRESS_FAMILY.
 */
export function knownAddress<F extends number>(address: SocketAddress | null, method: string): SocketAddressOf<F> {
  if (address === null) throw codedError("ERR_UNKNOWN_ADDRESS_FAMILY", `${method}(): the fd's address family is not AF_INET, AF_INET6 or AF_UNIX`);
  return address as SocketAddressOf<F>;
}
