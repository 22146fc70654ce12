//! A stop of the host's limits (fuel, deadline, interrupt) cannot be caught anywhere: not by a
//! message handler that loops, a `__close` run by `coroutine.close` or a wrap, a finalizer, a
//! library function's callback or a reader of `load`. Once a call is stopped nothing more
//! runs in it, and the stop is the call's outcome; none is left for the next call.

use std::rc::Rc;
use std::time::{Duration, Instant};

use interp::{ErrorKind, Lua, StashedValue, Value};

const BUDGET: u64 = 1_000_000;
const STOP: Result<Vec<String>, (ErrorKind, String)> = Err((ErrorKind::Interrupt, String::new()));

fn runtime() -> Lua {
    let lua = Lua::new();
    lua.enter(stdlib::open_all);
    lua
}

/// Runs `code` as one call from the host under the runtime's limits: the results as strings,
/// or the error's kind and message.
fn run(lua: &mut Lua, code: &str) -> Result<Vec<String>, (ErrorKind, String)> {
    let f = lua.enter(|ctx| {
        let c = ctx.load(code.as_bytes(), b"=test", None).expect("syntax");
        ctx.stash(Value::Closure(c))
    });
    let r = lua.call(&f, &[]);
    let text = |lua: &mut Lua, v: &StashedValue| {
        lua.enter(|ctx| match ctx.fetch(v) {
            Value::String(s) => s.to_str_lossy().into_owned(),
            Value::Integer(i) => i.to_string(),
            Value::Boolean(b) => b.to_string(),
            other => other.type_name().to_string(),
        })
    };
    match r {
        Ok(vals) => Ok(vals.iter().map(|v| text(lua, v)).collect()),
        Err(e) => Err((e.kind, text(lua, &e.value))),
    }
}

/// `run` under a fuel budget of [`BUDGET`]: the outcome must be the fuel's stop, within a
/// few nested chunks of the budget (no looping handler gets a budget of its own).
fn assert_fuel_stop(code: &str) {
    let mut lua = runtime();
    lua.limits().set_max_fuel(Some(BUDGET));
    let r = run(&mut lua, code);
    assert_eq!(
        r,
        Err((
            ErrorKind::Interrupt,
            "instruction limit exceeded".to_string()
        )),
        "{code}"
    );
    let used = lua.limits().used();
    assert!(used < BUDGET + 100_000, "{code}: {used}");
    // Nothing stale: the next call runs.
    assert_eq!(
        run(&mut lua, "return 1 + 1"),
        Ok(vec!["2".into()]),
        "{code}"
    );
}

const LOOP: &str = "while true do end";

#[test]
fn a_looping_message_handler_does_not_swallow_the_stop() {
    assert_fuel_stop(&format!(
        "for i = 1, 200 do xpcall(error, function() {LOOP} end) end return 'escaped'"
    ));
    // A handler that calls a looping function protected, and one nested in a handler.
    assert_fuel_stop(&format!(
        "for i = 1, 200 do xpcall(error, function() pcall(function() {LOOP} end) return 1 end) end"
    ));
    assert_fuel_stop(&format!(
        "for i = 1, 200 do xpcall(error, function() \
           xpcall(function() {LOOP} end, function() {LOOP} end) end) end"
    ));
    // The handler of an error raised by a `__close` during the unwinding.
    assert_fuel_stop(&format!(
        "for i = 1, 200 do xpcall(function() \
           local x <close> = setmetatable({{}}, {{__close = function() error('c') end}}) \
           error('x') end, function() {LOOP} end) end"
    ));
}

#[test]
fn a_looping_close_handler_does_not_swallow_the_stop() {
    // `coroutine.close` of a suspended coroutine.
    assert_fuel_stop(&format!(
        "local co = coroutine.create(function() \
           local x <close> = setmetatable({{}}, {{__close = function() {LOOP} end}}) \
           coroutine.yield() end) \
         coroutine.resume(co) \
         for i = 1, 20 do pcall(coroutine.close, co) end return 'after'"
    ));
    // A wrapped coroutine that fails is closed before its error goes on.
    assert_fuel_stop(&format!(
        "for i = 1, 50 do pcall(coroutine.wrap(function() \
           local x <close> = setmetatable({{}}, {{__close = function() {LOOP} end}}) \
           error('x') end)) end return 'after'"
    ));
    // Closed by a protected call's unwinding, and on a normal return.
    assert_fuel_stop(&format!(
        "for i = 1, 50 do pcall(function() \
           local x <close> = setmetatable({{}}, {{__close = function() {LOOP} end}}) \
           error('x') end) end return 'after'"
    ));
    assert_fuel_stop(&format!(
        "for i = 1, 50 do pcall(function() \
           local x <close> = setmetatable({{}}, {{__close = function() {LOOP} end}}) \
           return 1 end) end return 'after'"
    ));
}

