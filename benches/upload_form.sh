#!/usr/bin/env bash
# A large file POSTed as multipart/form-data to the echo showcase's `/form`, as a browser or
# curl sends it: the server streams the part into SHA-256 without holding it. Prints the
# hash the server reports against `sha256sum`'s, and the server's resident memory before
# and at its peak (VmRSS, VmHWM). Needs curl.
#
#   benches/upload_form.sh [MIB]        # default 1024 (1 GiB)
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${1:-1024}
cargo build --release --example echo >/dev/null 2>&1
file=$(mktemp /tmp/upload-form.XXXXXX)
out=$(mktemp /tmp/upload-form-out.XXXXXX)
trap 'rm -f "$file" "$out"; kill "$pid" 2>/dev/null || true' EXIT
head -c "$((MIB << 20))" /dev/urandom >"$file"
expected=$(sha256sum "$file" | cut -d' ' -f1)
target/release/examples/echo 127.0.0.1:0 >"$out" &
pid=$!
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
addr=$(sed -n 's|listening on http://||p' "$out")
rss() { awk -v f="$1" '$1 == f":" {print $2}' /proc/$pid/status; }
before=$(rss VmRSS)
start=$(date +%s.%N)
answer=$(curl -s -F "blob=@$file;filename=blob.bin" "http://$addr/form")
end=$(date +%s.%N)
peak=$(rss VmHWM)
echo "answer:   $answer"
echo "expected: sha256=$expected"
echo "RSS before ${before} KiB, peak ${peak} KiB, grew $((peak - before)) KiB; $(echo "$end - $start" | bc) s"
case "$answer" in
  *"size=$((MIB << 20)) sha256=$expected"*) echo "ok: hashed correctly" ;;
  *) echo "MISMATCH"; exit 1 ;;
esac
