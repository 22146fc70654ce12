"""``import lupa_rs.lua54 as lupa``: the same API as ``lupa_rs`` (always Lua 5.4)."""

from . import *
from . import __all__ as __all__
from . import __version__ as __version__
