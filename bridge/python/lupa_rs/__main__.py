"""``python -m lupa_rs script.lua [args]`` (also the ``lupa-rs`` command): runs a Lua file.

The script gets its arguments in the global ``arg`` (``arg[0]`` is the script) and as ``...``;
a Lua error is printed to standard error and the exit status is 1.
"""

import sys

from . import LuaError, LuaRuntime


def main(argv=None):
    """Runs the script named by the first argument; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        print("usage: python -m lupa_rs script.lua [args]", file=sys.stderr)
        return 2
    script, args = argv[0], argv[1:]
    try:
        with open(script, "rb") as f:
            code = f.read()
    except OSError as e:
        print(f"lupa-rs: cannot open {script}: {e.strerror}", file=sys.stderr)
        return 1
    if code.startswith(b"#"):
        code = b"--" + code  # keep line numbers: the first line becomes a comment
    lua = LuaRuntime()
    lua.globals().arg = lua.table_from({0: script}, dict(enumerate(args, 1)))
    try:
        lua.execute(code, *args, name="@" + script)
    except LuaError as e:
        print(f"lupa-rs: {e}", file=sys.stderr)
        if e.traceback:
            print(e.traceback, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
