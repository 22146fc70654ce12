-- Strings: escapes, long strings, library functions, patterns, formatting.
-- escapes
local s = "a\z
           b\x41\u{48}\u{7FF}\65\066\0067\r\n\t\\\"\'"
print(#s, s:byte(1, -1))
assert("\u{10FFFF}" == "\xF4\x8F\xBF\xBF" and #"\u{7FFFFFFF}" == 6)
assert("\z   " == "" and "x\
y" == "x\ny")
local long1 = [[
first line
second]]
local long2 = [==[
a]]b]=]c]==]
print(long1, #long1, long2)
assert([[]] == "" and [=[
]=] == "" and [[

x]] == "\nx")
for _, src in ipairs{[["\q"]], [["\x5"]], [["\u{110000000}"]], [["\300"]], [["abc]], "[==[ x ]=]"} do
  local f, err = load("return " .. src, "=s")
  print(f, err)
end

-- length and methods through the string metatable
assert(#"" == 0 and #"abc" == 3 and #"a\0b" == 3)
print(("x"):rep(3), ("ab"):rep(3, "-"), ("x"):rep(0), ("x"):rep(-1), ("abc"):upper(), ("ABC"):lower(), ("abc"):reverse(), ("abc"):len())
local h = "hello"
print(h:sub(2), h:sub(-3), h:sub(2, -2), h:sub(-100, 2), h:sub(4, 2), h:sub(0), h:sub(6), h:sub(-1, -1), h:sub(3, 100))
print(h:byte(), h:byte(-1), h:byte(10), select("#", h:byte(10)), h:byte(1, 3))
print(string.char(72, 105), string.char(), #string.char(0, 0), pcall(string.char, 256))

-- find
print(h:find("l"), h:find("l", 4), h:find("l", -1), h:find("xyz"), h:find(""), h:find("", 10), h:find("", 6))
print(("a.b.c"):find(".", 1, true), ("a.b.c"):find("%."), ("a+b"):find("+", 1, true), ("f(x)"):find("(", 1, true))
print(("key = value"):find("(%w+)%s*=%s*(%w+)"))
print(("abc"):find("b", -10), ("abc"):find("^b"), ("abc"):find("c$"), ("a$c"):find("$c"))

-- match
print(("hello world"):match("o w"), ("hello world"):match("^(%w+)"), ("  trim  "):match("^%s*(.-)%s*$") .. "|")
print(("2024-01-15"):match("(%d+)-(%d+)-(%d+)"))
print(("abc"):match("()b()"), ("abc"):match(".-"), ("abc"):match(".-$"), ("aaa"):match("a-b"), ("aaab"):match("a-b"))
print(("[[x]]"):match("%[(%b[])%]"), ("f(a(b)c)d"):match("%b()"), ("THE (quick) fox"):find("%f[%a]%a+%f[%A]", 5))
print(("hello"):match("(h)(e)(l)(l)(o)"))
print(("x = 1, y = 2"):match("y = (%d)"), ("abc"):match("((a)(b))"), ("aXb"):match("%u"), ("a1_"):match("[%w_]+"))
print(("\0a\0"):match("%c?a"):byte(1, -1), ("café"):match("[^\128-\255]+"), ("-12.5e3"):match("^[+-]?%d+%.?%d*[eE]?%d*$"))

-- gmatch
local words = {}
for w in ("one two  three"):gmatch("%a+") do words[#words + 1] = w end
print(table.concat(words, ","))
local kv = {}
for k, v in ("a=1, b=2, c=3"):gmatch("(%w+)=(%w+)") do kv[#kv + 1] = k .. ":" .. v end
print(table.concat(kv, " "))
local pos = {}
for p in ("abcabc"):gmatch("()b") do pos[#pos + 1] = p end
print(table.concat(pos, " "))
local empties = 0
for _ in ("abc"):gmatch("") do empties = empties + 1 end
print("empty matches", empties)

-- gsub
print(("hello world"):gsub("o", "0"))
print(("hello world"):gsub("o", "0", 1))
print(("hello"):gsub("", "-"))
print(("abc"):gsub("%w", "%0%0"), ("abc"):gsub("(%w)", "<%1>"), ("a.b"):gsub("%.", "%%"))
print(("$name is $age"):gsub("%$(%w+)", {name = "Bob", age = 42}))
print(("$x $y"):gsub("%$(%w+)", {x = false}))
print(("1 2 3"):gsub("%d", function(d) return d * 2 end))
print(("a b c"):gsub("%a", function(c) if c == "b" then return nil end return c:upper() end))
print(("abc"):gsub(".", {a = 1, b = false}))
print(pcall(string.gsub, "abc", ".", {b = true}))
print(pcall(string.find, "abc", "[a"))
print(pcall(string.gsub, "abc", "%", "x"))
print(pcall(string.rep))
print(("x^2"):gsub("%^", "**"), ("  a  b  "):gsub("%s+", " "))

-- format
print(string.format("[%s] [%5s] [%-5s] [%.3s] [%5.1s]", "abc", "abc", "abc", "abcdef", "xyz"))
print(string.format("%q", 'he said "hi"\n\0\1\127end\\'))
print(string.format("%q", "\r\t\2269"))
print(string.format("%s %s %s %s", nil, true, 12, 1.5), string.format("%%"), string.format("%c", 65))
print(string.format("%s", setmetatable({}, {__tostring = function() return "OBJ" end})))
print(string.format("%10.4f|%-10d|%x", math.pi, 7, 3735928559))
print(pcall(string.format, "%d", "x"))
print(pcall(string.format, "%y", 1))
print(pcall(string.format, "%s"))

-- comparison, including embedded zeros
assert("a" < "b" and "a" < "ab" and "" < "a" and "Z" < "a" and not ("b" < "a"))
assert("a\0b" < "a\0c" and "a\0" > "a" and "a\0b" ~= "a\0c" and #"a\0b" == 3)
assert("10" < "9" and "abc" <= "abc" and "abd" >= "abc")
print("a\0b" == "a\0b", ("x\0y"):len(), ("x\0y"):upper(), ("a\0b"):find("\0", 1, true))

-- concatenation of numbers
assert(1 .. 2 == "12" and 1.0 .. "" == "1.0" and -0.0 .. "" == "-0.0" and 2^63 .. "" == "9.2233720368548e+18")
print(1 .. 2, 1.5 .. "|", 10 // 1 .. "", 1e100 .. "", math.mininteger .. "")
print(pcall(function() return "a" .. {} end))
print(pcall(function() return "a" .. true end))
print(table.concat({1, 2.5, "x"}, "-"), pcall(table.concat, {1, {}, 3}))

-- misc
print(tostring(12):rep(2), ("%d items"):format(3), #tostring(-0.0), ("abc"):byte(-1))
print(string.len("\u{20AC}"), utf8 and utf8.len("\u{20AC}x"), utf8.char(72, 8364), #utf8.char(8364))
print("OK strings")
