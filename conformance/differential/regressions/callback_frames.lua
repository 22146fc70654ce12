-- Lua code called back by a C function (a sort comparator, a gsub replacement, a __index
-- metamethod, pcall called by a library function) runs on its caller's thread, above the C
-- function's frame: tracebacks and debug.getinfo walk through it, coroutine.running is the
-- caller's thread, and nothing in it can yield (the C function is a C-call boundary).
local function levels(tag)
  local l = 1
  while true do
    local i = debug.getinfo(l, "nSl")
    if not i then break end
    print(tag, l, i.what, i.short_src, i.currentline, i.namewhat, i.name)
    l = l + 1
  end
end
local function report(tag)
  levels(tag)
  print(debug.traceback(tag, 2))
  local co, main = coroutine.running()
  print(tag, type(co), main, coroutine.isyieldable(), coroutine.status(co))
end
local done = false
table.sort({3, 1, 2}, function(a, b)
  if not done then done = true report("sort") end
  return a < b
end)
print(string.gsub("ab", "%w", function(c) if c == "b" then report("gsub") end end))
local mt = {__index = function(t, k) report("index") return k end}
print(setmetatable({}, mt).field)
-- Inside a coroutine: the coroutine is running, and the C boundary keeps it from yielding.
local co = coroutine.create(function()
  local ok, e = pcall(table.sort, {2, 1}, function(a, b) coroutine.yield(a) return a < b end)
  print("yield in sort", ok, e)
  table.sort({2, 1}, function(a, b)
    report("sort in co")
    return a < b
  end)
  print(pcall(string.gsub, "x", "x", coroutine.yield))
  coroutine.yield("out")
  return "end"
end)
print(coroutine.resume(co))
print(coroutine.resume(co))
-- A coroutine resumed by a callback, and a callback inside that coroutine.
table.sort({2, 1}, function(a, b)
  local c = coroutine.wrap(function()
    table.sort({2, 1}, function(x, y) report("nested") return x < y end)
    coroutine.yield(coroutine.isyieldable())
  end)
  print("wrapped", c())
  return a < b
end)
-- Errors in a callback unwind the callback's frames only.
print(pcall(table.sort, {2, 1}, function(a, b) error("cmp " .. tostring(a < b)) end))
print(select("#", pcall(table.sort, {2, 1}, function(a, b) error({}) end)))
local ok, e = pcall(table.sort, {2, 1}, function(a, b)
  local inner_ok, inner = pcall(error, "inner")
  print("inner", inner_ok, inner)
  local x <close> = setmetatable({}, {__close = function(_, err) print("closed", err) end})
  error("outer", 0)
end)
print(ok, e)
-- pcall called by a library function catches what its callee raises at once.
print(select("#", string.gsub("abc", "%w", pcall)))
local f1 = function() return false end
local t = {f1, f1, f1}
table.sort(t, pcall)
print("sorted with pcall", #t)
print(coroutine.wrap(pcall)("a"))
print(coroutine.resume(coroutine.create(pcall), "a"))
-- A coroutine's wrap function as the callback.
local n = 0
table.sort({3, 2, 1}, coroutine.wrap(function() while true do n = n + 1 coroutine.yield(false) end end))
print("wrap as comparator", n > 0)
print(string.gsub("abc", "%w", coroutine.wrap(function() while true do coroutine.yield("x") end end)))
-- A tail call of a C function through __call keeps the calling frame, as C Lua's
-- luaD_pretailcall does.
local callable = setmetatable({}, {__call = select})
local function tail() return callable() end
print(pcall(tail))
local traced = setmetatable({}, {__call = function(self, ...) return debug.traceback("tail") end})
local function tail2() return traced() end
print(tail2())
levels("main")
-- A coroutine whose function is a C function that yields or resumes at once.
local w = coroutine.wrap(coroutine.yield)
print(w(1, 2))
print(w(3))
local co2 = coroutine.create(coroutine.yield)
print(coroutine.resume(co2, "a"))
print(coroutine.resume(co2, "b"))
print(coroutine.status(co2))
local inner = coroutine.create(function(...) coroutine.yield(...) return "done" end)
print(coroutine.wrap(coroutine.resume)(inner, "x"))
-- The traceback of a thread waiting for a coroutine it resumed starts with the resuming
-- function, named as a C function is: by its global name, else as its caller named it.
local main = coroutine.running()
local gen = coroutine.wrap(function() print(debug.traceback(main)) end)
gen()
local holder = {g = coroutine.wrap(function() print(debug.traceback(main, "x", 0)) end)}
holder.g()
global_gen = coroutine.wrap(function() print(debug.traceback(main)) end)
global_gen()
print(coroutine.wrap(function() return debug.getinfo(main, 0, "nS").what end)())
