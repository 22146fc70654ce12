"""lupa_rs: Lua 5.4 for Python, written in pure Rust, with the API of ``lupa``."""

from contextlib import AbstractContextManager
from typing import Any, Callable, Iterable, Iterator, Optional, Tuple, Union

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
__version__: str
"""This package's version (Cargo's)."""
LUA_VERSION: Tuple[int, int]
"""The Lua version, ``(5, 4)``."""
LUA_MAXINTEGER: int
LUA_MININTEGER: int

class LuaError(Exception):
    """An error raised by Lua code (or a failed call into Lua). Its message is lupa's: the
    error text with Lua's traceback appended, innermost call last."""

    value: Any
    """The Lua error object converted to Python (a table stays a Lua table)."""
    traceback: Optional[str]
    """The Lua traceback where the error was raised, innermost call first."""
    def __init__(self, message: str = "", value: Any = None, traceback: Optional[str] = None) -> None: ...

class LuaSyntaxError(LuaError): ...
class LuaMemoryError(LuaError, MemoryError): ...
class LuaTimeoutError(LuaError): ...
class LuaInterruptedError(LuaTimeoutError): ...

class _LuaTable:
    def __getitem__(self, key: Any) -> Any: ...
    def __setitem__(self, key: Any, value: Any) -> None: ...
    def __delitem__(self, key: Any) -> None: ...
    def __getattr__(self, name: str) -> Any: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Any]: ...
    def keys(self) -> Iterator[Any]: ...
    def values(self) -> Iterator[Any]: ...
    def items(self) -> Iterator[Tuple[Any, Any]]: ...
    def __call__(self, *args: Any) -> Any: ...

class _LuaFunction:
    def __call__(self, *args: Any) -> Any: ...
    def coroutine(self, *args: Any) -> "_LuaThread": ...

class _LuaThread:
    def __iter__(self) -> "_LuaThread": ...
    def __next__(self) -> Any: ...
    def send(self, value: Any) -> Any: ...
    def __call__(self, *args: Any) -> "_LuaThread": ...
    def __bool__(self) -> bool: ...

class _LuaUserData:
    def __getitem__(self, key: Any) -> Any: ...
    def __getattr__(self, name: str) -> Any: ...
    def __call__(self, *args: Any) -> Any: ...

class LuaRuntime:
    """A Lua 5.4 runtime: lupa's keywords, plus ``libraries``, ``sandbox`` and the limits
    (``max_instructions``, ``timeout``, ``max_call_depth``, ``max_coroutines``)."""

    def __new__(
        cls,
        encoding: Optional[str] = ...,
        source_encoding: Optional[str] = None,
        attribute_filter: Optional[Callable[[Any, str, bool], str]] = None,
        attribute_handlers: Optional[Tuple[Optional[Callable[..., Any]], Optional[Callable[..., Any]]]] = None,
        register_eval: bool = True,
        unpack_returned_tuples: bool = False,
        register_builtins: bool = True,
        overflow_handler: Optional[Callable[[int], Any]] = None,
        max_memory: Optional[int] = None,
        libraries: Optional[Iterable[str]] = None,
        sandbox: bool = False,
        max_instructions: Optional[int] = None,
        timeout: Optional[float] = None,
        max_call_depth: Optional[int] = None,
        max_coroutines: Optional[int] = None,
        string_hash_seed: Optional[int] = None,
    ) -> "LuaRuntime": ...
    max_instructions: Optional[int]
    timeout: Optional[float]
    max_call_depth: Optional[int]
    """Largest call depth of Lua code (Lua functions, library functions calling back into
    Lua and pcall levels, counting the coroutines that resume the running one); deeper
    calls raise the Lua error "stack overflow", which pcall can catch. None: only the
    built-in limit (about 125,000 frames)."""
    max_coroutines: Optional[int]
    """Largest number of live coroutines: created and neither finished nor collected;
    coroutine.create/wrap beyond it raise the Lua error "too many coroutines". Abandoned
    suspended coroutines count until the collector frees them (collectgarbage() does it at
    once). None: unlimited."""
    @property
    def instructions_used(self) -> int: ...
    def interrupt(self) -> None: ...
    def eval(
        self,
        code: Union[str, bytes],
        *args: Any,
        name: Optional[str] = None,
        mode: Optional[str] = None,
        env: Optional[_LuaTable] = None,
    ) -> Any: ...
    def execute(
        self,
        code: Union[str, bytes],
        *args: Any,
        name: Optional[str] = None,
        mode: Optional[str] = None,
        env: Optional[_LuaTable] = None,
    ) -> Any: ...
    def compile(self, code: Union[str, bytes], name: Optional[str] = None, mode: Optional[str] = None) -> _LuaFunction: ...
    def require(self, name: str) -> Any: ...
    def globals(self) -> _LuaTable: ...
    def table(self, *items: Any, **kwargs: Any) -> _LuaTable: ...
    def table_from(self, *sources: Any, recursive: bool = False) -> _LuaTable: ...
    def nogc(self) -> AbstractContextManager[None]:
        """A context manager that stops Lua's garbage collector inside its block."""
    def gccollect(self) -> None:
        """Runs a full garbage collection (and due finalizers)."""
    def get_memory_used(self, total: bool = False) -> Optional[int]:
        """Bytes Lua uses (``total``: with the runtime's own); ``None`` for a runtime made
        without ``max_memory``, as in lupa."""
    def get_max_memory(self, total: bool = False) -> Optional[int]:
        """The memory limit (0: none); ``None`` for a runtime made without ``max_memory``."""
    def set_max_memory(self, max_memory: Optional[int], total: bool = False) -> None:
        """Changes the memory limit (0: none); ``RuntimeError`` for a runtime made without
        ``max_memory``, as in lupa."""
    def set_overflow_handler(self, handler: Optional[Callable[[int], Any]]) -> None: ...
    @property
    def lua_version(self) -> Tuple[int, int]: ...
    @property
    def lua_implementation(self) -> str: ...

def lua_type(obj: Any) -> Optional[str]: ...
def as_attrgetter(obj: Any) -> Any: ...
def as_itemgetter(obj: Any) -> Any: ...
def unpacks_lua_table(func: Callable[..., Any]) -> Callable[..., Any]: ...
def unpacks_lua_table_method(meth: Callable[..., Any]) -> Callable[..., Any]: ...
def allow_lua_module_loading() -> AbstractContextManager[None]:
    """lupa's switch for loading binary Lua modules: there are none to load here (no C
    code), so it does nothing; it exists for code written for lupa."""
