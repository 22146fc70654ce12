//! Execution limits set by the host: a fuel budget, a deadline and an interrupt request,
//! checked between steps (and between chunks of nested calls), never per instruction, and
//! every [`TICK_CHECK`] units of fuel inside long library calls (`Context::tick`). Also the
//! limits on call depth and on live coroutines, which raise ordinary Lua errors.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{HostClock, StdClock};

/// Fuel a library call may charge through `Context::tick` between two looks at the limits.
pub const TICK_CHECK: i64 = 4096;

/// The most fuel a library call's charges add up to before a step takes them (far past any
/// budget): the step's arithmetic on fuel cannot overflow.
pub(crate) const MAX_CHARGED: i64 = i64::MAX / 4;

/// The arena's side of the fuel account: fuel library work charged inside a step (taken
/// from the step's fuel at its next reload), and the countdown to the next look at the
/// host's [`Limits`] from inside a long library call.
///
/// Invariant: the charge stays within `0..=MAX_CHARGED`.
#[derive(Default)]
pub(crate) struct FuelMeter {
    /// Fuel charged and not yet taken by the step.
    charged: Cell<i64>,
    /// Fuel [`FuelMeter::tick`] may charge before the limits are looked at again.
    tick_left: Cell<i64>,
}

impl FuelMeter {
    /// Charges `units` of fuel for library work (saturating at [`MAX_CHARGED`]).
    #[inline]
    pub(crate) fn charge(&self, units: usize) {
        let units = units.min(MAX_CHARGED as usize) as i64;
        let c = &self.charged;
        c.set(c.get().saturating_add(units).min(MAX_CHARGED));
    }

    /// Takes the fuel charged so far (the step pays it).
    #[inline]
    pub(crate) fn take_charged(&self) -> i64 {
        self.charged.replace(0)
    }

    /// Charges `units` and counts them down: true when the limits are due a look (every
    /// [`TICK_CHECK`] units; the countdown starts again).
    #[inline]
    pub(crate) fn tick(&self, units: usize) -> bool {
        let units = units.min(MAX_CHARGED as usize);
        self.charge(units);
        let left = self.tick_left.get() - units as i64;
        if left > 0 {
            self.tick_left.set(left);
            return false;
        }
        self.tick_left.set(TICK_CHECK);
        true
    }

    /// The fuel charged and not yet taken.
    pub(crate) fn charged(&self) -> i64 {
        self.charged.get()
    }
}

/// A host's own stop condition, looked at inside long library calls (every [`TICK_CHECK`]
/// units of fuel): returning true stops the call with [`StopReason::Host`].
pub type HostPoll = Box<dyn FnMut() -> bool>;

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

/// The one way to interrupt a runtime's running call from anywhere (another thread, a signal
/// handler: it only stores to an atomic): `Send`, `Sync` and cheap to clone.
#[derive(Clone, Default)]
pub struct InterruptHandle(Arc<AtomicU8>);

/// [`InterruptHandle`]'s states.
const NOT_INTERRUPTED: u8 = 0;
const STOP: u8 = 1;
const RAISE: u8 = 2;

impl InterruptHandle {
    /// Stops the running call with the uncatchable "interrupted" stop
    /// ([`StopReason::Interrupted`]): Lua code cannot catch it, and the call fails.
    pub fn interrupt(&self) {
        self.0.store(STOP, Ordering::Relaxed);
    }

    /// Raises a Lua error "interrupted!" in the running code at its next instruction, as
    /// `lua.c` does on Ctrl-C: `pcall` can catch it. A pending [`InterruptHandle::interrupt`]
    /// is kept.
    pub fn interrupt_with_error(&self) {
        let _ =
            self.0
                .compare_exchange(NOT_INTERRUPTED, RAISE, Ordering::SeqCst, Ordering::Relaxed);
    }

    /// Whether an uncatchable stop was asked for.
    #[inline]
    fn stop_asked(&self) -> bool {
        self.0.load(Ordering::Relaxed) == STOP
    }

