"""Hostile scripts against the sandbox preset: every escape attempt fails with a clean
error, nothing crashes, and the runtime stays usable."""

import subprocess
import sys

import pytest

import lupa_rs as lupa
from conftest import requires_processes


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
@requires_processes
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


# --- Lua values never become Python objects that Lua can index -----------------------------

NOT_PYTHON_OBJECTS = ["'{0._token}'", "'abc'", "42", "1.5", "{}", "print", "function() end",
                      "coroutine.create(print)", "nil", "true"]
OBJECT_FUNCTIONS = ["as_attrgetter", "as_itemgetter", "as_function", "iter", "iterex",
                    "enumerate"]


@pytest.mark.parametrize("func", OBJECT_FUNCTIONS)
@pytest.mark.parametrize("value", NOT_PYTHON_OBJECTS)
def test_python_functions_refuse_lua_values(lua, func, value):
    # lupa's check and text: a Lua string never becomes a `str` whose methods Lua can call
    # (`str.format` follows attribute chains past the sandbox's rule).
    with pytest.raises(lupa.LuaError) as info:
        lua.execute(f"return python.{func}({value})")
    assert f"bad argument #1 to '{func}' (not a python object)" in str(info.value)
    ok, msg = lua.eval(f"pcall(python.{func}, {value})")
    assert ok is False
    assert msg == f"bad argument #1 to 'python.{func}' (not a python object)"


def test_format_strings_cannot_follow_attribute_chains(lua):
    fails(lua, "return python.as_attrgetter('{0._token}').format(svc)", "not a python object")
    fails(lua, "return python.as_itemgetter('{0._token}').format(svc)", "not a python object")
    fails(lua, "for c in python.iter('{0._token}') do end", "not a python object")
    fails(lua, "return python.enumerate('ab', 1)", "not a python object")
    # Lua's own string methods are Lua's: `format` here is `string.format`.
    assert lua.eval("('{0._token}'):format(svc)") == "{0._token}"


def test_python_functions_still_take_python_objects(lua):
    lua.globals().L = [10, 20]
    assert lua.eval("python.as_itemgetter(L)[0]") == 10
    assert lua.eval("python.as_attrgetter(L).count(10)") == 1
    assert lua.execute("local s = 0 for x in python.iter(L) do s = s + x end return s") == 30
    assert lua.execute("local s = 0 for i, x in python.enumerate(L, 1) do s = s + i end "
                       "return s") == 3
    # a `python.as_function` function stands for its object, as in lupa
    assert lua.execute("local n = 0 for x in python.iter(python.as_function(L)) do n = n + 1 "
                       "end return n") == 2
    fails(lua, "return python.iter(L, 2)", "bad argument #2 to 'iter' (invalid arguments)")
    fails(lua, "return python.enumerate(L, 1, 2)",
          "bad argument #3 to 'enumerate' (invalid arguments)")


def test_str_objects_give_no_format_method():
    # Without an encoding, Python strings reach Lua as objects: their `format` and
    # `format_map`, bound or not, stay out of reach.
    rt = lupa.LuaRuntime(sandbox=True, encoding=None)
    svc = Service()
    svc.template = "{0._token}"
    svc.fmt = "{0._token}".format
    svc.str_type = str
    rt.globals().svc = svc
    for code in ["return svc.template.format(svc)", "return svc.template.format_map({})",
                 "return svc.fmt(svc)", "return svc.str_type.format('{0._token}', svc)",
                 "return python.as_attrgetter(svc.template).format(svc)"]:
        with pytest.raises(TypeError, match="'str.format(_map)?' is not allowed in a sandbox"):
            rt.execute(code)
    assert rt.eval("svc.template.upper()") == "{0._TOKEN}"


# --- Every Python object Lua reaches is checked, however Lua got it ------------------------

class FrameLookup:
    def __getitem__(self, key):
        return sys._getframe() if key == "frame" else key


class Introspectable(Service):
    """Public methods whose results lead to Python's internals."""

    def __init__(self):
        super().__init__()
        import os
        self.os = os
        self.length = len
        self.items_by_name = {"frame": sys._getframe(), "ok": 1}
        self.lookup = FrameLookup()

    def items(self):
        yield 1

    async def co(self):
        return 1

    async def agen(self):
        yield 1

    def frame(self):
        return sys._getframe()

    def frames(self):
        yield sys._getframe()

    def failure(self):
        raise ValueError("boom")

    def code(self):
        return self.frame.__code__

    def closure(self):
        x = 1
        return (lambda: x).__closure__[0]

    def traceback(self):
        try:
            raise ValueError
        except ValueError as e:
            return e.__traceback__

    def builtin(self, name):
        import builtins
        return getattr(builtins, name)

    def wrapped_frame(self):
        return lupa.as_attrgetter(sys._getframe())

    def partial_eval(self):
        import functools
        return functools.partial(eval, "1")

    def frame_in_error(self):
        raise ValueError(sys._getframe())

    def __getattr__(self, name):
        if name == "dynamic_frame":
            return sys._getframe()
        raise AttributeError(name)



