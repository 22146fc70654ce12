//! Python objects seen from Lua: userdata with `__index`, `__newindex`, `__call` and
//! `__tostring`, and the `python` table (`eval`, `builtins`, `iter`, ...).
//!
//! Every metamethod here is a host function: it leaves the Lua step, so Python runs outside
//! the arena (with the GIL) and may call back into the same runtime.

use std::rc::Rc;
use std::sync::{Arc, Weak};

use interp::{
    Action, Context, ErrorKind, Lua, NativeCall, NativeFn, NativeFunction, StashedError,
    StashedValue, UserData, Value,
};
use pyo3::exceptions::{PyAttributeError, PyStopIteration};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use crate::convert::Conv;
use crate::dropq::DropQueue;
use crate::inline_safe;
use crate::shared::Shared;

/// How Lua indexing maps to Python.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Item access if the object has `__getitem__`, else attribute access.
    Default = 0,
    /// Attribute access (`python.as_attrgetter`).
    Attr = 1,
    /// Item access (`python.as_itemgetter`).
    Item = 2,
}

/// The host data of a userdata wrapping a Python object: the object's slot in the runtime's
/// table of Python references (`Shared::pyrefs`), which owns the reference.
pub(crate) struct PyBox {
    /// The slot.
    pub slot: u32,
    /// How indexing works on it.
    pub protocol: Protocol,
    /// The runtime's queue of freed slots (`Shared::dropped_queue`).
    pub queue: *const DropQueue,
    /// Set once the slot is released (by `__gc`, as lupa's userdata let go of their object
    /// when finalized): a userdata brought back by another finalizer holds a deleted object.
    pub released: std::cell::Cell<bool>,
}

impl PyBox {
    /// Lets go of the object (once).
    pub fn release(&self) {
        if !self.released.replace(true) {
            // SAFETY: the userdata holding this box lives in the arena of the runtime that
            // owns the queue; the runtime (inside an `Arc`, so it never moves) drops its arena
            // before the queue (`Shared`'s field order), so the queue outlives every box.
            unsafe { &*self.queue }.push_pyref(self.slot);
        }
    }
}

impl Drop for PyBox {
    fn drop(&mut self) {
        self.release();
    }
}

/// `__gc` of wrapped Python objects: releases the object.
fn py_object_gc<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, interp::Error<'gc>> {
    if let Value::UserData(u) = call.arg(0) {
        if let Ok(data) = u.data().try_borrow() {
            if let Some(b) = data.downcast_ref::<PyBox>() {
                b.release();
            }
        }
    }
    call.ret0()
}

/// `__gc`.
pub(crate) const GC: NativeFn = py_object_gc;

/// A Python object with an explicit indexing protocol (`as_attrgetter`, `as_itemgetter`).
#[pyclass(name = "_PyProtocolWrapper", module = "lupa_rs", frozen)]
pub struct ProtocolWrapper {
    /// The object.
    pub obj: Py<PyAny>,
    /// The protocol.
    pub protocol: Protocol,
}

#[pymethods]
impl ProtocolWrapper {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.obj)
    }
}

