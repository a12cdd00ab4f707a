"""bench/py/asyncio_servers.py — the bench's tiny HTTP responder in CPython asyncio, written the
two ways asyncio programs usually are, the twins of bench/servers/asyncio-protocol.ts and
bench/servers/asyncio-streams.ts (same framing and response bytes as every bench server, see
framing.py):

- protocol: loop.create_server with an asyncio.Protocol; data_received feeds the framer and
  writes the response; pause_writing/resume_writing pause and resume reading;
- streams: asyncio.start_server; per client `await reader.read(65536)`, `writer.write(out)` and
  `await writer.drain()` until EOF (or until a "Connection: close" request is answered).

With --uvloop the same program runs on uvloop's event loop; it exits with status 3 when uvloop is
not importable.

usage: python3 bench/py/asyncio_servers.py protocol|streams [--uvloop] [port]
prints "READY <port>"; exits on SIGTERM.
"""
import asyncio
import signal
import sys

from framing import Framer


class HttpProtocol(asyncio.Protocol):
    __slots__ = ("transport", "framer")

    def connection_made(self, transport):
        self.transport = transport
        self.framer = Framer()

    def data_received(self, data):
        framer = self.framer
        out = framer.feed(data)
        if framer.broken:
            self.transport.abort()
            return
        if out:
            self.transport.write(out)
        if framer.close_after:
            self.transport.close()

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


async def handle_client(reader, writer):
    framer = Framer()
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            out = framer.feed(data)
            if framer.broken:
                break
            if out:
                writer.write(out)
                await writer.drain()
            if framer.close_after:
                break
    except OSError:
        pass  # ECONNRESET and the like: the client is gone
    finally:
        writer.close()


async def main(kind, port):
    loop = asyncio.get_running_loop()
    if kind == "protocol":
        server = await loop.create_server(HttpProtocol, "127.0.0.1", port, backlog=4096)
    else:
        server = await asyncio.start_server(handle_client, "127.0.0.1", port, backlog=4096)
    print("READY %d" % server.sockets[0].getsockname()[1], flush=True)
    loop.add_signal_handler(signal.SIGTERM, server.close)
    try:
        await server.serve_forever()
    except asyncio.CancelledError:
        pass


def run():
    args = sys.argv[1:]
    if not args or args[0] not in ("protocol", "streams"):
        print("usage: asyncio_servers.py protocol|streams [--uvloop] [port]", file=sys.stderr)
        raise SystemExit(2)
    kind = args.pop(0)
    use_uvloop = "--uvloop" in args
    if use_uvloop:
        args.remove("--uvloop")
        try:
            import uvloop
        except ImportError as error:
            print("asyncio_servers.py: --uvloop: %s" % error, file=sys.stderr)
            raise SystemExit(3)
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(main(kind, int(args[0] if args else "0")))


if __name__ == "__main__":
    run()
