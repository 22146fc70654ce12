#!/usr/bin/env python3
"""Runs the official Lua 5.4 test suite ("testes") on lua-rs.

The suite is obtained at test time, never committed: it is inside the PyPI source
distribution of lupa 2.8 (third-party/lua54/testes). It is cached in conformance/.cache.

Each file runs in its own lua-rs process, from inside the testes folder, with stdin a pipe,
the globals that all.lua sets (_soft, _port, _nomsg, Message, debug=nil where all.lua does),
`big.lua` inside a coroutine, and the return values all.lua checks. Prints a table
(file, result, seconds) and closes with "N passed, N failed, N skipped".

usage: run_suite.py [--lua-rs PATH] [--timeout S] [--only NAME ...] [--all-lua] [--list-expected]
"""
import argparse
import os
import pathlib
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import oracle  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
TESTES = oracle.TESTES

# Files in the order all.lua runs them, with the value each returns (None: not checked).
FILES = [
    ("main.lua", None), ("gc.lua", None), ("db.lua", None), ("calls.lua", "deep"),
    ("strings.lua", None), ("literals.lua", None), ("tpack.lua", None), ("attrib.lua", 27),
    ("gengc.lua", None), ("locals.lua", 5), ("constructs.lua", None), ("code.lua", None),
    ("big.lua", None), ("cstack.lua", None), ("nextvar.lua", None), ("pm.lua", None),
    ("utf8.lua", None), ("api.lua", None), ("events.lua", 12), ("vararg.lua", None),
    ("closure.lua", None), ("coroutine.lua", None), ("goto.lua", None), ("errors.lua", None),
    ("math.lua", None), ("sort.lua", None), ("bitwise.lua", None), ("verybig.lua", 10),
    ("files.lua", None),
]
# C Lua's internal test library (T) is needed by these; heavy.lua needs 4 GB.
SKIP = {"api.lua": "needs C Lua's internal T library", "code.lua": "needs C Lua's internal T library",
        "heavy.lua": "needs 4 GB of memory"}
# Files that cannot pass yet: name -> the exact failing assertion and the reason. Empty:
# every listed file must pass (and all.lua too, with --all-lua).
EXPECTED_FAIL = {}


def obtain_suite():
    return oracle.testes()


PRELUDE = ("_port = {port}; _soft = {soft}; _nomsg = true; "
           "Message = function (m) io.stderr:write(m) end; ")


def run_one(lua_rs, name, expect, timeout, port, soft):
    prelude = PRELUDE.format(port="true" if port else "false", soft="true" if soft else "false")
    if name == "big.lua":
        body = ("local f = assert(loadfile('big.lua')); "
                "local co = coroutine.wrap(f); local r = co(); ")
    else:
        body = f"local r = dofile('{name}'); "
    if expect is not None:
        lit = str(expect)  # a Lua expression: a number, or a global the file defines
        body += f"assert(r == {lit}, '{name} returned ' .. tostring(r)); "
    body += "io.stderr:write('\\nSUITE-OK\\n')"
    t0 = time.monotonic()
    try:
        p = subprocess.run([lua_rs, "-e", prelude + body], cwd=TESTES, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        dt = time.monotonic() - t0
        ok = p.returncode == 0 and b"SUITE-OK" in p.stderr
        detail = "" if ok else (p.stderr.decode("utf-8", "replace").strip().splitlines() or ["?"])[0]
        return ok, dt, detail
    except subprocess.TimeoutExpired:
        return False, time.monotonic() - t0, f"timeout after {timeout}s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lua-rs", default=str(HERE.parent / "target" / "release" / "lua-rs"))
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--port", action="store_true", default=True)
    ap.add_argument("--all-lua", action="store_true", help="also run all.lua itself")
    args = ap.parse_args()
    args.lua_rs = os.path.abspath(args.lua_rs)  # the files run from the suite's folder
    obtain_suite()
    passed = failed = skipped = 0
    unexpected = []
    print(f"{'file':<16} {'result':<8} {'seconds':>8}  detail")
    for name, expect in FILES:
        if args.only and name not in args.only:
            continue
        if name in SKIP:
            skipped += 1
            print(f"{name:<16} {'skip':<8} {'':>8}  {SKIP[name]}")
            continue
        ok, dt, detail = run_one(args.lua_rs, name, expect, args.timeout, True, False)
        if ok:
            passed += 1
        else:
            failed += 1
            if name not in EXPECTED_FAIL:
                unexpected.append(name)
        print(f"{name:<16} {'pass' if ok else 'FAIL':<8} {dt:8.2f}  {detail[:100]}")
    if args.all_lua and not args.only:
        t0 = time.monotonic()
        try:
            p = subprocess.run([args.lua_rs, "-e", "_port = true", "all.lua"], cwd=TESTES,
                               stdin=subprocess.PIPE, capture_output=True,
                               timeout=args.timeout * 4)
            ok = b"final OK" in p.stdout
        except subprocess.TimeoutExpired:
            ok = False
        print(f"{'all.lua':<16} {'pass' if ok else 'FAIL':<8} {time.monotonic() - t0:8.2f}")
        passed, failed = passed + ok, failed + (not ok)
        if not ok:
            unexpected.append("all.lua")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
