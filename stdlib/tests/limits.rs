//! Execution limits inside long library calls: the matcher, gsub, sort, rep and concat
//! charge fuel as they go and stop at the host's limits mid-call; the call depth and
//! coroutine limits raise Lua errors.

use std::time::{Duration, Instant};

use interp::{ErrorKind, Lua, StopReason, Value};

fn runtime() -> Lua {
    let lua = Lua::new();
    lua.enter(stdlib::open_all);
    lua
}

/// Runs `code` as one call from the host under the runtime's limits: the error message and
/// kind if it failed.
fn run(lua: &mut Lua, code: &str) -> Result<Vec<String>, (ErrorKind, String)> {
    let f = lua.enter(|ctx| {
        let c = ctx.load(code.as_bytes(), b"=test", None).expect("syntax");
        ctx.stash(Value::Closure(c))
    });
    // `Lua::call` gives each call from the host its own budget and deadline.
    let r = lua.call(&f, &[]);
    match r {
        Ok(vals) => Ok(lua.enter(|ctx| {
            vals.iter()
                .map(|v| match ctx.fetch(v) {
                    Value::String(s) => s.to_str_lossy().into_owned(),
                    Value::Integer(i) => i.to_string(),
                    other => other.type_name().to_string(),
                })
                .collect()
        })),
        Err(e) => {
            let msg = lua.enter(|ctx| match ctx.fetch(&e.value) {
                Value::String(s) => s.to_str_lossy().into_owned(),
                other => other.type_name().to_string(),
            });
            Err((e.kind, msg))
        }
    }
}

/// Library calls that run long on their own (no Lua code inside them).
const LONG_CALLS: [&str; 4] = [
    // Catastrophic backtracking.
    "return string.rep('a', 300000):find('.-.-.-.-b')",
    // A huge gsub with a cheap pattern.
    "local s = string.rep('ab', 1e6) for i = 1, 1e9 do s = s:gsub('a', 'a') end",
    // A big sort without comparator.
    "local t = {} for i = 1, 5e4 do t[i] = (i * 7919) % 50021 end \
     for i = 1, 1e9 do table.sort(t, nil) table.sort(t, function(a, b) return a > b end) end",
    // Backtracking in gmatch and match.
    "for w in string.rep('a', 300000):gmatch('.-.-.-b') do end",
];

#[test]
fn fuel_stops_long_library_calls_mid_call() {
    for code in LONG_CALLS {
        let mut lua = runtime();
        lua.limits().set_max_fuel(Some(2_000_000));
        let r = run(&mut lua, code);
        assert_eq!(
            r,
            Err((
                ErrorKind::Interrupt,
                "instruction limit exceeded".to_string()
            )),
            "{code}"
        );
        // Stopped within a few checks of the budget, not after the library call.
        let used = lua.limits().used();
        assert!((2_000_000..2_100_000).contains(&used), "{code}: {used}");
    }
}

#[test]
fn fuel_used_inside_library_calls_is_deterministic() {
    let code = "local n = 0 for i = 1, 3 do n = n + #string.rep('ab', 1e5):gsub('a', 'xy') end \
                local t = {} for i = 1, 5000 do t[i] = tostring(i) end table.sort(t) \
                return string.rep('a', 300):find('.-.-b'), n";
    let mut used = Vec::new();
    for _ in 0..2 {
        let mut lua = runtime();
        assert_eq!(
            run(&mut lua, code),
            Ok(vec!["nil".to_string(), "900000".to_string()])
        );
        used.push(lua.limits().used());
    }
    assert_eq!(used[0], used[1]);
    // Well over the instructions of the Lua code: the matcher's steps count (the find
    // takes about 4.5M steps, one unit of fuel per 8).
    assert!(used[0] > 500_000, "{}", used[0]);
}

#[test]
fn a_deadline_stops_a_backtracking_find_on_time() {
    let mut lua = runtime();
    lua.limits().set_timeout(Some(Duration::from_millis(300)));
    let start = Instant::now();
    let r = run(&mut lua, LONG_CALLS[0]);
    let t = start.elapsed();
    assert_eq!(
        r,
        Err((ErrorKind::Interrupt, "timeout exceeded".to_string()))
    );
    assert!(
        t >= Duration::from_millis(300) && t < Duration::from_millis(600),
        "{t:?}"
    );
}

#[test]
#[cfg_attr(target_family = "wasm", ignore = "WebAssembly has no threads")]
fn an_interrupt_from_another_thread_stops_a_library_call() {
    let mut lua = runtime();
    let flag = lua.limits().interrupt_handle();
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        flag.interrupt();
    });
    let start = Instant::now();
    let r = run(&mut lua, LONG_CALLS[2]);
    setter.join().unwrap();
    assert_eq!(r, Err((ErrorKind::Interrupt, "interrupted".to_string())));
    assert!(start.elapsed() < Duration::from_millis(800));
    assert_eq!(lua.limits().stopped(), None);
    assert_eq!(run(&mut lua, "return 'ok'"), Ok(vec!["ok".to_string()]));
}

#[test]
#[cfg_attr(target_family = "wasm", ignore = "WebAssembly has no threads")]
fn an_interrupt_with_error_is_a_lua_error_as_lua_c_makes_it() {
    // `lua.c`'s Ctrl-C: "interrupted!" raised in the running code, which pcall catches.
    let mut lua = runtime();
    let flag = lua.limits().interrupt_handle();
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        flag.interrupt_with_error();
    });
    let code = "local ok, e = pcall(function() while true do end end) return tostring(ok), e";
    let r = run(&mut lua, code);
    setter.join().unwrap();
    assert_eq!(r, Ok(vec!["false".to_string(), "interrupted!".to_string()]));
    // Uncaught, it fails the call as a runtime error; the next call runs.
    let flag = lua.limits().interrupt_handle();
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        flag.interrupt_with_error();
    });
    let r = run(&mut lua, "while true do end");
    setter.join().unwrap();
    assert_eq!(r, Err((ErrorKind::Runtime, "interrupted!".to_string())));
    assert_eq!(run(&mut lua, "return 'ok'"), Ok(vec!["ok".to_string()]));
}

