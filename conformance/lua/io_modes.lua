-- io.open in every mode C's fopen takes ("r", "w", "a", each with "+" and "b"): what each
-- may read and write, where writes go, and the file's content after. Run on lua-rs (also on
-- WASI, where a file's reader and writer must share one handle) and on C Lua 5.4.8.

local name = os.tmpname()

local function content()
  local f = assert(io.open(name, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function reset(s)
  local f = assert(io.open(name, "wb"))
  f:write(s)
  f:close()
end

local function try(what, ...)
  local ok, a, b = pcall(...)
  print(what, ok and "ok" or "error", a and tostring(a):gsub("0x%x+", "ADDR") or a, b)
end

for _, mode in ipairs({"r", "w", "a", "r+", "w+", "a+", "rb", "wb", "ab", "r+b", "w+b", "a+b"}) do
  reset("0123456789")
  local f = assert(io.open(name, mode))
  print("mode " .. mode, io.type(f))
  -- Reading: "w" files read nothing and fail; "a+" starts at the start for reads.
  local r, err = f:read(3)
  print("  read", r, err and "error" or nil)
  -- Writing: "r" files fail; "a" modes write at the end whatever the position.
  f:seek("set", 1)
  local w, werr = f:write("AB")
  print("  write", w == f, werr and "error" or nil)
  print("  seek", f:seek("cur"), f:seek("end"))
  f:seek("set", 0)
  local s, e = f:read("a") -- (not the error number: WASI's differ from Linux's)
  print("  reread", s, e)
  f:close()
  print("  content", content())
end

-- A file read and written in turn keeps one position (C's rule: a seek between a write and a
-- read); "a+" reads from where it seeks and appends every write.
reset("hello")
local f = assert(io.open(name, "r+"))
print(f:read(2), f:seek("cur"))
f:seek("cur", 0)
f:write("LL")
f:seek("set", 0)
print(f:read("a"))
f:close()
reset("abc")
f = assert(io.open(name, "a+"))
f:seek("set", 0)
print(f:read(1))
f:seek("set", 0)
f:write("d")
f:seek("set", 0)
print(f:read("a"))
f:close()

-- Bad modes are argument errors, as in C Lua (l_checkmode).
for _, mode in ipairs({"", "x", "rw", "r+x", "+r", "wbb"}) do
  try("mode " .. string.format("%q", mode), io.open, name, mode)
end
-- A file that is not there, in reading modes.
os.remove(name)
print(io.open(name, "r") == nil, io.open(name, "r+") == nil)
local t = assert(io.tmpfile())
t:write("tmp")
t:seek("set")
print(t:read("a"))
t:close()
print("OK io_modes")
