"""Lua's io library on files, in every mode C's fopen takes: what each may read and write,
where writes go (append modes write at the end), and what the file holds after, read back
from Python. The same on every platform the package runs on (Pyodide's emscripten file
system too, where a file's reader and writer must share one handle)."""

import pytest

import lupa_rs as lupa


@pytest.fixture
def lua():
    return lupa.LuaRuntime()


MODES = ["r", "w", "a", "r+", "w+", "a+", "rb", "wb", "ab", "r+b", "w+b", "a+b"]

# mode -> (first 3 bytes read, whether writing works, the file after writing "AB" at 1)
EXPECTED = {
    "r": ("012", False, b"0123456789"),
    "w": (None, True, b"\0AB"),
    "a": (None, True, b"0123456789AB"),
    "r+": ("012", True, b"0AB3456789"),
    "w+": (None, True, b"\0AB"),
    "a+": ("012", True, b"0123456789AB"),
}


@pytest.mark.parametrize("mode", MODES)
def test_every_fopen_mode(lua, tmp_path, mode):
    path = tmp_path / "f.txt"
    path.write_bytes(b"0123456789")
    run = lua.eval(
        """function(name, mode)
          local f = assert(io.open(name, mode))
          local r = f:read(3)
          f:seek("set", 1)
          local w = f:write("AB")
          f:close()
          return r, w ~= nil
        end"""
    )
    read, wrote = run(str(path), mode)
    want_read, want_write, want_content = EXPECTED[mode.replace("b", "")]
    assert (read, wrote) == (want_read, want_write)
    assert path.read_bytes() == want_content


def test_reads_and_writes_in_turn_share_one_position(lua, tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"hello")
    run = lua.eval(
        """function(name)
          local f = assert(io.open(name, "r+"))
          local a = f:read(2)
          f:seek("cur", 0)
          f:write("LL")
          f:seek("set", 0)
          local all = f:read("a")
          f:close()
          return a, all
        end"""
    )
    assert run(str(path)) == ("he", "heLLo")


def test_tmpfile_and_lines(lua, tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("one\ntwo\nthree\n")
    count = lua.eval(
        "function(name) local n = 0 for l in io.lines(name) do n = n + #l end return n end"
    )
    assert count(str(path)) == 11
    assert lua.eval("(function() local t = io.tmpfile() t:write('x') t:seek('set') return t:read('a') end)()") == "x"


def test_bad_modes_are_argument_errors(lua):
    with pytest.raises(lupa.LuaError, match="invalid mode"):
        lua.eval("io.open('x', 'rw')")
