//! The Python exceptions (defined in `lupa_rs/_errors.py`) and the conversion of Lua errors.

use interp::{Context, Value};
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

/// Whether `e` is a `LuaError` (of any subclass: a syntax error, a stop).
pub fn is_lua_error(py: Python<'_>, e: &PyErr) -> bool {
    e.is_instance(py, &class(py, 0))
}

/// `LuaSyntaxError(msg)`.
pub fn syntax_error(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    PyErr::from_type(class(py, 1), (msg.into(),))
}

/// A `LuaSyntaxError` as `eval` and `execute` raise it (lupa's "error loading code: "
/// prefix; `compile` has none); other exceptions unchanged.
pub fn in_loading(py: Python<'_>, e: PyErr) -> PyErr {
    if e.get_type(py).is(class(py, 1)) {
        syntax_error(py, format!("error loading code: {}", e.value(py)))
    } else {
        e
    }
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

/// The message of a `LuaError`, as lupa builds it: lupa runs each call with `debug.traceback`
/// (looked up in the globals) as the message handler, so a string or number error gets the
/// traceback appended (`nil` gives the traceback alone, other values no text), and then puts
/// the traceback's lines in Python's order (innermost last).
pub(crate) fn lupa_message<'gc>(
    py: Python<'_>,
    ctx: Context<'gc>,
    rt: &crate::shared::Shared,
    v: Value<'gc>,
    traceback: Option<&str>,
) -> String {
    let text = match v {
        Value::String(s) => Some(decode_message(py, rt, s.as_bytes())),
        Value::Integer(_) | Value::Number(_) => {
            let mut out = Vec::new();
            match v {
                Value::Integer(i) => interp::number::fmt_lua_int(i, &mut out),
                Value::Number(f) => interp::number::fmt_lua_float(f, &mut out),
                _ => {}
            }
            Some(String::from_utf8_lossy(&out).into_owned())
        }
        _ => None,
    };
    let handler = match ctx.get_global("debug") {
        Value::Table(t) => matches!(
            t.get_str(ctx.intern_static(b"traceback")),
            Value::Closure(_) | Value::Native(_)
        ),
        _ => false,
    };
    let msg = match (handler.then_some(traceback).flatten(), text, v) {
        (Some(tb), Some(text), _) => format!("{text}\n{tb}"),
        (Some(tb), None, Value::Nil) => tb.to_owned(),
        (_, text, _) => text.unwrap_or_default(),
    };
    if msg.contains("stack traceback:") {
        reorder_traceback(&msg)
    } else {
        msg
    }
}

/// A Lua error message as text: decoded with the runtime's encoding, else as Latin-1.
fn decode_message(py: Python<'_>, rt: &crate::shared::Shared, bytes: &[u8]) -> String {
    let latin1 = || bytes.iter().map(|&b| b as char).collect();
    match &rt.config.encoding {
        _ if rt.config.utf8 => std::str::from_utf8(bytes).map_or_else(|_| latin1(), Into::into),
        Some(enc) => pyo3::types::PyBytes::new(py, bytes)
            .call_method1("decode", (enc.as_str(),))
            .and_then(|s| s.extract::<String>())
            .unwrap_or_else(|_| latin1()),
        None => latin1(),
    }
}

/// The lines of each `stack traceback:` block of `msg` in reverse, innermost call last
/// (lupa's `_reorder_lua_stack_trace`).
fn reorder_traceback(msg: &str) -> String {
    let is_frame = |line: &str| {
        let rest = line.trim_start();
        rest.len() < line.len() && rest.starts_with('[')
    };
    let mut lines: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, line) in msg.lines().enumerate() {
        if start > 0 && is_frame(line) {
            lines.insert(start, line);
        } else {
            start = if line == "stack traceback:" { i + 1 } else { 0 };
            lines.push(line);
        }
    }
    if start > 0 && lines.len() > start + 1 {
        lines.join("\n")
    } else {
        msg.to_owned()
    }
}
