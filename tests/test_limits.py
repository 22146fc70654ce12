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
from conftest import requires_processes, requires_threads

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


@requires_threads
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
@requires_processes
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


# Single library calls that each run for seconds without checks inside them: the limits
# must stop them mid-call.
LONG_LIBRARY_CALLS = {
    "backtracking find": "return string.rep('a', 300000):find('.-.-.-.-b')",
    "huge gsub": "local s = string.rep('ab', 1e7) while true do s:gsub('%w', '%0%0') end",
    "big sort": """local t = {} for i = 1, 2e6 do t[i] = (i * 7919) % 2000003 end
                   while true do table.sort(t) end""",
    "full collections": """local t = {} for i = 1, 1e5 do t[i] = {} end
                           while true do collectgarbage() end""",
}


@pytest.mark.parametrize("name", sorted(LONG_LIBRARY_CALLS))
def test_a_timeout_stops_a_long_library_call_on_time(name):
    lua = LuaRuntime(timeout=0.5)
    start = time.monotonic()
    with pytest.raises(LuaTimeoutError, match="timeout exceeded"):
        lua.execute(LONG_LIBRARY_CALLS[name])
    elapsed = time.monotonic() - start
    assert 0.5 <= elapsed <= 0.5 * 1.1 + 0.05, elapsed
    assert lua.eval("1 + 1") == 2


@pytest.mark.parametrize("name", sorted(LONG_LIBRARY_CALLS))
@requires_threads
def test_interrupt_stops_a_long_library_call_promptly(name):
    lua = LuaRuntime()
    timer = threading.Timer(0.3, lua.interrupt)
    start = time.monotonic()
    timer.start()
    with pytest.raises(LuaInterruptedError):
        lua.execute(LONG_LIBRARY_CALLS[name])
    elapsed = time.monotonic() - start
    timer.join()
    assert 0.3 <= elapsed <= 0.3 * 1.1 + 0.1, elapsed
    assert lua.eval("40 + 2") == 42


@pytest.mark.parametrize("name", sorted(LONG_LIBRARY_CALLS))
def test_fuel_stops_a_long_library_call_at_the_same_count(name):
    stops = []
    for _ in range(2):
        lua = LuaRuntime(max_instructions=20_000_000)
        with pytest.raises(LuaTimeoutError, match="instruction limit exceeded"):
            lua.execute(LONG_LIBRARY_CALLS[name])
        stops.append(lua.instructions_used)
    assert stops[0] == stops[1]
    # Stopped inside the call, not after it: at most a step or a collection past the budget.
    assert 20_000_000 <= stops[0] < 20_000_000 + 300_000


CTRL_C_IN_LIBRARY = """
import lupa_rs
lua = lupa_rs.LuaRuntime()
print("ready", flush=True)
try:
    lua.execute("return string.rep('a', 300000):find('.-.-.-.-b')")
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    print(lua.eval("1 + 1"), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
@requires_processes
def test_ctrl_c_stops_a_long_library_call():
    p = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_IN_LIBRARY], stdout=subprocess.PIPE, text=True
    )
    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        os.kill(p.pid, signal.SIGINT)
        out, _ = p.communicate(timeout=2)
    finally:
        p.kill()
    assert out.split() == ["KeyboardInterrupt", "2"]


DEEP = "function deep(n) if n == 0 then return 0 end return 1 + deep(n - 1) end"


def test_the_call_depth_limit():
    lua = LuaRuntime(max_call_depth=100)
    assert lua.max_call_depth == 100
    lua.execute(DEEP)
    assert lua.eval("deep(90)") == 90
    with pytest.raises(LuaError, match=r"stack overflow") as e:
        lua.eval("deep(200)")
    assert not isinstance(e.value, LuaTimeoutError)
    # A Lua error: pcall catches it, as C Lua's stack overflow.
    ok, msg = lua.eval("pcall(deep, 200)")
    assert ok is False and msg.endswith("stack overflow")
    # Coroutines start at the depth of the code resuming them.
    ok, msg = lua.eval("pcall(function() local function down(n) if n == 0 then "
                       "return coroutine.wrap(deep)(60) end return (down(n - 1)) end "
                       "return down(60) end)")
    assert ok is False and msg.endswith("stack overflow")
    assert lua.eval("deep(90)") == 90
    # So do coroutines resumed from Python (from depth 0).
    co = lua.eval("function(n) while true do n = coroutine.yield(pcall(deep, n)) end end")
    assert co.coroutine(90).send(None) == (True, 90)
    gen = co.coroutine(200)
    ok, msg = gen.send(None)
    assert ok is False and msg.endswith("stack overflow")
    assert gen.send(50) == (True, 50)
    lua.max_call_depth = None
    assert lua.max_call_depth is None
    assert lua.eval("deep(10000)") == 10000


def test_the_coroutine_limit():
    lua = LuaRuntime(max_coroutines=10)
    assert lua.max_coroutines == 10
    # Finished coroutines stop counting at once.
    assert lua.eval("(function() for i = 1, 100 do coroutine.wrap(function() end)() end "
                    "return 'ok' end)()") == "ok"
    with pytest.raises(LuaError, match=r"too many coroutines"):
        lua.execute("keep = {} for i = 1, 11 do keep[i] = coroutine.create(print) end")
    assert lua.eval("#keep") == 10
    ok, msg = lua.eval("pcall(coroutine.wrap, print)")
    assert ok is False and msg == "too many coroutines"
    # Coroutines made from Python count too.
    with pytest.raises(LuaError, match=r"too many coroutines"):
        lua.eval("function() end").coroutine()
    # Collected ones stop counting.
    lua.execute("keep = nil collectgarbage()")
    assert lua.eval("coroutine.status(coroutine.create(print))") == "suspended"
    lua.max_coroutines = None
    assert lua.max_coroutines is None
    lua.execute("keep = {} for i = 1, 100 do keep[i] = coroutine.create(print) end")
