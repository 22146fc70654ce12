//! Embedding Lua in a Rust program, in five steps: make a runtime with the standard
//! libraries, set its limits, register a Rust function, load a script, and call a Lua
//! function it defines. Run it with `cargo run -p lupa-stdlib --example embed`.
//!
//! Values live in the runtime's garbage-collected arena and are used inside
//! [`interp::Lua::enter`]; a value kept between visits is *stashed* (rooted) and fetched
//! back. [`interp::Lua::exec`] and [`interp::Lua::call`] run Lua code to completion in
//! steps, collecting garbage between them and applying the limits.

use std::rc::Rc;
use std::time::Duration;

use interp::{FromLua, IntoLua, Lua};

fn main() {
    // 1. A runtime with every standard library.
    let mut lua = Lua::new();
    lua.enter(|ctx| {
        stdlib::open_all(ctx);
        // `warn()` writes to standard error (once `warn("@on")`), as in `lua.c`.
        ctx.set_warn_function(Some(stdlib::stderr_warnings()));
    });

    // 2. Limits: a fuel budget (about one unit per VM instruction), a wall-clock timeout
    //    and a memory ceiling, each for one call from the host.
    lua.limits().set_max_fuel(Some(50_000_000));
    lua.limits().set_timeout(Some(Duration::from_secs(2)));
    lua.set_memory_limit(Some(lua.memory_used() + (64 << 20)));

    // 3. A Rust function Lua can call: `greet(name)` returns a string.
    let greet = lua.create_function(
        "greet",
        Rc::new(|lua: &mut Lua, args| {
            let text = lua.enter(|ctx| {
                let name = args.first().map(|a| ctx.fetch(a));
                let name = name.and_then(String::from_lua).unwrap_or("nobody".into());
                ctx.stash(format!("hello, {name}").into_lua(ctx))
            });
            Ok(vec![text])
        }),
    );
    lua.enter(|ctx| ctx.set_global("greet", ctx.fetch(&greet)));

    // 4. A script: it defines a function and uses the Rust one.
    let script = br#"
        function fib(n)
            if n < 2 then return n end
            return fib(n - 1) + fib(n - 2)
        end
        return greet("Lua")
    "#;
    match lua.exec(script, b"=embed") {
        Ok(results) => {
            let text = lua.enter(|ctx| ctx.to_text(ctx.fetch(&results[0])));
            println!("the script says: {text}");
        }
        Err(e) => panic!("the script failed: {e}"),
    }

    // 5. Calling a Lua function from Rust, with arguments converted from Rust values.
    let fib = lua.enter(|ctx| ctx.stash(ctx.get_global("fib")));
    let arg = lua.enter(|ctx| ctx.stash(20.into_lua(ctx)));
    let Ok(results) = lua.call(&fib, &[arg]) else {
        panic!("fib failed")
    };
    let n = lua.enter(|ctx| i64::from_lua(ctx.fetch(&results[0])));
    println!("fib(20) = {n:?}");
    assert_eq!(n, Some(6765));

    // Errors: the error object is in the arena (a message, for most); a stop (fuel,
    // timeout) is an error too, that Lua code cannot catch. The runtime stays usable.
    for (what, code) in [
        ("an endless loop", &b"while true do end"[..]),
        ("a Lua error", b"local t = nil; return t.x"),
        ("a caught error", b"return pcall(error, 'caught')"),
    ] {
        match lua.exec(code, b"=example") {
            Ok(r) => println!("{what}: returned {} values", r.len()),
            Err(e) => {
                let message = lua.enter(|ctx| ctx.to_text(ctx.fetch(&e.value)));
                println!("{what}: {message} ({e:?})");
            }
        }
    }
}
