"""Hostile scripts against the sandbox preset: every escape attempt fails with a clean
error, nothing crashes, and the runtime stays usable."""

import subprocess
import sys

import pytest

import lupa_rs as lupa


class Service:
    """An object a host hands to untrusted code."""

    def __init__(self):
        self.name = "svc"
        self._token = "secret"

    def greet(self, who):
        return "hello " + who


@pytest.fixture
def lua():
    rt = lupa.LuaRuntime(sandbox=True, max_memory=50_000_000)
    rt.globals().svc = Service()
    return rt


def fails(lua, code, match=None):
    """`code` must raise a Lua error (or a Python exception raised through Lua)."""
    with pytest.raises(Exception) as info:
        lua.execute(code)
    if match:
        assert match in str(info.value), str(info.value)
    # the runtime still works
    assert lua.eval("1 + 1") == 2


ESCAPES_THROUGH_PYTHON = [
    "return svc.__class__",
    "return svc._token",
    "return svc.greet.__self__",
    "return svc.greet.__func__.__globals__",
    "return svc.__dict__",
    "return svc.__init__",
    "svc.__class__ = nil",
    "return python.eval('1')",
    "return python.builtins.open",
    "return python.as_attrgetter(svc).__class__",
]


@pytest.mark.parametrize("code", ESCAPES_THROUGH_PYTHON)
def test_python_internals_are_out_of_reach(lua, code):
    fails(lua, code)


def test_public_python_api_still_works(lua):
    assert lua.eval("svc.name") == "svc"
    assert lua.eval("svc:greet('lua')") == "hello lua"


ESCAPES_THROUGH_LUA = [
    ("return io.open('/etc/passwd')", "io"),
    ("return os.execute('true')", "execute"),
    ("return os.getenv('HOME')", "getenv"),
    ("return os.remove('x')", "remove"),
    ("return require('os')", "require"),
    ("return package.loadlib('x', 'y')", "package"),
    ("return dofile('/etc/passwd')", "dofile"),
    ("return loadfile('/etc/passwd')", "loadfile"),
    ("return debug.getregistry()", "debug"),
    ("collectgarbage('stop')", "not allowed"),
    ("collectgarbage('generational')", "not allowed"),
]


@pytest.mark.parametrize("code,what", ESCAPES_THROUGH_LUA)
def test_host_facilities_are_absent(lua, code, what):
    fails(lua, code)


def test_binary_chunks_are_refused(lua):
    assert lua.execute("""
        local ok, err = load(string.dump(function() return 1 end))
        return ok == nil and err:find('binary chunk') ~= nil""") is True
    assert lua.execute("""
        local ok, err = load(string.dump(function() return 1 end), 'x', 'b')
        return ok == nil""") is True


def test_metatables_of_python_objects_are_locked(lua):
    assert lua.eval("getmetatable(svc)") is False
    fails(lua, "setmetatable(svc, {})")
    fails(lua, "rawset(svc, 'x', 1)")


def test_string_metatable_changes_stay_in_this_runtime(lua):
    lua.execute("getmetatable('').__index = function() return 'owned' end")
    assert lua.eval("('x').anything") == "owned"
    other = lupa.LuaRuntime(sandbox=True)
    assert other.eval("('x'):upper()") == "X"


def test_error_objects_with_tostring_are_harmless(lua):
    with pytest.raises(lupa.LuaError) as info:
        lua.execute("""
            local e = setmetatable({}, {__tostring = function() error('nested') end})
            error(e)""")
    assert info.value is not None
    with pytest.raises(lupa.LuaError):
        lua.execute("""
            local e = setmetatable({}, {__tostring = function() return string.rep('x', 100) end})
            error(e)""")
    assert lua.eval("1") == 1


