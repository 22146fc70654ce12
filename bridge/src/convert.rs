//! Conversions between Lua values and Python objects.
//!
//! Numbers, booleans, nil/None and strings are converted; Lua tables, functions, coroutines and
//! userdata are wrapped (`objects`); Python objects are wrapped in Lua as userdata (`pyobject`).

use std::sync::Arc;

use interp::{Context, UserData, Value};
use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyFloat, PyInt, PyString, PyTuple};

use crate::errors;
use crate::objects::{self, LuaRef};
use crate::pyobject::{Protocol, ProtocolWrapper, PyBox};
use crate::shared::{Refs, Shared};

/// Everything a conversion needs besides the value.
pub(crate) struct Conv<'a> {
    /// The runtime the values belong to.
    pub rt: &'a Arc<Shared>,
    /// Its referenced values.
    pub refs: &'a mut Refs,
}

impl Conv<'_> {
    /// A Lua value as a Python object.
    pub fn lua_to_py<'gc>(
        &mut self,
        py: Python<'_>,
        ctx: Context<'gc>,
        v: Value<'gc>,
    ) -> PyResult<Py<PyAny>> {
        Ok(match v {
            Value::Nil => py.None(),
            Value::Boolean(b) => PyBool::new(py, b).to_owned().into_any().unbind(),
            Value::Integer(i) => i.into_pyobject(py)?.into_any().unbind(),
            Value::Number(f) => PyFloat::new(py, f).into_any().unbind(),
            Value::String(s) => {
                let cached = (self.rt.config.utf8)
                    .then(|| self.rt.strings.get(py, s.hash(), s.as_bytes()))
                    .flatten();
                match cached {
                    Some(v) => v,
                    None => self.string_to_py(py, s.as_bytes())?,
                }
            }
            Value::UserData(u) => match py_object_of(py, self.rt, u) {
                Some((Some(obj), Protocol::Default)) => obj,
                Some((Some(obj), protocol)) => {
                    Py::new(py, ProtocolWrapper { obj, protocol })?.into_any()
                }
                Some((None, _)) => {
                    return Err(pyo3::exceptions::PyReferenceError::new_err(
                        "deleted python object",
                    ))
                }
                None => self.wrap(py, ctx, v, objects::Kind::UserData)?,
            },
            Value::LightUserData(_) => self.wrap(py, ctx, v, objects::Kind::UserData)?,
            Value::Table(_) => self.wrap(py, ctx, v, objects::Kind::Table)?,
            Value::Native(f) => match crate::pyobject::bound_call_target(f) {
                // `python.as_function(obj)` comes back as `obj` (as in lupa).
                Some(obj) => self.lua_to_py(py, ctx, obj)?,
                None => self.wrap(py, ctx, v, objects::Kind::Function)?,
            },
            Value::Closure(_) => self.wrap(py, ctx, v, objects::Kind::Function)?,
            Value::Thread(_) => self.wrap(py, ctx, v, objects::Kind::Thread)?,
        })
    }

    /// Decodes a Lua string with the runtime's encoding (bytes without one).
    pub fn string_to_py(&self, py: Python<'_>, bytes: &[u8]) -> PyResult<Py<PyAny>> {
        match &self.rt.config.encoding {
            None => Ok(PyBytes::new(py, bytes).into_any().unbind()),
            Some(enc) if self.rt.config.utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => Ok(PyString::new(py, s).into_any().unbind()),
                Err(_) => Ok(PyBytes::new(py, bytes)
                    .call_method1("decode", (enc.as_str(),))?
                    .unbind()),
            },
            Some(enc) => Ok(PyBytes::new(py, bytes)
                .call_method1("decode", (enc.as_str(),))?
                .unbind()),
        }
    }

    fn wrap<'gc>(
        &mut self,
        py: Python<'_>,
        ctx: Context<'gc>,
        v: Value<'gc>,
        kind: objects::Kind,
    ) -> PyResult<Py<PyAny>> {
        let core = self.rt.core(py)?;
        let slot = self.refs.insert(ctx.stash(v));
        objects::new_object(py, LuaRef { core, slot }, kind)
    }

    /// A Python object as a Lua value.
    pub fn py_to_lua<'gc>(
        &mut self,
        py: Python<'_>,
        ctx: Context<'gc>,
        obj: &Bound<'_, PyAny>,
    ) -> PyResult<Value<'gc>> {
        if obj.is_none() {
            return Ok(Value::Nil);
        }
        if let Ok(b) = obj.cast::<PyBool>() {
            return Ok(Value::Boolean(b.is_true()));
        }
        if obj.is_instance_of::<PyInt>() {
            return match obj.extract::<i64>() {
                Ok(i) => Ok(Value::Integer(i)),
                Err(_) => self.overflow(py, ctx, obj),
            };
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            return Ok(Value::Number(f.value()));
        }
        if let Ok(s) = obj.cast::<PyString>() {
            // Without an encoding, lupa passes a `str` as the Python object it is.
            if self.rt.config.encoding.is_some() {
                return Ok(Value::String(ctx.intern(&self.encode(py, s)?)));
            }
        }
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Value::String(ctx.intern(b.as_bytes())));
        }
        if let Ok(b) = obj.cast::<PyByteArray>() {
            return Ok(Value::String(ctx.intern(&b.to_vec())));
        }
        if let Some((rt, slot)) = objects::lua_ref_of(obj) {
            if !std::ptr::eq(rt, &**self.rt) {
                return Err(errors::lua_error(
                    py,
                    "cannot mix objects from different Lua runtimes",
                ));
            }
            return Ok(ctx.fetch(self.refs.get(slot)));
        }
        if let Ok(w) = obj.cast::<ProtocolWrapper>() {
            let w = w.borrow();
            return self.userdata(py, ctx, w.obj.clone_ref(py), w.protocol, true);
        }
        self.userdata(py, ctx, obj.clone().unbind(), Protocol::Default, true)
    }

    /// A Python value as a table key, as lupa converts keys: `None` is `python.none`.
    pub fn key_to_lua<'gc>(
        &mut self,
        py: Python<'_>,
        ctx: Context<'gc>,
        k: &Bound<'_, PyAny>,
    ) -> PyResult<Value<'gc>> {
        if k.is_none() {
            return Ok(ctx.fetch(self.refs.get(self.rt.none_value.get())));
        }
        self.py_to_lua(py, ctx, k)
    }

    /// The userdata wrapping a Python object (with the runtime's metatable for them): the
    /// same one each time while Lua holds it (found in the identity map), else a new one.
    pub fn py_userdata<'gc>(
        &mut self,
        py: Python<'_>,
        ctx: Context<'gc>,
        obj: Py<PyAny>,
        protocol: Protocol,
    ) -> Value<'gc> {
        match self.userdata(py, ctx, obj, protocol, false) {
            Ok(v) => v,
            Err(_) => unreachable!("only the sandbox's check fails"),
        }
    }

    /// [`Conv::py_userdata`]; with `check`, in a sandbox, an object Lua may not hold is
    /// refused (`sandbox::check_reachable`) before its userdata is made: every userdata of
    /// an object passed the check when it was made (the others wrap exceptions, `None` and
    /// ints for the overflow handler), so one found in the identity map needs no check.
    fn userdata<'gc>(
        &mut self,
        py: Python<'_>,
        ctx: Context<'gc>,
        obj: Py<PyAny>,
        protocol: Protocol,
        check: bool,
    ) -> PyResult<Value<'gc>> {
        // Objects are aligned to at least 8 bytes: the protocol fits in the low bits.
        let key = Value::LightUserData(obj.as_ptr() as usize | protocol as usize);
        let map = match ctx.fetch(self.refs.get(self.rt.identity_map.get())) {
            Value::Table(t) => Some(t),
            _ => None,
        };
        if let Some(Value::UserData(u)) = map.map(|m| m.get(key)) {
            if self.wraps(py, u, obj.as_ptr()) {
                return Ok(Value::UserData(u));
            }
        }
        if check && self.rt.config.sandbox {
            // Whatever Lua holds passes here: introspection objects never do.
            crate::sandbox::check_reachable(py, obj.bind(py))?;
        }
        let slot = self.rt.pyrefs(py, |p| p.insert(obj));
        let queue = self.rt.dropped_queue() as *const _;
        let data = PyBox {
            slot,
            protocol,
            queue,
            released: std::cell::Cell::new(false),
        };
        let u = UserData::new(ctx.mutation(), Box::new(data));
        let mt = ctx.fetch(self.refs.get(self.rt.py_metatable.get()));
        if let Value::Table(mt) = mt {
            ctx.set_userdata_metatable(u, Some(mt));
        }
        if let Some(m) = map {
            // A light userdata key is never nil or NaN: the store cannot fail.
            let _ = m.set(ctx.mutation(), key, Value::UserData(u));
        }
        Ok(Value::UserData(u))
    }

    /// Whether `u` (from the identity map) still wraps the object at `ptr`: an object
    /// emptied from its slot (the runtime cleared by Python's collector) may have died and
    /// another one taken its address.
    fn wraps(&self, py: Python<'_>, u: UserData<'_>, ptr: *mut pyo3::ffi::PyObject) -> bool {
        let Ok(data) = u.data().try_borrow() else {
            return false;
        };
        match data.downcast_ref::<PyBox>() {
            Some(b) if !b.released.get() => self.rt.pyrefs(py, |p| p.holds(b.slot, ptr)),
            _ => false,
        }
    }

    fn encode(&self, py: Python<'_>, s: &Bound<'_, PyString>) -> PyResult<Vec<u8>> {
        match &self.rt.config.encoding {
            Some(enc)
                if !(enc.eq_ignore_ascii_case("utf-8") || enc.eq_ignore_ascii_case("utf8")) =>
            {
                let b = s.call_method1("encode", (enc.as_str(),))?;
                Ok(b.cast::<PyBytes>()?.as_bytes().to_vec())
            }
            _ => {
                let _ = py;
                Ok(crate::capi::utf8(s)?.as_bytes().to_vec())
            }
        }
    }

    fn overflow<'gc>(
        &mut self,
        py: Python<'_>,
        ctx: Context<'gc>,
        obj: &Bound<'_, PyAny>,
    ) -> PyResult<Value<'gc>> {
        let handler = self.rt.overflow_handler(py);
        if let Some((rt, slot)) = handler
            .as_ref()
            .and_then(|h| objects::lua_ref_of(h.bind(py)))
        {
            // A Lua function (`python.set_overflow_handler(f)` in Lua) runs nested, here,
            // with the wrapped int; its result is the value. If it fails, the int overflows.
            if std::ptr::eq(rt, &**self.rt) {
                let f = ctx.fetch(self.refs.get(slot));
                let o = self.py_userdata(py, ctx, obj.clone().unbind(), Protocol::Default);
                return self.call_lua_handler(py, ctx, f, o);
            }
        }
        match handler {
            Some(h) => {
                let r = h.bind(py).call1((obj,))?;
                if r.is_instance_of::<PyInt>() && r.extract::<i64>().is_err() {
                    return Err(PyOverflowError::new_err(
                        "overflow_handler returned an int that does not fit in a Lua integer",
                    ));
                }
                self.py_to_lua(py, ctx, &r)
            }
            None => Err(PyOverflowError::new_err(
                "int too large to convert to a Lua integer",
            )),
        }
    }

    /// Runs the Lua overflow handler `f` on the wrapped int `o`: Lua code run for the host,
    /// so under the runtime's limits (a call of its own when none is running). Inside a step
    /// (the conversion of an inline native) it runs nested through the native's call, on
    /// the running thread. A stop is the stop's exception, and none is left for the next
    /// call; another error makes the int overflow.
    fn call_lua_handler<'gc>(
        &mut self,
        py: Python<'_>,
        ctx: Context<'gc>,
        f: Value<'gc>,
        o: Value<'gc>,
    ) -> PyResult<Value<'gc>> {
        let limits = ctx.limits().clone();
        let call = self.rt.conv_call();
        let run = crate::call::AssertSend((ctx, call, f, o));
        let r = crate::limits::run_limited(py, self.rt, &limits, || {
            // With the GIL released, as a long call runs (Python code it calls takes it).
            py.detach(move || {
                let run = run;
                let (ctx, call, f, o) = run.0;
                let r = if call.is_null() {
                    ctx.call(f, &[o])
                } else {
                    // SAFETY: `conv_call` is the inline native running this conversion (set
                    // by `converting_in` for its duration, nothing else using it
                    // meanwhile); its brand is this arena's, whose `ctx` we were given.
                    let call = unsafe { &mut *call.cast::<interp::NativeCall<'gc, '_>>() };
                    call.call(f, &[o])
                };
                crate::call::AssertSend(r)
            })
            .0
        });
        match r {
            Ok(Ok(v)) => Ok(v.first().copied().unwrap_or(Value::Nil)),
            Ok(Err(e)) if e.kind == interp::ErrorKind::Interrupt => {
                Err(crate::limits::stopped_error(py, self.rt, limits.stopped()))
            }
            Ok(Err(_)) => Err(PyOverflowError::new_err(
                "int too large to convert to a Lua integer",
            )),
            Err(stop) => Err(stop),
        }
    }

    /// Converts Python call results for Lua: a tuple explodes when the runtime says so.
    pub fn results_to_lua<'gc>(
        &mut self,
        py: Python<'_>,
        ctx: Context<'gc>,
        r: &Bound<'_, PyAny>,
        out: &mut interp::ValueList<'gc>,
    ) -> PyResult<()> {
        if self.rt.config.unpack_returned_tuples {
            if let Ok(t) = r.cast::<PyTuple>() {
                for x in t.iter() {
                    out.push(self.py_to_lua(py, ctx, &x)?);
                }
                return Ok(());
            }
        }
        if !r.is_none() {
            out.push(self.py_to_lua(py, ctx, r)?);
        }
        Ok(())
    }
}

