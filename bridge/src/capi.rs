//! The CPython C API the bridge uses beyond pyo3's safe API, each use in one place and
//! written for both kinds of build: the full C API (a wheel per Python version) and the
//! limited API of the abi3 wheels (features `abi3`, from CPython 3.9, and `abi3-py312`; cfg
//! `Py_LIMITED_API`): no fields of type or function objects and no private functions; every
//! function called here is exported by every CPython the build runs on.
//!
//! What the limited API costs (instructions per operation, `bench/run_bridge.py`'s ops under
//! callgrind, Python 3.11): pyo3 parses the arguments of methods from a tuple and a dict
//! before 3.10 (+950 per `eval`), calls without vectorcalls before 3.12 (+330 per Python
//! call from Lua), and looking a name up along a type's MRO goes through the classes' dict
//! proxies (+330 per attribute read from Lua).

use std::os::raw::{c_char, c_int, c_void};
use std::sync::OnceLock;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;
#[cfg(Py_LIMITED_API)]
use pyo3::types::{PyTuple, PyType};

/// The UTF-8 text of a Python string, borrowed from the string's own cache (no copy; an
/// error for a string with lone surrogates, which has no UTF-8 form).
pub(crate) fn utf8<'a>(s: &'a Bound<'_, PyString>) -> PyResult<&'a str> {
    // `PyUnicode_AsUTF8AndSize` is in the stable ABI from 3.10 and exported by 3.9 with the
    // same signature; pyo3's `to_str` takes it only where the limited API it builds for
    // lists it, and copies through a `bytes` object otherwise.
    extern "C" {
        fn PyUnicode_AsUTF8AndSize(
            o: *mut ffi::PyObject,
            size: *mut ffi::Py_ssize_t,
        ) -> *const c_char;
    }
    let mut len: ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live `str` and the GIL is held; the result is null with an error set,
    // or points to `len` bytes of UTF-8 the string owns and keeps while it lives (`'a`).
    unsafe {
        let p = PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut len);
        if p.is_null() {
            return Err(PyErr::fetch(s.py()));
        }
        let bytes = std::slice::from_raw_parts(p.cast::<u8>(), len as usize);
        Ok(std::str::from_utf8_unchecked(bytes))
    }
}

/// `f(*args)` by a vectorcall (no argument tuple).
#[cfg(any(not(Py_LIMITED_API), Py_3_12))]
pub(crate) fn call<'py>(f: &Bound<'py, PyAny>, args: &[Py<PyAny>]) -> PyResult<Bound<'py, PyAny>> {
    let ptrs: smallvec::SmallVec<[*mut ffi::PyObject; 8]> =
        args.iter().map(|a| a.as_ptr()).collect();
    // SAFETY: `f` and the arguments are live objects (borrowed for the whole call), the GIL
    // is held, and the call returns a new reference or null with an error set.
    unsafe {
        let r =
            ffi::PyObject_Vectorcall(f.as_ptr(), ptrs.as_ptr(), ptrs.len(), std::ptr::null_mut());
        Bound::from_owned_ptr_or_err(f.py(), r)
    }
}

/// `f(*args)` with an argument tuple (the limited API has vectorcalls from 3.12 on).
#[cfg(not(any(not(Py_LIMITED_API), Py_3_12)))]
pub(crate) fn call<'py>(f: &Bound<'py, PyAny>, args: &[Py<PyAny>]) -> PyResult<Bound<'py, PyAny>> {
    let py = f.py();
    f.call1(PyTuple::new(py, args.iter().map(|a| a.bind(py)))?)
}

/// Whether this Python reads the slots of static (built-in) types with `PyType_GetSlot`
/// (3.10 on; 3.9 reads those of heap types only).
fn slots_of_static_types(py: Python<'_>) -> bool {
    static NEW: OnceLock<bool> = OnceLock::new();
    *NEW.get_or_init(|| py.version_info() >= (3, 10))
}

