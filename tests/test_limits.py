"""Execution limits for untrusted Lua: ``max_instructions``, ``timeout``, ``interrupt()``
and Ctrl-C. A stopped call raises ``LuaTimeoutError`` (``LuaInterruptedError`` for
``interrupt()``); Lua code cannot catch it, and the runtime stays usable."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import lupa_rs
from lupa_rs import LuaError, LuaInterruptedError, LuaRuntime, LuaTimeoutError

LOOP = "while true do end"


def test_exported_from_both_modules():
    import lupa_rs.lua54 as lua54

    assert issubclass(LuaTimeoutError, LuaError)
    assert issubclass(LuaInterruptedError, LuaTimeoutError)
    assert lua54.LuaTimeoutError is LuaTimeoutError
    assert lupa_rs.LuaInterruptedError is LuaInterruptedError


def test_max_instructions_stops_an_infinite_loop():
    lua = LuaRuntime(max_instructions=100_000)
    assert lua.max_instructions == 100_000
    with pytest.raises(LuaTimeoutError):
        lua.execute(LOOP)
    assert lua.instructions_used >= 100_000


def test_timeout_stops_an_infinite_loop_on_time():
    lua = LuaRuntime(timeout=0.3)
    assert lua.timeout == pytest.approx(0.3)
    start = time.monotonic()
    with pytest.raises(LuaTimeoutError):
        lua.execute(LOOP)
    elapsed = time.monotonic() - start
    assert 0.3 <= elapsed <= 0.3 * 1.1 + 0.05


def test_limits_can_be_set_later_and_removed():
    lua = LuaRuntime()
    assert lua.max_instructions is None and lua.timeout is None
    lua.max_instructions = 10_000
    with pytest.raises(LuaTimeoutError):
        lua.execute(LOOP)
    lua.max_instructions = None
    lua.timeout = 0.05
    with pytest.raises(LuaTimeoutError):
        lua.execute(LOOP)
    lua.timeout = None
    assert lua.eval("1 + 1") == 2


def test_a_bad_timeout_is_rejected():
    with pytest.raises(ValueError):
        LuaRuntime(timeout=-1)


@pytest.mark.parametrize(
    "code",
    [
        "pcall(function() while true do end end) while true do end",
        "return pcall(function() while true do end end)",
        "return xpcall(function() while true do end end, function(e) return e end)",
        "return xpcall(function() while true do end end, function(e) while true do end end)",
        "return coroutine.resume(coroutine.create(function() while true do end end))",
        "return pcall(coroutine.wrap(function() while true do end end))",
        """return pcall(function()
               local x <close> = setmetatable({}, {__close = function() error("mine") end})
               while true do end
           end)""",
        """return pcall(function()
               local x <close> = setmetatable({}, {__close = function() while true do end end})
               while true do end
           end)""",
        "local t = {3, 2, 1} return pcall(table.sort, t, function(a, b) while true do end end)",
        "while true do pcall(error, 'x') end",
    ],
)
def test_lua_code_cannot_catch_the_stop(code):
    lua = LuaRuntime(max_instructions=200_000)
    with pytest.raises(LuaTimeoutError):
        lua.execute(code)
    lua = LuaRuntime(timeout=0.1)
    with pytest.raises(LuaTimeoutError):
        lua.execute(code)


def test_the_runtime_works_after_a_stop():
    lua = LuaRuntime(max_instructions=50_000)
    lua.execute("counter = 0")
    with pytest.raises(LuaTimeoutError):
        lua.execute("while true do counter = counter + 1 end")
    assert lua.eval("counter") > 0
    assert lua.eval("1 + 2") == 3
    f = lua.eval("function(n) local s = 0 for i = 1, n do s = s + i end return s end")
    assert f(100) == 5050


def test_each_call_gets_its_own_budget():
    lua = LuaRuntime(max_instructions=100_000)
    f = lua.eval("function() for i = 1, 10000 do end end")
    for _ in range(50):
        f()


def test_a_python_callback_cannot_swallow_the_stop():
    lua = LuaRuntime(max_instructions=100_000)

    def swallow(g):
        try:
            g()
        except LuaError:
            pass

    lua.globals().swallow = swallow
    with pytest.raises(LuaTimeoutError):
        lua.execute("swallow(function() while true do end end) while true do end")


def test_fuel_used_is_deterministic():
    code = """
        local t = {}
        for i = 1, 20000 do t[i] = tostring(i) .. "x" end
        table.sort(t)
        return #table.concat(t)
    """
    used = []
    for _ in range(2):
        lua = LuaRuntime()
        lua.execute(code)
        used.append(lua.instructions_used)
    assert used[0] == used[1] > 20000
    stops = []
    for _ in range(2):
        lua = LuaRuntime(max_instructions=50_000)
        with pytest.raises(LuaTimeoutError):
            lua.execute(code)
        stops.append(lua.instructions_used)
    assert stops[0] == stops[1]


def test_interrupt_from_another_thread():
    lua = LuaRuntime()
    timer = threading.Timer(0.2, lua.interrupt)
    timer.start()
    start = time.monotonic()
    with pytest.raises(LuaInterruptedError):
        lua.execute(LOOP)
    assert time.monotonic() - start < 1.0
    timer.join()
    assert lua.eval("40 + 2") == 42


CTRL_C = """
import sys, time
import lupa_rs
lua = lupa_rs.LuaRuntime()
print("ready", flush=True)
try:
    lua.execute("while true do end")
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    print(lua.eval("1 + 1"), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_raises_keyboard_interrupt():
    p = subprocess.Popen(
        [sys.executable, "-c", CTRL_C], stdout=subprocess.PIPE, text=True
    )
    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        os.kill(p.pid, signal.SIGINT)
        out, _ = p.communicate(timeout=2)
    finally:
        p.kill()
    assert out.split() == ["KeyboardInterrupt", "2"]


def test_library_work_is_charged_by_size():
    """A big string.rep, table.concat, gsub or sort costs fuel in proportion to its data, so
    it counts against max_instructions and ends the step it runs in."""
    lua = LuaRuntime()
    costs = {}
    for name, code in [
        ("small rep", "local s = string.rep('x', 10)"),
        ("big rep", "local s = string.rep('x', 6400000)"),
        ("big concat", "local t = {} for i = 1, 1000 do t[i] = 'abcdefgh' end "
                       "local s = table.concat(t) s = table.concat(t, s)"),
        ("big gsub", "local s = string.rep('ab', 1000000):gsub('a', 'xyz')"),
        ("big sort", "local t = {} for i = 1, 100000 do t[i] = -i end table.sort(t)"),
    ]:
        lua.execute(code)
        costs[name] = lua.instructions_used
    assert costs["big rep"] >= costs["small rep"] + 100_000      # 6.4 MB / 64
    assert costs["big gsub"] >= 60_000
    assert costs["big sort"] >= 100_000                        # n log n / 16
    limited = LuaRuntime(max_instructions=50_000)
    with pytest.raises(LuaTimeoutError):
        limited.execute("local s = string.rep('x', 6400000) while true do end")
    assert limited.instructions_used < 200_000