    /// Takes a pending request for an "interrupted!" error.
    #[inline]
    pub(crate) fn take_error_request(&self) -> bool {
        self.0.load(Ordering::Relaxed) == RAISE
            && self
                .0
                .compare_exchange(RAISE, NOT_INTERRUPTED, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
    }

    /// Forgets any request (a new outermost call starts).
    fn clear(&self) {
        self.0.store(NOT_INTERRUPTED, Ordering::Relaxed);
    }
}

/// The runtime's clock ([`StdClock`] unless the host sets one).
struct ClockCell(RefCell<Rc<dyn HostClock>>);

impl Default for ClockCell {
    fn default() -> Self {
        ClockCell(RefCell::new(Rc::new(StdClock)))
    }
}

impl ClockCell {
    /// The clock's monotonic time.
    fn monotonic(&self) -> Option<Duration> {
        self.0.borrow().monotonic()
    }
}

/// The limits of one runtime and the accounting of the call in progress. Once a limit is
/// hit, every check fails until the outermost call ends (Lua code that swallows the stop
/// error is stopped again at the next check).
#[derive(Default)]
pub struct Limits {
    max_fuel: Cell<Option<u64>>,
    timeout: Cell<Option<Duration>>,
    interrupt: InterruptHandle,
    used: Cell<u64>,
    /// When the call in progress times out, on the clock's monotonic time (`Some(ZERO)`: at
    /// once, a timeout with no clock to measure it).
    deadline: Cell<Option<Duration>>,
    clock: ClockCell,
    depth: Cell<u32>,
    stopped: Cell<Option<StopReason>>,
    poll: RefCell<Option<HostPoll>>,
    max_depth: Cell<Option<u32>>,
    max_coroutines: Cell<Option<u32>>,
    coroutines: Rc<Cell<u32>>,
}

/// Held by a coroutine counted against [`Limits::max_coroutines`]: dropping it (when the
/// coroutine dies or is collected) uncounts it.
pub struct CoroutineToken(Rc<Cell<u32>>);

impl Drop for CoroutineToken {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
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

    /// Sets the wall-clock limit per outermost call, measured on the runtime's clock (with
    /// no monotonic clock, as on `wasm32-unknown-unknown` without a host clock, a timeout
    /// stops every call at once: use fuel there, or [`Limits::set_clock`]).
    pub fn set_timeout(&self, v: Option<Duration>) {
        self.timeout.set(v);
    }

    /// The runtime's clock: timeouts' deadlines, and what `os.time`, `os.clock` and
    /// `math.randomseed()` read ([`StdClock`] unless the host set another).
    pub fn clock(&self) -> Rc<dyn HostClock> {
        self.clock.0.borrow().clone()
    }

    /// Makes `clock` the runtime's clock (from the next call on, for timeouts).
    pub fn set_clock(&self, clock: Rc<dyn HostClock>) {
        *self.clock.0.borrow_mut() = clock;
    }

    /// Whether the monotonic clock is at or past `deadline` (no clock: it is).
    fn past(&self, deadline: Duration) -> bool {
        self.clock.monotonic().is_none_or(|now| now >= deadline)
    }

    /// The runtime's interrupt handle, borrowed.
    #[inline]
    pub(crate) fn interrupt_handle_ref(&self) -> &InterruptHandle {
        &self.interrupt
    }

    /// The handle that interrupts the running call (from any thread).
    pub fn interrupt_handle(&self) -> InterruptHandle {
        self.interrupt.clone()
    }

    /// The largest call depth (frames of Lua functions, of library functions calling back
    /// into Lua and of protected calls, over the running coroutine and those resuming it);
    /// `None`: only the built-in stack limit. Going deeper raises "stack overflow".
    pub fn max_depth(&self) -> Option<u32> {
        self.max_depth.get()
    }

    /// Sets the largest call depth (takes effect for calls and resumes started afterwards).
    pub fn set_max_depth(&self, v: Option<u32>) {
        self.max_depth.set(v);
    }

    /// The largest number of live coroutines (created, neither dead nor collected);
    /// `None`: unlimited.
    pub fn max_coroutines(&self) -> Option<u32> {
        self.max_coroutines.get()
    }

    /// Sets the largest number of live coroutines.
    pub fn set_max_coroutines(&self, v: Option<u32>) {
        self.max_coroutines.set(v);
    }

