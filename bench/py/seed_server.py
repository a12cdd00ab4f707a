"""bench/py/seed_server.py — seed 003's "Socket Server Using Event Loops" in Python, as the bench's
tiny HTTP responder: selectors.DefaultSelector, an accept callback that registers a read callback,
and `while True: sel.select()` calling `key.data(key.fileobj, mask)`. Same framing and response
bytes as every bench server (bench/servers/http.ts): a request ends at CRLFCRLF, a POST's
Content-Length body is echoed back, "Connection: close" closes after the response.

usage: python3 bench/py/seed_server.py [port]   prints "READY <port>"; exits on SIGTERM.
"""
import os
import selectors
import socket
import sys

BODY = b'{"Hello": "World"}'
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n" + BODY
RESPONSE_CLOSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\nConnection: close\r\n\r\n" + BODY
)

sel = selectors.DefaultSelector()


class Conn:
    """One connection: unparsed input, echo state, unsent output."""

    __slots__ = ("sock", "partial", "body_left", "close_at_body_end", "close_after", "pending", "writing")

    def __init__(self, sock):
        self.sock = sock
        self.partial = b""
        self.body_left = 0
        self.close_at_body_end = False
        self.close_after = False
        self.pending = b""
        self.writing = False

    def feed(self, data):
        if self.partial:
            data = self.partial + data
            self.partial = b""
        out = []
        pos, end = 0, len(data)
        while pos < end and not self.close_after:
            if self.body_left:
                n = min(end - pos, self.body_left)
                out.append(data[pos : pos + n])
                pos += n
                self.body_left -= n
                if self.body_left == 0 and self.close_at_body_end:
                    self.close_after = True
                continue
            head_end = data.find(b"\r\n\r\n", pos)
            if head_end < 0:
                break
            nxt = head_end + 4
            close = data.find(b"\r\nConnection: close", pos, nxt) >= 0
            if data[pos] == 0x50:  # 'P': a body to echo
                cl = data.find(b"\r\nContent-Length:", pos, nxt)
                length = int(data[cl + 17 : head_end].split(b"\r\n", 1)[0]) if cl >= 0 else 0
                extra = b"Connection: close\r\n" if close else b""
                out.append(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n%s\r\n"
                    % (length, extra)
                )
                self.body_left = length
                self.close_at_body_end = close
                if close and length == 0:
                    self.close_after = True
            elif close:
                out.append(RESPONSE_CLOSE)
                self.close_after = True
            else:
                out.append(RESPONSE)
            pos = nxt
        if pos < end and not self.close_after:
            self.partial = data[pos:]
        return b"".join(out)

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
        if out and not self.send(out):
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
