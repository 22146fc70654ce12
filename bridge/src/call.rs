//! Running Lua from Python: calls with the GIL released, and Lua errors as Python exceptions.

use std::sync::Arc;

use interp::{ErrorKind, StashedError, StashedValue, Value};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::{py_object_of, Conv};
use crate::errors;
use crate::shared::{Locked, Shared};

/// Moves a value into `Python::detach` (the runtime lock makes this thread its only user).
struct AssertSend<T>(T);
// SAFETY: only used to carry `&mut Lua` and rooted values of the locked runtime into a
// closure that runs on the same thread (`detach` runs it synchronously).
unsafe impl<T> Send for AssertSend<T> {}

/// Calls `f(args)` in Lua with the GIL released; returns the results.
pub(crate) fn call_stashed(
    py: Python<'_>,
    l: &mut Locked<'_>,
    f: &StashedValue,
    args: &[StashedValue],
) -> PyResult<Vec<StashedValue>> {
    let job = AssertSend((&mut *l.lua, f, args));
    let r = py.detach(move || {
        let job = job;
        let (lua, f, args) = job.0;
        AssertSend(lua.call(f, args))
    });
    r.0.map_err(|e| lua_error_to_py(py, l, e))
}

/// Calls the Lua value in slot `f` with Python arguments; results converted to Python.
pub(crate) fn call_slot(
    py: Python<'_>,
    rt: &Arc<Shared>,
    f: u32,
    args: &Bound<'_, PyTuple>,
) -> PyResult<Vec<Py<PyAny>>> {
    rt.with(py, |mut l| {
        let fv = l.lua.enter(|ctx| ctx.stash(ctx.fetch(l.refs().get(f))));
        let argv = stash_args(py, &mut l, args.iter())?;
        let out = call_stashed(py, &mut l, &fv, &argv)?;
        results_to_py(py, &mut l, &out)
    })
}

/// Converts Python values to rooted Lua values.
pub(crate) fn stash_args<'py>(
    py: Python<'py>,
    l: &mut Locked<'_>,
    args: impl Iterator<Item = Bound<'py, PyAny>>,
) -> PyResult<Vec<StashedValue>> {
    let rt = l.shared;
    let refs = l.refs();
    l.lua.enter(|ctx| {
        let mut conv = Conv { rt, refs };
        args.map(|a| conv.py_to_lua(py, ctx, &a).map(|v| ctx.stash(v)))
            .collect()
    })
}

/// Converts rooted Lua values to Python.
pub(crate) fn results_to_py(
    py: Python<'_>,
    l: &mut Locked<'_>,
    vals: &[StashedValue],
) -> PyResult<Vec<Py<PyAny>>> {
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
    let rt = l.shared;
    let refs = l.refs();
    let (msg, value, exc) = l.lua.enter(|ctx| {
        let v = ctx.fetch(&e.value);
        if let Value::UserData(u) = v {
            if let Some((obj, _)) = py_object_of(u) {
                if obj
                    .bind(py)
                    .is_instance_of::<pyo3::exceptions::PyBaseException>()
                {
                    return (String::new(), py.None(), Some(obj));
                }
            }
        }
        let msg = match v {
            Value::String(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
            Value::Nil => "nil".to_string(),
            other => format!("(error object is a {} value)", other.type_name()),
        };
        let mut conv = Conv { rt, refs };
        let value = conv.lua_to_py(py, ctx, v).unwrap_or_else(|_| py.None());
        (msg, value, None)
    });
    if let Some(exc) = exc {
        return PyErr::from_value(exc.into_bound(py));
    }
    match e.kind {
        ErrorKind::Memory => errors::memory_error(py, msg),
        _ => errors::lua_error_with(py, msg, value, e.traceback),
    }
}
