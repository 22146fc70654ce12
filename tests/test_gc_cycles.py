"""Reference cycles between Python and Lua are collected by Python's garbage collector.

A Lua object seen from Python (a table, a function, ...) keeps its runtime alive, and a Python
object stored in Lua is kept alive by the runtime. So a Python object that refers to a Lua
table holding that object is a cycle through Lua. Python's collector sees it: every wrapper
refers to the runtime's core, and the core reports the Python objects Lua holds. Once nothing
outside the cycle refers to the runtime or its objects, ``gc.collect()`` frees all of it.
"""

import ctypes
import gc
import threading
import time
import weakref

import pytest

from lupa_rs import LuaRuntime
from lupa_rs._lupa_rs import _live_runtimes
from conftest import requires_threads


class Node:
    """A plain Python object that can refer to anything."""


@pytest.fixture(autouse=True)
def no_leaked_runtimes():
    """Every test leaves as many runtimes alive as it found."""
    gc.collect()
    before = _live_runtimes()
    yield
    gc.collect()
    assert _live_runtimes() == before


def test_a_lua_table_holding_an_object_that_holds_the_table():
    lua = LuaRuntime()
    node = Node()
    table = lua.table()
    table.node = node  # Lua -> Python
    node.table = table  # Python -> Lua
    alive = weakref.ref(node)
    runtimes = _live_runtimes()
    del node, table, lua
    gc.collect()
    assert alive() is None
    assert _live_runtimes() == runtimes - 1


def test_a_lua_closure_capturing_an_object_that_holds_the_closure():
    lua = LuaRuntime()
    node = Node()
    make = lua.eval("function(o) return function() return o end end")
    node.callback = make(node)  # the closure's upvalue is `node`
    assert node.callback() is node
    alive = weakref.ref(node)
    del node, make, lua
    gc.collect()
    assert alive() is None


def test_runtime_globals_holding_an_object_that_holds_the_runtime():
    lua = LuaRuntime()
    node = Node()
    node.lua = lua
    lua.globals().node = node
    alive_node, alive_runtime = weakref.ref(node), weakref.ref(lua)
    del node, lua
    gc.collect()
    assert alive_node() is None
    assert alive_runtime() is None


def test_a_python_callback_stored_in_lua_that_refers_to_the_runtime():
    lua = LuaRuntime()

    def callback():
        return lua.eval("1")  # the function's closure refers to `lua`

    lua.globals().callback = callback
    assert lua.eval("callback()") == 1
    alive = weakref.ref(callback)
    del callback, lua
    gc.collect()
    assert alive() is None


def test_an_overflow_handler_set_from_lua_does_not_keep_the_runtime():
    lua = LuaRuntime()
    lua.execute("python.set_overflow_handler(function(x) return x end)")
    assert lua.eval("function(x) return x end")(2**70) == float(2**70)
    alive = weakref.ref(lua)
    del lua
    gc.collect()
    assert alive() is None


def test_a_lua_object_keeps_its_runtime_alive():
    lua = LuaRuntime()
    f = lua.eval("function(x) return x * 2 end")
    alive = weakref.ref(lua)
    del lua
    gc.collect()
    assert alive() is None  # the LuaRuntime object is gone...
    assert f(21) == 42  # ...but the runtime behind `f` is not


def test_the_collector_sees_the_edges_through_lua():
    lua = LuaRuntime()
    node = Node()
    lua.globals().node = node
    (core,) = [r for r in gc.get_referents(lua) if type(r).__name__ == "_RuntimeCore"]
    assert any(r is node for r in gc.get_referents(core))
    table = lua.eval("{}")
    assert core in gc.get_referents(table)


def test_the_runtime_keeps_working_while_its_objects_are_collected():
    lua = LuaRuntime()
    lua.execute("kept = {}")
    for i in range(200):
        node = Node()
        node.me = node  # a Python-only cycle holding Lua objects of a live runtime
        node.table = lua.table(i)
        node.function = lua.eval("function(x) return x end")
        lua.globals().kept[i + 1] = Node()
    del node
    gc.collect()
    assert lua.eval("#kept") == 200
    assert isinstance(lua.eval("kept[200]"), Node)
    assert lua.eval("function(x) return x + 1 end")(1) == 2


def test_objects_lua_lets_go_of_are_released():
    lua = LuaRuntime()
    node = Node()
    lua.globals().node = node
    alive = weakref.ref(node)
    del node
    lua.execute("node = nil")
    lua.gccollect()
    assert alive() is None


