//! Execution limits seen from Python: the timeout argument, the accounting of a call from
//! Python, Ctrl-C while Lua runs with the GIL released, and the exception of a stopped call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use interp::{Limits, StopReason};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors;
use crate::shared::Shared;

/// How often a long call re-takes the GIL to let Python handle signals (Ctrl-C).
const SIGNAL_POLL: Duration = Duration::from_millis(20);

/// A timeout in seconds as a duration (`None` or a non-negative number). One too long for
/// a duration (`inf`, `1e20`: centuries) is no limit.
pub(crate) fn timeout_of(t: Option<f64>) -> PyResult<Option<Duration>> {
    match t {
        None => Ok(None),
        Some(s) if s >= 0.0 => Ok(Duration::try_from_secs_f64(s).ok()),
        // Negative, or NaN.
        Some(_) => Err(PyValueError::new_err(
            "timeout must be None or a non-negative number of seconds",
        )),
    }
}

/// A call from Python under the runtime's limits: the outermost one starts the budget and
/// the deadline (and forgets the stopping exception of an earlier call); dropping it leaves
/// the call.
pub(crate) struct LimitedCall<'a>(&'a Limits);

impl<'a> LimitedCall<'a> {
    /// Enters a call.
    #[inline]
    pub fn begin(limits: &'a Limits, stop: &StopException) -> Self {
        if limits.depth() == 0 {
            stop.clear();
        }
        limits.begin();
        LimitedCall(limits)
    }
}

impl Drop for LimitedCall<'_> {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// The Python exception that stops the running call: a `KeyboardInterrupt` a signal handler
/// raised while Lua ran, or a `BaseException` that is not an `Exception` (`SystemExit`,
/// `KeyboardInterrupt`, `GeneratorExit`) raised by a Python callback. Lua cannot catch it:
/// the call stops as for a limit (`StopReason::Host`, uncatchable by `pcall`, `xpcall`,
/// coroutines, `__close` and finalizers, and every later check fails until the outermost
/// call ends), and each call from Python it leaves raises it, as itself. One per runtime.
#[derive(Default)]
pub(crate) struct StopException {
    exc: Mutex<Option<PyErr>>,
    /// Whether `exc` may hold one (so that starting a call costs no lock).
    kept: AtomicBool,
}

impl StopException {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<PyErr>> {
        self.exc.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `e` to raise, unless the call is stopping for another one already (the first
    /// wins: a `SystemExit` a finalizer raises meanwhile does not replace a Ctrl-C).
    pub fn keep(&self, e: PyErr) {
        let mut slot = self.slot();
        if slot.is_none() {
            *slot = Some(e);
            self.kept.store(true, Ordering::Relaxed);
            return;
        }
        drop(slot);
        drop(e);
    }

    /// The exception, if the call is stopping for one (it stays until the outermost call
    /// from Python ends, so that each level it crosses raises it).
    #[cold]
    #[inline(never)]
    pub fn get(&self, py: Python<'_>) -> Option<PyErr> {
        self.slot().as_ref().map(|e| e.clone_ref(py))
    }

    /// Forgets the exception (the next outermost call starts afresh).
    #[inline]
    pub fn clear(&self) {
        if self.kept.load(Ordering::Relaxed) {
            self.clear_kept();
        }
    }

    #[cold]
    #[inline(never)]
    fn clear_kept(&self) {
        self.kept.store(false, Ordering::Relaxed);
        let old = self.slot().take();
        // Dropped after unlocking: it may run Python code.
        drop(old);
    }
}

/// True for the Python exceptions that stop a call instead of being Lua errors: the
/// `BaseException`s that are not `Exception`s.
pub(crate) fn stops_the_call(py: Python<'_>, e: &PyErr) -> bool {
    !e.is_instance_of::<pyo3::exceptions::PyException>(py)
}

/// Makes the runtime poll Python's signal handlers through `signals` (Ctrl-C) between the
/// steps of a long call and inside long library calls; what a handler raises goes to
/// `stop` and stops the call.
pub(crate) fn install_signal_poll(
    limits: &Limits,
    signals: &Arc<Mutex<SignalPoll>>,
    stop: &Arc<StopException>,
) {
    let signals = signals.clone();
    let stop = stop.clone();
    limits.set_poll(Some(Box::new(move || {
        match signals.try_lock().ok().and_then(|mut s| s.poll()) {
            Some(e) => {
                stop.keep(e);
                true
            }
            None => false,
        }
    })));
}

/// Polls Python's signal handlers every `SIGNAL_POLL` while a long call runs. One per
/// runtime.
pub(crate) struct SignalPoll {
    next: Instant,
}

impl SignalPoll {
    /// A poller whose first look is one period from now.
    pub fn new() -> Self {
        SignalPoll {
            next: Instant::now() + SIGNAL_POLL,
        }
    }

    /// The exception a signal handler raised (KeyboardInterrupt), if one did: the call must
    /// stop. The GIL is taken for the look and let go of for a moment, so other Python
    /// threads run (and may call `interrupt()`) even when the call holds it (a long library
    /// call in a first step).
    pub fn poll(&mut self) -> Option<PyErr> {
        let now = Instant::now();
        if now < self.next {
            return None;
        }
        self.next = now + SIGNAL_POLL;
        // (No look once the interpreter is finalized: no handler runs then.)
        crate::shared::attach_if_alive(|py| {
            let r = py.check_signals();
            py.detach(|| ());
            r
        })?
        .err()
    }
}

/// Runs `f` (Lua code run for the host outside a call: finalizers, say) as a call under the
/// runtime's limits: the outermost one gets the budget and the deadline. A stop made
/// meanwhile is the error (the exception of `shared`'s signal handler for a host stop);
/// none is left for the next call.
pub(crate) fn run_limited<R>(
    py: Python<'_>,
    shared: &Shared,
    limits: &Limits,
    f: impl FnOnce() -> R,
) -> PyResult<R> {
    let _call = LimitedCall::begin(limits, &shared.stop_exception);
    let r = f();
    match limits.stopped() {
        Some(reason) => Err(stopped_error(py, shared, Some(reason))),
        None => Ok(r),
    }
}

/// The Python exception for a call of `shared`'s runtime stopped for `reason`: the Python
/// exception that made the stop (a signal handler's KeyboardInterrupt, a callback's
/// `SystemExit`: it goes on, before any limit hit meanwhile), else [`stop_error`].
pub(crate) fn stopped_error(py: Python<'_>, shared: &Shared, reason: Option<StopReason>) -> PyErr {
    if let Some(exc) = shared.stop_exception.get(py) {
        return exc;
    }
    stop_error(py, reason)
}

/// The Python exception for a call stopped for `reason` (`None`: it was stopped, but the
/// reason is gone).
pub(crate) fn stop_error(py: Python<'_>, reason: Option<StopReason>) -> PyErr {
    let reason = reason.unwrap_or(StopReason::Host);
    match reason {
        StopReason::Interrupted => errors::interrupted_error(py, reason.message()),
        _ => errors::timeout_error(py, reason.message()),
    }
}
