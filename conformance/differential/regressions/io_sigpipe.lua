-- A write to a pipe whose reader has exited kills the process with SIGPIPE, as C Lua's
-- (lua.c keeps the default disposition; Rust's runtime ignores SIGPIPE unless told
-- otherwise): nothing after the write runs, and the exit status is the signal's.
print("before")
local p = io.popen("exit 0", "w")
os.execute("sleep 0.2")
p:write(("x"):rep(100000))
print("not reached", p:close())
