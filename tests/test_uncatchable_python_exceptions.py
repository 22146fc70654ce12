"""Python's BaseExceptions that are not Exceptions (KeyboardInterrupt, SystemExit,
GeneratorExit) raised by a Python callback cross Lua like a stop: pcall, xpcall, coroutines,
error handlers, __close handlers and finalizers cannot catch or swallow them, they come out
of the call from Python as themselves, and the runtime is usable afterwards."""

import subprocess
import sys
import textwrap

import pytest

import lupa_rs as lupa
from conftest import requires_processes

STOPS = [KeyboardInterrupt, SystemExit, GeneratorExit]


def raiser(exc):
    def cb(*args):
        raise exc("from python")
    return cb


@pytest.fixture(params=[False, True], ids=["plain", "sandbox"])
def lua(request):
    return lupa.LuaRuntime(sandbox=request.param)


def usable(lua):
    """The runtime works, and nothing of the stop is left for the next call."""
    assert lua.eval("1 + 1") == 2
    assert lua.eval("pcall(error, 'x')") == (False, "x")
    lua.globals().ok_cb = lambda: 7
    assert lua.eval("select(2, pcall(ok_cb))") == 7
    lua.globals().bad_cb = raiser(ValueError)
    ok, err = lua.eval("pcall(bad_cb)")
    assert ok is False and isinstance(err, ValueError)
    assert lua.execute("local n = 0 for i = 1, 100000 do n = n + i end return n") == 5000050000


CATCHERS = {
    "pcall": "return pcall(cb)",
    "pcall in a loop": "for i = 1, 100 do pcall(cb) end return 'ran on'",
    "nested pcall": "return pcall(pcall, pcall, cb)",
    "xpcall": "return xpcall(cb, function(m) return 'handled' end)",
    "xpcall handler": "return xpcall(error, function(m) cb() return 'handled' end)",
    "xpcall handler of a handler error":
        "return xpcall(error, function(m) pcall(cb) return 'handled' end)",
    "error in handler": "return xpcall(function() error({}) end, python.as_function(cb))",
    "coroutine.resume": "return coroutine.resume(coroutine.create(python.as_function(cb)))",
    "coroutine.wrap in pcall": "return pcall(coroutine.wrap(python.as_function(cb)))",
    "pcall in a coroutine in pcall":
        "return pcall(coroutine.wrap(function() return pcall(cb) end))",
    "resume of a coroutine in a coroutine":
        "return coroutine.resume(coroutine.create(function() "
        "return coroutine.resume(coroutine.create(function() return pcall(cb) end)) end))",
    "yield across pcall":
        "local co = coroutine.wrap(function() pcall(function() coroutine.yield() cb() end) "
        "return 'ran on' end) co() return pcall(co)",
    "__close handler":
        "return pcall(function() local x <close> = setmetatable({}, {__close = cb}) end)",
    "__close during an error":
        "return pcall(function() local x <close> = setmetatable({}, {__close = cb}) "
        "error('e') end)",
    "__close of coroutine.close":
        "local co = coroutine.create(function() local x <close> = setmetatable({}, "
        "{__close = function() cb() end}) coroutine.yield() end) coroutine.resume(co) "
        "return pcall(coroutine.close, co)",
    "__index": "return pcall(function() return setmetatable({}, "
               "{__index = python.as_function(cb)}).x end)",
    "__index of a Python object": "return pcall(function() return obj.boom end)",
    "table.sort comparator": "return pcall(table.sort, {3, 2, 1}, function(a, b) "
                             "cb() return a < b end)",
    "table.sort with a Python comparator":
        "return pcall(table.sort, {3, 2, 1}, python.as_function(cb))",
    "__tostring by tostring":
        "return pcall(tostring, setmetatable({}, {__tostring = function() cb() end}))",
    "tostring of a Python object": "return pcall(tostring, obj)",
    "string.gsub with a Python function": "return pcall(string.gsub, 'abc', '%w', "
                                          "python.as_function(cb))",
    "load with a Python reader": "return pcall(load, python.as_function(cb))",
    "python.iter over a generator": "return pcall(function() for x in python.iter(gen()) "
                                    "do end end)",
    "__gc in collectgarbage":
        "setmetatable({}, {__gc = function() cb() end}) collectgarbage() "
        "for i = 1, 1e6 do end return 'ran on'",
    "__gc of garbage": "for i = 1, 1e5 do setmetatable({}, {__gc = function() cb() end}) end "
                       "collectgarbage() return 'ran on'",
}


class Boom:
    def __getattr__(self, name):
        raise self.exc("from python")

    def __str__(self):
        raise self.exc("from python")


