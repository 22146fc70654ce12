//! The `lupa_rs._lupa_rs` extension module: lupa's Python API on the pure-Rust Lua runtime.
//!
//! The Python package (`bridge/python/lupa_rs`) re-exports these names with the exceptions
//! and type stubs; the Rust side holds the work.

mod call;
mod capi;
mod convert;
mod dropq;
mod errors;
mod inline_safe;
mod limits;
mod objects;
mod pyobject;
mod pyrefs;
mod runtime;
mod runtime_core;
mod sandbox;
mod shared;
mod strcache;
mod table_from;

use pyo3::prelude::*;

/// `lua_type(obj)`: Lua's type name of a wrapped Lua object, `None` for other objects.
#[pyfunction]
fn lua_type(obj: &Bound<'_, PyAny>) -> Option<&'static str> {
    objects::lua_type_of(obj)
}

/// `as_attrgetter(obj)`: Lua indexing of `obj` uses attribute access.
#[pyfunction]
fn as_attrgetter(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
) -> PyResult<Py<pyobject::ProtocolWrapper>> {
    pyobject::wrap(py, obj, pyobject::Protocol::Attr)
}

/// `as_itemgetter(obj)`: Lua indexing of `obj` uses item access.
#[pyfunction]
fn as_itemgetter(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
) -> PyResult<Py<pyobject::ProtocolWrapper>> {
    pyobject::wrap(py, obj, pyobject::Protocol::Item)
}

/// `_live_runtimes()`: how many Lua runtimes are alive in this process (for tests).
#[pyfunction]
fn _live_runtimes() -> usize {
    shared::LIVE.load(std::sync::atomic::Ordering::Relaxed)
}

/// The extension module (it relies on the GIL: see `shared`).
#[pymodule(gil_used = true)]
fn _lupa_rs(m: &Bound<'_, PyModule>) -> PyResult<()> {
    runtime::register(m)?;
    runtime_core::register(m)?;
    objects::register(m)?;
    pyobject::register(m)?;
    m.add_function(wrap_pyfunction!(lua_type, m)?)?;
    m.add_function(wrap_pyfunction!(as_attrgetter, m)?)?;
    m.add_function(wrap_pyfunction!(as_itemgetter, m)?)?;
    m.add_function(wrap_pyfunction!(_live_runtimes, m)?)?;
    m.add("LUA_VERSION", (5, 4))?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("LUA_MAXINTEGER", i64::MAX)?;
    m.add("LUA_MININTEGER", i64::MIN)?;
    Ok(())
}
