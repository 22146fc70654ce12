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
# The `bridge` target is Python (conformance/fuzz/python/bridge.py, run by atheris in .venv
# against the extension tests/run.sh built there; no sanitizer applies to it).
#
# Long runs: FUZZ_SECONDS=3600 (per target; the corpus in conformance/fuzz/corpus grows and
# is kept between runs), or FUZZ_RUNS=N to stop after N executions. Every run adds its
# executions to conformance/fuzz/tally.tsv (date, target, sanitizer, executions, the commit
# the targets were built from;
# commit the lines of long runs) and prints each target's total so far: the count of
# crash-free executions over sessions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${FUZZ_SECONDS:-10}"
timeout="${FUZZ_TIMEOUT:-10}"
sanitizer="${FUZZ_SANITIZER:-none}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(compile run format pattern pack undump bridge)
fi
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

tally="$here/tally.tsv"
python="$root/.venv/bin/python"

echo "== seeds"
(cd "$root" && cargo run -q -p lupa-conformance --example fuzz_seeds -- \
    "$here/corpus" "$root/conformance/.cache/testes")

echo "== build"
cd "$here"
cargo fuzz build -s "$sanitizer"
triple="$(rustc -vV | sed -n 's/^host: //p')"
# The revision the targets were built from (`+`: with uncommitted changes other than the
# tally's own lines), for the tally.
rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo -)"
if ! git -C "$root" diff --quiet HEAD -- interp stdlib bridge conformance \
    ':!conformance/fuzz/tally.tsv' 2>/dev/null; then
    rev="$rev+"
fi
bin="${CARGO_TARGET_DIR:-$here/target}/$triple/release"

for t in "${targets[@]}"; do
    echo "== fuzz $t (${seconds}s)"
    mkdir -p "artifacts/$t" "corpus/$t"
    log="artifacts/$t/fuzz.log"
    rc=0
    runs=()
    if [ -n "${FUZZ_RUNS:-}" ]; then runs=(-runs="$FUZZ_RUNS"); fi
    cmd=("$bin/$t")
    if [ "$t" = bridge ]; then
        "$python" -c 'import atheris' 2>/dev/null || "$python" -m pip install -q atheris
        cmd=("$python" "$here/python/bridge.py")
    fi
    "${cmd[@]}" "corpus/$t" "regressions/$t" "${runs[@]}" \
        -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=3072 \
        -max_len=4096 -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
        >"$log" 2>&1 || rc=$?
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
    if [ "$rc" -eq 0 ]; then
        execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
        san="$sanitizer"
        if [ "$t" = bridge ]; then san=none; fi
        printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%F)" "$t" "$san" "${execs:-0}" "$rev" \
            >>"$tally"
        awk -F'\t' -v t="$t" '$2 == t { n += $4 } END { printf "== %s: %d crash-free executions in all recorded runs\n", t, n }' "$tally"
    fi
    if [ "$rc" -ne 0 ]; then
        tail -n 60 "$log"
        echo "== fuzz $t FAILED (input in conformance/fuzz/artifacts/$t/)"
        exit 1
    fi
done
echo "== fuzzing: no crash"
