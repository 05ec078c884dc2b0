#!/usr/bin/env bash
# Flood benchmark: what a flood of large uploads does to the server's memory and to other
# clients' latency (see the doc at the top of examples/flood/main.rs).
#
#   benches/flood.sh [--clients N] [--bytes S] [--route /echo] [--server-cmd CMD]
#                    [--after-secs 5] [--timeout-secs 300]
#
# Builds the echo and flood examples in release mode, then runs flood with these arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example echo --example flood >&2
exec target/release/examples/flood "$@"
