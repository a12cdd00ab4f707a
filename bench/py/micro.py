"""bench/py/micro.py — the same selector micro-benchmarks as bench/micro.ts, on CPython's
selectors.DefaultSelector: register+modify+unregister ops/s, select(0) ns per ready event with N
ready socketpairs, and an empty select(0) in ns per call. Prints one JSON object.

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


results = {}

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
