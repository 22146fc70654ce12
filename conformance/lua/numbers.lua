-- Numbers: integer/float subtypes, arithmetic corner cases, conversions, formatting.
local maxi, mini = math.maxinteger, math.mininteger
print(math.type(1), math.type(1.0), math.type("1"), math.type(nil), math.type(2^31))
assert(maxi + 1 == mini and mini - 1 == maxi and maxi * 2 == -2)
assert(-mini == mini and math.abs(mini) == mini)
print(maxi, mini, maxi + 0.0, mini + 0.0)

-- floor division and modulo with negative numbers and zero
print(7 // 2, -7 // 2, 7 // -2, -7 // -2, 7 % 3, -7 % 3, 7 % -3, -7 % -3)
print(7.5 // 2, -7.5 // 2, 7.5 % 2, -7.5 % 2, 5.3 % -2 < 0)
print(1 // 0.0, -1 // 0.0, 0/0 ~= 0/0, 1 % math.huge, -1 % math.huge, 1 % -math.huge)
print(1.0 // 0, 1 % 0.0 ~= 1 % 0.0, 0.0 / 0.0 ~= 0.0 / 0.0)
print(mini // -1, mini % -1, mini // 1, maxi // -1)
print(3 / 2, 4 / 2, math.type(4 / 2), 2^2, math.type(2^2), 7 // 2.0)
print(math.fmod(-7, 3), math.fmod(7, -3), math.fmod(-7.5, 2), math.type(math.fmod(7, 3)))
print(pcall(math.fmod, 1, 0))
print(math.fmod(mini, -1), math.fmod(1, 0.0) ~= math.fmod(1, 0.0))

-- int/float comparisons near 2^53 and 2^63
local p53 = 2^53
assert(math.tointeger(p53) == 9007199254740992)
assert(9007199254740993 ~= p53 and 9007199254740993 > p53)
assert(9007199254740992 == p53 and p53 + 1 == p53)
assert(maxi < 2^63 and maxi + 0.0 == 2^63 and maxi ~= 2^63)
assert(mini == -2^63 and mini <= -2^63 and not (mini < -2^63))
assert(1 < 1.5 and 1 <= 1.0 and not (2 < 1.5) and -0.0 == 0)
assert(not (0/0 < 1) and not (0/0 > 1) and not (0/0 == 0/0))
print(math.ult(1, -1), math.ult(-1, 1), maxi < math.huge, mini > -math.huge)

-- tostring of floats
print(1e15, 1e16, 0.1, -0.0, 1/0, -1/0, 2^63, math.pi, 1e100, 123456789012.0, 2^-1074)
print(100 // 1.0, 3.0, -3.5e-7, 1e300 * 1e10, 255 // 1 | 0, 5e-324 > 0)
print((tostring(0/0):gsub("-", "")), string.format("%.17g", 0.1), string.format("%.14g", 2^63))

-- string -> number coercion
print("10" + 1, math.type("10" + 1), "0x10" + 0, "1e1" + 0, "10" * "2", " 3 " + 0, "3." + 0, ".5" + 0)
print("10" // "3", "7" % "2", -"2", -"2.0", 10 .. "", "0x7fffffffffffffff" + 0, "9223372036854775808" + 0)
print(pcall(function() return {} + 1 end))
assert(not pcall(function() return "abc" + 1 end))
assert("10" ~= 10 and not pcall(function() return "10" < 10 end))

-- tonumber
print(tonumber("10"), tonumber("10.0"), tonumber("  0x1p4  "), tonumber("1e"), tonumber(""), tonumber("0x"), tonumber("1 2"))
print(tonumber("ff", 16), tonumber("FF", 16), tonumber("777", 8), tonumber("zz", 36), tonumber("8", 8), tonumber("11", 2))
print(tonumber("-ff", 16), tonumber("  -101  ", 2), tonumber("1.5", 10), pcall(tonumber, 10, 16))
print(tonumber("0x.8"), tonumber("0xA.8p1"), tonumber("inf"), tonumber("nan"), tonumber(nil))
print(pcall(tonumber, "10", 99))
print(pcall(tonumber))
print(math.tointeger(3.0), math.tointeger(3.5), math.tointeger(2^63), math.tointeger(-2^63))

-- bitwise operators
print(5 & 3, 5 | 3, 5 ~ 3, ~5, 1 << 4, 256 >> 4, -1 >> 1, -1 << 1)
print(1 << 63, 1 << 64, 1 >> 64, -1 >> 64, 1 << -1, 2 >> -1, 1 << 200, mini >> 63)
print(3.0 & 1, 2^62 | 0, math.type(3.0 | 0), -2.0 >> 62, 1e3 ~ 0)
print(pcall(function() return 1.5 & 1 end))
print(pcall(function() return 2^63 | 0 end))
print(pcall(function() return {} | 0 end))

-- string.format with numbers
print(string.format("%d %5.2f %g %x %X %o", 42, 3.14159, 1e20, 255, 255, 8))
print(string.format("%5d|%-5d|%05d|%+d|%e|%.3e", 42, 42, 42, 42, 12345.678, 0.00012345))
print(string.format("%g %g %g %g %g", 0.1, 100000, 1000000, 1e-5, 2^53))
print(string.format("%q %q %q %q", 1, 1.5, mini, 1/0))
print(string.format("%d", 3.0), pcall(string.format, "%d", 3.5))
print(string.format("%a", 1.0), string.format("%.0f %.1f %5.1f", 2.5, 0.25, -1.25))
print(string.format("%i %u %c%c", -3, 3, 72, 105))

-- numeric for
local t = {}
for x = 1, 2, 0.5 do t[#t + 1] = x end
print(table.concat(t, " "))
t = {}
for x = 1.0, 3 do t[#t + 1] = math.type(x) end
print(table.concat(t, " "))
t = {}
for x = 0.1, 0.35, 0.1 do t[#t + 1] = string.format("%.1f", x) end
print(table.concat(t, " "))
t = {}
for x = maxi - 2, maxi do t[#t + 1] = x - maxi end
print(table.concat(t, " "))
t = {}
for x = mini, mini + 2 do t[#t + 1] = x - mini end
print(table.concat(t, " "))
t = {}
for x = mini + 1, mini, -1 do t[#t + 1] = x - mini end
print(table.concat(t, " "))
local cnt = 0
for x = maxi, maxi - 1 do cnt = cnt + 1 end
for x = 1, 0 do cnt = cnt + 1 end
for x = 0, 1, -1 do cnt = cnt + 1 end
for x = maxi - 1, math.huge, 1 << 62 do cnt = cnt + 1 end
print("for counts", cnt)
for x = 1, 3.7 do cnt = cnt + 1 end
for x = 3, -math.huge, -maxi do cnt = cnt + 1 end
print("for counts", cnt)
for x = 1, 0.5 do error("should not run") end
for x = 0, mini, maxi do error("should not run") end
for x = 0, maxi, maxi do cnt = cnt + 1 end
for x = mini, 2^70 , maxi do cnt = cnt + 1 end
print("for counts", cnt)

-- math library basics
print(math.floor(3.7), math.ceil(3.2), math.floor(-3.5), math.type(math.floor(3.7)), math.floor(2^70) == 2^70)
print(math.max(1, 2.5, 2), math.min(3, 1, 2), math.max(1, 1.0), math.abs(-0.0), math.huge > maxi)
print(math.sqrt(16), math.exp(0), math.log(8, 2), math.log(100, 10), math.log(1))
print(8 // 3 * 3 + 8 % 3 == 8, -8 // 3 * 3 + -8 % 3 == -8)
print("OK numbers")
