"""The client side of benches/websocket.sh: opens N WebSockets to ws://HOST:PORT/ws (the
handshake by hand, no library), says `ready` once every one has its 101, waits for a line
on stdin, then sends ROUNDS chat messages from the first socket and times how long each
takes to reach all N sockets (the chat example broadcasts every message). Prints
`broadcast <seconds>` per round, then waits for stdin to close.

    python3 benches/websocket_client.py HOST PORT N ROUNDS
"""

import os
import selectors
import socket
import sys
import time

host, port, count, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
REQUEST = (
    f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()

sel = selectors.DefaultSelector()
socks = []
pending = {}
# Connect in batches, so the accept queue never overflows.
for start in range(0, count, 500):
    batch = []
    for _ in range(min(500, count - start)):
        s = socket.create_connection((host, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(REQUEST)
        batch.append(s)
    for s in batch:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                sys.exit("closed during the handshake")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101 "):
            sys.exit(f"handshake refused: {head[:80]!r}")
        s.setblocking(False)
        socks.append(s)
print("ready", flush=True)
sys.stdin.readline()

for s in socks:
    sel.register(s, selectors.EVENT_READ)


def masked_text(text):
    payload = text.encode()
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + body


for r in range(rounds):
    message = f"round {r}"
    want = len(message) + 2
    got = {}
    began = time.monotonic()
    socks[0].setblocking(True)
    socks[0].sendall(masked_text(message))
    socks[0].setblocking(False)
    while len(got) < count or any(v < want for v in got.values()):
        for key, _ in sel.select(timeout=10):
            data = key.fileobj.recv(65536)
            got[key.fileobj] = got.get(key.fileobj, 0) + len(data)
        if time.monotonic() - began > 60:
            sys.exit(f"only {len(got)} of {count} sockets got the broadcast")
    print(f"broadcast {time.monotonic() - began:.4f}", flush=True)
sys.stdin.read()
