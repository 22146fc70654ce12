"""Lua called from a Python callback runs where C Lua (and so lupa) runs a call that a C
function makes with `lua_call`: on the Lua thread that called the callback, above the frames
that called it.

To Lua the callback is a C function: tracebacks show it as `[C]: in ...` (named as its caller
named it), `debug.getinfo` walks through it into the Lua code that called it,
`coroutine.running()` is the caller's thread, nothing in the nested call can yield across it,
and an error in the nested call unwinds only the nested call's frames."""

import sys

import pytest

import lupa_rs as lupa


@pytest.fixture
def lua():
    return lupa.LuaRuntime(unpack_returned_tuples=True)


def called_from(lua):
    """Where the Lua code that called the running Python callback is. Level 1 is the chunk
    this evaluates, level 2 the callback (a C function), level 3 the code that called it."""
    info = lua.eval("debug.getinfo(3, 'Sl')")
    return f"called from {info.short_src}:{info.currentline}"


def levels(lua):
    """What and name of each stack level from the chunk this runs down, innermost first."""
    return lua.execute(
        """local r = (function()
          local t = {}
          for level = 2, math.huge do  -- level 1 is this function
            local i = debug.getinfo(level, 'nS')
            if not i then return table.concat(t, ' | ') end
            t[#t + 1] = i.what .. ' ' .. tostring(i.name)
          end
        end)()
        return r"""
    )


RUNNING = "local co, ismain = coroutine.running() return co, ismain, coroutine.isyieldable()"


# ----- Stack levels and tracebacks -----


def test_a_callback_finds_the_lua_line_that_called_it(lua):
    lua.globals().where = lambda: called_from(lua)
    script = """\
local function f()
  return where()   -- a tail call of a C function keeps f's frame
end
local a = f()
local b = where()
return a, b
"""
    assert lua.execute(script, name="=script.lua") == (
        "called from script.lua:2",
        "called from script.lua:5",
    )


def test_getinfo_walks_through_the_callback(lua):
    lua.globals().cb = lambda: levels(lua)
    script = """\
local function outer()
  local r = cb()
  return r
end
local r = outer()
return r
"""
    # The nested chunk, the callback (a C function named by its caller), then the frames
    # that called it; the host's own entry is no level (as in lupa).
    assert lua.execute(script, name="=script.lua") == (
        "main nil | C cb | Lua outer | main nil"
    )


def test_traceback_through_the_callback(lua):
    lua.globals().cb = lambda: lua.eval("debug.traceback('inside')")
    script = """\
local function outer()
  local tb = cb()
  return tb
end
local tb = outer()
return tb
"""
    assert lua.execute(script, name="=script.lua") == (
        "inside\n"
        "stack traceback:\n"
        '\t[string "<python>"]:1: in main chunk\n'
        "\t[C]: in global 'cb'\n"
        "\tscript.lua:2: in local 'outer'\n"
        "\tscript.lua:5: in main chunk"
    )


@pytest.mark.parametrize(
    "call, shown",
    [
        ("cb()", "[C]: in global 'cb'"),
        ("local f = cb; f()", "[C]: in local 'f'"),
        ("local t = {f = cb}; t.f()", "[C]: in field 'f'"),
        ("local t = {f = cb}; t:f()", "[C]: in method 'f'"),
        ("pcall(cb)", "[C]: in ?"),
    ],
)
def test_the_callback_is_named_as_its_caller_named_it(lua, call, shown):
    out = []
    lua.globals().cb = lambda *args: out.append(lua.eval("debug.traceback()"))
    lua.execute(call)
    assert out[0].splitlines()[2] == "\t" + shown


def test_properties_and_iterators_are_metamethods_and_iterators(lua):
    class Obj:
        @property
        def prop(self):
            return lua.eval("debug.traceback()").splitlines()[2]

    def gen():
        yield lua.eval("debug.traceback()").splitlines()[2]

    lua.globals().obj = Obj()
    lua.globals().gen = gen
    assert lua.eval("obj.prop") == "\t[C]: in metamethod 'index'"
    assert lua.execute("for line in python.iter(gen()) do return line end") == (
        "\t[C]: in for iterator 'for iterator'"
    )


def test_error_traceback_of_a_nested_call_shows_the_outer_frames(lua):
    def cb():
        with pytest.raises(lupa.LuaError) as e:
            lua.execute("local function boom() error('deep') end\nboom()", name="=inner.lua")
        return e.value.traceback

    lua.globals().cb = cb
    script = """\
local function outer()
  local tb = cb()
  return tb
end
local tb = outer()
return tb
"""
    assert lua.execute(script, name="=outer.lua") == (
        "stack traceback:\n"
        "\t[C]: in function 'error'\n"
        "\tinner.lua:1: in local 'boom'\n"
        "\tinner.lua:2: in main chunk\n"
        "\t[C]: in global 'cb'\n"
        "\touter.lua:2: in local 'outer'\n"
        "\touter.lua:5: in main chunk"
    )