/// Python code run by a host function: receives the Python arguments, returns the Python
/// results (already exploded into Lua values by the caller when needed).
type PyHostFn = fn(Python<'_>, &Arc<Shared>, &[Py<PyAny>]) -> PyResult<HostResult>;

/// The Python arguments of a host function (most calls have few: no heap allocation).
type PyArgs = smallvec::SmallVec<[Py<PyAny>; 4]>;

/// What a host function gives back to Lua.
pub(crate) enum HostResult {
    /// One Python value (a tuple explodes if the runtime unpacks returned tuples).
    Value(Py<PyAny>),
    /// One value, as it is (`None` becomes nil).
    One(Py<PyAny>),
    /// Several values, as they are (`None` becomes nil).
    Values(Vec<Py<PyAny>>),
    /// Values to return as they are, `None` as `python.none` for the first one.
    IterStep(Vec<Py<PyAny>>),
    /// A Lua function that calls this object (`python.as_function`).
    Function(Py<PyAny>),
    /// A generic-for iterator: the step function, this state and the control variable.
    Iterator(Py<PyAny>, Option<Py<PyAny>>),
}

/// Makes a Lua function that runs `f` on the host.
pub(crate) fn host_function(
    lua: &mut Lua,
    rt: &Arc<Shared>,
    name: &'static str,
    f: PyHostFn,
) -> StashedValue {
    lua.create_raw_function(name, host_closure(rt, f))
}

/// Makes a Lua function that runs `f` on the host, or the native `inline` inside the step
/// where the step cannot be left (a library function calls it).
pub(crate) fn host_function_or_inline(
    lua: &mut Lua,
    rt: &Arc<Shared>,
    name: &'static str,
    f: PyHostFn,
    inline: &StashedValue,
    check: Option<NativeFn>,
) -> StashedValue {
    match check {
        None => lua.create_raw_function_or_inline(name, host_closure(rt, f), inline),
        Some(c) => lua.create_raw_function_or_inline_checked(name, host_closure(rt, f), inline, c),
    }
}

/// The error of a Python callback called once the interpreter is finalized.
const SHUTTING_DOWN: &str = "cannot call Python: the interpreter is finalized";

fn host_closure(rt: &Arc<Shared>, f: PyHostFn) -> interp::RawHostFunction {
    let weak: Weak<Shared> = Arc::downgrade(rt);
    Rc::new(move |lua: &mut Lua| {
        let Some(rt) = weak.upgrade() else {
            return Err(plain_error(lua, "the Lua runtime is gone"));
        };
        let r = rt.lend(lua, || {
            crate::shared::attach_if_alive(|py| {
                run_host(py, &rt, f).map_err(|e| error_to_lua(py, &rt, e))
            })
        });
        let Some(r) = r else {
            return Err(plain_error(lua, SHUTTING_DOWN));
        };
        r.map_err(|e| e.unwrap_or_else(|| plain_error(lua, "error in a Python callback")))
    })
}

/// Runs a host function: arguments to Python, the call, results back to Lua.
fn run_host(py: Python<'_>, rt: &Arc<Shared>, f: PyHostFn) -> PyResult<()> {
    // Arguments are converted where they lie on Lua's stack and results pushed where Lua
    // reads them: no list of values moves around (see `call::run_fast`).
    let mut pyargs = PyArgs::new();
    rt.with(py, |mut l| {
        let shared = l.shared;
        let lua = l.lua.owned().ok_or_else(|| not_between_steps(py))?;
        lua.host_args(|ctx, args| {
            shared.inline_refs(|refs| {
                let mut conv = Conv { rt: shared, refs };
                for &a in args {
                    pyargs.push(conv.lua_to_py(py, ctx, a)?);
                }
                PyResult::Ok(())
            })
        })
    })?;
    let result = f(py, rt, &pyargs)?;
    rt.with(py, |mut l| {
        let shared = l.shared;
        let lua = l.lua.owned().ok_or_else(|| not_between_steps(py))?;
        lua.host_return(|ctx, out| {
            shared.inline_refs(|refs| {
                let mut conv = Conv { rt: shared, refs };
                results_for_lua(py, ctx, &mut conv, &result, out)
            })
        })
    })
}

/// A host function runs between steps, never from inside one.
fn not_between_steps(py: Python<'_>) -> PyErr {
    crate::errors::lua_error(py, "internal error: a host function ran inside a step")
}

/// Converts what a host function returns to Lua values.
fn results_for_lua<'gc>(
    py: Python<'_>,
    ctx: Context<'gc>,
    conv: &mut Conv<'_>,
    result: &HostResult,
    out: &mut interp::ValueList<'gc>,
) -> PyResult<()> {
    match result {
        HostResult::Value(v) => conv.results_to_lua(py, ctx, v.bind(py), out)?,
        HostResult::One(v) => out.push(conv.py_to_lua(py, ctx, v.bind(py))?),
        HostResult::Values(vs) => {
            for v in vs {
                out.push(conv.py_to_lua(py, ctx, v.bind(py))?);
            }
        }
        HostResult::Function(obj) => {
            let mt = ctx.fetch(conv.refs.get(conv.rt.py_metatable.get()));
            let call = match mt {
                Value::Table(mt) => mt.get_str(ctx.intern_static(b"__call")),
                _ => Value::Nil,
            };
            let o = conv.py_to_lua(py, ctx, obj.bind(py))?;
            out.push(Value::Native(NativeFunction::with_upvalues(
                ctx.mutation(),
                "python_function",
                bound_call,
                Box::new([call, o]),
            )));
        }
        HostResult::Iterator(state, control) => {
            out.push(ctx.fetch(conv.refs.get(conv.rt.iter_step.get())));
            out.push(conv.py_to_lua(py, ctx, state.bind(py))?);
            if let Some(c) = control {
                out.push(conv.py_to_lua(py, ctx, c.bind(py))?);
            }
        }
        HostResult::IterStep(vs) => {
            let none = conv.rt.none_value.get();
            for (i, v) in vs.iter().enumerate() {
                if i == 0 && v.is_none(py) {
                    out.push(ctx.fetch(conv.refs.get(none)));
                } else {
                    out.push(conv.py_to_lua(py, ctx, v.bind(py))?);
                }
            }
        }
    }
    Ok(())
}

/// A Python exception as a Lua error: the exception object itself, wrapped, so `pcall`
/// catches it, `tostring` shows it, and it is re-raised as itself in Python. A
/// `BaseException` that is not an `Exception` (`KeyboardInterrupt`, `SystemExit`,
/// `GeneratorExit`) stops the call instead (see [`stop_for`]).
fn error_to_lua(py: Python<'_>, rt: &Arc<Shared>, e: PyErr) -> Option<StashedError> {
    let stop = stop_for(py, rt, &e);
    let exc = e.into_value(py).into_any();
    rt.with(py, |l| {
        let rt2 = l.shared;
        let refs = l.refs();
        Ok(l.lua.enter(|ctx| {
            // A Python exception that stops the call (Ctrl-C, `SystemExit`) stops it.
            if stop {
                ctx.limits().stop(interp::StopReason::Host);
            }
            // The callback failed with the call stopped (a call it made into Lua was, say):
            // the stop goes on, uncatchable, whatever the callback raised.
            if let Some(e) = ctx.stop_error() {
                return StashedError {
                    value: ctx.stash(e.value),
                    kind: e.kind,
                    traceback: None,
                };
            }
            let v = Conv { rt: rt2, refs }.py_userdata(py, ctx, exc, Protocol::Default);
            StashedError {
                value: ctx.stash(v),
                kind: if stop {
                    ErrorKind::Interrupt
                } else {
                    ErrorKind::Runtime
                },
                traceback: None,
            }
        }))
    })
    .ok()
}

