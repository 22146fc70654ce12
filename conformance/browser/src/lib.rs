//! lupa_rs in a browser-style host: interp and stdlib built for `wasm32-unknown-unknown`,
//! where the standard library has no clock, no files and no output. The module exports a C
//! ABI that `run.mjs` drives from JavaScript (no wasm-bindgen), and imports its clock from the
//! host (`env.host_system_time_ms`, `env.host_monotonic_ms`: `Date.now()` and
//! `performance.now()`), which every runtime it makes takes as its [`interp::HostClock`].
//! `print` and `io.write` append to the result the host reads back.
//!
//! Natively (the workspace's tests) the same code runs on [`interp::StdClock`].

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use interp::{HostClock, Lua};

#[cfg(all(target_family = "wasm", target_os = "unknown"))]
mod host {
    #[link(wasm_import_module = "env")]
    extern "C" {
        /// Milliseconds since the Unix epoch (`Date.now()`).
        pub fn host_system_time_ms() -> f64;
        /// Milliseconds from an origin of the host's (`performance.now()`).
        pub fn host_monotonic_ms() -> f64;
    }
}

/// The host's clock (the imports); natively, the standard library's.
struct BrowserClock;

impl HostClock for BrowserClock {
    fn system_time(&self) -> Option<Duration> {
        #[cfg(all(target_family = "wasm", target_os = "unknown"))]
        // SAFETY: an import without arguments that returns a number (run.mjs supplies it).
        return Duration::try_from_secs_f64(unsafe { host::host_system_time_ms() } / 1e3).ok();
        #[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
        interp::StdClock.system_time()
    }

    fn monotonic(&self) -> Option<Duration> {
        #[cfg(all(target_family = "wasm", target_os = "unknown"))]
        // SAFETY: as above.
        return Duration::try_from_secs_f64(unsafe { host::host_monotonic_ms() } / 1e3).ok();
        #[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
        interp::StdClock.monotonic()
    }

    fn cpu_time(&self) -> Option<Duration> {
        // A page has one thread: its time since the first use is the program's.
        static START: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
        let now = self.monotonic()?;
        Some(now.saturating_sub(*START.get_or_init(|| now)))
    }
}

thread_local! {
    /// What the running script printed, then its outcome.
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Lua code that routes `print` and `io.write` to the host's output (`__host_write`).
const PRELUDE: &[u8] = br##"
local write, tostring, select, concat = __host_write, tostring, select, table.concat
local format, mtype = string.format, math.type
__host_write = nil
function print(...)
  local n = select("#", ...)
  local t = {...}
  for i = 1, n do t[i] = tostring(t[i]) end
  write(concat(t, "\t", 1, n) .. "\n")
end
local stdout = io.stdout
function io.write(...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) ~= "string" and type(v) ~= "number" then
      error("bad argument #" .. i .. " to 'write' (string expected, got " .. type(v) .. ")", 2)
    end
    write(mtype(v) == "float" and format("%.14g", v) or tostring(v))
  end
  return stdout
end
"##;

/// Runs `source` (as chunk `name`, `=script` if empty) in a fresh runtime with every
/// library, the host's clock and the given limits (0: none); returns what it printed, then a
/// last line `ok` or `error: <message>`.
pub fn run(source: &[u8], name: &[u8], max_fuel: u64, timeout_ms: f64) -> Vec<u8> {
    OUTPUT.with(|o| o.borrow_mut().clear());
    let mut lua = Lua::new();
    lua.limits().set_clock(Rc::new(BrowserClock));
    lua.enter(stdlib::open_all);
    // A native function (not a host one): it runs wherever Lua code runs, finalizers too.
    lua.enter(|ctx| ctx.set_global("__host_write", ctx.native("__host_write", host_write)));
    let outcome = match lua.exec(PRELUDE, b"=prelude") {
        Err(e) => format!(
            "error: {}",
            lua.enter(|ctx| ctx.to_text(ctx.fetch(&e.value)))
        ),
        Ok(_) => {
            lua.limits()
                .set_max_fuel((max_fuel > 0).then_some(max_fuel));
            let timeout = Duration::try_from_secs_f64(timeout_ms / 1e3).ok();
            lua.limits().set_timeout(timeout.filter(|t| !t.is_zero()));
            let name = if name.is_empty() {
                &b"=script"[..]
            } else {
                name
            };
            match lua.exec(source, name) {
                Ok(_) => "ok".to_string(),
                Err(e) => {
                    let m = lua.enter(|ctx| ctx.to_text(ctx.fetch(&e.value)));
                    format!("error: {m}")
                }
            }
        }
    };
    // `lua_close`, as lua.c's exit runs it: finalizers print before the outcome.
    lua.limits().set_max_fuel(None);
    lua.limits().set_timeout(None);
    let close = lua.enter(|ctx| ctx.stash(ctx.native("close", close_state)));
    let _ = lua.call(&close, &[]);
    OUTPUT.with(|o| {
        let mut o = o.borrow_mut();
        o.extend_from_slice(outcome.as_bytes());
        std::mem::take(&mut *o)
    })
}

/// `__host_write(s)`: appends the string `s` to the output.
fn host_write<'gc>(
    call: &mut interp::NativeCall<'gc, '_>,
) -> Result<interp::Action<'gc>, interp::Error<'gc>> {
    let s = call.check_string(0)?;
    OUTPUT.with(|o| o.borrow_mut().extend_from_slice(s.as_bytes()));
    call.ret0()
}

