-- graph: builds a pseudo-random weighted directed graph as adjacency arrays, then runs
-- Dijkstra's shortest paths with a binary heap, breadth-first search, and Kahn's topological
-- sort of a generated DAG; stands for routing/dependency code over integer-indexed tables.

local seed = 42
local function rand(n)
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % n
end

local N, DEGREE = 30000, 6

-- adjacency: adj[v] = {to1, w1, to2, w2, ...}
local function make_graph(n, degree)
  local adj = {}
  for v = 1, n do adj[v] = {} end
  for v = 1, n do
    local edges = adj[v]
    -- a ring keeps every vertex reachable; the rest are random
    edges[1], edges[2] = v % n + 1, 1 + rand(100)
    for _ = 2, degree do
      edges[#edges + 1] = 1 + rand(n)
      edges[#edges + 1] = 1 + rand(100)
    end
  end
  return adj
end

-- binary min-heap of (dist, vertex) pairs in two parallel arrays
local function dijkstra(adj, n, src)
  local dist = {}
  for v = 1, n do dist[v] = math.maxinteger end
  local hd, hv, size = {}, {}, 0
  local function push(d, v)
    size = size + 1
    local i = size
    while i > 1 do
      local p = i // 2
      if hd[p] <= d then break end
      hd[i], hv[i] = hd[p], hv[p]
      i = p
    end
    hd[i], hv[i] = d, v
  end
  local function pop()
    local d, v = hd[1], hv[1]
    local ld, lv = hd[size], hv[size]
    hd[size], hv[size] = nil, nil
    size = size - 1
    if size > 0 then
      local i = 1
      while true do
        local c = i * 2
        if c > size then break end
        if c < size and hd[c + 1] < hd[c] then c = c + 1 end
        if ld <= hd[c] then break end
        hd[i], hv[i] = hd[c], hv[c]
        i = c
      end
      hd[i], hv[i] = ld, lv
    end
    return d, v
  end
  dist[src] = 0
  push(0, src)
  local settled = 0
  while size > 0 do
    local d, v = pop()
    if d == dist[v] then
      settled = settled + 1
      local edges = adj[v]
      for k = 1, #edges, 2 do
        local to, nd = edges[k], d + edges[k + 1]
        if nd < dist[to] then
          dist[to] = nd
          push(nd, to)
        end
      end
    end
  end
  return dist, settled
end

local function bfs(adj, n, src)
  local level = {}
  for v = 1, n do level[v] = -1 end
  local queue, head, tail = {src}, 1, 1
  level[src] = 0
  while head <= tail do
    local v = queue[head]
    head = head + 1
    local edges, lv = adj[v], level[v] + 1
    for k = 1, #edges, 2 do
      local to = edges[k]
      if level[to] < 0 then
        level[to] = lv
        tail = tail + 1
        queue[tail] = to
      end
    end
  end
  return level, tail
end

-- a DAG over shuffled labels: an edge goes from a lower rank to a higher one
local function make_dag(n, degree)
  local label = {}
  for i = 1, n do label[i] = i end
  for i = n, 2, -1 do
    local j = 1 + rand(i)
    label[i], label[j] = label[j], label[i]
  end
  local succ = {}
  for v = 1, n do succ[v] = {} end
  for r = 1, n - 1 do
    local s = succ[label[r]]
    for _ = 1, degree do
      local r2 = r + 1 + rand(math.min(n - r, 50))
      if r2 <= n then s[#s + 1] = label[r2] end
    end
  end
  return succ
end

local function topo_sort(succ, n)
  local indeg = {}
  for v = 1, n do indeg[v] = 0 end
  for v = 1, n do
    local s = succ[v]
    for k = 1, #s do indeg[s[k]] = indeg[s[k]] + 1 end
  end
  local order, head = {}, 1
  for v = 1, n do if indeg[v] == 0 then order[#order + 1] = v end end
  while head <= #order do
    local v = order[head]
    head = head + 1
    local s = succ[v]
    for k = 1, #s do
      local w = s[k]
      indeg[w] = indeg[w] - 1
      if indeg[w] == 0 then order[#order + 1] = w end
    end
  end
  return order
end

local adj = make_graph(N, DEGREE)
local dsum, settled_total, bsum, reached_total = 0, 0, 0, 0
for src = 1, N, N // 4 do
  local dist, settled = dijkstra(adj, N, src)
  for v = 1, N do dsum = dsum + dist[v] end
  settled_total = settled_total + settled
  local level, reached = bfs(adj, N, src)
  for v = 1, N do bsum = bsum + level[v] end
  reached_total = reached_total + reached
end
print("dijkstra", dsum, settled_total, "bfs", bsum, reached_total)

local succ = make_dag(N, 4)
local order = topo_sort(succ, N)
local pos, ok, osum = {}, #order == N, 0
for i, v in ipairs(order) do pos[v] = i; osum = (osum * 7 + v) % 1000000007 end
for v = 1, N do
  for _, w in ipairs(succ[v]) do if pos[v] >= pos[w] then ok = false end end
end
print("topo", #order, ok, osum)