def test_traceback_of_the_thread_waiting_in_the_callback(lua):
    # Seen from a coroutine the nested call resumed, the thread that called Python waits in
    # that resume, above the callback and the frames that called it.
    lua.globals().cb = lambda t: lua.execute(
        "local w = coroutine.wrap(function(t) return debug.traceback(t) end)\nreturn w(...)",
        t,
        name="=inner.lua",
    )
    assert lua.execute("local t = coroutine.running()\nreturn cb(t)", name="=outer.lua") == (
        "stack traceback:\n"
        "\t[C]: in local 'w'\n"
        "\tinner.lua:2: in main chunk\n"
        "\t[C]: in global 'cb'\n"
        "\touter.lua:2: in main chunk"
    )


def test_error_levels_count_the_callback(lua):
    # error(msg, 2) in a function that Python called blames the callback (a C function:
    # no position); level 3 is the Lua code that called the callback.
    lua.execute("function blame(level) error('bad', level) end")

    def cb(level):
        with pytest.raises(lupa.LuaError) as e:
            lua.globals().blame(level)
        return str(e.value)

    lua.globals().cb = cb
    # The texts are real lupa's (lupa.lua54 2.8), traceback included.
    tb = (
        "\nstack traceback:\n"
        "\t[C]: in function 'error'\n"
        "\t[string \"<python>\"]:1: in function 'blame'\n"
        "\t[C]: in global 'cb'\n"
        "\ts.lua:1: in main chunk"
    )
    assert lua.execute("return cb(2)", name="=s.lua") == "bad" + tb
    assert lua.execute("return cb(3)", name="=s.lua") == "s.lua:1: bad" + tb


# ----- The running thread -----


def test_coroutine_running_in_a_nested_call_from_the_main_thread(lua):
    lua.globals().cb = lambda: lua.execute(RUNNING)
    script = """
    local me = coroutine.running()
    local seen, ismain, yieldable = cb()
    return rawequal(me, seen), ismain, yieldable
    """
    assert lua.execute(script) == (True, True, False)


def test_coroutine_running_in_a_nested_call_from_a_coroutine(lua):
    lua.globals().cb = lambda: lua.execute(RUNNING)
    script = """
    return coroutine.wrap(function()
      local me = coroutine.running()
      local before = coroutine.isyieldable()
      local seen, ismain, yieldable = cb()
      return rawequal(me, seen), ismain, before, yieldable
    end)()
    """
    # The callback runs in the coroutine; the nested call is in it too, but cannot yield.
    assert lua.execute(script) == (True, False, True, False)


def test_a_yield_cannot_cross_the_callback(lua):
    def cb():
        with pytest.raises(lupa.LuaError, match="attempt to yield across a C-call boundary"):
            lua.eval("coroutine.yield(1)")
        return lua.eval("pcall(coroutine.yield, 2)")

    lua.globals().cb = cb
    script = """
    local co = coroutine.wrap(function()
      local ok, err = cb()
      coroutine.yield(ok, err)   -- the coroutine itself still yields
      return 'done'
    end)
    local ok, err = co()
    return ok, err, co()
    """
    assert lua.execute(script) == (
        False,
        "attempt to yield across a C-call boundary",
        "done",
    )
    # On the main thread, C Lua's message says where the yield is.
    lua.globals().cb = lambda: lua.eval("coroutine.yield(1)")
    with pytest.raises(lupa.LuaError, match="attempt to yield from outside a coroutine"):
        lua.execute("cb()")


def test_coroutines_inside_the_nested_call_yield_to_it(lua):
    # A coroutine created and resumed by the nested call runs and yields as usual; its
    # resumer, the thread that called Python, is "normal" meanwhile.
    lua.globals().cb = lambda outer: lua.eval(
        """coroutine.wrap(function(outer)
             coroutine.yield(coroutine.isyieldable(), coroutine.status(outer))
           end)"""
    )(outer)
    assert lua.execute("return cb((coroutine.running()))") == (True, "normal")


def test_a_coroutine_resumed_from_python_inside_a_callback(lua):
    # Python resumes a Lua coroutine while a callback runs: the thread that called the
    # callback is "normal" meanwhile, as in C Lua.
    status = lua.eval("function(outer) coroutine.yield(coroutine.status(outer)) end")
    lua.globals().cb = lambda outer: status.coroutine(outer).send(None)
    assert lua.execute("return cb((coroutine.running()))") == "normal"
    in_co = "return coroutine.wrap(function() return cb((coroutine.running())) end)()"
    assert lua.execute(in_co) == "normal"


