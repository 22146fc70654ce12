#!/usr/bin/env bash
# Builds lua-rs (release) and runs the official Lua 5.4.8 test suite on it: every test file
# in its own process, then all.lua. The suite is downloaded (PyPI sdist of lupa 2.8) and
# cached in conformance/.cache on first use, never committed. Then a bounded differential
# fuzzing run against C Lua 5.4.8 (conformance/oracle.py builds it): a fixed seed and count,
# about a minute; any program printing differently fails the run (DIFFFUZZ_SEED and
# DIFFFUZZ_COUNT choose others).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p lupa-conformance
PY=python3
if [ -x .venv/bin/python ]; then PY=.venv/bin/python; fi
"$PY" conformance/run_suite.py --timeout 120 --all-lua "$@"
"$PY" conformance/oracle.py >/dev/null
target/release/difffuzz --seed "${DIFFFUZZ_SEED:-2026}" --count "${DIFFFUZZ_COUNT:-5000}"
