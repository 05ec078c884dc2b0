#!/usr/bin/env python3
"""N clients at once GET /sleep?ms=MS from a running server (examples/echo.rs); reports how
many got 200, the slowest answer, and the server's RSS and thread count at their peak.

    benches/sleepers.py PORT PID [N=1000] [MS=1000]
"""
import http.client, sys, threading, time

port, pid = int(sys.argv[1]), int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
ms = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
results, lock = [], threading.Lock()
start_gate = threading.Barrier(n + 1)

def client():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.connect()
    start_gate.wait()
    t0 = time.monotonic()
    try:
        conn.request("GET", f"/sleep?ms={ms}")
        r = conn.getresponse(); r.read(); status = r.status
    except Exception as e:
        status = repr(e)
    with lock:
        results.append((status, time.monotonic() - t0))

def proc():
    rss = threads = 0
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): rss = int(line.split()[1])
        if line.startswith("Threads:"): threads = int(line.split()[1])
    return rss, threads

rss0, th0 = proc()
ts = [threading.Thread(target=client) for _ in range(n)]
for t in ts: t.start()
start_gate.wait()
t0 = time.monotonic(); peak_rss, peak_th = rss0, th0
while any(t.is_alive() for t in ts):
    rss, th = proc(); peak_rss = max(peak_rss, rss); peak_th = max(peak_th, th)
    time.sleep(0.02)
ok = sum(1 for s, _ in results if s == 200)
print(f"{n} x GET /sleep?ms={ms}: {ok} answered 200, slowest {max(d for _, d in results):.2f} s, "
      f"all done in {time.monotonic() - t0:.2f} s")
print(f"server: RSS {rss0 // 1024} MiB before, {peak_rss // 1024} MiB at peak; "
      f"threads {th0} before, {peak_th} at peak")