@pytest.fixture
def deep():
    rt = lupa.LuaRuntime(sandbox=True)
    svc = Introspectable()
    rt.globals().svc = svc
    yield rt
    # close coroutine objects made by the tests (no "never awaited" warnings)
    import gc
    gc.collect()


INTROSPECTION = [
    ("return svc.items().gi_frame", "frame"),
    ("return svc.items().gi_frame.f_builtins", "frame"),
    ("return svc.items().gi_code", "code object"),
    ("local c = svc.co() local ok, f = pcall(function() return c.cr_frame end) c.close() "
     "error(f)", "frame"),
    ("local c = svc.co() local ok, f = pcall(function() return c.cr_code end) c.close() "
     "error(f)", "code object"),
    ("return svc.agen().ag_frame", "frame"),
    ("return svc.agen().ag_code", "code object"),
    ("return svc.frame()", "frame"),
    ("for f in python.iter(svc.frames()) do return f.f_back end", "frame"),
    ("return svc.items_by_name['frame']", "frame"),
    ("return svc.items_by_name.frame", "frame"),
    ("for k, v in python.iterex(python.as_attrgetter(svc.items_by_name).items()) do end",
     "frame"),
    ("return python.as_attrgetter(svc.items_by_name).values()", None),  # a view: fine ...
    ("for v in python.iter(python.as_attrgetter(svc.items_by_name).values()) do end",
     "frame"),  # ... its frame is not
    ("return svc.code()", "code object"),
    ("return svc.closure()", "closure cell"),
    ("return svc.traceback()", "traceback"),
    ("return svc.os", "module"),
    ("return svc.os.system", "module"),
    ("return svc.wrapped_frame()", "frame"),
    ("return svc.builtin('eval')", "builtin 'eval'"),
    ("return svc.builtin('exec')", "builtin 'exec'"),
    ("return svc.builtin('getattr')", "builtin 'getattr'"),
    ("return svc.builtin('__import__')", "builtin '__import__'"),
    ("return svc.builtin('open')", "builtin 'open'"),
    ("return svc.builtin('compile')", "builtin 'compile'"),
    ("return svc.builtin('globals')", "builtin 'globals'"),
    ("return svc.builtin('vars')", "builtin 'vars'"),
    ("return svc.builtin('breakpoint')", "builtin 'breakpoint'"),
    ("return svc.builtin('help')", "builtin 'help'"),
    ("return svc.builtin('exit')", "builtin 'exit'"),
    ("return svc.partial_eval().func", "builtin 'eval'"),
    ("local ok, e = pcall(svc.frame_in_error) return e.args[0]", "frame"),
    ("return svc.dynamic_frame", "frame"),
    ("return svc.lookup.frame", "frame"),
    ("return svc.lookup['frame']", "frame"),
    ("local ok, e = pcall(svc.failure) return e.__traceback__", "not allowed"),
    ("local ok, e = pcall(svc.failure) return e.__context__", "not allowed"),
    ("return svc.length.__self__", "not allowed"),
    ("return svc.items.__func__", "not allowed"),
    ("return svc.__reduce__()", "not allowed"),
    ("return svc.__reduce_ex__(2)", "not allowed"),
    ("return svc.items().__class__", "not allowed"),
]


@pytest.mark.parametrize("code,what", INTROSPECTION)
def test_introspection_objects_never_reach_lua(deep, code, what):
    if what is None:
        deep.execute(code)
        return
    with pytest.raises(Exception) as info:
        deep.execute(code)
    assert "not allowed in a sandbox" in str(info.value), str(info.value)
    assert what in str(info.value), str(info.value)
    assert deep.eval("1 + 1") == 2


def test_ordinary_results_still_reach_lua(deep):
    assert deep.execute("local n = 0 for x in python.iter(svc.items()) do n = n + x end "
                        "return n") == 1
    assert deep.eval("svc.length('abc')") == 3
    assert deep.eval("svc.items_by_name.ok") == 1
    assert deep.execute("local ok, e = pcall(svc.failure) return tostring(e)") == "boom"
    assert deep.execute("local ok, e = pcall(svc.failure) return e.args[0]") == "boom"
    assert deep.eval("svc.items().gi_running") is False


def permissive(obj, name, is_setting):
    return name


