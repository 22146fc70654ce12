//! `debug.setupvalue` can put any value in the upvalues of the library's C-style functions
//! (as in C Lua, where most such tampering crashes the process). Here every library function
//! and iterator that has upvalues is called after each of its upvalues was replaced by values
//! of every type (another function's upvalue, a huge count, ...): each call returns or
//! raises a Lua error; none panics, hangs or allocates without bound.

use std::sync::mpsc;
use std::time::Duration;

use interp::{Lua, Value};

const TAMPER: &str = r#"
local function functions_with_upvalues()
  local fs = {}
  for _, lib in ipairs{"_G", "string", "table", "math", "io", "os", "coroutine", "utf8", "debug", "package"} do
    local l = lib == "_G" and _G or _G[lib]
    for k, v in pairs(l) do
      if type(v) == "function" and debug.getinfo(v, "u").nups > 0 then fs[lib .. "." .. k] = v end
    end
  end
  for i, s in ipairs(package.searchers) do fs["searcher" .. i] = s end
  fs.gmatch = string.gmatch("a b c", "%a")
  fs.wrap = coroutine.wrap(function(...) coroutine.yield(...) return 1 end)
  local name = os.tmpname()
  local f = assert(io.open(name, "w")); f:write("1\n2\n3\n"); f:close()
  fs.lines = io.lines(name, "l", "n", 1)
  fs.lines_file = assert(io.open(name)):lines("a")
  return fs, name
end

local fs, name = functions_with_upvalues()
local foreign = select(2, debug.getupvalue(string.gmatch("x", "x"), 3)) -- a userdata
local values = {nil, false, 0, -1, 2^53, math.maxinteger, math.mininteger, 0.5, "s", "%a",
  {}, print, foreign, coroutine.create(print), io.stdout}
local calls, errors = 0, 0
local names = {}
for k in pairs(fs) do names[#names + 1] = k end
table.sort(names)
for _, k in ipairs(names) do
  local f = fs[k]
  local nups = debug.getinfo(f, "u").nups
  for i = 1, nups do
    local _, saved = debug.getupvalue(f, i)
    for j = 1, #values + 1 do
      assert(debug.setupvalue(f, i, values[j]) == "")
      for _, args in ipairs{{}, {"x"}, {1, 2}, {"a", "b", "c"}} do
        local ok = pcall(f, table.unpack(args))
        calls = calls + 1
        if not ok then errors = errors + 1 end
      end
    end
    debug.setupvalue(f, i, saved)
  end
end
os.remove(name)
assert(calls > 1000, calls)
return calls, errors
"#;

#[test]
fn tampered_native_upvalues_give_errors_not_crashes() {
    let (tx, rx) = mpsc::channel();
    let run = move || {
        let mut lua = Lua::new();
        lua.enter(stdlib::open_all);
        lua.set_memory_limit(Some(256 << 20));
        lua.limits().set_max_fuel(Some(200_000_000));
        lua.limits().begin();
        let r = lua.exec(TAMPER.as_bytes(), b"=tamper");
        lua.limits().end();
        let out = match r {
            Ok(vals) => lua.enter(|ctx| {
                let v: Vec<Value> = vals.iter().map(|s| ctx.fetch(s)).collect();
                format!("{v:?}")
            }),
            Err(e) => lua.enter(|ctx| format!("error: {}", ctx.to_text(ctx.fetch(&e.value)))),
        };
        let _ = tx.send(out);
    };
    if cfg!(target_family = "wasm") {
        run(); // no threads, so no watchdog
    } else {
        std::thread::spawn(run);
    }
    let out = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the tampered calls end");
    assert!(!out.starts_with("error"), "{out}");
}