@pytest.mark.parametrize("exc", STOPS)
@pytest.mark.parametrize("where", CATCHERS)
def test_stops_cross_lua(lua, exc, where):
    g = lua.globals()
    g.cb = raiser(exc)
    boom = Boom()
    boom.exc = exc
    g.obj = boom

    def gen():
        yield 1
        raise exc("from python")
    g.gen = gen
    with pytest.raises(exc) as info:
        lua.execute(CATCHERS[where])
    assert info.value.args == ("from python",)
    # Finalizers the stop left pending run later (none is dropped): they call a harmless
    # callback from now on.
    g.cb = lambda *args: None
    usable(lua)


def test_sys_exit_comes_out_with_its_code(lua):
    lua.globals().cb = lambda: sys.exit(3)
    with pytest.raises(SystemExit) as info:
        lua.eval("pcall(cb)")
    assert info.value.code == 3
    usable(lua)


def test_the_same_exception_object_comes_out(lua):
    e = KeyboardInterrupt("mine")

    def cb():
        raise e
    lua.globals().cb = cb
    with pytest.raises(KeyboardInterrupt) as info:
        lua.eval("pcall(cb)")
    assert info.value is e


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups are new in Python 3.11")
def test_base_exception_group_stops_too(lua):
    def cb():
        raise BaseExceptionGroup("g", [KeyboardInterrupt()])
    lua.globals().cb = cb
    with pytest.raises(BaseExceptionGroup):
        lua.eval("pcall(cb)")
    usable(lua)


def test_exceptions_stay_catchable(lua):
    for exc in [ValueError, RuntimeError, StopIteration, lupa.LuaError, ArithmeticError]:
        lua.globals().cb = raiser(exc)
        ok, err = lua.eval("pcall(cb)")
        assert ok is False and type(err) is exc


def test_stop_crosses_python_and_lua_levels(lua):
    """Python -> Lua -> Python -> Lua -> Python: every level lets it through."""
    g = lua.globals()
    g.inner = raiser(KeyboardInterrupt)
    inner_lua = lua.eval("function() return pcall(inner) end")
    seen = []

    def middle():
        try:
            inner_lua()
        except KeyboardInterrupt:
            seen.append("middle")
            raise
    g.middle = middle
    f = lua.eval("function() local r = {pcall(middle)} return 'ran on' end")
    with pytest.raises(KeyboardInterrupt):
        f()
    assert seen == ["middle"]
    usable(lua)


def test_a_callback_swallowing_the_stop_does_not_resume_lua(lua):
    """The stop is for the whole call from Python: Python code that swallows it inside a
    callback does not let the Lua around it run on."""
    g = lua.globals()
    g.inner = raiser(SystemExit)
    inner_lua = lua.eval("function() return pcall(inner) end")

    def swallow():
        try:
            inner_lua()
        except SystemExit:
            return "swallowed"
    g.swallow = swallow
    with pytest.raises(SystemExit):
        lua.execute("pcall(swallow) for i = 1, 1e7 do end return 'ran on'")
    usable(lua)


def test_stop_from_coroutine_resumed_by_python(lua):
    lua.globals().cb = raiser(KeyboardInterrupt)
    co = lua.eval("coroutine.wrap(function() coroutine.yield(1) pcall(cb) return 2 end)")
    assert co() == 1
    with pytest.raises(KeyboardInterrupt):
        co()
    usable(lua)
    f = lua.eval("function() return pcall(cb) end")
    t = f.coroutine()
    with pytest.raises(KeyboardInterrupt):
        t.send(None)
    usable(lua)


def test_stop_from_a_lua_function_called_from_python(lua):
    lua.globals().cb = raiser(GeneratorExit)
    f = lua.eval("function(x) return pcall(cb, x) end")
    with pytest.raises(GeneratorExit):
        f(1)
    usable(lua)


def test_gccollect_raises_a_finalizers_stop(lua):
    lua.globals().cb = lambda: sys.exit(5)
    lua.execute("t = setmetatable({}, {__gc = function() cb() end})")
    lua.globals().t = None
    with pytest.raises(SystemExit) as info:
        lua.gccollect()
    assert info.value.code == 5
    usable(lua)
    lua.gccollect()


