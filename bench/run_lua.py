#!/usr/bin/env python3
"""Times the Lua programs of bench/lua on lua-rs against two references: C Lua 5.4.8 (the
oracle that `python3 conformance/oracle.py` builds) and Debian's lua5.4 (5.4.4).

What is measured, per program and interpreter, over N runs taken in turns (C Lua 5.4.8,
lua-rs, lua5.4, C Lua 5.4.8, lua-rs, ...), each program run from its own folder:
- wall time: from spawning the child to reaping it (time.perf_counter), median of the N runs;
- peak RSS: the child's ru_maxrss (KB on Linux), median of the N runs. The child is started
  through GNU time (`/usr/bin/time -f %M`), which forks it from its own small image: a child
  spawned by this Python process directly inherits Python's high-water mark at exec (Linux
  folds the old image's peak into ru_maxrss), so os.wait4 on it reads at least ~15 MB even
  for a 2 MB program. Without GNU time the runner falls back to os.wait4 on the child and
  says so; figures below the runner's own peak are then floored at it.
Reported per program: the medians, lua-rs' time ratio to each reference, the peak RSS of each
and lua-rs' RSS ratio to C Lua 5.4.8; then the geometric means of the ratios.

Fails (exit 1) if the interpreters print different output for a program (or one run of an
interpreter differs from its first), if a run fails, or if an interpreter is missing.

usage: run_lua.py [--lua-rs PATH] [--c-lua PATH] [--ref lua5.4] [--runs N] [--only NAME ...]
                  [--markdown FILE] [--time /usr/bin/time]
"""
import argparse
import math
import os
import pathlib
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
TIMEOUT = 600  # seconds per run
C_LUA, OURS, REF = "C 5.4.8", "lua-rs", "lua5.4"  # the interpreters, in the order they run


