-- strings: generates a log-like text, then tokenizes it with gmatch, rewrites it with gsub
-- (string, table and function replacements), searches it with find (plain and patterns),
-- builds report lines with format/rep and transforms bytes with byte/char; stands for text
-- processing scripts (log parsing, templating, escaping).

local seed = 7
local function rand(n)
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % n
end

local SYLL = {"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "qu", "th", "or"}
local LEVELS = {"INFO", "WARN", "ERROR", "DEBUG"}

local function word()
  local t = {}
  for i = 1, 1 + rand(3) do t[i] = SYLL[1 + rand(#SYLL)] end
  return table.concat(t)
end

local lines = {}
for i = 1, 12000 do
  local w = {}
  for k = 1, 3 + rand(6) do w[k] = word() end
  lines[i] = string.format("%05d [%s] user=%s id=%d msg=\"%s\" took=%d.%03dms",
    i, LEVELS[1 + rand(4)], word(), rand(100000), table.concat(w, " "), rand(500), rand(1000))
end
local text = table.concat(lines, "\n")

local sum = 0
local function add(n) sum = (sum * 31 + n) % 1000000007 end

-- tokenizing
local words, levels = 0, {}
for w in text:gmatch("%a+") do words = words + 1 end
for lv in text:gmatch("%[(%u+)%]") do levels[lv] = (levels[lv] or 0) + 1 end
for _, lv in ipairs(LEVELS) do add(levels[lv]) end
local ids = 0
for k, v in text:gmatch("(%w+)=(%d+)") do ids = ids + #k + tonumber(v) % 97 end
add(words); add(ids)

-- timing fields as integer microseconds
local micros = 0
for a, b in text:gmatch("took=(%d+)%.(%d+)ms") do micros = micros + tonumber(a) * 1000 + tonumber(b) end
add(micros % 1000000007)

-- rewriting
local caps, n1 = text:gsub("(%a)(%a*)", function(h, t) return h:upper() .. t end)
local masked, n2 = text:gsub("%d", "#")
local swapped, n3 = text:gsub("(%w+)=(%w+)", "%2:%1")
local short, n4 = text:gsub("%[(%u+)%]", {INFO = "I", WARN = "W", ERROR = "E", DEBUG = "D"})
add(#caps); add(n1); add(#masked); add(n2); add(#swapped); add(n3); add(#short); add(n4)

-- searching, plain and with patterns
local found, pos = 0, 1
while true do
  local s, e = text:find("ERROR", pos, true)
  if not s then break end
  found = found + 1
  pos = e + 1
end
add(found)
local quoted, qlen, p = 0, 0, 1
while true do
  local s, e, msg = text:find('msg="([^"]*)"', p)
  if not s then break end
  quoted = quoted + 1
  qlen = qlen + #msg
  p = e + 1
end
add(quoted); add(qlen)
for i = 1, #lines, 3 do
  local l = lines[i]
  local s = l:find("user=%a*qu") or 0
  add(s)
  if l:match("^%d+ %[WARN%]") then add(1) end
end

-- formatting and repetition
local report = {}
for i = 1, 20000 do
  local name = SYLL[1 + i % #SYLL]
  report[i] = string.format("%-8s|%6d|%6.2f|%x|%s", name:rep(1 + i % 3), i * 37, i / 64,
    i * 977, ("-"):rep(i % 11))
end
local rtext = table.concat(report, "\n")
add(#rtext)
for l in rtext:gmatch("[^\n]+") do add(#l) end

-- byte-level transforms: a rot13 through byte/char and a reverse
local function rot13(s)
  local out = {}
  for i = 1, #s do
    local c = s:byte(i)
    if c >= 97 and c <= 122 then c = (c - 97 + 13) % 26 + 97
    elseif c >= 65 and c <= 90 then c = (c - 65 + 13) % 26 + 65 end
    out[i] = string.char(c)
  end
  return table.concat(out)
end
local chunk = text:sub(1, 200000)
local r = rot13(rot13(chunk))
add(r == chunk and 1 or 0)
local rev = chunk:reverse():upper():lower()
local bsum = 0
for i = 1, #rev, 5 do bsum = bsum + rev:byte(i) end
add(bsum)

print("strings", #text, words, found, quoted, sum)
