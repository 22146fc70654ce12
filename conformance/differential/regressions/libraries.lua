-- Library results and subtypes: math (lmathlib.c), the table library's checks, the
-- collector's parameters, LUA_COMPAT_5_3's deprecated functions and __le from __lt.
local function show(...) local t = table.pack(...) for i = 1, t.n do local v = t[i] t[i] = math.type(v) and (math.type(v) .. ":" .. tostring(v)) or tostring(v) end print(table.concat(t, " ")) end
for _, v in ipairs({3.7, -3.7, 3, -0.0, 1/0, -1/0, 2^63, "3", "3.5", -2.5}) do
  show(pcall(math.modf, v)) show(pcall(math.floor, v)) show(pcall(math.ceil, v)) show(pcall(math.abs, v))
end
show(math.fmod(7, 3), math.fmod(-7, 3), math.fmod(7, -1), math.fmod(math.mininteger, -1), math.fmod("7", 3), math.fmod(7.5, 2))
show(pcall(math.fmod, 1, 0)) show(pcall(math.fmod, 1)) show(pcall(math.fmod, 1.5))
show(pcall(math.random, 3, 1)) show(pcall(math.randomseed, 1.5))
math.randomseed(7) show(math.random(), math.random(10), math.random(5, 9), math.random(0))
show(pcall(table.remove, "str")) show(pcall(table.insert, "str", 1)) show(pcall(table.concat, "str"))
show(pcall(table.move, {}, nil, 1, 1)) show(pcall(table.move, nil, 1, 1, 1))
show(pcall(table.concat, {setmetatable({}, {__name = "MyType"})}))
show(pcall(table.concat, {1, 2, {}, 4}))
show(collectgarbage("incremental", 100, 200, 13), collectgarbage("generational", 20, 100), collectgarbage("setpause", 150), collectgarbage("setpause"), collectgarbage("setstepmul", 300), collectgarbage("setstepmul"))
show(pcall(collectgarbage, "step", "x")) show(pcall(collectgarbage, "setpause", 1.5))
show(collectgarbage("step"))
show(math.pow(2, 10), math.pow(2, 0.5), math.ldexp(1, 1024), math.ldexp(1, -1074), math.ldexp(0.75, -1073), math.ldexp(3, 5), math.ldexp(1, -1075))
show(math.frexp(0), math.frexp(1), math.frexp(5e-324), math.frexp(-3.5), math.frexp(1e308))
show(math.cosh(1), math.sinh(-2), math.tanh(0.5), math.log10(1000), math.atan2(1, 2))
local mt = {__lt = function(a, b) print("lt", a.n, b.n) return a.n < b.n end}
local a, b = setmetatable({n = 1}, mt), setmetatable({n = 2}, mt)
print(a <= b, b <= a, a >= b, a <= a)
