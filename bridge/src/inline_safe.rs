//! Which accesses to Python objects from Lua can run inside a Lua step.
//!
//! `obj.x` and `obj[k] = v` from Lua run inline (fast: no step exit) only when they provably
//! run no Python code: a plain attribute, a method, a slot, or an item of an exact `dict`,
//! `list` or `tuple` with a plain key. Anything else (a property, `__getattr__`, a custom
//! `__getitem__`, an attribute filter) may call back into Lua, so it runs as a host function,
//! outside the step, where re-entering the runtime is allowed (as in lupa).

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::capi;
use crate::shared::Config;

/// Whether `key` is a value whose hash and equality are CPython's own.
fn plain_key(key: &Bound<'_, PyAny>) -> bool {
    // SAFETY: `key` is a live object and the GIL is held (we have a `Bound`).
    unsafe {
        let k = key.as_ptr();
        ffi::PyUnicode_CheckExact(k) != 0
            || ffi::PyLong_CheckExact(k) != 0
            || ffi::PyFloat_CheckExact(k) != 0
            || ffi::PyBytes_CheckExact(k) != 0
            || ffi::PyBool_Check(k) != 0
    }
}

/// Whether `obj[key]` (or `obj[key] = v`) runs no Python code.
pub(crate) fn item_access_is_inline(obj: &Bound<'_, PyAny>, key: &Bound<'_, PyAny>) -> bool {
    // SAFETY: as in `plain_key`.
    let builtin = unsafe {
        let o = obj.as_ptr();
        ffi::PyDict_CheckExact(o) != 0
            || ffi::PyList_CheckExact(o) != 0
            || ffi::PyTuple_CheckExact(o) != 0
    };
    builtin && plain_key(key)
}

/// Whether `getattr(obj, name)` (`set`: `setattr`) runs no Python code.
pub(crate) fn attribute_access_is_inline(
    config: &Config,
    obj: &Bound<'_, PyAny>,
    name: &Bound<'_, PyAny>,
    set: bool,
) -> bool {
    if config.attribute_filter.is_some()
        || config.attribute_handlers.0.is_some()
        || config.attribute_handlers.1.is_some()
    {
        return false;
    }
    let Ok(name) = name.cast::<PyString>() else {
        // Bytes are decoded first (a runtime without an encoding); other keys fail with a
        // TypeError, in C.
        return !name.is_instance_of::<pyo3::types::PyBytes>();
    };
    let py = obj.py();
    let generic = capi::generic_attribute_slot(obj, set);
    // SAFETY: `obj` and `name` are live objects and the GIL is held; what the look-up found
    // is borrowed from a class's dict, which no Python code changes before it is looked at.
    unsafe {
        let o = obj.as_ptr();
        let found = capi::type_lookup(py, ffi::Py_TYPE(o), name.as_ptr());
        if generic {
            return match found {
                capi::Lookup::Missing => true,
                capi::Lookup::Found(descr) => capi::c_descriptor(py, descr),
                capi::Lookup::Unknown => false,
            };
        }
        // A module finds its globals in its dict before any `__getattr__` runs.
        if !set && ffi::PyModule_CheckExact(o) != 0 && matches!(found, capi::Lookup::Missing) {
            let dict = ffi::PyModule_GetDict(o);
            return !dict.is_null() && !ffi::PyDict_GetItem(dict, name.as_ptr()).is_null();
        }
        false
    }
}
