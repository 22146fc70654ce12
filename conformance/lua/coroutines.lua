-- Coroutines: create/resume/yield/status/wrap/isyieldable/running/close,
-- yields across pcall, metamethods and iterators, error handling.
local co = coroutine.create(function(a, b)
  assert(coroutine.isyieldable())
  local x, y = coroutine.yield(a + b, a * b)
  local z = coroutine.yield(x .. y)
  return "done", z
end)
assert(coroutine.status(co) == "suspended")
print(coroutine.resume(co, 3, 4))
print(coroutine.resume(co, "p", "q"))
print(coroutine.resume(co, 99))
assert(coroutine.status(co) == "dead")
print(coroutine.resume(co))
print(coroutine.resume(co, 1, 2))

-- running / status from inside
local main, ismain = coroutine.running()
assert(type(main) == "thread" and ismain == true)
assert(not coroutine.isyieldable())
local inner
inner = coroutine.create(function()
  local me, im = coroutine.running()
  assert(me == inner and im == false)
  assert(coroutine.status(inner) == "running")
  assert(coroutine.status(main) == "normal")
  local sub = coroutine.create(function() return coroutine.status(inner) end)
  local ok, st = coroutine.resume(sub)
  assert(ok and st == "normal")
  return "inner ok"
end)
print(coroutine.resume(inner))

-- resume of running/normal coroutine
local selfco
selfco = coroutine.create(function() return coroutine.resume(selfco) end)
print(coroutine.resume(selfco))
print(coroutine.resume(coroutine.running()))

-- yield across pcall
local pco = coroutine.create(function()
  local ok, v = pcall(function()
    local r = coroutine.yield("in pcall")
    error("after " .. r, 0)
  end)
  coroutine.yield(ok, v)
  local ok2, v2 = xpcall(function() return coroutine.yield("in xpcall") + 1 end, debug.traceback)
  return ok2, v2
end)
print(coroutine.resume(pco))
print(coroutine.resume(pco, "resume"))
print(coroutine.resume(pco))
print(coroutine.resume(pco, 41))

-- yield across metamethods
local mt = {
  __index = function(t, k) return coroutine.yield("index " .. k) end,
  __lt = function(a, b) return coroutine.yield("lt") end,
  __concat = function(a, b) return coroutine.yield("concat") end,
  __add = function(a, b) return coroutine.yield("add") end,
  __eq = function(a, b) return coroutine.yield("eq") end,
}
local mco = coroutine.wrap(function()
  local a, b = setmetatable({}, mt), setmetatable({}, mt)
  local r = {}
  r[#r + 1] = a.foo
  r[#r + 1] = tostring(a < b)
  r[#r + 1] = a .. "x"
  r[#r + 1] = a + 1
  r[#r + 1] = tostring(a == b)
  return table.concat(r, ",")
end)
print(mco())
print(mco("FOO"))
print(mco(false))
print(mco("CAT"))
print(mco(7))
print(mco(1))

-- yield inside generic-for iterator
local function iter(n)
  return function(_, i)
    if i < n then coroutine.yield("step " .. i); return i + 1 end
  end, nil, 0
end
local ico = coroutine.wrap(function()
  local s = 0
  for i in iter(3) do s = s + i end
  return "sum " .. s
end)
for _ = 1, 4 do print(ico()) end

-- wrap as generator, and error propagation through wrap
local function gen(n) return coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end) end
local acc = {}
for v in gen(5) do acc[#acc + 1] = v end
assert(table.concat(acc) == "12345")
local w = coroutine.wrap(function() error("wrap boom") end)
local ok, msg = pcall(w)
print(ok, msg)
local w2 = coroutine.wrap(function() error({code = 5}) end)
ok, msg = pcall(w2)
assert(not ok and type(msg) == "table" and msg.code == 5)
local w3 = coroutine.wrap(function() return 1 end)
w3()
print(pcall(w3))

-- errors inside coroutines
local eco = coroutine.create(function() local x = nil; return x.y end)
print(coroutine.resume(eco))
assert(coroutine.status(eco) == "dead")
local eco2 = coroutine.create(function() error(setmetatable({}, {__tostring = function() return "E!" end})) end)
local ok2, e2 = coroutine.resume(eco2)
print(ok2, tostring(e2))
print(pcall(coroutine.yield, 1))
print(select("#", coroutine.resume(coroutine.create(function() return end))))
print(pcall(coroutine.create, 42))

-- coroutine.close
local log = {}
local cc = coroutine.create(function()
  local a <close> = setmetatable({}, {__close = function(_, e) log[#log + 1] = "a:" .. tostring(e) end})
  local b <close> = setmetatable({}, {__close = function(_, e) log[#log + 1] = "b:" .. tostring(e) end})
  coroutine.yield(1)
  log[#log + 1] = "not reached"
end)
assert(coroutine.resume(cc))
print(coroutine.close(cc))
print(table.concat(log, " "), coroutine.status(cc))
print(coroutine.close(cc))
print(coroutine.close(coroutine.create(print)))
local cerr = coroutine.create(function()
  local a <close> = setmetatable({}, {__close = function() error("close err", 0) end})
  coroutine.yield()
end)
coroutine.resume(cerr)
print(coroutine.close(cerr))
local dead = coroutine.create(function() error("died", 0) end)
coroutine.resume(dead)
print(coroutine.close(dead))
print(pcall(coroutine.close, coroutine.running()))
-- many yields
local count = coroutine.wrap(function() local i = 0; while true do i = i + 1; coroutine.yield(i) end end)
for _ = 1, 9999 do count() end
assert(count() == 10000)
print("OK coroutines")
