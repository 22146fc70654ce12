"""Lua code with the debug library can rewrite the upvalues of C-style functions
(`debug.setupvalue`, as in C Lua). Rewriting those of the `python` table's functions and of
host functions leads to Lua errors, never to a crash, and never turns one function into
another: `python.eval` stays out of reach when the runtime was made without it."""

import lupa_rs as lupa

TAMPER = """
local values = {nil, false, 0, -1, -3, -4, 2^53, math.maxinteger, "s", {}, print,
  coroutine.create(print)}
local fs = {}
for k, v in pairs(python) do
  if type(v) == "function" then fs[#fs + 1] = v end
end
fs[#fs + 1] = python.as_function(target)
local calls = 0
for _, f in ipairs(fs) do
  for i = 1, debug.getinfo(f, "u").nups do
    local _, saved = debug.getupvalue(f, i)
    for j = 1, #values + 1 do
      debug.setupvalue(f, i, values[j])
      for _, args in ipairs{{}, {"1 + 1"}, {target}, {target, 2}} do
        pcall(f, table.unpack(args))
        calls = calls + 1
      end
    end
    debug.setupvalue(f, i, saved)
  end
end
return calls
"""


def test_rewritten_upvalues_of_python_functions_give_errors():
    lua = lupa.LuaRuntime(register_eval=False)
    lua.globals().target = lambda *a: len(a)
    assert lua.execute(TAMPER) > 100
    assert lua.eval("python.eval") is None
    # The runtime still works, its functions too once their upvalues are back.
    assert lua.eval("1 + 1") == 2
    assert lua.eval("python.as_function(target)")(1, 2, 3) == 3


def test_setupvalue_cannot_switch_a_python_function_into_eval():
    lua = lupa.LuaRuntime(register_eval=False)
    # Before: the index of the function in the `python` table was an upvalue.
    out = lua.execute(
        """
        local f = python.as_attrgetter
        local seen = {}
        for i = 1, debug.getinfo(f, "u").nups do
          for n = 0, 10 do
            debug.setupvalue(f, i, n)
            local ok, r = pcall(f, "1 + 1")
            if ok and r == 2 then seen[#seen + 1] = i .. ":" .. n end
          end
        end
        return table.concat(seen, ",")
        """
    )
    assert out == ""
