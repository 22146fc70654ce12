-- goto/labels, varargs, multiple assignment and results, tail calls, closures in loops
for i = 1, 3 do
  for j = 1, 3 do
    if j == 2 then goto continue end
    io.write(i, j, " ")
    ::continue::
  end
end
print()
do
  local k = 0
  ::top::
  k = k + 1
  if k < 3 then goto top end
  print("k", k)
end
print(load("goto nowhere"))
print(load("do local x ::l1:: end goto l1"))
print(load("::a:: ::a::"))
print(load("goto f; local x; ::f:: print(x)"))

-- closures capture fresh loop variables
local fs = {}
for i = 1, 3 do fs[i] = function() return i end end
print(fs[1](), fs[2](), fs[3]())
local ws = {}
local n = 0
while n < 3 do n = n + 1; local m = n; ws[n] = function() m = m + 10; return m end end
print(ws[1](), ws[1](), ws[2]())

-- varargs
local function va(...)
  local a, b = ...
  return select("#", ...), a, b, ...
end
print(va())
print(va(1, nil, 3))
print((va(1, 2)))
print(select(-1, 1, 2, 3), select(2, "a", "b", "c"))
print(pcall(select, 0))
local function pack2(...) return {...}, select("#", ...) end
local t, cnt = pack2(nil, nil)
print(#t, cnt)
print(table.unpack({1, 2, 3}, -1, 1))

-- multiple assignment evaluates before assigning
local x, y = 1, 2
x, y = y, x
print(x, y)
local arr = {}
local i = 1
i, arr[i] = i + 1, "set"
print(i, arr[1], arr[2])
local function three() return 1, 2, 3 end
local p, q, r, s = three()
print(p, q, r, s)
local u, v = (three())
print(u, v)
print(({three(), three()})[4], #{three(), three()}, #{three(), (three())})

-- proper tail calls do not grow the stack
local function count(k, acc) if k == 0 then return acc end return count(k - 1, acc + 1) end
print(count(100000, 0))
local function ping(k) if k == 0 then return "done" end return (function(j) return ping(j) end)(k - 1) end
print(pcall(ping, 1000))

-- deep recursion is an error, not a crash
local function deep(k) return 1 + deep(k + 1) end
local ok, e = pcall(deep, 1)
print(ok, (e:gsub("^.-:%d+: ", "")))

-- numeric for with float and negative steps, integer overflow guards
local c = 0
for _ = math.maxinteger - 1, math.maxinteger do c = c + 1 end
for _ = math.mininteger, math.mininteger + 2, 2 do c = c + 1 end
for _ = 1, 0, 1 do c = c + 100 end
for _ = 0.1, 0.35, 0.1 do c = c + 1 end
print(c)

-- repeat-until sees locals of its body
local r2 = 0
repeat local done = r2 >= 2; r2 = r2 + 1 until done
print(r2)

-- and/or short circuit, comparison chains
print(nil or false, false or nil, 1 and 2, nil and 1, false == nil, not nil, not 0)
print(1 < 2 == true, "a" .. "b" == "ab", 2^2 == 4, -2^2, (-2)^2)
print("OK control_flow")
