-- cd: collision detection between moving aircraft: each frame every aircraft moves along its
-- velocity, motions are bucketed into a 2D grid of cells, and pairs sharing a cell are tested
-- for closest approach during the frame with small {x, y, z} vector tables; stands for
-- geometry/physics code doing float vector math with many short-lived small tables.

local seed = 31337
local function rand(n)
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % n
end

local function vec(x, y, z) return {x = x, y = y, z = z} end
local function sub(a, b) return vec(a.x - b.x, a.y - b.y, a.z - b.z) end
local function add(a, b) return vec(a.x + b.x, a.y + b.y, a.z + b.z) end
local function scale(a, s) return vec(a.x * s, a.y * s, a.z * s) end
local function dot(a, b) return a.x * b.x + a.y * b.y + a.z * b.z end

local RADIUS, CELL, SIZE = 1.0, 4.0, 200.0
local N_AIRCRAFT, FRAMES = 400, 150

local aircraft = {}
for i = 1, N_AIRCRAFT do
  aircraft[i] = {
    id = i,
    pos = vec(rand(2000) / 10, rand(2000) / 10, 10.0 + rand(20) / 10),
    vel = vec((rand(200) - 100) / 50, (rand(200) - 100) / 50, (rand(20) - 10) / 100),
  }
end

-- closest approach of two points moving linearly during t in [0, 1]
local function collide(a0, a1, b0, b1)
  local d0 = sub(a0, b0)
  local dv = sub(sub(a1, a0), sub(b1, b0))
  local vv = dot(dv, dv)
  local t = 0.0
  if vv > 1e-12 then
    t = -dot(d0, dv) / vv
    if t < 0.0 then t = 0.0 elseif t > 1.0 then t = 1.0 end
  end
  local closest = add(d0, scale(dv, t))
  return dot(closest, closest) <= RADIUS * RADIUS * 4
end

local function cell_of(p)
  return (p.x // CELL) * 1000 + (p.y // CELL)
end

local collisions, tests, hash = 0, 0, 0
for frame = 1, FRAMES do
  -- move, wrapping around the square so the density stays the same
  local motions = {}
  for i = 1, N_AIRCRAFT do
    local a = aircraft[i]
    local old = a.pos
    local new = add(old, a.vel)
    if new.x < 0 then new.x = new.x + SIZE elseif new.x >= SIZE then new.x = new.x - SIZE end
    if new.y < 0 then new.y = new.y + SIZE elseif new.y >= SIZE then new.y = new.y - SIZE end
    motions[i] = {a = a, from = old, to = new}
    a.pos = new
  end
  -- a motion goes into every cell its end points fall in and their neighbours
  local grid = {}
  for i = 1, N_AIRCRAFT do
    local m = motions[i]
    local seen = {}
    for _, p in ipairs({m.from, m.to}) do
      local cx, cy = p.x // CELL, p.y // CELL
      for dx = -1, 1 do
        for dy = -1, 1 do
          local key = (cx + dx) * 1000 + (cy + dy)
          if not seen[key] then
            seen[key] = true
            local cell = grid[key]
            if not cell then cell = {}; grid[key] = cell end
            cell[#cell + 1] = m
          end
        end
      end
    end
  end
  -- a pair is tested in the cell of the lower-numbered aircraft's start only
  for i = 1, N_AIRCRAFT do
    local m = motions[i]
    local cell = grid[cell_of(m.from)]
    for k = 1, #cell do
      local o = cell[k]
      if o.a.id > m.a.id then
        tests = tests + 1
        if collide(m.from, m.to, o.from, o.to) then
          collisions = collisions + 1
          hash = (hash * 31 + m.a.id * 1000 + o.a.id + frame) % 1000000007
        end
      end
    end
  end
end
print("cd", collisions, tests, hash)
