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
read_options "$@"
TARGETS=("${ARGS[@]}")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(nethttp)
ulimit -n 20000
init_targets

run() { # cmd, connections -> "req/s us_per_req"
    PORT=$((PORT + 1))
    local addr=127.0.0.1:$PORT before after out
    start_server "$1" "$addr"
    before=$(cpu_ticks "$SERVER_PGID")
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$2" -d"${DURATION}s" "http://$addr/")
    after=$(cpu_ticks "$SERVER_PGID")
    stop_server
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
