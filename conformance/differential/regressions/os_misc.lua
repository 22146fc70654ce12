-- The rest of os as loslib.c: getenv (a C string: cut at NUL), remove and rename results
-- (luaL_fileresult: rename without the file name), tmpname (mkstemp's /tmp/lua_XXXXXX),
-- execute (luaL_execresult: exit codes, signals, system(NULL)), setlocale and its
-- categories, exit's argument checks, clock's resolution (microseconds, not 10 ms ticks).
local function show(...) local t = table.pack(...) for i = 1, t.n do t[i] = tostring(t[i]) end print(table.concat(t, " | ")) end
show(os.getenv("HOME") == os.getenv("HOME\0ignored"), os.getenv("LUPA_SURELY_UNSET_VARIABLE"), os.getenv(""), os.getenv("A=B"))
show(pcall(os.getenv)) show(pcall(os.getenv, {}))
local dir = "/tmp/lupa_reg_os_misc_dir"
local name = "/tmp/lupa_reg_os_misc.txt"
os.remove(name) os.remove(name .. "2") os.remove(dir)
show(os.remove(name)) show(os.rename(name, name .. "2"))
io.open(name, "w"):close() show(os.rename(name, name .. "2")) show(os.remove(name)) show(os.remove(name .. "2"))
os.execute("mkdir " .. dir) show(os.remove(dir)) show(os.remove(dir))
os.execute("mkdir " .. dir .. " && touch " .. dir .. "/f") show(os.remove(dir)) os.execute("rm -r " .. dir)
show(os.rename("/tmp", "/tmp/x/y")) show(pcall(os.remove)) show(pcall(os.rename, "a"))
local t = os.tmpname() show(#t, t:sub(1, 9), io.open(t):read("a"), os.remove(t))
show(os.execute()) show(os.execute("exit 3")) show(os.execute("true")) show(os.execute("kill -9 $$")) show(os.execute("kill -15 $$"))
show(os.execute("exit 255")) show(pcall(os.execute, {}))
show(os.setlocale(), os.setlocale("C"), os.setlocale(nil, "numeric"), os.setlocale("C", "time"), os.setlocale("no_such_locale"))
show(pcall(os.setlocale, nil, "x")) show(pcall(os.setlocale, "C", "all\0")) show(os.setlocale("POSIX"), os.setlocale("C", "collate"))
show(pcall(os.exit, "x")) show(pcall(os.exit, 1.5)) show(pcall(os.exit, {}))
local c0 = os.clock() local c1 repeat c1 = os.clock() until c1 ~= c0
show(math.type(c0), c1 > c0, c1 - c0 < 0.001)
