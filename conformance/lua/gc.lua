-- Garbage collector interface, weak tables, ephemerons, finalizers, resurrection.
local function count(t) local n = 0; for _ in pairs(t) do n = n + 1 end; return n end
local function full() collectgarbage(); collectgarbage() end

-- collectgarbage options
local kb = collectgarbage("count")
print(type(kb), math.type(kb), kb > 0)
print(collectgarbage(), collectgarbage("collect"))
print(collectgarbage("isrunning"))
collectgarbage("stop")
print(collectgarbage("isrunning"))
collectgarbage("restart")
print(collectgarbage("isrunning"))
print(type(collectgarbage("step")), type(collectgarbage("step", 100)))
collectgarbage("incremental")
print(collectgarbage("generational"), collectgarbage("generational"), collectgarbage("incremental"), collectgarbage("incremental"))
print(pcall(collectgarbage, "bogus"))
do
  local before = collectgarbage("count")
  local big = {}
  for i = 1, 10000 do big[i] = {i} end
  assert(collectgarbage("count") > before)
  big = nil
  full()
  assert(collectgarbage("count") < before + 100)
end

-- weak values
local wv = setmetatable({}, {__mode = "v"})
local keepv = {}
for i = 1, 10 do
  local v = {i}
  wv[i] = v
  if i % 2 == 0 then keepv[#keepv + 1] = v end
end
wv.str = "strings are values, never collected"
wv.num = 42
wv.fn = function() end          -- no other reference
full()
print("weak values left", count(wv), wv.str ~= nil, wv.num, wv.fn)

-- weak keys
local wk = setmetatable({}, {__mode = "k"})
local keepk = {}
for i = 1, 10 do
  local k = {}
  wk[k] = i
  if i <= 3 then keepk[i] = k end
end
wk[1] = "number keys stay"
wk.s = "string keys stay"
full()
print("weak keys left", count(wk))
local sum = 0
for k, v in pairs(wk) do if type(k) == "table" then sum = sum + v end end
print("sum of surviving", sum)

-- weak keys and values
local wkv = setmetatable({}, {__mode = "kv"})
local kk, vv = {}, {}
wkv[kk] = {}        -- value dies
wkv[{}] = vv        -- key dies
wkv[kk] = nil
wkv[kk] = vv        -- both alive
wkv.x = {}          -- value dies
wkv.y = "stay"
full()
print("kv left", count(wkv), wkv[kk] == vv, wkv.y)

-- ephemeron: the value refers to its own key; entry must still be collected
local eph = setmetatable({}, {__mode = "k"})
do
  local k1 = {}
  eph[k1] = {ref = k1}
  local k2 = {}
  eph[k2] = function() return k2 end
end
local k3 = {}
eph[k3] = {ref = k3}
-- chain: k4 is only reachable through the value of k3's entry
local k4 = {}
eph[k3].next = k4
eph[k4] = {ref = k4}
k4 = nil
full()
print("ephemeron entries", count(eph))
k3 = nil
full()
print("ephemeron entries after dropping k3", count(eph))

-- closures and threads as weak keys/values
local wt = setmetatable({}, {__mode = "k"})
wt[coroutine.create(function() end)] = 1
wt[function() end] = 2
local live = coroutine.create(print)
wt[live] = 3
full()
print("threads/functions left", count(wt), wt[live])

-- finalizers
local finalized = {}
for i = 1, 5 do
  setmetatable({id = i}, {__gc = function(o) finalized[#finalized + 1] = o.id end})
end
full()
table.sort(finalized)
print("finalized", table.concat(finalized, ","))
-- __gc must be present when setmetatable is called
finalized = {}
do
  local mt = {}
  setmetatable({id = "late"}, mt)
  mt.__gc = function(o) finalized[#finalized + 1] = o.id end
end
full()
print("late __gc ran", #finalized)
-- objects are finalized in reverse order of marking (reverse creation)
local order = {}
do
  local mt = {__gc = function(o) order[#order + 1] = o.n end}
  for n = 1, 4 do setmetatable({n = n}, mt) end
end
full()
print("order", table.concat(order, " "))

-- resurrection
local saved
do
  setmetatable({name = "phoenix"}, {__gc = function(o) saved = o end})
end
full()
print("resurrected", saved and saved.name)
local wr = setmetatable({}, {__mode = "v"})
wr[1] = saved
saved = nil
full()
print("finalizer runs once; object collected later", wr[1])

-- resurrected objects: removed from weak values before finalization,
-- but kept as weak keys (removed only in a later collection)
local wkr = setmetatable({}, {__mode = "k"})
local wvr = setmetatable({}, {__mode = "v"})
local res
do
  local o = setmetatable({}, {__gc = function(x) res = x end})
  wkr[o] = "val"
  wvr[1] = o
end
collectgarbage()
print("resurrected", res ~= nil, wkr[res], wvr[1] == nil)

-- error in __gc is reported as a warning, not raised
do setmetatable({}, {__gc = function() error("ignored") end}) end
full()
-- finalizers run at state close are not observable here; collectgarbage inside __gc
do setmetatable({}, {__gc = function() collectgarbage("count") end}) end
full()
print("OK gc")
