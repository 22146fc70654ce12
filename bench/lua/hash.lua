local t = {}
for i = 1, 200000 do t["k" .. i] = i end
local s = 0
for j = 1, 5 do for i = 1, 200000 do s = s + t["k" .. i] end end
print(s)
