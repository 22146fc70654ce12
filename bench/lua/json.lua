-- json: generates nested records (objects, arrays, strings with escapes, integers, floats,
-- booleans, null), encodes them to JSON text and parses the text back with a hand-written
-- recursive-descent parser, then compares; stands for serialization code (string building,
-- byte-level scanning, table construction).

local byte, char, sub, find, format = string.byte, string.char, string.sub, string.find, string.format
local concat = table.concat

local NULL = setmetatable({}, {__tostring = function() return "null" end})

-- pseudo-random numbers: a 31-bit linear congruential generator
local seed = 12345
local function rand(n)
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % n
end

local WORDS = {"alpha", "beta", "gamma", "delta", "name", "id", "value", "tags", "x", "y",
               "path", "quote\"d", "back\\slash", "new\nline", "tab\there", "caf\u{e9}",
               "snow \u{2603}", "ctl\1\31"}
local KEYS = {"id", "name", "kind", "value", "items", "meta", "score", "ok", "next", "title"}

local function gen(depth)
  local r = rand(depth > 0 and 10 or 6)
  if r == 0 then return rand(2000000) - 1000000
  elseif r == 1 then return (rand(100000) - 50000) / 8
  elseif r == 2 then
    local parts = {}
    for i = 1, 1 + rand(4) do parts[i] = WORDS[1 + rand(#WORDS)] end
    return concat(parts, " ")
  elseif r == 3 then return rand(2) == 0
  elseif r == 4 then return NULL
  elseif r == 5 then return rand(1000)
  elseif r <= 7 then
    local a = {}
    for i = 1, rand(8) do a[i] = gen(depth - 1) end
    return a
  else
    local o = {}
    for _ = 1, 1 + rand(6) do o[KEYS[1 + rand(#KEYS)]] = gen(depth - 1) end
    return o
  end
end

-- Encoder ------------------------------------------------------------------------------
local ESC = {['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n',
             ['\r'] = '\\r', ['\t'] = '\\t'}
local function escape_char(c)
  return ESC[c] or format("\\u%04x", byte(c))
end

-- objects have string keys only, so a table with no [1] is an object unless it is empty
local function is_array(t)
  return t[1] ~= nil or next(t) == nil
end

local encode_value

local function encode_into(v, out)
  local tv = type(v)
  if tv == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\]', escape_char) .. '"'
  elseif tv == "number" then
    if math.type(v) == "integer" then out[#out + 1] = tostring(v)
    else
      local text = format("%.14g", v)
      if not find(text, "[.eEn]") then text = text .. ".0" end -- stays a float when read back
      out[#out + 1] = text
    end
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif v == NULL then
    out[#out + 1] = "null"
  elseif is_array(v) then
    out[#out + 1] = "["
    for i = 1, #v do
      if i > 1 then out[#out + 1] = "," end
      encode_into(v[i], out)
    end
    out[#out + 1] = "]"
  else
    -- keys in sorted order: pairs' order is not part of the language
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = "," end
      encode_into(k, out)
      out[#out + 1] = ":"
      encode_into(v[k], out)
    end
    out[#out + 1] = "}"
  end
end

function encode_value(v)
  local out = {}
  encode_into(v, out)
  return concat(out)
end

-- Decoder ------------------------------------------------------------------------------
local B_QUOTE, B_BSLASH, B_LBRACE, B_RBRACE = byte('"'), byte('\\'), byte('{'), byte('}')
local B_LBRACK, B_RBRACK, B_COMMA, B_COLON = byte('['), byte(']'), byte(','), byte(':')
local UNESC = {[byte('"')] = '"', [byte('\\')] = '\\', [byte('/')] = '/', [byte('b')] = '\b',
               [byte('f')] = '\f', [byte('n')] = '\n', [byte('r')] = '\r', [byte('t')] = '\t'}

local function skip_ws(s, i)
  local _, e = find(s, "^[ \t\r\n]*", i)
  return e + 1
end

local decode_at

local function decode_string(s, i)
  -- i is just past the opening quote
  local parts = {}
  while true do
    local j = find(s, '["\\]', i)
    if not j then error("unterminated string at " .. i) end
    if j > i then parts[#parts + 1] = sub(s, i, j - 1) end
    if byte(s, j) == B_QUOTE then return concat(parts), j + 1 end
    local e = byte(s, j + 1)
    local u = UNESC[e]
    if u then
      parts[#parts + 1] = u
      i = j + 2
    elseif e == byte('u') then
      parts[#parts + 1] = utf8.char(tonumber(sub(s, j + 2, j + 5), 16))
      i = j + 6
    else
      error("bad escape at " .. j)
    end
  end
end

function decode_at(s, i)
  i = skip_ws(s, i)
  local c = byte(s, i)
  if c == B_LBRACE then
    local o = {}
    i = skip_ws(s, i + 1)
    if byte(s, i) == B_RBRACE then return o, i + 1 end
    while true do
      if byte(s, i) ~= B_QUOTE then error("key expected at " .. i) end
      local k, v
      k, i = decode_string(s, i + 1)
      i = skip_ws(s, i)
      if byte(s, i) ~= B_COLON then error("colon expected at " .. i) end
      v, i = decode_at(s, i + 1)
      o[k] = v
      i = skip_ws(s, i)
      c = byte(s, i)
      if c == B_RBRACE then return o, i + 1 end
      if c ~= B_COMMA then error("comma expected at " .. i) end
      i = skip_ws(s, i + 1)
    end
  elseif c == B_LBRACK then
    local a, n = {}, 0
    i = skip_ws(s, i + 1)
    if byte(s, i) == B_RBRACK then return a, i + 1 end
    while true do
      local v
      v, i = decode_at(s, i)
      n = n + 1
      a[n] = v
      i = skip_ws(s, i)
      c = byte(s, i)
      if c == B_RBRACK then return a, i + 1 end
      if c ~= B_COMMA then error("comma expected at " .. i) end
      i = i + 1
    end
  elseif c == B_QUOTE then
    return decode_string(s, i + 1)
  elseif find(s, "^true", i) then return true, i + 4
  elseif find(s, "^false", i) then return false, i + 5
  elseif find(s, "^null", i) then return NULL, i + 4
  else
    local st, e = find(s, "^-?%d+%.?%d*[eE]?[-+]?%d*", i)
    if not st then error("unexpected character at " .. i) end
    local text = sub(s, st, e)
    if find(text, "[.eE]") then return tonumber(text) + 0.0, e + 1 end
    return math.tointeger(tonumber(text)), e + 1
  end
end

local function decode(s)
  local v, i = decode_at(s, 1)
  i = skip_ws(s, i)
  if i <= #s then error("trailing text at " .. i) end
  return v
end

-- Comparison ----------------------------------------------------------------------------
local function equal(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then
    return a == b and math.type(a) == math.type(b)
  end
  if a == NULL or b == NULL then return a == b end
  for k, v in pairs(a) do
    if not equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function count_nodes(v)
  if type(v) ~= "table" or v == NULL then return 1 end
  local n = 1
  for _, x in pairs(v) do n = n + count_nodes(x) end
  return n
end

local total_len, total_nodes, mismatches, hash = 0, 0, 0, 0
for round = 1, 25 do
  local doc = {}
  for i = 1, 200 do doc[i] = gen(7) end
  local text = encode_value(doc)
  local back = decode(text)
  if not equal(doc, back) then mismatches = mismatches + 1 end
  if encode_value(back) ~= text then mismatches = mismatches + 1 end
  total_len = total_len + #text
  total_nodes = total_nodes + count_nodes(back)
  for k = 1, #text, 7 do hash = (hash * 31 + byte(text, k)) % 1000000007 end
end
print("json bytes", total_len, "nodes", total_nodes, "hash", hash, "mismatches", mismatches)
