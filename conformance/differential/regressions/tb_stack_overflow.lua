-- An uncaught stack overflow: the depth, the message and the traceback.
local n = 0 local function f() n = n + 1 f() end f()
