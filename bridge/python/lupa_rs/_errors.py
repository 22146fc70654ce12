"""The exceptions of lupa_rs (defined in Python so that ``LuaMemoryError`` can also be a
``MemoryError``)."""


class LuaError(Exception):
    """An error raised by Lua code (or a failed call into Lua).

    ``value`` is the Lua error object converted to Python (a table stays a Lua table), and
    ``traceback`` the Lua traceback where the error was raised, if known.
    """

    def __init__(self, message="", value=None, traceback=None):
        super().__init__(message)
        self.value = value
        self.traceback = traceback


class LuaSyntaxError(LuaError):
    """Lua code that does not compile."""


class LuaMemoryError(LuaError, MemoryError):
    """Lua ran out of the memory it may use (``max_memory``)."""


class LuaTimeoutError(LuaError):
    """A call into Lua stopped by the runtime's limits (``max_instructions`` or
    ``timeout``). Lua code cannot catch it (not with ``pcall``, ``xpcall``, coroutines or
    ``__close``); the runtime stays usable."""


class LuaInterruptedError(LuaTimeoutError):
    """A call into Lua stopped by ``LuaRuntime.interrupt()`` (from another thread, say)."""
