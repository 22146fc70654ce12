"""One Lua value per Python object: the same object passed into Lua twice is the same
userdata (as lupa keeps it), and the runtime's map of them does not keep objects alive."""

import gc
import weakref

import pytest

import lupa_rs as lupa


class Sentinel:
    """Stands for a JSON ``null``: only ever compared by identity."""


@pytest.fixture
def lua():
    return lupa.LuaRuntime()


def test_the_same_object_twice_is_one_userdata(lua):
    o = Sentinel()
    same = lua.eval("function(a, b) return rawequal(a, b) end")
    assert same(o, o) is True
    assert same(o, Sentinel()) is False
    lua.globals().first = o
    assert lua.eval("function(x) return rawequal(x, first) end")(o) is True


def test_a_python_object_is_a_table_key(lua):
    o = Sentinel()
    t = lua.table_from({o: 1})
    assert t[o] == 1
    lua.globals().t, lua.globals().o = t, o
    assert lua.eval("t[o]") == 1
    assert lua.eval("function(k) return t[k] end")(o) == 1


def test_a_sentinel_survives_round_trips(lua):
    null = Sentinel()
    identity = lua.eval("function(x) return x end")
    back = identity(identity(null))
    assert back is null
    # Stored in a Lua table and compared there: equal to itself, only to itself.
    lua.globals().null = null
    lua.execute("stored = {null, 2, null}")
    assert lua.eval("stored[1] == null and stored[3] == null and stored[1] == stored[3]")
    assert lua.eval("function(x) return x == null end")(null) is True
    assert {lua.eval("stored[1]"), lua.eval("stored[3]")} == {null}
    assert {lua.eval("stored[1]"): "k"}[null] == "k"


def test_protocol_wrappers_are_values_of_their_own(lua):
    d = {"keys": 1}
    same = lua.eval("function(a, b) return rawequal(a, b) end")
    assert same(lupa.as_attrgetter(d), lupa.as_attrgetter(d)) is True
    assert same(lupa.as_attrgetter(d), d) is False
    assert lua.eval("function(a) return a.keys end")(d) == 1
    assert callable(lua.eval("function(a) return a.keys end")(lupa.as_attrgetter(d)))


def test_none_as_a_key_is_python_none(lua):
    t = lua.table_from({None: "none", 1: "one"})
    assert t[None] == "none"
    assert lua.eval("function(t) return t[python.none] end")(t) == "none"
    t[None] = "changed"
    assert lua.eval("function(t) return t[python.none] end")(t) == "changed"
    assert len(t) == 1


def test_the_map_does_not_keep_objects_alive(lua):
    o = Sentinel()
    alive = weakref.ref(o)
    lua.globals().o = o
    lua.eval("function(x) return x end")(o)
    del o
    gc.collect()
    assert alive() is not None  # Lua still holds it
    lua.execute("o = nil")
    lua.gccollect()
    gc.collect()
    assert alive() is None
    # A new object (perhaps at the same address) gets a userdata of its own.
    fresh = Sentinel()
    assert lua.eval("function(x) return x end")(fresh) is fresh


def test_objects_passed_many_times_cost_one_userdata(lua):
    o = Sentinel()
    lua.gccollect()
    before = lua.eval("collectgarbage('count')")
    keep = lua.eval("function(x) kept = kept or {} kept[#kept + 1] = x end")
    for _ in range(2000):
        keep(o)
    assert lua.eval("#kept") == 2000
    assert lua.eval("function(x) for i = 1, #kept do if not rawequal(kept[i], x) then return false end end return true end")(o)
    lua.gccollect()
    grown_kb = lua.eval("collectgarbage('count')") - before
    # 2,000 table slots (16 bytes each) and one userdata, not 2,000 userdata.
    assert grown_kb < 80


def test_a_finalized_object_is_deleted(lua):
    # As in lupa: a Python object whose userdata was finalized and then brought back by
    # another finalizer reads as deleted, in Lua and in Python.
    check = lua.eval(
        """function(obj)
             local t = setmetatable({obj = obj}, {__gc = function(t_) resurrected = t_ end})
             obj, t = nil, nil
             collectgarbage()
             local ok, err = pcall(tostring, resurrected.obj)
             return ok, tostring(err)
           end"""
    )
    ok, err = check([])
    assert ok is False
    assert "deleted python object" in err
    with pytest.raises(ReferenceError, match="deleted python object"):
        lua.eval("resurrected.obj")
