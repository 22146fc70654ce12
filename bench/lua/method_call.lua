local P = {}
P.__index = P
function P.new(x) return setmetatable({x = x}, P) end
function P:get() return self.x end
function P:add(n) self.x = self.x + n end
local p = P.new(0)
for i = 1, 10000000 do p:add(1) end
print(p:get())