/// Whether the Python exception `e` stops the call instead of being a Lua error (a
/// `BaseException` that is not an `Exception`); if so, keeps it to raise when the call is
/// back in Python (the caller stops the call and makes the error uncatchable).
fn stop_for(py: Python<'_>, rt: &Shared, e: &PyErr) -> bool {
    let stop = crate::limits::stops_the_call(py, e);
    if stop {
        rt.stop_exception.keep(e.clone_ref(py));
    }
    stop
}

fn plain_error(lua: &mut Lua, msg: &str) -> StashedError {
    lua.enter(|ctx| StashedError {
        value: ctx.stash(ctx.str(msg)),
        kind: ErrorKind::Runtime,
        traceback: None,
    })
}

fn arg<'py>(py: Python<'py>, args: &[Py<PyAny>], i: usize) -> Bound<'py, PyAny> {
    args.get(i)
        .map(|a| a.bind(py).clone())
        .unwrap_or_else(|| py.None().into_bound(py))
}

/// The wrapped object and its protocol (`self` of a metamethod).
fn target(py: Python<'_>, obj: &Bound<'_, PyAny>) -> (Py<PyAny>, Protocol) {
    match obj.cast::<ProtocolWrapper>() {
        Ok(w) => (w.get().obj.clone_ref(py), w.get().protocol),
        Err(_) => (obj.clone().unbind(), Protocol::Default),
    }
}

fn uses_items(obj: &Bound<'_, PyAny>, protocol: Protocol) -> bool {
    match protocol {
        Protocol::Item => true,
        Protocol::Attr => false,
        Protocol::Default => {
            // Like `hasattr(type(obj), "__getitem__")`, read from the type's slots.
            // SAFETY: `obj` is a live object and the GIL is held (we have a `Bound`).
            let subscriptable = unsafe {
                pyo3::ffi::PyMapping_Check(obj.as_ptr()) != 0
                    || pyo3::ffi::PySequence_Check(obj.as_ptr()) != 0
            };
            subscriptable
                && !obj.is_instance_of::<PyString>()
                && !obj.is_instance_of::<pyo3::types::PyType>()
        }
    }
}

/// An attribute name from Lua: bytes (a runtime without an encoding) are decoded with the
/// source encoding, as lupa does; anything else goes to `getattr` as it is.
fn attr_name<'py>(rt: &Shared, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyString>> {
    let name = match key.cast::<pyo3::types::PyBytes>() {
        Ok(b) => b.call_method1("decode", (rt.config.source_encoding.as_str(),))?,
        Err(_) => key.clone(),
    };
    name.cast_into::<PyString>().map_err(|e| {
        let ty = e.into_inner().get_type().name().map(|n| n.to_string());
        pyo3::exceptions::PyTypeError::new_err(format!(
            "attribute name must be string, not '{}'",
            ty.unwrap_or_default()
        ))
    })
}

/// `obj.key` from Lua: the attribute getter if there is one (with the key as Lua gave it),
/// else `getattr` with the name the attribute filter returns (if any).
fn get_attr(
    py: Python<'_>,
    rt: &Arc<Shared>,
    obj: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    if let Some(getter) = &rt.config.attribute_handlers.0 {
        check_handler_key(rt, key)?;
        return Ok(getter.bind(py).call1((obj, key))?.unbind());
    }
    let name = match &rt.config.attribute_filter {
        Some(filter) => filter.bind(py).call1((obj, key, false))?,
        None => key.clone(),
    };
    let name = attr_name(rt, &name)?;
    check_sandboxed_name(rt, &name)?;
    Ok(obj.getattr(name)?.unbind())
}

/// `obj.key = value` from Lua, as [`get_attr`] reads.
fn set_attr(
    py: Python<'_>,
    rt: &Arc<Shared>,
    obj: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    if let Some(setter) = &rt.config.attribute_handlers.1 {
        check_handler_key(rt, key)?;
        setter.bind(py).call1((obj, key, value))?;
        return Ok(());
    }
    let name = match &rt.config.attribute_filter {
        Some(filter) => filter.bind(py).call1((obj, key, true))?,
        None => key.clone(),
    };
    let name = attr_name(rt, &name)?;
    check_sandboxed_name(rt, &name)?;
    obj.setattr(name, value)
}

/// The attribute rule of a sandbox: with no attribute filter or handlers, names starting
/// with `_` (`_private`, `__class__`) are out of reach; with them, the host decides the
/// other names, but special names (`__class__`, `__globals__`, `__subclasses__`, ...: the
/// ways from any object to every other) stay out of reach whatever the filter returns.
fn check_sandboxed_name(rt: &Shared, name: &Bound<'_, PyString>) -> PyResult<()> {
    if !rt.config.sandbox {
        return Ok(());
    }
    let s = crate::capi::utf8(name)?;
    if (rt.config.public_only && s.starts_with('_')) || is_special_name(s.as_bytes()) {
        return Err(refused_name(s));
    }
    Ok(())
}

