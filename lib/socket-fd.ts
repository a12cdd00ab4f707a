/**
 * lib/socket-fd.ts — the fd behind a Socket: how the Socket constructor gets it (a new socket, or
 * an open socket fd wrapped as CPython's socket(fileno=...) wraps it, its family, type and proto
 * read from the kernel), and the finalizer that closes the fd of a Socket dropped without close().
 */
import { checkFamily } from "./addresses.js";
import { checkInt, foreignSocket } from "./args.js";
import { codedError } from "./errors.js";
import { native } from "./native.js";
import { AF_INET, SOCK_STREAM } from "./socket-constants.js";
import { getdefaulttimeout } from "./timeouts.js";

/**
 * What the finalizer needs of a Socket: its fd, -1 once closed or detached. The Socket keeps its fd
 * here and registers this cell as the held value, without an unregister token: close() only sets
 * `fd` to -1, which costs less than unregistering and leaves the finalizer nothing to do.
 */
export interface FdCell {
  fd: number;
}

/** Closes the fd of a Socket that was garbage-collected without close(). Never touches the Socket. */
const finalizer = new FinalizationRegistry<FdCell>((cell) => {
  if (cell.fd === -1) return;
  try {
    native.close(cell.fd);
  } catch {
    // Already closed behind the Socket's back (e.g. lowlevel.close(sock.fileno())): nothing to do.
  }
});

/*
 * A Socket enters the finalizer only once it has stayed open for a while: WATCH_AFTER_SOCKETS newer
 * Sockets, or WATCH_AFTER_MS. Registering every Socket at birth cost 2-3 µs per connection in a
 * server under connection churn (10% of seed 000's CPU per connection, 7% of seed 003's). With
 * it, each of V8's young-generation collections kept ~15% of new space alive (~2 MB, promoted),
 * and a mark-compact ran about every second; without it, under 1% and none. (Registering a small
 * object of the Socket's in its place, or unregistering at close(), cost the same: the cost comes
 * with the registrations, whose WeakCells V8 allocates in the old space.) A Socket closed before
 * its turn, as most connections of a busy server are, never costs the finalizer anything.
 *
 * The Sockets waiting for their turn are held here, strongly, in two generations: `young` (made
 * since the last turn) and `older` (open at the last turn). At each turn the older ones still open
 * are registered, and the young ones still open become the older. A turn comes after
 * WATCH_AFTER_SOCKETS new Sockets, and from an unref'd timer every WATCH_AFTER_MS while any wait.
 * So a Socket dropped without close() is registered one to two turns after it was made, and closed
 * after the first collection that follows, as before. The timer needs Node's loop, as the
 * finalizer's callbacks always did (V8 runs them as tasks of Node's loop): with run() it gets its
 * turns between iterations; a program that never leaves a blocking loop runs neither.
 */
const WATCH_AFTER_SOCKETS = 256;
const WATCH_AFTER_MS = 250;
let youngSockets: object[] = [];
let youngCells: FdCell[] = [];
let olderSockets: object[] = [];
let olderCells: FdCell[] = [];
let turnTimer: ReturnType<typeof setTimeout> | null = null;

/** Has the fd of `socket` (in `cell`) closed if the Socket is collected without close(). */
export function watchForDrop(socket: object, cell: FdCell): void {
  youngSockets.push(socket);
  youngCells.push(cell);
  if (youngSockets.length >= WATCH_AFTER_SOCKETS) finalizerTurn();
  else if (turnTimer === null) armTurnTimer();
}

function finalizerTurn(): void {
  for (let i = 0; i < olderCells.length; i++) {
    const cell = olderCells[i]!;
    if (cell.fd !== -1) finalizer.register(olderSockets[i]!, cell);
  }
  // The young ones still open become the older; the arrays are reused.
  const sockets = olderSockets;
  const cells = olderCells;
  sockets.length = 0;
  cells.length = 0;
  for (let i = 0; i < youngCells.length; i++) {
    const cell = youngCells[i]!;
    if (cell.fd !== -1) {
      sockets.push(youngSockets[i]!);
      cells.push(cell);
    }
  }
  olderSockets = sockets;
  olderCells = cells;
  youngSockets = [];
  youngCells = [];
}

function armTurnTimer(): void {
  turnTimer = setTimeout(() => {
    turnTimer = null;
    finalizerTurn();
    if (olderSockets.length > 0 || youngSockets.length > 0) armTurnTimer();
  }, WATCH_AFTER_MS);
  turnTimer.unref();
}

/** The "fileno" argument: an fd number (a node:net or node:dgram Socket is named as such). */
function checkFileno(fileno: unknown): number {
  const foreign = foreignSocket(fileno);
  if (foreign !== undefined)
    throw codedError(
      "ERR_INVALID_ARG_TYPE",
      `The "fileno" argument must be an fd number, not a ${foreign} Socket (libuv owns its fd, which it does not expose)`,
      "TypeError",
    );
  return checkInt("fileno", fileno, 0, 0x7fffffff);
}

/**
 * The family, type, proto, fd and timeout of a Socket made by its constructor (the arguments as
 * the constructor documents them): a new socket when `fileno` is undefined, else `fileno` wrapped.
 */
export function openSocket(
  family: number | undefined,
  type: number | undefined,
  proto: number | undefined,
  fileno: number | undefined,
): [family: number, type: number, proto: number, fd: number, timeout: number | null] {
  const timeout = getdefaulttimeout();
  if (fileno === undefined) {
    const f = family === undefined ? AF_INET : checkFamily(family);
    const t = type === undefined ? SOCK_STREAM : checkInt("type", type, 0, 0xffff);
    const p = proto === undefined ? 0 : checkInt("proto", proto, 0, 0xffff);
    // A default timeout makes the socket non-blocking from birth: no second syscall.
    return [f, t, p, native.socket(f, t, p, timeout !== null), timeout];
  }
  // Every argument is checked before the fd is looked at.
  if (family !== undefined) checkFamily(family);
  if (type !== undefined) checkInt("type", type, 0, 0xffff);
  if (proto !== undefined) checkInt("proto", proto, 0, 0xffff);
  const fd = checkFileno(fileno);
  const [detectedFamily, detectedType, detectedProto, nonblocking] = native.socketInfo(fd);
  if (timeout !== null && !nonblocking) native.setNonBlocking(fd, true);
  return [family ?? detectedFamily, type ?? detectedType, proto ?? detectedProto, fd, timeout !== null ? timeout : nonblocking ? 0 : null];
}
