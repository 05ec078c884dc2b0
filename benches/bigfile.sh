#!/usr/bin/env bash
# Big bodies, three parts (-k chooses; default all), each server on its own:
#   files   a 1 GiB file to one curl client, then to 16 at once: nethttp's file server
#           (the echo example's /files/: sendfile(2) on plain connections), nginx (one
#           worker, sendfile on), Go's http.FileServer, hyper (no sendfile: read pieces
#           copied through the process).
#   bytes   GET /bytes/1048576 over 16 keep-alive connections for -d seconds (wrk -t1):
#           1 MiB generated as it is written (nethttp, Go, hyper); nginx sends a static
#           1 MiB file of the same bytes instead (sendfile), for scale.
#   upload  POST /upload of the 1 GiB file from one curl client, then from 4 at once
#           (curl -T, no Expect): nethttp's blocking handler reading the body as a stream,
#           Go's io.Copy to io.Discard, hyper reading frames; nginx has no such handler.
# Each server is pinned to core SERVER_CPU (default 0), curl and wrk to CLIENT_CPU
# (default 1); Go runs with GOMAXPROCS=1, hyper on a current_thread runtime, nginx with one
# worker; the page cache is warm. Per round and server: throughput, the server's CPU time
# per GiB moved (utime+stime of its process group), and the clients' (curl's or wrk's,
# from /usr/bin/time): over loopback, the receiving side's TCP work is charged to
# whichever process runs it, so a server that sends more slowly can show less CPU of its
# own while its client shows more. Prints the rounds, then medians.
#
#   benches/bigfile.sh [-r ROUNDS] [-k files,bytes,upload] [-d SECONDS]   (3, all, 5)
#
# Needs curl, wrk, nginx, go, /usr/bin/time (Debian: apt-get install curl wrk nginx
# golang-go time).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh
ROUNDS=3
PARTS=files,bytes,upload
SECONDS_BYTES=5
while getopts "r:k:d:" opt; do
    case $opt in
        r) ROUNDS=$OPTARG ;;
        k) PARTS=$OPTARG ;;
        d) SECONDS_BYTES=$OPTARG ;;
        *) sed -n '2,20p' "$0"; exit 2 ;;
    esac
done
for tool in curl wrk nginx go taskset /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "benches/bigfile.sh: $tool is needed" >&2; exit 1; }
done
wants() { [[ ,$PARTS, == *,$1,* ]]; }
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
GIB=1073741824
MIB=1048576
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/root"
chmod 755 "$WORK" "$WORK/root" # nginx's worker runs as another user
head -c "$GIB" /dev/urandom >"$WORK/root/big.bin"
# nginx's stand-in for /bytes/1048576: the same bytes, a..z repeated.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(97 + i % 26 for i in range(1 << 20)))' \
    >"$WORK/root/mib.bin"
chmod 644 "$WORK/root/big.bin" "$WORK/root/mib.bin"
cat "$WORK/root/big.bin" >/dev/null # the page cache holds it from now on

cargo build -q --release --example echo
TARGET=$(target_dir)
cargo build -q --release --manifest-path benches/bigfile/hyper/Cargo.toml --target-dir "$TARGET"
(cd benches/bigfile && GOFLAGS=-trimpath go build -o "$WORK/bigfile-go" .)

# The URL of a part's resource on a server.
url() { # name, file|bytes|upload
    case $1:$2 in
        nethttp:file) echo "http://$ADDR/files/big.bin" ;;
        nginx:bytes) echo "http://$ADDR/mib.bin" ;;
        *:file) echo "http://$ADDR/big.bin" ;;
        *:bytes) echo "http://$ADDR/bytes/$MIB" ;;
        *:upload) echo "http://$ADDR/upload" ;;
    esac
}

# Below the ephemeral range (32768 on), where other benchmarks' clients may hold ports.
PORT=$((20000 + RANDOM % 10000))
start() { # name -> PGID, ADDR
    PORT=$((PORT + 1))
    ADDR=127.0.0.1:$PORT
    local cmd
    case $1 in
        nethttp) cmd="$TARGET/release/examples/echo $ADDR --dir $WORK/root" ;;
        go) cmd="env GOMAXPROCS=1 $WORK/bigfile-go $ADDR $WORK/root" ;;
        hyper) cmd="$TARGET/release/bigfile-hyper $ADDR $WORK/root" ;;
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
        curl -s -o /dev/null -r 0-0 "$(url "$1" file)" && return
        sleep 0.1
    done
    echo "benches/bigfile.sh: $1 did not start" >&2
    exit 1
}

stop() {
    kill -TERM -- -"$PGID" 2>/dev/null || true
    wait "$PGID" 2>/dev/null || true
}

# Throughput and CPU per GiB from a run's start and end times, GiB moved, the server's CPU
# ticks and the clients' CPU seconds.
figures() { # began, ended, GiB, ticks, client seconds -> "GiB/s server_ms client_ms"
    awk -v b="$1" -v e="$2" -v n="$3" -v t="$4" -v c="$5" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.2f %.0f %.0f\n", n / (e - b), t / hz * 1000 / n, c * 1000 / n }'
}