/// The slot `id` of type `tp` (null where it is empty), or `None` where this Python cannot
/// read it (a static type on 3.9).
///
/// # Safety
/// `tp` is a live, ready type object and the GIL is held.
unsafe fn slot(py: Python<'_>, tp: *mut ffi::PyTypeObject, id: c_int) -> Option<*mut c_void> {
    // SAFETY: as the caller promises.
    unsafe {
        let heap = ffi::PyType_GetFlags(tp) & ffi::Py_TPFLAGS_HEAPTYPE != 0;
        if !heap && !slots_of_static_types(py) {
            return None;
        }
        let p = ffi::PyType_GetSlot(tp, id);
        if p.is_null() && !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        Some(p)
    }
}

/// Whether `obj`'s type gets (`set`: sets) attributes with CPython's generic lookup
/// (`PyObject_GenericGetAttr`: no `__getattr__` or `__getattribute__` of its own).
pub(crate) fn generic_attribute_slot(obj: &Bound<'_, PyAny>, set: bool) -> bool {
    let py = obj.py();
    // SAFETY: `obj` is live, its type is ready, and the GIL is held; the slots hold
    // libpython's own addresses, which are what we compare against (an ELF symbol has one
    // canonical address across shared objects).
    unsafe {
        let tp = ffi::Py_TYPE(obj.as_ptr());
        if set {
            let generic = ffi::PyObject_GenericSetAttr as ffi::setattrofunc as *mut c_void;
            slot(py, tp, ffi::Py_tp_setattro) == Some(generic)
        } else {
            let generic = ffi::PyObject_GenericGetAttr as ffi::getattrofunc as *mut c_void;
            slot(py, tp, ffi::Py_tp_getattro) == Some(generic)
        }
    }
}

/// The addresses of the descriptor types whose `__get__`/`__set__` is C code that calls no
/// Python code: functions, method, member, getset and slot descriptors, class and static
/// methods.
fn c_descriptor_types(py: Python<'_>) -> &'static [usize] {
    static TYPES: OnceLock<Vec<usize>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let of = |code: &str| -> Option<usize> {
            let code = std::ffi::CString::new(code).ok()?;
            let t = py.eval(&code, None, None).ok()?;
            Some(t.as_ptr() as usize)
        };
        [
            "type(lambda: 0)",
            "type(str.join)",
            "type(dict.__dict__['fromkeys'])",
            "type(type.__dict__['__mro__'])",
            "type(type.__dict__['__dict__'])",
            "type(object.__init__)",
            "classmethod",
            "staticmethod",
        ]
        .iter()
        .filter_map(|c| of(c))
        .collect()
    })
}

/// Whether a descriptor found on a type is one whose `__get__`/`__set__` runs no Python code
/// (a plain value, which has neither, or one of [`c_descriptor_types`]).
///
/// # Safety
/// `descr` is a live object and the GIL is held.
pub(crate) unsafe fn c_descriptor(py: Python<'_>, descr: *mut ffi::PyObject) -> bool {
    // SAFETY: as the caller promises; a live object's type is live and ready.
    unsafe {
        let tp = ffi::Py_TYPE(descr);
        if c_descriptor_types(py).contains(&(tp as usize)) {
            return true;
        }
        matches!(
            (slot(py, tp, ffi::Py_tp_descr_get), slot(py, tp, ffi::Py_tp_descr_set)),
            (Some(g), Some(s)) if g.is_null() && s.is_null()
        )
    }
}

/// What a look-up of a name along a type's MRO found.
pub(crate) enum Lookup {
    /// No class in the MRO has the name.
    Missing,
    /// The first class that has it holds this (a borrowed reference, valid while the type's
    /// dict is not changed: no Python code may run before it is used).
    Found(*mut ffi::PyObject),
    /// This build could not look (the caller assumes the worst).
    #[cfg_attr(not(Py_LIMITED_API), allow(dead_code))]
    Unknown,
}

