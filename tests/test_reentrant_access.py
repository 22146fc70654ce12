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


def test_python_code_run_by_library_functions_calls_back_into_lua(lua):
    # ipairs, tostring, string.format and table.sort run Python code from inside a library
    # function (inside the Lua step); calling back into the runtime from there runs nested on
    # the calling Lua thread's stack, as in lupa (C Lua's lua_call from a C function).
    double = lua.eval("function(x) return x * 2 end")

    class Items:
        def __getitem__(self, k):
            if k > 3:
                return None
            return double(k)

    class Named:
        def __str__(self):
            return "named " + str(double(21))

    total = lua.eval("function(o) local s = 0 for _, v in ipairs(o) do s = s + v end return s end")
    assert total(Items()) == 12
    assert lua.eval("function(o) return tostring(o) end")(Named()) == "named 42"
    assert lua.eval("function(o) return ('<%s>'):format(o) end")(Named()) == "<named 42>"
    greater = lua.eval("function(a, b) return a > b end")
    sort = lua.eval(
        "function(f) local t = {3, 1, 2} table.sort(t, python.as_function(f)) return t end"
    )
    assert list(sort(lambda a, b: greater(a, b)).values()) == [3, 2, 1]
    # Lua tables' iterators given to table_from from inside Lua.
    copy_keys = lua.eval("function(f) return f({5, 6, 7}) end")
    assert list(copy_keys(lambda t: lua.table_from(t.keys())).values()) == [1, 2, 3]
    assert lua.eval("1 + 1") == 2


def test_errors_inside_nested_calls_keep_their_traceback(lua):
    inner = lua.eval("function() error('inner') end")

    class Failing:
        def __getitem__(self, k):
            return inner()

    run = lua.eval("function(o) for i, v in ipairs(o) do end end", name="script")
    with pytest.raises(lupa.LuaError) as e:
        run(Failing())
    # lupa's text: the traceback where the error was raised, through the Python frame and
    # into the outer Lua frames, innermost last.
    assert e.value.args[0].splitlines() == [
        '[string "<python>"]:1: inner',
        "stack traceback:",
        "\t[string \"script\"]:1: in function <[string \"script\"]:1>",
        "\t[C]: in for iterator 'for iterator'",
        "\t[C]: in ?",
        '\t[string "<python>"]:1: in function <[string "<python>"]:1>',
        "\t[C]: in function 'error'",
    ]
    ok, err = lua.eval("function(f, o) return pcall(f, o) end")(run, Failing())
    assert ok is False and "inner" in str(err)


def test_deep_recursion_through_library_functions_is_an_error(lua):
    recurse = None

    class Deeper:
        def __getitem__(self, k):
            return recurse(self)

    recurse = lua.eval("function(o) for i, v in ipairs(o) do return v end end")
    with pytest.raises(lupa.LuaError, match="C stack overflow"):
        recurse(Deeper())
    assert lua.eval("1 + 1") == 2
