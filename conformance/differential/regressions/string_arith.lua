-- Arithmetic on strings goes through the string metatable's metamethods (lstrlib.c): the
-- conversions, the messages ("attempt to add a 'string' with a 'number'"), the position of
-- errors raised inside them, and what happens without them.
local function show(...) print(select("#", ...), ...) end
show(pcall(function() return "10" + 1, "0x10" * "2", -"2", "1e1" // 1, "3" % "2", "2" ^ "3" end))
show(pcall(function() local a = "x" return -a end))
show(pcall(function() return "abc" + 1 end))
show(pcall(function() return 1 + "abc" end))
show(pcall(function() return "abc" + {} end))
show(pcall(function() return {} + "abc" end))
show(pcall(function() return "10\0" + 1 end))
show(pcall(function() return "1" // "0" end))
show(pcall(function() return "1" % 0 end))
show(pcall(function() local t = setmetatable({}, {__add = function(a, b) return "mt" end}) return "abc" + t, t + "abc" end))
show(pcall(function() return "10" & 1 end))
show(pcall(function() local s = "abc" return s | 1 end))
show(getmetatable("").__add("3", 4), getmetatable("").__unm("3", "3"))
show(pcall(function() local t = {1.5} return 1 << t[1] end))
show(pcall(function() local t = {(0/0)} return ~t[1] end))
show(pcall(function() local t = {"\255\0abc"} return t[1] & 1 end))
getmetatable("").__add = nil
show(pcall(function() return "1" + 1 end))
