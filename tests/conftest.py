"""Shared set-up of the test suite.

Ctrl-C tests send SIGINT (or `_thread.interrupt_main`) to Python processes. A suite started
where SIGINT is ignored (a background job of a non-interactive shell, some CI runners) would
pass that on: Python leaves an ignored SIGINT ignored, and so would every child it starts. The
suite installs Python's own handler, so it and its children see Ctrl-C as a terminal user's
Python would.

In Pyodide (``sys.platform == "emscripten"``) there are no processes and no threads: the
tests that need them are marked ``requires_processes`` and ``requires_threads`` and skip
there, saying why.
"""

import signal
import sys

import pytest

ON_EMSCRIPTEN = sys.platform == "emscripten"

#: The test starts a Python process (Ctrl-C, exit codes, crashes kept out of the suite).
requires_processes = pytest.mark.skipif(
    ON_EMSCRIPTEN, reason="emscripten (Pyodide) cannot start processes"
)
#: The test starts threads.
requires_threads = pytest.mark.skipif(
    ON_EMSCRIPTEN, reason="emscripten (Pyodide) cannot start threads"
)

if not ON_EMSCRIPTEN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
