//! Library functions that work long or allocate much without running Lua code still obey
//! the host's limits: pattern matching (exponential backtracking) is stopped by fuel and
//! timeouts with their uncatchable error, and big results are refused before they are built.

use std::sync::mpsc;
use std::time::Duration;

use interp::{Lua, Value};

/// A match that would take about 40^10 steps: it never ends on its own.
const CATASTROPHIC: &str = "local s = ('a'):rep(40) return s:find('.-.-.-.-.-.-.-.-.-.-b')";

fn runtime() -> Lua {
    let lua = Lua::new();
    lua.enter(|ctx| {
        stdlib::open_library(ctx, "base");
        stdlib::open_library(ctx, "string");
    });
    lua
}

/// Runs `code` on a fresh runtime set up by `limit`, on its own thread (a test fails rather
/// than hangs if the match is not stopped); its error message, or "ok".
fn outcome_with(limit: fn(&Lua), code: &str) -> String {
    if cfg!(target_family = "wasm") {
        // No threads, so no watchdog: the call runs here.
        let mut lua = runtime();
        limit(&lua);
        return outcome(&mut lua, code);
    }
    let (tx, rx) = mpsc::channel();
    let code = code.to_string();
    std::thread::spawn(move || {
        let mut lua = runtime();
        limit(&lua);
        let _ = tx.send(outcome(&mut lua, &code));
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the limits stop the match within 30s")
}

fn fuel(lua: &Lua) {
    lua.limits().set_max_fuel(Some(1_000_000));
}

/// Runs `code` as a host call with limits (which start counting at `begin`); its error
/// message, or "ok".
fn outcome(lua: &mut Lua, code: &str) -> String {
    lua.limits().begin();
    let r = lua.exec(code.as_bytes(), b"=test");
    lua.limits().end();
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => lua.enter(|ctx| match ctx.fetch(&e.value) {
            Value::String(s) => s.to_str_lossy().into_owned(),
            v => v.type_name().to_string(),
        }),
    }
}

#[test]
fn fuel_stops_a_catastrophic_match() {
    for code in [
        CATASTROPHIC.to_string(),
        CATASTROPHIC.replace("s:find(", "s:match("),
        CATASTROPHIC.replace("return s:find(", "for _ in s:gmatch(") + " do end",
        CATASTROPHIC.replace(
            "s:find('.-.-.-.-.-.-.-.-.-.-b')",
            "s:gsub('.-.-.-.-.-.-.-.-.-.-b', 'x')",
        ),
        CATASTROPHIC.replace(
            "s:find('.-.-.-.-.-.-.-.-.-.-b')",
            "s:gsub('.-.-.-.-.-.-.-.-.-.-b', {})",
        ),
        // pcall does not catch the stop.
        format!("pcall(function() {CATASTROPHIC} end) return 1"),
    ] {
        assert_eq!(
            outcome_with(fuel, &code),
            "instruction limit exceeded",
            "{code}"
        );
    }
}

#[test]
fn timeout_stops_a_catastrophic_match() {
    let timeout = |lua: &Lua| lua.limits().set_timeout(Some(Duration::from_millis(100)));
    assert_eq!(outcome_with(timeout, CATASTROPHIC), "timeout exceeded");
}

#[test]
fn matches_within_the_limits_are_unchanged() {
    let code = "local s = ('ab'):rep(1000) \
        assert(s:find('(b)%1') == nil) \
        assert(select(2, s:gsub('a(.-)b', '%1')) == 1000) \
        assert(s:match('^(a.-)(b*)$') == s:sub(1, -2)) \
        assert(('x'):rep(100):find('x-x-x-y') == nil)";
    assert_eq!(outcome_with(fuel, code), "ok");
}

#[test]
fn big_results_are_refused_before_they_are_built() {
    let memory = |lua: &Lua| lua.set_memory_limit(Some(lua.memory_used() + (4 << 20)));
    let code = "local ok, e = pcall(string.pack, 'c2000000000', '') \
        assert(not ok and e == 'not enough memory', e) \
        ok, e = pcall(string.rep, 'x', 2000000000) \
        assert(not ok and e == 'not enough memory', e) \
        assert(#string.pack('c100', 'ab') == 100 and #('x'):rep(100) == 100)";
    assert_eq!(outcome_with(memory, code), "ok");
}