/// [`check_sandboxed_name`] for a key Lua hands to the host's attribute handler, as Lua
/// gave it (a string of the source encoding).
fn check_handler_key(rt: &Shared, key: &Bound<'_, PyAny>) -> PyResult<()> {
    if !rt.config.sandbox {
        return Ok(());
    }
    let name = match (key.cast::<PyString>(), key.cast::<pyo3::types::PyBytes>()) {
        (Ok(s), _) => crate::capi::utf8(s)?.as_bytes(),
        (_, Ok(b)) => b.as_bytes(),
        _ => return Ok(()),
    };
    if is_special_name(name) {
        return Err(refused_name(&String::from_utf8_lossy(name)));
    }
    Ok(())
}

/// A Python special name: `__x__`.
fn is_special_name(name: &[u8]) -> bool {
    name.len() > 4 && name.starts_with(b"__") && name.ends_with(b"__")
}

fn refused_name(name: &str) -> PyErr {
    PyAttributeError::new_err(format!("access to '{name}' is not allowed in a sandbox"))
}

fn mm_index(py: Python<'_>, rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let (obj, protocol) = target(py, &arg(py, args, 0));
    let obj = obj.bind(py);
    let key = arg(py, args, 1);
    let v = if uses_items(obj, protocol) && rt.config.attribute_handlers.0.is_none() {
        obj.get_item(&key)?.unbind()
    } else {
        get_attr(py, rt, obj, &key)?
    };
    Ok(HostResult::One(v))
}

fn mm_newindex(py: Python<'_>, rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let (obj, protocol) = target(py, &arg(py, args, 0));
    let obj = obj.bind(py);
    let (key, value) = (arg(py, args, 1), arg(py, args, 2));
    if uses_items(obj, protocol) && rt.config.attribute_handlers.1.is_none() {
        obj.set_item(&key, &value)?;
    } else {
        set_attr(py, rt, obj, &key, &value)?;
    }
    Ok(HostResult::Values(Vec::new()))
}

fn mm_call(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let (f, _) = target(py, &arg(py, args, 0));
    let f = f.bind(py);
    let mut rest = args.get(1..).unwrap_or_default();
    // `obj:method(x)` passes the object again: a bound method already has it.
    let is_method =
        f.is_instance_of::<pyo3::types::PyCFunction>() || f.get_type().is(method_type(py));
    if is_method {
        if let (Some(first), Ok(owner)) = (rest.first(), f.getattr("__self__")) {
            if first.bind(py).is(&owner) {
                rest = &rest[1..];
            }
        }
    }
    // `f(python.args{1, 2, key=3})` passes positional and keyword arguments.
    if let [only] = rest {
        if let Ok(a) = only.bind(py).cast::<PyArguments>() {
            let a = a.get();
            let r = f.call(a.args.bind(py), Some(a.kwargs.bind(py)))?;
            return Ok(HostResult::Value(r.unbind()));
        }
    }
    let r = crate::capi::call(f, rest)?;
    Ok(HostResult::Value(r.unbind()))
}

/// Positional and keyword arguments for a Python call (`python.args{...}`).
#[pyclass(name = "_PyArguments", module = "lupa_rs", frozen)]
pub struct PyArguments {
    args: Py<PyTuple>,
    kwargs: Py<PyDict>,
}

#[pymethods]
impl PyArguments {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.args)?;
        visit.call(&self.kwargs)
    }
}

/// `python.args(t)`: the table's sequence as positional arguments, its string keys as
/// keyword arguments.
fn py_args(py: Python<'_>, rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let t = arg(py, args, 0);
    let positional = PyList::empty(py);
    let kwargs = PyDict::new(py);
    if !t.is_none() {
        let n: usize = t.len().unwrap_or(0);
        for i in 1..=n {
            positional.append(t.get_item(i)?)?;
        }
        for item in t.call_method0("items")?.try_iter()? {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
            if k.is_instance_of::<PyString>() {
                kwargs.set_item(k, v)?;
            } else if let Ok(b) = k.cast::<pyo3::types::PyBytes>() {
                // A runtime without an encoding: names decode with the source encoding.
                let name = b.call_method1("decode", (rt.config.source_encoding.as_str(),))?;
                kwargs.set_item(name, v)?;
            } else if !k.extract::<usize>().is_ok_and(|i| (1..=n).contains(&i)) {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "python.args: keys must be 1..n or strings",
                ));
            }
        }
    }
    let a = PyArguments {
        args: PyTuple::new(py, positional)?.unbind(),
        kwargs: kwargs.unbind(),
    };
    Ok(HostResult::One(Py::new(py, a)?.into_any()))
}

/// `python.set_overflow_handler(f)`.
fn py_set_overflow_handler(
    py: Python<'_>,
    rt: &Arc<Shared>,
    args: &[Py<PyAny>],
) -> PyResult<HostResult> {
    use crate::objects::{LuaFunction, LuaTable, LuaThread, LuaUserData};
    let h = arg(py, args, 0);
    let lua_value = h.is_instance_of::<LuaTable>()
        || h.is_instance_of::<LuaThread>()
        || h.is_instance_of::<LuaUserData>()
        || h.is_instance_of::<PyString>()
        || h.is_instance_of::<pyo3::types::PyBytes>()
        || h.is_instance_of::<pyo3::types::PyInt>()
        || h.is_instance_of::<pyo3::types::PyFloat>();
    if lua_value && !h.is_instance_of::<LuaFunction>() {
        return Err(crate::errors::lua_error(
            py,
            "bad argument #1 to 'set_overflow_handler' (expected nil, a Lua function or a \
             callable Python object)",
        ));
    }
    rt.set_overflow_handler(if h.is_none() { None } else { Some(h.unbind()) });
    Ok(HostResult::Values(Vec::new()))
}

