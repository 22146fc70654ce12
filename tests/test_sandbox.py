"""Choosing what Lua can reach: `libraries=`, the `sandbox=True` preset and per-call
environments (`execute(code, env=table)`)."""

import pytest

import lupa_rs as lupa


def test_libraries_opens_only_the_named_ones():
    lua = lupa.LuaRuntime(libraries=["base", "string"])
    assert lua.eval("type(string.rep)") == "function"
    assert lua.eval("type(print)") == "function"
    for name in ("io", "os", "debug", "package", "table", "math", "coroutine", "utf8", "require"):
        assert lua.eval(f"rawget(_G, '{name}')") is None, name


def test_libraries_unknown_name_is_a_value_error():
    with pytest.raises(ValueError, match="unknown library 'sockets'"):
        lupa.LuaRuntime(libraries=["base", "sockets"])


def test_default_runtime_has_every_library():
    lua = lupa.LuaRuntime()
    for name in ("io", "os", "debug", "package", "string", "table", "math", "coroutine", "utf8"):
        assert lua.eval(f"type({name})") == "table", name


def test_sandbox_has_no_host_access():
    lua = lupa.LuaRuntime(sandbox=True)
    assert lua.eval("io") is None
    assert lua.eval("debug") is None
    assert lua.eval("require") is None
    assert lua.eval("package") is None
    assert lua.eval("dofile") is None
    assert lua.eval("loadfile") is None
    # os keeps only the clock and dates
    assert sorted(lua.eval("(function() local k = {} for n in pairs(os) do k[#k+1] = n end "
                           "return table.concat(k, ',') end)()").split(",")) == \
        ["clock", "date", "difftime", "time"]
    # no python.eval / python.builtins
    assert lua.eval("python.eval") is None
    assert lua.eval("python.builtins") is None


def test_sandbox_libraries_must_be_safe():
    with pytest.raises(ValueError, match="library 'io' is not available in a sandbox"):
        lupa.LuaRuntime(sandbox=True, libraries=["base", "io"])
    lua = lupa.LuaRuntime(sandbox=True, libraries=["base", "math"])
    assert lua.eval("math.floor(2.5)") == 2
    assert lua.eval("string") is None


def test_sandbox_load_refuses_binary_chunks():
    lua = lupa.LuaRuntime(sandbox=True)
    ok, msg = lua.execute("return load(string.dump(function() return 1 end))")
    assert ok is None and "attempt to load a binary chunk" in msg
    # text still loads, also with mode "bt"
    assert lua.eval("load('return 7', 'x', 'bt')()") == 7
    trusted = lupa.LuaRuntime(encoding=None)
    dumped = trusted.eval("string.dump(function() return 1 end)")
    with pytest.raises(lupa.LuaSyntaxError, match="binary chunk"):
        lua.execute(dumped)


def test_sandbox_collector_cannot_be_stopped():
    lua = lupa.LuaRuntime(sandbox=True)
    assert lua.eval("collectgarbage('count')") > 0
    lua.execute("collectgarbage()")
    with pytest.raises(lupa.LuaError, match="option not allowed in this sandbox"):
        lua.execute("collectgarbage('stop')")
    assert lua.eval("collectgarbage('isrunning')") is True


class Account:
    def __init__(self):
        self.balance = 10
        self._secret = "pin"

    def deposit(self, n):
        self.balance += n
        return self.balance


def test_sandbox_reaches_only_public_attributes():
    lua = lupa.LuaRuntime(sandbox=True)
    acc = Account()
    f = lua.eval("function(a) return a.balance, a:deposit(5) end")
    assert f(acc) == (10, 15)
    for expr in ("a._secret", "a.__class__", "a.__init__", "a.deposit.__globals__"):
        g = lua.eval(f"function(a) return {expr} end")
        with pytest.raises(AttributeError, match="not allowed in a sandbox"):
            g(acc)
    with pytest.raises(AttributeError, match="not allowed in a sandbox"):
        lua.eval("function(a) a.__class__ = nil end")(acc)


def test_sandbox_own_attribute_filter_wins():
    def allow_all(obj, name, is_setting):
        return name

    lua = lupa.LuaRuntime(sandbox=True, attribute_filter=allow_all)
    assert lua.eval("function(a) return a._secret end")(Account()) == "pin"


def test_execute_with_env_table():
    lua = lupa.LuaRuntime()
    env = lua.table(x=2, tostring=lua.globals().tostring)
    assert lua.execute("y = x * 21; return tostring(y)", env=env) == "42"
    assert env.y == 42
    assert lua.globals().y is None        # the globals are untouched
    assert lua.eval("x", env=env) == 2
    assert lua.eval("print", env=env) is None
    # the same code without env sees the globals (the compiled chunk is shared)
    lua.globals().x = 5
    assert lua.eval("x") == 5


def test_execute_env_must_be_a_table_of_this_runtime():
    lua = lupa.LuaRuntime()
    with pytest.raises(TypeError, match="env must be a Lua table"):
        lua.execute("return 1", env={"x": 1})
    with pytest.raises(TypeError, match="env must be a Lua table"):
        lua.execute("return 1", env=lua.eval("print"))
    other = lupa.LuaRuntime()
    with pytest.raises(lupa.LuaError, match="another runtime"):
        lua.execute("return 1", env=other.table())
