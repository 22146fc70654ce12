"""The `bridge` fuzz target: Python values and calls crossing into Lua and back.

libFuzzer's bytes (through atheris) choose a runtime (encoding, limits, handlers, sandbox),
then a short program of operations on it: Python values of any shape (big integers, NaN,
surrogates, bytes, nested and cyclic containers, callables, objects) converted by
`table_from`, `table`, calls and returns, Lua code run on them (`python.*`, indexing,
iteration, metamethods, coroutines), table wrappers used from Python, collections.

What must hold, whatever the input:
- no crash, no abort, no Rust panic (pyo3's `PanicException` is a `BaseException`, so it
  escapes the `except Exception` below and atheris reports it, as it reports a crash);
- round trips keep values: integers of 64 bits, floats (NaN too), text, Python objects by
  identity;
- after any error (a memory error, a stop) the runtime runs the next call.

Run through `conformance/fuzz/run.sh bridge` (atheris in the project's .venv); one input:
`.venv/bin/python conformance/fuzz/python/bridge.py FILE`.
"""

import math
import sys

import atheris

with atheris.instrument_imports():
    import lupa_rs
    from lupa_rs import LuaError, LuaRuntime

ENCODINGS = ["utf-8", None, "latin-1"]

NO_HOST = b"local python, os, io, require, load, loadfile, dofile, package, debug; "

LUA_FUNCTIONS = [
    "function(...) return ... end",
    "function(x) return type(x), tostring(x) end",
    "function(x) return python.type and python.type(x) end",
    "function(x) local n = 0 for k, v in python.iterex(python.iter(x)) do n = n + 1 end return n end",
    "function(x) local n = 0 for i, v in python.enumerate(x) do n = n + 1 end return n end",
    "function(x) local r = {} for k, v in pairs(x) do r[#r + 1] = k end return r end",
    "function(x) return #x end",
    "function(x, k) return x[k] end",
    "function(x, k, v) x[k] = v return x[k] end",
    "function(x) return python.as_attrgetter(x) end",
    "function(x) return python.as_itemgetter(x) end",
    "function(x) return python.as_function(x) end",
    "function(x, ...) return x(...) end",
    "function(x) return x.real, x.imag end",
    "function(x) return table.unpack(x) end",
    "function(x) return table.concat(x, ',') end",
    "function(x) return string.format('%s %q', x, 1) end",
    "function(x) return x .. '' end",
    "function(x) return x + 1, x // 2, x % 3 end",
    "function(x) return math.type(x), x == x end",
    "function(x) local t = setmetatable({}, {__index = x}) return t[1] end",
    "function(x) return coroutine.wrap(function(...) coroutine.yield(...) return x end)(x) end",
    "function(x) return pcall(error, x) end",
    "function(x) collectgarbage() return x end",
    "function(x) local t = {} for i = 1, 100 do t[i] = {x} end return t end",
    "function(x) return setmetatable({}, {__gc = function() return x end}) end",
    "function(x) return python.eval('1') end",
    "function(x) return python.builtins.len(x) end",
    "function(x) return string.rep(tostring(x), 1000) end",
    "function(x) return python.none, python.args and python.args(x) end",
]


class Obj:
    """A Python object with attributes, items and a call."""

    def __init__(self, v):
        self.v = v
        self._private = "hidden"

    def __getitem__(self, k):
        # A sequence of 3 (iteration stops): an endless one fills max_memory, which takes
        # seconds at 64 MB and is tested on its own (tests/test_native_stack_and_memory.py).
        if isinstance(k, int) and not 0 <= k < 3:
            raise IndexError(k)
        return self.v

    def __call__(self, *args):
        return args

    def __len__(self):
        return 3


@atheris.instrument_func
def py_value(fdp, depth, pool):
    """A Python value chosen by the input; containers go to `pool` for sharing and cycles."""
    kind = fdp.ConsumeIntInRange(0, 15 if depth < 4 else 8)
    if kind == 0:
        return None
    if kind == 1:
        return fdp.ConsumeBool()
    if kind == 2:
        return fdp.ConsumeIntInRange(-(2**63), 2**63 - 1)
    if kind == 3:
        return fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 24))
    if kind == 4:
        return fdp.ConsumeRegularFloat() if fdp.ConsumeBool() else fdp.ConsumeFloat()
    if kind == 5:
        return fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 40))
    if kind == 6:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 40))
    if kind == 7:
        return pool[fdp.ConsumeIntInRange(0, len(pool) - 1)] if pool else None
    if kind == 8:
        return fdp.PickValueInList([len, repr, Obj, abs, str.upper, lambda *a: a, iter])
    n = fdp.ConsumeIntInRange(0, 6)
    if kind in (9, 10):
        items = []
        pool.append(items)
        for _ in range(n):
            items.append(py_value(fdp, depth + 1, pool))
        if kind == 10:
            t = tuple(items)
            pool.append(t)
            return t
        return items
    if kind in (11, 12):
        d = {}
        pool.append(d)
        for _ in range(n):
            k = py_value(fdp, depth + 1, pool)
            try:
                d[k] = py_value(fdp, depth + 1, pool)
            except TypeError:  # an unhashable key
                pass
        return d
    if kind == 13:
        return Obj(py_value(fdp, depth + 1, pool))
    if kind == 14:
        return range(fdp.ConsumeIntInRange(-3, 50))
    return iter(list(range(fdp.ConsumeIntInRange(0, 5))))