/// `types.MethodType`.
fn method_type(py: Python<'_>) -> &Bound<'_, pyo3::types::PyType> {
    static METHOD_TYPE: pyo3::sync::PyOnceLock<Py<pyo3::types::PyType>> =
        pyo3::sync::PyOnceLock::new();
    METHOD_TYPE
        .get_or_init(py, || {
            py.import("types")
                .and_then(|m| m.getattr("MethodType"))
                .and_then(|t| t.cast_into::<pyo3::types::PyType>().map_err(Into::into))
                .map(|t| t.unbind())
                .unwrap_or_else(|_| py.get_type::<pyo3::types::PyCFunction>().unbind())
        })
        .bind(py)
}

/// `tostring(obj)`: `str(obj)`, encoded with the runtime's encoding (UTF-8 without one).
fn mm_tostring(py: Python<'_>, rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let (obj, _) = target(py, &arg(py, args, 0));
    let s = obj.bind(py).str()?;
    if rt.config.encoding.is_some() {
        return Ok(HostResult::One(s.into_any().unbind()));
    }
    let b = pyo3::types::PyBytes::new(py, crate::capi::utf8(&s)?.as_bytes());
    Ok(HostResult::One(b.into_any().unbind()))
}

fn as_attrgetter(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    wrap_protocol(py, args, Protocol::Attr)
}

fn as_itemgetter(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    wrap_protocol(py, args, Protocol::Item)
}

fn wrap_protocol(py: Python<'_>, args: &[Py<PyAny>], protocol: Protocol) -> PyResult<HostResult> {
    let (obj, _) = target(py, &arg(py, args, 0));
    let w = Py::new(py, ProtocolWrapper { obj, protocol })?;
    Ok(HostResult::One(w.into_any()))
}

fn as_function(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let (obj, _) = target(py, &arg(py, args, 0));
    Ok(HostResult::Function(obj))
}

fn iter_next<'py>(py: Python<'py>, it: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    match it.call_method0("__next__") {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_instance_of::<PyStopIteration>(py) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `python.iter(obj)`: a Lua iterator over a Python iterable (tuples exploded into several
/// loop values when the runtime unpacks returned tuples).
fn py_iter(py: Python<'_>, rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    make_iterator(
        py,
        &arg(py, args, 0),
        rt.config.unpack_returned_tuples,
        None,
    )
}

/// `python.iterex(obj)`: like `iter`, tuples always exploded into several loop values.
fn py_iterex(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    make_iterator(py, &arg(py, args, 0), true, None)
}

/// `python.enumerate(obj, start=0)`: the index (counted from the loop's control variable,
/// as lupa does) and the value.
fn py_enumerate(py: Python<'_>, rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let start = match args.get(1) {
        Some(s) => lua_integer(py, s.bind(py))?,
        None => 0,
    };
    let unpack = rt.config.unpack_returned_tuples;
    make_iterator(py, &arg(py, args, 0), unpack, Some(start))
}

/// A start value as C's `lua_tointegerx` reads it (integers, floats with an exact integer
/// value, numeric strings), else lupa's error.
fn lua_integer(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<i64> {
    if !v.is_instance_of::<pyo3::types::PyBool>() {
        if let Ok(i) = v.extract::<i64>() {
            return Ok(i);
        }
        if let Ok(f) = v.cast::<pyo3::types::PyFloat>() {
            if let Some(i) = interp::number::float_to_int_exact(f.value()) {
                return Ok(i);
            }
        }
        let text = match v.cast::<PyString>() {
            Ok(s) => Some(crate::capi::utf8(s)?.as_bytes().to_vec()),
            Err(_) => v
                .cast::<pyo3::types::PyBytes>()
                .ok()
                .map(|b| b.as_bytes().to_vec()),
        };
        match text.and_then(|t| interp::number::str_to_number(&t)) {
            Some(interp::number::Number::Int(i)) => return Ok(i),
            Some(interp::number::Number::Float(f)) => {
                if let Some(i) = interp::number::float_to_int_exact(f) {
                    return Ok(i);
                }
            }
            None => {}
        }
    }
    Err(crate::errors::lua_error(
        py,
        format!("Could not convert {} to string", lua_type_name(v)),
    ))
}

/// The Lua type name of what a Python value came from.
fn lua_type_name(v: &Bound<'_, PyAny>) -> &'static str {
    use crate::objects::{LuaFunction, LuaTable, LuaThread};
    if v.is_none() {
        "nil"
    } else if v.is_instance_of::<pyo3::types::PyBool>() {
        "boolean"
    } else if v.is_instance_of::<pyo3::types::PyInt>() || v.is_instance_of::<pyo3::types::PyFloat>()
    {
        "number"
    } else if v.is_instance_of::<PyString>() || v.is_instance_of::<pyo3::types::PyBytes>() {
        "string"
    } else if v.is_instance_of::<LuaTable>() {
        "table"
    } else if v.is_instance_of::<LuaFunction>() {
        "function"
    } else if v.is_instance_of::<LuaThread>() {
        "thread"
    } else {
        "userdata"
    }
}

fn make_iterator(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    unpack: bool,
    start: Option<i64>,
) -> PyResult<HostResult> {
    let (obj, _) = target(py, obj);
    let it = obj.bind(py).try_iter()?;
    let state = Py::new(
        py,
        IterState {
            it: it.into_any().unbind(),
            unpack,
            enumerate: start.is_some(),
        },
    )?;
    // The control variable: the index before the first (enumerate), else nil.
    let control = start.map(|s| {
        s.wrapping_sub(1)
            .into_pyobject(py)
            .map(|i| i.into_any().unbind())
    });
    Ok(HostResult::Iterator(state.into_any(), control.transpose()?))
}

/// The state of a `python.iter` loop.
#[pyclass(name = "_PyIterState", module = "lupa_rs", frozen)]
pub struct IterState {
    it: Py<PyAny>,
    /// Tuples become several loop values.
    unpack: bool,
    /// The loop values start with an index (`python.enumerate`).
    enumerate: bool,
}

#[pymethods]
impl IterState {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.it)
    }
}

/// One step of a `python.iter` loop (called from Lua as the generic-for function with the
/// state and the control variable). `None` as the first loop value would end the loop: it
/// is `python.none` there, `nil` after an index.
fn iter_step(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let state = arg(py, args, 0);
    let (obj, _) = target(py, &state);
    let state = obj.bind(py).cast::<IterState>()?.get();
    let Some(v) = iter_next(py, state.it.bind(py))? else {
        return Ok(HostResult::Values(Vec::new()));
    };
    let mut values = Vec::new();
    if state.enumerate {
        let i = arg(py, args, 1)
            .extract::<i64>()
            .unwrap_or(0)
            .wrapping_add(1);
        values.push(i.into_pyobject(py)?.into_any().unbind());
    }
    match v.cast::<PyTuple>() {
        Ok(t) if state.unpack => values.extend(t.iter().map(|x| x.unbind())),
        _ => values.push(v.unbind()),
    }
    Ok(if state.enumerate {
        HostResult::Values(values)
    } else {
        HostResult::IterStep(values)
    })
}

/// The functions of the `python` table: their keys, their names in tracebacks (their global
/// names, as lupa registers the library in `package.loaded`), and whether they run no Python
/// code of the objects given to them (run inline, inside the step, even where the step could
/// be left; the others leave it when they can, so their Python code may call back into Lua).
/// The last field: the check of their arguments (lupa's: a Python object, one argument;
/// see [`check_object_arg`]), run before any conversion.
pub(crate) type PythonFunction = (&'static str, &'static str, PyHostFn, bool, Option<NativeFn>);

/// The functions of the `python` table (see [`PythonFunction`]).
pub(crate) const PYTHON_FUNCTIONS: &[PythonFunction] = &[
    (
        "as_attrgetter",
        "python.as_attrgetter",
        as_attrgetter,
        true,
        ONE_OBJECT,
    ),
    (
        "as_itemgetter",
        "python.as_itemgetter",
        as_itemgetter,
        true,
        ONE_OBJECT,
    ),
    (
        "as_function",
        "python.as_function",
        as_function,
        true,
        ONE_OBJECT,
    ),
    ("iter", "python.iter", py_iter, false, ONE_OBJECT),
    ("iterex", "python.iterex", py_iterex, false, ONE_OBJECT),
    (
        "enumerate",
        "python.enumerate",
        py_enumerate,
        false,
        ENUMERATE,
    ),
    ("args", "python.args", py_args, false, None),
    (
        "set_overflow_handler",
        "python.set_overflow_handler",
        py_set_overflow_handler,
        true,
        None,
    ),
];

const ONE_OBJECT: Option<NativeFn> = Some(check_object_arg);
const ENUMERATE: Option<NativeFn> = Some(check_enumerate_args);

/// lupa's check of `python.as_attrgetter(obj)` and the other functions of one Python
/// object: one argument, and a Python object (a Lua string, table, number... is refused
/// before it becomes a Python object: `as_attrgetter('{0._x}').format` would reach `str`'s
/// methods).
fn check_object_arg<'gc>(
    call: &mut NativeCall<'gc, '_>,
) -> Result<Action<'gc>, interp::Error<'gc>> {
    check_python_args(call, 1)?;
    Ok(Action::Return(0))
}

