-- bounce: balls as objects with position and velocity fields bouncing inside a box, counting
-- wall hits; many small method calls and field updates on a few hundred objects; stands for
-- game/simulation loops over entity objects.

local seed = 4321
local function rand(n)
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % n
end

local Ball = {}
Ball.__index = Ball

function Ball.new()
  return setmetatable({x = rand(500), y = rand(500), vx = rand(300) - 150, vy = rand(300) - 150},
                      Ball)
end

local LIMIT = 500

-- moves one step; returns true if the ball hit a wall
function Ball:bounce()
  local bounced = false
  self.x = self.x + self.vx
  self.y = self.y + self.vy
  if self.x > LIMIT then self.x = LIMIT; self.vx = -math.abs(self.vx); bounced = true end
  if self.x < 0 then self.x = 0; self.vx = math.abs(self.vx); bounced = true end
  if self.y > LIMIT then self.y = LIMIT; self.vy = -math.abs(self.vy); bounced = true end
  if self.y < 0 then self.y = 0; self.vy = math.abs(self.vy); bounced = true end
  return bounced
end

function Ball:energy() return self.vx * self.vx + self.vy * self.vy end

local total_bounces, energy, pos = 0, 0, 0
for _ = 1, 100 do
  local balls = {}
  for i = 1, 200 do balls[i] = Ball.new() end
  for _ = 1, 200 do
    for i = 1, #balls do
      if balls[i]:bounce() then total_bounces = total_bounces + 1 end
    end
  end
  for i = 1, #balls do
    local b = balls[i]
    energy = energy + b:energy()
    pos = (pos * 31 + b.x * 501 + b.y) % 1000000007
  end
end
print("bounce", total_bounces, energy, pos)
