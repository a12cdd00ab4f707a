"""bench/py/seed_server.py — seed 003's "Socket Server Using Event Loops" in Python, as the bench's
tiny HTTP responder: selectors.DefaultSelector, an accept callback that registers a read callback,
and `while True: sel.select()` calling `key.data(key.fileobj, mask)`. Same framing and response
bytes as every bench server (bench/py/framing.py, the twin of bench/servers/http.ts): a request
ends at CRLFCRLF, a POST's Content-Length body is echoed back, "Connection: close" closes after
the response.

usage: python3 bench/py/seed_server.py [port]   prints "READY <port>"; exits on SIGTERM.
"""
import os
import selectors
import socket
import sys

from framing import Framer

sel = selectors.DefaultSelector()


class Conn(Framer):
    """One connection: its framing (inherited), its socket, unsent output."""

    __slots__ = ("sock", "pending", "writing")

    def __init__(self, sock):
        Framer.__init__(self)
        self.sock = sock
        self.pending = b""
        self.writing = False

    def finish(self):
        sel.unregister(self.sock)
        self.sock.close()

    def send(self, data):
        try:
            n = self.sock.send(data)
        except BlockingIOError:
            n = 0
        except OSError:
            return False
        self.pending = data[n:]
        return True

    def after_output(self):
        waiting = bool(self.pending)
        if not waiting and self.close_after:
            return self.finish()
        if waiting != self.writing:
            self.writing = waiting
            sel.modify(self.sock, selectors.EVENT_WRITE if waiting else selectors.EVENT_READ, self.read)

    def read(self, conn, mask):
        if mask & selectors.EVENT_WRITE:
            if not self.send(self.pending):
                return self.finish()
            return self.after_output()
        try:
            data = conn.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            return self.finish()
        out = self.feed(data)
        if self.broken or (out and not self.send(out)):
            return self.finish()
        self.after_output()


def accept(sock, mask):
    conn, addr = sock.accept()
    conn.setblocking(False)
    sel.register(conn, selectors.EVENT_READ, Conn(conn).read)


def main():
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PORT", "0"))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    sock.setblocking(False)
    sel.register(sock, selectors.EVENT_READ, accept)
    print("READY %d" % sock.getsockname()[1], flush=True)
    while True:
        events = sel.select()
        for key, mask in events:
            callback = key.data
            callback(key.fileobj, mask)


if __name__ == "__main__":
    main()