#[test]
fn library_callbacks_do_not_swallow_the_stop() {
    for code in [
        format!("for i = 1, 50 do pcall(table.sort, {{3, 2, 1}}, function() {LOOP} end) end"),
        format!("for i = 1, 50 do pcall(string.gsub, 'abc', '%w', function() {LOOP} end) end"),
        format!(
            "local o = setmetatable({{}}, {{__tostring = function() {LOOP} end}}) \
             for i = 1, 50 do pcall(tostring, o) pcall(string.format, '%s', o) end"
        ),
        format!(
            "local o = setmetatable({{}}, {{__index = function() {LOOP} end}}) \
             for i = 1, 50 do pcall(table.unpack, o, 1, 1) end"
        ),
        format!(
            "package.preload.m = function() {LOOP} end for i = 1, 50 do pcall(require, 'm') end"
        ),
        format!("for i = 1, 50 do pcall(load, function() {LOOP} end) end"),
        // (In a coroutine: a hook stays set on its thread after the call.)
        format!(
            "coroutine.wrap(function() \
               debug.sethook(function() pcall(function() {LOOP} end) end, 'l') \
               local a = 1\nlocal b = 2 end)()"
        ),
    ] {
        assert_fuel_stop(&code);
    }
}

#[test]
fn a_looping_finalizer_stops_the_call_that_runs_it() {
    assert_fuel_stop(&format!(
        "for i = 1, 50 do setmetatable({{}}, {{__gc = function() {LOOP} end}}) \
         pcall(collectgarbage) end return 'after'"
    ));
    // Finalizers left when a call was stopped wait for the next call (which they may stop
    // in turn: each call is bounded).
    let mut lua = runtime();
    lua.limits().set_max_fuel(Some(BUDGET));
    let code = format!(
        "collectgarbage('stop') for i = 1, 3 do setmetatable({{}}, {{__gc = function() {LOOP} end}}) end \
         collectgarbage('restart') collectgarbage()"
    );
    assert_eq!(run(&mut lua, &code).map_err(|e| e.0), STOP.map_err(|e| e.0));
    assert!(lua.limits().used() < BUDGET + 100_000);
}

#[test]
fn a_reader_that_never_ends_is_stopped_or_runs_out_of_memory() {
    // Pieces of whitespace: no memory grows, the fuel stops it.
    assert_fuel_stop("return load(function() return ' ' end)");
    // Big pieces count against the memory limit, as C Lua's buffer does: load fails.
    let mut lua = runtime();
    lua.set_memory_limit(Some(lua.memory_used() + (20 << 20)));
    let r = run(
        &mut lua,
        "local s = string.rep('x', 1 << 16) return load(function() return s end)",
    );
    assert_eq!(r, Ok(vec!["nil".into(), "not enough memory".into()]));
}

#[test]
fn a_coroutine_killed_by_a_stop_closes_in_a_later_call() {
    let mut lua = runtime();
    lua.limits().set_max_fuel(Some(BUDGET));
    let r = run(
        &mut lua,
        &format!(
            "co = coroutine.create(function() \
               local x <close> = setmetatable({{}}, {{__close = function() closed = true end}}) \
               {LOOP} end) coroutine.resume(co)"
        ),
    );
    assert_eq!(r.map_err(|e| e.0), STOP.map_err(|e| e.0));
    // The stop that killed it is a plain value now: close reports it, raises nothing.
    let r = run(
        &mut lua,
        "local ok, e = coroutine.close(co) return ok, e, closed",
    );
    assert_eq!(
        r,
        Ok(vec![
            "false".into(),
            "instruction limit exceeded".into(),
            "true".into()
        ])
    );
}

#[test]
fn a_stop_found_after_a_failed_host_function_leaves_nothing_stale() {
    // The deadline passes while a host function runs, which then fails: the limits hook the
    // thread to stop at its next instruction, but the call ends first. The next call must
    // not be stopped by that hook.
    let mut lua = runtime();
    lua.limits().set_timeout(Some(Duration::from_millis(50)));
    let f = lua.create_function(
        "slow",
        Rc::new(|lua: &mut Lua, _| {
            std::thread::sleep(Duration::from_millis(80));
            Err(lua.enter(|ctx| interp::StashedError {
                value: ctx.stash(ctx.str("slow failed")),
                kind: ErrorKind::Runtime,
                traceback: None,
            }))
        }),
    );
    lua.enter(|ctx| ctx.set_global("slow", ctx.fetch(&f)));
    let r = run(&mut lua, "slow()");
    assert_eq!(r.map_err(|e| e.0), STOP.map_err(|e| e.0));
    assert_eq!(run(&mut lua, "return 1 + 1"), Ok(vec!["2".into()]));
    // Caught by pcall, the stop goes on at once.
    let r = run(&mut lua, "pcall(slow) return 'escaped'");
    assert_eq!(r.map_err(|e| e.0), STOP.map_err(|e| e.0));
    assert_eq!(run(&mut lua, "return 1 + 1"), Ok(vec!["2".into()]));
}

#[test]
fn deadlines_past_what_an_instant_holds_are_no_limit() {
    let mut lua = runtime();
    for t in [Duration::MAX, Duration::from_secs(u64::MAX / 2)] {
        lua.limits().set_timeout(Some(t));
        assert_eq!(run(&mut lua, "return 1 + 1"), Ok(vec!["2".into()]));
    }
    lua.limits().set_timeout(Some(Duration::ZERO));
    let start = Instant::now();
    assert_eq!(run(&mut lua, LOOP).map_err(|e| e.0), STOP.map_err(|e| e.0));
    assert!(start.elapsed() < Duration::from_secs(2));
}
