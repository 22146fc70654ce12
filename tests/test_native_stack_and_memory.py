"""Recursion of every kind ends in an error, never a crash, whatever the stack it runs on;
and max_memory holds on the paths that push or build many values.

Native recursion (a `__tostring` calling `tostring`, sort and gsub callbacks, message
handlers, Lua -> Python -> Lua) is guarded both by C Lua's C-call count and by what is left
of the calling thread's real stack, so a host thread with a small stack gets
"C stack overflow" too. Each case runs in a subprocess: a failure would kill the interpreter.
"""

import subprocess
import sys
import textwrap

import pytest
from conftest import requires_processes

CASES = {
    "tostring": "local t = setmetatable({}, {__tostring = function(s) return tostring(s) end})"
    " return tostring(t)",
    "sort": "local function f(a, b) table.sort({3, 2, 1}, f) return a < b end"
    " table.sort({3, 2, 1}, f)",
    "gsub": "local function f(m) return (string.gsub('a', 'a', f)) end f()",
    "python_callback": "local function f(g, n) return cb(f, n + 1) end f(f, 0)",
    "index": "local t = setmetatable({}, {}) getmetatable(t).__index = function(s, k)"
    " return s[k] end return t.x",
    "concat": "local t = setmetatable({}, {}) getmetatable(t).__concat = function(a, b)"
    " return a .. b end return t .. 'x'",
}


def run_isolated(code):
    p = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout.splitlines()


@pytest.mark.parametrize("stack_kb", [256, 1024, 8192])
@requires_processes
def test_native_recursion_is_an_error_on_any_thread_stack(stack_kb):
    out = run_isolated(
        f"""
        import sys, threading
        import lupa_rs as lupa
        sys.setrecursionlimit(1_000_000)
        threading.stack_size({stack_kb} * 1024)
        cases = {CASES!r}
        def run():
            lua = lupa.LuaRuntime()
            lua.globals().cb = lambda f, n: f(f, n)
            for name, code in cases.items():
                try:
                    lua.execute(code)
                    print(name, "no error")
                except lupa.LuaError as e:
                    print(name, str(e).splitlines()[0].split(": ")[-1])
            print("after", lua.eval("1 + 1"))
        t = threading.Thread(target=run)
        t.start()
        t.join()
        """
    )
    assert out == [f"{name} C stack overflow" for name in CASES] + ["after 2"]


@requires_processes
def test_a_message_handler_failing_on_a_small_stack_ends():
    out = run_isolated(
        """
        import threading
        import lupa_rs as lupa
        threading.stack_size(256 * 1024)
        def run():
            lua = lupa.LuaRuntime()
            print(lua.execute("local function h(m) return xpcall(error, h) end"
                              " return xpcall(error, h)"))
        t = threading.Thread(target=run)
        t.start()
        t.join()
        """
    )
    assert out == ["(False, False)"]


@requires_processes
def test_a_runtime_made_on_a_tiny_stack_is_an_error():
    out = run_isolated(
        """
        import threading
        import lupa_rs as lupa
        threading.stack_size(64 * 1024)
        def run():
            try:
                lupa.LuaRuntime()
                print("made")
            except lupa.LuaError as e:
                print(e)
        t = threading.Thread(target=run)
        t.start()
        t.join()
        """
    )
    assert out == ["cannot set up the runtime: C stack overflow"]


@requires_processes
def test_table_from_of_deeply_nested_lists():
    out = run_isolated(
        """
        import lupa_rs as lupa
        nested = []
        for _ in range(100_000):
            nested = [nested]
        lua = lupa.LuaRuntime()
        t = lua.table_from(nested, recursive=True)
        depth = lua.eval("function(t) local n = 0 while t[1] do t = t[1] n = n + 1 end return n end")
        print(depth(t))
        """
    )
    assert out == ["100000"]


# ----- max_memory -----


def test_table_from_stops_at_the_memory_limit():
    import itertools

    import lupa_rs as lupa

    lua = lupa.LuaRuntime(max_memory=20_000_000)
    for source in (itertools.count(), range(10**7), list(range(3 * 10**6)),
                   {i: i for i in range(10**6)}):
        with pytest.raises(lupa.LuaMemoryError, match="not enough memory"):
            lua.table_from(source)
        assert lua.eval("1 + 1") == 2
    assert list(lua.table_from(range(1000)).values()) == list(range(1000))


@pytest.mark.parametrize(
    "code, message",
    [
        ("string.byte(s, 1, -1)", "stack overflow (string slice too long)"),
        ("utf8.codepoint(s, 1, -1)", "stack overflow (string slice too long)"),
        ("table.unpack({}, 1, 1e7)", "too many results to unpack"),
    ],
)
def test_functions_pushing_many_values_check_the_stack_limit(code, message):
    import lupa_rs as lupa

    lua = lupa.LuaRuntime(max_memory=50_000_000)
    lua.execute("s = string.rep('x', 10000000)")
    with pytest.raises(lupa.LuaError) as e:
        lua.execute(code)
    assert str(e.value).splitlines()[0] == '[string "<python>"]:1: ' + message
    lua.execute("s = nil")
    lua.gccollect()
    assert lua.eval("1 + 1") == 2
    assert lua.get_memory_used() < 1_000_000


def test_dead_weak_keys_do_not_exhaust_the_limit():
    import lupa_rs as lupa

    lua = lupa.LuaRuntime(max_memory=30_000_000)
    lua.execute(
        "local w = setmetatable({}, {__mode = 'k'}) for i = 1, 2000000 do w[{}] = i end"
    )
    assert lua.eval("1 + 1") == 2


def test_the_collector_clears_dead_weak_entries_every_cycle():
    """C Lua keeps a few dozen of these entries and 25 KB; before the weak parts of tables
    went untraced, each cycle outlasted the last: 240,000 dead entries, 47 MB."""
    import lupa_rs as lupa

    lua = lupa.LuaRuntime()
    live, kb = lua.execute(
        """
        local w = setmetatable({}, {__mode = 'k'})
        for i = 1, 2000000 do w[{}] = i end
        local n = 0
        for _ in pairs(w) do n = n + 1 end
        return n, collectgarbage('count')
        """
    )
    assert live < 50_000
    assert kb < 8_000


def test_dead_strings_are_collected_as_they_are_made():
    """A loop making two million short strings keeps what one cycle makes (C Lua: 27 KB;
    before the interner went untraced: 9 MB)."""
    import lupa_rs as lupa

    lua = lupa.LuaRuntime()
    kb = lua.execute(
        "for i = 1, 2000000 do local s = 'k' .. i end return collectgarbage('count')"
    )
    assert kb < 4_000
