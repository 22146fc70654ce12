-- coroutines: create/resume/yield/status/wrap/isyieldable/running/close, and yields
-- across pcall, metamethods and iterators
local co = coroutine.create(function(a, b)
  print("start", a, b)
  local c = coroutine.yield(a + b)
  print("got", c)
  local d, e = coroutine.yield(c * 2)
  print("got", d, e)
  return "done", 42
end)
print(coroutine.status(co))
print(coroutine.resume(co, 1, 2))
print(coroutine.status(co))
print(coroutine.resume(co, 10))
print(coroutine.resume(co, "x", "y"))
print(coroutine.status(co))
print(coroutine.resume(co))

-- wrap and errors
local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
print(gen(), gen(), gen())
local bad = coroutine.wrap(function() error("oops") end)
print(pcall(bad))
local bad2 = coroutine.create(function() error({code = 1}) end)
local ok, e = coroutine.resume(bad2)
print(ok, type(e), e.code, coroutine.status(bad2))

-- running / isyieldable
local main, ismain = coroutine.running()
print(type(main), ismain, coroutine.isyieldable())
coroutine.wrap(function()
  local c, m = coroutine.running()
  print(type(c), m, coroutine.isyieldable())
end)()

-- yield across pcall
local co2 = coroutine.create(function()
  local ok, v = pcall(function()
    local x = coroutine.yield("in pcall")
    error("after " .. x)
  end)
  coroutine.yield(ok, v)
  return "end"
end)
print(coroutine.resume(co2))
print(coroutine.resume(co2, "resume"))
print(coroutine.resume(co2))

-- yield across metamethods
local mt = {
  __index = function(t, k) return coroutine.yield("index " .. k) end,
  __lt = function(a, b) return coroutine.yield("lt") end,
  __concat = function(a, b) return coroutine.yield("concat") end,
  __add = function(a, b) return coroutine.yield("add") end,
}
local co3 = coroutine.wrap(function()
  local t = setmetatable({}, mt)
  local v = t.foo
  local lt = t < t
  local cc = t .. "x"
  local s = t + 1
  return v, lt, cc, s
end)
print(co3())
print(co3("V"))
print(co3(true))
print(co3("C"))
print(co3(7))

-- yield inside a generic for iterator
local function iter()
  return coroutine.wrap(function()
    for i = 1, 3 do coroutine.yield(i, i * i) end
  end)
end
for i, sq in iter() do io.write(i, ":", sq, " ") end
print()

-- resuming dead or running coroutines
print(coroutine.resume(co))
print(coroutine.resume(coroutine.running()))
local co4 = coroutine.wrap(function() return 1 end)
co4()
print(pcall(co4))

-- close with pending to-be-closed variables
local log = {}
local co5 = coroutine.create(function()
  local x <close> = setmetatable({}, {__close = function(_, err) log[#log + 1] = "closed " .. tostring(err) end})
  coroutine.yield(1)
  log[#log + 1] = "not reached"
end)
coroutine.resume(co5)
print(coroutine.close(co5), coroutine.status(co5), table.concat(log, ","))
local co6 = coroutine.create(function()
  local x <close> = setmetatable({}, {__close = function() error("in close") end})
  coroutine.yield()
end)
coroutine.resume(co6)
local okc, errc = coroutine.close(co6)
print(okc, (string.gsub(errc, "^.-:%d+: ", "")))
print(coroutine.close(coroutine.create(print)))

-- many coroutines, deep nesting of resumes
local depth = 0
local function nest(n)
  if n == 0 then return 0 end
  local c = coroutine.wrap(function() return nest(n - 1) + 1 end)
  return c()
end
print(nest(100))
do
-- Errors of coroutine.yield where it cannot yield: C Lua gives them no position.
print(pcall(coroutine.yield, 1))
local co = coroutine.wrap(function() return pcall(table.sort, {1,2,3}, function() coroutine.yield() end) end)
print(co())
print(coroutine.resume(coroutine.create(function() return pcall(string.gsub, "a", "a", coroutine.yield) end)))
end
print("OK coroutine_lib")
