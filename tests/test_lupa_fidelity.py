"""What lupa clients see, beyond lupa's own suite (tests/lupa_suite.py runs that): error
texts, ``str()`` of Lua objects, special names, memory limits. Expected values are what
lupa 2.8 with Lua 5.4 gives."""

import pytest

import lupa_rs as lupa


@pytest.fixture
def lua():
    return lupa.LuaRuntime()


def error_text(f, *args):
    with pytest.raises(lupa.LuaError) as e:
        f(*args)
    return e.value.args[0]


def test_errors_carry_the_traceback_innermost_last(lua):
    text = error_text(lua.execute, "local function f() error('x') end f()")
    assert text == (
        '[string "<python>"]:1: x\n'
        "stack traceback:\n"
        '\t[string "<python>"]:1: in main chunk\n'
        "\t[string \"<python>\"]:1: in local 'f'\n"
        "\t[C]: in function 'error'"
    )


def test_errors_that_are_not_text(lua):
    assert error_text(lua.execute, "error({})") == ""
    assert error_text(lua.execute, "error(5)").startswith("5\nstack traceback:\n")
    assert error_text(lua.execute, "error()").startswith("stack traceback:\n")
    with pytest.raises(lupa.LuaError) as e:
        lua.execute("error({code = 7})")
    assert e.value.value["code"] == 7


def test_without_debug_traceback_errors_are_plain(lua):
    lua.execute("debug = nil")
    assert error_text(lua.execute, "error('abc')") == '[string "<python>"]:1: abc'


def test_syntax_errors_say_where_they_come_from(lua):
    with pytest.raises(lupa.LuaSyntaxError) as e:
        lua.execute("x = = 1")
    assert e.value.args[0] == (
        "error loading code: [string \"<python>\"]:1: unexpected symbol near '='"
    )
    with pytest.raises(lupa.LuaSyntaxError) as e:
        lua.compile("x = = 1")
    assert e.value.args[0] == "[string \"<python>\"]:1: unexpected symbol near '='"


def test_str_of_lua_objects(lua):
    assert str(lua.eval("{}")).startswith("<Lua table at 0x")
    assert str(lua.eval("print")).startswith("<Lua function at 0x")
    assert str(lua.eval("coroutine.create(print)")).startswith("<Lua ")
    named = lua.eval("setmetatable({}, {__tostring = function() return 'named' end})")
    assert str(named) == "named"
    assert repr(named).startswith("<Lua table at 0x")
    number = lua.eval("setmetatable({}, {__tostring = function() return 1.5 end})")
    assert str(number) == "1.5"
    with pytest.raises(TypeError, match="__tostring returned non-string object"):
        str(lua.eval("setmetatable({}, {__tostring = function() return {} end})"))


def test_special_names_are_not_looked_up_in_lua(lua):
    t = lua.eval("{__name__ = 1, x = 2}")
    assert t.x == 2
    assert t["__name__"] == 1
    with pytest.raises(AttributeError):
        t.__name__
    assert not hasattr(t, "__deepcopy__")
    assert t.__getattr__("x") == 2


def test_calling_a_started_coroutine_is_a_lua_error(lua):
    gen = lua.eval("function() coroutine.yield(1) end").coroutine()
    with pytest.raises(lupa.LuaError, match="attempt to call a thread value"):
        gen()
    with pytest.raises(AttributeError):
        gen.no_such_attribute


def test_memory_is_reported_only_with_max_memory(lua):
    assert lua.get_memory_used() is None
    assert lua.get_max_memory() is None
    with pytest.raises(RuntimeError):
        lua.set_max_memory(1000)
    limited = lupa.LuaRuntime(max_memory=0)
    assert limited.get_max_memory() == 0
    assert limited.get_memory_used() >= 0


def test_garbage_is_collected_before_memory_runs_out():
    lua = lupa.LuaRuntime(max_memory=400_000)
    # Each round leaves 100 KB of garbage: C Lua collects it when an allocation would
    # fail, and so must we, inside one call and across calls.
    lua.execute("for i = 1, 20 do local s = ('x'):rep(100000 + i) end")
    for i in range(20):
        lua.execute("junk = ('y'):rep(100000 + ...)", i)
    lua.set_max_memory(10_000)
    with pytest.raises(lupa.LuaMemoryError):
        lua.eval("('b'):rep(10)")
    del lua.globals()["junk"]
    assert lua.eval("('b'):rep(10)") == "bbbbbbbbbb"
    with pytest.raises(lupa.LuaMemoryError):
        lua.compile("return '" + "x" * 50_000 + "'")


def test_overflow_handler_from_lua_gets_the_object(lua):
    big = 2**70
    lua.execute("python.set_overflow_handler(function(o) return o end)")
    assert lua.eval("type")(big) == "userdata"
    with pytest.raises(lupa.LuaError):
        lua.execute("python.set_overflow_handler(123)")
    with pytest.raises(ValueError):
        lupa.LuaRuntime(overflow_handler=123)


def test_python_enumerate(lua):
    pairs = lua.eval(
        "function(xs, start) local t = {} for i, v in python.enumerate(xs, start) do "
        "t[#t + 1] = i .. '=' .. tostring(v) end return table.concat(t, ' ') end"
    )
    assert pairs(["a", "b"], 3) == "3=a 4=b"
    assert pairs(["a", None], "1") == "1=a 2=nil"
    with pytest.raises(lupa.LuaError, match="Could not convert string to string"):
        pairs(["a"], "abc")


@pytest.mark.parametrize(
    "kwargs", [{}, {"sandbox": True}, {"libraries": []}, {"libraries": ["string"]}]
)
def test_nogc_works_in_every_runtime(kwargs):
    lua = lupa.LuaRuntime(**kwargs)
    with lua.nogc():
        lua.execute("t = {} for i = 1, 1000 do t[i] = {} end t = nil")
        assert lua._gc_running() is False
    assert lua._gc_running() is True


def test_the_rest_of_lupas_surface():
    assert lupa.LuaRuntime().lua_version == (5, 4)
    assert lupa.LuaRuntime().lua_implementation == "Lua 5.4"
    with lupa.allow_lua_module_loading():
        lua = lupa.LuaRuntime(string_hash_seed=123)
    assert lua.eval("1 + 1") == 2
    assert isinstance(lupa.__version__, str) and lupa.__version__[0].isdigit()
