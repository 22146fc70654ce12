#!/usr/bin/env bash
# Builds the wheels lupa_rs ships (abi3: one for CPython 3.9 on, one for 3.12 on, which pip
# prefers where it fits; manylinux2014, linked against glibc 2.17 by zig, as lupa's are) into
# target/wheels, installs each into fresh virtualenvs, one per Python it is for that this
# machine has (python3, and pyenv's oldest and newest CPython), and runs the Python tests,
# lupa 2.8's own test suite and stubtest against the installed package, not the source tree.
#
#   tests/run_wheel.sh            (every wheel, every Python found)
#   PYTHONS="/usr/bin/python3.12" tests/run_wheel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="$root/target/wheels"
venvs="$root/target/wheel-venvs"
system_python="$(command -v python3)"
export PATH="$root/.venv/bin:$PATH"   # maturin, and zig (the PyPI package `ziglang`)
.venv/bin/python -c "import ziglang" 2>/dev/null || .venv/bin/pip install -q ziglang

# The Pythons to test: python3, and pyenv's oldest and newest (where pyenv is here).
if [ -z "${PYTHONS:-}" ]; then
    PYTHONS="$system_python"
    if [ -d "$HOME/.pyenv/versions" ]; then
        found="$(ls -d "$HOME"/.pyenv/versions/3.* 2>/dev/null | sort -V \
            | while read -r d; do
                v="$("$d/bin/python3" -c 'import sys; print(sys.version_info >= (3, 9))' 2>/dev/null)"
                [ "$v" = True ] && echo "$d/bin/python3"
              done || true)"
        if [ -n "$found" ]; then
            PYTHONS="$(head -n 1 <<<"$found") $PYTHONS $(tail -n 1 <<<"$found")"
        fi
    fi
fi

rm -rf "$out"
mkdir -p "$out" "$venvs"
build() { # features, interpreter
    maturin build --release --quiet --zig --compatibility manylinux2014 \
        --features "$1" --interpreter "$2" --out "$out"
}
py312=""
for py in $PYTHONS; do
    if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then py312="$py"; fi
done
build abi3 "$system_python"
if [ -n "$py312" ]; then build abi3-py312 "$py312"; fi
ls -l "$out"

seen=""
for py in $PYTHONS; do
    ver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    case " $seen " in *" $ver "*) continue ;; esac
    seen="$seen $ver"
    echo "== CPython $ver ($py)"
    venv="$venvs/$ver"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check pytest mypy
    # pip picks the wheel for this Python among those built (cp312-abi3 from 3.12 on).
    "$venv/bin/pip" install -q --disable-pip-version-check --no-index --find-links "$out" lupa_rs
    "$venv/bin/python" - "$venv" <<'EOF'
import importlib.metadata, pathlib, sys
import lupa_rs
where = pathlib.Path(lupa_rs.__file__).resolve()
assert str(where).startswith(str(pathlib.Path(sys.argv[1]).resolve())), where
dist = importlib.metadata.distribution("lupa_rs")
tags = [l for l in dist.read_text("WHEEL").splitlines() if l.startswith("Tag:")]
print("lupa_rs", lupa_rs.__version__, "from", where.parent, *tags)
EOF
    (cd "$root/tests" && "$venv/bin/python" -m pytest -q -p no:cacheprovider --rootdir "$root" "$root/tests")
    "$venv/bin/python" "$root/tests/lupa_suite.py"
    (cd "$venv" && "$venv/bin/python" -m mypy.stubtest lupa_rs)
done