class RunError(Exception):
    pass


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_once(exe, prog, gnu_time):
    """Runs `exe prog` once from prog's folder: (wall seconds, peak RSS in KB, stdout bytes)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        cmd = [exe, prog.name]
        if gnu_time:
            cmd = [gnu_time, "-q", "-f", "%M", "-o", rss.name] + cmd
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=prog.parent, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=err, start_new_session=True)
        # the whole process group: GNU time and the interpreter under it
        watchdog = threading.Timer(TIMEOUT, kill_group, (p.pid,))
        watchdog.start()
        try:
            _, status, usage = os.wait4(p.pid, 0)
        finally:
            watchdog.cancel()
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            raise RunError(f"{exe} {prog.name} exited with {p.returncode}: "
                           f"{err.read().decode(errors='replace').strip()}")
        peak = int(rss.read().split()[-1]) if gnu_time else usage.ru_maxrss
        return wall, peak, out.read()


def measure(prog, interpreters, runs, gnu_time):
    """Runs every interpreter `runs` times in turns on prog.

    Returns {name: (median wall, median peak RSS KB, output)}; raises RunError if the outputs
    differ between interpreters or between runs of one interpreter."""
    walls = {name: [] for name, _ in interpreters}
    peaks = {name: [] for name, _ in interpreters}
    outputs = {}
    for _ in range(runs):
        for name, exe in interpreters:
            wall, peak, out = run_once(exe, prog, gnu_time)
            walls[name].append(wall)
            peaks[name].append(peak)
            if outputs.setdefault(name, out) != out:
                raise RunError(f"{prog.stem}: {name} printed different output in two runs:\n"
                               f"  {outputs[name]!r}\n  {out!r}")
    first_name, _ = interpreters[0]
    for name, _ in interpreters[1:]:
        if outputs[name] != outputs[first_name]:
            raise RunError(f"{prog.stem}: CHECKSUM MISMATCH\n  {first_name}: "
                           f"{outputs[first_name]!r}\n  {name}: {outputs[name]!r}")
    return {name: (statistics.median(walls[name]), statistics.median(peaks[name]),
                   outputs[name]) for name, _ in interpreters}


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def mb(kb):
    return kb / 1024


HEADER = ["program", "C 5.4.8 (s)", "lua-rs (s)", "lua5.4 (s)", "/ C 5.4.8", "/ lua5.4",
          "C 5.4.8 MB", "lua-rs MB", "lua5.4 MB", "RSS / C 5.4.8"]


def table_rows(rows):
    """rows: (name, {interp: (wall, peak, out)}) -> list of cell lists, geometric means last."""
    cells, t_c, t_ref, r_c = [], [], [], []
    for name, m in rows:
        (wc, pc, _), (wo, po, _), (wr, pr, _) = m[C_LUA], m[OURS], m[REF]
        t_c.append(wo / wc)
        t_ref.append(wo / wr)
        r_c.append(po / pc)
        cells.append([name, f"{wc:.3f}", f"{wo:.3f}", f"{wr:.3f}", f"{wo / wc:.2f}",
                      f"{wo / wr:.2f}", f"{mb(pc):.1f}", f"{mb(po):.1f}", f"{mb(pr):.1f}",
                      f"{po / pc:.2f}"])
    if rows:
        cells.append(["geometric mean", "", "", "", f"{geomean(t_c):.2f}",
                      f"{geomean(t_ref):.2f}", "", "", "", f"{geomean(r_c):.2f}"])
    return cells


def text_table(cells):
    widths = [max(len(r[i]) for r in [HEADER] + cells) for i in range(len(HEADER))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                              for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(HEADER), fmt(["-" * w for w in widths])] + [fmt(r) for r in cells])


def markdown_table(cells):
    lines = ["| " + " | ".join(HEADER) + " |", "|---" + "|---:" * (len(HEADER) - 1) + "|"]
    for r in cells:
        if r[0] == "geometric mean":
            r = ["**geometric mean**"] + [f"**{c}**" if c else "" for c in r[1:]]
        lines.append("| " + " | ".join(r) + " |")
    return "\n".join(lines)


def find_exe(path, what, how):
    """The absolute path of an interpreter (a path or a name on PATH), or None with a message."""
    found = shutil.which(path)
    if found is None:
        print(f"{what} not found at {path!r}: {how}", file=sys.stderr)
        return None
    return os.path.abspath(found)  # the programs run from their own folder


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lua-rs", default=str(REPO / "target" / "release" / "lua-rs"))
    ap.add_argument("--c-lua", default=str(REPO / "conformance" / ".cache" / "lua-5.4.8" / "bin" / "lua"),
                    help="C Lua 5.4.8 (default: the oracle conformance/oracle.py builds)")
    ap.add_argument("--ref", default="lua5.4", help="the second reference (Debian's lua5.4)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", nargs="*", help="program names (file stems) to run")
    ap.add_argument("--markdown", help="also write the table to this file as markdown")
    ap.add_argument("--time", default="/usr/bin/time", help="GNU time, to read peak RSS")
    a = ap.parse_args()

    c_lua = find_exe(a.c_lua, "C Lua 5.4.8", "build it with `python3 conformance/oracle.py` "
                     "(or pass --c-lua PATH)")
    ours = find_exe(a.lua_rs, "lua-rs", "build it with `cargo build --release` (or pass --lua-rs)")
    ref = find_exe(a.ref, "the reference lua5.4", "install Debian's lua5.4 (or pass --ref)")
    if None in (c_lua, ours, ref):
        return 1
    gnu_time = shutil.which(a.time)
    if gnu_time is None:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"warning: GNU time not found at {a.time!r}: peak RSS is os.wait4's ru_maxrss, "
              f"which includes this runner's own peak ({mb(own):.1f} MB)", file=sys.stderr)
    interpreters = [(C_LUA, c_lua), (OURS, ours), (REF, ref)]

    progs = sorted((HERE / "lua").glob("*.lua"))
    if a.only:
        unknown = set(a.only) - {p.stem for p in progs}
        if unknown:
            print(f"no such program: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 1
        progs = [p for p in progs if p.stem in a.only]

    rows, failures = [], []
    for prog in progs:
        try:
            m = measure(prog, interpreters, a.runs, gnu_time)
        except RunError as e:
            print(e, file=sys.stderr)
            failures.append(prog.stem)
            continue
        rows.append((prog.stem, m))
        (wc, pc, _), (wo, po, _), (wr, pr, _) = m[C_LUA], m[OURS], m[REF]
        print(f"{prog.stem:<14} C {wc:6.3f}s {mb(pc):6.1f}MB  lua-rs {wo:6.3f}s {mb(po):6.1f}MB  "
              f"lua5.4 {wr:6.3f}s {mb(pr):6.1f}MB  time /C {wo / wc:4.2f} /5.4 {wo / wr:4.2f}  "
              f"RSS /C {po / pc:4.2f}", flush=True)

    cells = table_rows(rows)
    print()
    print(text_table(cells))
    if a.markdown:
        pathlib.Path(a.markdown).write_text(markdown_table(cells) + "\n")
    if failures:
        print(f"FAILED: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
