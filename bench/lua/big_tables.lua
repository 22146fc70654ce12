-- big_tables: grows an array to 1M entries with table.insert and shrinks it with table.remove,
-- inserts/removes in the middle of a smaller list, fills and empties hash parts keyed by
-- sparse integers and by strings (rehashing up and down); stands for programs whose data
-- structures grow and shrink a lot (caches, indexes, work lists).

local sum = 0
local function add(n) sum = (sum * 31 + n) % 1000000007 end

-- an array growing to 1M entries, then shrinking back to empty
local t = {}
for i = 1, 1000000 do table.insert(t, i * 3) end
add(#t)
local s = 0
for i = 1, #t do s = s + t[i] end
add(s % 1000000007)
while #t > 500000 do s = s - table.remove(t) end
add(#t); add(s % 1000000007)
for i = 1, 250000 do t[#t + 1] = i end
add(#t)
while #t > 0 do t[#t] = nil end
add(#t)

-- inserts and removes at the front and in the middle of a list of a few thousand entries
local l = {}
for i = 1, 3000 do table.insert(l, 1, i) end
for i = 1, 3000 do table.insert(l, (i * 7) % #l + 1, -i) end
local ms = 0
for i = 1, #l, 13 do ms = (ms * 7 + l[i] + 10000) % 1000000007 end
add(ms)
for i = 1, 4000 do ms = ms + table.remove(l, (i * 11) % #l + 1) end
add(#l); add(ms % 1000000007)

-- sparse integer keys: the hash part grows to 400k entries, then every other one goes
local h = {}
for i = 1, 400000 do h[i * 7919] = i end
local hs, hn = 0, 0
for i = 1, 400000, 2 do h[i * 7919] = nil end
for k, v in pairs(h) do hn = hn + 1; hs = hs + v end
add(hn); add(hs % 1000000007)
for i = 1, 400000 do h[i * 7919 + 1] = i end
hn = 0
for _ in pairs(h) do hn = hn + 1 end
add(hn)
h = nil

-- string keys: 100k entries added, looked up, half removed, then replaced
local d = {}
for i = 1, 100000 do d["key" .. i] = i end
local ds = 0
for i = 1, 100000, 3 do ds = ds + d["key" .. i] end
add(ds % 1000000007)
for i = 1, 100000, 2 do d["key" .. i] = nil end
for i = 1, 50000 do d["new" .. i] = i * 2 end
local dn = 0
for k, v in pairs(d) do dn = dn + 1; ds = ds + v end
add(dn); add(ds % 1000000007)

-- a table used as a queue: push at the tail, pop at the head
local q, head, tail = {}, 1, 0
local qs = 0
for i = 1, 300000 do
  tail = tail + 1; q[tail] = i
  if i % 3 == 0 then
    qs = qs + q[head]; q[head] = nil; head = head + 1
  end
end
while head <= tail do qs = qs + q[head]; q[head] = nil; head = head + 1 end
add(qs % 1000000007)

print("big_tables", #t, #l, dn, sum)
