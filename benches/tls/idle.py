"""Opens N TLS connections to a server, sends one keep-alive request on each and reads
its answer, then holds them all open, idle, until stdin closes. Prints `ready` once every
connection is idle. The OpenSSL configuration (OPENSSL_CONF) picks the cipher suite.

    python3 benches/tls/idle.py HOST PORT N CAFILE
"""

import socket
import ssl
import sys

host, port, count, ca = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
held = []
for _ in range(count):
    raw = socket.create_connection((host, port), timeout=10)
    # Without it, delayed ACKs hold each handshake up by tens of milliseconds.
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tls = ctx.wrap_socket(raw, server_hostname="localhost")
    tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    answer = b""
    while not answer.endswith(b"Hello, World!"):
        chunk = tls.recv(4096)
        if not chunk:
            sys.exit("closed early: %r" % answer)
        answer += chunk
    held.append(tls)
print("ready", flush=True)
sys.stdin.read()
