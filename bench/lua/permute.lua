-- permute: generates all permutations of small arrays three ways (recursive swapping, Heap's
-- algorithm, lexicographic next-permutation) and checks them against each other with
-- order-independent checksums; stands for combinatorial enumeration (recursion, swaps).

local function fold(a, n)
  local h = 0
  for i = 1, n do h = (h * 31 + a[i]) % 1000003 end
  return h
end

-- recursive: every arrangement of a[k..n] with a[1..k-1] fixed
local function permute_rec(a, n, visit)
  local function go(k)
    if k > n then visit(a) return end
    for i = k, n do
      a[k], a[i] = a[i], a[k]
      go(k + 1)
      a[k], a[i] = a[i], a[k]
    end
  end
  go(1)
end

-- Heap's algorithm, iterative form with a counter array
local function permute_heap(a, n, visit)
  local c = {}
  for i = 1, n do c[i] = 1 end
  visit(a)
  local i = 1
  while i <= n do
    if c[i] < i then
      if i % 2 == 1 then a[1], a[i] = a[i], a[1]
      else a[c[i]], a[i] = a[i], a[c[i]] end
      visit(a)
      c[i] = c[i] + 1
      i = 1
    else
      c[i] = 1
      i = i + 1
    end
  end
end

-- lexicographic order: returns false after the last permutation
local function next_perm(a, n)
  local i = n - 1
  while i >= 1 and a[i] >= a[i + 1] do i = i - 1 end
  if i < 1 then return false end
  local j = n
  while a[j] <= a[i] do j = j - 1 end
  a[i], a[j] = a[j], a[i]
  local lo, hi = i + 1, n
  while lo < hi do
    a[lo], a[hi] = a[hi], a[lo]
    lo, hi = lo + 1, hi - 1
  end
  return true
end

local function run(n)
  local a = {}
  local count, xsum, ssum = 0, 0, 0
  local function visit(p)
    count = count + 1
    local h = fold(p, n)
    xsum = xsum ~ h
    ssum = ssum + h
  end
  for i = 1, n do a[i] = i end
  permute_rec(a, n, visit)
  local r = {count, xsum, ssum}
  count, xsum, ssum = 0, 0, 0
  for i = 1, n do a[i] = i end
  permute_heap(a, n, visit)
  local h = {count, xsum, ssum}
  count, xsum, ssum = 0, 0, 0
  for i = 1, n do a[i] = i end
  repeat visit(a) until not next_perm(a, n)
  local l = {count, xsum, ssum}
  for k = 1, 3 do assert(r[k] == h[k] and h[k] == l[k], "permutation sets differ") end
  return r
end

for n = 3, 9 do
  local r = run(n)
  print("permute", n, r[1], r[2], r[3])
end