@atheris.instrument_func
def make_runtime(fdp):
    kw = {"encoding": fdp.PickValueInList(ENCODINGS)}
    if fdp.ConsumeBool():
        kw["unpack_returned_tuples"] = True
    # Always limited: what the input runs must end, in memory the fuzzer allows.
    kw["max_memory"] = fdp.ConsumeIntInRange(1, 4 << 20) if fdp.ConsumeBool() else 64 << 20
    kw["max_instructions"] = fdp.ConsumeIntInRange(1, 200_000) if fdp.ConsumeBool() else 10**6
    if fdp.ConsumeBool():
        kw["max_call_depth"] = fdp.ConsumeIntInRange(1, 300)
    if fdp.ConsumeBool():
        kw["sandbox"] = True
    if fdp.ConsumeBool():
        kw["register_eval"] = False
    choice = fdp.ConsumeIntInRange(0, 3)
    if choice == 1:
        kw["overflow_handler"] = float
    elif choice == 2:
        kw["overflow_handler"] = str
    elif choice == 3:
        kw["attribute_filter"] = lambda o, name, setting: name
    lua = LuaRuntime(**kw)
    if fdp.ConsumeBool():
        try:
            lua.execute("python.set_overflow_handler(function(x) return tostring(x) end)")
        except LuaError:
            pass
    return lua, kw


def same(a, b):
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b and type(a) is type(b)


@atheris.instrument_func
def check_round_trip(lua, kw, v, r):
    """What a call of `function(...) return ... end` must give back."""
    if isinstance(v, bool) or v is None:
        assert r is v, (v, r)
    elif isinstance(v, int) and -(2**63) <= v < 2**63:
        assert same(v, r), (v, r)
    elif isinstance(v, float):
        assert same(v, r), (v, r)
    elif isinstance(v, str) and kw["encoding"] == "utf-8":
        assert same(v, r), (v, r)
    elif isinstance(v, bytes) and kw["encoding"] is None:
        assert same(v, r), (v, r)
    elif isinstance(v, (list, dict, Obj)):
        assert r is v, (v, r)


@atheris.instrument_func
def one_op(lua, kw, fdp, values, tables):
    op = fdp.ConsumeIntInRange(0, 11)
    v = fdp.PickValueInList(values)
    if op == 0:
        f = lua.eval(LUA_FUNCTIONS[0])
        r = f(v)
        if not (isinstance(v, tuple) and kw.get("unpack_returned_tuples")):
            check_round_trip(lua, kw, v, r)
    elif op == 1:
        tables.append(lua.table_from(v, recursive=fdp.ConsumeBool()))
    elif op == 2:
        tables.append(lua.table(*(v if isinstance(v, (list, tuple)) else [v])))
    elif op == 3:
        src = fdp.PickValueInList(LUA_FUNCTIONS)
        f = lua.eval(src)
        r = f(v, fdp.PickValueInList(values), fdp.PickValueInList(values))
        if isinstance(r, tuple):
            values.extend(r[:3])
        else:
            values.append(r)
    elif op == 4 and tables:
        t = fdp.PickValueInList(tables)
        t[v] = fdp.PickValueInList(values)
        values.append(t[v])
    elif op == 5 and tables:
        t = fdp.PickValueInList(tables)
        values.append(len(t))
        values.extend(list(t.items())[:5])
    elif op == 6 and tables:
        t = fdp.PickValueInList(tables)
        del t[v]
    elif op == 7:
        lua.globals()[fdp.ConsumeUnicode(4)] = v
    elif op == 8:
        lua.gccollect()
    elif op == 9:
        # Lua code of the input's own, with no way to the host's files or Python.
        code = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 120))
        r = lua.execute(NO_HOST + code)
        values.append(r)
    elif op == 10:
        co = lua.eval("coroutine.wrap(function(...) local a = ... while true do a = coroutine.yield(a) end end)")
        values.append(co(v))
        values.append(co(fdp.PickValueInList(values)))
    elif op == 11:
        f = lua.eval(fdp.PickValueInList(LUA_FUNCTIONS))
        values.append(f.coroutine(v))
        t = values[-1]
        for r in t:
            values.append(r)
            break


def test_one_input(data):
    fdp = atheris.FuzzedDataProvider(data)
    try:
        lua, kw = make_runtime(fdp)
    except (LuaError, ValueError, TypeError):
        return
    pool = []
    values = [py_value(fdp, 0, pool) for _ in range(fdp.ConsumeIntInRange(1, 4))]
    tables = []
    for _ in range(fdp.ConsumeIntInRange(1, 8)):
        try:
            one_op(lua, kw, fdp, values, tables)
        except Exception:  # a Lua error, a TypeError, a UnicodeError...: never a panic
            pass
        finally:
            if len(values) > 50:
                del values[4:]
    # After whatever happened, the runtime runs the next call (with room to spare for it).
    lua.set_max_memory(None)
    lua.max_instructions = None
    assert lua.eval("1 + 1") == 2


def main():
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
