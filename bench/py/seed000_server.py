"""bench/py/seed000_server.py — seed 000's asyncio server in CPython, as the bench's tiny HTTP
responder: asyncio.run(main()), `await loop.sock_accept(server)` in a loop, one task per client
doing `await loop.sock_recv(client, 65536)` and `await loop.sock_sendall(client, response)` until
EOF (or until a "Connection: close" request has been answered). The twin of
bench/servers/promise.ts; same framing and response bytes as every bench server
(bench/py/framing.py, the twin of bench/servers/http.ts).

With --uvloop (or BENCH_UVLOOP=1) the same program runs on uvloop's event loop (its policy is
installed before asyncio.run); it exits with status 3 when uvloop is not importable.

usage: python3 bench/py/seed000_server.py [--uvloop] [port]   prints "READY <port>"; exits on SIGTERM.
"""
import asyncio
import os
import socket
import sys

from framing import Framer


async def handle_client(loop, client):
    framer = Framer()
    try:
        while True:
            data = await loop.sock_recv(client, 65536)
            if not data:
                break
            out = framer.feed(data)
            if framer.broken:
                break
            if out:
                await loop.sock_sendall(client, out)
            if framer.close_after:
                break
    except OSError:
        pass  # ECONNRESET and the like: the client is gone
    finally:
        client.close()


async def main(port):
    loop = asyncio.get_running_loop()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(4096)
    server.setblocking(False)
    print("READY %d" % server.getsockname()[1], flush=True)
    # asyncio keeps only weak references to tasks: hold each client's task until it is done.
    tasks = set()
    while True:
        client, _ = await loop.sock_accept(server)
        task = loop.create_task(handle_client(loop, client))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


def run():
    args = sys.argv[1:]
    use_uvloop = os.environ.get("BENCH_UVLOOP", "") not in ("", "0")
    if "--uvloop" in args:
        use_uvloop = True
        args.remove("--uvloop")
    port = int(args[0] if args else os.environ.get("PORT", "0"))
    if use_uvloop:
        try:
            import uvloop
        except ImportError as error:
            print("seed000_server.py: --uvloop: %s" % error, file=sys.stderr)
            raise SystemExit(3)
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(main(port))


if __name__ == "__main__":
    run()
