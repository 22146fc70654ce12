-- <const> and <close> variables (manual 3.3.8).
local log = {}
local function L(s) log[#log + 1] = s end
local function closer(name)
  return setmetatable({}, {__close = function(o, e)
    L(name .. (e == nil and "" or ":" .. tostring(e)))
  end})
end
local function flush() local s = table.concat(log, " "); log = {}; return s end

-- const
local K <const> = 10
local S <const> = "str"
assert(K * 2 == 20 and S .. "!" == "str!")
do
  local f = function() return K + 1 end
  assert(f() == 11)
end

-- normal block exit, reverse order
do
  local a <close> = closer("a")
  local b <close> = closer("b")
  local c <close> = nil      -- nil and false are allowed and ignored
  local d <close> = false
  L("body")
end
print(flush())

-- break
for i = 1, 3 do
  local x <close> = closer("x" .. i)
  if i == 2 then break end
end
print(flush())

-- return
local function ret()
  local r <close> = closer("r")
  return "value", 2
end
print(ret(), flush())

-- return value is computed before closing
local function ret2()
  local t = {n = 1}
  local c <close> = setmetatable({}, {__close = function() t.n = 99 end})
  return t.n
end
assert(ret2() == 1)

-- goto out of block
do
  local i = 0
  ::again::
  do
    local g <close> = closer("g" .. i)
    i = i + 1
    if i < 3 then goto again end
  end
end
print(flush())

-- error: the error object is passed as second argument
local ok, e = pcall(function()
  local a <close> = closer("a")
  local b <close> = closer("b")
  error("boom", 0)
end)
print(ok, e, flush())
ok, e = pcall(function()
  local t <close> = closer("t")
  error({code = 7})
end)
print(ok, type(e), e.code, (flush():gsub("table: [^ ]*", "TABLE")))

-- error inside __close replaces the error; other closers still run
ok, e = pcall(function()
  local a <close> = closer("a")
  local bad <close> = setmetatable({}, {__close = function(_, err) L("bad:" .. tostring(err)); error("in close", 0) end})
  local c <close> = closer("c")
  error("orig", 0)
end)
print(ok, e, flush())
ok, e = pcall(function()
  local a <close> = closer("a")
  local bad <close> = setmetatable({}, {__close = function() error("close only", 0) end})
  return "not returned"
end)
print(ok, e, flush())

-- generic for: 4th value closed when loop ends or breaks
local function range(n)
  local i = 0
  return function() i = i + 1; if i <= n then return i end end, nil, nil, closer("for" .. n)
end
for i in range(2) do L("i" .. i) end
print(flush())
for i in range(5) do L("i" .. i); if i == 2 then break end end
print(flush())
ok, e = pcall(function() for i in range(3) do error("in loop", 0) end end)
print(ok, e, flush())
local function findit()
  for i in range(9) do if i == 3 then return i end end
end
print(findit(), flush())

-- non-closable values
print(pcall(function() local x <close> = {} end))
print(pcall(function() local y <close> = 42 end))
print(pcall(function() local z <close> = setmetatable({}, {}) end))
ok, e = pcall(function() for i in next, {1}, nil, 1 do end end)
print(ok, e)

-- nested blocks and closures referencing closed variables
do
  local outer <close> = closer("outer")
  do
    local inner <close> = closer("inner")
    L("in")
  end
  L("mid")
end
print(flush())

-- close in coroutines is done on normal termination too
local co = coroutine.wrap(function()
  local c <close> = closer("co")
  coroutine.yield(1)
  return 2
end)
print(co(), flush())
print(co(), flush())

-- compile errors
print(load("local x <const> = 1; x = 2"))
print(load("local x <const> = 1; local function f() x = 3 end"))
print(load("local a <close>, b <close> = 1, 2"))
print(load("local x <foo> = 1"))
print(load("local x <close> = nil; x = 1"))
-- const does not require constant initializers
local n <const> = #log + 1
assert(n == 1)
print("OK closes")
