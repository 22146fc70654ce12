"""``import lupa_rs.lua54 as lupa``: the same API (lupa_rs always runs Lua 5.4)."""

from . import *  # noqa: F401,F403
from . import __all__, __version__  # noqa: F401
