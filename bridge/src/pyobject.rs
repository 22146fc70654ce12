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
    Default,
    /// Attribute access (`python.as_attrgetter`).
    Attr,
    /// Item access (`python.as_itemgetter`).
    Item,
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
}

impl Drop for PyBox {
    fn drop(&mut self) {
        // SAFETY: the userdata holding this box lives in the arena of the runtime that owns
        // the queue; the runtime (inside an `Arc`, so it never moves) drops its arena before
        // the queue (`Shared`'s field order), so the queue outlives every box.
        unsafe { &*self.queue }.push_pyref(self.slot);
    }
}

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
    /// A generic-for iterator: the step function and this state.
    Iterator(Py<PyAny>),
}

/// Makes a Lua function that runs `f` on the host.
pub(crate) fn host_function(
    lua: &mut Lua,
    rt: &Arc<Shared>,
    name: &'static str,
    f: PyHostFn,
) -> StashedValue {
    let weak: Weak<Shared> = Arc::downgrade(rt);
    lua.create_raw_function(
        name,
        Rc::new(move |lua: &mut Lua| {
            let Some(rt) = weak.upgrade() else {
                return Err(plain_error(lua, "the Lua runtime is gone"));
            };
            let r = rt.lend(lua, || {
                Python::attach(|py| run_host(py, &rt, f).map_err(|e| error_to_lua(py, &rt, e)))
            });
            r.map_err(|e| e.unwrap_or_else(|| plain_error(lua, "error in a Python callback")))
        }),
    )
}

