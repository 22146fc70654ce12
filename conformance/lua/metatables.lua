-- Metamethods of manual section 2.4, weak tables and finalizers.
local V = {}
V.__index = V
function V.new(x, y) return setmetatable({x = x, y = y}, V) end
V.__add = function(a, b) return V.new(a.x + b.x, a.y + b.y) end
V.__eq = function(a, b) return a.x == b.x and a.y == b.y end
V.__lt = function(a, b) return a.x < b.x end
V.__le = function(a, b) return a.x <= b.x end
V.__len = function(v) return 2 end
V.__tostring = function(v) return "(" .. v.x .. "," .. v.y .. ")" end
V.__concat = function(a, b) return tostring(a) .. tostring(b) end
V.__call = function(v, k) return v[k] end
V.__unm = function(v) return V.new(-v.x, -v.y) end
function V:len2() return self.x * self.x + self.y * self.y end
local a, b = V.new(1, 2), V.new(3, 4)
print(tostring(a + b), a + b == V.new(4, 6), a < b, a <= b, b > a, #a, -a, a .. b, a("y"), b:len2())
local log = {}
local proxy = setmetatable({}, {
  __index = function(t, k) log[#log + 1] = "get " .. k; return k .. "!" end,
  __newindex = function(t, k, v) log[#log + 1] = "set " .. k; rawset(t, k, v) end,
})
print(proxy.foo); proxy.bar = 1; print(proxy.bar, table.concat(log, "; "))
local chain = setmetatable({}, {__index = setmetatable({a = 1}, {__index = {b = 2}})})
print(chain.a, chain.b, chain.c)
local prot = setmetatable({}, {__metatable = "locked"})
print(getmetatable(prot), pcall(setmetatable, prot, {}))
print(getmetatable("abc").__index == string, ("%d"):format(5))
local weak = setmetatable({}, {__mode = "k"})
do weak[{}] = 1 end
local strong = {}
weak[strong] = 2
collectgarbage()
local n = 0
for k in pairs(weak) do n = n + 1 end
print("weak entries", n)
local finalized = false
do setmetatable({}, {__gc = function() finalized = true end}) end
collectgarbage(); collectgarbage()
print("finalized", finalized)
print(rawequal(a, a), rawlen({1, 2}), rawget(setmetatable({}, {__index = function() return 1 end}), "x"))
print("OK metatables")
