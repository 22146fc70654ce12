-- A wrapped coroutine's error is raised anew by the wrap function: the traceback names
-- it as its call site does ("?" here).
coroutine.wrap(function() error("in coroutine") end)()
