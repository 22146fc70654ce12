//! The host's clock (`interp::HostClock`, set with `Limits::set_clock`): timeouts are measured
//! on it, and `os.time`, `os.date`, `os.clock` and `math.randomseed()` read it, so a host
//! without the standard library's clocks (wasm32-unknown-unknown) supplies its own.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use interp::{HostClock, Lua};

/// A clock that moves one second each time it is read; CPU time and seed fixed.
struct Ticking {
    now: Cell<u64>,
}

impl HostClock for Ticking {
    fn system_time(&self) -> Option<Duration> {
        Some(Duration::from_secs(1_700_000_000 + self.now.get()))
    }
    fn monotonic(&self) -> Option<Duration> {
        self.now.set(self.now.get() + 1);
        Some(Duration::from_secs(self.now.get()))
    }
    fn cpu_time(&self) -> Option<Duration> {
        Some(Duration::from_micros(2_500_000))
    }
    fn seed(&self) -> u64 {
        7
    }
}

/// No clock at all (wasm32-unknown-unknown with nothing from the host).
struct NoClock;

impl HostClock for NoClock {
    fn system_time(&self) -> Option<Duration> {
        None
    }
    fn monotonic(&self) -> Option<Duration> {
        None
    }
}

fn runtime(clock: Rc<dyn HostClock>) -> Lua {
    let lua = Lua::new();
    lua.enter(stdlib::open_all);
    lua.limits().set_clock(clock);
    lua
}

fn eval(lua: &mut Lua, code: &str) -> Result<String, String> {
    match lua.exec(code.as_bytes(), b"=test") {
        Ok(v) => Ok(lua.enter(|ctx| {
            v.iter()
                .map(|s| ctx.to_text(ctx.fetch(s)))
                .collect::<Vec<_>>()
                .join(" ")
        })),
        Err(e) => Err(lua.enter(|ctx| ctx.to_text(ctx.fetch(&e.value)))),
    }
}

#[test]
fn the_os_library_reads_the_host_clock() {
    let mut lua = runtime(Rc::new(Ticking { now: Cell::new(0) }));
    assert_eq!(
        eval(
            &mut lua,
            "return os.time(), os.clock(), os.date('!%Y-%m-%d %H:%M', os.time())"
        ),
        Ok("1700000000 2.5 2023-11-14 22:13".into())
    );
}

#[test]
fn randomseed_without_arguments_takes_the_host_seed() {
    // `math.randomseed()` returns the two seed numbers (5.4.4 on): the host's, and the
    // address C Lua's `luai_makeseed` mixes in.
    let mut lua = runtime(Rc::new(Ticking { now: Cell::new(0) }));
    let seeds = eval(&mut lua, "local a, b = math.randomseed() return a, b ~= 0").unwrap();
    assert_eq!(seeds, "7 true");
}

#[test]
fn a_timeout_is_measured_on_the_host_clock() {
    // Each look at the clock is a second: a 30 s timeout stops the loop after 30 looks,
    // however fast they come.
    let mut lua = runtime(Rc::new(Ticking { now: Cell::new(0) }));
    lua.limits().set_timeout(Some(Duration::from_secs(30)));
    assert_eq!(
        eval(&mut lua, "while true do end"),
        Err("timeout exceeded".into())
    );
    assert_eq!(eval(&mut lua, "return 1"), Ok("1".into()));
}

#[test]
fn without_a_clock_time_fails_cleanly_and_a_timeout_stops_at_once() {
    let mut lua = runtime(Rc::new(NoClock));
    assert_eq!(
        eval(&mut lua, "return os.time()"),
        Err("test:1: time result cannot be represented in this installation".into())
    );
    assert_eq!(eval(&mut lua, "return os.clock()"), Ok("-1e-06".into()));
    assert_eq!(eval(&mut lua, "return 1 + 1"), Ok("2".into()));
    // A timeout nothing can measure stops the call at its first look at the limits (a call
    // that ends within its first step finishes).
    lua.limits().set_timeout(Some(Duration::from_secs(3600)));
    assert_eq!(eval(&mut lua, "return 1 + 1"), Ok("2".into()));
    assert_eq!(
        eval(&mut lua, "while true do end"),
        Err("timeout exceeded".into())
    );
}
