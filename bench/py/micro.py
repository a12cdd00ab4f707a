"""bench/py/micro.py — the twin of bench/micro.ts, on CPython's objects: the same cases in the same
order, each the same loop on the same kind of object (socket objects there and here, for every
socket and selector case), set up, checked and timed alike (the same warm-up, the same slices, the
median kept), so the two columns compare the same work. Keep them symmetrical. (micro.ts also
times two socket cases on its `lowlevel` fd calls, a column CPython has no counterpart for.)

Socket operations on socket.socket objects (non-blocking socketpair ends, a loopback listener):
- recv(4096) on an empty socket, BlockingIOError caught: ns per call;
- b.send(1 byte) then a.recv(4096): ns per pair;
- accept() + setblocking(False) + close() of a connection already queued on a non-blocking
  listener: ns per connection, timing only those calls (clients connect and close outside the
  timed part, K at a time).
Selector operations on selectors.DefaultSelector: register+modify+unregister ops/s, select(0) ns
per ready event with N ready socketpairs, and an empty select(0) in ns per call.
Prints one JSON object: {"<operation>": {"value": n, "unit": "..."}}.

usage: python3 bench/py/micro.py [--seconds S] [--sizes 1,100,1000]
"""
import json
import selectors
import socket
import sys
import time

seconds = 0.5
sizes = [1, 100, 1000]
args = sys.argv[1:]
while args:
    if args[0] == "--seconds":
        seconds = float(args[1])
    elif args[0] == "--sizes":
        sizes = [int(x) for x in args[1].split(",")]
    else:
        raise SystemExit("micro.py: unknown argument " + args[0])
    args = args[2:]


def timed(budget, batch, body):
    start = time.perf_counter_ns()
    limit = int(budget * 1e9)
    calls = 0
    while True:
        for _ in range(batch):
            body()
        calls += batch
        elapsed = time.perf_counter_ns() - start
        if elapsed >= limit:
            return calls, elapsed / 1e9


def sliced_ns_per_call(batch, body):
    """Nanoseconds per call on micro.ts's pairedNsPerCall schedule for its Socket loop: a tenth of
    `seconds` of warm-up, then five slices of a fifth, the median kept."""
    timed(seconds / 10, batch, body)
    slices = []
    for _ in range(5):
        calls, elapsed = timed(seconds / 5, batch, body)
        slices.append(elapsed * 1e9 / calls)
    return sorted(slices)[len(slices) // 2]


results = {}

# ---------------------------------------------------------------------------------- sockets

a, b = socket.socketpair()
a.setblocking(False)
b.setblocking(False)


def eagain():
    try:
        a.recv(4096)
    except BlockingIOError:
        pass
    else:
        raise SystemExit("micro.py: recv on an empty socket did not raise BlockingIOError")


results["recv(4096) \u2192 EAGAIN, caught"] = {"value": sliced_ns_per_call(100, eagain), "unit": "ns/call"}

ONE = b"x"


def send_recv():
    b.send(ONE)
    if len(a.recv(4096)) != 1:
        raise SystemExit("micro.py: send+recv of 1 byte did not read 1 byte")


results["send(1 B) + recv(4096)"] = {"value": sliced_ns_per_call(100, send_recv), "unit": "ns/pair"}
a.close()
b.close()

K = 32
MAX_CONNECTIONS = 20000
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", 0))
listener.listen(K * 2)
listener.setblocking(False)
address = listener.getsockname()


def accept_measure(budget):
    start = time.perf_counter_ns()
    limit = int(budget * 1e9)
    inside = 0
    count = 0
    accept = listener.accept
    while time.perf_counter_ns() - start < limit and count < MAX_CONNECTIONS:
        clients = []
        for _ in range(K):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.connect(address)
            clients.append(c)
        t0 = time.perf_counter_ns()
        for _ in range(K):
            conn, _addr = accept()
            conn.setblocking(False)
            conn.close()
        inside += time.perf_counter_ns() - t0
        count += K
        for c in clients:
            c.close()
    return inside / count


accept_measure(seconds / 5)
results["accept + setblocking(false) + close"] = {"value": accept_measure(seconds), "unit": "ns/conn"}
listener.close()

# ---------------------------------------------------------------------------------- selectors

sel = selectors.DefaultSelector()
a, b = socket.socketpair()


def cycle():
    sel.register(a, selectors.EVENT_READ)
    sel.modify(a, selectors.EVENT_READ | selectors.EVENT_WRITE)
    sel.unregister(a)


timed(seconds / 5, 100, cycle)
calls, elapsed = timed(seconds, 100, cycle)
results["register+modify+unregister"] = {"value": calls * 3 / elapsed, "unit": "ops/s"}
sel.close()
a.close()
b.close()

for n in sizes:
    sel = selectors.DefaultSelector()
    pairs = [socket.socketpair() for _ in range(n)]
    for x, y in pairs:
        y.send(b"x")
        sel.register(x, selectors.EVENT_READ)
    seen = [0]

    def poll():
        seen[0] += len(sel.select(0))

    batch = max(1, 1000 // n)
    timed(seconds / 5, batch, poll)
    seen[0] = 0
    calls, elapsed = timed(seconds, batch, poll)
    if seen[0] != calls * n:
        raise SystemExit("micro.py: expected %d ready per select" % n)
    results["select(0), %d ready" % n] = {"value": elapsed * 1e9 / (calls * n), "unit": "ns/event"}
    sel.close()
    for x, y in pairs:
        x.close()
        y.close()

sel = selectors.DefaultSelector()
timed(seconds / 5, 1000, lambda: sel.select(0))
calls, elapsed = timed(seconds, 1000, lambda: sel.select(0))
results["empty select(0)"] = {"value": elapsed * 1e9 / calls, "unit": "ns/call"}
sel.close()

print(json.dumps(results))
