#!/usr/bin/env python3
"""Runs a WASI program (wasm32-wasip1) like a native command, through wasmtime's Python
package (PyPI `wasmtime`): the arguments, environment and standard streams are this
process's, the exit status is the program's.

    python3 conformance/wasi_run.py [--argv0 NAME] [--dir DIR]... PROGRAM.wasm [ARG...]

The program sees the current directory as `/` (wasi-libc resolves relative paths from `/`,
so `dofile("x.lua")` finds ./x.lua) and, where they exist, the host's `/tmp` as `/tmp`
(`os.tmpname`, `io.tmpfile`), each `--dir` and the directories of absolute paths among the
arguments under their own names. The wasm stack is 2 MiB (wasmtime's default of 512 KiB is less than
a native thread's, and C Lua's `cstack.lua` needs more). Compiled modules are cached next
to the program (`PROGRAM.wasm.cwasm`), keyed by its size and time.

As the test runner of cargo (`CARGO_TARGET_WASM32_WASIP1_RUNNER`), it runs unit tests.
"""

import importlib.metadata
import os
import pathlib
import sys

import wasmtime

WASM_STACK = 2 << 20


def engine():
    config = wasmtime.Config()
    config.max_wasm_stack = WASM_STACK
    return wasmtime.Engine(config)


def load(eng, path):
    """The compiled module, from the cache next to the program when it is current."""
    st = os.stat(path)
    cached = pathlib.Path(f"{path}.cwasm")
    stamp = pathlib.Path(f"{path}.cwasm.stamp")
    key = f"{st.st_size}:{st.st_mtime_ns}:{importlib.metadata.version('wasmtime')}"
    if cached.exists() and stamp.exists() and stamp.read_text() == key:
        try:
            return wasmtime.Module.deserialize_file(eng, str(cached))
        except Exception:
            pass
    module = wasmtime.Module.from_file(eng, path)
    try:
        cached.write_bytes(module.serialize())
        stamp.write_text(key)
    except OSError:
        pass
    return module


def main():
    argv = sys.argv[1:]
    argv0 = None
    dirs = {"/tmp"} if os.path.isdir("/tmp") else set()
    while len(argv) > 1 and argv[0] in ("--argv0", "--dir"):
        if argv[0] == "--argv0":
            argv0 = argv[1]
        else:
            dirs.add(os.path.abspath(argv[1]))
        argv = argv[2:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    program, args = argv[0], argv[1:]
    eng = engine()
    module = load(eng, program)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [argv0 or os.path.basename(program).removesuffix(".wasm")] + args
    wasi.env = list(os.environ.items())
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    wasi.preopen_dir(".", "/")
    for a in args:
        if a.startswith("/") and os.path.exists(a):
            d = a if os.path.isdir(a) else os.path.dirname(a)
            if d != "/":
                dirs.add(d)
    for d in sorted(dirs):
        wasi.preopen_dir(d, d)
    store = wasmtime.Store(eng)
    store.set_wasi(wasi)
    linker = wasmtime.Linker(eng)
    linker.define_wasi()
    instance = linker.instantiate(store, module)
    start = instance.exports(store)["_start"]
    sys.stdout.flush()
    try:
        start(store)
    except wasmtime.ExitTrap as e:
        return e.code
    except wasmtime.Trap as e:
        print(f"wasi_run: {program}: {e}", file=sys.stderr)
        return 134
    return 0


if __name__ == "__main__":
    sys.exit(main())