def test_deep_recursion_is_a_lua_error(lua):
    # As in C Lua, the stack may go 1,000,000 calls deep: under this runtime's 50 MB the
    # memory limit comes first (lupa.lua54 with max_memory too).
    with pytest.raises(lupa.LuaMemoryError):
        lua.execute("local function f() return 1 + f() end return f()")
    assert lua.eval("1 + 1") == 2
    deep = lupa.LuaRuntime(sandbox=True)
    fails(deep, "local function f() return 1 + f() end return f()", "stack overflow")
    fails(lua, "local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x")
    fails(lua, "local co; co = coroutine.wrap(function() return co() end) return co()")
    src = "return " + "(" * 300 + "1" + ")" * 300
    with pytest.raises(lupa.LuaSyntaxError):
        lua.execute(src)


def test_coroutines_cannot_escape_their_runtime(lua):
    assert lua.execute("""
        local co = coroutine.create(function() coroutine.yield(debug) end)
        local ok, v = coroutine.resume(co)
        return ok and v == nil""") is True
    assert lua.execute("return coroutine.resume(coroutine.running())") == (
        False, "cannot resume non-suspended coroutine")


def test_memory_bombs_stop_at_max_memory(lua):
    for code in [
        "local s = 'x' while true do s = s .. s end",
        "return string.rep('x', 1 << 40)",
        "local t = {} for i = 1, 1e9 do t[i] = i end",
        "local t = {} while true do t[#t + 1] = {} end",
        "return table.concat(setmetatable({}, {__len = function() return 1e9 end}), 'x')",
    ]:
        with pytest.raises((lupa.LuaMemoryError, lupa.LuaError)):
            lua.execute(code)
        assert lua.eval("1 + 1") == 2


MORE_BOMBS = {
    "closures": "local t = {} while true do t[#t + 1] = function() return #t end end",
    "coroutines": "local t = {} while true do t[#t + 1] = coroutine.create(print) end",
    "running coroutines": "local t = {} while true do "
    "local co = coroutine.wrap(function() coroutine.yield() end) co() t[#t + 1] = co end",
    "pattern captures": "local s = string.rep('ab', 100000) local t = {} "
    "while true do t[#t + 1] = {s:match(string.rep('(a)(b)', 16))} end",
    "gsub results": "local s = string.rep('ab', 1000000) local t = {} "
    "while true do t[#t + 1] = s:gsub('a', '%0%0') end",
    "load": "local src = 'return function() return {' .. "
    "string.rep('\"abcdefghijklmnopqrstuvwxyz0123456789\",', 20000) .. '} end' "
    "local t = {} while true do t[#t + 1] = load(src) end",
}


@pytest.mark.parametrize("kind", sorted(MORE_BOMBS))
def test_more_memory_bombs_stop_at_max_memory_with_rss_bounded(kind):
    # In a fresh process: its peak RSS shows what the bomb really allocated.
    code = MORE_BOMBS[kind]
    script = f'''
import resource, lupa_rs as lupa
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
lua = lupa.LuaRuntime(sandbox=True, max_memory=50_000_000)
before = rss()
try:
    lua.execute({code!r})
    print("no error")
except lupa.LuaMemoryError:
    print("memory error", rss() - before)
assert lua.eval("1 + 1") == 2
'''
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    word, _, grown = out.stdout.strip().rpartition(" ")
    assert word == "memory error", out.stdout
    # 50 MB of Lua objects; the process may hold some more (allocator slack, the
    # garbage not yet collected when the limit hit), not several times more.
    assert int(grown) < 150_000_000, f"{kind}: RSS grew by {int(grown) >> 20} MB"


def test_sandbox_runs_ordinary_code(lua):
    assert lua.execute("""
        local words = {}
        for w in ('the quick brown fox'):gmatch('%a+') do words[#words + 1] = w:upper() end
        table.sort(words)
        return table.concat(words, ' ') .. ' ' .. math.floor(os.time() / 1e12) .. ' ' ..
               utf8.char(955) .. ' ' .. select('#', coroutine.wrap(function() return 1, 2 end)())
    """) == "BROWN FOX QUICK THE 0 λ 2"
