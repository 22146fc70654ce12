-- Tracebacks of suspended coroutines name the yield/resume they wait in as C Lua does.
local co = coroutine.create(function() local y = coroutine.yield; y() end)
coroutine.resume(co)
print(debug.traceback(co))
local outer = coroutine.create(function()
  local inner = coroutine.create(function() print(debug.traceback(outer)) end)
  coroutine.resume(inner)
end)
coroutine.resume(outer)
local r = coroutine.resume
local co3 = coroutine.create(function() coroutine.yield() end)
local co4 = coroutine.create(function() r(co3) print(debug.traceback(co4)) print(debug.traceback(co3)) end)
coroutine.resume(co4)
