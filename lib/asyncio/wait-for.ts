/**
 * lib/asyncio/wait-for.ts — the module-level waitFor, on the running loop (the EventLoop-bound
 * form and loop.timeout live in timeouts.ts, which imports no value of lib/loop/).
 */
import { getRunningLoop } from "../loop/events.js";
import { waitForOn, type Awaitable } from "./timeouts.js";

/**
 * asyncio.wait_for on the running loop: `awaitable`'s result, or an ETIMEDOUT-coded TimeoutError
 * after `seconds` on the loop's clock (null: no limit). Given a function, it is called with an
 * AbortSignal that aborts at the timeout, so the work is cancelled too:
 * `await waitFor((signal) => reader.readline({ signal }), 5)`.
 */
export function waitFor<T>(awaitable: Awaitable<T>, seconds: number | null): Promise<T> {
  let loop;
  try {
    loop = getRunningLoop();
  } catch (error) {
    return Promise.reject(error);
  }
  return waitForOn(loop, awaitable, seconds);
}
