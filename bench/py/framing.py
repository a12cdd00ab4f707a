"""bench/py/framing.py — the tiny HTTP responder's framing for the Python bench servers, the same
rules and response bytes as bench/servers/http.ts (which every JavaScript server shares):

- a request ends at CRLFCRLF;
- a request whose method starts with 'P' (POST) has a body of Content-Length bytes, echoed back as
  the response body;
- any other request gets the seed's 18-byte JSON body {"Hello": "World"};
- a request header containing "Connection: close" gets "Connection: close" in its response, and
  the connection closes after it;
- headers longer than 16 KiB without an end break the framing (the connection closes).

The response bytes are bench/servers/http.ts's constants, generated into http_response.py.
Used by seed_server.py (seed 003, selectors) and seed000_server.py (seed 000, asyncio).
"""

from http_response import CLOSE_FIELD, ECHO_HEAD, RESPONSE, RESPONSE_CLOSE

MAX_HEADER = 16 * 1024


class Framer:
    """One connection's request framing: feed() returns the response bytes for the input given."""

    __slots__ = ("partial", "body_left", "close_at_body_end", "close_after", "broken")

    def __init__(self):
        self.partial = b""
        self.body_left = 0
        self.close_at_body_end = False
        # The connection must close once the output returned so far is sent.
        self.close_after = False
        # The framing is broken (oversized header): close at once.
        self.broken = False

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
                out.append(b"%s%d\r\n%s\r\n" % (ECHO_HEAD, length, CLOSE_FIELD if close else b""))
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
            if end - pos > MAX_HEADER:
                self.broken = True
            else:
                self.partial = data[pos:]
        return b"".join(out)
