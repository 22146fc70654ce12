-- Values, arithmetic, strings and tables: self-checking, deterministic output.
assert(1 == 1.0 and math.type(1) == "integer" and math.type(1.0) == "float")
assert(7 // 2 == 3 and -7 // 2 == -4 and 7 % -3 == -2 and -7 % 3 == 2)
assert(math.mininteger % -1 == 0 and math.mininteger // -1 == math.mininteger)
assert(5.5 % math.huge == 5.5 and -5.5 % math.huge == math.huge)
assert(math.maxinteger + 1 == math.mininteger, "integer wrap-around")
assert(0x7fffffffffffffff == math.maxinteger and 0xffffffffffffffff == -1)
assert(2^53 == 2.0^53 and 1e308 * 10 == math.huge)
assert("10" + 1 == 11 and math.type("10" + 1) == "integer" and "3.0" * 2 == 6.0)
assert(3 & 5 == 1 and 3 | 5 == 7 and 3 ~ 5 == 6 and ~0 == -1 and 1 << 63 == math.mininteger and -1 >> 63 == 1)
print(1.0, -0.0, 1e15, 1e16, 0.1, 1/3, 100, 2^63, math.pi, -math.huge)
print(string.format("%d %5.2f %-5s| %x %g %q", 42, 3.14159, "ab", 255, 1e20, "a\n\"b\""))
print(tostring(nil), tostring(true), tonumber("0x10"), tonumber("  12  "), tonumber("1e2"), tonumber("z", 36), tonumber("x"))
local s = "hello world"
assert(#s == 11 and s:upper() == "HELLO WORLD" and s:sub(-5) == "world" and ("x"):rep(3, ",") == "x,x,x")
print(s:find("o w"), s:match("(%w+) (%w+)"), (s:gsub("o", "0")))
for w in string.gmatch("one two three", "%a+") do io.write(w, ";") end
print()
local t = {10, 20, 30, n = "x", [1.0 + 1] = 21}
assert(#t == 3 and t[2] == 20 and t.n == "x", "positional fields are stored last")
t[#t + 1] = 40
assert(#t == 4 and select("#", table.unpack(t)) == 4)
table.insert(t, 1, 5); table.remove(t)
print(table.concat(t, ","))
local keys = {}
for k, v in pairs({a = 1, b = 2, c = 3}) do keys[#keys + 1] = k end
table.sort(keys)
print(table.concat(keys, " "))
local ok, err = pcall(function() local x = nil; return x.field end)
print(ok, err)
print(select(2, pcall(error, {code = 7})).code, select(2, pcall(error, "msg", 0)))
print(pcall(function() return 1 < "x" end))
print(pcall(function() local t = {} t[nil] = 1 end))
print("OK basics")