/// Runs a host function: arguments to Python, the call, results back to Lua.
fn run_host(py: Python<'_>, rt: &Arc<Shared>, f: PyHostFn) -> PyResult<()> {
    // Arguments are converted where they lie on Lua's stack and results pushed where Lua
    // reads them: no list of values moves around (see `call::run_fast`).
    let mut pyargs = PyArgs::new();
    rt.with(py, |l| {
        let shared = l.shared;
        l.lua.host_args(|ctx, args| {
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
    rt.with(py, |l| {
        let shared = l.shared;
        l.lua.host_return(|ctx, out| {
            shared.inline_refs(|refs| {
                let mut conv = Conv { rt: shared, refs };
                results_for_lua(py, ctx, &mut conv, &result, out)
            })
        })
    })
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
        HostResult::Iterator(state) => {
            out.push(ctx.fetch(conv.refs.get(conv.rt.iter_step.get())));
            out.push(conv.py_to_lua(py, ctx, state.bind(py))?);
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
/// catches it, `tostring` shows it, and it is re-raised as itself in Python.
fn error_to_lua(py: Python<'_>, rt: &Arc<Shared>, e: PyErr) -> Option<StashedError> {
    let exc = e.into_value(py).into_any();
    rt.with(py, |l| {
        let rt2 = l.shared;
        let refs = l.refs();
        Ok(l.lua.enter(|ctx| {
            let v = Conv { rt: rt2, refs }.py_userdata(py, ctx, exc, Protocol::Default);
            StashedError {
                value: ctx.stash(v),
                kind: ErrorKind::Runtime,
                traceback: None,
            }
        }))
    })
    .ok()
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

fn attr_name<'py>(key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyString>> {
    key.cast::<PyString>()
        .cloned()
        .map_err(|_| PyAttributeError::new_err("attribute name must be a string"))
}

fn get_attr(
    py: Python<'_>,
    rt: &Arc<Shared>,
    obj: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    if let Some(getter) = &rt.config.attribute_handlers.0 {
        return Ok(getter.bind(py).call1((obj, key))?.unbind());
    }
    let name = attr_name(key)?;
    if let Some(filter) = &rt.config.attribute_filter {
        let name = filter.bind(py).call1((obj, &name, false))?;
        return Ok(obj.getattr(attr_name(&name)?)?.unbind());
    }
    check_public(rt, &name)?;
    Ok(obj.getattr(name)?.unbind())
}

fn set_attr(
    py: Python<'_>,
    rt: &Arc<Shared>,
    obj: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    if let Some(setter) = &rt.config.attribute_handlers.1 {
        setter.bind(py).call1((obj, key, value))?;
        return Ok(());
    }
    let name = attr_name(key)?;
    if let Some(filter) = &rt.config.attribute_filter {
        let name = filter.bind(py).call1((obj, &name, true))?;
        return obj.setattr(attr_name(&name)?, value);
    }
    check_public(rt, &name)?;
    obj.setattr(name, value)
}

/// In a sandbox, names starting with `_` (`__class__`, `_private`, ...) are out of reach.
fn check_public(rt: &Shared, name: &Bound<'_, PyString>) -> PyResult<()> {
    if rt.config.public_only && name.to_str()?.starts_with('_') {
        return Err(PyAttributeError::new_err(format!(
            "access to '{}' is not allowed in a sandbox",
            name.to_str()?
        )));
    }
    Ok(())
}

fn mm_index(py: Python<'_>, rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let (obj, protocol) = target(py, &arg(py, args, 0));
    let obj = obj.bind(py);
    let key = arg(py, args, 1);
    let v = if uses_items(obj, protocol) {
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
    if uses_items(obj, protocol) {
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
    // A vectorcall: no argument tuple for callables that take their arguments as an array.
    let ptrs: smallvec::SmallVec<[*mut pyo3::ffi::PyObject; 8]> =
        rest.iter().map(|a| a.as_ptr()).collect();
    // SAFETY: `f` and the arguments are live objects kept alive by `args` for the whole
    // call, the GIL is held, and the call returns a new reference or null with an error set.
    let r = unsafe {
        let r = pyo3::ffi::PyObject_Vectorcall(
            f.as_ptr(),
            ptrs.as_ptr(),
            ptrs.len(),
            std::ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(py, r)?
    };
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
fn py_args(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
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
    let h = arg(py, args, 0);
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

fn mm_tostring(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let (obj, _) = target(py, &arg(py, args, 0));
    let s = obj.bind(py).str()?;
    Ok(HostResult::One(s.into_any().unbind()))
}

fn py_eval(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let code = arg(py, args, 0);
    let builtins = py.import("builtins")?;
    let globals = PyDict::new(py);
    globals.set_item("__builtins__", &builtins)?;
    let r = builtins.getattr("eval")?.call1((code, globals))?;
    Ok(HostResult::Value(r.unbind()))
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
    Ok(HostResult::One(obj))
}

fn iter_next<'py>(py: Python<'py>, it: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    match it.call_method0("__next__") {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_instance_of::<PyStopIteration>(py) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `python.iter(obj)`: a Lua iterator over a Python iterable.
fn py_iter(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    make_iterator(py, args, 0)
}

/// `python.iterex(obj)`: like `iter`, tuples exploded into several loop values.
fn py_iterex(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    make_iterator(py, args, 1)
}

/// `python.enumerate(obj, start=0)`: index and value.
fn py_enumerate(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let (obj, _) = target(py, &arg(py, args, 0));
    let start = arg(py, args, 1);
    let start = if start.is_none() {
        0i64
    } else {
        start.extract()?
    };
    let e = py
        .import("builtins")?
        .getattr("enumerate")?
        .call1((obj, start))?;
    make_iterator(py, &[e.unbind()], 2)
}

fn make_iterator(py: Python<'_>, args: &[Py<PyAny>], mode: u8) -> PyResult<HostResult> {
    let (obj, _) = target(py, &arg(py, args, 0));
    let it = obj.bind(py).try_iter()?;
    let state = Py::new(
        py,
        IterState {
            it: it.into_any().unbind(),
            mode,
        },
    )?;
    Ok(HostResult::Iterator(state.into_any()))
}

/// The state of a `python.iter` loop.
#[pyclass(name = "_PyIterState", module = "lupa_rs", frozen)]
pub struct IterState {
    it: Py<PyAny>,
    /// 0: values, 1: exploded tuples, 2: enumerate pairs.
    mode: u8,
}

#[pymethods]
impl IterState {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.it)
    }
}

/// One step of a `python.iter` loop (called from Lua as the generic-for function).
fn iter_step(py: Python<'_>, _rt: &Arc<Shared>, args: &[Py<PyAny>]) -> PyResult<HostResult> {
    let state = arg(py, args, 0);
    let (obj, _) = target(py, &state);
    let state = obj.bind(py).cast::<IterState>()?.get();
    let Some(v) = iter_next(py, state.it.bind(py))? else {
        return Ok(HostResult::Values(Vec::new()));
    };
    Ok(match state.mode {
        1 => match v.cast::<PyTuple>() {
            Ok(t) => HostResult::IterStep(t.iter().map(|x| x.unbind()).collect()),
            Err(_) => HostResult::IterStep(vec![v.unbind()]),
        },
        2 => {
            let t = v.cast::<PyTuple>()?;
            HostResult::Values(t.iter().map(|x| x.unbind()).collect())
        }
        _ => HostResult::IterStep(vec![v.unbind()]),
    })
}

/// Host functions of the `python` table: their keys, and their names in tracebacks.
pub(crate) const PYTHON_FUNCTIONS: &[(&str, &str, PyHostFn)] = &[
    ("as_attrgetter", "python.as_attrgetter", as_attrgetter),
    ("as_itemgetter", "python.as_itemgetter", as_itemgetter),
    ("as_function", "python.as_function", as_function),
    ("iter", "python.iter", py_iter),
    ("iterex", "python.iterex", py_iterex),
    ("enumerate", "python.enumerate", py_enumerate),
    ("args", "python.args", py_args),
    (
        "set_overflow_handler",
        "python.set_overflow_handler",
        py_set_overflow_handler,
    ),
];

/// The Python-object metatable's metamethods that are host functions (they leave the step,
/// so the Python code may call back into Lua).
pub(crate) const METAMETHODS: &[(&str, PyHostFn)] = &[("__call", mm_call)];

/// Metamethods run inline: Python runs inside the Lua step (no step exit, so `print`,
/// `tostring` and other library functions can use them). An access that may run Python code
/// (a property, `__getattr__`, a custom `__getitem__`: see `inline_safe`) goes on as the
/// host function of the same name instead, outside the step, so that the Python code may
/// call back into this runtime; only when a library function made the access (the step cannot
/// be left) does it run inline anyway, and a call back into the runtime then fails.
pub(crate) const INLINE_METAMETHODS: &[(&str, NativeFn, Option<PyHostFn>)] = &[
    ("__index", inline_index, Some(mm_index)),
    ("__newindex", inline_newindex, Some(mm_newindex)),
    ("__tostring", inline_tostring, None),
];

/// The runtime, for inline natives (held weakly: the runtime owns its natives).
struct SharedHandle(Weak<Shared>);

fn inline_index<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, interp::Error<'gc>> {
    run_inline(call, mm_index, |py, rt, args| {
        index_is_inline(py, rt, args, false)
    })
}

fn inline_newindex<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, interp::Error<'gc>> {
    run_inline(call, mm_newindex, |py, rt, args| {
        index_is_inline(py, rt, args, true)
    })
}

fn inline_tostring<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Action<'gc>, interp::Error<'gc>> {
    run_inline(call, mm_tostring, |_, _, _| true)
}

/// Whether `obj[key]` (`set`: `obj[key] = v`) from Lua runs no Python code.
fn index_is_inline(py: Python<'_>, rt: &Shared, args: &[Py<PyAny>], set: bool) -> bool {
    let (obj, protocol) = target(py, &arg(py, args, 0));
    let obj = obj.bind(py);
    let key = arg(py, args, 1);
    if uses_items(obj, protocol) {
        inline_safe::item_access_is_inline(obj, &key)
    } else {
        inline_safe::attribute_access_is_inline(&rt.config, obj, &key, set)
    }
}

/// Makes an inline native for `f`; `host` is the host function that does the same when
/// the access may call back into the runtime.
pub(crate) fn inline_native<'gc>(
    ctx: Context<'gc>,
    rt: &Arc<Shared>,
    name: &'static str,
    f: NativeFn,
    host: Value<'gc>,
) -> Value<'gc> {
    let handle = UserData::new(ctx.mutation(), Box::new(SharedHandle(Arc::downgrade(rt))));
    Value::Native(NativeFunction::with_upvalues(
        ctx.mutation(),
        name,
        f,
        Box::new([Value::UserData(handle), host]),
    ))
}

/// What an inline native does after looking at its arguments.
enum Inline<'gc> {
    /// It ran (the results are in the list the caller gave).
    Done,
    /// It failed: the error value.
    Failed(Value<'gc>),
    /// The access may run Python code: hand it to the host function.
    ToHost,
}

fn run_inline<'gc>(
    call: &mut NativeCall<'gc, '_>,
    f: PyHostFn,
    inline_ok: fn(Python<'_>, &Shared, &[Py<PyAny>]) -> bool,
) -> Result<Action<'gc>, interp::Error<'gc>> {
    let rt = match call.upvalue(0) {
        Value::UserData(u) => {
            u.0.data
                .try_borrow()
                .ok()
                .and_then(|d| d.downcast_ref::<SharedHandle>().and_then(|h| h.0.upgrade()))
        }
        _ => None,
    };
    let Some(rt) = rt else {
        return Err(call.error("the Lua runtime is gone"));
    };
    let ctx = call.ctx;
    let host = call.upvalue(1);
    // The step can be left only when Lua code made the access, not a library function.
    let can_leave = !host.is_nil() && call.thread.0.nny.get() == 0;
    // Arguments are read where they lie and results collected in place (see
    // `call::run_fast` on moving lists of values).
    let args = call.args();
    let mut out = interp::ValueList::new();
    let r = Python::attach(|py| -> Inline<'gc> {
        // SAFETY: this runs inside a step of this runtime, on the thread holding its lock;
        // `inline_refs` blocks any other use of `refs` until it returns.
        rt.inline_refs(|refs| {
            let mut conv = Conv { rt: &rt, refs };
            let mut pyargs = PyArgs::new();
            let mut converted = Ok(());
            for &a in args {
                match conv.lua_to_py(py, ctx, a) {
                    Ok(v) => pyargs.push(v),
                    Err(e) => {
                        converted = Err(e);
                        break;
                    }
                }
            }
            if can_leave && converted.is_ok() && !inline_ok(py, &rt, &pyargs) {
                return Inline::ToHost;
            }
            let result = converted.and_then(|()| f(py, &rt, &pyargs));
            match result.and_then(|r| results_for_lua(py, ctx, &mut conv, &r, &mut out)) {
                Ok(()) => Inline::Done,
                Err(e) => {
                    let exc = e.into_value(py).into_any();
                    Inline::Failed(conv.py_userdata(py, ctx, exc, Protocol::Default))
                }
            }
        })
    });
    match r {
        Inline::Done => call.ret(&out),
        Inline::Failed(e) => Err(interp::Error::new(e)),
        Inline::ToHost => {
            // A tail call: the host function takes the same arguments.
            let args = interp::ValueList::from_slice(call.args());
            call.set_nargs(0);
            call.push(host);
            for &a in &args {
                call.push(a);
            }
            Ok(Action::TailCall(args.len()))
        }
    }
}

/// `python.eval`.
pub(crate) const EVAL: PyHostFn = py_eval;

/// The step function of `python.iter` loops.
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
