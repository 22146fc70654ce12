//! `_RuntimeCore`: the one Python object that owns a runtime's shared state.
//!
//! `LuaRuntime` and every Lua object wrapper hold the core as a Python reference and report it
//! to Python's garbage collector; the core reports every Python object the Lua side holds
//! (`Shared::traverse`). So a cycle through Lua (a Python object that refers to a Lua table
//! holding that object) is a cycle Python's collector sees, and `__clear__` breaks it once the
//! runtime and everything in the cycle is unreachable from Python.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::{PyTraverseError, PyVisit};

use crate::shared::Shared;

/// Owns a runtime's shared state for Python (see the module documentation).
#[pyclass(name = "_RuntimeCore", module = "lupa_rs", frozen)]
pub struct RuntimeCore {
    shared: Arc<Shared>,
}

impl RuntimeCore {
    /// Makes the core of `shared` (one per runtime: only `LuaRuntime.__init__` calls this).
    pub(crate) fn new(py: Python<'_>, shared: Arc<Shared>) -> PyResult<Py<RuntimeCore>> {
        let core = Py::new(
            py,
            RuntimeCore {
                shared: shared.clone(),
            },
        )?;
        shared.set_core(py, core.as_ptr());
        Ok(core)
    }

    /// The shared state.
    #[inline]
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

#[pymethods]
impl RuntimeCore {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.shared.traverse(&visit)
    }

    fn __clear__(&self, py: Python<'_>) {
        self.shared.clear_python_refs(py);
    }
}

impl Drop for RuntimeCore {
    fn drop(&mut self) {
        self.shared.forget_core();
        // (A `_RuntimeCore` is deallocated with the GIL held.)
        Python::attach(|py| close_runtime(py, &self.shared));
    }
}

/// Closes the runtime as C Lua's `lua_close` does (lupa runs it when its runtime is freed):
/// the finalizer of every object still registered for one runs, newest first, under the
/// runtime's limits (the runtime's finalizer runner releases the GIL while they run, as it
/// does for every finalizer). Their errors are dropped, as `lua_close` turns them into
/// warnings; a Python exception that stopped them (Ctrl-C) is reported as unraisable, for
/// there is no caller to take it.
fn close_runtime(py: Python<'_>, shared: &Arc<Shared>) {
    let r = shared.with(py, |mut l| {
        let limits = l.lua.limits();
        let Some(lua) = l.lua.owned() else {
            return Ok(());
        };
        if !lua.enter(|ctx| ctx.has_finalizers()) {
            return Ok(());
        }
        lua.enter(|ctx| ctx.begin_close());
        crate::limits::run_limited(py, l.shared, &limits, || lua.run_finalizers())
    });
    if let Err(e) = r {
        if !crate::errors::is_lua_error(py, &e) {
            e.write_unraisable(py, None);
        }
    }
    shared.release_dropped_pyrefs(py);
}

/// Registers the class in the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RuntimeCore>()
}
