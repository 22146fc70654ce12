-- A string key of an all-weak table lives on only while its entry does: one full
-- collection frees the key of an entry whose value died (gc.lua:465), and keeps the others.
-- The collector is stopped first: what one collection frees depends on the phase the
-- collector was in (a key marked while a weak-values table was traversed survives it), and
-- both collectors start the explicit collections from rest.
collectgarbage(); collectgarbage()
collectgarbage("stop")  -- the explicit collections below start from a sleeping collector
local m = collectgarbage("count")
local a = setmetatable({}, {__mode = "kv"})
a[string.rep("a", 2^20)] = 25
a[string.rep("b", 2^20)] = {}
a["short"] = {}
a["short2"] = 1
a[{}] = 14
local k = setmetatable({}, {__mode = "k"})
k[string.rep("c", 2^20)] = {}
local v = setmetatable({}, {__mode = "v"})
v[string.rep("d", 2^20)] = {}
v[1] = string.rep("e", 2^20)
collectgarbage()
local n = 0
local seen = {}
for key, val in pairs(a) do n = n + 1 seen[#seen + 1] = #key .. "=" .. tostring(val) end
table.sort(seen)  -- string keys: C Lua's order depends on its per-run seed
print(table.concat(seen, " "))
for key, val in pairs(k) do print('k', #key, type(val)) end
for key, val in pairs(v) do print('v', type(key), type(val)) end
print(n, math.floor((collectgarbage("count") - m) / 1024))
collectgarbage()
print(math.floor((collectgarbage("count") - m) / 1024))
print(a[string.rep("a", 2^20)], a.short2, a[string.rep("b", 2^20)])
