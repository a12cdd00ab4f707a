/**
 * bench/servers/loop-choice.ts — which loop class a bench server's run() makes: `--proactor` on the
 * command line (before or after the port) picks ProactorEventLoop (io_uring), else the default
 * EventLoop. Shared by the servers whose program runs unchanged on either loop (promise.ts,
 * asyncio-protocol.ts), so each row pair measures the same program.
 */
import { EventLoop, ProactorEventLoop, type RunOptions } from "../../lib/index.js";

/** Whether `--proactor` was given. */
export function proactorChosen(): boolean {
  return process.argv.slice(2).includes("--proactor");
}

/** run()'s options for the loop the command line chose. */
export function loopOptions(): RunOptions {
  return { loopFactory: proactorChosen() ? (): EventLoop => new ProactorEventLoop() : (): EventLoop => new EventLoop() };
}
