-- integer and float subtypes, arithmetic edge cases, conversions, formatting, strings
print(math.type(1), math.type(1.0), math.type("1"), math.type(nil))
print(1 == 1.0, 2^53 == 2^53 + 1, math.maxinteger + 1 == math.mininteger)
print(math.maxinteger * 2, math.mininteger // -1, math.mininteger % -1)
print(7 // 2, -7 // 2, 7 // -2, 7.0 // 2, -7 % 3, 7 % -3, -7.5 % 2, 5.5 % -2)
print(1 / 0, -1 / 0, 0 / 0 ~= 0 / 0, math.huge // 1, -math.huge % 2)
print(3 % math.huge, -3 % math.huge, 3 % -math.huge, -3 % -math.huge)
print(1e15, 1e16, 0.1, -0.0, 2^63, math.pi, -math.pi, 1e100, 123456789012345.0)
print(100 // 1.0, 3 / 2, 4 / 2, 2^2, 10 // 3.0)
print(math.tointeger(3.0), math.tointeger(3.5), math.tointeger("8"), math.tointeger(2^63))
print(8 | 1, 7 & 3, 5 ~ 3, ~0, 1 << 63, 1 << 64, -1 >> 1, 2.0 | 1)
print(math.ult(1, -1), math.abs(math.mininteger), math.fmod(-7, 3), math.fmod(7, -3))
print(pcall(math.fmod, 1, 0))
print(math.fmod(1, 0.0) ~= math.fmod(1, 0.0), math.max(1, 2.5, -1), math.min(3, 1, 2))
print(math.floor(-3.5), math.ceil(-3.5), math.floor(2^62 + 0.0) == 2^62)

-- comparisons between integers and floats
print(2^53 < 2^53 + 1, math.maxinteger < 2^63, math.maxinteger + 0.0 == 2^63)
print(1 < 1.5, 2 <= 2.0, -0.0 == 0, math.mininteger <= -2^63)

-- string <-> number coercion keeps integers integers
print("10" + 1, math.type("10" + 1), "0x10" + 0, "1e1" + 0, " 7 " * 2, "3" // 2)
print(10 .. "", 1.0 .. "", -0.0 .. "", 2^63 .. "", math.mininteger .. "")
print(tonumber("0x1p4"), tonumber("  12  "), tonumber("12a"), tonumber(""), tonumber("0x"), tonumber("1e"))
print(tonumber("9223372036854775807"), tonumber("9223372036854775808"), tonumber("-9223372036854775808"))
print(tonumber("0x7fffffffffffffff"), tonumber("0xffffffffffffffff"), tonumber(".5"), tonumber("5."))
print(tostring(1e300 * 1e10), tostring(-1e300 * 1e10), string.format("%.3f", 2/3))

-- string.format conversions
print(string.format("%d %5d %-5d| %05d %+d %x %X %o", 42, 42, 42, 42, 42, 255, 255, 8))
print(string.format("%5.2f %e %g %g %g %a", 3.14159, 12345.678, 0.0001, 1e20, 100, 1.0))
print(string.format("%q", "line\nnew\0zero\"quote\\"), string.format("%q", 1/3), string.format("%q", math.mininteger))
print(string.format("%s %10s %-10s| %.2s %c%c", "x", "right", "left", "trunc", 72, 105))
print(string.format("%i", 3.0), pcall(string.format, "%d", 3.5))
print(string.format("%%"), pcall(string.format, "%y", 1))

-- numeric for loops
for i = 1, 3 do io.write(i, " ") end
for i = 3, 1, -1 do io.write(i, " ") end
for i = 1, 2, 0.5 do io.write(i, " ") end
for i = math.maxinteger - 2, math.maxinteger do io.write(i - math.maxinteger, " ") end
for i = 1, 0 do io.write("never") end
for i = 1.0, 3 do io.write(math.type(i), " ") end
print()

-- strings: escapes, long strings, lengths, methods
local s = "a\tb\\c\"d\'e\65\066\x43\u{44}\u{3b1}\z
           end"
print(s, #s)
print([[
first line kept
]], [==[with ]] inside]==], #[[

]])
print(("x"):rep(3), ("abc"):upper(), ("ABC"):lower(), ("abc"):len(), ("abc"):reverse())
print(("hello"):sub(2, 3), ("hello"):sub(-3), ("hello"):sub(0), ("hello"):sub(10), ("hello"):sub(-100, 2))
print(("hello"):byte(1, -1))
print(string.char(104, 105), pcall(string.char, 256))
print(("a,b,,c"):find(",", 1, true), ("a.b"):find(".", 1, true), ("a.b"):find("%."), ("abc"):find("b", -1))
print(("hello world"):match("(%w+) (%w+)"), ("key=val"):match("(%w+)=(%w+)"))
print(("abc"):gsub("", "-"), ("hello"):gsub("l", {l = "L"}), ("hi"):gsub(".", function(c) return c:byte() end))
print(("THE (quick) fox"):find("%((%a+)%)"), ("f(a(b)c)d"):match("%b()"), ("THE END"):gsub("%f[%w]%w+", "X"))
for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do io.write(k, v, ";") end
print()
print(("abc"):rep(2, "-"), ("a\0b"):len(), "a\0b" < "a\0c", "a" < "b", "Z" < "a", "" < "a")
print(#"\u{7FFFFFFF}", ("x"):rep(0), pcall(string.rep, "x", 1e10))
-- strings are coerced by arithmetic, never by bitwise operators
print(pcall(function() return "3" | 0 end))
print(pcall(function() return 1 & "3" end))
print(pcall(function() return ~"3" end))
print(pcall(function() return 1.5 | 1 end))
print(pcall(function() return "1.5" | {} end))
print("10" + 1, "3" * "4", -"2", "0x10" + 0)
print("OK numbers_strings")
