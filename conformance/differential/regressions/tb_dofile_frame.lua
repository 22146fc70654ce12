-- dofile keeps its frame while the chunk runs ("[C]: in function 'dofile'" in tracebacks),
-- pairs while __pairs runs (three results, yieldable), and the host's entry is a level.
local path = "/tmp/lupa_rs_tb_dofile_frame.lua"
local f = io.open(path, "w") f:write("local function g() error('in dofile') end\ng()\n") f:close()
print(xpcall(dofile, debug.traceback, path))
print(pairs(setmetatable({}, {__pairs = function() return 1, 2, 3, 4 end})))
local co = coroutine.wrap(function()
  for k, v in pairs(setmetatable({}, {__pairs = function(t) coroutine.yield("y") return next, {1}, nil end})) do print(k, v) end
  return "done"
end)
print(co()) print(co())
print(debug.getinfo(1, "l").currentline, debug.getinfo(2, "S").what, debug.getinfo(3))
print(debug.traceback("msg", 1))
os.remove(path)
dofile(path)
