-- deltablue: an incremental one-way constraint solver (variables, equality/scale/stay/edit
-- constraints with strengths, walkabout-strength planning, plans re-executed on edits), classes
-- with inheritance; stands for OO programs that walk small object graphs through method calls.

local REQUIRED, STRONG_PREFERRED, PREFERRED, STRONG_DEFAULT = 0, 1, 2, 3
local NORMAL, WEAK_DEFAULT, WEAKEST = 4, 5, 6
local FORWARD, BACKWARD = 1, 2

local function stronger(a, b) return a < b end
local function weaker(a, b) return a > b end
local function weakest_of(a, b) if a > b then return a end return b end

local function class(parent)
  local c = {}
  c.__index = c
  if parent then setmetatable(c, {__index = parent}) end
  return c
end

local function remove_item(list, x)
  for i = #list, 1, -1 do
    if list[i] == x then table.remove(list, i) end
  end
end

local planner -- the planner the constraints register with

-- Variables ----------------------------------------------------------------------
local Variable = class()

function Variable.new(value)
  return setmetatable({value = value, constraints = {}, determined_by = nil, mark = 0,
                       walk = WEAKEST, stay = true}, Variable)
end

-- Constraints: the shared protocol -----------------------------------------------
local Constraint = class()

function Constraint:add_constraint()
  self:add_to_graph()
  planner:incremental_add(self)
end

function Constraint:destroy_constraint()
  if self:is_satisfied() then
    planner:incremental_remove(self)
  else
    self:remove_from_graph()
  end
end

function Constraint:is_input() return false end

-- picks a method; returns the constraint it overrode, if any
function Constraint:satisfy(mark)
  self:choose_method(mark)
  if not self:is_satisfied() then
    if self.strength == REQUIRED then error("could not satisfy a required constraint") end
    return nil
  end
  self:mark_inputs(mark)
  local out = self:output()
  local overridden = out.determined_by
  if overridden then overridden:mark_unsatisfied() end
  out.determined_by = self
  if not planner:add_propagate(self, mark) then error("cycle encountered") end
  out.mark = mark
  return overridden
end

-- Unary constraints: stay and edit -------------------------------------------------
local Unary = class(Constraint)

function Unary:init(v, strength)
  self.strength = strength
  self.out = v
  self.satisfied = false
  self:add_constraint()
  return self
end

