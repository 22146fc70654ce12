-- What a browser-style host (wasm32-unknown-unknown, the clock from JavaScript) gives Lua:
-- the clock through the runtime's HostClock, the libraries that need no operating system,
-- and clean errors (not traps) from those that do.
local t = os.time()
assert(math.type(t) == "integer" and t > 1.7e9, t)
assert(os.date("!*t", t).year >= 2026)
assert(os.date("!%Y-%m-%d", 0) == "1970-01-01")
local c1 = os.clock()
local x = 0
for i = 1, 1e5 do x = x + i end
assert(os.clock() >= c1 and c1 >= 0)
math.randomseed()
local a = math.random(1 << 40)
math.randomseed()
assert(math.random(1 << 40) ~= a or math.random(1 << 40) ~= a, "seeds differ")
math.randomseed(42)
local r = math.random(1000)
math.randomseed(42)
assert(math.random(1000) == r)
-- Coroutines, errors, the collector, string.dump and load.
local co = coroutine.wrap(function(v) while true do v = coroutine.yield(v * 2) end end)
assert(co(1) == 2 and co(5) == 10)
local ok, e = pcall(error, {code = 7})
assert(not ok and e.code == 7)
local weak = setmetatable({}, {__mode = "k"})
for i = 1, 1000 do weak[{}] = i end
collectgarbage()
assert(next(weak) == nil)
local f = load(string.dump(function(n) return n + 1 end))
assert(f(41) == 42)
-- No operating system: clean errors.
assert(io.open("/etc/passwd") == nil)
assert(os.execute() == false)
assert(not pcall(io.popen, "ls"))
assert(select("#", os.getenv("HOME")) == 1)
print("OK browser")
