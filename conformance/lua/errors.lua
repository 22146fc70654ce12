-- Errors: levels, non-string values, pcall/xpcall, messages with variable info.
local function msg(f, ...) local ok, e = pcall(f, ...); assert(not ok); return e end

-- error levels
local function lvl1() error("level1") end
local function lvl2() error("level2", 2) end
local function lvl0() error("level0", 0) end
print(msg(lvl1))
print(msg(function() lvl2() end))   -- blames this line
print(msg(lvl0))
print(msg(error))
print(msg(error, "plain", 0), msg(error, 42), math.type(msg(error, 42)))

-- non-string error values
local etab = {code = 1}
assert(msg(error, etab) == etab)
local ok, e = pcall(error)
assert(ok == false and e == nil)
ok, e = pcall(error, nil)
print(ok, e)
ok, e = pcall(error, true)
print(ok, e)
local E = setmetatable({}, {__tostring = function() return "custom error object" end})
ok, e = pcall(error, E)
print(ok, tostring(e), e == E)

-- xpcall with message handlers
print(xpcall(function() error("oops") end, function(m) return "handled: " .. m end))
print(xpcall(function() error({1, 2, 3}) end, function(m) return #m end))
print(xpcall(function(a, b) return a + b end, print, 3, 4))
print(xpcall(function() local x = nil; return x.f end, function(m) return (m:gsub("^.-:%d+: ", "")) end))
print(pcall(xpcall))
print(select("#", xpcall(error, function() return 1, 2 end)))
-- error inside the handler
print(xpcall(error, function(m) error("again") end))

-- nested pcall
print(pcall(function()
  local ok1, e1 = pcall(error, "inner", 0)
  assert(not ok1 and e1 == "inner")
  error("outer:" .. e1, 0)
end))
print(pcall(pcall, error, "x"))
print(pcall(pcall))

-- messages with variable info
print(msg(function() return undefinedglobal.x end))
print(msg(function() local x; return x.y end))
print(msg(function() local t = {}; return t.y.z end))
print(msg(function() local t = {}; t:foo() end))
print(msg(function() local t = {}; t.bar() end))
print(msg(function() undefinedfunc() end))
print(msg(function() local a; return a + 1 end))
print(msg(function() local t = {}; return t.n * 2 end))
print(msg(function() return {} + 1 end))
print(msg(function() return 1 < nil end))
print(msg(function() return {} < {} end))
print(msg(function() return "a" < 1 end))
print(msg(function() return 1 <= "1" end))
print(msg(function() return {} .. "x" end))
print(msg(function() local s = "x"; return s .. nil end))
print(msg(function() return #5 end))
print(msg(function() return -{} end))
print(msg(function() local up = nil; return (function() return up.z end)() end))
print(msg(function() string.nothere() end))
print(msg(function() local t = setmetatable({}, {__index = function(t, k) error("no field " .. k) end}); return t.q end))

-- integer conversions
print(msg(function() return 1.5 | 0 end))
print(msg(function() return "abc" | 0 end))
print(msg(function() return 2^63 // 1 | 0 end))
print(msg(function() return math.tointeger(2^63) or error("no integer representation", 0) end))
print(msg(function() for i = 1, 10, 0 do end end))
print(msg(function() for i = "a", 2 do end end))
print(msg(function() for i = 1, {} do end end))
print(msg(function() return 1 // 0 end))
print(msg(function() return 1 % 0 end))
print(msg(function() return ("x"):rep(-1) .. nil end))
print(msg(function() return string.rep() end))
print(msg(function() return ("x"):bad() end))
print(msg(function() return math.floor("z") end))
print(msg(function() return setmetatable(1, {}) end))
print(msg(function() return tostring() end))
print(msg(function() return ipairs() end))

-- tostring and __tostring / __name
print(tostring(E), msg(function() return tostring(setmetatable({}, {__tostring = function() return {} end})) end))
print(msg(function() return setmetatable({}, {__name = "MyType"}) + 1 end))

-- assert
print(msg(assert, false))
print(msg(assert, nil, "custom message"))
print(msg(assert, false, 12), math.type(msg(assert, false, 12)))
assert(msg(assert, false, etab) == etab)
print(select("#", assert(1, 2, 3)), assert("v", "unused"))
print(msg(assert))

-- select
print(select("#"), select("#", nil, nil), select(2, "a", "b", "c"), select(-1, "a", "b", "c"))
print(msg(select, 0, "a"))
print(msg(select, -5, "a"))
print(msg(select, "x"))

-- error rethrown keeps position only once
local ok2, e2 = pcall(function()
  local ok3, e3 = pcall(error, "deep")
  error(e3, 0)
end)
print(ok2, e2)
-- error with level pointing to caller of caller
local function check(v) if type(v) ~= "number" then error("expected number", 3) end end
local function api(v) check(v) end
print(msg(function() api("s") end))
-- runtime error inside a coroutine keeps message
print(coroutine.resume(coroutine.create(function() local t; t.x = 1 end)))
-- tostring(nil) errors / error objects through multiple levels
print(msg(function() error(setmetatable({}, {__index = {msg = "via index"}})) end).msg)
print("OK errors")
