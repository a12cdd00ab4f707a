/**
 * lib/loop/sock.ts — the loop's promise socket calls (asyncio's sock_accept, sock_recv,
 * sock_sendall...): each tries its syscall at once and, if it would block, waits for readiness as
 * the fd's reader or writer until it completes, fails or is aborted. The syscalls and their argument
 * checks are Socket's own (lib/sockio.ts, lib/args.ts, lib/addresses.ts, lib/sendfile.ts), as
 * CPython's sock_recv calls sock.recv: nothing here checks a buffer, an address or data itself.
 */

import { addressArgs, type NativeAddress } from "../addresses.js";
import { checkBufsize, intoLength, toBytes } from "../args.js";
import { connectError, systemError } from "../errors.js";
import { sendfileArgs, sendfileChunk, sendfileFrom, withBytesSent, type SendfileSource } from "../sendfile.js";
import { AF_INET6, AF_UNIX, SOCK_STREAM, Socket, wrapNewFd, type BufferLike, type SocketAddress } from "../socket.js";
import {
  acceptAgain,
  acceptFd,
  closeFd,
  connectDone,
  connectFd,
  connectInProgress,
  hasPeer,
  pendingError,
  recvBytes,
  recvfromBytes,
  recvfromInto,
  recvInto,
  sendBytes,
  sendtoBytes,
  sendView,
  wouldBlock,
} from "../sockio.js";
import { abortError, type LoopCore, type LoopObject } from "./base.js";
import { ACCEPT_RETRY_MAX, ACCEPT_RETRY_MIN, isExhaustion } from "./io.js";
import { AGAIN, SockWaiter, resolveWithDns, resolvesWithDns, type SockOptions, type SocketLike } from "./sockwait.js";

/** @internal The sock* calls of one loop. */
export class SockCalls<L extends LoopObject> {
  readonly #core: LoopCore<L>;
  readonly #waiter: SockWaiter<L>;

  constructor(core: LoopCore<L>) {
    this.#core = core;
    this.#waiter = new SockWaiter(core);
  }

  /** The loop closes. */
  close(): void {
    this.#waiter.close();
  }

