-- sieve: the sieve of Eratosthenes over boolean tables, repeated, plus a segmented sieve that
-- counts primes in windows above 10^7 and a sum of prime gaps; stands for tight integer loops
-- over large arrays (flags, bitmaps, counting).

local function sieve(n)
  local composite = {}
  for i = 1, n do composite[i] = false end
  local count = 0
  for i = 2, n do
    if not composite[i] then
      count = count + 1
      for j = i * i, n, i do composite[j] = true end
    end
  end
  return count, composite
end

local total = 0
for _ = 1, 16 do total = total + sieve(500000) end

-- primes up to sqrt(hi) sieve the window [lo, hi]
local function segment(lo, hi, small)
  local mark = {}
  for i = 0, hi - lo do mark[i] = false end
  for _, p in ipairs(small) do
    local start = math.max(p * p, (lo + p - 1) // p * p)
    for j = start, hi, p do mark[j - lo] = true end
  end
  local count, last, gaps = 0, nil, 0
  for i = 0, hi - lo do
    if not mark[i] then
      count = count + 1
      if last then gaps = gaps + (i - last) end
      last = i
    end
  end
  return count, gaps
end

local _, comp = sieve(5000)
local small = {}
for i = 2, 5000 do if not comp[i] then small[#small + 1] = i end end
local seg_count, seg_gaps = 0, 0
for k = 0, 29 do
  local lo = 10000000 + k * 100000
  local c, g = segment(lo, lo + 99999, small)
  seg_count, seg_gaps = seg_count + c, seg_gaps + g
end
print("sieve", total, #small, seg_count, seg_gaps)
