-- A long traceback keeps 10 and 11 levels, and says it skips one level fewer than it does.
local function deep(n) if n == 0 then local x = nil; return x.y end return (deep(n - 1)) end deep(25)