def test_own_filter_decides_names_but_not_introspection_objects():
    rt = lupa.LuaRuntime(sandbox=True, attribute_filter=permissive)
    rt.globals().svc = Introspectable()
    assert rt.eval("svc._token") == "secret"  # the filter lets private names through
    with pytest.raises(TypeError, match="a Python frame is not allowed in a sandbox"):
        rt.eval("svc.items().gi_frame")
    # Special names lead from any object to every other (`__class__.__base__.__subclasses__()`
    # to `os._wrap_close.__init__.__globals__['system']`): out of reach whatever the filter
    # returns.
    for code in [
        "return svc.__class__",
        "return svc.__class__.__base__.__subclasses__()",
        "local ok, e = pcall(svc.failure) return e.__traceback__",
        "return svc.length.__self__",
        "return svc.items.__func__.__code__",
        "return svc.closure.__func__.__globals__['sys']",
        "return svc.items.__func__.__globals__['__builtins__']['eval']",
        "return svc.__init__.__globals__",
        "return svc.__dict__",
        "return svc.__reduce_ex__(2)",
        "return svc.__getattribute__('_token')",
        "svc.__class__ = nil",
    ]:
        with pytest.raises(AttributeError) as info:
            rt.execute(code)
        assert "is not allowed in a sandbox" in str(info.value), (code, str(info.value))
    # Lua strings have no Python class to reach: indexing one is Lua's `string` table.
    assert rt.eval("('x').__class__") is None
    assert rt.eval("('x').format == string.format") is True


def test_a_filter_that_renames_to_a_special_name_is_refused_too():
    rt = lupa.LuaRuntime(sandbox=True, attribute_filter=lambda o, name, s: "__class__")
    rt.globals().svc = Introspectable()
    with pytest.raises(AttributeError, match="'__class__' is not allowed in a sandbox"):
        rt.eval("svc.anything")


def test_attribute_handlers_get_no_special_names():
    seen = []

    def getter(obj, name):
        seen.append(name)
        return getattr(obj, name)

    rt = lupa.LuaRuntime(sandbox=True, attribute_handlers=(getter, None))
    rt.globals().svc = Introspectable()
    for name in ["__class__", "__init__", "__dict__"]:
        with pytest.raises(AttributeError, match="is not allowed in a sandbox"):
            rt.eval(f"svc.{name}")
    assert seen == []
    assert rt.eval("svc._token") == "secret"


def test_special_names_outside_a_sandbox_are_the_filters_business():
    rt = lupa.LuaRuntime(attribute_filter=permissive)
    rt.globals().svc = Introspectable()
    assert rt.eval("svc.__class__.__name__") == "Introspectable"


def test_attribute_handlers_results_are_checked_too():
    def getter(obj, name):
        return getattr(obj, name)

    def setter(obj, name, value):
        setattr(obj, name, value)

    rt = lupa.LuaRuntime(sandbox=True, attribute_handlers=(getter, setter))
    rt.globals().svc = Introspectable()
    with pytest.raises(TypeError, match="a Python frame is not allowed in a sandbox"):
        rt.eval("svc.items().gi_frame")
    assert rt.eval("svc._token") == "secret"


def test_python_cannot_hand_introspection_objects_to_a_sandbox(lua):
    import os
    f = lua.eval("function(x) return x end")
    for value in [sys._getframe(), os, sys._getframe().f_code, eval, "{}".format]:
        with pytest.raises(TypeError, match="not allowed in a sandbox"):
            f(value)
        with pytest.raises(TypeError, match="not allowed in a sandbox"):
            lua.globals().x = value
        with pytest.raises(TypeError, match="not allowed in a sandbox"):
            lua.table_from([value])
    assert lua.eval("1 + 1") == 2


def test_outside_the_sandbox_python_objects_are_lupas():
    import os
    rt = lupa.LuaRuntime()
    rt.globals().svc = Introspectable()
    assert rt.eval("svc.items().gi_frame.f_builtins")["len"] is len
    assert rt.eval("svc.os") is os
    assert rt.eval("python.eval('1 + 1')") == 2
    with pytest.raises(lupa.LuaError, match="not a python object"):
        rt.eval("python.as_attrgetter('{0._token}')")


def test_objects_of_another_runtime_are_checked_too(lua):
    plain = lupa.LuaRuntime()
    lua.globals().L = [plain.eval("python.eval"), plain.eval("python.builtins"),
                       plain.eval("function() end")]
    for i, what in [(0, "builtin 'eval'"), (1, "module"), (2, "different Lua runtimes")]:
        with pytest.raises(Exception, match=what):
            lua.eval(f"L[{i}]")
    assert lua.eval("1 + 1") == 2