# The CPU seconds (user + system) in the /usr/bin/time reports named.
client_seconds() { # files...
    tail -qn1 "$@" | awk '{ s += $1 + $2 } END { printf "%.3f\n", s }'
}

# `clients` curl processes at once, each writing its output and then -w FORMAT to
# $WORK/got.i; every one must have got `expect`. -> "GiB/s server_ms client_ms"
curls() { # name, clients, expect, -w format, curl arguments...
    local name=$1 clients=$2 expect=$3 format=$4 before after began ended i pids=()
    shift 4
    before=$(cpu_ticks "$PGID")
    began=$(date +%s.%N)
    for i in $(seq "$clients"); do
        taskset -c "$CLIENT_CPU" /usr/bin/time -f '%U %S' -o "$WORK/cpu.$i" \
            curl -s -w "$format" "$@" >"$WORK/got.$i" &
        pids+=($!)
    done
    wait "${pids[@]}" || true
    ended=$(date +%s.%N)
    after=$(cpu_ticks "$PGID")
    for i in $(seq "$clients"); do
        [[ $(cat "$WORK/got.$i") == "$expect" ]] ||
            { echo "benches/bigfile.sh: $name: $(cat "$WORK/got.$i"), not $expect" >&2; exit 1; }
    done
    figures "$began" "$ended" "$clients" $((after - before)) \
        "$(client_seconds $(seq -f "$WORK/cpu.%g" "$clients"))"
}

download() { # name, clients
    curls "$1" "$2" "$GIB" '%{size_download}' -o /dev/null "$(url "$1" file)"
}

upload() { # name, clients
    curls "$1" "$2" "received $GIB bytes 200" ' %{http_code}' \
        -H 'Expect:' -X POST -T "$WORK/root/big.bin" "$(url "$1" upload)"
}

# wrk -t1 -c16 on GET 1 MiB for SECONDS_BYTES; the GiB moved are the responses completed.
generated() { # name
    local before after began ended out requests
    before=$(cpu_ticks "$PGID")
    began=$(date +%s.%N)
    out=$(taskset -c "$CLIENT_CPU" /usr/bin/time -f '%U %S' -o "$WORK/cpu.wrk" \
        wrk -t1 -c16 -d"$SECONDS_BYTES"s "$(url "$1" bytes)")
    ended=$(date +%s.%N)
    after=$(cpu_ticks "$PGID")
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
        echo "benches/bigfile.sh: $1: wrk saw errors: $out" >&2
        exit 1
    fi
    requests=$(awk '/requests in/ { print $1 }' <<<"$out")
    figures "$began" "$ended" "$(awk -v r="$requests" 'BEGIN { print r / 1024 }')" \
        $((after - before)) "$(client_seconds "$WORK/cpu.wrk")"
}

SERVERS=(nethttp nginx go hyper)
COLUMNS=(file1 file16 bytes16 upload1 upload4)
declare -A TP CPU CLIENT
row() { # round, name -> a table row, and TP/CPU/CLIENT collected
    local cells="| $1 | $2 |" column tp cpu client
    for column in "${COLUMNS[@]}"; do
        tp=- cpu=- client=-
        case $column in
            file1) wants files && read -r tp cpu client < <(download "$2" 1) ;;
            file16) wants files && read -r tp cpu client < <(download "$2" 16) ;;
            bytes16) wants bytes && read -r tp cpu client < <(generated "$2") ;;
            upload1) wants upload && [[ $2 != nginx ]] &&
                read -r tp cpu client < <(upload "$2" 1) ;;
            upload4) wants upload && [[ $2 != nginx ]] &&
                read -r tp cpu client < <(upload "$2" 4) ;;
        esac
        TP[$2.$column]+="$tp " CPU[$2.$column]+="$cpu " CLIENT[$2.$column]+="$client "
        cells+=" $tp | $cpu | $client |"
    done
    echo "$cells"
}

HEAD="| file, 1 client: GiB/s | server CPU ms/GiB | client | file, 16: GiB/s | server | client | /bytes 1 MiB, 16 conns: GiB/s | server | client | upload, 1 client: GiB/s | server | client | upload, 4: GiB/s | server | client |"
RULE="---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
echo "| round | server $HEAD"
echo "|---|---|$RULE"
for round in $(seq "$ROUNDS"); do
    order=("${SERVERS[@]:$((round % 4))}" "${SERVERS[@]:0:$((round % 4))}")
    for name in "${order[@]}"; do
        start "$name"
        row "$round" "$name"
        stop
    done
done
echo
echo "Medians over $ROUNDS rounds (server on core $SERVER_CPU, clients on core $CLIENT_CPU;" \
    "nginx's /bytes is a static 1 MiB file sent with sendfile, not generated):"
echo
echo "| server $HEAD"
echo "|---|$RULE"
for name in "${SERVERS[@]}"; do
    cells="| $name |"
    for column in "${COLUMNS[@]}"; do
        cells+=" $(median <<<"${TP[$name.$column]}" | sed 's/^$/-/') |"
        cells+=" $(median <<<"${CPU[$name.$column]}" | sed 's/^$/-/') |"
        cells+=" $(median <<<"${CLIENT[$name.$column]}" | sed 's/^$/-/') |"
    done
    echo "$cells"
done
