-- string.dump and binary chunks: round trips, upvalues, strip, load modes and errors.

local function check(cond, msg)
  if not cond then error("check failed: " .. msg, 2) end
end

-- A round trip keeps behaviour: constants of every type, nested closures, varargs.
local function sample(a, b, ...)
  local t = {1, 2.5, "short", string.rep("long", 20), true, false, nil, a, b, ...}
  local function inner(x) return x * 2 + #t end
  return inner(a or 0) - #t + select("#", t[1], t[2]), select("#", ...), t[4]:sub(1, 8), math.maxinteger, -0.0, 1e300
end
local d = string.dump(sample)
check(type(d) == "string" and d:sub(1, 4) == "\27Lua", "signature")
local f = load(d)
print(f(3, 4, 5, 6))
print(sample(3, 4, 5, 6))
print(#string.dump(sample) == #d, string.dump(sample) == d)
print(string.dump(f) == d)

-- The first upvalue of a loaded chunk is the globals (or the env given); others are nil.
local up1, up2 = 10, 20
local function ups() return up1, up2 end
local g = load(string.dump(ups))
local a, b = g()
print(a == _G, b)
local env = {}
g = load(string.dump(ups), "ups", "b", env)
a, b = g()
print(a == env, b)
local function noups() return 42 end
print(load(string.dump(noups))())

-- Stripped chunks lose names and lines: messages look like C Lua's.
local function thrower() error("boom") end
local function arith(x) return x + nil end
local function indexer() local t = {} return t.x.y end
local function closer() local v <close> = 1 end
for _, fn in ipairs{thrower, arith, indexer, closer} do
  print(pcall(load(string.dump(fn, true))))
  print(pcall(load(string.dump(fn))))
end
local s = load(string.dump(thrower, true))
local info = debug.getinfo(s, "S")
print(info.source, info.short_src, info.what, info.linedefined, info.lastlinedefined)
info = debug.getinfo(load(string.dump(thrower)), "S")
print(info.source, info.short_src, info.what, info.linedefined, info.lastlinedefined)
print(#string.dump(sample, true) < #string.dump(sample))
local upname, upval = debug.getupvalue(load(string.dump(ups, true)), 1)
print(upname, upval == _G)
print(debug.getupvalue(load(string.dump(ups)), 2))
print(load(string.dump(sample, true))(1, 2))

-- Line information survives long functions (absolute entries every 128 instructions) and
-- big jumps between lines.
local function long()
  local x = 0
  x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1
  x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1
  x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1
  x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1
  x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1
  x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1
  x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1
  x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1
  x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1
  x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1 x = x + 1
  local y = x .. ""
  return x + {}




































































































































end
print(pcall(load(string.dump(long))))
local lines = {}
for l in pairs(debug.getinfo(load(string.dump(long)), "L").activelines) do
  lines[#lines + 1] = l
end
table.sort(lines)
print(#lines, lines[1], lines[#lines])

-- Load modes.
print(load(d, "x", "t"))
print(load("return 1", "x", "b"))
print(load(d, "x", "bt") ~= nil, load(d, "x", "b") ~= nil)

-- Chunk names in error messages.
local cut = d:sub(1, 20)
print(load(cut))
print(load(cut, "=name"))
print(load(cut, "@file.lua"))
print(load(cut, "plain"))

-- Every truncation of a chunk is an error; a few distinct messages.
local seen = {}
local dd = string.dump(ups)
for n = 0, #dd - 1 do
  local fn, msg = load(dd:sub(1, n), "=t")
  if n > 0 then
    check(fn == nil, "truncated chunk loaded at " .. n)
    seen[msg] = (seen[msg] or 0) + 1
  end
end
local msgs = {}
for m in pairs(seen) do msgs[#msgs + 1] = m end
table.sort(msgs)
for _, m in ipairs(msgs) do print(m) end

-- Corrupted headers.
local function patch(pos, byte)
  return d:sub(1, pos - 1) .. string.char(byte) .. d:sub(pos + 1)
end
print(load(patch(2, 0x4d)))     -- signature
print(load(patch(5, 0x53)))     -- version
print(load(patch(6, 1)))        -- format
print(load(patch(7, 0)))        -- LUAC_DATA
print(load(patch(13, 8)))       -- sizeof(Instruction)
print(load(patch(14, 4)))       -- sizeof(lua_Integer)
print(load(patch(15, 4)))       -- sizeof(lua_Number)
print(load(patch(16, 0)))       -- LUAC_INT
print(load(patch(31, 0)))       -- LUAC_NUM

-- Loading through a reader function and from a file.
local pieces, i = {}, 0
for p = 1, #d, 7 do pieces[#pieces + 1] = d:sub(p, p + 6) end
f = load(function() i = i + 1 return pieces[i] end)
print(f(1, 2))
local name = os.tmpname()
local h = io.open(name, "wb")
h:write(string.dump(function(...) return "from file", ... end))
h:close()
print(loadfile(name)("x"))
print(dofile(name))
print(loadfile(name, "t"))
os.remove(name)

-- string.dump errors.
print(pcall(string.dump, print))
print(pcall(string.dump, 1))
print(pcall(string.dump))
print(select("#", string.dump(noups, false)), select("#", string.dump(noups, nil)))

-- a method name longer than a short string is an OP_SELF constant
do
  local obj = {}
  function obj:a_method_name_well_over_forty_characters_long() return "long method" end
  local f = function () return obj:a_method_name_well_over_forty_characters_long() end
  local g = load(string.dump(f))
  debug.setupvalue(g, 1, obj)
  print(g())
end

print("OK dump")
