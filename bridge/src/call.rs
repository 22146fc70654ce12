//! Running Lua from Python: calls with the GIL released, and Lua errors as Python exceptions.

use std::sync::Arc;

use interp::{
    CallProgress, Context, ErrorKind, FirstStep, HostEntry, StashedError, StashedValue, Value,
};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::{py_object_of, Conv, PyValues};
use crate::errors;
use crate::limits::{stopped_error, LimitedCall};
use crate::shared::{Locked, Refs, Shared};

/// Moves a value into `Python::detach` (the runtime lock makes this thread its only user).
pub(crate) struct AssertSend<T>(pub(crate) T);
// SAFETY: only used to carry `&mut Lua` and rooted values of the locked runtime into a
// closure that runs on the same thread (`detach` runs it synchronously).
unsafe impl<T> Send for AssertSend<T> {}

/// Calls the Lua value in slot `f` with Python arguments; results converted to Python.
pub(crate) fn call_slot(
    py: Python<'_>,
    rt: &Arc<Shared>,
    f: u32,
    args: &Bound<'_, PyTuple>,
) -> PyResult<PyValues> {
    let args: smallvec::SmallVec<[Bound<'_, PyAny>; 8]> = args.iter().collect();
    rt.with(py, |mut l| {
        call_fast(py, &mut l, |ctx, refs| Ok(ctx.fetch(refs.get(f))), &args)
    })
}

/// Calls the function `f` makes with Python arguments. Arguments, the first step of Lua and
/// the results stay inside one visit of the arena (the GIL held); a call that runs longer
/// goes on with the GIL released, one step at a time.
pub(crate) fn call_fast(
    py: Python<'_>,
    l: &mut Locked<'_>,
    f: impl for<'gc> FnOnce(Context<'gc>, &mut Refs) -> PyResult<Value<'gc>>,
    args: &[Bound<'_, PyAny>],
) -> PyResult<PyValues> {
    run_fast(py, l, HostEntry::Call, f, args)
}

/// Resumes the coroutine `co` gives with Python arguments, as [`call_fast`] calls: the
/// results are what it yielded or returned.
pub(crate) fn resume_fast(
    py: Python<'_>,
    l: &mut Locked<'_>,
    co: impl for<'gc> FnOnce(Context<'gc>, &mut Refs) -> PyResult<Value<'gc>>,
    args: &[Bound<'_, PyAny>],
) -> PyResult<PyValues> {
    run_fast(py, l, HostEntry::Resume, co, args)
}

/// How many calls from Python into Lua this thread is inside (each but the first made by
/// Python code that Lua called).
struct Reentry;

thread_local! {
    static REENTRY_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// On WebAssembly the native stack cannot be measured (the engine's own stack, about 1 MB in
/// browsers and Node, holds the wasm frames): Python -> Lua -> Python recursion is bounded by
/// a count there, ~8 KB of that stack per level (measured in Pyodide under Node), leaving
/// room for the Python frames around it. Elsewhere the stack's bounds decide.
const WASM_MAX_REENTRY: u32 = 64;

impl Reentry {
    /// Enters one more level, or `None` past the bound (counted on WebAssembly only).
    fn enter() -> Option<Reentry> {
        if !cfg!(target_family = "wasm") {
            return Some(Reentry);
        }
        REENTRY_DEPTH.with(|d| {
            let n = d.get();
            if n >= WASM_MAX_REENTRY {
                return None;
            }
            d.set(n + 1);
            Some(Reentry)
        })
    }
}

impl Drop for Reentry {
    fn drop(&mut self) {
        if cfg!(target_family = "wasm") {
            REENTRY_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
        }
    }
}

/// A call (or a coroutine resume) from Python, as [`call_fast`] describes.
fn run_fast(
    py: Python<'_>,
    l: &mut Locked<'_>,
    entry: HostEntry,
    f: impl for<'gc> FnOnce(Context<'gc>, &mut Refs) -> PyResult<Value<'gc>>,
    args: &[Bound<'_, PyAny>],
) -> PyResult<PyValues> {
    let shared = l.shared;
    let Some(_level) = Reentry::enter() else {
        return Err(errors::lua_error(py, "C stack overflow"));
    };
    if let Some(call) = l.lua.inline_call() {
        return match nested_from_inline(py, shared, call, entry, f, args) {
            Ok(out) => Ok(out),
            Err(Failure::Python(e)) => Err(e),
            Err(Failure::Lua(e)) => Err(lua_error_to_py(py, l, e)),
        };
    }
    let Some(lua) = l.lua.owned() else {
        unreachable!("a locked runtime is owned or inline")
    };
    let limits = lua.limits().clone();
    let _limited = LimitedCall::begin(&limits, &shared.stop_exception);
    // Garbage from earlier calls goes before this one may fail for lack of memory (its
    // finalizers run under the call's limits; a stop there fails the call).
    lua.collect_if_over_limit();
    // The results are converted into `out` where they lie on Lua's stack (moving lists of
    // values around costs more than converting them: stores forwarded to wider loads stall).
    let mut out = PyValues::new();
    let first = lua.first_step(
        entry,
        |ctx, argv| {
            shared.inline_refs(|refs| {
                let fv = f(ctx, refs)?;
                let mut conv = Conv { rt: shared, refs };
                for a in args {
                    argv.push(conv.py_to_lua(py, ctx, a)?);
                }
                PyResult::Ok(fv)
            })
        },
        |ctx, vals| {
            shared.inline_refs(|refs| {
                let mut conv = Conv { rt: shared, refs };
                for &v in vals {
                    out.push(conv.lua_to_py(py, ctx, v)?);
                }
                PyResult::Ok(())
            })
        },
    )?;
    let r = match first {
        FirstStep::Done(r) => r.map(|()| out),
        FirstStep::Failed(e) => Err(lua_error_to_py(py, l, e)),
        FirstStep::Running(call) => {
            // Calls into Python (host functions) go on with the GIL held; once a step runs
            // out of fuel (a long computation), the rest runs with the GIL released.
            let r = match lua.call_until_long(call) {
                CallProgress::Done(r) => r,
                CallProgress::Long(call) => {
                    // Between steps, the runtime's poll lets Python handle signals (Ctrl-C).
                    let job = AssertSend((&mut *lua, call));
                    py.detach(move || {
                        let job = job;
                        let (lua, call) = job.0;
                        AssertSend(lua.call_rest(call))
                    })
                    .0
                }
            };
            match r {
                Ok(vals) => results_to_py(py, l, &vals),
                Err(e) => Err(lua_error_to_py(py, l, e)),
            }
        }
    };
    // A Python exception that stops the call (Ctrl-C, a `SystemExit` from a callback) comes
    // out as itself, also where Lua let the call end otherwise (a finalizer's error is only
    // a warning) or a conversion failed meanwhile.
    if limits.stopped().is_some() {
        if let Some(e) = shared.stop_exception.get(py) {
            return Err(e);
        }
    }
    r
}

/// How a nested call from an inline native's Python code failed.
enum Failure {
    /// Converting arguments or results.
    Python(PyErr),
    /// In Lua.
    Lua(StashedError),
}

/// A call (or resume) from Python code that an inline native runs inside a step: it runs
/// nested through the native's call, on the calling Lua thread's stack (C Lua's `lua_call`
/// from a C function), under the limits of the call already running.
fn nested_from_inline(
    py: Python<'_>,
    shared: &Arc<Shared>,
    call: &mut interp::NativeCall<'static, 'static>,
    entry: HostEntry,
    f: impl for<'gc> FnOnce(Context<'gc>, &mut Refs) -> PyResult<Value<'gc>>,
    args: &[Bound<'_, PyAny>],
) -> Result<PyValues, Failure> {
    let ctx = call.ctx;
    // Python code that caught a stop of this call calls Lua again: the stop goes on.
    if let Some(e) = ctx.stop_error() {
        return Err(Failure::Lua(StashedError {
            value: ctx.stash(e.value),
            kind: e.kind,
            traceback: None,
        }));
    }
    // Converting the arguments may run a Lua overflow handler: nested through `call`.
    let call_ptr: *mut interp::NativeCall<'static, 'static> =
        (call as *mut interp::NativeCall<'static, 'static>).cast();
    let (fv, argv) = shared
        .converting_in(call_ptr, || {
            shared.inline_refs(|refs| {
                let fv = f(ctx, refs)?;
                let mut conv = Conv { rt: shared, refs };
                let mut argv = interp::ValueList::new();
                if let HostEntry::Resume = entry {
                    argv.push(fv);
                }
                for a in args {
                    argv.push(conv.py_to_lua(py, ctx, a)?);
                }
                PyResult::Ok((fv, argv))
            })
        })
        .map_err(Failure::Python)?;
    let r = match entry {
        // Errors carry their traceback, as those of calls between steps do.
        HostEntry::Call => call.call_traced(fv, &argv),
        HostEntry::Resume => {
            let resume = stdlib::host_function("coroutine.resume")
                .map(|r| ctx.native("resume", r))
                .unwrap_or_default();
            call.call(resume, &argv).and_then(protected_results)
        }
    };
    match r {
        Ok(vals) => shared
            .inline_refs(|refs| {
                let mut conv = Conv { rt: shared, refs };
                vals.iter()
                    .map(|&v| conv.lua_to_py(py, ctx, v))
                    .collect::<PyResult<PyValues>>()
            })
            .map_err(Failure::Python),
        Err(e) => Err(Failure::Lua(StashedError {
            value: ctx.stash(e.value),
            kind: e.kind,
            traceback: e.traceback,
        })),
    }
}

/// `true, ...` as the values, `false, e` as the error `e` (of `pcall`, `xpcall`, `resume`).
fn protected_results(mut vals: Vec<Value<'_>>) -> Result<Vec<Value<'_>>, interp::Error<'_>> {
    match vals.first() {
        Some(Value::Boolean(true)) => {
            vals.remove(0);
            Ok(vals)
        }
        _ => Err(interp::Error::new(vals.get(1).copied().unwrap_or_default())),
    }
}

/// Converts rooted Lua values to Python.
pub(crate) fn results_to_py(
    py: Python<'_>,
    l: &mut Locked<'_>,
    vals: &[StashedValue],
) -> PyResult<PyValues> {
    let rt = l.shared;
    let refs = l.refs();
    l.lua.enter(|ctx| {
        let mut conv = Conv { rt, refs };
        vals.iter()
            .map(|v| conv.lua_to_py(py, ctx, ctx.fetch(v)))
            .collect()
    })
}

/// A Lua error as the Python exception to raise: the original exception if a Python
/// callback raised it, `LuaMemoryError` when out of memory, else `LuaError`.
pub(crate) fn lua_error_to_py(py: Python<'_>, l: &mut Locked<'_>, e: StashedError) -> PyErr {
    if e.kind == ErrorKind::Interrupt {
        // (A Python signal handler that raised, KeyboardInterrupt: that exception goes on.)
        return stopped_error(py, l.shared, l.lua.limits().stopped());
    }
    let rt = l.shared;
    let refs = l.refs();
    let (msg, value, exc) = l.lua.enter(|ctx| {
        let v = ctx.fetch(&e.value);
        if let Value::UserData(u) = v {
            if let Some((Some(obj), _)) = py_object_of(py, rt, u) {
                if obj
                    .bind(py)
                    .is_instance_of::<pyo3::exceptions::PyBaseException>()
                {
                    return (String::new(), py.None(), Some(obj));
                }
            }
        }
        let msg = errors::lupa_message(py, ctx, rt, v, e.traceback.as_deref());
        let mut conv = Conv { rt, refs };
        let value = conv.lua_to_py(py, ctx, v).unwrap_or_else(|_| py.None());
        (msg, value, None)
    });
    if let Some(exc) = exc {
        return PyErr::from_value(exc.into_bound(py));
    }
    match e.kind {
        // lupa's rule: a message about memory is a memory error (whoever raised it).
        _ if msg.contains("not enough memory") => errors::memory_error(py, msg),
        ErrorKind::Memory => errors::memory_error(py, msg),
        _ => errors::lua_error_with(py, msg, value, e.traceback),
    }
}