/// The name's entry in the dict of the first class along `tp`'s MRO that has it: CPython's
/// `_PyType_Lookup`, which the full API build calls (one look in the type's method cache).
///
/// # Safety
/// `tp` is a live, ready type, `name` a live `str`, and the GIL is held.
#[cfg(not(Py_LIMITED_API))]
pub(crate) unsafe fn type_lookup(
    _py: Python<'_>,
    tp: *mut ffi::PyTypeObject,
    name: *mut ffi::PyObject,
) -> Lookup {
    extern "C" {
        /// CPython's look-up of a name along a type's MRO (a borrowed reference or null, no
        /// exception set); exported by every CPython 3 and used by Cython for the same
        /// purpose.
        fn _PyType_Lookup(
            tp: *mut ffi::PyTypeObject,
            name: *mut ffi::PyObject,
        ) -> *mut ffi::PyObject;
    }
    // SAFETY: as the caller promises; the result is borrowed from the type's MRO dicts.
    let found = unsafe { _PyType_Lookup(tp, name) };
    if found.is_null() {
        Lookup::Missing
    } else {
        Lookup::Found(found)
    }
}

/// A type's MRO and the dicts (as read-only proxies) of its classes but `object`, for the
/// limited API's [`type_lookup`] and [`first_in_mro`]: made once per type and kept in a
/// small per-thread cache that holds the type, so that its address is not reused while it
/// is there.
#[cfg(Py_LIMITED_API)]
struct MroDicts {
    tp: Py<PyType>,
    mro: Py<PyTuple>,
    dicts: Vec<Py<PyAny>>,
}

/// Runs `f` on the cached [`MroDicts`] of `tp` (made now if missing); `None` if the cache is
/// in use (a re-entrant look-up) or reading the MRO failed.
#[cfg(Py_LIMITED_API)]
fn with_mro_dicts<R>(tp: &Bound<'_, PyType>, f: impl FnOnce(&MroDicts) -> R) -> Option<R> {
    MRO_DICTS.with(|cache| {
        let mut cache = cache.try_borrow_mut().ok()?;
        let i = match cache.iter().position(|e| e.tp.is(tp)) {
            Some(i) => i,
            None => {
                let entry = mro_dicts(tp.clone()).ok()?;
                if cache.len() == MRO_CACHE_TYPES {
                    cache.remove(0);
                }
                cache.push(entry);
                cache.len() - 1
            }
        };
        Some(f(&cache[i]))
    })
}

