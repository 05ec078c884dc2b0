#!/usr/bin/env bash
# Where a kept-alive request's server CPU goes, user space or the kernel: compare.sh's
# keep-alive load (wrk -t1 -c64 with its `Accept` and `Connection` fields) against each
# target in turn, round after round (the targets alternate, so a slow spell of the machine
# falls on each), the server pinned to core SERVER_CPU (default 0), wrk to CLIENT_CPU
# (default 1). Prints, per round and as medians, the server's user and system CPU time
# per request (utime and stime, /proc). The kernel charges each tick to the side it
# lands in, so the split is a sample (a 5 s run holds about 40 user ticks); the sum is
# the time itself.
#
#   benches/split.sh [-d SECS] [-r ROUNDS] [TARGET ...]
#
# TARGETs as in benches/conns.sh; the default is `nethttp ceiling`. Ratios are to
# `ceiling` if it runs, else to the first target.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh
DURATION=5
ROUNDS=9
read_options "$@"
TARGETS=("${ARGS[@]}")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(nethttp ceiling)
init_targets
ACCEPT='Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7'

run() { # cmd -> "req/s user_us system_us" per request
    PORT=$((PORT + 1))
    local addr=127.0.0.1:$PORT u0 s0 u1 s1 out
    start_server "$1" "$addr"
    read -r u0 s0 < <(cpu_split_ticks "$SERVER_PGID")
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d"${DURATION}s" -H "$ACCEPT" \
        -H 'Connection: keep-alive' "http://$addr/")
    read -r u1 s1 < <(cpu_split_ticks "$SERVER_PGID")
    stop_server
    awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" \
        -v n="$(awk '/requests in/ {print $1}' <<<"$out")" \
        -v r="$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
        'BEGIN { printf "%s %.3f %.3f\n", r, u / hz * 1e6 / n, s / hz * 1e6 / n }'
}

declare -A USER SYSTEM TOTAL
echo "| round | target | req/s | user µs/req | system µs/req | total |"
echo "|---|---|---:|---:|---:|---:|"
for round in $(seq "$ROUNDS"); do
    for target in "${TARGETS[@]}"; do
        read -r rps user system < <(run "${target#*=}")
        name=${target%%=*}
        total=$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.3f", u + s }')
        USER[$name]+="$user " SYSTEM[$name]+="$system " TOTAL[$name]+="$total "
        echo "| $round | $name | $rps | $user | $system | $total |"
    done
done
ref=${TARGETS[0]%%=*}
[[ -n ${TOTAL[ceiling]:-} ]] && ref=ceiling
echo
echo "Medians of $ROUNDS rounds; the differences are to $ref's medians."
echo
echo "| target | user µs/req | system µs/req | total µs/req | user − $ref | system − $ref | total ÷ $ref |"
echo "|---|---:|---:|---:|---:|---:|---:|"
ru=$(median <<<"${USER[$ref]}") rs=$(median <<<"${SYSTEM[$ref]}") rt=$(median <<<"${TOTAL[$ref]}")
for target in "${TARGETS[@]}"; do
    name=${target%%=*}
    u=$(median <<<"${USER[$name]}") s=$(median <<<"${SYSTEM[$name]}") t=$(median <<<"${TOTAL[$name]}")
    awk -v n="$name" -v u="$u" -v s="$s" -v t="$t" -v ru="$ru" -v rs="$rs" -v rt="$rt" \
        'BEGIN { printf "| %s | %.3f | %.3f | %.3f | %+.3f | %+.3f | %.2f |\n", n, u, s, t, u - ru, s - rs, t / rt }'
done
