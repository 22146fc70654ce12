-- C Lua's count of nested C calls: pcall, metamethods, library functions calling back,
-- coroutine resumes, message handlers and the parser reach "C stack overflow" at the same
-- depths, and "error in error handling" after it.
local n = 0
local function f() n = n + 1 pcall(f) end
f() print("pcall", n)
n = 0
local function g() n = n + 1 local ok, e = pcall(g) if not ok and n < 1000 then print(n, e) n = 1000 end end
g()
n = 0
local mt = {} mt.__index = function(t, k) n = n + 1 return t[k] end
print(pcall(function() return setmetatable({}, mt).x end)) print("__index", n)
n = 0
local function co() n = n + 1 local ok, e = coroutine.resume(coroutine.create(co)) if not ok and e then print(n, e) e = nil end end
co() print("resume", n)
n = 0
local function w() n = n + 1 return coroutine.wrap(w)() end
print(select("#", pcall(w))) print("wrap", n)
n = 0
local function s() n = n + 1 return table.sort({2, 1}, function(a, b) s() return a < b end) end
print(pcall(s)) print("sort", n)
n = 0
local function a() n = n + 1 local t = setmetatable({}, {__add = a}) return t + 1 end
print(pcall(a)) print("__add", n)
n = 0
print(xpcall(error, function(m) n = n + 1 error(m) end)) print("handler", n)
local function loop() assert(pcall(loop)) end
print(xpcall(loop, loop))
print(load("return " .. ("("):rep(300) .. "1" .. (")"):rep(300)))
local function deep(k) if k == 0 then return load("return " .. ("("):rep(190) .. "1" .. (")"):rep(190)) end return pcall(deep, k - 1) end
print(select(11, deep(10)))
-- The Lua stack: C Lua's limit of 1,000,000 slots, reached at the same depth (a protected
-- call takes the slots luaB_pcall and luaB_xpcall push).
n = 0
local function r() n = n + 1 r() end
print(pcall(r)) print("recursion", n)
n = 0
print(xpcall(r, function(m) return m end)) print("xpcall", n)
n = 0
local function r3(a, b, c) n = n + 1 local x, y, z = 1, 2, 3 r3(x, y, z) end
print(pcall(r3)) print("locals", n)
n = 0
local function rv(...) n = n + 1 rv(...) end
print(pcall(rv, 1, 2, 3)) print("varargs", n)
print(coroutine.wrap(function() n = 0 print(pcall(r)) return n end)())
