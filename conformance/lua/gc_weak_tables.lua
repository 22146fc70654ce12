-- weak tables, ephemerons, finalizers, resurrection, collectgarbage options; tables
local function count(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end

print(type(collectgarbage("count")), collectgarbage("isrunning"), collectgarbage())
local wk = setmetatable({}, {__mode = "k"})
local wv = setmetatable({}, {__mode = "v"})
local wkv = setmetatable({}, {__mode = "kv"})
local keep = {}
for i = 1, 10 do
  local k = {}
  wk[k] = i
  wv[i] = {}
  wkv[k] = {}
  if i <= 3 then keep[i] = k end
end
wk["str"] = "strings are values"
wv.s = "kept"
wv.f = print
collectgarbage(); collectgarbage()
print(count(wk), count(wv), count(wkv), wv.s, wv.f == print)

-- ephemerons: a value that refers to its own key does not keep the key alive
local eph = setmetatable({}, {__mode = "k"})
do
  for i = 1, 5 do local k = {}; eph[k] = {k, i} end
  local a, b, c = {}, {}, {}
  eph[a] = b; eph[b] = c; eph[c] = "end"
  keep.a = a
end
collectgarbage(); collectgarbage()
print("ephemerons", count(eph))
keep.a = nil
collectgarbage(); collectgarbage()
print("ephemerons", count(eph))

-- finalizers run for unreachable objects; order is the reverse of creation
local order = {}
for i = 1, 3 do
  setmetatable({}, {__gc = function() order[#order + 1] = i end})
end
collectgarbage(); collectgarbage()
print("finalized", table.concat(order, " "))

-- resurrection: a finalizer can store its object; it stays usable
local saved
do
  local obj = setmetatable({name = "phoenix"}, {__gc = function(o) saved = o end})
end
collectgarbage(); collectgarbage()
print("resurrected", saved and saved.name)
-- a weak-value entry is cleared before its object is finalized
local wref = setmetatable({}, {__mode = "v"})
do
  local o = setmetatable({}, {__gc = function(o) print("in __gc, weak entry:", wref[1]) end})
  wref[1] = o
end
collectgarbage()
print("after", wref[1])

-- errors in __gc become warnings, not errors
setmetatable({}, {__gc = function() error("ignored") end})
collectgarbage()
print("still running")

-- collectgarbage options
print(type(collectgarbage("step")), collectgarbage("isrunning"))
collectgarbage("stop")
print(collectgarbage("isrunning"))
collectgarbage("restart")
print(collectgarbage("isrunning"))
print(pcall(collectgarbage, "nonsense"))

-- table library and table semantics
local t = {10, 20, 30, nil, 50}
print(#{1, 2, 3}, select("#", table.unpack({1, 2, nil, 4}, 1, 4)), table.unpack({1, 2, 3}, 2))
local p = table.pack(1, nil, 3)
print(p.n, p[1], p[2], p[3])
local arr = {5, 2, 8, 1, 9}
table.sort(arr); print(table.concat(arr, ","))
table.sort(arr, function(a, b) return a > b end); print(table.concat(arr, ","))
table.insert(arr, 1, 0); table.insert(arr, 7); print(table.concat(arr, ","))
print(table.remove(arr), table.remove(arr, 1), table.concat(arr, ","))
print(table.concat(table.move({1, 2, 3}, 1, 3, 2), ","), table.concat({}, ","), table.concat({1, "a", 2.5}, "-"))
print(pcall(table.concat, {1, {}, 3}))
print(pcall(table.insert, {1}, 5, 2))
local proxy = setmetatable({}, {__index = function(_, i) if i <= 3 then return i * 10 end end, __len = function() return 3 end})
print(#proxy, table.concat(proxy, ","), table.unpack(proxy))
local t2 = {}
t2[1.0] = "one"; t2[2] = "two"
print(t2[1], math.type(next(t2)), rawlen({1, 2}), rawequal(t2, t2), rawget(proxy, 1))
print(pcall(function() local x = {}; x[0/0] = 1 end))
print(pcall(function() local x = {}; x[nil] = 1 end))
local visited = 0
local tt = {a = 1, b = 2, c = 3, d = 4}
for k in pairs(tt) do tt[k] = nil; visited = visited + 1 end
print(visited, next(tt))
local mt = {__pairs = function(t) return function(_, k) if not k then return 1, "first" end end, t, nil end}
for k, v in pairs(setmetatable({}, mt)) do print("pairs mm", k, v) end
print("OK gc_weak_tables")