def _tp_clear(obj):
    """Calls the type's ``tp_clear`` on ``obj`` (what the collector does to break a cycle)."""
    get_slot = ctypes.pythonapi.PyType_GetSlot
    get_slot.restype = ctypes.c_void_p
    get_slot.argtypes = [ctypes.py_object, ctypes.c_int]
    py_tp_clear = 51
    clear = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object)(get_slot(type(obj), py_tp_clear))
    assert clear(obj) == 0


def test_lua_after_the_core_let_go_of_its_python_objects():
    lua = LuaRuntime()
    lua.globals().node = Node()
    lua.globals().f = len
    (core,) = [r for r in gc.get_referents(lua) if type(r).__name__ == "_RuntimeCore"]
    _tp_clear(core)
    del core
    # The userdata are still there; their Python objects are deleted (as in lupa, reading
    # one is a ReferenceError).
    with pytest.raises(ReferenceError, match="deleted python object"):
        lua.eval("node")
    assert lua.eval("type(node)") == "userdata"
    with pytest.raises(Exception):
        lua.eval("f('abc')")
    assert lua.eval("1 + 1") == 2
    lua.globals().node = Node()
    assert isinstance(lua.eval("node"), Node)


@requires_threads
def test_dropping_lua_objects_never_waits_for_a_busy_runtime():
    """While one thread runs a long Lua loop (holding the runtime, GIL released), another
    thread drops Lua objects and collects cycles at once: nothing waits for the runtime."""
    lua = LuaRuntime()
    spin = lua.eval(
        """function(started, flag)
             started()
             local i = 0
             repeat i = i + 1 until i % 100000 == 0 and flag.done
             return i
           end"""
    )
    started, flag = threading.Event(), Node()
    flag.done = False
    runner = threading.Thread(target=spin, args=(started.set, flag))
    objects = [lua.table() for _ in range(100)]
    node = Node()
    node.me, node.table = node, lua.table(node)
    runner.start()
    assert started.wait(10)
    time.sleep(0.05)
    t0 = time.monotonic()
    del objects, node
    gc.collect()
    assert time.monotonic() - t0 < 1.0
    assert runner.is_alive()  # the loop was running all along
    flag.done = True
    runner.join(timeout=60)
    assert not runner.is_alive()


@requires_threads
def test_threads_making_cycles_while_lua_runs_elsewhere():
    """Collections run while another thread runs Lua (with the GIL released, and calling
    back into Python); wrappers are dropped from many threads. No crash, no deadlock."""
    lua = LuaRuntime()
    busy = lua.eval(
        """function(n, cb)
             local s = 0
             for i = 1, n do
               s = s + i
               if i % 20000 == 0 then cb(i) end
               if i % 50000 == 0 then local t = {python.builtins.object()} end
             end
             return s
           end"""
    )
    stop = threading.Event()
    errors = []

    def run_lua():
        try:
            while not stop.is_set():
                assert busy(200000, lambda i: Node()) == 200000 * 200001 // 2
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    def make_cycles():
        try:
            for _ in range(30):
                own = LuaRuntime()
                node = Node()
                node.table = own.table(node)
                node.runtime = own
                for _ in range(20):
                    shared = Node()
                    shared.me = shared
                    shared.table = lua.table(shared)  # lives as long as `lua`
                    shared.f = lua.eval("function() end")
                del own, node, shared
                gc.collect()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    runner = threading.Thread(target=run_lua)
    makers = [threading.Thread(target=make_cycles) for _ in range(3)]
    start = time.monotonic()
    runner.start()
    for t in makers:
        t.start()
    for t in makers:
        t.join(timeout=120)
    stop.set()
    runner.join(timeout=120)
    assert not runner.is_alive() and not any(t.is_alive() for t in makers)
    assert errors == []
    assert time.monotonic() - start < 120
    assert lua.eval("1 + 1") == 2


class Boom(Exception):
    """An exception a Python callback raises through Lua."""


def test_an_exception_raised_through_lua_is_not_kept():
    lua = LuaRuntime()

    def fail():
        raise Boom("boom")

    caught = lua.eval("function(g) local ok, e = pcall(g) return e end")(fail)
    assert isinstance(caught, Boom)
    with pytest.raises(Boom):
        lua.eval("function(g) g() end")(fail)
    alive = weakref.ref(caught)
    del caught, lua
    gc.collect()
    assert alive() is None
