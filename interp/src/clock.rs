//! The host's clock: what a runtime asks about time and where its random seed comes from.
//! A runtime asks only its [`HostClock`] (set with [`Limits::set_clock`]): the deadlines of
//! timeouts, and (through stdlib) `os.time`, `os.date`, `os.clock` and `math.randomseed()`.
//! [`StdClock`], the default, is the standard library's clocks where the target has them; on
//! `wasm32-unknown-unknown` it has none (std's clocks panic there), and a host (a browser,
//! a JavaScript runtime) supplies its own.
//!
//! ```
//! use std::rc::Rc;
//! use std::time::Duration;
//! use interp::{HostClock, Lua};
//!
//! /// A clock that stands still at 2026-01-01 (a test, or a host without one).
//! struct Fixed;
//! impl HostClock for Fixed {
//!     fn system_time(&self) -> Option<Duration> {
//!         Some(Duration::from_secs(1_767_225_600))
//!     }
//!     fn monotonic(&self) -> Option<Duration> {
//!         Some(Duration::ZERO)
//!     }
//! }
//! let lua = Lua::new();
//! lua.limits().set_clock(Rc::new(Fixed));
//! assert_eq!(lua.limits().clock().system_time(), Some(Duration::from_secs(1_767_225_600)));
//! ```
//!
//! [`Limits::set_clock`]: crate::Limits::set_clock

use std::time::Duration;

/// A source of time for a runtime. Every method may say `None`: the host has no such clock.
pub trait HostClock {
    /// The time since the Unix epoch (C's `time()`: `os.time`, `os.date`).
    fn system_time(&self) -> Option<Duration>;

    /// A clock that never goes back, from an origin of its choosing (timeouts' deadlines).
    fn monotonic(&self) -> Option<Duration>;

    /// The processor time the program has used (C's `clock()`: `os.clock`).
    fn cpu_time(&self) -> Option<Duration> {
        None
    }

    /// Bits that differ from run to run, for `math.randomseed()` without arguments.
    fn seed(&self) -> u64 {
        self.system_time().map_or(0, |d| d.as_nanos() as u64)
    }
}

/// The standard library's clocks: `SystemTime` and `Instant` where the target has them,
/// the process CPU clock on unix (WASI has none: there `cpu_time` counts the monotonic clock
/// from its first use, as wasi-libc's `clock()` counts it from the program's start), and no
/// clock at all on `wasm32-unknown-unknown`.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdClock;

/// Whether the target's standard library has clocks (not `wasm32-unknown-unknown`).
const STD_HAS_CLOCKS: bool = !cfg!(all(target_family = "wasm", target_os = "unknown"));

/// The monotonic clock's origin: its first use in the process.
fn monotonic_origin() -> std::time::Instant {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(std::time::Instant::now)
}

impl HostClock for StdClock {
    fn system_time(&self) -> Option<Duration> {
        if !STD_HAS_CLOCKS {
            return None;
        }
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
    }

    fn monotonic(&self) -> Option<Duration> {
        if !STD_HAS_CLOCKS {
            return None;
        }
        Some(monotonic_origin().elapsed())
    }

    fn cpu_time(&self) -> Option<Duration> {
        #[cfg(unix)]
        {
            process_cpu_time()
        }
        #[cfg(not(unix))]
        {
            if cfg!(target_os = "wasi") {
                self.monotonic()
            } else {
                None
            }
        }
    }
}

/// The process CPU clock (`CLOCK_PROCESS_CPUTIME_ID`: what glibc's `clock()` reads).
#[cfg(unix)]
fn process_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for clock_gettime to fill.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } != 0 {
        return None;
    }
    Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}
