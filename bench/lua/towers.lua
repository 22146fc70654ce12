-- towers: solves the towers of Hanoi recursively with three pegs kept as stack tables of disc
-- objects (checking that no disc lands on a smaller one), then again iteratively; stands for
-- recursive algorithms moving small objects between table-based stacks.

local function new_disc(size) return {size = size} end

local Peg = {}
Peg.__index = Peg

function Peg.new(name) return setmetatable({name = name, n = 0}, Peg) end

function Peg:push(disc)
  local top = self[self.n]
  if top and top.size < disc.size then error("cannot put a disc on a smaller one") end
  self.n = self.n + 1
  self[self.n] = disc
end

function Peg:pop()
  local n = self.n
  if n == 0 then error("peg " .. self.name .. " is empty") end
  local disc = self[n]
  self[n] = nil
  self.n = n - 1
  return disc
end

local function build(discs)
  local pegs = {Peg.new("a"), Peg.new("b"), Peg.new("c")}
  for s = discs, 1, -1 do pegs[1]:push(new_disc(s)) end
  return pegs
end

local moves, weight = 0, 0
local function move(from, to)
  local d = from:pop()
  to:push(d)
  moves = moves + 1
  weight = (weight + d.size * moves) % 1000000007
end

local function hanoi(n, from, to, via)
  if n == 0 then return end
  hanoi(n - 1, from, via, to)
  move(from, to)
  hanoi(n - 1, via, to, from)
end

-- the iterative solution: alternate the smallest disc's move with the only other legal one
local function hanoi_iter(pegs, n)
  local order = n % 2 == 0 and {1, 2, 3} or {1, 3, 2}
  local small = 1
  local total = (1 << n) - 1
  for k = 1, total do
    if k % 2 == 1 then
      local nxt = small % 3 + 1
      move(pegs[order[small]], pegs[order[nxt]])
      small = nxt
    else
      local x, y
      if small == 1 then x, y = 2, 3 elseif small == 2 then x, y = 1, 3 else x, y = 1, 2 end
      local px, py = pegs[order[x]], pegs[order[y]]
      local tx, ty = px[px.n], py[py.n]
      if tx and (not ty or tx.size < ty.size) then move(px, py) else move(py, px) end
    end
  end
end

for round = 1, 4 do
  local pegs = build(18)
  hanoi(18, pegs[1], pegs[3], pegs[2])
  assert(pegs[3].n == 18 and pegs[1].n == 0)
end
local pegs = build(19)
hanoi_iter(pegs, 19)
assert(pegs[3].n == 19 or pegs[2].n == 19)
print("towers", moves, weight)
