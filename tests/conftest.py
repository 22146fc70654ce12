"""Shared set-up of the test suite.

Ctrl-C tests send SIGINT (or `_thread.interrupt_main`) to Python processes. A suite started
where SIGINT is ignored (a background job of a non-interactive shell, some CI runners) would
pass that on: Python leaves an ignored SIGINT ignored, and so would every child it starts. The
suite installs Python's own handler, so it and its children see Ctrl-C as a terminal user's
Python would.
"""

import signal

signal.signal(signal.SIGINT, signal.default_int_handler)
