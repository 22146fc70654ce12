"""Bad input gets a clear Python exception, never a crash; edge cases of conversions,
re-entrancy, threads and the command line."""

import subprocess
import sys
import threading

import pytest

import lupa_rs as lupa
from lupa_rs import LuaRuntime
from conftest import requires_processes, requires_threads


@pytest.fixture
def lua():
    return LuaRuntime()


def test_wrong_argument_types(lua):
    with pytest.raises(TypeError):
        lua.eval(123)
    with pytest.raises(TypeError):
        lua.execute(None)
    with pytest.raises(ValueError):
        LuaRuntime(attribute_filter=lambda o, n, s: n, attribute_handlers=(len, None))
    # As in lupa: a filter with two empty handlers is no conflict.
    LuaRuntime(attribute_filter=lambda o, n, s: n, attribute_handlers=(None, None))


def test_bytes_and_encodings():
    lua = LuaRuntime(encoding=None)
    assert lua.eval("'abc'") == b"abc"
    assert lua.eval("function(s) return s .. '!' end")(b"x") == b"x!"
    utf8 = LuaRuntime()
    assert utf8.eval("'\\u{e9}'") == "\u00e9"
    with pytest.raises(UnicodeDecodeError):
        utf8.eval("'\\xff'")
    latin = LuaRuntime(encoding="latin-1")
    assert latin.eval("'\\xe9'") == "\u00e9"


def test_integer_overflow(lua):
    f = lua.eval("function(x) return math.type(x) end")
    assert f(2**63 - 1) == "integer"
    with pytest.raises(OverflowError):
        f(2**63)
    handled = LuaRuntime(overflow_handler=float)
    assert handled.eval("function(x) return math.type(x) end")(2**64) == "float"
    assert lua.eval("math.maxinteger") == lupa.LUA_MAXINTEGER


def test_exceptions_in_filters_and_handlers():
    def deny(obj, name, is_setting):
        raise AttributeError(f"access to {name} denied")

    lua = LuaRuntime(attribute_filter=deny)

    class Obj:
        x = 1

    with pytest.raises(AttributeError, match="denied"):
        lua.eval("function(o) return o.x end")(Obj())
    ok, err = lua.eval("function(o) return pcall(function() return o.x end) end")(Obj())
    assert ok is False and isinstance(err, AttributeError)

    def getter(obj, name):
        raise KeyError(name)

    lua = LuaRuntime(attribute_handlers=(getter, None))
    with pytest.raises(KeyError):
        lua.eval("function(o) return o.y end")(Obj())


def test_nested_python_lua_calls(lua):
    lua.globals().py_double = lambda f, x: f(x) * 2
    f = lua.eval("function(x) return py_double(function(y) return py_double(function(z) return z + 1 end, y) end, x) end")
    assert f(1) == 8
    # a Python exception deep inside nested calls comes out as itself
    def boom(_):
        raise RuntimeError("deep")

    g = lua.eval("function(f) return py_double(function(y) return f(y) end, 1) end")
    with pytest.raises(RuntimeError, match="deep"):
        g(boom)


def test_errors_through_coroutines(lua):
    def boom():
        raise ValueError("in coroutine")

    co = lua.eval("function(f) coroutine.yield(1) f() end").coroutine(boom)
    assert next(co) == 1
    with pytest.raises(ValueError, match="in coroutine"):
        next(co)


def test_lua_errors_keep_values(lua):
    with pytest.raises(lupa.LuaError) as info:
        lua.execute("error(setmetatable({}, {__tostring = function() return 'custom' end}))")
    assert lupa.lua_type(info.value.value) == "table"
    assert str(info.value.value) == "custom"
    with pytest.raises(lupa.LuaError, match="attempt to index a nil value"):
        lua.execute("local t = nil; return t.x")


def test_deep_recursion_is_a_lua_error(lua):
    with pytest.raises(lupa.LuaError, match="stack overflow"):
        lua.execute("local function f() return 1 + f() end return f()")
    assert lua.eval("1") == 1


@requires_threads
def test_many_threads_one_runtime(lua):
    f = lua.eval("function(n) local s = 0 for i = 1, n do s = s + i end return s end")
    counter = lua.eval("{n = 0}")
    inc = lua.eval("function(t) t.n = t.n + 1 end")
    errors = []

    def work():
        try:
            for _ in range(200):
                assert f(100) == 5050
                inc(counter)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert counter.n == 800


@requires_threads
def test_wrappers_dropped_in_other_threads(lua):
    tables = [lua.eval("{}") for _ in range(100)]

    def drop():
        tables.clear()

    t = threading.Thread(target=drop)
    t.start()
    t.join()
    assert lua.eval("1 + 1") == 2


@requires_processes
def test_command_line(tmp_path):
    script = tmp_path / "s.lua"
    script.write_text("#!/usr/bin/env lua\nprint(arg[0] == ..., select('#', ...))\nerror('stop')\n")
    r = subprocess.run([sys.executable, "-m", "lupa_rs", str(script), str(script), "b"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stdout == "true\t2\n"
    assert f"{script}:3: stop" in r.stderr


def _rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_runtimes_do_not_leak():
    import gc

    for _ in range(200):
        LuaRuntime().eval("{}")
    gc.collect()
    before = _rss_kib()
    for _ in range(3000):
        LuaRuntime().eval("{}")
    gc.collect()
    grown = _rss_kib() - before
    assert grown < 5_000, f"RSS grew by {grown} KiB over 3000 runtimes"
