#!/usr/bin/env python3
"""The references lupa_rs is judged by, obtained at test time and cached, never committed.

Everything comes from the PyPI source distribution of lupa 2.8, fetched by package name:
- `third-party/lua54`: the C sources of Lua 5.4.8, built here into the oracle `lua` command
  with the stock Makefile's flags (`-O2 -DLUA_COMPAT_5_3 -DLUA_USE_LINUX`), as Lua's own
  `make linux` builds it (the folder has no `luac.c`: `string.dump` makes binary chunks);
- `third-party/lua54/testes`: the official Lua 5.4.8 test suite;
- `lupa/tests`: lupa's own test suite.

Cache: conformance/.cache (`lupa-2.8.tar.gz`, `lua-5.4.8/bin/lua`, `testes/`).

usage: oracle.py            fetch and build what is missing (the oracle, the official suite)
                            and print the oracle's path
       oracle.py --check    exit 1 unless the oracle is built and says it is 5.4.8
"""
import argparse
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
CACHE = HERE / ".cache"
SDIST = CACHE / "lupa-2.8.tar.gz"
LUA_DIR = CACHE / "lua-5.4.8"
LUA = LUA_DIR / "bin" / "lua"
TESTES = CACHE / "testes"
VERSION = "Lua 5.4.8"
# The stock Makefile (`make linux`): CFLAGS and the libraries lua links with.
CFLAGS = ["-std=gnu99", "-O2", "-Wall", "-Wextra", "-DLUA_COMPAT_5_3", "-DLUA_USE_LINUX"]
LIBS = ["-Wl,-E", "-ldl", "-lm"]
# Files of third-party/lua54 that are not part of the stock interpreter.
NOT_CORE = {"ltests.c", "onelua.c", "lua.c"}


def _from_simple_index(dest):
    """Downloads the sdist through PyPI's simple index, checking its sha256."""
    page = urllib.request.urlopen("https://pypi.org/simple/lupa/", timeout=60).read().decode()
    m = re.search(r'href="([^"]*/lupa-2\.8\.tar\.gz)#sha256=([0-9a-f]{64})"', page)
    if not m:
        raise RuntimeError("lupa-2.8.tar.gz not listed in PyPI's simple index")
    data = urllib.request.urlopen(m.group(1), timeout=300).read()
    if hashlib.sha256(data).hexdigest() != m.group(2):
        raise RuntimeError("lupa-2.8.tar.gz: sha256 mismatch")
    dest.write_bytes(data)


def _from_pip(dest):
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, LUPA_NO_BUNDLE="true", LUPA_NO_LUAJIT="true")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                        "lupa", "lupa==2.8", "-d", d, "-q"], check=True, env=env)
        shutil.copy(next(pathlib.Path(d).glob("lupa-2.8*.tar.gz")), dest)


def sdist():
    """The cached sdist of lupa 2.8 (downloaded on first use)."""
    if SDIST.exists():
        return SDIST
    CACHE.mkdir(exist_ok=True)
    part = SDIST.with_suffix(".part")
    try:
        _from_simple_index(part)
    except Exception as e:  # a mirror without the simple index: let pip find it
        print(f"oracle: simple index failed ({e}); trying pip download", file=sys.stderr)
        _from_pip(part)
    part.rename(SDIST)
    return SDIST


def extract(inner, dest):
    """Extracts the sdist's folder `inner` (e.g. 'third-party/lua54/testes') to `dest`."""
    with tempfile.TemporaryDirectory() as d, tarfile.open(sdist()) as tf:
        members = [m for m in tf.getmembers() if f"/{inner}/" in m.name]
        tf.extractall(d, members=members, filter="data")
        src = next(pathlib.Path(d).glob(f"*/{inner}"))
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(src, dest)
    return dest


def _version(exe):
    p = subprocess.run([str(exe), "-v"], capture_output=True, text=True)
    return (p.stdout + p.stderr).strip()


def build_lua():
    """The oracle `lua` 5.4.8 (built on first use)."""
    if LUA.exists() and _version(LUA).startswith(VERSION):
        return LUA
    cc = os.environ.get("CC", "gcc")
    with tempfile.TemporaryDirectory() as d:
        src = extract("third-party/lua54", pathlib.Path(d) / "lua54")
        core = sorted(str(p) for p in src.glob("*.c") if p.name not in NOT_CORE)
        out = pathlib.Path(d) / "bin"
        out.mkdir()
        subprocess.run([cc, *CFLAGS, "-o", str(out / "lua"), *core, str(src / "lua.c"), *LIBS],
                       check=True)
        if LUA_DIR.exists():
            shutil.rmtree(LUA_DIR)
        LUA_DIR.mkdir(parents=True)
        shutil.copytree(out, LUA_DIR / "bin")
    v = _version(LUA)
    if not v.startswith(VERSION):
        raise RuntimeError(f"the oracle says {v!r}, not {VERSION}")
    return LUA


def testes():
    """The official Lua 5.4.8 test suite (extracted on first use)."""
    if not (TESTES / "all.lua").exists():
        extract("third-party/lua54/testes", TESTES)
    return TESTES


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    if a.check:
        ok = LUA.exists() and _version(LUA).startswith(VERSION)
        print(LUA if ok else f"missing: {LUA}")
        return 0 if ok else 1
    testes()
    print(build_lua())
    return 0


if __name__ == "__main__":
    sys.exit(main())
