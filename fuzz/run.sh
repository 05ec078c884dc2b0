#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60), all at once, and fails if any finds a crash
# (a panic, a failed check, a sanitizer report, a leak or a timeout).
#
#   fuzz/run.sh [SECONDS] [TARGET ...]      targets: head chunked conn toolkit multipart tls websocket proxy (default: all)
#
# SECONDS=0 replays the seed corpus through every check and stops (what CI runs).
#
# Needs cargo-fuzz (installed from crates.io when missing). It builds with nightly if that
# toolchain is installed, else with the default toolchain and RUSTC_BOOTSTRAP=1 (cargo fuzz
# passes -Z flags). Each target starts from its seed corpus in fuzz/corpus/<target>/ and
# writes what it learns to fuzz/target/work/<target>/ (the seeds stay as they are); a crash
# lands in fuzz/artifacts/<target>/, with the command to reproduce it in the log,
# fuzz/target/work/<target>.log. The last lines of each log are printed at the end, with the
# number of inputs run.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(head chunked conn toolkit multipart tls websocket proxy)

if ! command -v cargo-fuzz >/dev/null; then
    echo "fuzz/run.sh: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    cargo=(cargo +nightly)
else
    export RUSTC_BOOTSTRAP=1
    cargo=(cargo)
fi

"${cargo[@]}" fuzz build

pids=()
for t in "${targets[@]}"; do
    mkdir -p "target/work/$t"
    if [ "$seconds" = 0 ]; then
        budget=(-runs=0) # replay the seed corpus only: deterministic, for CI
    else
        budget=(-max_total_time="$seconds")
    fi
    # libFuzzer cuts every input, seeds included, to max_len. A chunked body needs more
    # than 16 KiB of framing to pass the overhead limit (MAX_CHUNK_OVERHEAD in src/body.rs),
    # so that target gets room for it.
    max_len=16384
    [ "$t" != chunked ] || max_len=32768
    "${cargo[@]}" fuzz run "$t" "target/work/$t" "corpus/$t" -- \
        "${budget[@]}" -max_len=$max_len -timeout=30 -print_final_stats=1 \
        >"target/work/$t.log" 2>&1 &
    pids+=($!)
done

failed=0
for i in "${!targets[@]}"; do
    t=${targets[$i]}
    if wait "${pids[$i]}"; then status=ok; else status=FAILED; failed=1; fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "target/work/$t.log" | grep -o '[0-9]*$' || true)
    echo "== $t: $status, ${runs:-?} inputs in ${seconds}s (log: fuzz/target/work/$t.log)"
    if [ "$status" = FAILED ]; then
        grep -E -A12 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY' "target/work/$t.log" | head -40
        grep -E -A1 'Failing input|Reproduce with' "target/work/$t.log" || true
    fi
done
exit $failed
