#!/usr/bin/env bash
# Load test: the hello example (and any peers you name) under wrk, in three scenarios:
#   keepalive   wrk -t1 -c64, one request per round trip
#   pipelined   the same with 16 requests per write (benches/pipeline.lua)
#   churn       a new connection per request (Connection: close)
# The server runs pinned to core SERVER_CPU (default 0), wrk to CLIENT_CPU (default 1).
# For each run it prints req/s and the server's CPU time per request (utime+stime of
# all its threads, from /proc), which stays comparable when wrk is the bottleneck.
#
#   benches/load.sh [-d SECS] [-r ROUNDS] [NAME='CMD {addr}' ...]
#
# Without NAME=CMD arguments it measures `target/release/examples/hello {addr}` alone.
# Example, against peers built by ../shared/bench:
#   benches/load.sh nethttp='target/release/examples/hello {addr}' \
#       hyper='../shared/bench/peers/target/release/peer-hyper {addr}' \
#       go='env GOMAXPROCS=1 ../shared/bench/.build/go-hello {addr}'
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh

DURATION=5
ROUNDS=1
read_options "$@"
TARGETS=("${ARGS[@]}")
if [[ ${#TARGETS[@]} -eq 0 ]]; then
    TARGETS=("nethttp=target/release/examples/hello {addr}")
fi
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
cargo build --release --example hello >&2

PORT=$((20000 + RANDOM % 10000))

run() { # name, command, scenario
    local name=$1 cmd=$2 scenario=$3
    PORT=$((PORT + 1))
    local addr=127.0.0.1:$PORT
    setsid taskset -c "$SERVER_CPU" bash -c "exec ${cmd//\{addr\}/$addr}" >/dev/null 2>&1 &
    local pgid=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://$addr/" && break
        sleep 0.1
    done
    local args=(-t1 -c64 -d"${DURATION}s")
    case $scenario in
        pipelined) args+=(-s benches/pipeline.lua) ;;
        churn) args+=(-H "Connection: close") ;;
    esac
    local before after out
    before=$(cpu_ticks "$pgid")
    if [[ $scenario == pipelined ]]; then
        out=$(taskset -c "$CLIENT_CPU" wrk "${args[@]}" "http://$addr/" -- 16)
    else
        out=$(taskset -c "$CLIENT_CPU" wrk "${args[@]}" "http://$addr/")
    fi
    after=$(cpu_ticks "$pgid")
    kill -TERM -- -"$pgid" 2>/dev/null || true
    wait "$pgid" 2>/dev/null || true
    local rps total errors
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    errors=$(awk '/Socket errors|Non-2xx/ {print}' <<<"$out" | tr '\n' ' ')
    local hz
    hz=$(getconf CLK_TCK)
    local us
    us=$(awk -v t="$((after - before))" -v hz="$hz" -v n="$total" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    printf '| %s | %s | %s | %s | %s |\n' "$name" "$scenario" "$rps" "$us" "${errors:-0}"
}

echo "| target | scenario | req/s | server CPU µs/req | errors |"
echo "|---|---|---:|---:|---|"
for round in $(seq "$ROUNDS"); do
    for scenario in keepalive pipelined churn; do
        for target in "${TARGETS[@]}"; do
            run "${target%%=*}" "${target#*=}" "$scenario"
        done
    done
done