#[cfg(Py_LIMITED_API)]
thread_local! {
    static MRO_DICTS: std::cell::RefCell<Vec<MroDicts>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// How many types [`MRO_DICTS`] keeps (the oldest goes first).
#[cfg(Py_LIMITED_API)]
const MRO_CACHE_TYPES: usize = 32;

/// The limited API's `_PyType_Lookup`: the classes' dicts are read through their proxies
/// (`PySequence_Contains` on an exact dict runs no Python code). The MRO is read once per
/// cached type: a class whose `__bases__` is assigned after Lua looked at its instances is
/// judged by its old MRO until it leaves the cache (at worst, a Python getter then runs in
/// the step and finds the runtime busy).
///
/// # Safety
/// `tp` is a live, ready type, `name` a live `str`, and the GIL is held.
#[cfg(Py_LIMITED_API)]
pub(crate) unsafe fn type_lookup(
    py: Python<'_>,
    tp: *mut ffi::PyTypeObject,
    name: *mut ffi::PyObject,
) -> Lookup {
    // SAFETY: as the caller promises.
    let tp = unsafe { Bound::from_borrowed_ptr(py, tp.cast()) };
    let Ok(tp) = tp.cast_into::<PyType>() else {
        return Lookup::Unknown;
    };
    let found = with_mro_dicts(&tp, |entry| {
        for d in &entry.dicts {
            // SAFETY: `d` is a live mapping proxy of an exact dict and `name` a live `str`.
            match unsafe { ffi::PySequence_Contains(d.as_ptr(), name) } {
                0 => continue,
                1 => {}
                _ => {
                    // SAFETY: the GIL is held and an error is set.
                    unsafe { ffi::PyErr_Clear() };
                    return None;
                }
            }
            // SAFETY: as above; the result is a new reference (or null with an error set),
            // released at once: the dict still holds it.
            let v = unsafe { ffi::PyObject_GetItem(d.as_ptr(), name) };
            if v.is_null() {
                // SAFETY: the GIL is held and an error is set.
                unsafe { ffi::PyErr_Clear() };
                return None;
            }
            // SAFETY: `v` is a new reference that the class's dict also holds.
            unsafe { ffi::Py_DECREF(v) };
            return Some(Lookup::Found(v));
        }
        Some(Lookup::Missing)
    });
    found.flatten().unwrap_or(Lookup::Unknown)
}

/// The dict proxies of `tp`'s MRO but `object` (whose dict is fixed and holds only C
/// descriptors: looking there or not decides nothing), read with `type`'s own descriptors
/// (no metaclass code runs).
#[cfg(Py_LIMITED_API)]
fn mro_dicts(tp: Bound<'_, PyType>) -> PyResult<MroDicts> {
    let py = tp.py();
    let ty = py.get_type::<PyType>();
    let type_dict = ty.getattr("__dict__")?;
    let mro_of = type_dict.get_item("__mro__")?;
    let dict_of = type_dict.get_item("__dict__")?;
    let mro = mro_of
        .call_method1("__get__", (&tp, &ty))?
        .cast_into::<PyTuple>()?;
    let object = py.get_type::<pyo3::types::PyAny>();
    let mut dicts = Vec::new();
    for cls in mro.iter() {
        if cls.is(&object) {
            continue;
        }
        dicts.push(dict_of.call_method1("__get__", (&cls, &ty))?.unbind());
    }
    Ok(MroDicts {
        tp: tp.unbind(),
        mro: mro.unbind(),
        dicts,
    })
}

/// The position in `types` of the first class of `obj`'s MRO but the last (`object`) that
/// is there: one walk of the type and its bases, comparing addresses.
#[cfg(not(Py_LIMITED_API))]
pub(crate) fn first_in_mro(obj: &Bound<'_, PyAny>, types: &[usize]) -> PyResult<Option<usize>> {
    // SAFETY: `obj` is a live object and the GIL is held; a ready type's `tp_mro` is a tuple
    // of types ending with `object` (null only before `PyType_Ready`: then the type alone
    // is looked at).
    unsafe {
        let ty = ffi::Py_TYPE(obj.as_ptr());
        let mro = (*ty).tp_mro;
        if mro.is_null() {
            return Ok(types.iter().position(|&r| r == ty as usize));
        }
        let n = ffi::PyTuple_GET_SIZE(mro);
        Ok((0..(n - 1).max(0)).find_map(|i| {
            let t = ffi::PyTuple_GET_ITEM(mro, i) as usize;
            types.iter().position(|&r| r == t)
        }))
    }
}

/// The position in `types` of the first class of `obj`'s MRO but the last (`object`) that
/// is there (the MRO of the per-type cache that [`type_lookup`] reads).
#[cfg(Py_LIMITED_API)]
pub(crate) fn first_in_mro(obj: &Bound<'_, PyAny>, types: &[usize]) -> PyResult<Option<usize>> {
    let py = obj.py();
    let find = |mro: &Bound<'_, PyTuple>| {
        let n = mro.len().saturating_sub(1);
        mro.iter()
            .take(n)
            .find_map(|t| types.iter().position(|&r| r == t.as_ptr() as usize))
    };
    let tp = obj.get_type();
    match with_mro_dicts(&tp, |e| find(e.mro.bind(py))) {
        Some(hit) => Ok(hit),
        // The cache is in use here (a look-up inside a look-up): read the MRO afresh.
        None => Ok(find(&mro_dicts(tp)?.mro.into_bound(py))),
    }
}

/// The object a built-in function or method is bound to (`None` for a plain function).
pub(crate) fn cfunction_self<'py>(f: &Bound<'py, PyAny>) -> Option<Bound<'py, PyAny>> {
    // SAFETY: `f` is live and the GIL is held; `PyCFunction_GetSelf` is called only on a
    // built-in function and returns a borrowed reference (or null).
    unsafe {
        if ffi::PyCFunction_Check(f.as_ptr()) == 0 {
            return None;
        }
        let s = ffi::PyCFunction_GetSelf(f.as_ptr());
        (!s.is_null()).then(|| Bound::from_borrowed_ptr(f.py(), s))
    }
}
