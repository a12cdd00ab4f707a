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

/** The Error Node would build for a failed syscall: code, errno (negative), syscall, message. */
export function systemError(errno: number, syscall: string): NodeJS.ErrnoException {
  const error = native.errorFromErrno(errno, syscall);
  Error.captureStackTrace(error, systemError);
  return error;
}
