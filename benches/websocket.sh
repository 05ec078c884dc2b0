#!/usr/bin/env bash
# What idle WebSockets cost, and one message to all of them: the chat example (release,
# pinned to core SERVER_CPU, default 0) and benches/websocket_client.py (core CLIENT_CPU,
# default 1) with N WebSockets (default 10000).
#   idle        RSS growth per WebSocket, CPU time and wake-ups of the server's threads
#               over an idle window of T seconds (default 10), from /proc schedstat
#   broadcast   one member's message reaching all N members (the example broadcasts
#               every message): time until the last socket has it, median of 5 rounds,
#               and the server's CPU time per broadcast
#
#   benches/websocket.sh [-n N] [-t SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh
CONNS=10000
IDLE=10
while getopts "n:t:" opt; do
    case $opt in
        n) CONNS=$OPTARG ;;
        t) IDLE=$OPTARG ;;
        *) sed -n '2,13p' "$0"; exit 2 ;;
    esac
done
ulimit -n 20000
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
cargo build -q --release --features websocket --example chat
TARGET=$(target_dir)/release/examples
WORK=$(mktemp -d)
PORT=$((30000 + RANDOM % 10000))
setsid taskset -c "$SERVER_CPU" "$TARGET/chat" "127.0.0.1:$PORT" >"$WORK/out" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; exec 7>&- 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do grep -q listening "$WORK/out" && break; sleep 0.05; done

rss_kib() { awk '/^VmRSS/ {print $2}' /proc/$SERVER/status; }
sched() { # total run ns and run count over the server's threads
    cat /proc/$SERVER/task/*/schedstat | awk '{ ns += $1; runs += $3 } END { print ns, runs }'
}
window() { # label -> "cpu_ms wakeups" over an idle window
    local a b
    read -r a_ns a_runs < <(sched)
    sleep "$IDLE"
    read -r b_ns b_runs < <(sched)
    echo "$(((b_ns - a_ns) / 1000000)) $((b_runs - a_runs))"
}

sleep 1
rss0=$(rss_kib)
read -r cpu0 wake0 < <(window)
coproc CLIENT { taskset -c "$CLIENT_CPU" python3 benches/websocket_client.py 127.0.0.1 "$PORT" "$CONNS" 5; }
read -r line <&"${CLIENT[0]}"
[[ $line == ready ]] || { echo "client: $line" >&2; exit 1; }
sleep 2
rssN=$(rss_kib)
members=$(curl -s "http://127.0.0.1:$PORT/stats")
read -r cpuN wakeN < <(window)
read -r t0 _ < <(sched)
echo go >&"${CLIENT[1]}"
times=()
for _ in 1 2 3 4 5; do
    read -r word secs <&"${CLIENT[0]}"
    [[ $word == broadcast ]] || { echo "client: $word $secs" >&2; exit 1; }
    times+=("$secs")
done
read -r t1 _ < <(sched)
exec {CLIENT[1]}>&-
median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 3p)
per_conn=$(( (rssN - rss0) * 1024 / CONNS ))
echo "| WebSockets | RSS before → after | RSS per WebSocket | idle ${IDLE} s: CPU ms, wake-ups (0 / N) | broadcast to all: median of 5 | server CPU per broadcast |"
echo "|---:|---|---:|---|---:|---:|"
echo "| $CONNS ($members) | $((rss0 / 1024)) → $((rssN / 1024)) MiB | $per_conn B | $cpu0 ms, $wake0 / $cpuN ms, $wakeN | ${median} s | $(( (t1 - t0) / 5 / 1000 )) µs |"
echo "broadcast rounds (s): ${times[*]}"