/// lupa's check of `python.enumerate(obj, start)`.
fn check_enumerate_args<'gc>(
    call: &mut NativeCall<'gc, '_>,
) -> Result<Action<'gc>, interp::Error<'gc>> {
    check_python_args(call, 2)?;
    Ok(Action::Return(0))
}

/// At most `max` arguments, the first a live Python object (lupa's
/// `unpack_python_argument_or_jump`), with lupa's errors.
fn check_python_args<'gc>(
    call: &NativeCall<'gc, '_>,
    max: usize,
) -> Result<(), interp::Error<'gc>> {
    if call.nargs() > max {
        return Err(call.arg_error(max, "invalid arguments"));
    }
    match python_object_state(call.arg(0)) {
        Some(true) => Ok(()),
        Some(false) => Err(call.arg_error(0, "deleted python object")),
        None => Err(call.arg_error(0, "not a python object")),
    }
}

/// Whether `v` is a wrapped Python object (a userdata made for one, or a
/// `python.as_function` function), and whether the object is still there.
fn python_object_state(v: Value<'_>) -> Option<bool> {
    match v {
        Value::UserData(u) => {
            let data = u.data().try_borrow().ok()?;
            let b = data.downcast_ref::<PyBox>()?;
            Some(!b.released.get())
        }
        Value::Native(f) => bound_call_target(f).and_then(python_object_state),
        _ => None,
    }
}

