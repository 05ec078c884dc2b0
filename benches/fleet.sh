#!/usr/bin/env bash
# Rolling restarts behind real balancers, under load: nginx, and HAProxy with
# send-proxy-v2 (the echo instances then read PROXY headers), each in front of two echo
# instances on loopback; wrk through the balancer while each instance is restarted in turn,
# both ways a new process takes a port over (the listening socket handed on, as systemd
# and tableflip do; SO_REUSEPORT). Each instance runs with --drain-delay 1: on SIGTERM it
# keeps serving for a second while /readyz (HAProxy's health check) answers 503.
# Reports requests, non-2xx, socket errors and the balancer's 502/504 count (all must be 0:
# the exit status says so) and the p99 latency during the restarts beside a quiet run's.
#
#   benches/fleet.sh [-d SECS]      (default 10 s per wrk run)
#
# Needs wrk, nginx, haproxy, python3 (Debian: apt-get install wrk nginx haproxy). Sets
# net.ipv4.tcp_migrate_req=1 if it can (see nethttp::listen_reuse_port).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh
DURATION=10
while getopts "d:" opt; do
    case $opt in
        d) DURATION=$OPTARG ;;
        *) sed -n '2,15p' "$0"; exit 2 ;;
    esac
done
for tool in wrk nginx haproxy python3; do
    command -v "$tool" >/dev/null || { echo "benches/fleet.sh: $tool is needed" >&2; exit 1; }
done
sysctl -qw net.ipv4.tcp_migrate_req=1 2>/dev/null ||
    echo "benches/fleet.sh: cannot set net.ipv4.tcp_migrate_req (SO_REUSEPORT restarts may reset queued connections)" >&2
ulimit -n 20000
cargo build -q --release --example echo
TARGET=$(target_dir)
exec python3 benches/fleet/fleet.py "$TARGET/release/examples/echo" "$DURATION"
