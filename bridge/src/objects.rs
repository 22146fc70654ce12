//! Lua objects seen from Python: tables, functions, coroutines and userdata.

use std::sync::Arc;

use interp::Value;
use pyo3::exceptions::PyStopIteration;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt, PyString, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use crate::call::call_slot;
use crate::convert::{pack_results, Conv};
use crate::runtime::Helper;
use crate::runtime_core::RuntimeCore;
use crate::shared::Shared;

/// A Lua value kept alive for a Python object: its runtime and its slot there.
pub(crate) struct LuaRef {
    /// The runtime (a Python reference, reported to Python's collector by the owner).
    pub core: Py<RuntimeCore>,
    /// The slot in the runtime's reference table.
    pub slot: u32,
}

impl LuaRef {
    /// The runtime's shared state.
    #[inline]
    pub fn rt(&self) -> &Arc<Shared> {
        self.core.get().shared()
    }

    /// Reports the runtime core to Python's collector.
    fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.core)
    }
}

impl Drop for LuaRef {
    fn drop(&mut self) {
        // Only queues the slot: never blocks on the runtime lock, from any thread.
        self.rt().drop_ref(self.slot);
    }
}

/// Which Python class wraps a Lua value.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Table,
    Function,
    Thread,
    UserData,
}

/// Wraps a Lua value for Python.
pub(crate) fn new_object(py: Python<'_>, r: LuaRef, kind: Kind) -> PyResult<Py<PyAny>> {
    Ok(match kind {
        Kind::Table => Py::new(py, LuaTable { r })?.into_any(),
        Kind::Function => Py::new(py, LuaFunction { r })?.into_any(),
        Kind::Thread => Py::new(
            py,
            LuaThread {
                r,
                args: std::sync::Mutex::new(None),
            },
        )?
        .into_any(),
        Kind::UserData => Py::new(py, LuaUserData { r })?.into_any(),
    })
}

/// The runtime and slot of a wrapped Lua object, if `obj` is one (borrowed: the object
/// keeps owning its slot).
pub(crate) fn lua_ref_of<'a>(obj: &'a Bound<'_, PyAny>) -> Option<(&'a Shared, u32)> {
    fn r(r: &LuaRef) -> (&Shared, u32) {
        (r.rt(), r.slot)
    }
    if let Ok(t) = obj.cast::<LuaTable>() {
        return Some(r(&t.get().r));
    }
    if let Ok(t) = obj.cast::<LuaFunction>() {
        return Some(r(&t.get().r));
    }
    if let Ok(t) = obj.cast::<LuaThread>() {
        return Some(r(&t.get().r));
    }
    if let Ok(t) = obj.cast::<LuaUserData>() {
        return Some(r(&t.get().r));
    }
    None
}

/// Lua's type name of a wrapped object (`lua_type`), or `None`.
pub(crate) fn lua_type_of(obj: &Bound<'_, PyAny>) -> Option<&'static str> {
    if obj.is_instance_of::<LuaTable>() {
        Some("table")
    } else if obj.is_instance_of::<LuaFunction>() {
        Some("function")
    } else if obj.is_instance_of::<LuaThread>() {
        Some("thread")
    } else if obj.is_instance_of::<LuaUserData>() {
        Some("userdata")
    } else {
        None
    }
}

/// `t[k]` (with metamethods) for a wrapped object.
fn index(py: Python<'_>, r: &LuaRef, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    // Fast path: a table without a metatable is read directly (no metamethod can apply).
    let fast = r.rt().with(py, |l| {
        let rt = l.shared;
        let refs = l.refs();
        let slot = r.slot;
        l.lua.enter(|ctx| {
            let Value::Table(t) = ctx.fetch(refs.get(slot)) else {
                return Ok(None);
            };
            if t.metatable().is_some() {
                return Ok(None);
            }
            let mut conv = Conv { rt, refs };
            let k = conv.key_to_lua(py, ctx, key)?;
            let v = t.get(k);
            conv.lua_to_py(py, ctx, v).map(Some)
        })
    })?;
    if let Some(v) = fast {
        return Ok(v);
    }
    let helper = r.rt().helper(Helper::Index);
    let args = PyTuple::new(py, [r.to_object(py)?, lua_key(py, key)?])?;
    pack_first(py, call_slot(py, r.rt(), helper, &args)?)
}

/// An attribute name as a Lua key: a `str` is encoded with the source encoding (as lupa
/// does, also in a runtime without an encoding).
fn attr_key<'py>(r: &LuaRef, name: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    match name.cast::<PyString>() {
        Ok(s) if r.rt().config.encoding.is_none() => {
            s.call_method1("encode", (r.rt().config.source_encoding.as_str(),))
        }
        _ => Ok(name.clone()),
    }
}

