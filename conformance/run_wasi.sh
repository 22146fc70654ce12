#!/usr/bin/env bash
# lua-rs on WASI: builds it for wasm32-wasip1 and runs it through wasmtime (the PyPI package,
# conformance/wasi_run.py): the self-checking scripts of conformance/lua against C Lua 5.4.8,
# the official Lua 5.4.8 test suite (every file that passes natively, and all.lua), a bounded
# differential fuzzing run against C Lua 5.4.8 (native; numbers compared as two C math
# libraries' results: WASI's is musl's), and interp's and stdlib's unit tests built for WASI.
#
#   conformance/run_wasi.sh            (DIFFFUZZ_COUNT programs, default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
py="$root/.venv/bin/python"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
    rustup target add wasm32-wasip1
fi
"$py" -c "import wasmtime" 2>/dev/null || "$root/.venv/bin/pip" install -q wasmtime
cargo build --release --quiet --target wasm32-wasip1 -p lupa-conformance --bin lua-rs
cargo build --release --quiet -p lupa-conformance --bin difffuzz
wasm="$root/target/wasm32-wasip1/release/lua-rs.wasm"
ls -l "$wasm"
# A command that runs the module as `lua` (the name C Lua's messages carry).
lua="$root/target/wasm32-wasip1/release/lua"
printf '#!/bin/sh\nexec "%s" "%s" --argv0 lua "%s" "$@"\n' "$py" "$root/conformance/wasi_run.py" "$wasm" >"$lua"
chmod +x "$lua"
"$lua" -e 'print(_VERSION .. " on WASI: " .. 2^53 // 3)'

echo "== conformance/lua on WASI against C Lua 5.4.8"
"$py" conformance/oracle.py >/dev/null
oracle="$root/conformance/.cache/lua-5.4.8/bin/lua"
failed=0
for f in conformance/lua/*.lua; do
    name="$(basename "$f")"
    want="$(cd conformance/lua && "$oracle" "$name" 2>&1; echo "exit $?")"
    got="$(cd conformance/lua && "$lua" "$name" 2>&1; echo "exit $?")"
    if [ "$want" != "$got" ]; then
        echo "$name differs:"; diff <(echo "$want") <(echo "$got") | head -20; failed=1
    fi
done
[ "$failed" = 0 ] || exit 1
echo "$(ls conformance/lua/*.lua | wc -l) scripts print what C Lua prints"
echo "== the official suite on WASI"
"$py" conformance/run_suite.py --lua-rs "$lua" --timeout 600 --all-lua
echo "== differential fuzzing on WASI"
target/release/difffuzz --seed "${DIFFFUZZ_SEED:-2026}" --count "${DIFFFUZZ_COUNT:-300}" \
    --lua-rs "$lua" --timeout 60 --libm-tolerant
echo "== interp's and stdlib's unit tests on WASI"
CARGO_TARGET_WASM32_WASIP1_RUNNER="$py $root/conformance/wasi_run.py --dir $root" \
    cargo test --quiet --target wasm32-wasip1 -p lupa-interp -p lupa-stdlib
