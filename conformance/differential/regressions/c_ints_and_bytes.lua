-- Where C Lua's libraries take `int`s (levels, counts) huge integers wrap to 32 bits; strings
-- handed to C as C strings end at a zero byte (options, modes, chunk names, messages); two
-- NaNs multiply to the first one; pairs takes any value and returns its own next.
print(pcall(error, "x", (1 << 53) + 1))
print(pcall(function() error("x", (1 << 32) + 1) end))
print(debug.getinfo((1 << 32) + 1, "l").currentline)
print(pcall(collectgarbage, "collect\0x"), pcall(collectgarbage, "\255\0"))
print(load("return 1", "name\0hidden"))
print(load("x = ", "chunk\0rest"))
print(load("return 1", "=c", "b\0t"))
print(pcall(string.pack, "\255"))
print(pcall(string.rep, "x", -1, "\0"))
local a, b = 0/0, -(0/0)
print(a * b, b * a, a + b, b + a, a - b, a / b)
print(pairs(5) == next, select("#", pairs(5)))
local oldnext = next
next = nil
print(pairs({}) == oldnext)
next = oldnext
print(pcall(math.fmod), pcall(package.searchpath))
print(string.format("%5.2s|%-6.3s|", "abcdef", tostring(nil)))
