#!/usr/bin/env bash
# Builds the lupa_rs extension into the project's virtualenv (.venv, made by .ci/install)
# and runs the Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export VIRTUAL_ENV="$PWD/.venv"
"$VIRTUAL_ENV/bin/maturin" develop --quiet
"$VIRTUAL_ENV/bin/python" -m pytest -q tests "$@"
