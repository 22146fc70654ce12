//! Calls the host makes into Lua from a host function (Lua -> host -> Lua): they run on the
//! thread that called the host function, above its frames, as C Lua's `lua_call` from a C
//! function does. The host function is a C function to Lua (tracebacks, `debug.getinfo`),
//! the call cannot yield across it, its errors unwind only its own frames, and the frames
//! below it stay alive while it runs in steps.

use std::rc::Rc;

use interp::{Lua, StashedError, StashedValue, Value};

fn runtime() -> Lua {
    let lua = Lua::new();
    lua.enter(stdlib::open_all);
    lua
}

/// A Lua function named `name` for the host function that runs `code` (a chunk named
/// `=inner`) with its arguments and returns what it returns; with `catch`, an error of the
/// chunk is returned as a string instead.
fn register(lua: &mut Lua, name: &'static str, code: &'static str, catch: bool) {
    let f = lua.create_function(
        "?",
        Rc::new(move |lua: &mut Lua, args: Vec<StashedValue>| {
            let chunk = lua.enter(|ctx| {
                let c = ctx.load(code.as_bytes(), b"=inner", None).expect("syntax");
                ctx.stash(Value::Closure(c))
            });
            match lua.call(&chunk, &args) {
                Err(e) if catch => {
                    let msg = lua.enter(|ctx| {
                        let m = match ctx.fetch(&e.value) {
                            Value::String(s) => s.to_str_lossy().into_owned(),
                            other => other.type_name().to_string(),
                        };
                        ctx.stash(ctx.str(&format!("caught: {m}")))
                    });
                    Ok(vec![msg])
                }
                r => r,
            }
        }),
    );
    lua.enter(|ctx| ctx.set_global(name, ctx.fetch(&f)));
}

/// Runs `code` (a chunk named `=outer`) from the host; its results as strings, or its error.
fn run(lua: &mut Lua, code: &str) -> Result<Vec<String>, String> {
    let strings = |lua: &mut Lua, vals: &[StashedValue]| -> Vec<String> {
        lua.enter(|ctx| {
            vals.iter()
                .map(|v| match ctx.fetch(v) {
                    Value::String(s) => s.to_str_lossy().into_owned(),
                    Value::Integer(i) => i.to_string(),
                    Value::Boolean(b) => b.to_string(),
                    other => other.type_name().to_string(),
                })
                .collect()
        })
    };
    let r = lua.exec(code.as_bytes(), b"=outer");
    match r {
        Ok(vals) => Ok(strings(lua, &vals)),
        Err(StashedError { value, .. }) => Err(strings(lua, &[value]).remove(0)),
    }
}

#[test]
fn a_traceback_walks_through_the_host_function() {
    // The host function is a global: named by it, as C Lua names a C function in `_G`.
    let mut lua = runtime();
    register(&mut lua, "host", "return debug.traceback('in')", false);
    let r = run(
        &mut lua,
        "local function f()\n  local tb = host()\n  return tb\nend\nlocal tb = f()\nreturn tb",
    );
    assert_eq!(
        r,
        Ok(vec![
            "in\nstack traceback:\n\tinner:1: in main chunk\n\t[C]: in function 'host'\n\t\
                 outer:2: in local 'f'\n\touter:5: in main chunk"
                .to_string()
        ])
    );
}

#[test]
fn getinfo_sees_the_host_function_as_a_c_function() {
    let mut lua = runtime();
    register(
        &mut lua,
        "host",
        "local i, c = debug.getinfo(2, 'nS'), debug.getinfo(3, 'l') \
         return i.what, i.name, c.currentline",
        false,
    );
    let r = run(
        &mut lua,
        "local t = {h = host}\n\nlocal a, b, c = t.h() return a, b, c",
    );
    assert_eq!(r, Ok(vec!["C".into(), "h".into(), "3".into()]));
}

#[test]
fn the_nested_call_runs_on_the_callers_thread_and_cannot_yield() {
    let mut lua = runtime();
    register(
        &mut lua,
        "host",
        "local co, main = coroutine.running() \
         return co, main, coroutine.isyieldable(), select(2, pcall(coroutine.yield))",
        false,
    );
    let r = run(
        &mut lua,
        "return coroutine.wrap(function() \
           local me = coroutine.running() \
           local co, main, y, err = host() \
           return rawequal(co, me), main, y, err \
         end)()",
    );
    assert_eq!(
        r,
        Ok(vec![
            "true".into(),
            "false".into(),
            "false".into(),
            "attempt to yield across a C-call boundary".into()
        ])
    );
    let r = run(&mut lua, "local co, main = host() return main");
    assert_eq!(r, Ok(vec!["true".into()]));
}

#[test]
fn an_error_unwinds_only_the_nested_call() {
    let mut lua = runtime();
    register(
        &mut lua,
        "host",
        "local x <close> = setmetatable({}, {__close = function() closed = (closed or '') .. 'inner ' end}) \
         error('boom', 0)",
        true,
    );
    let r = run(
        &mut lua,
        "local y <close> = setmetatable({}, {__close = function() closed = closed .. 'outer' end}) \
         local handled = 0 \
         local ok, r = xpcall(host, function(m) handled = handled + 1 return m end) \
         return ok, r, handled",
    );
    assert_eq!(
        r,
        Ok(vec!["true".into(), "caught: boom".into(), "0".into()])
    );
    assert_eq!(
        run(&mut lua, "return closed"),
        Ok(vec!["inner outer".into()])
    );
    // Let through by the host, the error reaches the outer code.
    register(&mut lua, "fails", "error('again', 0)", false);
    assert_eq!(
        run(&mut lua, "return pcall(fails)"),
        Ok(vec!["false".into(), "again".into()])
    );
}

#[test]
fn calls_through_the_host_count_as_c_calls() {
    let mut lua = runtime();
    register(&mut lua, "host", "return descend(...)", false);
    run(
        &mut lua,
        "function descend(n) if n == 0 then return 'bottom' end return host(n - 1) end",
    )
    .unwrap();
    assert_eq!(
        run(&mut lua, "return descend(150)"),
        Ok(vec!["bottom".into()])
    );
    let r = run(&mut lua, "return descend(300)");
    assert!(r.is_err_and(|e| e.contains("C stack overflow")));
}

#[test]
fn the_frames_below_stay_alive_across_collections() {
    let mut lua = runtime();
    lua.fuel_per_step = 500;
    register(
        &mut lua,
        "host",
        "local t = {} for i = 1, 20000 do t[i] = {i} end t = nil collectgarbage() \
         local s = 0 for i = 1, 20000 do s = s + #tostring(i) end return s",
        false,
    );
    let r = run(
        &mut lua,
        "local keep = {} for i = 1, 500 do keep[i] = {tostring(i)} end \
         local s = host() \
         for i = 1, 500 do assert(keep[i][1] == tostring(i)) end \
         return s, #keep",
    );
    assert_eq!(r, Ok(vec!["88894".into(), "500".into()]));
}

#[test]
fn a_host_function_as_a_coroutine_body() {
    let mut lua = runtime();
    register(
        &mut lua,
        "host",
        "return debug.traceback('in'), coroutine.isyieldable()",
        false,
    );
    let r = run(
        &mut lua,
        "local tb, y = coroutine.wrap(host)() return tb, y",
    );
    assert_eq!(
        r,
        Ok(vec![
            "in\nstack traceback:\n\tinner:1: in main chunk\n\t[C]: in function 'host'".into(),
            "false".into()
        ])
    );
}
