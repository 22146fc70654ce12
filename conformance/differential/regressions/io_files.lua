-- Regular files through one C stdio buffer (liolib.c): read formats and their results,
-- read("n") consuming only what it must and pushing back one character, seek after
-- buffered reads, mixing read and write on "r+"/"a+"/"w+" files, lines iterators,
-- default input and output, closed files, errors from reading a "w" file and writing an "r"
-- one, opening failures and their messages.
local function show(...) local t = table.pack(...) for i = 1, t.n do t[i] = tostring(t[i]) end print(table.concat(t, " | ")) end
local name = "/tmp/lupa_reg_io_files.txt"
local f = assert(io.open(name, "w"))
show(f:write("line1\n", "12 0x1F -3.5e2 .5 0x.8p1 abc\n", "last") == f)
show(f:close())
f = io.open(name, "r")
show(f:read("l", "n", "n", "n", "n", "n", "n")) show(f:read("l")) show(f:read("a"))
show(f:read("a"), f:read("l"), f:read(0), f:read(1), f:read("n"))
show(f:seek("set", 2), f:read(3), f:seek(), f:seek("cur", -1), f:read("L"))
show(f:seek("end"), f:seek("end", -2), f:read(10))
show(f:seek("set", -1)) show(f:seek("cur", -1000)) show(f:seek("set", 1), f:read("*l"), f:read("*n"))
f:close()
f = io.open(name, "r+") show(f:read(3)) show(f:write("XY")) show(f:read(2)) show(f:seek("set")) show(f:read("a"))
f:write("END") show(f:seek("set", 0)) show(f:read("a")) f:close()
f = io.open(name, "a+") show(f:read(4)) f:write("APP") show(f:seek()) show(f:seek("set", 0), f:read(5)) f:close()
f = io.open(name, "w+") f:write("hello world") show(f:seek("cur", -5), f:read(2)) f:write("!!") f:seek("set") show(f:read("a")) f:close()
f = io.open(name, "w") f:write("1 2\n3 4\n\n5") f:close()
for a, b in io.lines(name, "n", "n") do show(a, b) end
for l in io.lines(name, "L") do show(l) end
for c in io.lines(name, 3) do show(c) end
local it = io.lines(name) show(it(), it(), it(), it(), pcall(it))
f = io.open(name) for l in f:lines() do show(l) end show(io.type(f)) f:close() show(pcall(f.lines, f))
f = io.open(name) show(select("#", f:lines()), select("#", io.lines(name)), select("#", io.lines())) f:close()
f = io.open(name, "w") f:write("  \v\f 0x  1e+ 1.5e- --1 +.e5 00012 0x1p4 1e400 ", ("9"):rep(250), " 7 -0x10 1E2x") f:close()
f = io.open(name) for i = 1, 14 do show(f:read("n"), f:read(1)) end f:close()
io.input(name) show(io.read("l")) show(io.read(1)) io.input():close()
show(pcall(io.read)) show(pcall(io.lines)) show(pcall(io.input, io.input()))
io.input(io.stdin)
io.output(name) io.write("via default ", 42, " ", 0.1) show(io.output() ~= io.stdout) show(io.close())
show(pcall(io.write, "x")) show(pcall(io.close)) show(pcall(io.flush))
io.output(io.stdout)
for l in io.lines(name) do show(l) end
f = io.open(name) show(f:write("x")) show(f:flush()) show(f:seek("cur")) f:close()
f = io.open(name, "w") show(f:read(1)) show(f:read("a")) show(f:read("n")) show(pcall(f:lines())) f:close()
show(pcall(f.read, f)) show(pcall(f.write, f)) show(pcall(f.seek, f)) show(io.type(f), tostring(f))
show(io.open("/tmp"):read(1)) show(pcall(io.lines("/tmp")))
show(io.open("/nonexistent/x")) show(io.open("/tmp", "w")) show(io.open(name, "r+bb") ~= nil)
show(pcall(io.open, name, "rb+")) show(pcall(io.open, name, "rw")) show(pcall(io.open, name, ""))
show(pcall(io.lines, "/nonexistent/x")) show(pcall(io.input, "/nonexistent/x")) show(pcall(io.output, "/nonexistent/x"))
f = io.tmpfile() f:write("tmp data") f:seek("set") show(f:read("a")) f:close()
f = io.open(name, "w") f:setvbuf("no") f:write("unbuffered") show(io.open(name):read("a")) f:setvbuf("full") f:write(" more") show(io.open(name):read("a")) f:close()
f = io.open(name, "w") f:write("buffered") show(io.open(name):read("a")) f:flush() show(io.open(name):read("a")) f:close()
f = io.open(name, "w") f:setvbuf("line") f:write("a\nb") show(io.open(name):read("a")) f:close()
os.remove(name)
