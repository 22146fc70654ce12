-- storage: builds trees of arrays (each node a table of 4 children, leaves sized arrays of
-- varying length) many times over, keeping only a few alive; allocation-heavy with short
-- object lifetimes; stands for programs that churn the collector (parsers, builders).

local seed = 74755
local function rand(n)
  seed = (seed * 1309 + 13849) & 0xffff
  return seed % n
end

local live_count = 0

local function build(depth)
  live_count = live_count + 1
  if depth == 1 then
    local leaf = {}
    for i = 1, 1 + rand(10) do leaf[i] = i end
    return leaf
  end
  local node = {}
  for i = 1, 4 do node[i] = build(depth - 1) end
  return node
end

local function weigh(t)
  local n = #t
  if type(t[1]) == "table" then
    local s = 0
    for i = 1, n do s = s + weigh(t[i]) end
    return s
  end
  return n
end

local keep = {}
local total = 0
for round = 1, 100 do
  local tree = build(7)
  total = total + weigh(tree)
  keep[round % 3 + 1] = tree -- a few trees survive for a while
  -- strings and closures too: short-lived objects of other kinds
  local labels = {}
  for i = 1, 500 do labels[i] = "node" .. (round * 1000 + i) end
  local fs = {}
  for i = 1, 500 do fs[i] = function() return i + round end end
  total = total + #labels[500] + fs[250]()
end
local kept = 0
for i = 1, 3 do kept = kept + weigh(keep[i]) end
print("storage", live_count, total, kept)