/// The `__call` metamethod of wrapped Python objects: a host function (the Python code may
/// call back into the runtime), run inline where the step cannot be left.
pub(crate) const CALL: (NativeFn, PyHostFn) = (inline_call, mm_call);

/// Metamethods of wrapped Python objects. Each is an inline native: Python runs inside the
/// Lua step (no step exit, so `print`, `tostring`, `table.sort` and other library functions
/// can use them). An access that may run Python code (a property, `__getattr__`, a custom
/// `__getitem__`: see `inline_safe`) goes on as the host function of the same name
/// instead, outside the step, so that the Python code may call back into this runtime;
/// only when a library function made it (the step cannot be left) does it run inline anyway.
pub(crate) const INLINE_METAMETHODS: &[(&str, NativeFn, Option<PyHostFn>)] = &[
    ("__index", inline_index, Some(mm_index)),
    ("__newindex", inline_newindex, Some(mm_newindex)),
    ("__tostring", inline_tostring, None),
];

/// Runs function `I` of the `python` table (its index in [`PYTHON_FUNCTIONS`]). The index
/// is part of the function, not an upvalue: `debug.setupvalue` can change upvalues, and
/// must not turn one function of the table into another (one the host chose not to
/// register, say).
fn inline_python_function<'gc, const I: usize>(
    call: &mut NativeCall<'gc, '_>,
) -> Result<Action<'gc>, interp::Error<'gc>> {
    let (_, _, f, safe, check) = PYTHON_FUNCTIONS[I];
    if let Some(check) = check {
        check(call)?;
    }
    run_inline(call, f, if safe { Runs::Inline } else { Runs::InHost })
}

/// The inline natives of the functions of the `python` table, in [`PYTHON_FUNCTIONS`]'
/// order.
pub(crate) const INLINE_PYTHON_FUNCTIONS: [NativeFn; 8] = [
    inline_python_function::<0>,
    inline_python_function::<1>,
    inline_python_function::<2>,
    inline_python_function::<3>,
    inline_python_function::<4>,
    inline_python_function::<5>,
    inline_python_function::<6>,
    inline_python_function::<7>,
];

const _: () = assert!(INLINE_PYTHON_FUNCTIONS.len() == PYTHON_FUNCTIONS.len());

/// The step function of `python.iter` loops, as an inline native.
pub(crate) fn inline_iter_step<'gc>(
    call: &mut NativeCall<'gc, '_>,
) -> Result<Action<'gc>, interp::Error<'gc>> {
    run_inline(call, iter_step, Runs::InHost)
}

/// Where an inline native's Python code runs when the step can be left (else it runs inline).
enum Runs {
    /// Inside the step (no Python code of the objects given to it).
    Inline,
    /// In its host function (may call back into the runtime).
    InHost,
    /// Inline if the test says its arguments run no Python code.
    InlineIf(fn(Python<'_>, &Shared, &[Py<PyAny>]) -> bool),
}

/// `python.as_function(obj)`: a Lua function that calls `obj` (upvalue 1) through the
/// Python-object `__call` (upvalue 0), so library functions that want a function (a
/// `table.sort` comparator) take it.
fn bound_call<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, interp::Error<'gc>> {
    let args = interp::ValueList::from_slice(call.args());
    call.set_nargs(0);
    call.push(call.upvalue(0));
    call.push(call.upvalue(1));
    for &a in &args {
        call.push(a);
    }
    Ok(Action::TailCall(args.len() + 1))
}

/// The Python object a `python.as_function` function calls, if `f` is one.
pub(crate) fn bound_call_target<'gc>(f: NativeFunction<'gc>) -> Option<Value<'gc>> {
    std::ptr::fn_addr_eq(f.func(), bound_call as NativeFn).then(|| f.upvalue(1))
}

/// The runtime, for inline natives (held weakly: the runtime owns its natives).
struct SharedHandle(Weak<Shared>);

fn inline_index<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, interp::Error<'gc>> {
    run_inline(
        call,
        mm_index,
        Runs::InlineIf(|py, rt, args| index_is_inline(py, rt, args, false)),
    )
}

fn inline_newindex<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, interp::Error<'gc>> {
    run_inline(
        call,
        mm_newindex,
        Runs::InlineIf(|py, rt, args| index_is_inline(py, rt, args, true)),
    )
}

fn inline_call<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, interp::Error<'gc>> {
    run_inline(call, mm_call, Runs::InHost)
}

fn inline_tostring<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, interp::Error<'gc>> {
    run_inline(call, mm_tostring, Runs::Inline)
}

/// Whether `obj[key]` (`set`: `obj[key] = v`) from Lua runs no Python code.
fn index_is_inline(py: Python<'_>, rt: &Shared, args: &[Py<PyAny>], set: bool) -> bool {
    let (obj, protocol) = target(py, &arg(py, args, 0));
    let obj = obj.bind(py);
    let key = arg(py, args, 1);
    let handler = match set {
        false => &rt.config.attribute_handlers.0,
        true => &rt.config.attribute_handlers.1,
    };
    if uses_items(obj, protocol) && handler.is_none() {
        inline_safe::item_access_is_inline(obj, &key)
    } else {
        inline_safe::attribute_access_is_inline(&rt.config, obj, &key, set)
    }
}