/// The Python object inside a userdata made by `py_userdata` of runtime `rt`, if it is one
/// (`Some((None, _))` once the object is deleted: released by `__gc`, or let go of by the
/// runtime core's `__clear__`).
#[inline]
pub(crate) fn py_object_of(
    py: Python<'_>,
    rt: &Shared,
    u: UserData<'_>,
) -> Option<(Option<Py<PyAny>>, Protocol)> {
    let data = u.data().try_borrow().ok()?;
    let b = data.downcast_ref::<PyBox>()?;
    if !std::ptr::eq(b.queue, rt.dropped_queue()) {
        return None;
    }
    if b.released.get() {
        return Some((None, b.protocol));
    }
    Some((rt.pyrefs(py, |p| p.get(py, b.slot)), b.protocol))
}

/// Python values of Lua results (most calls have few: no heap allocation for them).
pub(crate) type PyValues = smallvec::SmallVec<[Py<PyAny>; 4]>;

/// One result as itself, none as `None`, several as a tuple.
pub(crate) fn pack_results(py: Python<'_>, mut vals: PyValues) -> PyResult<Py<PyAny>> {
    match vals.len() {
        0 => Ok(py.None()),
        1 => Ok(vals.pop().unwrap_or_else(|| py.None())),
        _ => Ok(PyTuple::new(py, vals)?.into_any().unbind()),
    }
}
