-- Debug hooks, debug.getlocal/setlocal at stack levels, yieldable __close, light userdata.

-- call/line/return events of a coroutine's own hook
do
  local co = coroutine.create(function ()
    coroutine.yield(10)
    return 20
  end)
  local trace = {}
  debug.sethook(co, function (event) trace[#trace + 1] = event end, "clr")
  repeat until not coroutine.resume(co)
  print("coroutine trace", table.concat(trace, " "))
end

-- line and call events with lines, and gethook
do
  local t = {}
  debug.sethook(function (e, l) t[#t + 1] = e .. (l and (":" .. l) or "") end, "crl")
  local function f(x)
    return x + 1
  end
  local a = f(1)
  a = a + 1
  debug.sethook()
  print("events", table.concat(t, " "))
  print("gethook after reset", debug.gethook())
  local h = function () end
  debug.sethook(h, "lc", 7)
  local fh, mask, count = debug.gethook()
  debug.sethook()
  print("gethook", fh == h, mask, count)
end

-- a loop fires a line event per iteration, even on one line
do
  local lines = 0
  debug.sethook(function (e, l) lines = lines + 1 end, "l")
  for i = 1, 5 do local x = i end
  debug.sethook()
  print("loop line events", lines)
end

-- count hook (instructions of the hook itself count too, as in C Lua)
do
  local n = 0
  debug.sethook(function () n = n + 1 end, "", 100)
  for i = 1, 10000 do end
  debug.sethook()
  print("count events", n)
end

-- the hook sees the hooked function at level 2
do
  local names = {}
  local function hook(event)
    local info = debug.getinfo(2, "nSl")
    names[#names + 1] = event .. " " .. tostring(info.name) .. " " .. info.what
  end
  local function target() return 1 end
  debug.sethook(hook, "cr")
  target()
  debug.sethook()
  print("hook levels", table.concat(names, ", "))
end

-- return hooks run after __close handlers
do
  local trace = {}
  local function hook(event)
    trace[#trace + 1] = event .. " " .. (debug.getinfo(2).name or "?")
  end
  local function closer(f) return setmetatable({}, {__close = f}) end
  local function foo(...)
    local x <close> = closer(function () trace[#trace + 1] = "x" end)
    local y <close> = closer(function () debug.sethook(hook, "r") end)
    return ...
  end
  local t = {foo(10, 20, 30)}
  debug.sethook()
  print("close and return hooks", table.concat(t, " "), table.concat(trace, ", "))
end

-- an error in a hook is an error of the hooked code
do
  local ok, msg = pcall(function ()
    local fired = false
    debug.sethook(function ()
      if not fired then fired = true; error("from hook") end
    end, "l")
    local a = 1
  end)
  debug.sethook()
  print("hook error", ok, msg)
end

-- getlocal/setlocal at stack levels, temporaries and varargs
do
  local function f(a, b, ...)
    local c = a + b
    print("params", debug.getlocal(1, 1), debug.getlocal(1, 2), debug.getlocal(1, 3))
    print("varargs", debug.getlocal(1, -1), debug.getlocal(1, -2), debug.getlocal(1, -3))
    print("setlocal", debug.setlocal(1, 3, 100), c)
    print("caller's local", (debug.getlocal(2, 1)))
    print("missing", debug.getlocal(1, 50))
  end
  local zz = 5
  f(1, 2, "x", "y")
  print("level out of range", pcall(debug.getlocal, 50, 1))
  print("function params", debug.getlocal(f, 1), debug.getlocal(f, 3), debug.getlocal(print, 1))
  for i = 1, 2 do
    local names = {}
    for j = 1, 10 do
      local n = debug.getlocal(1, j)
      if n then names[#names + 1] = n end
    end
    print("loop locals", table.concat(names, " "))
    break
  end
end

-- a suspended coroutine's levels: 0 is the yield, 1 its function
do
  local co = coroutine.create(function (x) local y = x * 2; coroutine.yield() end)
  coroutine.resume(co, 4)
  print("coroutine locals", debug.getlocal(co, 1, 1), debug.getlocal(co, 1, 2))
  for l = 0, 2 do
    local i = debug.getinfo(co, l, "Sl")
    print("coroutine level", l, i and i.what, i and i.currentline)
  end
  print((debug.traceback(co):gsub("0x%x+", "?")))
end

-- __close handlers may yield, on return, on block exit and while an error unwinds
do
  local function closer(f) return setmetatable({}, {__close = f}) end
  local trace = {}
  local co = coroutine.wrap(function ()
    local x <close> = closer(function () trace[#trace + 1] = "x"; coroutine.yield("x") end)
    do
      local z <close> = closer(function () trace[#trace + 1] = "z"; coroutine.yield("z") end)
    end
    return pcall(function ()
      local y <close> = closer(function (_, e)
        trace[#trace + 1] = "y:" .. tostring(e); coroutine.yield("y")
      end)
      local w <close> = closer(function (_, e)
        trace[#trace + 1] = "w:" .. tostring(e); coroutine.yield("w")
        error("replaced", 0)
      end)
      error("original", 0)
    end)
  end)
  local got = {}
  for _ = 1, 4 do got[#got + 1] = co() end
  print("yields in __close", table.concat(got, " "), table.concat(trace, " "))
  print("final", co())
end

-- a failing wrapped coroutine closes its variables
do
  local closed = false
  local co = coroutine.wrap(function ()
    local v <close> = setmetatable({}, {__close = function () closed = true end})
    coroutine.yield(1)
    error("boom", 0)
  end)
  co()
  print("wrap error closes", pcall(co), closed)
end

-- light userdata from debug.upvalueid
do
  local a = 1
  local function f() return a end
  local function g() return a end
  local x, y = debug.upvalueid(f, 1), debug.upvalueid(g, 1)
  print("light userdata", type(x), x == y, math.type(x), ({[x] = "found"})[y])
  print(pcall(debug.setuservalue, x, {}))
end

-- loadfile skips a UTF-8 byte-order mark and a first '#' line
do
  local name = os.tmpname()
  local f = assert(io.open(name, "wb"))
  f:write("\xEF\xBB\xBF# comment\nreturn 234")
  f:close()
  print("BOM", loadfile(name)())
  os.remove(name)
end
print("OK debug_hooks")
