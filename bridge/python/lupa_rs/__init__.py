"""lupa_rs: Lua 5.4 for Python, written in pure Rust, with the API of ``lupa``.

``import lupa_rs as lupa`` keeps lupa code working.
"""

import functools
from contextlib import contextmanager

from ._errors import (
    LuaError,
    LuaInterruptedError,
    LuaMemoryError,
    LuaSyntaxError,
    LuaTimeoutError,
)
from ._lupa_rs import (
    __version__,
    LUA_MAXINTEGER,
    LUA_MININTEGER,
    LUA_VERSION,
    as_attrgetter,
    as_itemgetter,
    lua_type,
)
from ._lupa_rs import LuaRuntime as _LuaRuntime


__all__ = [
    "LuaRuntime",
    "LuaError",
    "LuaSyntaxError",
    "LuaMemoryError",
    "LuaTimeoutError",
    "LuaInterruptedError",
    "lua_type",
    "as_attrgetter",
    "as_itemgetter",
    "unpacks_lua_table",
    "unpacks_lua_table_method",
    "LUA_VERSION",
    "LUA_MAXINTEGER",
    "LUA_MININTEGER",
    "allow_lua_module_loading",
    "__version__",
]


class LuaRuntime(_LuaRuntime):
    """A Lua 5.4 runtime (see lupa's documentation for the arguments and methods)."""

    @contextmanager
    def nogc(self):
        """Stops Lua's garbage collector inside the ``with`` block (in every runtime, with or
        without the base library or a sandbox); it runs again afterwards if it ran before."""
        was_running = self._gc_running()
        self._set_gc_running(False)
        try:
            yield
        finally:
            if was_running:
                self._set_gc_running(True)


@contextmanager
def allow_lua_module_loading():
    """lupa's switch for loading binary Lua modules (C extensions) with ``require``.

    lupa_rs runs no C code, so there are no binary modules to load: this context manager
    exists so that code written for lupa keeps working, and does nothing. Lua modules
    written in Lua load with ``require`` as always (``package.path``).
    """
    yield


def _unpack_table(args, kwargs):
    if len(args) == 1 and not kwargs and lua_type(args[0]) == "table":
        table = args[0]
        n = len(table)
        positional = [table[i] for i in range(1, n + 1)]
        named = {}
        for key, value in table.items():
            if isinstance(key, int) and 1 <= key <= n:
                continue
            named[key] = value
        return positional, named
    return list(args), kwargs


def unpacks_lua_table(func):
    """Lets Lua call ``func{a, b=2}``: a single table argument becomes positional (its
    sequence) and keyword (its other keys) arguments."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        args, kwargs = _unpack_table(args, kwargs)
        return func(*args, **kwargs)

    return wrapper


def unpacks_lua_table_method(meth):
    """Like :func:`unpacks_lua_table`, for methods (``self`` is left alone)."""

    @functools.wraps(meth)
    def wrapper(self, *args, **kwargs):
        args, kwargs = _unpack_table(args, kwargs)
        return meth(self, *args, **kwargs)

    return wrapper
