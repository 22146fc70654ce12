-- Tables: constructors, length, table library, next/pairs/ipairs, metamethods, raw access.
local function keys(t)   -- sorted list of keys as strings (hash order independent)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = tostring(k) end
  table.sort(ks)
  return table.concat(ks, ",")
end
local function f3() return 1, 2, 3 end

-- constructors with mixed parts
local t = {10, 20, x = "a", [3] = "overwritten?", 30, ["y"] = "b", [1 + 1] = "c"}
print(t[1], t[2], t[3], t.x, t.y, #t)
local t2 = {f3(), f3()}
print(#t2, table.concat(t2, " "))
local t3 = {f3(), (f3())}
print(#t3, table.concat(t3, " "))
local t4 = {f3(), nil}
print(#t4)
local function va(...) return {...}, select("#", ...), {n = select("#", ...), ...} end
local a1, n1, a2 = va(1, nil, 3)
print(n1, a2.n, a2[3], a1[3])
print(#{n = 1}, #{}, #{nil}, #{1, 2, 3, nil}, #{[1] = 1, [2] = 2})

-- integer-valued float keys are normalized
local nk = {}
nk[1.0] = "one"; nk[2] = "two"; nk[2^53] = "big"
print(nk[1], nk[2.0], math.type(next({[3.0] = true})), nk[2^53 | 0], #nk)
nk[1.5] = "frac"
print(nk[1.5], nk[3 / 2], rawget(nk, 1.0))
print(pcall(function() nk[0/0] = 1 end))
print(pcall(function() nk[nil] = 1 end))
print(nk[nil], nk[0/0], rawget(nk, 0/0))
print(pcall(rawset, nk, 0/0, 1))

-- table.insert / remove
local l = {1, 2, 3}
table.insert(l, 4); table.insert(l, 1, 0); table.insert(l, 3, 1.5)
print(table.concat(l, " "), #l)
print(table.remove(l), table.remove(l, 1), table.remove(l, 2), table.concat(l, " "))
print(pcall(table.insert, l, 10, 5))
print(pcall(table.insert, l, 1, 2, 3))
local e = {}
print(table.remove(e), #e, table.remove(e, 0), table.remove({}, 1))
local last = {1, 2}
print(table.remove(last, 3), #last, table.remove({[0] = "z"}, 0))

-- concat / unpack / pack / move
print(table.concat({}), table.concat({1, 2, 3}, ", ", 2), table.concat({1, 2, 3}, "", 3, 2), table.concat({"a", "b"}, "", 1, 2))
print(table.unpack({1, 2, 3}), table.unpack({1, 2, 3}, 2), table.unpack({1, 2, 3}, 2, 5))
print(select("#", table.unpack({}, 1, 3)), select("#", table.unpack({1, 2}, 3)))
local p = table.pack(1, nil, 3, nil)
print(p.n, p[1], p[3], #{table.unpack(p, 1, p.n)} >= 0)
local m = table.move({1, 2, 3, 4, 5}, 2, 4, 1)
print(table.concat(m, " "))
m = table.move({1, 2, 3}, 1, 3, 3)
print(table.concat(m, " "))
local dst = table.move({1, 2, 3}, 1, 3, 2, {"x"})
print(table.concat(dst, " "))
print(#table.move({1, 2}, 1, 0, 5))

-- sort
local s = {5, 2, 8, 1, 9, 3}
table.sort(s); print(table.concat(s, " "))
table.sort(s, function(a, b) return a > b end); print(table.concat(s, " "))
local recs = {{n = "b", v = 2}, {n = "a", v = 2}, {n = "c", v = 1}, {n = "d", v = 3}}
table.sort(recs, function(x, y) if x.v ~= y.v then return x.v < y.v end return x.n < y.n end)
local out = {}
for i, r in ipairs(recs) do out[i] = r.n .. r.v end
print(table.concat(out, " "))
local words = {"banana", "Apple", "cherry", "apple"}
table.sort(words); print(table.concat(words, " "))
print(pcall(table.sort, {1, "x", 2}))
print(pcall(table.sort, {3, 2, 1}, function(a, b) return true end) ~= nil)

-- next / pairs / ipairs
print(next({}), rawequal(next({}), nil), type(next), select("#", next({})))
local seq = {"a", "b", nil, "d"}
local cnt = 0
for i, v in ipairs(seq) do cnt = cnt + 1 end
print("ipairs stops at nil", cnt)
print(keys({a = 1, b = 2, 10, 20, [true] = 1}))
local total = 0
for k, v in pairs({1, 2, 3, x = 4}) do total = total + v end
print("sum", total)
print(pcall(next, {}, "nokey"))
-- assigning to existing fields (and clearing them) during traversal is allowed
local mod = {a = 1, b = 2, c = 3, d = 4, 5, 6}
for k, v in pairs(mod) do
  if type(v) == "number" and v % 2 == 0 then mod[k] = nil else mod[k] = v * 10 end
end
print(keys(mod), mod.a, mod.c, mod[1])

-- __index / __newindex chains
local base = {greet = function(self) return "hi " .. self.name end}
local mid = setmetatable({kind = "mid"}, {__index = base})
local obj = setmetatable({name = "obj"}, {__index = mid})
print(obj:greet(), obj.kind, rawget(obj, "kind"))
local store = {}
local proxy = setmetatable({}, {__newindex = store})
proxy.x = 1
print(rawget(proxy, "x"), store.x)
local logged = {}
local ro = setmetatable({}, {__newindex = function(t, k, v) logged[#logged + 1] = k; rawset(t, k, v * 2) end})
ro.a = 1; ro.a = 5
print(ro.a, #logged)
local deep = setmetatable({}, {__newindex = setmetatable({}, {__newindex = function(_, k) logged[#logged + 1] = "deep " .. k end})})
deep.z = 1
print(logged[#logged], rawget(deep, "z"))

-- __len, __pairs, raw functions
local lenobj = setmetatable({1, 2, 3}, {__len = function() return 42 end})
print(#lenobj, rawlen(lenobj), rawlen("abcd"), pcall(rawlen, 5))
local pobj = setmetatable({}, {__pairs = function(t) return function(_, k) if not k then return 1, "one" end end, t, nil end})
for k, v in pairs(pobj) do print("__pairs", k, v) end
local eqmt = {__eq = function() return true end}
local o1, o2 = setmetatable({}, eqmt), setmetatable({}, eqmt)
print(o1 == o2, rawequal(o1, o2), rawequal(o1, o1), rawequal("a", "a"), rawequal(1, 1.0))
local idx = setmetatable({}, {__index = function(_, k) return k * 2 end})
print(idx[21], rawget(idx, 21), rawset(idx, 21, "set") == idx, idx[21])
-- ipairs respects __index
local ip = setmetatable({}, {__index = function(_, i) if i <= 3 then return i * i end end})
local sq = {}
for i, v in ipairs(ip) do sq[i] = v end
print(table.concat(sq, " "))
print("OK tables")