function Unary:add_to_graph()
  local cs = self.out.constraints
  cs[#cs + 1] = self
  self.satisfied = false
end

function Unary:choose_method(mark)
  self.satisfied = self.out.mark ~= mark and stronger(self.strength, self.out.walk)
end

function Unary:is_satisfied() return self.satisfied end
function Unary:mark_inputs(mark) end
function Unary:output() return self.out end
function Unary:mark_unsatisfied() self.satisfied = false end
function Unary:inputs_known(mark) return true end
function Unary:execute() end

function Unary:recalculate()
  local out = self.out
  out.walk = self.strength
  out.stay = not self:is_input()
  if out.stay then self:execute() end
end

function Unary:remove_from_graph()
  remove_item(self.out.constraints, self)
  self.satisfied = false
end

local Stay = class(Unary)
function Stay.new(v, strength) return setmetatable({}, Stay):init(v, strength) end

local Edit = class(Unary)
function Edit.new(v, strength) return setmetatable({}, Edit):init(v, strength) end
function Edit:is_input() return true end

-- Binary constraints: equality and scale ----------------------------------------
local Binary = class(Constraint)

function Binary:init(v1, v2, strength)
  self.strength = strength
  self.v1 = v1
  self.v2 = v2
  self.direction = nil
  self:add_constraint()
  return self
end

function Binary:choose_method(mark)
  local v1, v2, s = self.v1, self.v2, self.strength
  if v1.mark == mark then
    self.direction = (v2.mark ~= mark and stronger(s, v2.walk)) and FORWARD or nil
  elseif v2.mark == mark then
    self.direction = (v1.mark ~= mark and stronger(s, v1.walk)) and BACKWARD or nil
  elseif weaker(v1.walk, v2.walk) then
    self.direction = stronger(s, v1.walk) and BACKWARD or nil
  else
    self.direction = stronger(s, v2.walk) and FORWARD or nil
  end
end

function Binary:add_to_graph()
  local c1, c2 = self.v1.constraints, self.v2.constraints
  c1[#c1 + 1] = self
  c2[#c2 + 1] = self
  self.direction = nil
end

function Binary:is_satisfied() return self.direction ~= nil end
function Binary:mark_inputs(mark) self:input().mark = mark end
function Binary:input() if self.direction == FORWARD then return self.v1 end return self.v2 end
function Binary:output() if self.direction == FORWARD then return self.v2 end return self.v1 end
function Binary:mark_unsatisfied() self.direction = nil end

function Binary:inputs_known(mark)
  local i = self:input()
  return i.mark == mark or i.stay or i.determined_by == nil
end

function Binary:recalculate()
  local ihn, out = self:input(), self:output()
  out.walk = weakest_of(self.strength, ihn.walk)
  out.stay = ihn.stay
  if out.stay then self:execute() end
end

function Binary:remove_from_graph()
  remove_item(self.v1.constraints, self)
  remove_item(self.v2.constraints, self)
  self.direction = nil
end

local Equality = class(Binary)
function Equality.new(a, b, strength) return setmetatable({}, Equality):init(a, b, strength) end
function Equality:execute() self:output().value = self:input().value end

-- v2 = v1 * scale + offset
local Scale = class(Binary)

function Scale.new(src, scale, offset, dst, strength)
  local c = setmetatable({scale = scale, offset = offset}, Scale)
  return c:init(src, dst, strength)
end

function Scale:add_to_graph()
  Binary.add_to_graph(self)
  local cs, co = self.scale.constraints, self.offset.constraints
  cs[#cs + 1] = self
  co[#co + 1] = self
end

function Scale:remove_from_graph()
  Binary.remove_from_graph(self)
  remove_item(self.scale.constraints, self)
  remove_item(self.offset.constraints, self)
end

function Scale:mark_inputs(mark)
  Binary.mark_inputs(self, mark)
  self.scale.mark = mark
  self.offset.mark = mark
end

function Scale:execute()
  if self.direction == FORWARD then
    self.v2.value = self.v1.value * self.scale.value + self.offset.value
  else
    self.v1.value = (self.v2.value - self.offset.value) // self.scale.value
  end
end

function Scale:recalculate()
  local ihn, out = self:input(), self:output()
  out.walk = weakest_of(self.strength, ihn.walk)
  out.stay = ihn.stay and self.scale.stay and self.offset.stay
  if out.stay then self:execute() end
end

-- Plans ----------------------------------------------------------------------------
local Plan = class()
function Plan.new() return setmetatable({n = 0}, Plan) end
function Plan:add(c) self.n = self.n + 1; self[self.n] = c end
function Plan:execute() for i = 1, self.n do self[i]:execute() end end

-- Planner --------------------------------------------------------------------------
local Planner = class()

function Planner.new() return setmetatable({current_mark = 0}, Planner) end

function Planner:new_mark()
  self.current_mark = self.current_mark + 1
  return self.current_mark
end

function Planner:incremental_add(c)
  local mark = self:new_mark()
  local overridden = c:satisfy(mark)
  while overridden do overridden = overridden:satisfy(mark) end
end

function Planner:incremental_remove(c)
  local out = c:output()
  c:mark_unsatisfied()
  c:remove_from_graph()
  local unsatisfied = self:remove_propagate_from(out)
  for strength = REQUIRED, WEAKEST do
    for i = 1, #unsatisfied do
      local u = unsatisfied[i]
      if u.strength == strength then self:incremental_add(u) end
    end
  end
end

local function add_consumers(v, list)
  local determining = v.determined_by
  local cs = v.constraints
  for i = 1, #cs do
    local c = cs[i]
    if c ~= determining and c:is_satisfied() then list[#list + 1] = c end
  end
end

function Planner:make_plan(sources)
  local mark = self:new_mark()
  local plan = Plan.new()
  local todo, head = sources, 1
  while head <= #todo do
    local c = todo[head]
    head = head + 1
    local out = c:output()
    if out.mark ~= mark and c:inputs_known(mark) then
      plan:add(c)
      out.mark = mark
      add_consumers(out, todo)
    end
  end
  return plan
end

function Planner:extract_plan(constraints)
  local sources = {}
  for i = 1, #constraints do
    local c = constraints[i]
    if c:is_input() and c:is_satisfied() then sources[#sources + 1] = c end
  end
  return self:make_plan(sources)
end

function Planner:add_propagate(c, mark)
  local todo = {c}
  while #todo > 0 do
    local d = table.remove(todo)
    if d:output().mark == mark then
      self:incremental_remove(c)
      return false
    end
    d:recalculate()
    add_consumers(d:output(), todo)
  end
  return true
end

function Planner:remove_propagate_from(out)
  out.determined_by = nil
  out.walk = WEAKEST
  out.stay = true
  local unsatisfied, todo = {}, {out}
  while #todo > 0 do
    local v = table.remove(todo)
    local cs = v.constraints
    for i = 1, #cs do
      local c = cs[i]
      if not c:is_satisfied() then unsatisfied[#unsatisfied + 1] = c end
    end
    local determining = v.determined_by
    for i = 1, #cs do
      local nxt = cs[i]
      if nxt ~= determining and nxt:is_satisfied() then
        nxt:recalculate()
        todo[#todo + 1] = nxt:output()
      end
    end
  end
  return unsatisfied
end

-- The two classic workloads ------------------------------------------------------------
local failures = 0
local function check(ok) if not ok then failures = failures + 1 end end

-- a chain of equalities: edit the first variable, the last one follows
local function chain_test(n)
  planner = Planner.new()
  local vars = {}
  for i = 0, n do vars[i] = Variable.new(0) end
  for i = 1, n do Equality.new(vars[i - 1], vars[i], REQUIRED) end
  Stay.new(vars[n], STRONG_DEFAULT)
  local edit = Edit.new(vars[0], PREFERRED)
  local plan = planner:extract_plan({edit})
  local sum = 0
  for i = 1, 100 do
    vars[0].value = i
    plan:execute()
    check(vars[n].value == i)
    sum = sum + vars[n].value
  end
  edit:destroy_constraint()
  return sum
end

local function change(v, value)
  local edit = Edit.new(v, PREFERRED)
  local plan = planner:extract_plan({edit})
  for _ = 1, 10 do
    v.value = value
    plan:execute()
  end
  edit:destroy_constraint()
end

-- n scale constraints sharing one scale and one offset, edited from both ends
local function projection_test(n)
  planner = Planner.new()
  local scale, offset = Variable.new(10), Variable.new(1000)
  local src, dst
  local dests = {}
  for i = 0, n - 1 do
    src, dst = Variable.new(i), Variable.new(i)
    dests[#dests + 1] = dst
    Stay.new(src, NORMAL)
    Scale.new(src, scale, offset, dst, REQUIRED)
  end
  change(src, 17)
  check(dst.value == 1170)
  change(dst, 1050)
  check(src.value == 5)
  -- the last source is 5 now (edited through its destination); the others kept theirs
  change(scale, 5)
  for i = 1, n - 1 do check(dests[i].value == (i - 1) * 5 + 1000) end
  check(dst.value == 5 * 5 + 1000)
  change(offset, 2000)
  local sum = 0
  for i = 1, n - 1 do
    check(dests[i].value == (i - 1) * 5 + 2000)
    sum = sum + dests[i].value
  end
  check(dst.value == 5 * 5 + 2000)
  return sum + dst.value
end

local total = 0
for _ = 1, 60 do
  total = total + chain_test(200) + projection_test(200)
end
print("deltablue", total, "failures", failures)
