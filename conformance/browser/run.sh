#!/usr/bin/env bash
# interp and stdlib in a browser-style host: builds lupa_browser.wasm (wasm32-unknown-unknown:
# no WASI, no JavaScript glue; the clock is the host's, Date.now and performance.now) and runs
# it under Node (run.mjs, as a page would instantiate it): checks.lua, the fuel and timeout
# stops, and the self-checking scripts of conformance/lua against C Lua 5.4.8 (but those that
# need files, which a browser has none of).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
command -v node >/dev/null || { echo "node is required (Node.js 18 or later)" >&2; exit 1; }
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
cargo build --release --quiet --target wasm32-unknown-unknown -p lupa-browser
wasm="$root/target/wasm32-unknown-unknown/release/lupa_browser.wasm"
ls -l "$wasm"
run() { node "$root/conformance/browser/run.mjs" "$wasm" "$@"; }

out="$(run conformance/browser/checks.lua)"
[ "$out" = "$(printf 'OK browser\nok')" ] || { echo "checks.lua: $out" >&2; exit 1; }
echo "checks.lua: ok"
out="$(run --allow-errors --fuel 1000000 -e 'while true do end')"
[ "$out" = "error: instruction limit exceeded" ] || { echo "fuel: $out" >&2; exit 1; }
start=$(date +%s%N)
out="$(run --allow-errors --timeout 300 -e 'while true do end')"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$out" = "error: timeout exceeded" ] || { echo "timeout: $out" >&2; exit 1; }
[ "$ms" -ge 300 ] || { echo "the timeout fired after ${ms} ms" >&2; exit 1; }
echo "fuel and timeout stops: ok (the 300 ms timeout took ${ms} ms with Node's start)"

py=python3
if [ -x .venv/bin/python ]; then py=.venv/bin/python; fi
"$py" conformance/oracle.py >/dev/null
oracle="$root/conformance/.cache/lua-5.4.8/bin/lua"
# Scripts that read and write files (a browser has no file system).
files_needed="debug_hooks.lua dump.lua io_modes.lua"
n=0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd conformance/lua
for f in *.lua; do
    case " $files_needed " in *" $f "*) continue ;; esac
    { "$oracle" "$f" 2>&1; echo ok; } >"$tmp/want"
    run --allow-errors "$f" >"$tmp/got"
    if ! cmp -s "$tmp/want" "$tmp/got"; then
        echo "$f differs from C Lua:"; diff -a "$tmp/want" "$tmp/got" | head -20
        exit 1
    fi
    n=$((n + 1))
done
echo "$n scripts of conformance/lua print what C Lua prints (left out, needing files: $files_needed)"
