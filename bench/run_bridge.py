#!/usr/bin/env python3
"""Python<->Lua costs: lupa_rs against lupa.lua54 (from PyPI), measured in the same run.

    python3 bench/run_bridge.py [--repeat 5]

Prints ns per operation for each library and the ratio lupa_rs / lupa (lower is better), then
the geometric mean. Each figure is the best of --repeat timings, and the two libraries take
turns (lupa, lupa_rs, lupa, ...) so that a burst of load elsewhere on this noisy machine hits
both alike.
"""

import argparse
import math
import time

import lupa.lua54 as lupa54

import lupa_rs


class Obj:
    def __init__(self):
        self.attr = 1


def py_add1(n):
    return n + 1


def setup(mod):
    lua = mod.LuaRuntime()
    s = {
        "lua": lua,
        "lua_f": lua.eval("function(x) return x end"),
        "call_py": lua.eval("function(f, n) for i = 1, n do f(i) end end"),
        "attr": lua.eval("function(o, n) local s = 0 for i = 1, n do s = s + o.attr end return s end"),
        "t": lua.eval("{x = 1}"),
        "big": lua.eval("(function() local t = {} for i = 1, 1000000 do t[i] = i end return t end)()"),
        "ints": list(range(100000)),
        "co_f": lua.eval("function() while true do coroutine.yield(1) end end"),
        "reenter": lua.eval("function(f, g, n) for i = 1, n do f(g, i) end end"),
        "lua_id": lua.eval("function(x) return x end"),
        "mod": mod,
        "small": mod.LuaRuntime(),
    }
    return s


def op_call_lua(s, n):
    f = s["lua_f"]
    for i in range(n):
        f(i)


def op_call_py(s, n):
    s["call_py"](py_add1, n)


def op_table_read(s, n):
    t = s["t"]
    for _ in range(n):
        t["x"]


def op_table_write(s, n):
    t = s["t"]
    for i in range(n):
        t["x"] = i


def op_items(s, n):
    for _ in range(max(1, n // 1000000)):
        for _ in s["big"].items():
            pass


def op_table_from(s, n):
    for _ in range(max(1, n // 100000)):
        s["lua"].table_from(s["ints"])


def op_table_from_short(s, n):
    lua, items = s["lua"], [1, 2, 3]
    for _ in range(n):
        lua.table_from(items)


def op_pass_objects(s, n):
    f, o = s["lua_f"], Obj()
    for _ in range(n):
        f(o)


def op_gccollect_small(s, n):
    lua = s["small"]
    for _ in range(n):
        lua.gccollect()


def op_eval(s, n):
    lua = s["lua"]
    for _ in range(n):
        lua.eval("1+1")


def op_new_runtime(s, n):
    for _ in range(n):
        s["mod"].LuaRuntime()


def op_coroutine(s, n):
    co = s["co_f"].coroutine()
    for _ in range(n):
        co.send(None)


def call_back(g, i):
    return g(i)


def op_reenter(s, n):
    s["reenter"](call_back, s["lua_id"], n)


def op_attr(s, n):
    s["attr"](Obj(), n)


OPS = [
    ("call a Lua function from Python", op_call_lua, 100000, 1),
    ("call a Python function from Lua", op_call_py, 100000, 1),
    ("read a table field from Python", op_table_read, 100000, 1),
    ("write a table field from Python", op_table_write, 100000, 1),
    ("iterate items() of a 1e6 table (per item)", op_items, 1000000, 1),
    ("table_from a 1e5-int list (per item)", op_table_from, 100000, 1),
    ("table_from a 3-item list", op_table_from_short, 100000, 1),
    ("pass a Python object to a Lua function", op_pass_objects, 100000, 1),
    ("gccollect() of a small runtime", op_gccollect_small, 2000, 1),
    ("eval of a tiny expression", op_eval, 20000, 1),
    ("create a runtime", op_new_runtime, 200, 1),
    ("coroutine send round trip", op_coroutine, 50000, 1),
    ("attribute access on a Python object from Lua", op_attr, 100000, 1),
    ("Lua calls Python, which calls Lua (round trip)", op_reenter, 100000, 1),
]


def timed(s, fn, n):
    t0 = time.perf_counter()
    fn(s, n)
    return time.perf_counter() - t0


def measure(ref, ours, fn, n, repeat):
    """Best ns per operation of each library, measured in turns."""
    best_ref = best_ours = math.inf
    for _ in range(repeat):
        best_ref = min(best_ref, timed(ref, fn, n))
        best_ours = min(best_ours, timed(ours, fn, n))
    return best_ref / n * 1e9, best_ours / n * 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply iteration counts")
    args = ap.parse_args()
    ours, ref = setup(lupa_rs), setup(lupa54)
    rows = []
    for name, fn, n, _ in OPS:
        n = max(1, int(n * args.scale))
        a, b = measure(ref, ours, fn, n, args.repeat)
        rows.append((name, a, b, b / a))
    print("| operation | lupa.lua54 (ns) | lupa_rs (ns) | ratio |")
    print("|---|---:|---:|---:|")
    for name, a, b, r in rows:
        print(f"| {name} | {a:.0f} | {b:.0f} | {r:.2f} |")
    gm = math.exp(sum(math.log(r) for *_, r in rows) / len(rows))
    print(f"| **geometric mean** | | | **{gm:.2f}** |")


if __name__ == "__main__":
    main()
