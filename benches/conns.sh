#!/usr/bin/env bash
# Cost as connections grow: wrk keep-alive load with 64, 1,000 and 10,000 connections
# against the hello example (and any peers named), the server pinned to core SERVER_CPU
# (default 0), wrk to CLIENT_CPU (default 1). Prints req/s and the server's CPU time per
# request (utime+stime, /proc) for each size, and the ratio to the 64-connection cost;
# medians over rounds.
#
#   benches/conns.sh [-d SECS] [-r ROUNDS] [TARGET ...]
#
# A TARGET is NAME='CMD {addr}' (the command that serves on {addr}; {dir} is a fresh
# temporary directory that holds nginx.conf for that address), or the name of a peer of
# the shared bench (../shared/bench, read-only): nethttp (the default), ceiling, hyper,
# actix-web, may_minihttp, tiny_http, go, nginx. The peers' binaries are looked for in
# PEER_BIN (default /tmp/nethttp-bench/peers-target/release), Go's hello at GO_HELLO
# (default /tmp/nethttp-bench/.build/go-hello), nginx's configuration at NGINX_CONF.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh
DURATION=5
ROUNDS=3
while getopts "d:r:" opt; do
    case $opt in
        d) DURATION=$OPTARG ;;
        r) ROUNDS=$OPTARG ;;
        *) sed -n '2,16p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
TARGETS=("$@")
command -v wrk >/dev/null || { echo "benches/conns.sh: wrk is needed" >&2; exit 1; }
ulimit -n 20000
cargo build -q --release --example hello
TARGET_DIR=$(target_dir)
PEER_BIN=${PEER_BIN:-/tmp/nethttp-bench/peers-target/release}
GO_HELLO=${GO_HELLO:-/tmp/nethttp-bench/.build/go-hello}
NGINX_CONF=${NGINX_CONF:-../shared/bench/nginx/nginx.conf}
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(nethttp)
for i in "${!TARGETS[@]}"; do
    case ${TARGETS[i]} in
        *=*) ;;
        nethttp) TARGETS[i]="nethttp=$TARGET_DIR/release/examples/hello {addr}" ;;
        ceiling) TARGETS[i]="ceiling=$PEER_BIN/ceiling {addr}" ;;
        hyper | actix-web | may_minihttp | tiny_http)
            TARGETS[i]="${TARGETS[i]}=$PEER_BIN/peer-${TARGETS[i]//_/-} {addr}" ;;
        go) TARGETS[i]="go=env GOMAXPROCS=1 $GO_HELLO {addr}" ;;
        nginx) TARGETS[i]="nginx=nginx -p {dir}/ -c {dir}/nginx.conf -e {dir}/error.log" ;;
        *) echo "benches/conns.sh: unknown target ${TARGETS[i]}" >&2; exit 2 ;;
    esac
done
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PORT=$((30000 + RANDOM % 10000))


run() { # cmd, connections -> "req/s us_per_req"
    PORT=$((PORT + 1))
    local addr=127.0.0.1:$PORT dir cmd
    dir=$(mktemp -d)
    mkdir "$dir/tmp"
    if [[ -r $NGINX_CONF ]]; then sed "s/__LISTEN__/$addr/" "$NGINX_CONF" >"$dir/nginx.conf"; fi
    cmd=${1//\{addr\}/$addr}
    setsid taskset -c "$SERVER_CPU" bash -c "ulimit -n 20000; exec ${cmd//\{dir\}/$dir}" >/dev/null 2>&1 &
    local pgid=$!
    for _ in $(seq 100); do curl -s -o /dev/null "http://$addr/" && break; sleep 0.1; done
    local before after out
    before=$(cpu_ticks "$pgid")
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$2" -d"${DURATION}s" "http://$addr/")
    after=$(cpu_ticks "$pgid")
    kill -TERM -- -"$pgid" 2>/dev/null || true
    wait "$pgid" 2>/dev/null || true
    # The whole group is gone (nginx's worker as well as its master) before the next run.
    for _ in $(seq 50); do pgrep -g "$pgid" >/dev/null || break; sleep 0.1; done
    kill -KILL -- -"$pgid" 2>/dev/null || true
    rm -rf "$dir"
    local total rps
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$total" -v r="$rps" \
        'BEGIN { printf "%s %.2f\n", r, t / hz * 1e6 / n }'
}

declare -A US
echo "| round | target | connections | req/s | server CPU µs/req |"
echo "|---|---|---:|---:|---:|"
for round in $(seq "$ROUNDS"); do
    for target in "${TARGETS[@]}"; do
        for conns in 64 1000 10000; do
            read -r rps us < <(run "${target#*=}" "$conns")
            US[${target%%=*},$conns]+="$us "
            echo "| $round | ${target%%=*} | $conns | $rps | $us |"
        done
    done
done
echo
echo "| target | µs/req at 64 | at 1,000 | at 10,000 | 10,000 ÷ 64 |"
echo "|---|---:|---:|---:|---:|"
for target in "${TARGETS[@]}"; do
    name=${target%%=*}
    a=$(median <<<"${US[$name,64]}") b=$(median <<<"${US[$name,1000]}") c=$(median <<<"${US[$name,10000]}")
    echo "| $name | $a | $b | $c | $(awk -v a="$a" -v c="$c" 'BEGIN { printf "%.2f", c / a }') |"
done
