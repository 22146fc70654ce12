-- Results and argument checks of the io library as liolib.c gives them: flush returns true
-- (luaL_fileresult), setvbuf and seek options (luaL_checkoption's "invalid option 'x'"),
-- read and write argument errors (checked as they come, earlier values written), closing
-- standard files, io.close(nil), lines' argument limit; stdout buffering seen by a child
-- process (C's stdout is fully buffered on a pipe; popen flushes it, os.execute does not).
local function show(...) local t = table.pack(...) for i = 1, t.n do t[i] = tostring(t[i]) end print(table.concat(t, " | ")) end
show(io.stdout:flush(), io.flush(), io.stderr:flush())
show(io.stdout:setvbuf("full"), io.stdout:setvbuf("line"), io.stdout:setvbuf("full", 4096))
local f = io.tmpfile()
show(pcall(f.seek, f, "bad")) show(pcall(f.seek, f, "set", 1.5)) show(pcall(f.seek, f, "set\0x"))
show(pcall(f.setvbuf, f, "bad")) show(pcall(f.setvbuf, f)) show(pcall(f.setvbuf, f, "no", 1.5)) show(f:setvbuf("no", -1))
show(pcall(f.read, f, 1.5)) show(pcall(f.read, f, "x")) show(pcall(f.read, f, {})) show(pcall(f.read, f, "l", {}))
show(pcall(f.read, f, "l", "x")) show(pcall(f.read, f, 2^40)) show(pcall(f.read, f, -1))
show(pcall(f.write, f, 1, {}, 2)) f:seek("set") show(f:read("a"))
show(pcall(io.write, "written ", {}, " not")) print()
show(pcall(io.lines, nil, table.unpack({}, 1, 251))) show(pcall(f.lines, f, table.unpack({}, 1, 251)))
show(pcall(f.lines, f, table.unpack({}, 1, 250)) and "ok")
show(pcall(f.lines, f, "x")) show(pcall(f:lines("x")))
show(pcall(io.close, nil)) show(io.stdout:close()) show(io.stderr:close()) show(io.stdin:close())
show(io.type(io.stdout), io.type(f), io.type(42), pcall(io.type))
show(pcall(io.stdout.write, 42)) show(pcall(io.stdout.close)) show(pcall(f.close, io))
show(io.stdout:seek()) show(io.stdin:seek("set", 1))
show(getmetatable(io.stdout).__name, getmetatable(f).__close == getmetatable(f).__gc)
f:close() show(tostring(f), pcall(tostring, setmetatable({}, getmetatable(f))))
show(pcall(f.close, f)) show(pcall(getmetatable(f).__gc, f)) show(pcall(getmetatable(f).__gc, 1))
show(pcall(io.input, {})) show(pcall(io.output, f)) show(io.read(0), io.read("a"), io.read("l"), io.read("n"))
io.write("A") os.execute("echo B") io.write("C\n")
io.write("D ") local p = io.popen("echo E") show(p:read("a")) p:close() io.write("F\n")
io.stdout:setvbuf("no") io.write("G") os.execute("echo H") io.stdout:setvbuf("full") io.write("I") os.execute("echo J")
io.stdout:setvbuf("line") io.write("K\nL") os.execute("echo M") io.write("\n")
