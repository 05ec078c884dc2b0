#!/usr/bin/env bash
# HTTPS with outside clients: curl, Python's ssl and http.client, openssl s_client and
# headless Chromium, against the echo example with the test certificate (tests/tls/).
# Run by .ci/run. Fails loudly if a client is missing; pass --no-browser to leave
# Chromium out (CI does not).
set -euo pipefail
cd "$(dirname "$0")/.."
BROWSER=1
[[ ${1:-} == --no-browser ]] && BROWSER=0
need=(curl openssl python3)
((BROWSER)) && need+=(chromium certutil)
for tool in "${need[@]}"; do
    command -v "$tool" >/dev/null || { echo "tls_clients.sh: $tool is missing" >&2; exit 1; }
done

CERTS=tests/tls
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "tls_clients.sh: FAIL: $*" >&2; exit 1; }

cargo build -q --features tls --example echo
ECHO=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/examples/echo
"$ECHO" 127.0.0.1:0 --dir "$CERTS" --tls-cert "$CERTS/cert.pem" --tls-key "$CERTS/key.pem" \
    >"$WORK/out" 2>"$WORK/err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q listening "$WORK/out" && break; sleep 0.05; done
LINE=$(head -1 "$WORK/out")
[[ $LINE == "listening on https://127.0.0.1:"* ]] || fail "first line: $LINE"
PORT=${LINE##*:}
URL="https://localhost:$PORT"
echo "echo: $LINE"

# curl: the hello route, the file listing, a 1 MiB body both ways, TLS 1.2, ALPN.
[[ $(curl -sS --cacert "$CERTS/ca.pem" "$URL/") == "Hello, World!" ]] || fail "curl /"
# (Output goes to a file before grep reads it: `grep -q` in a pipe would cut the writer off.)
curl -sS --cacert "$CERTS/ca.pem" "$URL/files/" >"$WORK/listing"
grep -q 'renewed.pem' "$WORK/listing" || fail "curl /files/"
head -c 1048576 /dev/urandom >"$WORK/body"
curl -sS --cacert "$CERTS/ca.pem" --data-binary @"$WORK/body" "$URL/echo" >"$WORK/back"
cmp -s "$WORK/body" "$WORK/back" || fail "curl POST /echo: the body came back changed"
[[ $(curl -sS --cacert "$CERTS/ca.pem" --tlsv1.2 --tls-max 1.2 "$URL/") == "Hello, World!" ]] ||
    fail "curl TLS 1.2"
curl -sS -v --cacert "$CERTS/ca.pem" "$URL/" >/dev/null 2>"$WORK/verbose"
grep -qi 'ALPN.*accepted.*http/1.1' "$WORK/verbose" || fail "curl: ALPN http/1.1 not accepted"
echo "curl: ok (/, /files/, 1 MiB echo, TLS 1.2, ALPN)"

# Python: keep-alive over one verified connection; plain HTTP to the TLS port.
python3 - "$PORT" "$CERTS/ca.pem" <<'PY'
import http.client, socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=5)
for i in range(3):
    conn.request("GET", f"/query?n={i}")
    r = conn.getresponse()
    assert r.status == 200 and r.read() == f"n={i}\n".encode(), (r.status, i)
assert conn.sock.version() in ("TLSv1.3", "TLSv1.2"), conn.sock.version()
conn.close()
with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    while chunk := s.recv(4096):
        answer += chunk
assert answer == b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n", answer
print("python ssl: ok (keep-alive, verified; plain HTTP gets 400)")
PY

# openssl s_client: verification, ALPN, one request.
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
        -alpn http/1.1 -CAfile "$CERTS/ca.pem" -verify_return_error -ign_eof >"$WORK/s_client" 2>&1 ||
    fail "openssl s_client: $(tail -5 "$WORK/s_client")"
grep -q 'Verify return code: 0 (ok)' "$WORK/s_client" || fail "s_client: not verified"
grep -q 'ALPN protocol: http/1.1' "$WORK/s_client" || fail "s_client: no ALPN"
grep -q 'Hello, World!' "$WORK/s_client" || fail "s_client: no answer"
echo "openssl s_client: ok (verified, ALPN http/1.1)"

# Headless Chromium, trusting the test CA through its NSS database (no flag that skips
# certificate checks): it loads / and the file listing.
if ((BROWSER)); then
    export HOME="$WORK/home"
    mkdir -p "$HOME/.pki/nssdb"
    certutil -d "sql:$HOME/.pki/nssdb" -N --empty-password
    certutil -d "sql:$HOME/.pki/nssdb" -A -t "C,," -n "nethttp test CA" -i "$CERTS/ca.pem"
    browse() {
        timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
            --user-data-dir="$WORK/profile" --dump-dom "$1" 2>"$WORK/chromium.err"
    }
    browse "$URL/" >"$WORK/dom" || true
    grep -q 'Hello, World!' "$WORK/dom" || fail "chromium /: $(tail -3 "$WORK/chromium.err")"
    browse "$URL/files/" >"$WORK/dom" || true
    grep -q 'renewed.pem' "$WORK/dom" || fail "chromium /files/: $(tail -3 "$WORK/chromium.err")"
    timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$WORK/profile" --window-size=800,400 \
        --screenshot="$WORK/files.png" "$URL/files/" 2>/dev/null || true
    [[ -s $WORK/files.png ]] && cp "$WORK/files.png" "${TLS_SCREENSHOT:-/dev/null}" 2>/dev/null || true
    echo "chromium: ok (/ and /files/ over HTTPS, test CA trusted)"
fi

kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "echo exited with $? after SIGTERM"
SERVER_PID=""
echo "tls_clients.sh: all passed"