/// Whether `name` is a special name (`__x__`), which lupa never looks up in Lua.
fn is_dunder(name: &Bound<'_, PyAny>) -> bool {
    let dunder = |b: &[u8]| b.len() >= 4 && b.starts_with(b"__") && b.ends_with(b"__");
    match name.cast::<PyString>() {
        Ok(s) => crate::capi::utf8(s).is_ok_and(|s| dunder(s.as_bytes())),
        Err(_) => name.cast::<PyBytes>().is_ok_and(|b| dunder(b.as_bytes())),
    }
}

/// A special name read from a Lua object: `__getattr__` is a method (as lupa's objects have
/// it), any other is an `AttributeError` (so `copy`, `pickle` and other probes see no such
/// attribute); `None` for a plain name.
fn dunder_getattr(obj: &Bound<'_, PyAny>, name: &Bound<'_, PyAny>) -> Option<PyResult<Py<PyAny>>> {
    if !is_dunder(name) {
        return None;
    }
    if name.cast::<PyString>().is_ok_and(|s| s == "__getattr__") {
        let target = obj.clone().unbind();
        let f = pyo3::types::PyCFunction::new_closure(
            obj.py(),
            Some(c"__getattr__"),
            None,
            move |args: &Bound<'_, PyTuple>, _kwargs| -> PyResult<Py<PyAny>> {
                let name = args.get_item(0)?;
                let obj = target.bind(args.py());
                Ok(obj.getattr(name.cast_into::<PyString>()?)?.unbind())
            },
        );
        return Some(f.map(|f| f.into_any().unbind()));
    }
    Some(Err(no_attribute(obj, name)))
}

/// Python's `AttributeError` for a missing attribute.
fn no_attribute(obj: &Bound<'_, PyAny>, name: &Bound<'_, PyAny>) -> PyErr {
    let ty = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    pyo3::exceptions::PyAttributeError::new_err(format!("'{ty}' object has no attribute '{name}'"))
}

/// A key as a call argument: `None` as a wrapper that converts to `python.none` (the
/// identity map gives `None` the userdata `python.none` is), as lupa converts keys.
fn lua_key(py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    if key.is_none() {
        return Ok(crate::pyobject::wrap(py, key, crate::pyobject::Protocol::Default)?.into_any());
    }
    Ok(key.clone().unbind())
}

/// `t[k] = v` (with metamethods) for a wrapped object.
fn set_index(
    py: Python<'_>,
    r: &LuaRef,
    key: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    // Fast path: a table without a metatable is written directly.
    let done = r.rt().with(py, |l| {
        let rt = l.shared;
        let refs = l.refs();
        let slot = r.slot;
        l.lua.enter(|ctx| {
            let Value::Table(t) = ctx.fetch(refs.get(slot)) else {
                return Ok(false);
            };
            if t.metatable().is_some() {
                return Ok(false);
            }
            let mut conv = Conv { rt, refs };
            let k = conv.key_to_lua(py, ctx, key)?;
            let v = conv.py_to_lua(py, ctx, value)?;
            t.set(ctx.mutation(), k, v)
                .map_err(|e| crate::errors::lua_error(py, e.message()))?;
            Ok(true)
        })
    })?;
    if done {
        return Ok(());
    }
    let helper = r.rt().helper(Helper::NewIndex);
    let args = PyTuple::new(
        py,
        [r.to_object(py)?, lua_key(py, key)?, value.clone().unbind()],
    )?;
    call_slot(py, r.rt(), helper, &args).map(|_| ())
}

fn pack_first(py: Python<'_>, mut v: crate::convert::PyValues) -> PyResult<Py<PyAny>> {
    v.truncate(1);
    pack_results(py, v)
}

impl LuaRef {
    /// A new Python object for the same Lua value.
    fn to_object(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.rt().with(py, |l| {
            let rt = l.shared;
            let refs = l.refs();
            let slot = self.slot;
            l.lua.enter(|ctx| {
                let v = ctx.fetch(refs.get(slot));
                Conv { rt, refs }.lua_to_py(py, ctx, v)
            })
        })
    }

