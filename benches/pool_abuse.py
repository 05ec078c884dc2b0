#!/usr/bin/env python3
"""Clients that would spend the blocking pool, against a running `examples/echo.rs`
(started with `--dir D`, D holding `small.txt` and a large `big.bin`):

  head      N clients send `HEAD /stream?chunks=1000000&size=1&delay_ms=1000` and leave
            after 2 s (as `curl -I -m 2` does)
  queued    64 clients `GET /sleep?ms=3000` fill part of the pool, N more leave after 1 s
  slow      N clients download /files/big.bin at about RATE bytes/s each, for SECS s

After each phase (for `slow`, while it runs) it times a fresh `GET /files/small.txt` and
`GET /sleep?ms=1`, and counts the server's sockets in CLOSE-WAIT two seconds after the
clients left; for `slow`, it reports the server's RSS and threads at their peak.

    benches/pool_abuse.py PORT PID head [N=130]
    benches/pool_abuse.py PORT PID queued [N=64]
    benches/pool_abuse.py PORT PID slow [N=200] [RATE=4096] [SECS=20]
"""
import selectors, socket, subprocess, sys, threading, time

port, pid, phase = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
args = [int(a) for a in sys.argv[4:]]


def connect():
    s = socket.create_connection(("127.0.0.1", port))
    return s


def timed_get(target):
    t0 = time.monotonic()
    s = connect()
    s.settimeout(10)
    s.sendall(f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    status = data.split(b" ", 2)[1].decode() if data else "none"
    return status, time.monotonic() - t0


def probes(label):
    for target in ("/files/small.txt", "/sleep?ms=1"):
        status, took = timed_get(target)
        print(f"  {label}: GET {target} -> {status} in {took * 1000:.0f} ms")


def close_wait():
    out = subprocess.run(["ss", "-Htn", "state", "close-wait", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


def proc():
    rss = threads = 0
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        if line.startswith("Threads:"):
            threads = int(line.split()[1])
    return rss, threads


def leave_after(n, request, secs):
    socks = []
    for _ in range(n):
        s = connect()
        s.sendall(request)
        socks.append(s)
    time.sleep(secs)
    for s in socks:
        s.close()


if phase == "head":
    n = args[0] if args else 130
    leave_after(n, b"HEAD /stream?chunks=1000000&size=1&delay_ms=1000 HTTP/1.1\r\nHost: t\r\n\r\n", 2)
    print(f"head: {n} clients left an endless HEAD /stream after 2 s")
elif phase == "queued":
    n = args[0] if args else 64
    sleepers = []
    for _ in range(64):
        s = connect()
        s.sendall(b"GET /sleep?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n")
        sleepers.append(s)
    leave_after(n, b"GET /sleep?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n", 1)
    print(f"queued: 64 sleep 3 s, {n} more left after 1 s")
elif phase == "slow":
    n, rate, secs = (args + [200, 4096, 20][len(args):])[:3]
    sel = selectors.DefaultSelector()
    socks, got = [], 0
    peak = proc()
    for i in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /files/big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        s.setblocking(False)
        socks.append(s)
        if i % 500 == 499:
            time.sleep(0.2)  # a ramp, not one burst past the pool's queue
    print(f"slow: {n} downloads of /files/big.bin at ~{rate} B/s each, {secs} s")
    started = time.monotonic()
    probed = False
    while time.monotonic() - started < secs:
        tick = time.monotonic()
        for s in socks:
            try:
                got += len(s.recv(rate))
            except BlockingIOError:
                pass
        rss, threads = proc()
        peak = (max(peak[0], rss), max(peak[1], threads))
        if not probed and time.monotonic() - started > secs / 2:
            probes("during")
            probed = True
        time.sleep(max(0, 1 - (time.monotonic() - tick)))
    print(f"  received {got / 1e6:.1f} MB in all; server at peak: RSS {peak[0] // 1024} MiB, "
          f"{peak[1]} threads")
    for s in socks:
        s.close()
else:
    sys.exit(__doc__)

probes("after")
time.sleep(2)
print(f"  sockets in CLOSE-WAIT 2 s after the clients left: {close_wait()}")
