#!/usr/bin/env bash
# A bounded fuzz run of every target (the CI step): builds the cargo-fuzz targets with stable
# Rust (RUSTC_BOOTSTRAP=1, debug assertions and overflow checks on, AddressSanitizer if
# FUZZ_SANITIZER=address, else none), writes seed
# corpora made from the repo's Lua scripts (and the official test suite if
# conformance/.cache/testes holds it), then fuzzes each target for FUZZ_SECONDS seconds
# (default 10), the committed regressions included. Fails on the first crash, hang (over
# FUZZ_TIMEOUT seconds for one input, default 10) or out-of-memory; the input is left in
# conformance/fuzz/artifacts/<target>/.
#
#   conformance/fuzz/run.sh [TARGET...]      (default: all targets)
#   FUZZ_SECONDS=600 conformance/fuzz/run.sh run
#
# Long runs: FUZZ_SECONDS=3600 (per target; the corpus in conformance/fuzz/corpus grows and
# is kept between runs), or FUZZ_RUNS=N to stop after N executions. Every run adds its
# executions to conformance/.cache/fuzz-tally.tsv (never committed) and prints each target's
# total so far: the count of crash-free executions over sessions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${FUZZ_SECONDS:-10}"
timeout="${FUZZ_TIMEOUT:-10}"
sanitizer="${FUZZ_SANITIZER:-none}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(compile run format pattern pack undump)
fi
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

tally_dir="$root/conformance/.cache"
tally="$tally_dir/fuzz-tally.tsv"

echo "== seeds"
(cd "$root" && cargo run -q -p lupa-conformance --example fuzz_seeds -- \
    "$here/corpus" "$root/conformance/.cache/testes")

echo "== build"
cd "$here"
cargo fuzz build -s "$sanitizer"
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin="${CARGO_TARGET_DIR:-$here/target}/$triple/release"

for t in "${targets[@]}"; do
    echo "== fuzz $t (${seconds}s)"
    mkdir -p "artifacts/$t" "corpus/$t"
    log="artifacts/$t/fuzz.log"
    rc=0
    runs=()
    if [ -n "${FUZZ_RUNS:-}" ]; then runs=(-runs="$FUZZ_RUNS"); fi
    "$bin/$t" "corpus/$t" "regressions/$t" "${runs[@]}" \
        -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=3072 \
        -max_len=4096 -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
        >"$log" 2>&1 || rc=$?
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
    if [ "$rc" -eq 0 ]; then
        execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
        mkdir -p "$tally_dir"
        printf '%s\t%s\t%s\t%s\n' "$(date -u +%F)" "$t" "$sanitizer" "${execs:-0}" >>"$tally"
        awk -F'\t' -v t="$t" '$2 == t { n += $4 } END { printf "== %s: %d crash-free executions in all recorded runs\n", t, n }' "$tally"
    fi
    if [ "$rc" -ne 0 ]; then
        tail -n 60 "$log"
        echo "== fuzz $t FAILED (input in conformance/fuzz/artifacts/$t/)"
        exit 1
    fi
done
echo "== fuzzing: no crash"