  accept(sock: SocketLike, options: SockOptions | undefined): Promise<[Socket, SocketAddress]> {
    let fd: number;
    try {
      fd = this.#waiter.prepare(sock, "accept", options);
    } catch (error) {
      return Promise.reject(error);
    }
    const step = (): [Socket, SocketAddress] | typeof AGAIN => {
      const r = acceptFd(fd, true);
      if (typeof r === "number") {
        // ECONNABORTED: that connection was reset before we took it; wait for the next.
        if (acceptAgain(r)) return AGAIN;
        throw systemError(r, "accept");
      }
      // Non-blocking whatever the default timeout (asyncio's sock_accept calls setblocking(False)).
      // A Socket's family, type and proto are checked already: its accepted fd is wrapped as is.
      if (sock instanceof Socket) return [wrapNewFd(sock.family, sock.type, sock.proto, r[0], 0), r[1]];
      let accepted: Socket | undefined;
      try {
        accepted = new Socket(sock.family, sock.type, sock.proto ?? 0, r[0]);
        accepted.setblocking(false);
        return [accepted, r[1]];
      } catch (error) {
        if (accepted !== undefined) accepted.close();
        else closeFd(r[0]);
        throw error;
      }
    };
    // Out of fds (EMFILE, ENFILE) or memory: the error goes to the exception handler and the call
    // waits, retrying after a growing delay, so a server does not spin on a readable listener.
    const core = this.#core;
    const signal = options?.signal;
    let delay = ACCEPT_RETRY_MIN;
    const tryAccept = (): Promise<[Socket, SocketAddress]> =>
      this.#waiter.attempt(sock, fd, false, step, signal).catch((error: unknown) => {
        if (!isExhaustion(error) || core.closed) throw error;
        core.callExceptionHandler({ message: `sockAccept(): accept failed, retrying in ${delay} s`, exception: error, socket: sock });
        return new Promise<void>((resolve, reject) => {
          const settle = (): void => {
            core.closeWaiters.delete(reject);
            signal?.removeEventListener("abort", onAbort);
          };
          const onAbort = (): void => {
            settle();
            timer.cancel();
            reject(abortError(signal!));
          };
          const timer = core.callLater(delay, () => {
            settle();
            resolve();
          });
          delay = Math.min(delay * 2, ACCEPT_RETRY_MAX);
          core.closeWaiters.add(reject);
          signal?.addEventListener("abort", onAbort, { once: true });
        }).then(tryAccept);
      });
    return tryAccept();
  }

  recv(sock: SocketLike, n: number, options: SockOptions | undefined): Promise<Buffer> {
    let fd: number;
    try {
      fd = this.#waiter.prepare(sock, "recv", options);
      checkBufsize(n, "n");
    } catch (error) {
      return Promise.reject(error);
    }
    const stream = sock.type === SOCK_STREAM;
    const step = (): Buffer | typeof AGAIN => {
      const r = recvBytes(fd, n);
      if (typeof r !== "number") {
        if (stream) this.#waiter.noteRead(fd, r.length, n);
        return r;
      }
      if (wouldBlock(r)) return AGAIN;
      throw systemError(r, "recv");
    };
    return this.#waiter.attemptRead(sock, fd, step, options?.signal);
  }

  recvInto(sock: SocketLike, buffer: BufferLike, options: SockOptions | undefined): Promise<number> {
    let fd: number;
    let length: number;
    try {
      fd = this.#waiter.prepare(sock, "recv", options);
      length = intoLength(buffer, undefined);
    } catch (error) {
      return Promise.reject(error);
    }
    const stream = sock.type === SOCK_STREAM;
    const step = (): number | typeof AGAIN => {
      const r = recvInto(fd, buffer, length);
      if (r >= 0) {
        if (stream) this.#waiter.noteRead(fd, r, length);
        return r;
      }
      if (wouldBlock(r)) return AGAIN;
      throw systemError(r, "recv");
    };
    return this.#waiter.attemptRead(sock, fd, step, options?.signal);
  }

  recvfrom(sock: SocketLike, n: number, options: SockOptions | undefined): Promise<[Buffer, SocketAddress | null]> {
    let fd: number;
    try {
      fd = this.#waiter.prepare(sock, "recvfrom", options);
      checkBufsize(n, "n");
    } catch (error) {
      return Promise.reject(error);
    }
    const step = (): [Buffer, SocketAddress | null] | typeof AGAIN => {
      const r = recvfromBytes(fd, n);
      if (typeof r !== "number") return r;
      if (wouldBlock(r)) return AGAIN;
      throw systemError(r, "recvfrom");
    };
    return this.#waiter.attempt(sock, fd, false, step, options?.signal);
  }

  recvfromInto(sock: SocketLike, buffer: BufferLike, nbytes: number | undefined, options: SockOptions | undefined): Promise<[number, SocketAddress | null]> {
    let fd: number;
    let length: number;
    try {
      fd = this.#waiter.prepare(sock, "recvfrom", options);
      length = intoLength(buffer, nbytes);
    } catch (error) {
      return Promise.reject(error);
    }
    const step = (): [number, SocketAddress | null] | typeof AGAIN => {
      const r = recvfromInto(fd, buffer, length);
      if (typeof r !== "number") return r;
      if (wouldBlock(r)) return AGAIN;
      throw systemError(r, "recvfrom");
    };
    return this.#waiter.attempt(sock, fd, false, step, options?.signal);
  }

  sendto(sock: SocketLike, data: string | BufferLike, address: unknown, options: SockOptions | undefined): Promise<number> {
    let fd: number;
    let bytes: BufferLike;
    let args: NativeAddress;
    try {
      fd = this.#waiter.prepare(sock, "sendto", options);
      bytes = toBytes(data);
      args = addressArgs(sock.family, address, "sockSendto");
    } catch (error) {
      return Promise.reject(error);
    }
    const send = (target: number): Promise<number> => {
      const step = (): number | typeof AGAIN => {
        const r = sendtoBytes(target, bytes, undefined, sock.family, args);
        if (r >= 0) return r;
        if (wouldBlock(r)) return AGAIN;
        throw systemError(r, "sendto");
      };
      return this.#waiter.attempt(sock, target, true, step, options?.signal);
    };
    if (resolvesWithDns(sock, args[0], this.#core.attached)) return resolveWithDns(sock, args).then(() => send(this.#waiter.prepare(sock, "sendto", options)));
    return send(fd);
  }

  sendall(sock: SocketLike, data: string | BufferLike, options: SockOptions | undefined): Promise<void> {
    let fd: number;
    let bytes: BufferLike;
    try {
      fd = this.#waiter.prepare(sock, "send", options);
      bytes = toBytes(data);
    } catch (error) {
      return Promise.reject(error);
    }
    const length = bytes.byteLength;
    let sent = 0;
    const step = (): void | typeof AGAIN => {
      if (sent === length) return undefined;
      const r = sent === 0 ? sendView(fd, bytes) : sendBytes(fd, bytes, sent, length - sent);
      if (r < 0) {
        if (wouldBlock(r)) return AGAIN;
        throw systemError(r, "send");
      }
      sent += r;
      return sent === length ? undefined : AGAIN;
    };
    return this.#waiter.attempt(sock, fd, true, step, options?.signal);
  }

  sendfile(sock: SocketLike, file: SendfileSource, offset: number | undefined, count: number | undefined, options: SockOptions | undefined): Promise<number> {
    let fd: number;
    let args: ReturnType<typeof sendfileArgs>;
    try {
      fd = this.#waiter.prepare(sock, "sendfile", options);
      args = sendfileArgs(sock.type, file, offset, count);
    } catch (error) {
      return Promise.reject(error);
    }
    let sent = 0;
    const step = (): number | typeof AGAIN => {
      const want = sendfileChunk(args, sent);
      if (want === 0) return sent;
      const r = sendfileFrom(fd, args, sent, want);
      if (r === 0) return sent;
      if (r > 0) {
        sent += r;
        return sendfileChunk(args, sent) === 0 ? sent : AGAIN;
      }
      if (wouldBlock(r)) return AGAIN;
      throw withBytesSent(systemError(r, "sendfile"), sent);
    };
    return this.#waiter.attempt(sock, fd, true, step, options?.signal);
  }

  connect(sock: SocketLike, address: unknown, options: SockOptions | undefined): Promise<void> {
    let fd: number;
    let args: NativeAddress;
    try {
      fd = this.#waiter.prepare(sock, "connect", options);
      args = addressArgs(sock.family, address, "sockConnect");
    } catch (error) {
      return Promise.reject(error);
    }
    if (resolvesWithDns(sock, args[0], this.#core.attached))
      return resolveWithDns(sock, args).then(() => this.#connect(sock, this.#waiter.prepare(sock, "connect", options), args, options?.signal));
    return this.#connect(sock, fd, args, options?.signal);
  }

  #connect(sock: SocketLike, fd: number, args: NativeAddress, signal: AbortSignal | undefined): Promise<void> {
    const [host, port] = args;
    let r: number;
    try {
      r = connectFd(fd, sock.family, args);
    } catch (error) {
      return Promise.reject(error);
    }
    if (r === 0) return Promise.resolve();
    if (!connectInProgress(r)) return Promise.reject(connectError(r, host, port));
    // On loopback a refusal is often known already: report it without a wait.
    let err: number;
    try {
      err = pendingError(fd);
    } catch (error) {
      return Promise.reject(error);
    }
    if (err !== 0 && !connectInProgress(-err)) return Promise.reject(connectError(-err, host, port));
    const step = (): void | typeof AGAIN => {
      const soError = pendingError(fd);
      if (soError !== 0) {
        if (connectInProgress(-soError)) return AGAIN;
        throw connectError(-soError, host, port);
      }
      // Writable with no pending error: connected, unless the backend read (and so cleared) the
      // error first, as libkqueue does. Then connect() once more reports the failure.
      if (hasPeer(fd)) return undefined;
      const again = connectFd(fd, sock.family, args);
      if (connectDone(again)) return undefined;
      if (connectInProgress(again)) return AGAIN;
      throw connectError(again, host, port);
    };
    return this.#waiter.wait(sock, fd, true, step, signal);
  }
}
