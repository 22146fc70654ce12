-- A Lua function called by a library function has no name, and the library function has
-- its own traceback line.
table.sort({3, 1, 2}, function(a, b) error("cmp") end)