/// Closes the state from inside it (see [`stdlib::close_state`]).
fn close_state<'gc>(
    call: &mut interp::NativeCall<'gc, '_>,
) -> Result<interp::Action<'gc>, interp::Error<'gc>> {
    stdlib::close_state(call);
    call.ret0()
}

thread_local! {
    /// The last result handed to the host (kept until the next run).
    static RESULT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// For the host: `len` bytes to write a script into (freed by the next [`lupa_run`]).
#[no_mangle]
pub extern "C" fn lupa_alloc(len: usize) -> *mut u8 {
    RESULT.with(|r| {
        let mut r = r.borrow_mut();
        *r = vec![0; len];
        r.as_mut_ptr()
    })
}

/// For the host: runs the `len` bytes at `src` (written into [`lupa_alloc`]'s buffer: the
/// chunk's name, `name_len` bytes, then its source) as [`run`] does; returns the address of
/// the result's length (4 bytes, little-endian), which its bytes follow. Valid until the
/// next call.
///
/// # Safety
/// `src` and `len` are those of the buffer [`lupa_alloc`] gave.
#[no_mangle]
pub unsafe extern "C" fn lupa_run(
    src: *const u8,
    len: usize,
    name_len: usize,
    max_fuel: u64,
    timeout_ms: f64,
) -> *const u8 {
    // SAFETY: the caller passes the buffer `lupa_alloc` made, untouched since.
    let bytes = unsafe { std::slice::from_raw_parts(src, len) }.to_vec();
    let (name, source) = bytes.split_at(name_len.min(len));
    let out = run(source, name, max_fuel, timeout_ms);
    RESULT.with(|r| {
        let mut r = r.borrow_mut();
        r.clear();
        r.extend_from_slice(&(out.len() as u32).to_le_bytes());
        r.extend_from_slice(&out);
        r.as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::run;

    #[test]
    fn prints_and_outcomes_come_back() {
        let code = b"print(1, 'a', nil) io.write('x', 2, 1.0, '\\n') error('boom')";
        let out = String::from_utf8(run(code, b"", 0, 0.0)).unwrap();
        assert_eq!(out, "1\ta\tnil\nx21\nerror: script:1: boom");
        let out = String::from_utf8(run(b"error('x')", b"@x.lua", 0, 0.0)).unwrap();
        assert_eq!(out, "error: x.lua:1: x");
    }

    #[test]
    fn the_limits_hold() {
        let out = run(b"while true do end", b"=loop", 1_000_000, 0.0);
        assert_eq!(out, b"error: instruction limit exceeded");
        let out = run(b"while true do end", b"=loop", 0, 50.0);
        assert_eq!(out, b"error: timeout exceeded");
    }

    #[test]
    fn finalizers_print_before_the_outcome() {
        let code = b"setmetatable({}, {__gc = function() print('bye') end})";
        assert_eq!(run(code, b"", 0, 0.0), b"bye\nok");
    }
}