/// The runtime as an inline native's upvalue (held weakly).
pub(crate) fn shared_handle<'gc>(ctx: Context<'gc>, rt: &Arc<Shared>) -> Value<'gc> {
    let handle = SharedHandle(Arc::downgrade(rt));
    Value::UserData(UserData::new(ctx.mutation(), Box::new(handle)))
}

/// Makes an inline native for `f` (`handle`: from [`shared_handle`]); `host` is the host
/// function that does the same when the access may call back into the runtime. Both are
/// upvalues, which Lua code may change (`debug.setupvalue`): to another value, `handle`
/// gives "the Lua runtime is gone", `host` a plain call of that value.
pub(crate) fn inline_native<'gc>(
    ctx: Context<'gc>,
    handle: Value<'gc>,
    name: &'static str,
    f: NativeFn,
    host: Value<'gc>,
) -> Value<'gc> {
    let upvalues = Box::new([handle, host]);
    Value::Native(NativeFunction::with_upvalues(
        ctx.mutation(),
        name,
        f,
        upvalues,
    ))
}

/// What an inline native does after looking at its arguments.
enum Inline<'gc> {
    /// It ran (the results are in the list the caller gave).
    Done,
    /// It failed: the error value, and whether it stops the call (see [`stop_for`]).
    Failed(Value<'gc>, bool),
    /// The access may run Python code: hand it to the host function.
    ToHost,
}

fn run_inline<'gc>(
    call: &mut NativeCall<'gc, '_>,
    f: PyHostFn,
    runs: Runs,
) -> Result<Action<'gc>, interp::Error<'gc>> {
    let host = call.upvalue(1);
    // The step can be left only when Lua code made the access, not a library function.
    let can_leave = !host.is_nil() && call.can_leave_step();
    if can_leave && matches!(runs, Runs::InHost) {
        return Ok(to_host(call, host));
    }
    let rt = match call.upvalue(0) {
        Value::UserData(u) => u
            .data()
            .try_borrow()
            .ok()
            .and_then(|d| d.downcast_ref::<SharedHandle>().and_then(|h| h.0.upgrade())),
        _ => None,
    };
    let Some(rt) = rt else {
        return Err(call.error("the Lua runtime is gone"));
    };
    let ctx = call.ctx;
    let mut out = interp::ValueList::new();
    // Conversions of the results may run a Lua overflow handler: nested through `call`.
    let call_ptr: *mut NativeCall<'static, 'static> = (call as *mut NativeCall<'gc, '_>).cast();
    let r = crate::shared::attach_if_alive(|py| -> Inline<'gc> {
        // Arguments are read where they lie (see `call::run_fast` on moving lists of values).
        let args = call.args();
        let converted = rt.inline_refs(|refs| {
            let mut conv = Conv { rt: &rt, refs };
            args.iter()
                .map(|&a| conv.lua_to_py(py, ctx, a))
                .collect::<PyResult<PyArgs>>()
        });
        if let (Ok(pyargs), Runs::InlineIf(inline_ok)) = (&converted, &runs) {
            if can_leave && !inline_ok(py, &rt, pyargs) {
                return Inline::ToHost;
            }
        }
        // The Python code may call back into the runtime, nested through `call`.
        let result = match converted {
            Ok(pyargs) => rt.run_inline_python(call, || f(py, &rt, &pyargs)),
            Err(e) => Err(e),
        };
        rt.converting_in(call_ptr, || {
            rt.inline_refs(|refs| {
                let mut conv = Conv { rt: &rt, refs };
                match result.and_then(|r| results_for_lua(py, ctx, &mut conv, &r, &mut out)) {
                    Ok(()) => Inline::Done,
                    Err(e) => {
                        let stop = stop_for(py, &rt, &e);
                        let exc = e.into_value(py).into_any();
                        Inline::Failed(conv.py_userdata(py, ctx, exc, Protocol::Default), stop)
                    }
                }
            })
        })
    });
    let Some(r) = r else {
        return Err(call.error(SHUTTING_DOWN));
    };
    match r {
        Inline::Done => call.ret(&out),
        // As for a host function (`error_to_lua`): with the call stopped, the stop goes on.
        Inline::Failed(e, stop) => {
            if stop {
                call.ctx.limits().stop(interp::StopReason::Host);
            }
            Err(ctx.stop_error().unwrap_or_else(|| interp::Error::new(e)))
        }
        Inline::ToHost => Ok(to_host(call, host)),
    }
}

/// A tail call of the host function `host` with the same arguments.
fn to_host<'gc>(call: &mut NativeCall<'gc, '_>, host: Value<'gc>) -> Action<'gc> {
    let args = interp::ValueList::from_slice(call.args());
    call.set_nargs(0);
    call.push(host);
    for &a in &args {
        call.push(a);
    }
    Action::TailCall(args.len())
}

/// The step function of `python.iter` loops (its host function).
pub(crate) const ITER_STEP: PyHostFn = iter_step;

/// Registers the classes in the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ProtocolWrapper>()?;
    m.add_class::<IterState>()?;
    m.add_class::<PyArguments>()?;
    Ok(())
}

/// `lupa.as_attrgetter(obj)` / `as_itemgetter(obj)` from Python.
pub(crate) fn wrap(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    protocol: Protocol,
) -> PyResult<Py<ProtocolWrapper>> {
    let (obj, _) = target(py, obj);
    Py::new(py, ProtocolWrapper { obj, protocol })
}