def test_a_callback_called_by_a_coroutine_python_resumed(lua):
    lua.globals().cb = lambda: lua.execute(RUNNING)
    gen = lua.eval(
        """function()
          local me = coroutine.running()
          local seen, ismain, yieldable = cb()
          coroutine.yield(rawequal(me, seen), ismain, yieldable)
          coroutine.yield('again')
        end"""
    ).coroutine()
    assert gen.send(None) == (True, False, False)
    assert gen.send(None) == "again"


# ----- Re-entrancy -----


def test_lua_python_lua_python_lua(lua):
    g = lua.globals()
    g.py = lambda n: g.descend(n)
    lua.execute(
        "function descend(n) if n == 0 then return debug.traceback() end return py(n - 1) end",
        name="=deep.lua",
    )
    # `descend` is named by the global that holds it (its caller, a C function, gives it no
    # name); the callback by how Lua called it.
    assert g.descend(2) == (
        "stack traceback:\n"
        "\tdeep.lua:1: in function 'descend'\n"
        "\t[C]: in global 'py'\n"
        "\tdeep.lua:1: in function 'descend'\n"
        "\t[C]: in global 'py'\n"
        "\tdeep.lua:1: in function 'descend'"
    )
    # Deeper: every callback is a level of its own, between two Lua levels.
    g.count = lambda: lua.execute(
        "local n = 1 while debug.getinfo(n, '') do n = n + 1 end return n - 1"
    )
    g.py2 = lambda n: g.depth(n)
    lua.execute("function depth(n) if n == 0 then return count() end return py2(n - 1) end")
    # The chunk that counts, `count`, 41 calls of `depth` and the 40 callbacks between them.
    assert g.depth(40) == 1 + 1 + 41 + 40


def test_reentrancy_through_coroutines(lua):
    # main -> coroutine A -> Python -> Lua resumes coroutine B -> Python -> Lua: each level
    # sees the thread it runs on, and a traceback shows that thread's frames.
    g = lua.globals()
    lua.execute(
        """
        function in_b()
          local tb = debug.traceback('b')
          local me, ismain = coroutine.running()
          return tb, rawequal(me, B), ismain
        end
        function in_a()
          B = coroutine.create(function() return py_b() end)
          return select(2, coroutine.resume(B))
        end
        """,
        name="=co.lua",
    )
    g.py_b = lambda: g.in_b()
    g.py_a = lambda: g.in_a()
    tb, in_b, ismain = lua.execute("return coroutine.wrap(function() return py_a() end)()")
    assert (in_b, ismain) == (True, False)
    assert tb == (
        "b\n"
        "stack traceback:\n"
        "\tco.lua:3: in function 'in_b'\n"
        "\t[C]: in global 'py_b'\n"
        "\tco.lua:8: in function <co.lua:8>"
    )


def test_deep_recursion_through_python_reaches_the_c_stack_limit(lua):
    # Each call from Python counts as a C call, as in lupa: about 200 levels (64 Python ->
    # Lua levels on WebAssembly, whose engine stack cannot be measured: bridge/src/call.rs).
    g = lua.globals()
    g.py = lambda n: g.descend(n)
    lua.execute("function descend(n) if n == 0 then return 'bottom' end return py(n - 1) end")
    assert g.descend(60 if sys.platform == "emscripten" else 150) == "bottom"
    with pytest.raises(lupa.LuaError, match="C stack overflow"):
        g.descend(250)
    assert g.descend(10) == "bottom"


def test_max_call_depth_counts_the_frames_below_the_callback():
    lua = lupa.LuaRuntime(max_call_depth=40)
    g = lua.globals()
    lua.execute(
        """
        function rec(n) if n == 0 then return 0 end return 1 + rec(n - 1) end
        function outer(n, m) if n == 0 then return cb(m) end return outer(n - 1, m) + 0 end
        """
    )
    g.cb = lambda m: g.rec(m)
    assert g.outer(5, 10) == 10
    with pytest.raises(lupa.LuaError, match="stack overflow"):
        g.outer(30, 20)


# ----- Errors -----


