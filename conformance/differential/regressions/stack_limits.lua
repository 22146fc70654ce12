-- Library functions that push many values check C Lua's stack limit (luaL_checkstack),
-- and so does a vararg expression: errors instead of pushing millions of values.
local s = string.rep('x', 10000000)
print(pcall(string.byte, s, 1, -1))
print(pcall(utf8.codepoint, s, 1, -1))
print(pcall(table.unpack, {}, 1, 1e7))
print(select('#', pcall(string.byte, s, 1, 999000)))
print(select('#', pcall(string.byte, s, 1, 999990)))
print(select('#', pcall(table.unpack, {}, 1, 999990)))
print(select('#', pcall(table.unpack, {}, 1, 999000)))
local function f(...) return select('#', ...) end
print(pcall(f, table.unpack({}, 1, 999000)))
print(pcall(string.rep, 'x', 1e10))
print(select('#', pcall(string.char, string.byte(s, 1, 999000))))