    /// `str()` as lupa gives it: the result of a `__tostring` metamethod (a string or a
    /// number; anything else is a `TypeError`), else `<Lua {kind} at 0x...>`.
    fn tostring(&self, py: Python<'_>, kind: &str) -> PyResult<String> {
        let helper = self.rt().helper(Helper::ToString);
        let args = PyTuple::new(py, [self.to_object(py)?])?;
        let r = call_slot(py, self.rt(), helper, &args)?;
        let has_tostring = r
            .first()
            .is_some_and(|b| b.bind(py).is_truthy().unwrap_or(false));
        if !has_tostring {
            return self.repr(py, kind);
        }
        let s = r.get(1).map(|s| s.bind(py));
        match s {
            Some(s) if s.is_instance_of::<PyString>() => Ok(s.cast::<PyString>()?.to_string()),
            Some(s) if s.is_instance_of::<PyBytes>() => {
                let b = s.cast::<PyBytes>()?.as_bytes();
                Ok(match std::str::from_utf8(b) {
                    Ok(t) => t.to_owned(),
                    Err(_) => b.iter().map(|&c| c as char).collect(),
                })
            }
            Some(s) if s.is_instance_of::<PyBool>() => Err(non_string_tostring()),
            Some(s) if s.is_instance_of::<PyInt>() => Ok(s.str()?.to_string()),
            Some(s) if s.is_instance_of::<PyFloat>() => {
                let mut out = Vec::new();
                interp::number::fmt_lua_float(s.extract::<f64>()?, &mut out);
                Ok(String::from_utf8_lossy(&out).into_owned())
            }
            _ => Err(non_string_tostring()),
        }
    }

    /// `<Lua {kind} at 0x...>`, as lupa's `repr` gives it.
    fn repr(&self, py: Python<'_>, kind: &str) -> PyResult<String> {
        Ok(format!("<Lua {kind} at 0x{:x}>", self.address(py)?))
    }

    /// The object's address, for `repr`.
    fn address(&self, py: Python<'_>) -> PyResult<usize> {
        self.rt().with(py, |l| {
            let refs = l.refs();
            let slot = self.slot;
            Ok(l.lua
                .enter(|ctx| ctx.fetch(refs.get(slot)).gc_address().unwrap_or(0)))
        })
    }

    fn call(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        pack_results(py, call_slot(py, self.rt(), self.slot, args)?)
    }
}

/// A Lua table.
#[pyclass(name = "_LuaTable", module = "lupa_rs", frozen)]
pub struct LuaTable {
    r: LuaRef,
}

/// What a table iterator yields.
#[derive(Clone, Copy, PartialEq)]
enum IterWhat {
    Keys,
    Values,
    Items,
}

#[pymethods]
impl LuaTable {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.r.traverse(&visit)
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        index(py, &self.r, key)
    }

    fn __setitem__(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        set_index(py, &self.r, key, value)
    }

    fn __delitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        set_index(py, &self.r, key, &py.None().into_bound(py))
    }

    fn __getattr__(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Some(r) = dunder_getattr(slf.as_any(), name) {
            return r;
        }
        index(slf.py(), &slf.get().r, &attr_key(&slf.get().r, name)?)
    }

    fn __setattr__(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        if is_dunder(name) {
            return Err(no_attribute(slf.as_any(), name));
        }
        set_index(
            slf.py(),
            &slf.get().r,
            &attr_key(&slf.get().r, name)?,
            value,
        )
    }

    fn __delattr__(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        if is_dunder(name) {
            return Err(no_attribute(slf.as_any(), name));
        }
        let py = slf.py();
        let key = attr_key(&slf.get().r, name)?;
        set_index(py, &slf.get().r, &key, &py.None().into_bound(py))
    }

    /// The raw length (`#` without `__len`).
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.r.rt().with(py, |l| {
            let refs = l.refs();
            let slot = self.r.slot;
            Ok(l.lua.enter(|ctx| match ctx.fetch(refs.get(slot)) {
                Value::Table(t) => t.length().max(0) as usize,
                _ => 0,
            }))
        })
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<LuaIter> {
        self.iter(py, IterWhat::Keys)
    }

    /// An iterator over the keys.
    fn keys(&self, py: Python<'_>) -> PyResult<LuaIter> {
        self.iter(py, IterWhat::Keys)
    }

    /// An iterator over the values.
    fn values(&self, py: Python<'_>) -> PyResult<LuaIter> {
        self.iter(py, IterWhat::Values)
    }

    /// An iterator over `(key, value)` pairs.
    fn items(&self, py: Python<'_>) -> PyResult<LuaIter> {
        self.iter(py, IterWhat::Items)
    }

    #[pyo3(signature = (*args))]
    fn __call__(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        self.r.call(py, args)
    }

    fn __str__(&self, py: Python<'_>) -> PyResult<String> {
        self.r.tostring(py, "table")
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.r.repr(py, "table")
    }
}

