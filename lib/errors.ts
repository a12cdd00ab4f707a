/**
 * lib/errors.ts — the library's Error helpers: coded errors (ERR_*) and Node-shaped system errors.
 */
import { native } from "./native.js";

/** An Error with a string `code`, like Node's internal errors. */
export interface CodedError extends Error {
  code: string;
}

/** A value as text without ever throwing (a Symbol, a detached typed array, a throwing toString()). */
function text(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export function codedError(code: string, message: string, kind: "Error" | "TypeError" | "RangeError" = "Error"): CodedError {
  const m = text(message);
  const error = (kind === "TypeError" ? new TypeError(m) : kind === "RangeError" ? new RangeError(m) : new Error(m)) as CodedError;
  error.code = text(code);
  return error;
}

/** What system errors need of an errno, looked up once per errno. */
interface ErrnoText {
  readonly code: string;
  readonly description: string;
  /**
   * For a control-flow errno: per syscall, the prototype its errors are made from (see
   * systemError); null for the others.
   */
  readonly templates: Map<string, Error> | null;
}

/**
 * The errnos that are control flow in a seed-shaped program: Python's BlockingIOError family
 * (EAGAIN/EWOULDBLOCK, EINPROGRESS, EALREADY) and a peer going away (ECONNRESET, EPIPE,
 * ECONNABORTED). A server raises and catches them per request or per connection, so they must
 * cost what CPython's do.
 */
const CONTROL_FLOW_CODES: ReadonlySet<string> = new Set(["EAGAIN", "EWOULDBLOCK", "EINPROGRESS", "EALREADY", "ECONNRESET", "EPIPE", "ECONNABORTED"]);

/** Indexed by positive errno. */
const errnoTexts: (ErrnoText | undefined)[] = [];

function errnoText(errno: number): ErrnoText {
  const [code, description] = native.errnoInfo(errno);
  const text = { code, description, templates: CONTROL_FLOW_CODES.has(code) ? new Map<string, Error>() : null };
  errnoTexts[errno < 0 ? -errno : errno] = text;
  return text;
}

/**
 * The prototype of the control-flow errors of one (errno, syscall): an Error by prototype whose
 * `message` and `stack` (the message line: no frames) are its own, not enumerable, as a native
 * Error's are.
 */
function template(text: ErrnoText, templates: Map<string, Error>, syscall: string): Error {
  let made = templates.get(syscall);
  if (made === undefined) {
    const message = `${text.code}: ${text.description}, ${syscall}`;
    made = Object.create(Error.prototype, {
      message: { value: message, writable: true, configurable: true },
      stack: { value: `Error: ${message}`, writable: true, configurable: true },
    }) as Error;
    templates.set(syscall, made);
  }
  return made;
}

/**
 * The Error Node would build for a failed syscall: message "EBADF: bad file descriptor, close",
 * `errno` (negative), `code`, `syscall`. `errno` may have either sign.
 *
 * Control-flow errors (EAGAIN, EINPROGRESS, ECONNRESET... see CONTROL_FLOW_CODES) cost what
 * CPython's BlockingIOError costs: they are made from a per-(errno, syscall) prototype instead of
 * by V8's Error constructor, which takes longer than the failed syscall itself even without
 * capturing a stack. They are `instanceof Error` with `name`, `message`, `code`, `errno` and
 * `syscall` like every system error, their `stack` is the message line alone (no frames), and
 * `util.types.isNativeError()` is false for them. Every other system error is a native Error with
 * the stack of the call that failed.
 */
export function systemError(errno: number, syscall: string): NodeJS.ErrnoException {
  if (typeof syscall !== "string")
    throw codedError("ERR_INVALID_ARG_TYPE", `The "syscall" argument must be of type string. Received type ${typeof syscall}`, "TypeError");
  // The native lookup checks errno (an integer within +-4095) before anything is cached.
  const text = (typeof errno === "number" ? errnoTexts[errno < 0 ? -errno : errno] : undefined) ?? errnoText(errno);
  const positive = errno < 0 ? -errno : errno;
  let error: NodeJS.ErrnoException;
  const templates = text.templates;
  if (templates !== null) {
    error = Object.create(template(text, templates, syscall)) as NodeJS.ErrnoException;
  } else {
    // Capture no stack while constructing, then capture it once, from the caller.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    error = new Error(`${text.code}: ${text.description}, ${syscall}`);
    Error.stackTraceLimit = limit;
    Error.captureStackTrace(error, systemError);
  }
  error.errno = -positive;
  error.code = text.code;
  error.syscall = syscall;
  return error;
}

/** EBADF for `syscall`: what a call on a closed socket (or a dropped registration of one) fails with. */
export function closedError(syscall: string): NodeJS.ErrnoException {
  return systemError(-native.constants.EBADF, syscall);
}

/** A system error that says where a connect or bind went, as Node's net errors do. */
export interface AddressedError extends NodeJS.ErrnoException {
  /** The host as given (a name, or an IP address), or the Unix path. */
  address?: string;
  /** Absent for a Unix path. */
  port?: number;
}

/**
 * Adds where a connect went to its error, as Node's connect errors carry it: `address` (the host
 * as given, or the Unix path), `port` (IP only), and " host:port" (or " path") after the message.
 */
export function withAddress(error: NodeJS.ErrnoException, host: string, port: number | undefined): AddressedError {
  const addressed = error as AddressedError;
  const message = `${error.message}${port === undefined ? ` ${host}` : ` ${host}:${port}`}`;
  // Not enumerable, as an Error's own message is. A control-flow error (made from a template, see
  // systemError) inherits message and its frameless stack: it gets its own, with the address.
  const inheritsStack = !Object.prototype.hasOwnProperty.call(error, "stack");
  Object.defineProperty(addressed, "message", { value: message, writable: true, configurable: true, enumerable: false });
  if (inheritsStack) Object.defineProperty(addressed, "stack", { value: `Error: ${message}`, writable: true, configurable: true, enumerable: false });
  addressed.address = host;
  if (port !== undefined) addressed.port = port;
  return addressed;
}

/** A failed connect(2): the system error (syscall 'connect') with `address` and `port` (see withAddress). */
export function connectError(errno: number, host: string, port: number | undefined): AddressedError {
  return withAddress(systemError(errno, "connect"), host, port);
}
