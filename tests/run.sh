#!/usr/bin/env bash
# Builds the lupa_rs extension into the project's virtualenv (.venv, made by .ci/install),
# runs the Python tests, lupa 2.8's own test suite (tests/lupa_suite.py) and checks the type
# stubs against the package (mypy's stubtest).
set -euo pipefail
cd "$(dirname "$0")/.."
export VIRTUAL_ENV="$PWD/.venv"
"$VIRTUAL_ENV/bin/maturin" develop --quiet
"$VIRTUAL_ENV/bin/python" -m pytest -q tests "$@"
"$VIRTUAL_ENV/bin/python" tests/lupa_suite.py
"$VIRTUAL_ENV/bin/python" -m mypy.stubtest lupa_rs
