-- The traceback names the wrap function "local 'co'".
local co = coroutine.wrap(function() local x = nil; x() end) co()
