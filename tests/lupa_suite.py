#!/usr/bin/env python3
"""Runs lupa's own test suite (``lupa/tests`` from the PyPI sdist of lupa 2.8, fetched and
cached by ``conformance/oracle.py``, never committed) with lupa_rs posing as ``lupa`` and as
``lupa.lua54``.

A shim package ``lupa`` (in ``tests/.cache/lupa-shim``) re-exports ``lupa_rs``; lupa's tests
then run as they would against lupa's own build, every ``LupaTestCase`` once per module. A
test is skipped only when it needs what cannot exist without C, and ``SKIPS`` below says
why. Exit status 0 when everything else passes.

usage: lupa_suite.py [-v] [-k SUBSTRING]
"""
import argparse
import pathlib
import shutil
import sys
import unittest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
SHIM = HERE / ".cache" / "lupa-shim"

sys.path.insert(0, str(ROOT / "conformance"))
import oracle  # noqa: E402

# Test name (method name, or Class.method) -> why it cannot run without C. None today.
# (lupa's TestFastRLock, 11 tests per module, skips itself: it tests lupa's lock written in
# C, `lupa._fastrlock`, an implementation detail that is not part of lupa's API; lupa.lua54
# from PyPI skips them too. `SELF_SKIPPED` below is what the run may skip on its own.)
SKIPS = {
}
SELF_SKIPPED = {"No FastRLock implementation found"}
# In Pyodide (emscripten) no thread starts: lupa's threading tests cannot run there.
NO_THREADS = "emscripten (Pyodide) cannot start threads"

SHIM_INIT = '''"""lupa_rs posing as lupa, for lupa's own test suite."""
import lupa_rs as _impl
from lupa_rs import *  # noqa: F401,F403
from lupa_rs import __all__, __version__  # noqa: F401
import lupa_rs.lua54  # noqa: F401
'''
SHIM_LUA54 = '''"""lupa_rs.lua54 posing as lupa.lua54."""
from lupa_rs.lua54 import *  # noqa: F401,F403
from lupa_rs.lua54 import __all__, __version__  # noqa: F401
'''


def make_shim():
    """The shim package with lupa 2.8's tests inside (rebuilt each run: cheap)."""
    pkg = SHIM / "lupa"
    if pkg.exists():
        shutil.rmtree(pkg)
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(SHIM_INIT)
    (pkg / "lua54.py").write_text(SHIM_LUA54)
    oracle.extract("lupa/tests", pkg / "tests")
    return SHIM


def apply_skips(suite):
    for test in iter_tests(suite):
        name = test._testMethodName
        qual = type(test).__name__.rsplit("_", 1)[0] + "." + name
        reason = SKIPS.get(qual) or SKIPS.get(name)
        if sys.platform == "emscripten" and type(test).__name__.startswith("TestThreading"):
            reason = NO_THREADS
        if reason:
            setattr(test, name, unittest.skip(reason)(getattr(test, name)))


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-v", action="store_true")
    ap.add_argument("-k", action="append", default=[])
    a = ap.parse_args()
    sys.path.insert(0, str(make_shim()))
    import lupa  # noqa: F401  (the shim)
    loader = unittest.TestLoader()
    if a.k:
        loader.testNamePatterns = [f"*{k}*" for k in a.k]
    suite = loader.loadTestsFromName("lupa.tests.test")
    apply_skips(suite)
    result = unittest.TextTestRunner(verbosity=2 if a.v else 1).run(suite)
    print(f"lupa's suite: {result.testsRun} run, {len(result.failures)} failures, "
          f"{len(result.errors)} errors, {len(result.skipped)} skipped")
    allowed = SELF_SKIPPED | set(SKIPS.values()) | {NO_THREADS}
    unexpected = sorted({why for _, why in result.skipped} - allowed)
    for why in unexpected:
        print(f"unexpected skip: {why}")
    if result.testsRun == 0:
        print("no tests ran")
        return 1
    return 0 if result.wasSuccessful() and not unexpected else 1


if __name__ == "__main__":
    sys.exit(main())
