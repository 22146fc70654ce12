local s = 0
for i = 1, 2000000 do
  local f = function() return i end
  s = s + f()
end
print(s)
