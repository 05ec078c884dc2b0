#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/{head,chunked,conn,tls,websocket,proxy}/ from real traffic
and from hand-made hostile requests.

Real traffic: fuzz/traffic/*.http, the bytes curl, headless Chromium and wrk sent to a
recording server on loopback (one file per client run). Hostile: the smuggling vectors and
malformed requests listed below. Each seed gets the 7-byte prefix the targets read
(fuzz/src/lib.rs): flags (bits 0-1: limits; bit 2: target-specific) and three cut points.
The conn target's seeds for its routes also come over TLS (flags bit 3); the tls target's are
ClientHellos that Python's ssl module writes, plain HTTP and garbage; the websocket target's
are client frames: whole and fragmented messages, pings, closes, and each rule broken; the
proxy target's are PROXY protocol headers (versions 1 and 2) before a request, and each rule
broken.

    python3 fuzz/make_corpus.py      # rewrites the directories
"""

import os
import struct
from pathlib import Path

FUZZ = Path(__file__).resolve().parent

H = "Host: x\r\n"

# Requests that try to make two parties disagree on where a request ends, or that bend the
# grammar: every one of these must be refused or read one exact way.
HOSTILE = {
    # CL.TE and TE.CL: both framing fields, each party trusting a different one.
    "smuggle-cl-te": f"POST / HTTP/1.1\r\n{H}Content-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED",
    "smuggle-te-cl": f"POST / HTTP/1.1\r\n{H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
    # TE.TE: an obfuscated Transfer-Encoding that one party ignores.
    "te-xchunked": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "te-space-before-colon": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "te-second-field": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\nTransfer-encoding: x\r\n\r\n0\r\n\r\n",
    "te-tab": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n",
    "te-list": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "te-chunked-identity": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "te-quoted": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n",
    "te-underscore": f"POST / HTTP/1.1\r\n{H}Transfer_Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-folded": f"POST / HTTP/1.1\r\n{H}X-A: a\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-http10": "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-vertical-tab": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n",
    # Content-Length spellings.
    "cl-duplicate-differ": f"POST / HTTP/1.1\r\n{H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "cl-duplicate-same": f"POST / HTTP/1.1\r\n{H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "cl-list": f"POST / HTTP/1.1\r\n{H}Content-Length: 5, 5\r\n\r\nhello",
    "cl-leading-zeros": f"POST / HTTP/1.1\r\n{H}Content-Length: 005\r\n\r\nhello",
    "cl-plus": f"POST / HTTP/1.1\r\n{H}Content-Length: +5\r\n\r\nhello",
    "cl-minus": f"POST / HTTP/1.1\r\n{H}Content-Length: -1\r\n\r\nhello",
    "cl-inner-space": f"POST / HTTP/1.1\r\n{H}Content-Length: 5 5\r\n\r\nhello",
    "cl-hex": f"POST / HTTP/1.1\r\n{H}Content-Length: 0x5\r\n\r\nhello",
    "cl-huge": f"POST / HTTP/1.1\r\n{H}Content-Length: 99999999999999999999\r\n\r\nhello",
    "cl-over-body-limit": f"POST / HTTP/1.1\r\n{H}Content-Length: 9999999\r\n\r\nhello",
    "cl-space-before-colon": f"POST / HTTP/1.1\r\n{H}Content-Length : 5\r\n\r\nhello",
    "cl-on-get": f"GET / HTTP/1.1\r\n{H}Content-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n{H}\r\n",
    # Line endings and folding.
    "obs-fold": f"GET / HTTP/1.1\r\n{H}X-A: a\r\n b\r\n\r\n",
    "bare-lf": "GET / HTTP/1.1\nHost: x\n\nGET /2 HTTP/1.1\nHost: x\n\n",
    "bare-lf-mixed": "GET / HTTP/1.1\r\nHost: x\n\r\n",
    "bare-cr": "GET / HTTP/1.1\rHost: x\r\n\r\n",
    "leading-blank-lines": f"\r\n\r\n\nGET / HTTP/1.1\r\n{H}\r\n",
    # NUL and other control bytes.
    "nul-in-value": f"GET / HTTP/1.1\r\n{H}X-A: a\x00b\r\n\r\n",
    "nul-in-target": f"GET /a\x00b HTTP/1.1\r\n{H}\r\n",
    "nul-in-method": f"GE\x00T / HTTP/1.1\r\n{H}\r\n",
    "nul-in-name": f"GET / HTTP/1.1\r\n{H}X-\x00A: a\r\n\r\n",
    "del-in-value": f"GET / HTTP/1.1\r\n{H}X-A: a\x7fb\r\n\r\n",
    "obs-text-value": f"GET / HTTP/1.1\r\n{H}X-A: caf\xe9\r\n\r\n",
    # Host.
    "host-missing": "GET / HTTP/1.1\r\n\r\n",
    "host-twice": "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "host-userinfo": "GET / HTTP/1.1\r\nHost: a@b\r\n\r\n",
    "absolute-form": "GET http://example.com/x?y=1 HTTP/1.1\r\nHost: other\r\n\r\n",
    "connect": "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    "options-star": f"OPTIONS * HTTP/1.1\r\n{H}\r\n",
    "get-star": f"GET * HTTP/1.1\r\n{H}\r\n",
    # Request lines.
    "double-space": f"GET  / HTTP/1.1\r\n{H}\r\n",
    "trailing-space": f"GET / HTTP/1.1 \r\n{H}\r\n",
    "http2-version": f"GET / HTTP/2.0\r\n{H}\r\n",
    "http12-version": f"GET / HTTP/1.2\r\n{H}\r\n",
    "http110-version": f"GET / HTTP/1.10\r\n{H}\r\n",
    "lowercase-version": f"GET / http/1.1\r\n{H}\r\n",
    "http09": "GET /\r\n\r\n",
    "pri-preface": "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "tls-hello": "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    # Expectations and versions.
    "expect-continue": f"POST / HTTP/1.1\r\n{H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
    "expect-other": f"POST / HTTP/1.1\r\n{H}Expect: 200-ok\r\nContent-Length: 5\r\n\r\nhello",
    "http10-keep-alive": "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
    "connection-close-then-more": f"GET / HTTP/1.1\r\n{H}Connection: close\r\n\r\nGET /2 HTTP/1.1\r\n{H}\r\n",
    # Chunked bodies.
    "chunk-ext-trailers": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5;a=b;c=\"d\"\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
    "chunk-forbidden-trailer": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\nhello",
    "chunk-size-0x": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    "chunk-size-negative": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    "chunk-size-overflow": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n",
    "chunk-size-bare-lf": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
    "chunk-data-no-crlf": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
    "chunk-size-space": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0 \r\n\r\n",
    "chunk-ext-bare-lf": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n",
    "chunk-over-body-limit": f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n2000\r\n" + "a" * 0x2000 + "\r\n0\r\n\r\n",
    # Size limits.
    "long-target": "GET /" + "a" * 2000 + f" HTTP/1.1\r\n{H}\r\n",
    "long-header": f"GET / HTTP/1.1\r\n{H}X-Big: " + "b" * 2000 + "\r\n\r\n",
    "many-headers": f"GET / HTTP/1.1\r\n{H}" + "".join(f"X-{i}: {i}\r\n" for i in range(120)) + "\r\n",
}

# Requests aimed at the conn target's routes (fuzz_targets/conn.rs).
ROUTES = {
    "route-chunked": f"GET /chunked HTTP/1.1\r\n{H}\r\nGET /chunked HTTP/1.0\r\n\r\n",
    "route-pool-echo": f"POST /p/echo HTTP/1.1\r\n{H}Content-Length: 5\r\n\r\nhelloGET /p/chunked HTTP/1.1\r\n{H}\r\n",
    "route-pool-chunked-body": f"POST /p/x HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "route-pool-expect": f"POST /p/chunked HTTP/1.1\r\n{H}Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n{H}\r\n",
    "route-statuses": f"GET /204 HTTP/1.1\r\n{H}\r\nGET /304 HTTP/1.1\r\n{H}\r\nHEAD /big HTTP/1.1\r\n{H}\r\n",
    "route-big-pipelined": f"GET /big HTTP/1.1\r\n{H}\r\nGET /big HTTP/1.1\r\n{H}\r\nGET / HTTP/1.1\r\n{H}\r\n",
    "route-close": f"GET /close HTTP/1.1\r\n{H}\r\nGET / HTTP/1.1\r\n{H}\r\n",
}

# Bare chunked bodies for the chunked target.
BODIES = {
    "body-simple": "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    "body-ext-trailers": "5;name=v\r\nhello\r\n6 \r\n world\r\n0\r\nX-Sum: 1\r\nX-B: 2\r\n\r\nNEXT",
    "body-upper-hex": "A\r\n0123456789\r\n0\r\n\r\n",
    "body-empty": "0\r\n\r\n",
    "body-forbidden-trailer": "0\r\nHost: y\r\n\r\n",
    "body-bad-size": "x\r\n",
    "body-long-ext": "1;" + "e" * 5000 + "\r\na\r\n0\r\n\r\n",
    "body-16-digits": "000000000000000a\r\n0123456789\r\n0\r\n\r\n",
    # A byte per chunk is legitimate streaming; padded with 4000 bytes of extension per
    # chunk, it passes the framing-overhead limit (16 KiB, as Go) at the fifth chunk.
    "body-one-byte-chunks": "1\r\nx\r\n" * 2000 + "0\r\n\r\n",
    "body-overhead": ("1;" + "e" * 4000 + "\r\nx\r\n") * 6 + "0\r\n\r\n",
}


def prefix(flags, cuts=(0, 0, 0)):
    return bytes([flags]) + b"".join(struct.pack("<H", c) for c in cuts)


def write(target, name, data):
    d = FUZZ / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def client_hello(tls_max):
    """The first flight of a Python (OpenSSL) client: its ClientHello record."""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = tls_max
    ctx.set_alpn_protocols(["http/1.1"])
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    session = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        session.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def tls_seeds():
    import ssl

    hello13 = client_hello(ssl.TLSVersion.TLSv1_3)
    hello12 = client_hello(ssl.TLSVersion.TLSv1_2)
    yield "hello13", prefix(0) + hello13
    yield "hello13-paused", prefix(4, (1, 4, 40)) + hello13
    yield "hello12", prefix(0) + hello12
    yield "hello13-twice", prefix(0) + hello13 + hello13
    yield "hello13-then-data", prefix(0) + hello13 + b"\x17\x03\x03\x00\x05hello"
    yield "alert-first", prefix(0) + b"\x15\x03\x03\x00\x02\x02\x28"
    yield "ccs-first", prefix(0) + b"\x14\x03\x03\x00\x01\x01"
    yield "huge-record", prefix(0) + b"\x16\x03\x01\xff\xff" + b"\x01" * 100
    yield "plain-get", prefix(0) + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    yield "plain-get-paused", prefix(4, (1, 1, 1)) + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    yield "plain-options", prefix(0) + b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"
    yield "garbage", prefix(0) + bytes(range(256))


def ws_frame(first, payload, mask=b"\x12\x34\x56\x78", masked=True):
    """A client WebSocket frame: `first` is FIN/RSV/opcode."""
    n = len(payload)
    if n < 126:
        head = bytes([first, (0x80 if masked else 0) | n])
    elif n < 65536:
        head = bytes([first, (0x80 if masked else 0) | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, (0x80 if masked else 0) | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_seeds():
    f = ws_frame
    close = lambda code, reason=b"": f(0x88, struct.pack(">H", code) + reason)
    yield "text", prefix(3) + f(0x81, b"hello")
    yield "binary-paused", prefix(3, (1, 2, 3)) + f(0x82, bytes(range(200)))
    yield "fragments-ping", prefix(3) + f(0x01, b"frag") + f(0x89, b"ping") + f(0x00, b"men") + f(0x80, b"ted")
    yield "long-16bit", prefix(3) + f(0x82, b"x" * 300)
    yield "long-64bit", prefix(3, (2, 8, 4)) + f(0x82, b"y" * 70000)
    yield "close", prefix(3) + f(0x81, b"bye") + close(1000, b"done")
    yield "close-empty", prefix(3) + f(0x88, b"")
    yield "close-bad-code", prefix(3) + close(1005)
    yield "close-one-byte", prefix(3) + f(0x88, b"\x03")
    yield "close-bad-utf8", prefix(3) + close(1000, b"\xff")
    yield "unmasked", prefix(3) + f(0x81, b"bare", masked=False)
    yield "rsv", prefix(3) + f(0xC1, b"rsv")
    yield "opcode-3", prefix(3) + f(0x83, b"op")
    yield "lone-continuation", prefix(3) + f(0x80, b"cont")
    yield "message-in-message", prefix(3) + f(0x01, b"a") + f(0x81, b"b")
    yield "fragmented-ping", prefix(3) + f(0x09, b"p")
    yield "long-ping", prefix(3) + f(0x89, b"p" * 126)
    yield "bad-utf8", prefix(3) + f(0x81, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xed\xa0\x80")
    yield "too-big-16", prefix(0) + f(0x82, b"z" * 17)
    yield "too-big-joined", prefix(1) + f(0x02, b"a" * 600) + f(0x80, b"b" * 600)
    yield "pong", prefix(3) + f(0x8A, b"unsolicited")


def crc32c(data):
    """CRC32c (Castagnoli), as a PROXY v2 header's CRC32C TLV carries it."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def proxy_v2(ver_cmd, family, block, tlvs=(), crc=False, length=None):
    """A PROXY v2 header: the address block, TLVs, and a CRC32C TLV last when `crc`."""
    body = block + b"".join(bytes([t]) + struct.pack(">H", len(v)) + v for t, v in tlvs)
    if crc:
        body += b"\x03\x00\x04\x00\x00\x00\x00"
    n = len(body) if length is None else length
    head = b"\r\n\r\n\x00\r\nQUIT\n" + bytes([ver_cmd, family]) + struct.pack(">H", n)
    out = head + body
    if crc:
        out = out[:-4] + struct.pack(">I", crc32c(out))
    return out


def proxy_seeds():
    get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    ffff = ":".join(["ffff"] * 8).encode()
    ip4 = bytes([192, 0, 2, 1, 198, 51, 100, 7]) + struct.pack(">HH", 56324, 443)
    ip6 = bytes.fromhex("20010db8000000000000000000000001") + bytes(15) + b"\x01" + struct.pack(">HH", 1, 2)
    tlvs = [(0x01, b"h2"), (0x02, b"example.com"), (0x05, b"id-1234")]
    valid = {
        "v1-tcp4": b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
        "v1-tcp6": b"PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 1 65535\r\n",
        "v1-tcp6-longest": b"PROXY TCP6 " + ffff + b" " + ffff + b" 65535 65535\r\n",
        "v1-unknown": b"PROXY UNKNOWN\r\n",
        "v1-unknown-longest": b"PROXY UNKNOWN " + ffff + b" " + ffff + b" 65535 65535\r\n",
        "v2-tcp4-tlvs": proxy_v2(0x21, 0x11, ip4, tlvs),
        "v2-tcp4-crc": proxy_v2(0x21, 0x11, ip4, tlvs, crc=True),
        "v2-tcp6-tlv": proxy_v2(0x21, 0x21, ip6, [(0x04, b"\x00" * 5)]),
        "v2-local": proxy_v2(0x20, 0x00, b""),
        "v2-local-garbage": proxy_v2(0x20, 0x11, b"\xff" * 7),
        "v2-udp4": proxy_v2(0x21, 0x12, ip4),
        "v2-unix": proxy_v2(0x21, 0x31, b"/tmp/a".ljust(108, b"\x00") + b"/tmp/b".ljust(108, b"\x00")),
        "v2-unspec": proxy_v2(0x21, 0x00, b"\x01\x02\x03"),
    }
    bad_crc = bytearray(proxy_v2(0x21, 0x11, ip4, tlvs, crc=True))
    bad_crc[-1] ^= 1
    malformed = {
        "not-proxy": get,
        "lowercase": b"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
        "v1-too-long": b"PROXY UNKNOWN " + ffff + b" " + ffff + b" 65535 655350\r\n",
        "v1-bare-lf": b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
        "v1-bare-cr": b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",
        "v1-bad-ip": b"PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
        "v1-leading-zero-ip": b"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
        "v1-port-65536": b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
        "v1-port-leading-zero": b"PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n",
        "v1-double-space": b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
        "v1-tcp4-ipv6": b"PROXY TCP4 ::1 ::1 1 2\r\n",
        "v1-tcp6-ipv4": b"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
        "v2-version-1": proxy_v2(0x11, 0x11, ip4),
        "v2-command-2": proxy_v2(0x22, 0x11, ip4),
        "v2-family-unknown": proxy_v2(0x21, 0x41, ip4),
        "v2-too-short": proxy_v2(0x21, 0x21, ip4),
        "v2-tlv-overrun": proxy_v2(0x21, 0x11, ip4 + b"\x04\x00\x09abc"),
        "v2-tlv-truncated": proxy_v2(0x21, 0x11, ip4 + b"\x04\x00"),
        "v2-bad-crc": bytes(bad_crc),
        "v2-over-cap": proxy_v2(0x21, 0x11, ip4, length=0xFFFF),
    }
    for name, header in {**valid, **malformed}.items():
        raw = header + get
        yield "proxy-" + name, prefix(0) + raw
        # In pieces: the first byte, the next few, a cut inside the header, then the rest.
        n = len(header)
        yield "proxy-" + name + "-cut", prefix(0, (1, 5, max(n // 2 - 6, 0))) + raw


def requests():
    for path in sorted((FUZZ / "traffic").glob("*.http")):
        yield path.stem, path.read_bytes()
    for name, text in HOSTILE.items():
        yield name, text.encode("latin-1")


def main():
    for target in ("head", "chunked", "conn", "tls", "websocket", "proxy"):
        d = FUZZ / "corpus" / target
        if d.exists():
            for f in d.iterdir():
                # Inputs a fuzzer found (`found-*`) are committed by hand; only ours go.
                if not f.name.startswith("found-"):
                    f.unlink()
    for name, raw in requests():
        # Default limits whole; the smallest limits cut near the start; the server's
        # defaults cut at three points inside.
        n = len(raw)
        variants = [
            (prefix(0), ""),
            (prefix(1, (1, 2, 3)), "-tiny"),
            (prefix(3, (n // 4, n // 4, n // 4)), "-cut"),
        ]
        for pre, suffix in variants:
            write("head", name + suffix, pre + raw)
            write("conn", name + suffix, pre + raw)
        write("conn", name + "-paused", prefix(4, (n // 3, 1, n // 3)) + raw)
    for name, text in ROUTES.items():
        raw = text.encode("latin-1")
        write("conn", name, prefix(0) + raw)
        write("conn", name + "-paused", prefix(4, (len(raw) // 2, 1, 1)) + raw)
        # The first head alone, then a pause: the server sees it before anything else.
        head = raw.index(b"\r\n\r\n") + 4
        write("conn", name + "-head-first", prefix(4, (head, 0, 0)) + raw)
        # The same over TLS (flags bit 3), whole and in pieces.
        write("conn", name + "-tls", prefix(8) + raw)
        write("conn", name + "-tls-paused", prefix(12, (len(raw) // 2, 1, 1)) + raw)
    for name, raw in requests():
        if name.startswith(("curl-", "chromium-")):
            write("conn", name + "-tls", prefix(8) + raw)
    for name, data in tls_seeds():
        write("tls", name, data)
    for name, data in ws_seeds():
        write("websocket", name, data)
    for name, data in proxy_seeds():
        write("proxy", name, data)
    for name, text in BODIES.items():
        raw = text.encode("latin-1")
        write("chunked", name, prefix(0) + raw)
        write("chunked", name + "-cut", prefix(0, (1, 3, 7)) + raw)
    traffic = FUZZ / "traffic" / "curl-chunked.http"
    raw = traffic.read_bytes()
    write("chunked", "curl-chunked-body", prefix(0) + raw[raw.index(b"\r\n\r\n") + 4 :])
    # Encoder round trips (flags bit 2): response bodies written in pieces.
    for name, (cuts, body) in {
        "encode-pieces": ((3, 0, 5), b"hello, chunked world"),
        "encode-empty": ((0, 0, 0), b""),
        "encode-large": ((4096, 1, 300), bytes(range(256)) * 20),
    }.items():
        write("chunked", name, prefix(4, cuts) + body)
    targets = ("head", "chunked", "conn", "tls", "websocket", "proxy")
    count = {t: len(os.listdir(FUZZ / "corpus" / t)) for t in targets}
    print("seeds:", count)


if __name__ == "__main__":
    main()
