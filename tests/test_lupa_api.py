"""lupa's API on lupa_rs, as lupa's README shows it (``import lupa_rs as lupa``)."""

import threading

import pytest

import lupa_rs as lupa
from lupa_rs import LuaRuntime
from conftest import requires_threads


@pytest.fixture
def lua():
    return LuaRuntime(unpack_returned_tuples=True)


def test_eval_and_python_callbacks(lua):
    assert lua.eval("1+1") == 2
    lua_func = lua.eval("function(f, n) return f(n) end")
    assert lua_func(lambda n: n + 1, 2) == 3
    assert lua.eval('python.eval(" 2 ** 2 ")') == 4
    assert lua.eval("python.builtins.str(4)") == "4"


def test_lua_type(lua):
    assert lupa.lua_type(lua.eval("function() end")) == "function"
    assert lupa.lua_type(lua.eval("{}")) == "table"
    assert lupa.lua_type(lua.eval("coroutine.create(print)")) == "thread"
    assert lupa.lua_type(123) is None
    assert lupa.lua_type({}) is None


def test_unpack_returned_tuples():
    lua = LuaRuntime(unpack_returned_tuples=True)
    lua.execute('a,b,c = python.eval("(1,2)")')
    g = lua.globals()
    assert (g.a, g.b, g.c) == (1, 2, None)
    lua = LuaRuntime(unpack_returned_tuples=False)
    lua.execute('a,b,c = python.eval("(1,2)")')
    g = lua.globals()
    assert (g.a, g.b, g.c) == ((1, 2), None, None)


def test_python_objects_in_lua(lua):
    wrapped_type = lua.globals().type
    assert wrapped_type(1) == "number"
    assert wrapped_type(wrapped_type) == "function"
    assert wrapped_type(len) == "userdata"
    assert wrapped_type([]) == "userdata"
    d = {"get": "value"}
    get = lua.eval('function(obj) return obj["get"] end')
    assert get(d) == "value"
    assert get(lupa.as_itemgetter(d)) == "value"
    assert get(lupa.as_attrgetter(d)) == d.get
    f = lua.eval('function(obj) return python.as_attrgetter(obj)["get"] end')
    assert f(d)("get") == "value"

    def py_func():
        pass

    py_func.ATTR = 2
    assert lua.eval("function(obj) return obj.ATTR end")(py_func) == 2


def test_method_calls_and_setattr(lua):
    class Obj:
        def my_method(self):
            return 345

    obj = Obj()
    assert lua.eval("function(o) return o:my_method() end")(obj) == 345
    lua.eval("function(o) o.x = 5 end")(obj)
    assert obj.x == 5
    assert lua.eval("function(o) return tostring(o) end")(obj) == str(obj)


def test_iteration_helpers(lua):
    copy = lua.eval(
        "function(L) local t, i = {}, 1 for item in python.iter(L) do t[i] = item i = i + 1 end return t end"
    )
    t = copy([1, 2, 3, 4])
    assert len(t) == 4 and t[1] == 1
    en = lua.eval(
        "function(L) local t = {} for i, item in python.enumerate(L) do t[i + 1] = item end return t end"
    )
    assert list(en([5, 6]).values()) == [5, 6]
    ex = lua.eval(
        "function(d) local t = {} for k, v in python.iterex(d.items()) do t[k] = v end return t end"
    )
    assert ex(lupa.as_attrgetter(dict(a=1, b=2)))["b"] == 2
    none = lua.eval(
        "function(items) local t = {} for v in python.iter(items) do table.insert(t, v == python.none) end return t end"
    )
    assert list(none([1, None, 2]).values()) == [False, True, False]


def test_tables(lua):
    table = lua.eval("{10,20,30,40}")
    assert table[1] == 10 and list(table) == [1, 2, 3, 4]
    assert list(table.values()) == [10, 20, 30, 40] and len(table) == 4
    mapping = lua.eval("{ [20] = -20; [3] = -3 }")
    assert sorted(mapping.items()) == [(3, -3), (20, -20)]
    mapping[-3] = 3
    assert sorted(mapping) == [-3, 3, 20]
    assert table[1000000] is None and mapping["no such key"] is None
    assert len(mapping) == 0
    t = lua.eval("{ a=1, b=2 }")
    assert (t.a, t.b) == (1, 2)
    assert lua.eval("string").lower("A") == "a"
    del t.a
    assert t.a is None


def test_table_helpers(lua):
    t = lua.table(1, 2, 3, 4, a=1, b=2)
    assert list(t)[:4] == [1, 2, 3, 4] and t["b"] == 2
    t = lua.table_from([1, 2, 3], {"a": 1, "b": 2}, (4, 5), {"b": 42})
    assert t["b"] == 42 and t[5] == 5
    shared = [1, 2]
    t = lua.table_from({"x": shared, "y": shared}, recursive=True)
    assert lupa.lua_type(t["x"]) == "table"
    assert lua.eval("function(t) return rawequal(t.x, t.y) end")(t) is True