impl LuaTable {
    fn iter(&self, py: Python<'_>, what: IterWhat) -> PyResult<LuaIter> {
        let slot = self.r.rt().with(py, |l| {
            let refs = l.refs();
            let s = self.r.slot;
            Ok(l.lua.enter(|ctx| {
                let v = ctx.fetch(refs.get(s));
                refs.insert(ctx.stash(v))
            }))
        })?;
        Ok(LuaIter {
            table: LuaRef {
                core: self.r.core.clone_ref(py),
                slot,
            },
            state: std::sync::Mutex::new(IterState::default()),
            what,
        })
    }
}

/// An iterator over a Lua table (raw `next` order).
#[pyclass(name = "_LuaIter", module = "lupa_rs", frozen)]
pub struct LuaIter {
    table: LuaRef,
    /// The last key read, and the items read ahead of `__next__`.
    state: std::sync::Mutex<IterState>,
    what: IterWhat,
}

/// Where a table iterator is.
#[derive(Default)]
struct IterState {
    key: Option<LuaRef>,
    ahead: std::collections::VecDeque<Py<PyAny>>,
    done: bool,
}

/// Items a table iterator reads at a time (one runtime lock and arena visit per batch).
const ITER_BATCH: usize = 128;

#[pymethods]
impl LuaIter {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.table.traverse(&visit)?;
        // Held across reads (which may wait with the GIL released): skipped then, which only
        // hides edges (safe), and consistently for the whole collection.
        if let Ok(st) = self.state.try_lock() {
            if let Some(k) = &st.key {
                k.traverse(&visit)?;
            }
            for v in &st.ahead {
                visit.call(v)?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        let ahead = match self.state.try_lock() {
            Ok(mut st) => {
                st.done = true;
                std::mem::take(&mut st.ahead)
            }
            Err(_) => return,
        };
        drop(ahead);
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.ahead.is_empty() && !st.done {
            self.read_ahead(py, &mut st)?;
        }
        match st.ahead.pop_front() {
            Some(v) => Ok(v),
            None => Err(PyStopIteration::new_err(())),
        }
    }
}

impl LuaIter {
    /// Reads up to `ITER_BATCH` items after the last key.
    fn read_ahead(&self, py: Python<'_>, st: &mut IterState) -> PyResult<()> {
        let rt = self.table.rt().clone();
        let tslot = self.table.slot;
        let kslot = st.key.as_ref().map(|k| k.slot);
        let what = self.what;
        let (items, last) = rt.with(py, |l| {
            let shared = l.shared;
            let refs = l.refs();
            l.lua.enter(|ctx| {
                let Value::Table(t) = ctx.fetch(refs.get(tslot)) else {
                    return Ok((Vec::new(), None));
                };
                let mut k = kslot.map_or(Value::Nil, |s| ctx.fetch(refs.get(s)));
                let mut items = Vec::with_capacity(ITER_BATCH);
                let mut conv = Conv { rt: shared, refs };
                let mut moved = false;
                while items.len() < ITER_BATCH {
                    let Ok(Some((nk, nv))) = t.next(k) else { break };
                    k = nk;
                    moved = true;
                    items.push(match what {
                        IterWhat::Keys => conv.lua_to_py(py, ctx, nk)?,
                        IterWhat::Values => conv.lua_to_py(py, ctx, nv)?,
                        IterWhat::Items => {
                            let pk = conv.lua_to_py(py, ctx, nk)?;
                            let pv = conv.lua_to_py(py, ctx, nv)?;
                            PyTuple::new(py, [pk, pv])?.into_any().unbind()
                        }
                    });
                }
                let last = moved.then(|| conv.refs.insert(ctx.stash(k)));
                Ok((items, last))
            })
        })?;
        if items.len() < ITER_BATCH {
            st.done = true;
        }
        st.ahead.extend(items);
        if let Some(slot) = last {
            st.key = Some(LuaRef {
                core: self.table.core.clone_ref(py),
                slot,
            });
        }
        Ok(())
    }
}

/// A Lua function.
#[pyclass(name = "_LuaFunction", module = "lupa_rs", frozen)]
pub struct LuaFunction {
    r: LuaRef,
}

#[pymethods]
impl LuaFunction {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.r.traverse(&visit)
    }

