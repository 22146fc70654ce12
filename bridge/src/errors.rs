//! The Python exceptions (defined in `lupa_rs/_errors.py`) and the conversion of Lua errors.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static CLASSES: PyOnceLock<[Py<PyType>; 5]> = PyOnceLock::new();

fn class(py: Python<'_>, i: usize) -> Bound<'_, PyType> {
    let classes = CLASSES.get_or_init(py, || {
        let m = py
            .import("lupa_rs._errors")
            .expect("lupa_rs._errors is part of the package");
        let get = |name: &str| -> Py<PyType> {
            m.getattr(name)
                .and_then(|c| c.cast_into::<PyType>().map_err(Into::into))
                .expect("exception class")
                .unbind()
        };
        [
            get("LuaError"),
            get("LuaSyntaxError"),
            get("LuaMemoryError"),
            get("LuaTimeoutError"),
            get("LuaInterruptedError"),
        ]
    });
    classes[i].bind(py).clone()
}

/// `LuaError(msg)`.
pub fn lua_error(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    PyErr::from_type(class(py, 0), (msg.into(),))
}

/// `LuaError(msg, value, traceback)`.
pub fn lua_error_with(
    py: Python<'_>,
    msg: String,
    value: Py<PyAny>,
    traceback: Option<String>,
) -> PyErr {
    PyErr::from_type(class(py, 0), (msg, value, traceback))
}

/// `LuaSyntaxError(msg)`.
pub fn syntax_error(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    PyErr::from_type(class(py, 1), (msg.into(),))
}

/// `LuaMemoryError(msg)`.
pub fn memory_error(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    PyErr::from_type(class(py, 2), (msg.into(),))
}

/// `LuaTimeoutError(msg)`: a call stopped by `max_instructions` or `timeout`.
pub fn timeout_error(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    PyErr::from_type(class(py, 3), (msg.into(),))
}

/// `LuaInterruptedError(msg)`: a call stopped by `LuaRuntime.interrupt()`.
pub fn interrupted_error(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    PyErr::from_type(class(py, 4), (msg.into(),))
}
