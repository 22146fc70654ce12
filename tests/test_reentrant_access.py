"""Python objects whose attribute or item access runs Python code that calls back into Lua
(properties, `__getattr__`, `__getitem__`, `__setattr__`), as lupa allows."""

import math

import pytest

import lupa_rs as lupa


@pytest.fixture
def lua():
    return lupa.LuaRuntime()


def test_property_calling_lua(lua):
    double = lua.eval("function(x) return x * 2 end")

    class Obj:
        @property
        def p(self):
            return double(21)

    get = lua.eval("function(o) return o.p end")
    assert get(Obj()) == 42
    # In loops, protected calls and coroutines too.
    assert lua.eval(
        "function(o) local t = {} for i = 1, 3 do t[i] = o.p end return table.concat(t, ',') end"
    )(Obj()) == "42,42,42"
    assert lua.eval("function(o) return pcall(function() return o.p end) end")(Obj()) == (True, 42)
    assert lua.eval("function(o) return coroutine.wrap(function() return o.p end)() end")(Obj()) == 42


def test_getattr_getitem_and_setattr_calling_lua(lua):
    lua.execute("log = {}")
    record = lua.eval("function(s) log[#log + 1] = s return #s end")

    class Dynamic:
        def __getattr__(self, name):
            return record(name)

    class Items:
        def __getitem__(self, k):
            return record("item" + str(k))

    class Setter:
        def __setattr__(self, name, value):
            record(name + "=" + str(value))

    assert lua.eval("function(o) return o.abc end")(Dynamic()) == 3
    assert lua.eval("function(o) return o[7] end")(Items()) == 5
    lua.eval("function(o) o.x = 1 end")(Setter())
    assert list(lua.eval("log").values()) == ["abc", "item7", "x=1"]


def test_errors_raised_by_reentrant_accessors_reach_lua(lua):
    fail = lua.eval("function() error('from lua') end")

    class Obj:
        @property
        def p(self):
            return fail()

    ok, err = lua.eval("function(o) return pcall(function() return o.p end) end")(Obj())
    assert ok is False
    assert "from lua" in str(err)


def test_plain_accesses_still_work(lua):
    class Plain:
        def __init__(self):
            self.a = 1

        def m(self, x):
            return x + self.a

    assert lua.eval("function(o) return o.a, o:m(2), o.m(o, 3) end")(Plain()) == (1, 3, 4)
    assert lua.eval("function(m) return m.sqrt(16), m.pi end")(math) == (4.0, math.pi)
    assert lua.eval("function(d, l) return d.x, d[1], l[0] end")({"x": 3, 1: 4}, [9]) == (3, 4, 9)
    with pytest.raises(AttributeError, match="no_such"):
        lua.eval("function(o) return o.no_such end")(Plain())


def test_library_functions_run_accessors_inline(lua):
    # ipairs reads items from inside a library function: the access cannot leave the step,
    # so Python code there cannot call into Lua (a clear error, not a crash).
    double = lua.eval("function(x) return x * 2 end")

    class Items:
        def __getitem__(self, k):
            if k > 3:
                return None
            return double(k)

    with pytest.raises(lupa.LuaError, match="cannot call into Lua"):
        lua.eval("function(o) for i, v in ipairs(o) do end end")(Items())
    assert lua.eval("1 + 1") == 2