    #[pyo3(signature = (*args))]
    fn __call__(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        self.r.call(py, args)
    }

    /// A coroutine running this function, started with `args` by the first `send`/`next`.
    #[pyo3(signature = (*args))]
    fn coroutine(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        let helper = self.r.rt().helper(Helper::Create);
        let f = PyTuple::new(py, [self.r.to_object(py)?])?;
        let co = call_slot(py, self.r.rt(), helper, &f)?;
        let co = co.into_iter().next().unwrap_or_else(|| py.None());
        let co = co.bind(py).cast::<LuaThread>()?;
        *co.get().args.lock().unwrap_or_else(|e| e.into_inner()) = Some(args.clone().unbind());
        Ok(co.clone().into_any().unbind())
    }

    fn __str__(&self, py: Python<'_>) -> PyResult<String> {
        self.r.tostring(py, "function")
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.r.repr(py, "function")
    }
}

/// A Lua coroutine, usable as a Python generator.
#[pyclass(name = "_LuaThread", module = "lupa_rs", frozen)]
pub struct LuaThread {
    r: LuaRef,
    /// Arguments for the first resume.
    args: std::sync::Mutex<Option<Py<PyTuple>>>,
}

#[pymethods]
impl LuaThread {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.r.traverse(&visit)?;
        // Locked only briefly with the GIL held, never while the collector runs; if it
        // were, skipping it only hides an edge (safe).
        if let Ok(a) = self.args.try_lock() {
            visit.call(&*a)?;
        }
        Ok(())
    }

    fn __clear__(&self) {
        let args = self.args.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(args);
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Self::resume(slf, None)
    }

    /// Resumes the coroutine with `value` (none for `None`); returns what it yields.
    fn send(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let v = if value.is_none() {
            None
        } else {
            Some(value.clone().unbind())
        };
        Self::resume(slf, v)
    }

    /// A generator running this coroutine's function with `args` (`co(4)` in lupa). A
    /// coroutine that has not started stays unstarted: each call gets a new coroutine of
    /// its function; a started one is resumed with `args` first.
    #[pyo3(signature = (*args))]
    fn __call__(
        slf: PyRef<'_, Self>,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        // Only a coroutine not yet started and not made by `coroutine()` stands for its
        // function (lupa's `_LuaCoroutineFunction`): calling it makes a new coroutine.
        if slf.args.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            return Err(crate::errors::lua_error(
                py,
                "attempt to call a thread value",
            ));
        }
        let slot = slf.r.slot;
        let body = slf.r.rt().with(py, |l| {
            let rt = l.shared;
            let refs = l.refs();
            l.lua.enter(|ctx| match ctx.fetch(refs.get(slot)) {
                Value::Thread(t) => match t.unstarted_function() {
                    Some(f) => Conv { rt, refs }.lua_to_py(py, ctx, f).map(Some),
                    None => Ok(None),
                },
                _ => Ok(None),
            })
        })?;
        if let Some(f) = body {
            let helper = slf.r.rt().helper(Helper::Create);
            let co = call_slot(py, slf.r.rt(), helper, &PyTuple::new(py, [f])?)?;
            let co = co.into_iter().next().unwrap_or_else(|| py.None());
            let co = co.bind(py).cast::<LuaThread>()?;
            *co.get().args.lock().unwrap_or_else(|e| e.into_inner()) = Some(args.clone().unbind());
            return Ok(co.clone().into_any().unbind());
        }
        Err(crate::errors::lua_error(
            py,
            "attempt to call a thread value",
        ))
    }

    /// A coroutine has no attributes beyond its methods (`AttributeError`): its
    /// `__getattr__` method (see `register`).
    fn _getattr(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Err(no_attribute(slf.as_any(), name))
    }

    /// A coroutine has no items (`TypeError`).
    fn __getitem__(&self, _key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Err(PyTypeError::new_err(
            "'_LuaThread' object is not subscriptable",
        ))
    }

    /// True while the coroutine can be resumed.
    fn __bool__(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.status(py)? != "dead")
    }

    fn __str__(&self, py: Python<'_>) -> PyResult<String> {
        self.r.tostring(py, "thread")
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.r.repr(py, "thread")
    }
}

