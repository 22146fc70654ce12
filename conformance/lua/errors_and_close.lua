-- errors: levels, non-string values, handlers, variable names in messages; <close>/<const>
local function msg(f, ...)
  local ok, e = pcall(f, ...)
  return ok, e
end

print(msg(error, "plain", 0))
print(msg(function() error("level1") end))
print(msg(function() local function inner() error("level2", 2) end inner() end))
print(select(2, msg(error)))
local ok, e = msg(error, {code = 42})
print(ok, type(e), e.code)
print(msg(error, setmetatable({}, {__tostring = function() return "custom" end})))
print(tostring(select(2, pcall(error, setmetatable({}, {__tostring = function() return "shown" end})))))

-- messages with variable information
print(msg(function() return undefinedglobal.x end))
print(msg(function() local t = nil; return t.x end))
print(msg(function() local t = {}; return t.a.b end))
print(msg(function() local s = "x"; return s:nomethod() end))
print(msg(function() return 1 + nil end))
print(msg(function() local a; return a + 1 end))
print(msg(function() return {} .. "x" end))
print(msg(function() return 1 < "2" end))
print(msg(function() return {} < {} end))
print(msg(function() return nil > 1 end))
print(msg(function() local f; f() end))
print(msg(function() undefinedfunc() end))
print(msg(function() return #5 end))
print(msg(function() return -{} end))
print(msg(function() return 1 // 0 end))
print(msg(function() return 1 % 0 end))
print(msg(function() return 2^53 | 0 end))
print(msg(function() return 1.5 | 0 end))
print(msg(function() return "abc" | 0 end))
print(msg(function() for i = 1, 10, 0 do end end))
print(msg(function() for i = "a", 2 do end end))
print(msg(function() local t = setmetatable({}, {__index = function(t, k) error("idx " .. k) end}); return t.foo end))
print(msg(string.rep))
print(msg(string.rep, "x", -1))
print(msg(setmetatable, 1, {}))
print(msg(("x").rep, "x", {}))

-- xpcall with handlers
print(xpcall(function() error("boom") end, function(m) return "handled: " .. m end))
print(xpcall(function(a, b) return a + b end, print, 3, 4))
print(xpcall(function() error({}) end, function(m) return type(m) end))
print(pcall(xpcall))
-- nested pcall
print(pcall(pcall, error, "x"))
print(select("#", pcall(function() return 1, 2, 3 end)))

-- assert
print(pcall(assert, false))
print(pcall(assert, nil, "with message"))
print(select("#", pcall(assert, false, {1})), type(select(2, pcall(assert, false, {1}))))
print(assert(1, "unused"), select("#", assert(1, 2, 3)))

-- tostring / tonumber errors
print(pcall(tonumber))
print(tonumber("10", 2), tonumber("ff", 16), tonumber("zz", 36), tonumber("8", 8))
print(pcall(tonumber, "10", 99))

-- <close>: order, error argument, break/return/goto exits
local log = {}
local function closer(name)
  return setmetatable({}, {__close = function(_, err)
    log[#log + 1] = name .. (err and (":" .. tostring(err):gsub("^.-:%d+: ", "")) or "")
  end})
end
do
  local a <close> = closer("a")
  local b <close> = closer("b")
  local c <const> = 10
end
for i = 1, 3 do
  local x <close> = closer("loop" .. i)
  if i == 2 then break end
end
local function ret()
  local r <close> = closer("ret")
  return "value"
end
print(ret())
do
  local g <close> = closer("goto")
  goto out
end
::out::
print(pcall(function()
  local e <close> = closer("err")
  error("failure")
end))
print(pcall(function()
  local bad <close> = setmetatable({}, {__close = function() error("in close") end})
  local fine <close> = closer("before-bad")
end))
local ok2, e2 = pcall(function() local x <close> = 42 end)
print(ok2, (e2:gsub("^.-:%d+: ", "")))
local nilclose <close> = nil
print(table.concat(log, " "))

-- generic for closes its 4th value on break
local closed = false
local function iter_with_close()
  return function(_, i) if i < 5 then return i + 1 end end, nil, 0,
    setmetatable({}, {__close = function() closed = true end})
end
for i in iter_with_close() do if i == 2 then break end end
print("for closed:", closed)

-- <const> is checked at compile time
print(load("local x <const> = 1; x = 2"))
print(load("local x <foo> = 1"))
print("OK errors_and_close")
