local function bottom_up(d)
  if d == 0 then return {} end
  d = d - 1
  return {bottom_up(d), bottom_up(d)}
end
local function check(t)
  if t[1] then return 1 + check(t[1]) + check(t[2]) end
  return 1
end
local maxdepth = 15
local long = bottom_up(maxdepth)
local total = 0
for d = 4, maxdepth, 2 do
  local iters = 2 ^ (maxdepth - d + 4) // 1
  local c = 0
  for _ = 1, iters do c = c + check(bottom_up(d)) end
  total = total + c
end
print(total + check(long))
