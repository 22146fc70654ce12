//! Execution limits seen from Python: the timeout argument, the accounting of a call from
//! Python, Ctrl-C while Lua runs with the GIL released, and the exception of a stopped call.

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
/// the deadline; dropping it leaves the call.
pub(crate) struct LimitedCall<'a>(&'a Limits);

impl<'a> LimitedCall<'a> {
    /// Enters a call.
    #[inline]
    pub fn begin(limits: &'a Limits) -> Self {
        limits.begin();
        LimitedCall(limits)
    }
}

impl Drop for LimitedCall<'_> {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// Makes the runtime poll Python's signal handlers through `signals` (Ctrl-C) between the
/// steps of a long call and inside long library calls.
pub(crate) fn install_signal_poll(limits: &Limits, signals: &Arc<Mutex<SignalPoll>>) {
    let signals = signals.clone();
    limits.set_poll(Some(Box::new(move || {
        signals.try_lock().is_ok_and(|mut s| s.poll())
    })));
}

/// Polls Python's signal handlers every `SIGNAL_POLL` while a long call runs; keeps the
/// exception a handler raised (KeyboardInterrupt) to raise instead of the stop. One per
/// runtime.
pub(crate) struct SignalPoll {
    next: Instant,
    /// The exception a signal handler raised.
    pub raised: Option<PyErr>,
}

impl SignalPoll {
    /// A poller whose first look is one period from now.
    pub fn new() -> Self {
        SignalPoll {
            next: Instant::now() + SIGNAL_POLL,
            raised: None,
        }
    }

    /// True when a signal handler raised: the call must stop. The GIL is taken for the
    /// look and let go of for a moment, so other Python threads run (and may call
    /// `interrupt()`) even when the call holds it (a long library call in a first step).
    pub fn poll(&mut self) -> bool {
        let now = Instant::now();
        if now < self.next {
            return false;
        }
        self.next = now + SIGNAL_POLL;
        let r = Python::attach(|py| {
            let r = py.check_signals();
            py.detach(|| ());
            r
        });
        if let Err(e) = r {
            self.raised = Some(e);
            return true;
        }
        false
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
    let _call = LimitedCall::begin(limits);
    let r = f();
    match limits.stopped() {
        Some(reason) => Err(stopped_error(py, shared, Some(reason))),
        None => Ok(r),
    }
}

/// The Python exception for a call of `shared`'s runtime stopped for `reason`: the one a
/// Python signal handler raised (KeyboardInterrupt) if that made the stop, else
/// [`stop_error`].
pub(crate) fn stopped_error(py: Python<'_>, shared: &Shared, reason: Option<StopReason>) -> PyErr {
    if reason == Some(StopReason::Host) {
        let mut signals = shared.signals.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(raised) = signals.raised.take() {
            return raised;
        }
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