def test_the_first_stop_wins(lua):
    """A finalizer's SystemExit while a KeyboardInterrupt stops the call does not replace
    it."""
    g = lua.globals()
    g.exit = lambda: sys.exit(1)
    g.cb = raiser(KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        lua.execute("""
            local t = setmetatable({}, {__gc = function() exit() end})
            t = nil
            pcall(cb)
            collectgarbage()
        """)
    # The finalizer the stop left pending runs later (none is dropped).
    g.exit = lambda: None
    usable(lua)


def test_stop_beats_limits():
    lua = lupa.LuaRuntime(max_instructions=10_000_000, timeout=10)
    lua.globals().cb = raiser(KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        lua.execute("pcall(cb) while true do end")
    usable(lua)
    with pytest.raises(lupa.LuaTimeoutError):
        lua.execute("while true do end")
    usable(lua)


def run_python(code, timeout=30):
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout.strip(), p.stderr


@requires_processes
def test_ctrl_c_during_a_callback_stops_a_pcall_loop():
    rc, out, err = run_python("""
        import lupa_rs as lupa, time, _thread, threading
        lua = lupa.LuaRuntime()
        lua.globals().cb = lambda: time.sleep(0.05)
        threading.Timer(0.3, _thread.interrupt_main).start()
        t = time.time()
        try:
            lua.execute("for i = 1, 200 do pcall(cb) end")
            print('finished')
        except KeyboardInterrupt:
            print('KeyboardInterrupt', time.time() - t < 2)
        print(lua.eval('1 + 1'))
    """)
    assert out.splitlines() == ["KeyboardInterrupt True", "2"], (out, err)


@requires_processes
def test_ctrl_c_during_a_callback_in_an_error_handler():
    rc, out, err = run_python("""
        import lupa_rs as lupa, time, _thread, threading
        lua = lupa.LuaRuntime()
        lua.globals().cb = lambda: time.sleep(0.05)
        threading.Timer(0.3, _thread.interrupt_main).start()
        try:
            lua.execute('''
                for i = 1, 200 do
                    xpcall(error, function() cb() end)
                    coroutine.wrap(function() pcall(cb) end)()
                    local ok = pcall(function() local x <close> = setmetatable({}, {__close = cb}) end)
                end''')
            print('finished')
        except KeyboardInterrupt:
            print('KeyboardInterrupt')
        print(lua.eval('1 + 1'))
    """)
    assert out.splitlines() == ["KeyboardInterrupt", "2"], (out, err)


@requires_processes
def test_ctrl_c_in_a_lua_loop_that_catches_everything():
    rc, out, err = run_python("""
        import lupa_rs as lupa, _thread, threading
        lua = lupa.LuaRuntime()
        threading.Timer(0.3, _thread.interrupt_main).start()
        try:
            lua.execute("while true do pcall(function() while true do end end) end")
        except KeyboardInterrupt:
            print('KeyboardInterrupt')
        print(lua.eval('1 + 1'))
    """)
    assert out.splitlines() == ["KeyboardInterrupt", "2"], (out, err)


@requires_processes
def test_sys_exit_from_a_callback_exits_the_process():
    rc, out, err = run_python("""
        import lupa_rs as lupa, sys
        lua = lupa.LuaRuntime(sandbox=True)
        lua.globals().cb = lambda: sys.exit(7)
        lua.execute("for i = 1, 10 do pcall(cb) end print('ran on')")
        print('not reached')
    """)
    assert rc == 7 and out == "", (rc, out, err)


@requires_processes
def test_a_swallowed_stop_still_stops_an_endless_loop():
    # A finalizer's error is only a warning: the stop holds, and the next check of the
    # limits ends the loop.
    rc, out, err = run_python("""
        import lupa_rs as lupa
        lua = lupa.LuaRuntime()
        def cb():
            raise KeyboardInterrupt
        lua.globals().cb = cb
        try:
            lua.execute('''
                setmetatable({}, {__gc = function() cb() end})
                collectgarbage()
                while true do end''')
        except KeyboardInterrupt:
            print('KeyboardInterrupt')
        print(lua.eval('1 + 1'))
    """, timeout=20)
    assert out.splitlines() == ["KeyboardInterrupt", "2"], (out, err)


@requires_processes
def test_ctrl_c_in_a_finalizer_callback():
    rc, out, err = run_python("""
        import lupa_rs as lupa, time, _thread, threading
        lua = lupa.LuaRuntime()
        lua.globals().cb = lambda: time.sleep(0.05)
        threading.Timer(0.3, _thread.interrupt_main).start()
        try:
            lua.execute('''
                for i = 1, 200 do
                    setmetatable({}, {__gc = function() cb() end})
                    collectgarbage()
                end''')
            print('finished')
        except KeyboardInterrupt:
            print('KeyboardInterrupt')
        print(lua.eval('1 + 1'))
    """, timeout=20)
    assert out.splitlines() == ["KeyboardInterrupt", "2"], (out, err)


def test_stop_from_lua_operations_made_by_python(lua):
    lua.globals().cb = raiser(KeyboardInterrupt)
    t = lua.eval("setmetatable({}, {__index = function(t, k) pcall(cb) return k end, "
                 "__newindex = function() pcall(cb) end})")
    with pytest.raises(KeyboardInterrupt):
        t["x"]
    with pytest.raises(KeyboardInterrupt):
        t["x"] = 1
    usable(lua)
