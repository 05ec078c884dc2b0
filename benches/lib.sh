# shellcheck shell=bash
# Shared by the scripts in benches/ (sourced, not run).

# utime and stime of every process of a process group, in clock ticks (getconf CLK_TCK a
# second), as "UTIME STIME". A process's own stat counts all its threads, those that have
# exited too (a pool that retires idle threads loses no time), where task/*/stat would
# count only live ones.
cpu_split_ticks() {
    local user=0 system=0 pid fields
    for pid in $(pgrep -g "$1"); do
        [[ -r /proc/$pid/stat ]] || continue
        read -ra fields < <(sed 's/.*) //' "/proc/$pid/stat")
        user=$((user + fields[11]))
        system=$((system + fields[12]))
    done
    echo "$user $system"
}

# utime+stime of every process of a process group, in clock ticks.
cpu_ticks() {
    local user system
    read -r user system < <(cpu_split_ticks "$1")
    echo $((user + system))
}

# Reads the options -d SECS and -r ROUNDS of the arguments into DURATION and ROUNDS (the
# caller sets their defaults first) and the rest into ARGS. An unknown option prints the
# script's usage (its opening comment) and exits.
read_options() {
    local opt OPTIND=1
    while getopts "d:r:" opt; do
        case $opt in
            d) DURATION=$OPTARG ;;
            r) ROUNDS=$OPTARG ;;
            *) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 2 ;;
        esac
    done
    shift $((OPTIND - 1))
    ARGS=("$@")
}

# The median of the numbers on stdin (separated by spaces or newlines).
median() {
    tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# Where cargo puts this workspace's builds (honours CARGO_TARGET_DIR and cargo config).
target_dir() {
    cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}

# A target of conns.sh and split.sh as NAME=CMD: NAME=CMD itself, or the name of a peer of
# the shared bench (nethttp is this workspace's hello).
resolve_target() {
    case $1 in
        *=*) echo "$1" ;;
        nethttp) echo "nethttp=$TARGET_DIR/release/examples/hello {addr}" ;;
        ceiling) echo "ceiling=$PEER_BIN/ceiling {addr}" ;;
        hyper | actix-web | may_minihttp | tiny_http) echo "$1=$PEER_BIN/peer-${1//_/-} {addr}" ;;
        go) echo "go=env GOMAXPROCS=1 $GO_HELLO {addr}" ;;
        nginx) echo "nginx=nginx -p {dir}/ -c {dir}/nginx.conf -e {dir}/error.log" ;;
        *) echo "$0: unknown target $1" >&2; return 2 ;;
    esac
}

# Builds hello, resolves every entry of the TARGETS array (resolve_target) and sets what
# the servers run with: the peers' binaries in PEER_BIN, Go's hello at GO_HELLO, nginx's
# configuration at NGINX_CONF, the cores SERVER_CPU and CLIENT_CPU, the first PORT.
init_targets() {
    command -v wrk >/dev/null || { echo "$0: wrk is needed" >&2; return 1; }
    cargo build -q --release --example hello
    TARGET_DIR=$(target_dir)
    PEER_BIN=${PEER_BIN:-/tmp/nethttp-bench/peers-target/release}
    GO_HELLO=${GO_HELLO:-/tmp/nethttp-bench/.build/go-hello}
    NGINX_CONF=${NGINX_CONF:-../shared/bench/nginx/nginx.conf}
    local i
    for i in "${!TARGETS[@]}"; do
        TARGETS[i]=$(resolve_target "${TARGETS[i]}") || return 2
    done
    SERVER_CPU=${SERVER_CPU:-0}
    CLIENT_CPU=${CLIENT_CPU:-1}
    PORT=$((30000 + RANDOM % 10000))
}

# Starts CMD ({addr} and {dir} filled in) in a process group of its own on core
# SERVER_CPU, waits until it answers, and sets SERVER_PGID and SERVER_DIR.
start_server() {
    local addr=$2 cmd
    SERVER_DIR=$(mktemp -d)
    mkdir "$SERVER_DIR/tmp"
    if [[ -r $NGINX_CONF ]]; then sed "s/__LISTEN__/$addr/" "$NGINX_CONF" >"$SERVER_DIR/nginx.conf"; fi
    cmd=${1//\{addr\}/$addr}
    setsid taskset -c "$SERVER_CPU" bash -c "ulimit -n 20000; exec ${cmd//\{dir\}/$SERVER_DIR}" >/dev/null 2>&1 &
    SERVER_PGID=$!
    for _ in $(seq 100); do curl -s -o /dev/null "http://$addr/" && break; sleep 0.1; done
}

# Stops the server start_server started: the whole group (nginx's worker as well as its
# master) is gone before the next run.
stop_server() {
    kill -TERM -- -"$SERVER_PGID" 2>/dev/null || true
    wait "$SERVER_PGID" 2>/dev/null || true
    for _ in $(seq 50); do pgrep -g "$SERVER_PGID" >/dev/null || break; sleep 0.1; done
    kill -KILL -- -"$SERVER_PGID" 2>/dev/null || true
    rm -rf "$SERVER_DIR"
}
