-- os.date and os.time as loslib.c (localtime_r, gmtime_r, mktime, strftime): fixed
-- timestamps only. Local times hold in whatever zone the machine has, as both interpreters
-- see the same TZ (conformance/tests/io_os_environment.rs runs this file under several).
-- Conversions are checked as checkoption does (C99's LUA_STRFTIMEOPTIONS), '*t' and '!*t'
-- fields (isdst included), os.time's normalization written back to its table (through
-- metamethods), range errors.
local function show(...) local t = table.pack(...) for i = 1, t.n do t[i] = tostring(t[i]) end print(table.concat(t, " | ")) end
local function fields(t) local o = {} for _, k in ipairs({"year", "month", "day", "hour", "min", "sec", "wday", "yday", "isdst"}) do o[#o + 1] = k .. "=" .. tostring(t[k]) end return table.concat(o, " ") end
local all = "%a %A %b %B %c %C %d %D %e %F %g %G %h %H %I %j %m %M %n %p %r %R %S %t %T %u %U %V %w %W %x %X %y %Y %z %Z %% %Ec %EC %Ex %EX %Ey %EY %Od %Oe %OH %OI %Om %OM %OS %Ou %OU %OV %Ow %OW %Oy"
local times = {0, 1, -1, 86399, 951782400, 1700000000, 1710054000, 1710057600, 1699164000, 1699167600, 1719792000, -2208988800, -2522880000, 2^31, 2^33, 253402300799, -62135596800}
for _, t in ipairs(times) do
  show(t, os.date("!" .. all, t)) show(t, os.date(all, t))
  show(fields(os.date("!*t", t))) show(fields(os.date("*t", t)))
end
for y = 1998, 2012 do for _, md in ipairs({{1, 1}, {1, 4}, {12, 28}, {12, 31}}) do
  local t = os.time({year = y, month = md[1], day = md[2], hour = 12})
  show(y, md[1], md[2], os.date("%G %g %V %U %W %j %u %w", t))
end end
for _, d in ipairs({
  {year = 2024, month = 3, day = 10, hour = 2, min = 30}, {year = 2024, month = 11, day = 3, hour = 1, min = 30},
  {year = 2024, month = 11, day = 3, hour = 1, min = 30, isdst = true}, {year = 2024, month = 11, day = 3, hour = 1, min = 30, isdst = false},
  {year = 2024, month = 14, day = -3, hour = 25, min = 61, sec = -1}, {year = 2000, month = 1, day = 0}, {year = 2000, month = 7, day = 1},
  {year = 1970, month = 1, day = 1, hour = 0}, {year = 1969, month = 12, day = 31, hour = 23, min = 59, sec = 59},
  {year = "2000", month = 1.0, day = "  0x10  "}, {year = 2000, month = 1, day = 1, isdst = 0}, {year = 10000, month = 1, day = 1},
  {year = -1000, month = 1, day = 1}, {year = 2000, month = 2^31 + 1, day = 1}, {year = 2^31 + 1900, month = 1, day = 1},
  {year = 2^31 + 1899, month = 1, day = 1}, {year = 2000, month = 1, day = 1, sec = -2^31}, {year = 2000, month = 1, day = 1.5},
  {year = 2000, month = "x", day = 1}, {year = 2000, day = 1}, {month = 1, day = 1}, {year = 2000, month = 1, day = {}},
}) do
  local ok, r = pcall(os.time, d) show(ok, r, fields(d))
end
for _, f in ipairs({"%Q rest", "%Ez rest", "%E", "%O", "abc%", "%", "%5d", "%-d", "%Ea", "%Oz", "%#c", "a\0%Q\0b", "%:z"}) do show(pcall(os.date, f, 0)) end
show(os.date("*tx", 0), type(os.date("!*t\0abc", 0)), os.date("!%H\0%M", 3600 * 5 + 60 * 7), os.date("!", 0), os.date("", 0))
show(os.date("!%c", 0), os.date("!%x", 3), pcall(os.date, "!%Y", 2^60)) show(pcall(os.date, "%Y", 1.5)) show(pcall(os.date, "%Y", "10"))
show(pcall(os.date, {})) show(os.date(42, 0)) show(math.type(os.time()), type(os.date()), type(os.date("*t").isdst))
show(os.difftime(10, 3), os.difftime(3, 10), math.type(os.difftime(1, 1)), os.difftime(2^53, -2^53), pcall(os.difftime, 5))
show(pcall(os.difftime, 1.5, 1)) show(pcall(os.difftime)) show(os.difftime("10", "4"))
-- os.time reads and writes its table with lua_getfield/lua_setfield: metamethods run.
local log = {}
local mt = {__index = function(_, k) log[#log + 1] = "get " .. k return ({year = 2000, month = 1, day = 1})[k] end,
  __newindex = function(t, k, v) log[#log + 1] = "set " .. k .. "=" .. tostring(v) rawset(t, k, v) end}
show(os.time(setmetatable({}, mt)) == os.time{year = 2000, month = 1, day = 1}) show(table.concat(log, ", "))
show(pcall(os.time, setmetatable({}, {__index = function() error("boom") end})))
