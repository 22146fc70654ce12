"""Many threads on one runtime, and many runtimes on many threads: calls interleave at
random, results stay consistent, nothing deadlocks or crashes."""

import random
import threading
import time

import lupa_rs as lupa
from conftest import requires_threads


def run_threads(target, n):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"


@requires_threads
def test_many_threads_share_one_runtime():
    lua = lupa.LuaRuntime()
    lua.execute("""
        counter = 0
        function bump(n) for i = 1, n do counter = counter + 1 end return counter end
        function work(n, cb) local s = 0 for i = 1, n do s = s + i end return cb(s) end
    """)
    bump, work, table = lua.eval("bump"), lua.eval("work"), lua.table()
    errors = []

    def worker(seed):
        rnd = random.Random(seed)
        try:
            for _ in range(200):
                op = rnd.randrange(4)
                if op == 0:
                    bump(rnd.randrange(1, 50))
                elif op == 1:
                    n = rnd.randrange(1, 20000)
                    assert work(n, lambda s: s * 2) == n * (n + 1)
                elif op == 2:
                    table[seed * 1000 + rnd.randrange(1000)] = seed
                else:
                    assert lua.eval("1 + 1") == 2
                if rnd.random() < 0.05:
                    time.sleep(0.001)
        except BaseException as e:  # reported below
            errors.append(e)

    bumps_before = lua.eval("counter")
    run_threads(worker, 8)
    assert errors == []
    assert lua.eval("counter") >= bumps_before
    # every write landed, and each thread only wrote its own keys
    for k, v in table.items():
        assert k // 1000 == v


@requires_threads
def test_counter_is_exact_under_contention():
    lua = lupa.LuaRuntime()
    lua.execute("n = 0 function inc() n = n + 1 end")
    inc = lua.eval("inc")

    def worker(_):
        for _ in range(2000):
            inc()

    run_threads(worker, 6)
    assert lua.eval("n") == 12000


@requires_threads
def test_runtimes_in_parallel_threads_are_independent():
    results = {}

    def worker(i):
        lua = lupa.LuaRuntime()
        lua.execute(f"x = {i}")
        total = lua.eval("(function() local s = 0 for k = 1, 200000 do s = s + k end return s end)()")
        results[i] = (lua.eval("x"), total)

    run_threads(worker, 8)
    assert results == {i: (i, 200000 * 200001 // 2) for i in range(8)}


@requires_threads
def test_lua_calls_python_calls_lua_across_threads():
    lua = lupa.LuaRuntime()
    square = lua.eval("function(x) return x * x end")
    twice = lua.eval("function(f, x) return f(f(x)) end")
    errors = []

    def worker(i):
        try:
            for k in range(100):
                assert twice(lambda v: square(v), 2 + (i + k) % 3) == (2 + (i + k) % 3) ** 4
        except BaseException as e:
            errors.append(e)

    run_threads(worker, 6)
    assert errors == []
