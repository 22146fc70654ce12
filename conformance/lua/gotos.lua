-- goto and labels (manual 3.3.4), including scoping rules checked via load().
-- simple backward jump
local i, acc = 1, {}
::top::
acc[#acc + 1] = i
i = i + 1
if i <= 5 then goto top end
print(table.concat(acc, ","))

-- continue-style loop
local odds = {}
for k = 1, 10 do
  if k % 2 == 0 then goto continue end
  odds[#odds + 1] = k
  ::continue::
end
print(table.concat(odds, " "))

-- continue in while and repeat
local n, w = 0, {}
while n < 6 do
  n = n + 1
  if n == 3 then goto cont end
  w[#w + 1] = n
  ::cont::
end
print(table.concat(w, " "))
local r, rep = 0, {}
repeat
  r = r + 1
  if r % 3 == 0 then goto skip end
  rep[#rep + 1] = r
  ::skip::
until r >= 7
print(table.concat(rep, " "))

-- breaking out of nested loops
local found
for a = 1, 5 do
  for b = 1, 5 do
    if a * b == 12 then found = a .. "x" .. b; goto done end
  end
end
::done::
print("found", found)

-- closures capturing variables in goto loops: each iteration gets a fresh local
local fns = {}
do
  local j = 1
  ::loop::
  local v = j * 10
  fns[#fns + 1] = function() return v end
  j = j + 1
  if j <= 3 then goto loop end
end
print(fns[1](), fns[2](), fns[3]())
-- closures sharing an outer variable modified via goto loop
local shared = {}
do
  local c = 0
  ::again::
  shared[#shared + 1] = function() return c end
  c = c + 1
  if c < 3 then goto again end
end
print(shared[1](), shared[2](), shared[3]())

-- label at end of block, jump forward over local declarations at end
do
  goto finish
  local unused = 1
  ::finish::
end
-- state machine
local function machine(input)
  local pos, out = 1, {}
  ::state_a::
  if pos > #input then goto done end
  if input:sub(pos, pos) == "a" then out[#out + 1] = "A"; pos = pos + 1; goto state_a end
  goto state_b
  ::state_b::
  out[#out + 1] = "[" .. input:sub(pos, pos) .. "]"
  pos = pos + 1
  goto state_a
  ::done::
  return table.concat(out)
end
print(machine("aabxa"))

-- labels in nested functions are independent
local function f()
  goto l
  do return "skipped" end
  ::l::
  return (function() ::l:: return "inner" end)()
end
print(f())

-- same label name in different (sibling or nested-after) blocks is fine
do ::x:: end
do ::x:: end
assert(load("do ::a:: end ::a::"))

-- goto out of a loop body with repeat-until referring to a local
local count = 0
repeat
  local stop = count >= 2
  count = count + 1
  if stop then goto out end
until false
::out::
print("count", count)

-- compile errors
local function err(src)
  local f, m = load(src, "=src")
  assert(f == nil)
  print(m)
end
err("goto skip; local x = 1; ::skip:: print(x)")
err("do goto nowhere end")
err("::dup:: ::dup::")
err("::dup:: do ::dup:: end")
err("do goto cont; local x; ::cont:: x = 1 end")
err("goto inner; do ::inner:: end")
err("local function g() goto outer end ::outer::")
err("repeat goto c; local z = 1 ::c:: until z")
print(type(load("goto e; local x; ::e::")))   -- ok: label at end of block
print(select("#", load("do goto e; local y; ::e:: end")))
print("OK gotos")
