/**
 * lib/socket-repr.ts — how a Socket reads in util.inspect() and console.log(), as CPython's repr:
 * `<Socket fd=5, family=AF_INET, type=SOCK_STREAM, proto=0, laddr=['127.0.0.1', 8080],
 * raddr=['127.0.0.1', 50000]>`.
 */
import { formatAddress } from "./addresses.js";
import { safeString } from "./args.js";
import { native } from "./native.js";
import { AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM } from "./socket-constants.js";

const FAMILY_NAMES: ReadonlyMap<number, string> = new Map([
  [AF_INET, "AF_INET"],
  [AF_INET6, "AF_INET6"],
  [AF_UNIX, "AF_UNIX"],
  [AF_UNSPEC, "AF_UNSPEC"],
]);
const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [SOCK_STREAM, "SOCK_STREAM"],
  [SOCK_DGRAM, "SOCK_DGRAM"],
  [SOCK_SEQPACKET, "SOCK_SEQPACKET"],
  [SOCK_RAW, "SOCK_RAW"],
]);

function constantName(names: ReadonlyMap<number, string>, value: number): string {
  return names.get(value) ?? String(value);
}

/**
 * The repr of `socket` on `fd` (-1: closed), named after its constructor (a subclass shows its own
 * name): laddr and raddr only where getsockname and getpeername answer (and name something: an
 * unbound Unix socket's '' is left out, as Python leaves it out); `<Socket [closed] fd=-1, ...>`
 * once closed. A failing syscall only leaves its part out.
 */
export function socketRepr(socket: object, fd: number, family: number, type: number, proto: number): string {
  const name = safeString(() => {
    const n: unknown = (socket.constructor as { name?: unknown } | undefined)?.name;
    return typeof n === "string" && n !== "" ? n : "Socket";
  });
  const closed = fd === -1;
  let text = `<${name}${closed ? " [closed]" : ""} fd=${fd}, family=${constantName(FAMILY_NAMES, family)}, type=${constantName(TYPE_NAMES, type)}, proto=${proto}`;
  if (!closed) {
    for (const [label, read] of [
      ["laddr", native.getsockname],
      ["raddr", native.getpeername],
    ] as const) {
      try {
        const address = read(fd);
        if (address !== null && address !== "") text += `, ${label}=${formatAddress(address)}`;
      } catch {
        // Not bound, not connected, or not a socket any more: nothing to show.
      }
    }
  }
  return `${text}>`;
}
