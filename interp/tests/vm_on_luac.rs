//! Runs Lua programs compiled by C Lua's own `luac5.4` on our VM (skipped when luac5.4 is not
//! installed): checks the VM independently of our compiler.

mod support {
    pub mod luac;
}

use std::rc::Rc;

use interp::{Lua, Value};

/// Runs `src` (compiled by luac5.4) and returns its results as debug strings.
fn run(src: &str) -> Option<Result<Vec<String>, String>> {
    let proto = match support::luac::compile_with_luac(src, "test")? {
        Ok(p) => p,
        Err(e) => return Some(Err(e)),
    };
    let mut lua = Lua::new();
    let f = lua.enter(|ctx| ctx.stash(Value::Closure(ctx.load_proto(&proto, None))));
    Some(match lua.call(&f, &[]) {
        Ok(vals) => {
            Ok(lua.enter(|ctx| vals.iter().map(|v| format!("{:?}", ctx.fetch(v))).collect()))
        }
        Err(e) => Err(lua.enter(|ctx| format!("{:?}", ctx.fetch(&e.value)))),
    })
}

macro_rules! check {
    ($src:expr, $expected:expr) => {{
        match run($src) {
            None => {
                eprintln!("luac5.4 not installed; skipped");
                return;
            }
            Some(r) => {
                let expected: Result<Vec<String>, String> = $expected;
                assert_eq!(r, expected, "program: {}", $src);
            }
        }
    }};
}

fn ok(v: &[&str]) -> Result<Vec<String>, String> {
    Ok(v.iter().map(|s| s.to_string()).collect())
}

#[test]
fn arithmetic_and_locals() {
    check!(
        "local a, b = 10, 3 return a + b, a - b, a * b, a // b, a % b, -a",
        ok(&["13", "7", "30", "3", "1", "-10"])
    );
    check!("return 7 / 2, 2^10, 1 + 1.5", ok(&["3.5", "1024.0", "2.5"]));
    check!(
        "return 5 & 3, 5 | 3, 5 ~ 3, ~0, 1 << 4, 256 >> 4",
        ok(&["1", "7", "6", "-1", "16", "16"])
    );
}

#[test]
fn loops_and_functions() {
    check!(
        "local s = 0 for i = 1, 100 do s = s + i end return s",
        ok(&["5050"])
    );
    check!("local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end return fib(20)", ok(&["6765"]));
    check!(
        "local s = 0 for i = 10, 1, -2 do s = s + i end return s",
        ok(&["30"])
    );
    check!(
        "local s = 0.0 for x = 0, 1, 0.25 do s = s + x end return s",
        ok(&["2.5"])
    );
    check!(
        "local i = 0 while i < 10 do i = i + 1 end repeat i = i - 3 until i < 0 return i",
        ok(&["-2"])
    );
}

#[test]
fn tables_and_closures() {
    check!(
        "local t = {1, 2, 3, x = 'a'} t[4] = 4 return #t, t.x, t[2]",
        ok(&["4", "\"a\"", "2"])
    );
    check!("local function counter() local n = 0 return function() n = n + 1 return n end end local c = counter() c() c() return c()", ok(&["3"]));
    check!(
        "local t = {} for i = 1, 10 do t[i] = function() return i end end return t[3](), t[10]()",
        ok(&["3", "10"])
    );
    check!(
        "local function f(...) return select('#', ...), ... end return f(1, nil, 3)",
        Err("\"test:1: attempt to call a nil value (global 'select')\"".into())
    );
}

#[test]
fn varargs_and_multiple_results() {
    check!(
        "local function f(...) local a, b = ... return b, a end return f(1, 2, 3)",
        ok(&["2", "1"])
    );
    check!(
        "local function g() return 1, 2, 3 end local function f(...) return ... end return f(g())",
        ok(&["1", "2", "3"])
    );
    check!(
        "local function g() return 1, 2, 3 end local t = {g(), g()} return #t",
        ok(&["4"])
    );
}

#[test]
fn metatables() {
    check!(
        "local mt = {__index = function(t, k) return k .. '!' end} local t = setmetatable({}, mt) return t.x",
        Err("\"test:1: attempt to call a nil value (global 'setmetatable')\"".into())
    );
}

