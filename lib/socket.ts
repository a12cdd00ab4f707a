/**
 * lib/socket.ts — the public face of the socket layer (Python's socket module, less the functions
 * in socket-functions.ts): the Socket class (socket-class.ts) under its constructor type, which
 * types a socket by its address family; the constants (socket-constants.ts); the address types
 * (addresses.ts); and the default timeout (timeouts.ts).
 */
import type { AF_INET } from "./socket-constants.js";
import { Socket } from "./socket-class.js";

export * from "./socket-constants.js";
export type { BufferLike, SocketAddress } from "./native.js";
export { checkFamily, type AddressInput, type AddressInputOf, type SocketAddressOf } from "./addresses.js";
export { checkTimeout, getdefaulttimeout, setdefaulttimeout } from "./timeouts.js";
export type { SendData } from "./socket-class.js";
/** @internal */
export { wrapNewFd } from "./socket-class.js";

/**
 * The constructor of Socket, Python's `socket.socket(family=AF_INET, type=SOCK_STREAM, proto=0,
 * fileno=None)`. The family argument's type becomes the socket's `F`: `new Socket()` and
 * `new Socket(AF_INET, SOCK_STREAM)` are `Socket<AF_INET>`, `new Socket(AF_UNIX)` a
 * `Socket<AF_UNIX>`, and a family held in a plain `number` gives a `Socket<number>` whose
 * addresses are the SocketAddress union. Give the family when giving a type: TypeScript makes
 * `new Socket(undefined, SOCK_DGRAM)` a `Socket<number>`, `new Socket(AF_INET, SOCK_DGRAM)` is a
 * `Socket<AF_INET>`. A wrapped fd whose family is read from it at run time
 * (`new Socket(undefined, undefined, undefined, fd)`) is typed `Socket<AF_INET>` by the default:
 * write `new Socket<number>(undefined, undefined, undefined, fd)` (or give the family) when it may
 * be another.
 */
export interface SocketConstructor {
  new <F extends number = AF_INET>(family?: F, type?: number, proto?: number, fileno?: number): Socket<F>;
  readonly prototype: Socket;
}

/**
 * A socket, as Python's `socket.socket`: blocking by default (the fd really is blocking), so
 * `accept()`, `recv()`, `sendall()` and a blocking `connect()` wait in the kernel and hold the
 * thread; call `setblocking(false)` and use a selector to multiplex.
 *
 * Typed by its address family, where Python's typeshed says `Any`: `Socket<AF_INET>` (what
 * `new Socket()` makes) returns `[host, port]` from getsockname(), getpeername(), accept() and
 * recvfrom(), so `const port: number = sock.getsockname()[1]` needs no cast; `Socket<AF_INET6>`
 * returns `[host, port, flowinfo, scopeId]`, `Socket<AF_UNIX>` a path string. bind(), connect()
 * and sendto() take the same shapes. Plain `Socket` (= `Socket<number>`) is a socket of any
 * family, with the SocketAddress union: annotate with it where any socket will do (every
 * `Socket<F>` is assignable to it), with `Socket<AF_INET>` where the port is read.
 */
const SocketClass: SocketConstructor = Socket;
/** A Socket of address family `F` (see the Socket constructor); plain `Socket` is any family. */
type SocketClass<F extends number = number> = Socket<F>;
export { SocketClass as Socket };
/**
 * The class itself as a type, the same type as `Socket<F>` (Python's `socket.SocketType`, "the same
 * as type(socket(...))"). Exported so that the compiler has a name for it in declaration files it
 * emits for user code, where it writes `SocketType<AF_INET>` for an inferred `Socket<AF_INET>`.
 */
export type { Socket as SocketType };
