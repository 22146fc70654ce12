"""`warn()` and the warnings of failing finalizers, as lupa (C Lua's `luaL_newstate`
warning function) gives them: on standard error, `Lua warning: ` first, off until
`warn('@on')`. The expected texts were taken from lupa 2.8's `lupa.lua54`."""

import subprocess
import sys
from conftest import requires_processes

SCRIPT = r"""
from lupa_rs import LuaRuntime
lua = LuaRuntime()
lua.execute("warn('hidden') warn('@on') warn('hello', ' ', 'world') warn('@bogus') warn(1, 2)")
lua.execute("setmetatable({}, {__gc = function() error('boom') end}) collectgarbage()")
lua.execute("setmetatable({}, {__gc = function() error({}) end}) collectgarbage()")
lua.execute("warn('@off') warn('hidden again') warn('@on') warn('@o', 'n')")
lua.execute("local ok, e = pcall(warn) print(ok, e) ok, e = pcall(warn, 'a', {}) print(ok, e)")
"""


@requires_processes
def test_warnings_go_to_stderr_as_in_lupa():
    p = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines() == [
        "Lua warning: hello world",
        "Lua warning: 12",
        'Lua warning: error in __gc ([string "<python>"]:1: boom)',
        "Lua warning: error in __gc (error object is not a string)",
        "Lua warning: @on",
    ]
    assert p.stdout.splitlines() == [
        "false\tbad argument #1 to 'warn' (string expected, got no value)",
        "false\tbad argument #2 to 'warn' (string expected, got table)",
    ]