    /// Number of live coroutines (created, neither dead nor collected yet).
    pub fn coroutines(&self) -> u32 {
        self.coroutines.get()
    }

    /// Counts a new coroutine, or `None` if that would pass [`Limits::max_coroutines`].
    pub fn new_coroutine(&self) -> Option<CoroutineToken> {
        let n = self.coroutines.get();
        if self.max_coroutines.get().is_some_and(|m| n >= m) {
            return None;
        }
        self.coroutines.set(n + 1);
        Some(CoroutineToken(self.coroutines.clone()))
    }

    /// Installs the host's own stop condition (see [`HostPoll`]); returns the one it
    /// replaces, to put back when the call that installed it ends.
    pub fn set_poll(&self, poll: Option<HostPoll>) -> Option<HostPoll> {
        std::mem::replace(&mut *self.poll.borrow_mut(), poll)
    }

    /// Fuel used by the current (or last) outermost call.
    pub fn used(&self) -> u64 {
        self.used.get()
    }

    /// Why the current call was stopped, if it was.
    #[inline]
    pub fn stopped(&self) -> Option<StopReason> {
        self.stopped.get()
    }

    /// How many calls from the host are in progress (nested ones included): 0 between
    /// calls, 1 inside the outermost one.
    #[inline]
    pub fn depth(&self) -> u32 {
        self.depth.get()
    }

    /// Enters a call from the host; the outermost one starts the accounting afresh.
    pub fn begin(&self) {
        let d = self.depth.get();
        self.depth.set(d + 1);
        if d == 0 {
            self.used.set(0);
            self.stopped.set(None);
            self.interrupt.clear();
            // A deadline past what a duration can hold (centuries away) is none; with no
            // clock to measure it, a timeout stops the call at once (safe, not silent).
            let deadline = self
                .timeout
                .get()
                .and_then(|t| match self.clock.monotonic() {
                    Some(now) => now.checked_add(t),
                    None => Some(Duration::ZERO),
                });
            self.deadline.set(deadline);
        }
    }

    /// [`Limits::begin`] now and [`Limits::end`] when the guard goes (also on a panic).
    pub(crate) fn call_guard(&self) -> CallGuard<'_> {
        self.begin();
        CallGuard(self)
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

    /// Looks at the limits from inside a library call, as [`Limits::check`] does, with
    /// `pending` units of fuel spent but not counted yet (the fuel of the step in progress is
    /// not known here: the budget is enforced within a step's worth); asks the host's poll
    /// first.
    #[cold]
    #[inline(never)]
    pub fn check_inside(&self, pending: u64) -> Option<StopReason> {
        if self.stopped.get().is_none() && self.poll_host() {
            self.stop(StopReason::Host);
        }
        let r = self.check();
        if r.is_none() {
            let used = self.used.get().saturating_add(pending);
            if self.max_fuel.get().is_some_and(|m| used >= m) {
                self.stop(StopReason::Instructions);
                return Some(StopReason::Instructions);
            }
        }
        r
    }

    /// Runs the host's poll (see [`HostPoll`]), if one is installed: true when it asks to
    /// stop. The poll may run code of its own: no borrow is held across it but the poll's,
    /// and a nested look finds the poll taken and skips it.
    pub fn poll_host(&self) -> bool {
        let Some(mut poll) = self.poll.try_borrow_mut().ok().and_then(|mut p| p.take()) else {
            return false;
        };
        let stop = poll();
        if let Ok(mut slot) = self.poll.try_borrow_mut() {
            if slot.is_none() {
                *slot = Some(poll);
            }
        }
        stop
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
        let r = if self.interrupt.stop_asked() {
            StopReason::Interrupted
        } else if self.max_fuel.get().is_some_and(|m| self.used.get() >= m) {
            StopReason::Instructions
        } else if self.deadline.get().is_some_and(|d| self.past(d)) {
            StopReason::Timeout
        } else {
            return None;
        };
        self.stopped.set(Some(r));
        Some(r)
    }
}

/// Ends the call [`Limits::call_guard`] began, when dropped.
pub(crate) struct CallGuard<'a>(&'a Limits);

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        self.0.end();
    }
}
