/**
 * lib/signal.ts — the process's signal plumbing below the event loop, as Python's signal module is
 * below asyncio's add_signal_handler (signal.signal + signal.set_wakeup_fd): signal names and
 * numbers, a native handler per signal that writes the number of each one caught to a wakeup fd,
 * and the non-blocking wakeup pipe it writes to.
 */
import { readSync } from "node:fs";
import { constants as osConstants } from "node:os";

import { describe } from "./args.js";
import { codedError } from "./errors.js";
import { native } from "./native.js";

/** The number of a signal given as a name ('SIGINT') or a number; ERR_UNKNOWN_SIGNAL, or ERR_INVALID_ARG_VALUE for SIGKILL/SIGSTOP. */
export function signalNumber(signal: unknown): number {
  let signo: number | undefined;
  if (typeof signal === "number") signo = Number.isInteger(signal) && signal > 0 && signal < 65 ? signal : undefined;
  else if (typeof signal === "string") signo = (osConstants.signals as Record<string, number | undefined>)[signal];
  if (signo === undefined) throw codedError("ERR_UNKNOWN_SIGNAL", `Unknown signal: ${typeof signal === "string" ? signal : describe(signal)}`, "TypeError");
  if (signo === osConstants.signals.SIGKILL || signo === osConstants.signals.SIGSTOP)
    throw codedError("ERR_INVALID_ARG_VALUE", `signal ${typeof signal === "string" ? signal : describe(signal)} cannot be caught`, "TypeError");
  return signo;
}

/** A non-blocking, close-on-exec pipe: [read end, write end]. */
export function openWakeupPipe(): [read: number, write: number] {
  return native.pipe(true);
}

/** Closes both ends of a wakeup pipe. */
export function closeWakeupPipe(read: number, write: number): void {
  native.close(read);
  native.close(write);
}

/** Reads what the wakeup pipe holds into `buffer`: the count, 0 when it is drained (EAGAIN) or closed. */
export function readWakeup(fd: number, buffer: Buffer): number {
  try {
    return readSync(fd, buffer, 0, buffer.length, null);
  } catch {
    return 0;
  }
}

/** Installs the native handler of `signo`, which writes the signal's number to `writeFd`. */
export function watchSignal(signo: number, writeFd: number): void {
  native.watchSignal(signo, writeFd);
}

/** Removes that handler (restoring the previous disposition when no other fd watches the signal). */
export function unwatchSignal(signo: number, writeFd: number): void {
  native.unwatchSignal(signo, writeFd);
}