def test_unpacks_lua_table(lua):
    @lupa.unpacks_lua_table
    def add(a, b):
        return a + b

    assert lua.eval("function(a, b, f) return f{a=a, b=b} end")(5, 6, add) == 11
    assert lua.eval("function(a, b, f) return f{a, b=b} end")(5, 6, add) == 11


def test_coroutines(lua):
    f = lua.eval("function(N) for i=0,N do coroutine.yield( i%2 ) end end")
    assert list(enumerate(f.coroutine(4))) == [(0, 0), (1, 1), (2, 0), (3, 1), (4, 0)]
    co = lua.eval(
        """function()
            local t,i = {},0
            local value = coroutine.yield()
            while value do t[i] = value; i = i + 1; value = coroutine.yield() end
            return t
        end"""
    ).coroutine()
    co.send(None)
    for i in range(3):
        co.send(i * 2)
    assert sorted(co.send(None).items()) == [(0, 0), (1, 2), (2, 4)]
    f, co1, co2, status, first = lua.execute(
        """function f(N) for i=0,N do coroutine.yield( i%2 ) end end ;
        co1 = coroutine.create(f) ; co2 = coroutine.create(f) ;
        status, first_result = coroutine.resume(co2, 2) ;
        return f, co1, co2, status, first_result"""
    )
    assert (status, first) == (True, 0)
    assert list(co2) == [1, 0] and list(co2) == []
    assert list(enumerate(co1(2))) == [(0, 0), (1, 1), (2, 0)]


def test_errors(lua):
    with pytest.raises(lupa.LuaError, match="boom"):
        lua.execute('error("boom")')
    with pytest.raises(lupa.LuaSyntaxError):
        lua.execute("x = = 1")
    assert issubclass(lupa.LuaSyntaxError, lupa.LuaError)

    def bad():
        raise ValueError("bad!")

    with pytest.raises(ValueError, match="bad!"):
        lua.eval("function(f) return f() end")(bad)
    ok, err = lua.eval("function(f) return pcall(f) end")(bad)
    assert ok is False and isinstance(err, ValueError)
    assert lua.eval("function(f) local _, e = pcall(f) return tostring(e) end")(bad) == "bad!"
    with pytest.raises(lupa.LuaError) as info:
        lua.execute("error({code = 7})")
    assert info.value.value["code"] == 7


def test_memory_limit():
    lua = LuaRuntime(max_memory=2_000_000)
    with pytest.raises(lupa.LuaMemoryError) as info:
        lua.execute('local t = {} for i = 1, 1e8 do t[i] = ("x"):rep(100) .. i end')
    assert isinstance(info.value, MemoryError)
    assert lua.eval("1+1") == 2


def test_objects_of_another_runtime(lua):
    other = LuaRuntime()
    t = other.eval("{}")
    with pytest.raises(lupa.LuaError):
        lua.eval("function(x) return x end")(t)


@requires_threads
def test_runtimes_in_parallel_threads():
    results = []

    def work():
        rt = LuaRuntime()
        results.append(rt.eval("(function() local s = 0 for i = 1, 1e5 do s = s + i end return s end)()"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [5000050000] * 4


def test_module_constants():
    assert lupa.LUA_VERSION == (5, 4)
    assert lupa.LUA_MAXINTEGER == 2**63 - 1 and lupa.LUA_MININTEGER == -(2**63)
    import lupa_rs.lua54 as lupa54

    assert lupa54.LuaRuntime is lupa.LuaRuntime
    assert LuaRuntime().lua_implementation.startswith("Lua 5.4")


def test_python_args_and_overflow_handler(lua):
    def f(a, b=0, *, c=0):
        return a + b + c

    call = lua.eval("function(f) return f(python.args{1, 2, c=3}) end")
    assert call(f) == 6
    lua.execute("python.set_overflow_handler(function(x) return 1.5 end)")
    assert lua.eval("function(x) return x end")(2**70) == 1.5


def test_python_none_and_nil(lua):
    assert lua.eval("nil") is None
    assert lua.eval("function(x) return x == nil end")(None) is True
    assert lua.eval("python.none") is None


def test_wrappers_keep_their_runtime_alive():
    import gc

    t = LuaRuntime().eval("{1, 2, 3, x = 'y'}")
    f = LuaRuntime().eval("function(a) return a * 2 end")
    gc.collect()
    assert list(t.values())[:3] == [1, 2, 3] and t.x == "y"
    assert f(21) == 42


def test_repr_and_str(lua):
    t = lua.eval("setmetatable({}, {__tostring = function() return 'my table' end})")
    assert str(t) == "my table"
    assert repr(t).startswith("<Lua table at 0x")
    assert repr(lua.eval("print")).startswith("<Lua function at 0x")
