-- Tracebacks name a function first by where package.loaded holds it (luaL_traceback's
-- pushglobalfuncname: a global, or a module's field), then by how its caller named it, then
-- as the main chunk: a global function called by a C function (a sort comparator, xpcall) is
-- 'cmp', a global of another environment is "global 'g'", a chunk called through a local is
-- that local.
function cmp(a, b) error("x") end
print(xpcall(table.sort, debug.traceback, {1, 2}, cmp))
local env = {error = error}
local f = load("function g() error('in g') end g()", "=envchunk", "t", env)
print(xpcall(f, debug.traceback))
local chunk = load("error('x')")
print(xpcall(function() chunk() end, debug.traceback))
local t = {g = load("error('y')")}
print(xpcall(function() t.g() end, debug.traceback))
mainf = load("error('z')")
print(xpcall(function() mainf() end, debug.traceback))
package.loaded.mymod = {run = function() error("in module") end}
print(xpcall(function() package.loaded.mymod.run() end, debug.traceback))
package.loaded.fmod = function() error("module function") end
print(xpcall(package.loaded.fmod, debug.traceback))
local function r(n) if n == 0 then error("deep") end return (r(n - 1)) end
print(xpcall(r, debug.traceback, 30))
function global_rec(n) if n == 0 then error("deep") end return (global_rec(n - 1)) end
print(xpcall(global_rec, debug.traceback, 30))
