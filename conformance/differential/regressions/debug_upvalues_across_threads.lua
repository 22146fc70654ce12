-- debug.getupvalue/setupvalue read and write an upvalue open on another thread's stack as
-- the VM's GETUPVAL/SETUPVAL do (the debug interface shares their code), and check their
-- arguments as C Lua's auxupvalue does.
local x = 42
local function f() return x end
local co = coroutine.wrap(function()
  print(debug.getupvalue(f, 1))
  print(debug.setupvalue(f, 1, 7))
  local y = 1
  local function g() return y end
  coroutine.yield(g)
  print("y is", y)
end)
local g = co()
print(x, f())
print(debug.getupvalue(g, 1))
print(debug.setupvalue(g, 1, "set from main"))
co()
print(pcall(debug.getupvalue, nil, 1))
print(pcall(debug.getupvalue, {}, 1))
print(pcall(debug.getupvalue, f, "x"))
print(pcall(debug.setupvalue, f, 1))
print(pcall(debug.setupvalue, 1, 1, 1))
print(debug.getupvalue(f, 5), debug.setupvalue(f, 5, 1))
print(debug.getupvalue(print, 1))
