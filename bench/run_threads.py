#!/usr/bin/env python3
"""Parallel runtimes: lupa_rs against lupa.lua54 (from PyPI), measured in the same run.

    python3 bench/run_threads.py [--size 640] [--threads 2] [--repeat 3]

Each library computes a Mandelbrot bitmap of --size x --size pixels, split by rows into
--threads parts, one LuaRuntime per part (lupa's README threading example): first all parts
one after the other on one thread, then each part on its own thread at once. It prints the
best time of --repeat runs of each and the speedup (sequential time / threaded time: the work
done in parallel per unit of work done alone; at most --threads, and only as many cores as the
machine has free). The two libraries take turns, and both must produce the same bitmap.
"""

import argparse
import threading
import time

import lupa.lua54 as lupa54

import lupa_rs

# Rows first..last of an n x n bitmap (8 pixels per byte), as a byte string.
MANDELBROT = """
function(n, first, last)
  local bytes, out = {}, {}
  for y = first, last do
    local ci = 2 * y / n - 1
    local byte, bits = 0, 0
    for x = 0, n - 1 do
      local cr = 2 * x / n - 1.5
      local zr, zi, inside = 0.0, 0.0, 1
      for _ = 1, 50 do
        local zr2, zi2 = zr * zr, zi * zi
        if zr2 + zi2 > 4.0 then inside = 0 break end
        zi = 2 * zr * zi + ci
        zr = zr2 - zi2 + cr
      end
      byte, bits = byte * 2 + inside, bits + 1
      if bits == 8 then bytes[#bytes + 1] = byte byte, bits = 0, 0 end
    end
    if bits > 0 then bytes[#bytes + 1] = byte << (8 - bits) end
    if #bytes >= 4096 then
      out[#out + 1] = string.char(table.unpack(bytes))
      bytes = {}
    end
  end
  out[#out + 1] = string.char(table.unpack(bytes))
  return table.concat(out)
end
"""


def parts(size, threads):
    """The row ranges of each thread's part."""
    step = -(-size // threads)
    return [(i * step, min(size, (i + 1) * step) - 1) for i in range(threads)]


def functions(mod, threads):
    """One Mandelbrot function per runtime, a runtime per part."""
    return [mod.LuaRuntime(encoding=None).eval(MANDELBROT) for _ in range(threads)]


def sequential(funcs, size, ranges):
    t0 = time.perf_counter()
    out = [f(size, a, b) for f, (a, b) in zip(funcs, ranges)]
    return time.perf_counter() - t0, b"".join(out)


def threaded(funcs, size, ranges):
    out = [None] * len(funcs)

    def work(i):
        a, b = ranges[i]
        out[i] = funcs[i](size, a, b)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(len(funcs))]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0, b"".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=640)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    ranges = parts(a.size, a.threads)
    libs = {"lupa.lua54": lupa54, "lupa_rs": lupa_rs}
    funcs = {name: functions(mod, a.threads) for name, mod in libs.items()}
    best = {(name, how): float("inf") for name in libs for how in ("seq", "par")}
    images = set()
    for _ in range(a.repeat):
        for name in libs:
            for how, run in (("seq", sequential), ("par", threaded)):
                t, image = run(funcs[name], a.size, ranges)
                best[name, how] = min(best[name, how], t)
                images.add(image)
    if len(images) != 1:
        raise SystemExit("the bitmaps differ between libraries or runs")
    print(f"Mandelbrot {a.size}x{a.size}, {a.threads} runtimes, best of {a.repeat}")
    for name in libs:
        seq, par = best[name, "seq"], best[name, "par"]
        print(
            f"{name:<11} one thread {seq:6.3f}s  {a.threads} threads {par:6.3f}s"
            f"  speedup {seq / par:4.2f}x"
        )


if __name__ == "__main__":
    main()
