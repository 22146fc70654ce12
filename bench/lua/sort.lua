-- sort: sorts 100k generated items with table.sort (default order, a comparator, records by
-- key, strings) and with a hand-written top-down merge sort, checking each result; stands
-- for data-processing code that ranks and orders records.

local seed = 2024
local function rand(n)
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % n
end

local N = 100000
local sum = 0
local function add(n) sum = (sum * 31 + n) % 1000000007 end

local function ints(n)
  local t = {}
  for i = 1, n do t[i] = rand(1000000) end
  return t
end

local function checksum(t, key)
  local s = 0
  for i = 1, #t, 97 do s = (s * 7 + (key and t[i][key] or t[i])) % 1000000007 end
  return s
end

local function sorted(t, lt)
  for i = 2, #t do if lt(t[i], t[i - 1]) then return false end end
  return true
end

local function merge_sort(a, lt)
  local n = #a
  local tmp = {}
  local function sort(lo, hi)
    if hi - lo < 12 then
      -- insertion sort for short runs
      for i = lo + 1, hi do
        local v = a[i]
        local j = i - 1
        while j >= lo and lt(v, a[j]) do
          a[j + 1] = a[j]
          j = j - 1
        end
        a[j + 1] = v
      end
      return
    end
    local mid = (lo + hi) // 2
    sort(lo, mid)
    sort(mid + 1, hi)
    if not lt(a[mid + 1], a[mid]) then return end
    for i = lo, mid do tmp[i] = a[i] end
    local i, j, k = lo, mid + 1, lo
    while i <= mid and j <= hi do
      if lt(a[j], tmp[i]) then
        a[k] = a[j]; j = j + 1
      else
        a[k] = tmp[i]; i = i + 1
      end
      k = k + 1
    end
    while i <= mid do a[k] = tmp[i]; i = i + 1; k = k + 1 end
  end
  sort(1, n)
  return a
end

local function lt(a, b) return a < b end
local function gt(a, b) return a > b end

-- integers, default order
local a = ints(N)
table.sort(a)
add(sorted(a, lt) and 1 or 0); add(checksum(a))

-- integers, comparator (descending)
local b = ints(N)
table.sort(b, gt)
add(sorted(b, gt) and 1 or 0); add(checksum(b))

-- records by a unique key (ties would make the order depend on the algorithm)
local recs = {}
for i = 1, N do recs[i] = {key = rand(1000) * N + i, id = i} end
table.sort(recs, function(x, y) return x.key < y.key end)
add(checksum(recs, "id"))

-- strings, default order
local strs = {}
for i = 1, N // 2 do strs[i] = string.format("s%07d-%d", rand(10000000), i % 10) end
table.sort(strs)
add(sorted(strs, lt) and 1 or 0)
local sl = 0
for i = 1, #strs, 101 do sl = (sl * 31 + strs[i]:byte(3) + #strs[i]) % 1000000007 end
add(sl)

-- merge sort, plain and on records (stable, so ties are fine here)
local c = ints(N)
local c2 = {}
for i = 1, N do c2[i] = c[i] end
merge_sort(c, lt)
table.sort(c2)
local same = true
for i = 1, N do if c[i] ~= c2[i] then same = false end end
add(same and 1 or 0); add(checksum(c))

local r2 = {}
for i = 1, N do r2[i] = {key = rand(500), id = i} end
merge_sort(r2, function(x, y) return x.key < y.key end)
local stable = true
for i = 2, N do
  local p, q = r2[i - 1], r2[i]
  if p.key > q.key or (p.key == q.key and p.id > q.id) then stable = false end
end
add(stable and 1 or 0); add(checksum(r2, "id"))

print("sort", a[1], a[N], b[1], b[N], same, stable, sum)
