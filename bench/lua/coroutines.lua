-- coroutines: generators made with coroutine.wrap, a producer/filter/consumer pipeline driven
-- by resume/yield, values passed both ways through yield, and a round-robin scheduler of many
-- small coroutines; stands for iterator-heavy code, cooperative tasks and stream pipelines.

local wrap, yield, resume, create, status = coroutine.wrap, coroutine.yield, coroutine.resume,
  coroutine.create, coroutine.status

local sum = 0
local function add(n) sum = (sum * 31 + n) % 1000000007 end

-- generators
local function range(n)
  return wrap(function() for i = 1, n do yield(i) end end)
end

local function tree_walk(depth)
  local function walk(d, id)
    if d == 0 then yield(id) return end
    walk(d - 1, id * 2)
    walk(d - 1, id * 2 + 1)
  end
  return wrap(function() walk(depth, 1) end)
end

for _ = 1, 25 do
  local s = 0
  for i in range(30000) do s = s + i end
  add(s)
  local t = 0
  for leaf in tree_walk(13) do t = t + leaf % 1000 end
  add(t)
end

-- a pipeline: source -> filter -> map -> sink, each stage a coroutine pulling from the last
local function source(n)
  return create(function()
    local x = 1
    for _ = 1, n do
      x = (x * 75 + 74) % 65537
      yield(x)
    end
  end)
end

local function pull(co)
  local ok, v = resume(co)
  if not ok then error(v) end
  return v
end

local function filter(up, pred)
  return create(function()
    while true do
      local v = pull(up)
      if v == nil then return end
      if pred(v) then yield(v) end
    end
  end)
end

local function map(up, f)
  return create(function()
    while true do
      local v = pull(up)
      if v == nil then return end
      yield(f(v))
    end
  end)
end

for round = 1, 6 do
  local p = map(filter(source(100000), function(v) return v % 3 ~= round % 3 end),
                function(v) return v * 2 + round end)
  local count, total = 0, 0
  while true do
    local v = pull(p)
    if v == nil then break end
    count = count + 1
    total = total + v
  end
  add(count); add(total)
end

-- values in both directions: an accumulator that receives numbers through resume
local acc = create(function(first)
  local total, n = first, 1
  while true do
    local v = yield(total, n)
    if v == nil then return total end
    total = total + v
    n = n + 1
  end
end)
local _, t, n = resume(acc, 0)
for i = 1, 300000 do _, t, n = resume(acc, i % 7) end
add(t); add(n)

-- a round-robin scheduler of many tasks, each yielding a varying number of times
local tasks = {}
for i = 1, 5000 do
  tasks[i] = create(function()
    local steps = 5 + i % 17
    local local_sum = 0
    for k = 1, steps do
      local_sum = local_sum + k * i
      yield()
    end
    return local_sum
  end)
end
local alive, finished, results = #tasks, 0, 0
while alive > 0 do
  for i = 1, #tasks do
    local co = tasks[i]
    if co and status(co) == "suspended" then
      local ok, r = resume(co)
      if status(co) == "dead" then
        alive = alive - 1
        finished = finished + 1
        results = (results + r) % 1000000007
        tasks[i] = false
      end
    end
  end
end
add(finished); add(results)

print("coroutines", finished, results, sum)
