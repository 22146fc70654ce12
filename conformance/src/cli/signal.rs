//! SIGINT while Lua code runs (`lua.c`'s `laction`): the first one stops the code with an
//! "interrupted!" error at its next instruction; the handler then goes back to the default,
//! so another SIGINT ends a process stuck in a long library call. (Targets without signals,
//! such as WASI, have none of this.)

use std::sync::OnceLock;

use interp::InterruptHandle;

/// The interrupt handle of the process's runtime (the first one made): the handler asks it
/// for an "interrupted!" error, which the runtime raises at the next instruction.
pub static INTERRUPT: OnceLock<InterruptHandle> = OnceLock::new();

#[cfg(unix)]
extern "C" fn on_sigint(sig: libc::c_int) {
    // SAFETY: `signal` is async-signal-safe, and SIG_DFL is a valid disposition.
    unsafe { libc::signal(sig, libc::SIG_DFL) };
    // Reading a set `OnceLock` and the handle's store are plain atomic operations.
    if let Some(h) = INTERRUPT.get() {
        h.interrupt_with_error();
    }
}

/// Installs the SIGINT handler (while Lua code runs).
pub fn catch_sigint() {
    #[cfg(unix)]
    {
        let handler = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: `on_sigint` only makes async-signal-safe calls and touches an atomic.
        unsafe { libc::signal(libc::SIGINT, handler) };
    }
}

/// Restores the default SIGINT disposition.
pub fn default_sigint() {
    // SAFETY: setting the default disposition has no preconditions.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL)
    };
}

/// Restores the default SIGPIPE disposition, which Rust's runtime sets to "ignore" before
/// `main`: C Lua's process is killed by a write to a pipe nobody reads (`lua x.lua | head`,
/// a `popen(cmd, "w")` whose command has exited), and so is `lua-rs`.
pub fn default_sigpipe() {
    // SAFETY: setting the default disposition has no preconditions.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL)
    };
}
