-- Numeric for loops over every combination of integer, float, string, huge and NaN start,
-- limit and step: iteration counts, first and last values and their subtypes, errors.
-- (A loop over most of the integer range has an unsigned count C Lua keeps as such.)
local vals = {"0", "1", "-1", "3", "-3", "math.maxinteger", "math.mininteger", "math.maxinteger - 1", "math.mininteger + 1", "1.0", "-1.0", "0.5", "-0.5", "2.5", "math.huge", "-math.huge", "0/0", "2^53", "-2^63", "2^63", "1e308", "'3'", "'2.5'"}
local steps = {"1", "-1", "2", "-2", "0.5", "-0.5", "math.maxinteger", "math.mininteger", "1.0", "-1.0", "math.huge", "-math.huge", "0/0", "3", "'1'"}
for _, a in ipairs(vals) do for _, b in ipairs(vals) do for _, c in ipairs(steps) do
  local code = "local n, first, last = 0 for i = " .. a .. ", " .. b .. ", " .. c .. " do n = n + 1 if n == 1 then first = i end last = i if n >= 5 then break end end return n, first, last"
  local f = load(code)
  local ok, n, f1, l1 = pcall(f)
  print(a, b, c, ok, n, f1 and math.type(f1), f1, l1)
end end end
