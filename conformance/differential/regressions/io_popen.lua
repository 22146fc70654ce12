-- io.popen handles keep one buffer for their whole life (liolib.c over C stdio): reads
-- after partial reads ('l' twice, lines, read(n) / read("n") / read(n)), read("a") after
-- lines, close results (exit status, signal), "w" pipes, fflush(NULL) before popen (a
-- file's pending output is visible to the command), closing a pipe with unread output.
local function show(...) local t = table.pack(...) for i = 1, t.n do t[i] = tostring(t[i]) end print(table.concat(t, " | ")) end
local f = io.popen('printf "a\\nb\\nc\\n"')
show(f:read("l")) show(f:read("l")) show(f:read("a")) show(f:read("a"), f:read("l"), f:read(0), f:read(1))
show(f:close())
f = io.popen('printf "a\\nb\\nc\\n"')
for l in f:lines() do show("line", l) end
show(f:close())
f = io.popen('printf "abcdef"') show(f:read(2), f:read("n"), f:read(2)) show(f:read("a")) f:close()
f = io.popen("seq 1 5") show(f:read("n", "n"), f:read("l"), f:read("L")) show(f:read("a")) f:close()
f = io.popen("printf '12 0x1F -3.5e2 .5 0x.8p1 abc'") show(f:read("n", "n", "n", "n", "n", "n")) show(f:read("a")) f:close()
f = io.popen("printf 'x\\ny'; exit 7") for l in f:lines("L") do show(l) end show(f:close())
f = io.popen("seq 1 3") for a, b in f:lines(1, "l") do show(a, b) end f:close()
show(io.popen("kill -9 $$"):close())
show(io.popen("exit 3"):close())
f = io.popen("seq 1 100000") show(f:read("l")) show(f:close())
f = io.popen("seq 1 3") show(f:seek()) show(f:write("x")) show(f:flush()) f:close()
f = io.popen("cat", "w") show(f:write("to cat ", 1, " ", 2.5, "\n")) show(f:read(1)) show(f:flush()) show(f:close())
show(pcall(f.read, f)) show(io.type(f), tostring(f))
show(pcall(io.popen, "true", "rw")) show(pcall(io.popen, "true", "r+")) show(pcall(io.popen))
local name = "/tmp/lupa_reg_io_popen.txt"
local w = io.open(name, "w") w:write("pending data")
local p = io.popen("cat " .. name) show(p:read("a")) p:close()
w:close() os.remove(name)
do local q <close> = io.popen("echo closed") show(q:read("l")) end
for l in io.lines(nil) do show("stdin", l) end
