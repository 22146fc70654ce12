-- list: singly linked lists made of {value, next} tables: building, reversing, merging, a
-- merge sort by splitting, filtering, and the classic "tail-is-shorter" recursion over
-- three lists; stands for pointer-chasing code (queues, ASTs, persistent structures).

local seed = 99
local function rand(n)
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % n
end

local function cons(v, nxt) return {v = v, next = nxt} end

local function from_random(n)
  local l = nil
  for _ = 1, n do l = cons(rand(100000), l) end
  return l
end

local function length(l)
  local n = 0
  while l do n = n + 1; l = l.next end
  return n
end

local function reverse(l)
  local r = nil
  while l do
    local nxt = l.next
    l.next = r
    r = l
    l = nxt
  end
  return r
end

local function merge(a, b)
  local head = {}
  local tail = head
  while a and b do
    if b.v < a.v then tail.next = b; b = b.next
    else tail.next = a; a = a.next end
    tail = tail.next
  end
  tail.next = a or b
  return head.next
end

local function sort(l)
  if l == nil or l.next == nil then return l end
  -- split with a slow and a fast pointer
  local slow, fast = l, l.next
  while fast and fast.next do slow = slow.next; fast = fast.next.next end
  local second = slow.next
  slow.next = nil
  return merge(sort(l), sort(second))
end

local function filter(l, pred)
  local head = {}
  local tail = head
  while l do
    if pred(l.v) then tail.next = cons(l.v, nil); tail = tail.next end
    l = l.next
  end
  return head.next
end

local function fold(l)
  local h = 0
  while l do h = (h * 31 + l.v) % 1000000007; l = l.next end
  return h
end

-- the "list" benchmark shape: lists of decreasing lengths and a recursion on their lengths
local function make_list(n)
  if n == 0 then return nil end
  return cons(n, make_list(n - 1))
end

local function is_shorter(x, y)
  while y do
    if x == nil then return true end
    x, y = x.next, y.next
  end
  return false
end

local function tail(x, y, z)
  if is_shorter(y, x) then
    return tail(tail(x.next, y, z), tail(y.next, z, x), tail(z.next, x, y))
  end
  return z
end

local sum = 0
local function add(n) sum = (sum * 31 + n) % 1000000007 end

for _ = 1, 4 do
  local l = from_random(50000)
  add(fold(l))
  l = reverse(l)
  add(fold(l))
  l = sort(l)
  add(fold(l))
  local prev, ok = -1, true
  local p = l
  while p do if p.v < prev then ok = false end; prev = p.v; p = p.next end
  add(ok and 1 or 0)
  local evens = filter(l, function(v) return v % 2 == 0 end)
  add(length(evens))
  add(fold(merge(evens, filter(l, function(v) return v % 3 == 0 end))))
end

local r
for _ = 1, 20 do r = tail(make_list(15), make_list(10), make_list(6)) end
add(length(r))
print("list", length(r), sum)
