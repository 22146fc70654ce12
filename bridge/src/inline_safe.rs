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

use crate::shared::Config;

extern "C" {
    /// CPython's lookup of a name along a type's MRO (a borrowed reference or null, no
    /// exception set); exported by every CPython 3 and used by Cython for the same purpose.
    fn _PyType_Lookup(tp: *mut ffi::PyTypeObject, name: *mut ffi::PyObject) -> *mut ffi::PyObject;
}

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

/// Whether a descriptor found on a type is one whose `__get__`/`__set__` is C code that calls
/// no Python code: functions (bound methods), method and slot descriptors, class and static
/// methods. Properties and descriptors written in Python are not.
fn c_descriptor(descr: *mut ffi::PyObject) -> bool {
    // SAFETY: `descr` is a live object (borrowed from a type's dict while the GIL is held);
    // only the addresses of CPython's static type objects are compared.
    unsafe {
        let tp = ffi::Py_TYPE(descr);
        if (*tp).tp_descr_get.is_none() && (*tp).tp_descr_set.is_none() {
            return true;
        }
        let known = [
            &raw mut ffi::PyFunction_Type,
            &raw mut ffi::PyMethodDescr_Type,
            &raw mut ffi::PyClassMethodDescr_Type,
            &raw mut ffi::PyMemberDescr_Type,
            &raw mut ffi::PyGetSetDescr_Type,
            &raw mut ffi::PyWrapperDescr_Type,
            &raw mut ffi::PyClassMethod_Type,
            &raw mut ffi::PyStaticMethod_Type,
        ];
        known.contains(&tp)
    }
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
    // SAFETY: `obj` and `name` are live objects and the GIL is held; `_PyType_Lookup` returns
    // a borrowed reference (or null) and sets no exception.
    unsafe {
        let o = obj.as_ptr();
        let tp = ffi::Py_TYPE(o);
        // The slots hold libpython's own addresses, which are what we compare against (an
        // ELF symbol has one canonical address across shared objects).
        let generic = if set {
            (*tp).tp_setattro.is_some_and(|f| {
                std::ptr::fn_addr_eq(f, ffi::PyObject_GenericSetAttr as ffi::setattrofunc)
            })
        } else {
            (*tp).tp_getattro.is_some_and(|f| {
                std::ptr::fn_addr_eq(f, ffi::PyObject_GenericGetAttr as ffi::getattrofunc)
            })
        };
        let descr = _PyType_Lookup(tp, name.as_ptr());
        if generic {
            return descr.is_null() || c_descriptor(descr);
        }
        // A module finds its globals in its dict before any `__getattr__` runs.
        if !set && ffi::PyModule_CheckExact(o) != 0 && descr.is_null() {
            let dict = ffi::PyModule_GetDict(o);
            return !dict.is_null() && !ffi::PyDict_GetItem(dict, name.as_ptr()).is_null();
        }
        false
    }
}