#[test]
fn a_host_poll_stops_a_library_call() {
    let mut lua = runtime();
    let mut polls = 0;
    let prev = lua.limits().set_poll(Some(Box::new(move || {
        polls += 1;
        polls > 10
    })));
    assert!(prev.is_none());
    let r = run(&mut lua, LONG_CALLS[0]);
    assert_eq!(
        r,
        Err((ErrorKind::Interrupt, StopReason::Host.message().to_string()))
    );
}

#[test]
fn pcall_cannot_catch_a_stop_inside_a_library_call() {
    let mut lua = runtime();
    lua.limits().set_max_fuel(Some(1_000_000));
    let code = format!(
        "for i = 1, 10 do pcall(function() {} end) end return 'escaped'",
        LONG_CALLS[0]
    );
    let r = run(&mut lua, &code);
    assert_eq!(
        r,
        Err((
            ErrorKind::Interrupt,
            "instruction limit exceeded".to_string()
        ))
    );
}

#[test]
fn the_call_depth_limit_is_a_stack_overflow() {
    let mut lua = runtime();
    lua.limits().set_max_depth(Some(100));
    let deep = "local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end ";
    assert_eq!(
        run(&mut lua, &format!("{deep} return f(90)")),
        Ok(vec!["90".to_string()])
    );
    let r = run(&mut lua, &format!("{deep} return f(200)"));
    assert_eq!(
        r,
        Err((ErrorKind::Runtime, "test:1: stack overflow".to_string()))
    );
    // Catchable, as in C Lua; the depth of the coroutines resuming a coroutine counts.
    let r = run(
        &mut lua,
        &format!(
            "{deep} local ok, e = pcall(f, 200) \
             local co = coroutine.wrap(function() return select(2, pcall(f, 60)) end) \
             local function g(n) if n == 0 then return co() end return (g(n - 1)) end \
             return e, g(60)"
        ),
    );
    assert_eq!(
        r,
        Ok(vec![
            "test:1: stack overflow".to_string(),
            "test:1: stack overflow".to_string()
        ])
    );
    lua.limits().set_max_depth(None);
    assert_eq!(
        run(&mut lua, &format!("{deep} return f(10000)")),
        Ok(vec!["10000".to_string()])
    );
}

#[test]
fn the_coroutine_limit_counts_live_coroutines() {
    let mut lua = runtime();
    lua.limits().set_max_coroutines(Some(10));
    // Coroutines that finish stop counting at once.
    let r = run(
        &mut lua,
        "for i = 1, 100 do coroutine.wrap(function() end)() end return 'ok'",
    );
    assert_eq!(r, Ok(vec!["ok".to_string()]));
    let r = run(
        &mut lua,
        "keep = {} for i = 1, 100 do keep[i] = coroutine.create(print) end",
    );
    assert_eq!(
        r,
        Err((
            ErrorKind::Runtime,
            "test:1: too many coroutines".to_string()
        ))
    );
    assert_eq!(lua.limits().coroutines(), 10);
    // Collected ones stop counting.
    let r = run(
        &mut lua,
        "keep = nil collectgarbage() local t = {} \
         for i = 1, 10 do t[i] = coroutine.create(print) end \
         return select(2, pcall(coroutine.wrap, print))",
    );
    assert_eq!(r, Ok(vec!["too many coroutines".to_string()]));
}

#[test]
fn a_collection_inside_a_nested_call_does_not_lift_the_limits() {
    for code in [
        "table.sort({3, 2, 1}, function(a, b) collectgarbage() while true do end end)",
        "string.gsub('abc', '%w', function() collectgarbage('step') while true do end end)",
    ] {
        let mut lua = runtime();
        lua.limits().set_max_fuel(Some(1_000_000));
        let r = run(&mut lua, code);
        assert_eq!(
            r,
            Err((
                ErrorKind::Interrupt,
                "instruction limit exceeded".to_string()
            )),
            "{code}"
        );
        assert!(lua.limits().used() < 1_100_000, "{code}");
    }
}

#[test]
fn full_collections_cost_fuel_by_the_objects_traced() {
    let mut lua = runtime();
    lua.limits().set_max_fuel(Some(1_000_000));
    let r = run(
        &mut lua,
        "local t = {} for i = 1, 2e4 do t[i] = {} end while true do collectgarbage() end",
    );
    assert_eq!(
        r,
        Err((
            ErrorKind::Interrupt,
            "instruction limit exceeded".to_string()
        ))
    );
    // Some 1M / 20k = 50 collections, not millions (the budget is checked after each).
    let used = lua.limits().used();
    assert!((1_000_000..1_100_000).contains(&used), "{used}");
}

#[test]
fn fuel_stops_long_table_shifts() {
    for code in [
        "table.move({}, 1, math.maxinteger - 1, 2)",
        "local t = setmetatable({}, {__len = function() return 1e15 end}) table.insert(t, 1, 0)",
        "local t = setmetatable({}, {__len = function() return 1e15 end}) table.remove(t, 1)",
    ] {
        let mut lua = runtime();
        lua.limits().set_max_fuel(Some(1_000_000));
        let r = run(&mut lua, code);
        assert_eq!(
            r,
            Err((
                ErrorKind::Interrupt,
                "instruction limit exceeded".to_string()
            )),
            "{code}"
        );
    }
}
