//! Execution limits set by the host: a fuel budget, a deadline and an interrupt request,
//! checked between steps (and between chunks of nested calls), never per instruction.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why the host stopped a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The fuel budget (`max_instructions`) ran out.
    Instructions,
    /// The deadline (`timeout`) passed.
    Timeout,
    /// The interrupt flag was set (from another thread, say).
    Interrupted,
    /// The host asked to stop for its own reasons (a signal to handle, say).
    Host,
}

impl StopReason {
    /// The message of the uncatchable error that stops the call.
    pub fn message(self) -> &'static str {
        match self {
            StopReason::Instructions => "instruction limit exceeded",
            StopReason::Timeout => "timeout exceeded",
            StopReason::Interrupted => "interrupted",
            StopReason::Host => "stopped by the host",
        }
    }
}

/// The limits of one runtime and the accounting of the call in progress. Once a limit is
/// hit, every check fails until the outermost call ends (Lua code that swallows the stop
/// error is stopped again at the next check).
#[derive(Default)]
pub struct Limits {
    max_fuel: Cell<Option<u64>>,
    timeout: Cell<Option<Duration>>,
    interrupt: Arc<AtomicBool>,
    used: Cell<u64>,
    deadline: Cell<Option<Instant>>,
    depth: Cell<u32>,
    stopped: Cell<Option<StopReason>>,
}

impl Limits {
    /// The fuel budget per outermost call (`None`: unlimited).
    pub fn max_fuel(&self) -> Option<u64> {
        self.max_fuel.get()
    }

    /// Sets the fuel budget per outermost call.
    pub fn set_max_fuel(&self, v: Option<u64>) {
        self.max_fuel.set(v);
    }

    /// The wall-clock limit per outermost call (`None`: unlimited).
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout.get()
    }

    /// Sets the wall-clock limit per outermost call.
    pub fn set_timeout(&self, v: Option<Duration>) {
        self.timeout.set(v);
    }

    /// The flag that interrupts the running call when set (from any thread).
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.interrupt.clone()
    }

    /// Fuel used by the current (or last) outermost call.
    pub fn used(&self) -> u64 {
        self.used.get()
    }

    /// Why the current call was stopped, if it was.
    pub fn stopped(&self) -> Option<StopReason> {
        self.stopped.get()
    }

    /// Enters a call from the host; the outermost one starts the accounting afresh.
    pub fn begin(&self) {
        let d = self.depth.get();
        self.depth.set(d + 1);
        if d == 0 {
            self.used.set(0);
            self.stopped.set(None);
            self.interrupt.store(false, Ordering::Relaxed);
            self.deadline
                .set(self.timeout.get().map(|t| Instant::now() + t));
        }
    }

    /// Leaves a call entered with [`Limits::begin`].
    pub fn end(&self) {
        let d = self.depth.get().saturating_sub(1);
        self.depth.set(d);
        if d == 0 {
            self.deadline.set(None);
            self.stopped.set(None);
        }
    }

    /// Counts `n` units of fuel spent.
    #[inline]
    pub fn charge(&self, n: i64) {
        if n > 0 {
            self.used.set(self.used.get().saturating_add(n as u64));
        }
    }

    /// The fuel to give the next step: `per_step`, or less when the budget is nearly spent.
    #[inline]
    pub fn step_fuel(&self, per_step: i64) -> i64 {
        match self.max_fuel.get() {
            None => per_step,
            Some(max) => {
                let left = max.saturating_sub(self.used.get()).min(i64::MAX as u64) as i64;
                per_step.min(left.max(1))
            }
        }
    }

    /// Makes every check fail with `reason` until the outermost call ends.
    pub fn stop(&self, reason: StopReason) {
        if self.stopped.get().is_none() {
            self.stopped.set(Some(reason));
        }
    }

    /// Whether the call must stop now, and why.
    pub fn check(&self) -> Option<StopReason> {
        if let Some(r) = self.stopped.get() {
            return Some(r);
        }
        let r = if self.interrupt.load(Ordering::Relaxed) {
            StopReason::Interrupted
        } else if self.max_fuel.get().is_some_and(|m| self.used.get() >= m) {
            StopReason::Instructions
        } else if self.deadline.get().is_some_and(|d| Instant::now() >= d) {
            StopReason::Timeout
        } else {
            return None;
        };
        self.stopped.set(Some(r));
        Some(r)
    }
}
