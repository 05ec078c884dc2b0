#!/usr/bin/env bash
# Big files: a 1 GiB file served to one client, then to 16 at once, by nethttp's file
# server (the fileserver example: sendfile(2) on plain connections), nginx (one worker,
# sendfile on) and Go's http.FileServer (GOMAXPROCS=1). Each server is pinned to core
# SERVER_CPU (default 0), the curl clients to CLIENT_CPU (default 1); the page cache is
# warm. Per round and server: wall time, throughput and the server's CPU time per GiB
# sent (utime+stime of its process group). Prints the rounds, then the medians.
#
#   benches/bigfile.sh [-r ROUNDS]      (default 3)
#
# Needs curl, nginx, go (Debian: apt-get install nginx golang-go).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh
ROUNDS=3
while getopts "r:" opt; do
    case $opt in
        r) ROUNDS=$OPTARG ;;
        *) sed -n '2,12p' "$0"; exit 2 ;;
    esac
done
for tool in curl nginx go taskset; do
    command -v "$tool" >/dev/null || { echo "benches/bigfile.sh: $tool is needed" >&2; exit 1; }
done
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/root"
chmod 755 "$WORK" "$WORK/root" # nginx's worker runs as another user
head -c 1073741824 /dev/urandom >"$WORK/root/big.bin"
chmod 644 "$WORK/root/big.bin"
cat "$WORK/root/big.bin" >/dev/null # the page cache holds it from now on

cargo build -q --release --example fileserver
TARGET=$(target_dir)
(cd benches/bigfile && GOFLAGS=-trimpath go build -o "$WORK/bigfile-go" .)

PORT=$((30000 + RANDOM % 10000))
start() { # name -> PGID, ADDR
    PORT=$((PORT + 1))
    ADDR=127.0.0.1:$PORT
    local cmd
    case $1 in
        nethttp) cmd="$TARGET/release/examples/fileserver $WORK/root $ADDR" ;;
        go) cmd="env GOMAXPROCS=1 $WORK/bigfile-go $ADDR $WORK/root" ;;
        nginx)
            local prefix
            prefix=$(mktemp -d "$WORK/nginx.XXXXXX")
            mkdir -p "$prefix/tmp"
            sed "s|__LISTEN__|$ADDR|; s|__ROOT__|$WORK/root|" benches/bigfile/nginx.conf >"$prefix/nginx.conf"
            cmd="nginx -p $prefix/ -c $prefix/nginx.conf -e $prefix/error.log"
            ;;
    esac
    setsid taskset -c "$SERVER_CPU" bash -c "exec $cmd" >/dev/null 2>&1 &
    PGID=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null -r 0-0 "http://$ADDR/big.bin" && return
        sleep 0.1
    done
    echo "benches/bigfile.sh: $1 did not start" >&2
    exit 1
}


run() { # name, clients -> "seconds GiB/s cpu_ms_per_GiB"
    start "$1"
    local before after began ended
    before=$(cpu_ticks "$PGID")
    began=$(date +%s.%N)
    for i in $(seq "$2"); do
        taskset -c "$CLIENT_CPU" curl -s -o /dev/null -w '%{size_download}' "http://$ADDR/big.bin" \
            >"$WORK/got.$i" &
    done
    wait $(jobs -p | grep -v "^$PGID$") 2>/dev/null || true
    for i in $(seq "$2"); do
        [[ $(cat "$WORK/got.$i") == 1073741824 ]] ||
            { echo "benches/bigfile.sh: $1 sent $(cat "$WORK/got.$i") bytes, not 1 GiB" >&2; exit 1; }
    done
    ended=$(date +%s.%N)
    after=$(cpu_ticks "$PGID")
    kill -TERM -- -"$PGID" 2>/dev/null || true
    wait "$PGID" 2>/dev/null || true
    awk -v b="$began" -v e="$ended" -v n="$2" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
        'BEGIN { s = e - b; printf "%.2f %.2f %.0f\n", s, n / s, t / hz * 1000 / n }'
}

SERVERS=(nethttp nginx go)
declare -A CPU1 CPU16 TP1 TP16
echo "| round | server | 1 client: s | GiB/s | CPU ms/GiB | 16 clients: s | GiB/s | CPU ms/GiB |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for round in $(seq "$ROUNDS"); do
    order=("${SERVERS[@]:$((round % 3))}" "${SERVERS[@]:0:$((round % 3))}")
    for name in "${order[@]}"; do
        read -r s1 tp1 c1 < <(run "$name" 1)
        read -r s16 tp16 c16 < <(run "$name" 16)
        CPU1[$name]+="$c1 " CPU16[$name]+="$c16 " TP1[$name]+="$tp1 " TP16[$name]+="$tp16 "
        echo "| $round | $name | $s1 | $tp1 | $c1 | $s16 | $tp16 | $c16 |"
    done
done
echo
echo "Medians over $ROUNDS rounds (server on core $SERVER_CPU, curl on core $CLIENT_CPU):"
echo
echo "| server | 1 client: GiB/s | CPU ms/GiB | 16 clients: GiB/s | CPU ms/GiB |"
echo "|---|---:|---:|---:|---:|"
for name in "${SERVERS[@]}"; do
    echo "| $name | $(median <<<"${TP1[$name]}") | $(median <<<"${CPU1[$name]}") | $(median <<<"${TP16[$name]}") | $(median <<<"${CPU16[$name]}") |"
done
