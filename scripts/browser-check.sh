#!/usr/bin/env bash
# Browser check of the file server: builds and starts `examples/fileserver` on a temporary
# site, loads its listing in headless Chromium, follows links from it to a subdirectory
# and on to a page, checks what the browser's DOM holds at each step, and saves a
# screenshot of the listing. Exits non-zero on any failure.
#
#   scripts/browser-check.sh [SCREENSHOT]    (default: target/browser-check/listing.png)
#
# Needs /usr/bin/chromium (or $CHROMIUM); run as root, it installs the Debian package
# `chromium` when missing.
set -euo pipefail

cd "$(dirname "$0")/.."
screenshot=${1:-target/browser-check/listing.png}
chromium=${CHROMIUM:-/usr/bin/chromium}

fail() {
    echo "browser-check: FAIL: $*" >&2
    exit 1
}

if [ ! -x "$chromium" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "browser-check: installing chromium"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        fail "$chromium is missing; install the chromium package (as root: apt-get install -y chromium)"
    fi
fi

cargo build --release --quiet --example fileserver

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The site: files, a name that needs escaping, and a subdirectory with a page.
site=$work/site
mkdir -p "$site/docs"
echo "Hello from nethttp" >"$site/hello.txt"
echo "fish & chips" >"$site/menu & prices.txt"
echo "body { font-family: sans-serif }" >"$site/style.css"
cat >"$site/docs/guide.html" <<'EOF'
<!doctype html>
<title>Guide</title>
<h1 id="guide">The nethttp guide</h1>
<p>Served by examples/fileserver.</p>
EOF
echo "notes" >"$site/docs/notes.txt"

target/release/examples/fileserver "$site" 127.0.0.1:0 >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
base=
for _ in $(seq 1 100); do
    base=$(sed -n 's/^listening on \(http:\/\/[^ ]*\)$/\1/p' "$work/server.out")
    [ -n "$base" ] && break
    kill -0 "$server_pid" 2>/dev/null || fail "the server exited: $(cat "$work/server.log")"
    sleep 0.1
done
[ -n "$base" ] || fail "the server did not say where it listens"
echo "browser-check: serving $site on $base"

# Each run gets a fresh profile, so nothing is cached between loads.
browse() {
    local profile
    profile=$(mktemp -d -p "$work" profile.XXXXXX)
    timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" "$@" 2>>"$work/chromium.log"
}

expect() { # expect DOM TEXT WHAT
    grep -qF -- "$2" <<<"$1" || fail "$3: \"$2\" not in the DOM:
$1"
}

# 1. The listing.
listing=$(browse --dump-dom "$base/")
expect "$listing" '<a href="hello.txt">hello.txt</a>' "listing"
expect "$listing" '<a href="docs/">docs/</a>' "listing"
expect "$listing" '<a href="menu%20&amp;%20prices.txt">menu &amp; prices.txt</a>' "listing"
first=$(grep -o '<a href="[^"]*"' <<<"$listing" | head -n 1)
[ "$first" = '<a href="docs/"' ] || fail "listing not sorted: first link is $first"

# 2. Follow the listing's link to the subdirectory, then that listing's link to the page.
docs_href=$(grep -o 'href="docs/"' <<<"$listing" | head -n 1 | sed 's/^href="\(.*\)"$/\1/')
docs=$(browse --dump-dom "$base/$docs_href")
expect "$docs" '<a href="guide.html">guide.html</a>' "docs listing"
expect "$docs" '<a href="notes.txt">notes.txt</a>' "docs listing"
guide_href=$(grep -o 'href="guide[^"]*"' <<<"$docs" | sed 's/^href="\(.*\)"$/\1/')
page=$(browse --dump-dom "$base/$docs_href$guide_href")
expect "$page" '<h1 id="guide">The nethttp guide</h1>' "followed page"
expect "$page" '<title>Guide</title>' "followed page"

# 3. A file with an escaped name arrives as itself.
text=$(browse --dump-dom "$base/menu%20&%20prices.txt")
expect "$text" 'fish &amp; chips' "escaped file"

# 4. A screenshot of the listing.
mkdir -p "$(dirname "$screenshot")"
rm -f "$screenshot"
browse --screenshot="$screenshot" --window-size=800,500 "$base/" >/dev/null
[ -s "$screenshot" ] || fail "no screenshot at $screenshot"
[ "$(head -c 8 "$screenshot" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] ||
    fail "$screenshot is not a PNG"

# 5. The server saw the browser's requests and stops gracefully on SIGTERM.
grep -q '"GET /docs/guide.html" 200' "$work/server.log" || fail "no request for the page in the log"
kill -TERM "$server_pid"
wait "$server_pid" || fail "the server did not exit cleanly on SIGTERM"
server_pid=

echo "browser-check: OK (screenshot: $screenshot)"
