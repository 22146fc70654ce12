-- Closures, varargs, tail calls, goto, to-be-closed variables, coroutines.
local function counter()
  local n = 0
  return function() n = n + 1; return n end
end
local c1, c2 = counter(), counter()
c1(); c1()
assert(c1() == 3 and c2() == 1)
local fs = {}
for i = 1, 3 do fs[i] = function() return i end end
assert(fs[1]() == 1 and fs[3]() == 3, "fresh loop variable per iteration")
local function pack(...) return select("#", ...), ... end
print(pack(1, nil, 3))
print(pack())
local function sum(n, acc) if n == 0 then return acc end return sum(n - 1, acc + n) end
print(sum(1000000, 0))  -- proper tail calls: no stack growth
do
  local i = 1
  ::top::
  if i < 5 then i = i + 1; goto top end
  assert(i == 5)
end
local log = {}
do
  local a <close> = setmetatable({}, {__close = function() log[#log + 1] = "a" end})
  local b <close> = setmetatable({}, {__close = function(_, e) log[#log + 1] = "b" end})
end
print(table.concat(log, ","))
local ok = pcall(function()
  local x <close> = setmetatable({}, {__close = function(_, e) log[#log + 1] = "err:" .. tostring(e):match("boom") end})
  error("boom")
end)
print(ok, log[#log])
local co = coroutine.create(function(a, b)
  local c = coroutine.yield(a + b)
  local d, e = coroutine.yield(c * 2)
  return d + e
end)
print(coroutine.resume(co, 1, 2))
print(coroutine.resume(co, 10))
print(coroutine.resume(co, 3, 4))
print(coroutine.resume(co))
print(coroutine.status(co), coroutine.isyieldable())
local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
print(gen(), gen(), gen())
local inner = coroutine.wrap(function()
  local ok, v = pcall(function() return coroutine.yield("from pcall") end)
  return ok, v
end)
print(inner())
print(inner("resumed"))
print(pcall(coroutine.wrap(function() error("in co") end)))
local depth = 0
local function rec() depth = depth + 1; return 1 + rec() end
local okr, msg = pcall(rec)
print(okr, msg:match("stack overflow") ~= nil, depth > 1000)
print("OK functions")
