-- C functions without upvalues are light functions in C Lua: one value per C function, so
-- the iterators `pairs` and `ipairs` return are equal each time, the same table key, and
-- `pairs` returns the library's `next`; aliases (`math.atan2`) are the same value. The
-- library functions have C Lua's upvalues (none for `pairs`; the generator's state for
-- `math.random` and `math.randomseed`), and debug.setupvalue sets a C function's upvalue
-- (named "").
local a, b = ipairs({}), ipairs({})
print(a == b, rawequal(a, b))
local t = {}
t[a] = "ipairs iterator"
print(t[b])
print(tostring(a) == tostring(b))
print(pairs({}) == next, rawequal(pairs({}), next))
t[next] = "next"
print(t[pairs({})])
print(math.atan2 == math.atan, math.pow ~= nil)
local c1, c2 = utf8.codes("a"), utf8.codes("b")
print(c1 == c2, utf8.codes("a", true) == c1)

local names = {}
for _, lib in ipairs{"_G", "string", "table", "math", "io", "os", "coroutine", "utf8", "debug", "package"} do
  local l = lib == "_G" and _G or _G[lib]
  for k, v in pairs(l) do
    if type(v) == "function" then
      names[#names + 1] = lib .. "." .. k .. " " .. debug.getinfo(v, "u").nups
    end
  end
end
table.sort(names)
print(table.concat(names, "\n"))
for i, f in ipairs{string.gmatch("a", "a"), coroutine.wrap(print), (pairs({})), (ipairs({}))} do
  print("iterator", i, debug.getinfo(f, "u").nups, select("#", debug.getupvalue(f, 1)))
end
for i, f in ipairs(package.searchers) do print("searcher", i, debug.getinfo(f, "u").nups) end

-- Setting a C function's upvalue: the name is "", the value is what getupvalue reads back.
local w = coroutine.wrap(function() end)
print(debug.setupvalue(w, 1, 42))
print(debug.getupvalue(w, 1))
print(debug.setupvalue(w, 2, 42))
print(debug.setupvalue(print, 1, 42))
print(debug.setcstacklimit(100), pcall(debug.setcstacklimit))
