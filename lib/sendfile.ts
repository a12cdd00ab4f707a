/**
 * lib/sendfile.ts — sendfile as Socket.sendfile and the loop's sockSendfile share it: the argument
 * policy (CPython's _check_sendfile_params), the chunking, the non-throwing native call, and the
 * `bytesSent` an error carries.
 */
import type { FileHandle } from "node:fs/promises";

import { argTypeError, checkInt } from "./args.js";
import { codedError, systemError } from "./errors.js";
import { native } from "./native.js";
import { retryTimed } from "./timeouts.js";

const EBADF = native.constants.EBADF;
const SOCK_STREAM = native.constants.SOCK_STREAM;

/**
 * What `sendfile` sends from: an fd open for reading, or a node:fs/promises FileHandle (its `fd`
 * is used; the FileHandle stays open and its own). The file must support pread(2) — a regular
 * file — since reading starts at an explicit offset and neither uses nor moves the file's position.
 */
export type SendfileSource = number | FileHandle;

/** Checked sendfile arguments: the fd to read, where to start, and how many bytes (undefined: to the end). */
export interface SendfileArgs {
  readonly fileFd: number;
  readonly offset: number;
  readonly count: number | undefined;
}

/** The most one native sendfile call is asked for (CPython caps its block size at 1 GiB too). */
const SENDFILE_CHUNK = 2 ** 30;

/**
 * Checks sendfile's arguments as CPython's _check_sendfile_params does: a SOCK_STREAM socket only
 * (ERR_SOCKET_BAD_TYPE), `offset` an integer >= 0, `count` undefined/null (to the end of the file)
 * or an integer >= 1. A FileHandle is duck-typed (a numeric `fd` and a `stat` method); a closed one
 * (fd -1) gives EBADF.
 */
export function sendfileArgs(sockType: number, file: unknown, offset: unknown, count: unknown): SendfileArgs {
  let fileFd: number;
  if (typeof file === "number") {
    fileFd = checkInt("file", file, 0, 0x7fffffff);
  } else if (
    file !== null &&
    typeof file === "object" &&
    typeof (file as { fd?: unknown }).fd === "number" &&
    typeof (file as { stat?: unknown }).stat === "function"
  ) {
    fileFd = (file as FileHandle).fd;
    if (fileFd === -1) throw systemError(-EBADF, "sendfile");
    checkInt("file.fd", fileFd, 0, 0x7fffffff);
  } else {
    throw argTypeError("file", "an fd (a number) or a node:fs/promises FileHandle", file);
  }
  const start = offset === undefined ? 0 : checkInt("offset", offset, 0, Number.MAX_SAFE_INTEGER);
  const total = count === undefined || count === null ? undefined : checkInt("count", count, 1, Number.MAX_SAFE_INTEGER);
  if (sockType !== SOCK_STREAM) throw codedError("ERR_SOCKET_BAD_TYPE", "sendfile(): only SOCK_STREAM sockets are supported");
  return { fileFd, offset: start, count: total };
}

/** How many bytes the next native sendfile call asks for, after `sent`; 0 when `count` is done. */
export function sendfileChunk(args: SendfileArgs, sent: number): number {
  if (args.count === undefined) return SENDFILE_CHUNK;
  const left = args.count - sent;
  return left < SENDFILE_CHUNK ? left : SENDFILE_CHUNK;
}

/** An error from a sendfile that had sent `sent` bytes: it carries them as `bytesSent`. */
export function withBytesSent<E>(error: E, sent: number): E {
  if (error instanceof Error) (error as Error & { bytesSent?: number }).bytesSent = sent;
  return error;
}

/** One native sendfile of up to `want` bytes, `sent` bytes into the range: the count (0 at the end of the file), or -errno. */
export function sendfileFrom(fd: number, args: SendfileArgs, sent: number, want: number): number {
  return native.sendfile(fd, args.fileFd, args.offset + sent, want);
}

/**
 * Socket.sendfile on a blocking or timed socket: sends chunk after chunk until `args.count` bytes
 * or the end of the file; each wait for room lasts at most `timeout`. A system error carries `bytesSent`.
 */
export function sendfileBlocking(fd: number, args: SendfileArgs, timeout: number | null): number {
  let sent = 0;
  try {
    for (;;) {
      const want = sendfileChunk(args, sent);
      if (want === 0) return sent;
      const call = (): number => sendfileFrom(fd, args, sent, want);
      let n = call();
      if (n < 0 && timeout !== null) n = retryTimed(fd, true, "sendfile", timeout, call, n);
      if (n < 0) throw systemError(n, "sendfile");
      if (n === 0) return sent;
      sent += n;
    }
  } catch (error) {
    throw withBytesSent(error, sent);
  }
}
