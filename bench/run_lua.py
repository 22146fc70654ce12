#!/usr/bin/env python3
"""Times the Lua programs of bench/lua on lua-rs and Debian's lua5.4, alternating runs.

For each program: median wall time of N runs of each, the ratio lua-rs / lua5.4, and a
check that both print the same checksum; then the geometric mean of the ratios.

usage: run_lua.py [--lua-rs PATH] [--ref lua5.4] [--runs N] [--only NAME ...] [--markdown FILE]
"""
import argparse
import os
import math
import pathlib
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent


def run(exe, prog):
    t0 = time.perf_counter()
    p = subprocess.run([exe, prog.name], cwd=prog.parent, capture_output=True, timeout=600)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{exe} {prog.name} failed: {p.stderr.decode(errors='replace')}")
    return dt, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lua-rs", default=str(HERE.parent / "target" / "release" / "lua-rs"))
    ap.add_argument("--ref", default="lua5.4")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--markdown")
    a = ap.parse_args()
    a.lua_rs = os.path.abspath(a.lua_rs)  # the programs run from their own folder
    progs = sorted((HERE / "lua").glob("*.lua"))
    if a.only:
        progs = [p for p in progs if p.stem in a.only]
    rows = []
    for prog in progs:
        ours, ref = [], []
        out_ours = out_ref = None
        for _ in range(a.runs):
            t, out_ref = run(a.ref, prog)
            ref.append(t)
            t, out_ours = run(a.lua_rs, prog)
            ours.append(t)
        if out_ours != out_ref:
            print(f"{prog.stem}: CHECKSUM MISMATCH {out_ours!r} vs {out_ref!r}", file=sys.stderr)
            return 1
        mr, mo = statistics.median(ref), statistics.median(ours)
        rows.append((prog.stem, mr, mo, mo / mr))
        print(f"{prog.stem:<16} lua5.4 {mr:7.3f}s  lua-rs {mo:7.3f}s  ratio {mo / mr:5.2f}", flush=True)
    geo = math.exp(sum(math.log(r[3]) for r in rows) / len(rows))
    lines = ["| program | lua5.4 (s) | lua-rs (s) | ratio |", "|---|---:|---:|---:|"]
    lines += [f"| {n} | {r:.3f} | {o:.3f} | {x:.2f} |" for n, r, o, x in rows]
    lines.append(f"| **geometric mean** | | | **{geo:.2f}** |")
    table = "\n".join(lines)
    print(table)
    if a.markdown:
        pathlib.Path(a.markdown).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