def test_an_error_unwinds_only_the_nested_call(lua):
    lua.execute("log = {}")

    def cb():
        try:
            lua.execute(
                """
                local x <close> = setmetatable({}, {__close = function(_, e)
                  log[#log + 1] = 'inner closed: ' .. e
                end})
                error('inner', 0)
                """
            )
        except lupa.LuaError as e:
            return "caught " + str(e)

    lua.globals().cb = cb
    script = """
    local handled = 0
    local outer <close> = setmetatable({}, {__close = function() log[#log + 1] = 'outer closed' end})
    local ok, r = xpcall(cb, function(m) handled = handled + 1 return m end)
    log[#log + 1] = 'after'
    return ok, r, handled
    """
    # The outer xpcall's handler does not see the nested error, the nested call's
    # to-be-closed variable is closed, the outer one only when the outer chunk ends.
    # The message is real lupa's (lupa.lua54 2.8), its reordered traceback included.
    assert lua.execute(script) == (
        True,
        "caught inner\nstack traceback:\n"
        '\t[string "<python>"]:4: in main chunk\n'
        "\t[C]: in function 'xpcall'\n"
        "\t[C]: in ?\n"
        '\t[string "<python>"]:5: in main chunk\n'
        "\t[C]: in function 'error'",
        0,
    )
    assert list(lua.eval("log").values()) == ["inner closed: inner", "after", "outer closed"]


def test_an_error_closes_the_to_be_closed_variables_of_the_call(lua):
    # As lua_pcall does (lupa's calls), for a call from Python at the top too.
    lua.execute("log = {}")
    with pytest.raises(lupa.LuaError, match="boom"):
        lua.execute(
            "local x <close> = setmetatable({}, {__close = function(_, e) log[1] = e end})\n"
            "error('boom', 0)"
        )
    assert lua.eval("log[1]") == "boom"


def test_a_nested_error_that_python_lets_through_reaches_the_outer_lua_code(lua):
    lua.globals().cb = lambda: lua.execute("error('inner', 0)")
    ok, err = lua.execute("return pcall(cb)")
    assert ok is False
    assert isinstance(err, lupa.LuaError)
    # Real lupa's text (lupa.lua54 2.8).
    assert str(err) == (
        "inner\nstack traceback:\n"
        '\t[string "<python>"]:1: in main chunk\n'
        "\t[C]: in function 'pcall'\n"
        "\t[C]: in ?\n"
        '\t[string "<python>"]:1: in main chunk\n'
        "\t[C]: in function 'error'"
    )
    with pytest.raises(lupa.LuaError, match="inner"):
        lua.execute("cb()")
    # The runtime goes on as before, with no frame left behind.
    assert lua.eval("1 + 1") == 2
    assert levels(lua) == "main nil"


def test_pcall_inside_the_nested_call_catches_its_errors(lua):
    lua.globals().cb = lambda: lua.eval("pcall(error, 'inner', 0)")
    assert lua.execute("local ok, e = cb() return ok, e") == (False, "inner")


def test_limits_stop_a_nested_call_and_its_callers():
    lua = lupa.LuaRuntime(max_instructions=200_000)
    lua.globals().cb = lambda: lua.execute("while true do end")
    # Nothing in Lua catches it, neither the outer pcall nor Python's callback frame.
    with pytest.raises(lupa.LuaTimeoutError):
        lua.execute("pcall(cb) return 'not reached'")
    lua.max_instructions = None
    assert lua.eval("1 + 1") == 2


# ----- Hooks and the collector -----


def test_the_threads_hook_sees_the_nested_call(lua):
    lua.execute(
        """
        events = {}
        function inner()
          return 1
        end
        debug.sethook(function(ev, line)
          if debug.getinfo(2, 'f').func == inner then events[#events + 1] = ev .. ' ' .. tostring(line) end
        end, 'crl')
        """,
        name="=hooked.lua",
    )
    lua.globals().cb = lambda: lua.globals().inner()
    lua.execute("cb() debug.sethook()")
    assert list(lua.eval("events").values()) == ["call nil", "line 4", "return nil"]


def test_the_collector_keeps_the_outer_frames_alive(lua):
    # The nested call runs in many steps, with collections between them: what the outer
    # frames hold survives, and what the nested call dropped is freed.
    def cb():
        n = lua.execute(
            """
            local t = {}
            for i = 1, 100000 do t[i] = {i} end
            t = nil
            collectgarbage()
            local s = 0
            for i = 1, 100000 do s = s + #tostring(i) end
            return s
            """
        )
        lua.gccollect()
        return n

    lua.globals().cb = cb
    script = """
    local keep = {}
    for i = 1, 1000 do keep[i] = {tostring(i)} end
    local function check() for i = 1, 1000 do if keep[i][1] ~= tostring(i) then return false end end return true end
    local s = cb()
    return s, check(), #keep
    """
    assert lua.execute(script) == (488895, True, 1000)
