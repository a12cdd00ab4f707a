/**
 * lib/errors.ts — the library's Error helpers: coded errors (ERR_*) and Node-shaped system errors.
 */
import { native } from "./native.js";

/** An Error with a string `code`, like Node's internal errors. */
export interface CodedError extends Error {
  code: string;
}

export function codedError(code: string, message: string, kind: "Error" | "TypeError" | "RangeError" = "Error"): CodedError {
  const error = (kind === "TypeError" ? new TypeError(message) : kind === "RangeError" ? new RangeError(message) : new Error(message)) as CodedError;
  error.code = code;
  return error;
}

/** The Error Node would build for a failed syscall: code, errno (negative), syscall, message. */
export function systemError(errno: number, syscall: string): NodeJS.ErrnoException {
  const error = native.errorFromErrno(errno, syscall);
  Error.captureStackTrace(error, systemError);
  return error;
}