#[test]
fn strings_and_concat() {
    check!(
        "local a = 'x' return a .. 'y' .. 1 .. 2.5",
        ok(&["\"xy12.5\""])
    );
    check!(
        "return #'hello', 'a' < 'b', 'a' == 'a'",
        ok(&["5", "true", "true"])
    );
}

#[test]
fn errors_have_positions_and_names() {
    check!(
        "local t = nil return t.x",
        Err("\"test:1: attempt to index a nil value (local 't')\"".into())
    );
    check!(
        "return x.y",
        Err("\"test:1: attempt to index a nil value (global 'x')\"".into())
    );
    check!(
        "local t = {} return t.a.b",
        Err("\"test:1: attempt to index a nil value (field 'a')\"".into())
    );
    check!(
        "return 1 + {}",
        Err("\"test:1: attempt to perform arithmetic on a table value\"".into())
    );
    check!(
        "return 1 < 'x'",
        Err("\"test:1: attempt to compare number with string\"".into())
    );
    check!(
        "undefined_fn()",
        Err("\"test:1: attempt to call a nil value (global 'undefined_fn')\"".into())
    );
}

/// Host functions run outside the step and may call back into Lua, nested, while the
/// collector keeps running between steps.
#[test]
fn host_functions_nest_with_gc_running() {
    let src = "
        local depth = ...
        local garbage = {}
        for i = 1, 2000 do garbage[i] = {i} end   -- allocate so collection has work
        if depth == 0 then return 1 end
        return 1 + call_host(depth - 1)
    ";
    let Some(proto) = support::luac::compile_with_luac(src, "nest") else {
        eprintln!("luac5.4 not installed; skipped");
        return;
    };
    let proto = proto.unwrap();
    let mut lua = Lua::new();
    lua.fuel_per_step = 100;
    let chunk = lua.enter(|ctx| ctx.stash(Value::Closure(ctx.load_proto(&proto, None))));
    let chunk2 = lua.enter(|ctx| ctx.stash(ctx.fetch(&chunk)));
    let f = lua.create_function(
        "call_host",
        Rc::new(move |lua: &mut Lua, args| {
            // Call the chunk again (Lua -> host -> Lua).
            lua.call(&chunk2, &args)
        }),
    );
    lua.enter(|ctx| ctx.set_global("call_host", ctx.fetch(&f)));
    let arg = lua.enter(|ctx| ctx.stash(Value::Integer(5)));
    let before = lua.gc_object_count();
    let Ok(r) = lua.call(&chunk, &[arg]) else {
        panic!("nested calls fail")
    };
    let n = lua.enter(|ctx| ctx.fetch(&r[0]).to_integer());
    assert_eq!(n, Some(6));
    lua.collect_all();
    assert!(
        lua.gc_object_count() < before + 5000,
        "garbage was collected"
    );
}

/// An error from a host function is a Lua error that pcall-free code propagates with the
/// host's error value, and the runtime stays usable.
#[test]
fn host_function_errors_propagate() {
    let Some(proto) = support::luac::compile_with_luac("return fail()", "err") else {
        return;
    };
    let proto = proto.unwrap();
    let mut lua = Lua::new();
    let f = lua.create_function(
        "fail",
        Rc::new(|lua: &mut Lua, _| {
            Err(lua.enter(|ctx| interp::StashedError {
                value: ctx.stash(ctx.str("host says no")),
                kind: interp::ErrorKind::Runtime,
                traceback: None,
            }))
        }),
    );
    lua.enter(|ctx| ctx.set_global("fail", ctx.fetch(&f)));
    let chunk = lua.enter(|ctx| ctx.stash(Value::Closure(ctx.load_proto(&proto, None))));
    let Err(e) = lua.call(&chunk, &[]) else {
        panic!("expected an error")
    };
    assert_eq!(
        lua.enter(|ctx| format!("{:?}", ctx.fetch(&e.value))),
        "\"host says no\""
    );
    // Still usable.
    let Some(p2) = support::luac::compile_with_luac("return 40 + 2", "ok") else {
        return;
    };
    let p2 = p2.unwrap();
    let c2 = lua.enter(|ctx| ctx.stash(Value::Closure(ctx.load_proto(&p2, None))));
    let Ok(r) = lua.call(&c2, &[]) else {
        panic!("runtime unusable")
    };
    assert_eq!(lua.enter(|ctx| ctx.fetch(&r[0]).to_integer()), Some(42));
}
