# lupa_rs.lua54 is the same API as lupa_rs.
from . import *
from . import __version__ as __version__