impl LuaThread {
    fn status(&self, py: Python<'_>) -> PyResult<&'static str> {
        let slot = self.r.slot;
        self.r.rt().with(py, |l| {
            let refs = l.refs();
            Ok(l.lua.enter(|ctx| match ctx.fetch(refs.get(slot)) {
                Value::Thread(t) => match t.status() {
                    interp::ThreadStatus::Suspended => "suspended",
                    interp::ThreadStatus::Running => "running",
                    interp::ThreadStatus::Normal => "normal",
                    interp::ThreadStatus::Dead => "dead",
                },
                _ => "dead",
            }))
        })
    }

    fn resume(slf: &Bound<'_, Self>, value: Option<Py<PyAny>>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let this = slf.get();
        let first = this.args.lock().unwrap_or_else(|e| e.into_inner()).take();
        let mut args: smallvec::SmallVec<[Bound<'_, PyAny>; 8]> = smallvec::SmallVec::new();
        match first {
            Some(a) => args.extend(a.bind(py).iter()),
            None => args.extend(value.map(|v| v.into_bound(py))),
        }
        let slot = this.r.slot;
        let vals = this.r.rt().with(py, |mut l| {
            crate::call::resume_fast(
                py,
                &mut l,
                |ctx, refs| {
                    let co = ctx.fetch(refs.get(slot));
                    // Resuming a dead coroutine ends the iteration.
                    match co {
                        Value::Thread(t) if t.status() == interp::ThreadStatus::Dead => {
                            Err(PyStopIteration::new_err(()))
                        }
                        co => Ok(co),
                    }
                },
                &args,
            )
        })?;
        if vals.is_empty() && this.status(py)? == "dead" {
            return Err(PyStopIteration::new_err(()));
        }
        pack_results(py, vals)
    }
}

/// A Lua userdata that is not a wrapped Python object.
#[pyclass(name = "_LuaUserData", module = "lupa_rs", frozen)]
pub struct LuaUserData {
    r: LuaRef,
}

#[pymethods]
impl LuaUserData {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.r.traverse(&visit)
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        index(py, &self.r, key)
    }

    fn __getattr__(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Some(r) = dunder_getattr(slf.as_any(), name) {
            return r;
        }
        index(slf.py(), &slf.get().r, &attr_key(&slf.get().r, name)?)
    }

    #[pyo3(signature = (*args))]
    fn __call__(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        self.r.call(py, args)
    }

    fn __str__(&self, py: Python<'_>) -> PyResult<String> {
        self.r.tostring(py, "userdata")
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.r.repr(py, "userdata")
    }
}

/// Registers the classes in the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<LuaTable>()?;
    m.add_class::<LuaFunction>()?;
    m.add_class::<LuaThread>()?;
    // lupa's coroutines have a `__getattr__` method. As the attribute slot, it would take
    // Python's method lookup (`co.send`) off its fast path (a bound method made per call):
    // it goes into the type's dict as a plain method instead, past `type.__setattr__`,
    // which would install the slot.
    let ty = m.py().get_type::<LuaThread>();
    let getattr = ty.getattr("_getattr")?;
    let name = pyo3::types::PyString::intern(m.py(), "__getattr__");
    // SAFETY: all three are live objects; `PyObject_GenericSetAttr` stores into the type's
    // dict (a type object has one) and `PyType_Modified` drops the lookup caches after it.
    unsafe {
        if pyo3::ffi::PyObject_GenericSetAttr(ty.as_ptr(), name.as_ptr(), getattr.as_ptr()) != 0 {
            return Err(PyErr::fetch(m.py()));
        }
        pyo3::ffi::PyType_Modified(ty.as_ptr().cast());
    }
    m.add_class::<LuaUserData>()?;
    m.add_class::<LuaIter>()?;
    Ok(())
}

/// lupa's error for a `__tostring` that returned neither a string nor a number.
fn non_string_tostring() -> PyErr {
    PyTypeError::new_err("__tostring returned non-string object")
}
