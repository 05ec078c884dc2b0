#!/usr/bin/env bash
# HTTPS against nginx and Go's ListenAndServeTLS: the same certificate (tests/tls/cert.pem,
# ECDSA P-256), the same cipher suite and key exchange for all (TLS 1.3,
# TLS_AES_128_GCM_SHA256, X25519: benches/tls/client.cnf holds the clients to them).
# Each server runs pinned to core SERVER_CPU (default 0), the clients to CLIENT_CPU
# (default 1). Per round and server, in a rotating order:
#   keepalive    wrk -t1 -c64 over TLS: server CPU per request (utime+stime, /proc)
#   handshake    wrk -t1 -c16 with Connection: close, a full handshake per request (wrk
#                resumes no sessions): server CPU per handshake
#   idle         N connections (default 2000), each after one request, held idle:
#                the server's RSS growth per connection
# Prints each round, then the medians.
#
#   benches/tls.sh [-d SECS] [-r ROUNDS] [-n IDLE_CONNS]
#
# Needs wrk, nginx, go, python3, taskset (Debian: apt-get install wrk nginx golang-go).
# nethttp is the echo example (its `/` route is the hello handler) built with --features tls.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh

DURATION=5
ROUNDS=3
IDLE=2000
while getopts "d:r:n:" opt; do
    case $opt in
        d) DURATION=$OPTARG ;;
        r) ROUNDS=$OPTARG ;;
        n) IDLE=$OPTARG ;;
        *) sed -n '2,18p' "$0"; exit 2 ;;
    esac
done
for tool in wrk nginx go python3 taskset curl; do
    command -v "$tool" >/dev/null || { echo "benches/tls.sh: $tool is needed" >&2; exit 1; }
done
ulimit -n 20000
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
CERT=$PWD/tests/tls/cert.pem
KEY=$PWD/tests/tls/key.pem
CA=$PWD/tests/tls/ca.pem
export OPENSSL_CONF=$PWD/benches/tls/client.cnf
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cargo build -q --release --features tls --example echo
TARGET_DIR=$(target_dir)
(cd benches/tls && GOFLAGS=-trimpath go build -o "$WORK/go-tls-hello" .)

PORT=$((30000 + RANDOM % 10000))
command_for() { # name, addr
    case $1 in
        nethttp) echo "$TARGET_DIR/release/examples/echo $2 --tls-cert $CERT --tls-key $KEY" ;;
        go) echo "env GOMAXPROCS=1 $WORK/go-tls-hello $2 $CERT $KEY" ;;
        nginx)
            local prefix
            prefix=$(mktemp -d "$WORK/nginx.XXXXXX")
            mkdir -p "$prefix/tmp"
            sed "s|__LISTEN__|$2|; s|__CERT__|$CERT|; s|__KEY__|$KEY|" benches/tls/nginx.conf >"$prefix/nginx.conf"
            echo "nginx -p $prefix/ -c $prefix/nginx.conf -e $prefix/error.log"
            ;;
    esac
}


rss_kib() { # resident memory of a process group, in KiB
    local total=0 pid kib
    for pid in $(pgrep -g "$1"); do
        kib=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status 2>/dev/null || echo 0)
        total=$((total + ${kib:-0}))
    done
    echo "$total"
}

start() { # name -> sets PGID and ADDR
    PORT=$((PORT + 1))
    ADDR=127.0.0.1:$PORT
    setsid taskset -c "$SERVER_CPU" bash -c "exec $(command_for "$1" "$ADDR")" >/dev/null 2>"$WORK/$1.err" &
    PGID=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null --cacert "$CA" "https://localhost:$PORT/" && return
        sleep 0.1
    done
    echo "benches/tls.sh: $1 did not start: $(cat "$WORK/$1.err")" >&2
    exit 1
}

stop() {
    kill -TERM -- -"$PGID" 2>/dev/null || true
    wait "$PGID" 2>/dev/null || true
}

us_per() { # ticks, count
    awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v n="$2" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }'
}

wrk_run() { # name, scenario -> prints "µs/req req/s errors"
    start "$1"
    local args=(-t1 -d"${DURATION}s")
    case $2 in
        keepalive) args+=(-c64) ;;
        handshake) args+=(-c16 -H "Connection: close") ;;
    esac
    taskset -c "$CLIENT_CPU" wrk -t1 -c16 -d1s "https://localhost:$PORT/" >/dev/null # warm-up
    local before after out total rps errors
    before=$(cpu_ticks "$PGID")
    out=$(taskset -c "$CLIENT_CPU" wrk "${args[@]}" "https://localhost:$PORT/")
    after=$(cpu_ticks "$PGID")
    stop
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    errors=$(awk '/Socket errors|Non-2xx/ {print}' <<<"$out" | tr '\n' ' ')
    echo "$(us_per $((after - before)) "$total") $rps ${errors:-none}"
}

idle_run() { # name -> prints "bytes/conn"
    start "$1"
    python3 benches/tls/idle.py 127.0.0.1 "$PORT" 1 "$CA" </dev/null >/dev/null # warm the server
    sleep 0.5
    local before after
    before=$(rss_kib "$PGID")
    exec 7> >(taskset -c "$CLIENT_CPU" python3 benches/tls/idle.py 127.0.0.1 "$PORT" "$IDLE" "$CA" >"$WORK/idle.out")
    for _ in $(seq 600); do grep -q ready "$WORK/idle.out" 2>/dev/null && break; sleep 0.1; done
    grep -q ready "$WORK/idle.out" || { echo "benches/tls.sh: idle clients failed" >&2; exit 1; }
    sleep 1
    after=$(rss_kib "$PGID")
    exec 7>&-
    sleep 0.5
    stop
    rm -f "$WORK/idle.out"
    awk -v a="$after" -v b="$before" -v n="$IDLE" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }'
}

SERVERS=(nethttp go nginx)
declare -A KA HS IDLEB
echo "| round | server | keep-alive µs/req | req/s | handshake µs/conn | conn/s | idle B/conn | errors |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
for round in $(seq "$ROUNDS"); do
    # Rotate the order each round so no server always goes first.
    order=("${SERVERS[@]:$((round % 3))}" "${SERVERS[@]:0:$((round % 3))}")
    for name in "${order[@]}"; do
        read -r ka ka_rps ka_err < <(wrk_run "$name" keepalive)
        read -r hs hs_rps hs_err < <(wrk_run "$name" handshake)
        idle=$(idle_run "$name")
        KA[$name]+="$ka "
        HS[$name]+="$hs "
        IDLEB[$name]+="$idle "
        echo "| $round | $name | $ka | $ka_rps | $hs | $hs_rps | $idle | $ka_err $hs_err |"
    done
done

echo
echo "Medians over $ROUNDS rounds (server pinned to core $SERVER_CPU, clients on core $CLIENT_CPU):"
echo
echo "| server | keep-alive CPU µs/req | handshake CPU µs/conn | idle RSS B/conn |"
echo "|---|---:|---:|---:|"
for name in "${SERVERS[@]}"; do
    echo "| $name | $(median <<<"${KA[$name]}") | $(median <<<"${HS[$name]}") | $(median <<<"${IDLEB[$name]}") |"
done
