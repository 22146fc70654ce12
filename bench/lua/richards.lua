-- richards: an operating-system style task scheduler (idle, worker, handler and device tasks
-- passing packets through queues), classes built with metatables; stands for OO programs whose
-- time goes to method dispatch, field access and small-object queues.

local function class(parent)
  local c = {}
  c.__index = c
  if parent then setmetatable(c, {__index = parent}) end
  return c
end

-- Packets -----------------------------------------------------------------
local Packet = class()

function Packet.new(link, owner, kind)
  local p = setmetatable({}, Packet)
  p.link = link
  p.owner = owner
  p.kind = kind
  p.count = 0
  p.data = {0, 0, 0, 0}
  return p
end

-- appends self (a single packet) to the queue that starts at head; returns the new head
function Packet:append_to(head)
  self.link = nil
  if head == nil then return self end
  local q = head
  while q.link do q = q.link end
  q.link = self
  return head
end

-- Task control blocks --------------------------------------------------------
local ID_IDLE, ID_WORKER, ID_HANDLER_A, ID_HANDLER_B = 1, 2, 3, 4
local ID_DEVICE_A, ID_DEVICE_B = 5, 6
local KIND_DEVICE, KIND_WORK = 1, 2

local Task = class()

function Task:init(sched, id, priority, queue)
  self.sched = sched
  self.id = id
  self.priority = priority
  self.queue = queue
  self.held = false
  self.waiting = queue == nil
  self.next = sched.list
  sched.list = self
  sched.tasks[id] = self
end

function Task:runnable()
  return not self.held and (not self.waiting or self.queue ~= nil)
end

-- a packet arrives for this task; returns the task the scheduler should look at next
function Task:deliver(pkt, current)
  if self.queue == nil then
    self.queue = pkt
    self.waiting = false
    if self.priority > current.priority then return self end
  else
    self.queue = pkt:append_to(self.queue)
  end
  return current
end

function Task:take()
  local pkt = self.queue
  self.queue = pkt.link
  pkt.link = nil
  return pkt
end

-- Idle: wakes the devices alternately, driven by a shift register ----------
local Idle = class(Task)

function Idle.new(sched, id, priority, count)
  local t = setmetatable({}, Idle)
  t:init(sched, id, priority, nil)
  t.waiting = false
  t.reg = 1
  t.count = count
  return t
end

function Idle:step(pkt)
  self.count = self.count - 1
  if self.count == 0 then return self.sched:hold_self() end
  if self.reg & 1 == 0 then
    self.reg = self.reg >> 1
    return self.sched:release(ID_DEVICE_A)
  else
    self.reg = (self.reg >> 1) ~ 0xD008
    return self.sched:release(ID_DEVICE_B)
  end
end

-- Worker: fills work packets with letters and sends them to the handlers ----
local Worker = class(Task)

function Worker.new(sched, id, priority, queue)
  local t = setmetatable({}, Worker)
  t:init(sched, id, priority, queue)
  t.dest = ID_HANDLER_A
  t.letter = 0
  return t
end

function Worker:step(pkt)
  if pkt == nil then return self.sched:wait() end
  if self.dest == ID_HANDLER_A then self.dest = ID_HANDLER_B else self.dest = ID_HANDLER_A end
  pkt.owner = self.dest
  pkt.count = 0
  local data = pkt.data
  for i = 1, 4 do
    self.letter = self.letter % 26 + 1
    data[i] = self.letter
  end
  return self.sched:send(pkt)
end

-- Handler: pairs work packets with device packets ------------------------------
local Handler = class(Task)

function Handler.new(sched, id, priority, queue)
  local t = setmetatable({}, Handler)
  t:init(sched, id, priority, queue)
  t.work = nil
  t.devices = nil
  return t
end

function Handler:step(pkt)
  if pkt then
    if pkt.kind == KIND_WORK then
      self.work = pkt:append_to(self.work)
    else
      self.devices = pkt:append_to(self.devices)
    end
  end
  local work = self.work
  if work then
    local n = work.count + 1
    if n > 4 then
      self.work = work.link
      return self.sched:send(work)
    end
    local dev = self.devices
    if dev then
      self.devices = dev.link
      dev.count = work.data[n]
      work.count = n
      return self.sched:send(dev)
    end
  end
  return self.sched:wait()
end

-- Device: holds one packet until the idle task releases it ---------------------
local Device = class(Task)

function Device.new(sched, id, priority)
  local t = setmetatable({}, Device)
  t:init(sched, id, priority, nil)
  t.pending = nil
  return t
end

function Device:step(pkt)
  if pkt == nil then
    local p = self.pending
    if p == nil then return self.sched:wait() end
    self.pending = nil
    return self.sched:send(p)
  end
  self.pending = pkt
  self.sched.checksum = (self.sched.checksum * 31 + pkt.count) % 1000003
  return self.sched:hold_self()
end

-- Scheduler --------------------------------------------------------------------
local Scheduler = class()

function Scheduler.new()
  return setmetatable({list = nil, tasks = {}, current = nil, sent = 0, holds = 0,
                       checksum = 0}, Scheduler)
end

function Scheduler:wait()
  self.current.waiting = true
  return self.current
end

function Scheduler:hold_self()
  self.holds = self.holds + 1
  self.current.held = true
  return self.current.next
end

function Scheduler:release(id)
  local t = self.tasks[id]
  t.held = false
  if t.priority > self.current.priority then return t end
  return self.current
end

function Scheduler:send(pkt)
  local t = self.tasks[pkt.owner]
  self.sent = self.sent + 1
  pkt.link = nil
  pkt.owner = self.current.id
  return t:deliver(pkt, self.current)
end

-- tasks are kept in decreasing priority order: the list is built from the lowest up
function Scheduler:run()
  local t = self.list
  while t do
    if t:runnable() then
      self.current = t
      local pkt = nil
      if t.queue then pkt = t:take() end
      t.waiting = false
      t = t:step(pkt)
    else
      t = t.next
    end
  end
end

local function one_run(count)
  local s = Scheduler.new()
  Idle.new(s, ID_IDLE, 0, count)
  local q = Packet.new(nil, ID_WORKER, KIND_WORK)
  q = Packet.new(q, ID_WORKER, KIND_WORK)
  Worker.new(s, ID_WORKER, 1000, q)
  q = Packet.new(nil, ID_DEVICE_A, KIND_DEVICE)
  q = Packet.new(q, ID_DEVICE_A, KIND_DEVICE)
  q = Packet.new(q, ID_DEVICE_A, KIND_DEVICE)
  Handler.new(s, ID_HANDLER_A, 2000, q)
  q = Packet.new(nil, ID_DEVICE_B, KIND_DEVICE)
  q = Packet.new(q, ID_DEVICE_B, KIND_DEVICE)
  q = Packet.new(q, ID_DEVICE_B, KIND_DEVICE)
  Handler.new(s, ID_HANDLER_B, 3000, q)
  Device.new(s, ID_DEVICE_A, 4000)
  Device.new(s, ID_DEVICE_B, 5000)
  s:run()
  return s
end

local sent, holds, sum = 0, 0, 0
for r = 1, 20 do
  local s = one_run(10000 + r)
  sent = sent + s.sent
  holds = holds + s.holds
  sum = (sum + s.checksum) % 1000003
end
print("sent", sent, "holds", holds, "checksum", sum)
