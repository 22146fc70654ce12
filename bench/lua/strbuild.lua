local t = {}
for i = 1, 300000 do t[#t + 1] = "x" .. i end
local s = table.concat(t, ",")
local r = ""
for i = 1, 20000 do r = r .. "ab" end
print(#s, #r)
