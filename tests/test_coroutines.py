"""Coroutines resumed from Python (`send`, iteration) behave as `coroutine.resume` does in Lua:
status, errors, to-be-closed variables, nesting and re-entry."""

import pytest

import lupa_rs as lupa


@pytest.fixture
def lua():
    return lupa.LuaRuntime()


def test_status_seen_from_lua_while_python_resumes(lua):
    lua.execute(
        """
        function probe() return coroutine.status(co), coroutine.isyieldable() end
        co = coroutine.create(function()
            local me, ismain = coroutine.running()
            coroutine.yield(me == co, ismain, coroutine.status(me), probe())
            return 'done'
        end)
        """
    )
    co = lua.globals().co
    assert lua.eval("coroutine.status(co)") == "suspended"
    assert co.send(None) == (True, False, "running", "running", True)
    assert lua.eval("coroutine.status(co)") == "suspended"
    assert co.send(None) == "done"
    assert lua.eval("coroutine.status(co)") == "dead"
    assert not co
    with pytest.raises(StopIteration):
        co.send(None)


def test_values_go_in_and_out(lua):
    co = lua.eval(
        """function(a, b)
            local x, y = coroutine.yield(a + b)
            local z = coroutine.yield(x, y)
            return z, 'end'
        end"""
    ).coroutine(1, 2)
    assert co.send(None) == 3
    assert co.send(5) == (5, None)
    assert co.send("z") == ("z", "end")
    assert not co


def test_error_kills_the_coroutine_and_keeps_it_closable(lua):
    lua.execute(
        """
        closed = nil
        function body()
            local x <close> = setmetatable({}, {__close = function() closed = true end})
            coroutine.yield(1)
            error({code = 7})
        end
        co = coroutine.create(body)
        """
    )
    co = lua.globals().co
    assert co.send(None) == 1
    with pytest.raises(lupa.LuaError) as info:
        co.send(None)
    assert info.value.value.code == 7
    assert lua.eval("coroutine.status(co)") == "dead"
    assert lua.eval("closed") is None
    # As after a failed `coroutine.resume`, `coroutine.close` runs the pending `__close`
    # and gives back the error.
    ok, err = lua.eval("coroutine.close(co)")
    assert ok is False and err.code == 7
    assert lua.eval("closed") is True
    with pytest.raises(StopIteration):
        co.send(None)


def test_error_message(lua):
    co = lua.eval("function() coroutine.yield() local t = nil; return t.x end").coroutine()
    co.send(None)
    with pytest.raises(lupa.LuaError, match=r"^\[string .*\]:1: attempt to index a nil value"):
        co.send(None)
    assert not co


def test_resuming_a_running_coroutine_from_inside_fails(lua):
    # lupa 2.8 raises StopIteration here; the error of `coroutine.resume` says more.
    def reenter():
        return co.send(None)

    co = lua.eval("function(f) coroutine.yield(pcall(f)) end").coroutine(reenter)
    ok, err = co.send(None)
    assert ok is False
    assert "cannot resume non-suspended coroutine" in str(err)
    with pytest.raises(StopIteration):
        co.send(None)


def test_nested_coroutines_inside_a_python_resumed_one(lua):
    co = lua.eval(
        """function()
            local inner = coroutine.wrap(function()
                for i = 1, 3 do coroutine.yield(i) end
            end)
            for _ = 1, 3 do coroutine.yield(inner() * 10) end
        end"""
    ).coroutine()
    assert list(co) == [10, 20, 30]


def test_python_callbacks_that_call_lua_inside_the_coroutine(lua):
    square = lua.eval("function(x) return x * x end")
    co = lua.eval(
        """function(f)
            for i = 1, 3 do coroutine.yield(f(i)) end
        end"""
    ).coroutine(lambda i: square(i) + 1)
    assert list(co) == [2, 5, 10]


def test_a_long_running_coroutine(lua):
    # Runs for many steps between yields (the GIL is released for the rest of the step).
    co = lua.eval(
        """function()
            for round = 1, 3 do
                local s = 0
                for i = 1, 300000 do s = s + i % 7 end
                coroutine.yield(round, s)
            end
        end"""
    ).coroutine()
    s = sum(i % 7 for i in range(1, 300001))
    assert list(co) == [(1, s), (2, s), (3, s)]


def test_yield_from_a_plain_call_is_an_error(lua):
    f = lua.eval("function() coroutine.yield(1) end")
    with pytest.raises(lupa.LuaError, match="attempt to yield from outside a coroutine"):
        f()
    assert lua.eval("1 + 1") == 2


def test_the_main_thread_cannot_be_resumed(lua):
    main = lua.eval("(coroutine.running())")
    with pytest.raises(lupa.LuaError, match="cannot resume non-suspended coroutine"):
        main.send(None)
