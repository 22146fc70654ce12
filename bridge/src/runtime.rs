//! `LuaRuntime`: one Lua state, with lupa's methods.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use interp::{Context, Lua, StashedValue, Table, Value};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyMapping, PyString, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use crate::call::{call_fast, results_to_py};
use crate::convert::{pack_results, Conv};
use crate::errors;
use crate::objects::lua_ref_of;
use crate::pyobject::{self, host_function};
use crate::runtime_core::RuntimeCore;
use crate::shared::{Config, Locked, Shared};

/// Lua functions the bridge calls (kept from the standard library at start-up, so later
/// changes to the globals cannot break the Python API).
#[derive(Clone, Copy)]
pub(crate) enum Helper {
    Index = 0,
    NewIndex = 1,
    ToString = 2,
    Create = 3,
}

const HELPERS: &str = "\
local tostring, create = ...
return function(t, k) return t[k] end,
       function(t, k, v) t[k] = v end,
       function(v) return tostring(v) end,
       create";

impl Shared {
    /// The slot of a helper function.
    pub(crate) fn helper(&self, h: Helper) -> u32 {
        self.helpers.get()[h as usize]
    }
}

/// A Lua runtime (lupa's `LuaRuntime`).
#[pyclass(name = "LuaRuntime", module = "lupa_rs", subclass, weakref)]
pub struct LuaRuntime {
    /// Owns the runtime's state (shared with the Lua objects it hands out).
    core: Py<RuntimeCore>,
    /// Bytes the runtime itself uses after start-up (excluded unless `total=True`).
    base_memory: usize,
    /// The flag `interrupt()` sets (read by the running call between steps; no lock).
    interrupt: Arc<AtomicBool>,
}

fn source_bytes(rt: &Shared, code: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = code.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    let s = code
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err("Lua code must be str or bytes"))?;
    let enc = rt.config.encoding.as_deref().unwrap_or("UTF-8");
    let b = s.call_method1("encode", (enc,))?;
    Ok(b.cast::<PyBytes>()?.as_bytes().to_vec())
}

#[pymethods]
impl LuaRuntime {
    #[new]
    #[pyo3(signature = (encoding=Some("UTF-8".to_string()), source_encoding=None,
                        attribute_filter=None, attribute_handlers=None, register_eval=true,
                        unpack_returned_tuples=false, register_builtins=true,
                        overflow_handler=None, max_memory=None, libraries=None,
                        sandbox=false, max_instructions=None, timeout=None,
                        max_call_depth=None, max_coroutines=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        encoding: Option<String>,
        source_encoding: Option<String>,
        attribute_filter: Option<Py<PyAny>>,
        attribute_handlers: Option<Bound<'_, PyAny>>,
        register_eval: bool,
        unpack_returned_tuples: bool,
        register_builtins: bool,
        overflow_handler: Option<Py<PyAny>>,
        max_memory: Option<usize>,
        libraries: Option<Vec<String>>,
        sandbox: bool,
        max_instructions: Option<u64>,
        timeout: Option<f64>,
        max_call_depth: Option<u32>,
        max_coroutines: Option<u32>,
    ) -> PyResult<Self> {
        let timeout = crate::limits::timeout_of(timeout)?;
        let _ = source_encoding;
        let libraries = choose_libraries(libraries, sandbox)?;
        // The sandbox preset: no `python.eval`/`python.builtins`, and only public Python
        // attributes unless the host filters them itself.
        let (register_eval, register_builtins) = if sandbox {
            (false, false)
        } else {
            (register_eval, register_builtins)
        };
        let public_only = sandbox && attribute_filter.is_none() && attribute_handlers.is_none();
        let handlers = match attribute_handlers {
            None => (None, None),
            Some(h) => {
                if attribute_filter.is_some() {
                    return Err(PyValueError::new_err(
                        "attribute_filter and attribute_handlers are mutually exclusive",
                    ));
                }
                let (g, s): (Option<Py<PyAny>>, Option<Py<PyAny>>) = h.extract()?;
                (g, s)
            }
        };
        if let Some(f) = &attribute_filter {
            if !f.bind(py).is_callable() {
                return Err(PyValueError::new_err("attribute_filter must be callable"));
            }
        }
        let lua = Lua::new();
        lua.enter(|ctx| {
            // Set-up makes little garbage: no collection until it is done.
            ctx.set_gc_running(false);
            for name in &libraries {
                if sandbox {
                    stdlib::open_library_safe(ctx, name);
                } else {
                    stdlib::open_library(ctx, name);
                }
            }
        });
        let utf8 = encoding
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case("utf-8") || e.eq_ignore_ascii_case("utf8"));
        let config = Config {
            utf8,
            encoding,
            unpack_returned_tuples,
            attribute_filter,
            attribute_handlers: handlers,
            public_only,
            sandbox,
        };
        let rt = Arc::new(Shared::new(lua, config));
        rt.set_overflow_handler(overflow_handler);
        let core = RuntimeCore::new(py, rt.clone())?;
        let (base_memory, interrupt) = rt.with(py, |mut l| {
            init(py, &mut l, register_eval, register_builtins)?;
            l.lua.enter(|ctx| ctx.set_gc_running(true));
            let base = l.lua.memory_used();
            if let Some(m) = max_memory.filter(|&m| m > 0) {
                l.lua.set_memory_limit(Some(m + base));
            }
            let limits = l.lua.limits();
            limits.set_max_fuel(max_instructions);
            limits.set_timeout(timeout);
            limits.set_max_depth(max_call_depth);
            limits.set_max_coroutines(max_coroutines);
            crate::limits::install_signal_poll(limits, &l.shared.signals);
            Ok((base, limits.interrupt_handle()))
        })?;
        Ok(LuaRuntime {
            core,
            base_memory,
            interrupt,
        })
    }

    /// Evaluates a Lua expression and returns its value(s); `env`: a Lua table to use as its
    /// global environment instead of the globals.
    #[pyo3(signature = (code, *args, name=None, mode=None, env=None))]
    fn eval(
        &self,
        py: Python<'_>,
        code: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        name: Option<String>,
        mode: Option<String>,
        env: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let mut src = b"return ".to_vec();
        src.extend(source_bytes(self.rt(), code)?);
        self.run(py, &src, args, name, mode, env)
    }

    /// Runs Lua code and returns what it returns; `env`: a Lua table to use as its global
    /// environment instead of the globals.
    #[pyo3(signature = (code, *args, name=None, mode=None, env=None))]
    fn execute(
        &self,
        py: Python<'_>,
        code: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        name: Option<String>,
        mode: Option<String>,
        env: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let src = source_bytes(self.rt(), code)?;
        self.run(py, &src, args, name, mode, env)
    }

    /// Compiles Lua code into a Lua function.
    #[pyo3(signature = (code, name=None, mode=None))]
    fn compile(
        &self,
        py: Python<'_>,
        code: &Bound<'_, PyAny>,
        name: Option<String>,
        mode: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        let src = source_bytes(self.rt(), code)?;
        self.check_text(py, &src)?;
        self.rt().with(py, |mut l| {
            let f = load(py, &mut l, &src, name, mode)?;
            pack_results(py, results_to_py(py, &mut l, &[f])?)
        })
    }

    /// `require(name)`.
    fn require(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let req = self.globals(py)?.bind(py).get_item("require")?;
        if req.is_none() {
            return Err(errors::lua_error(py, "require is not defined"));
        }
        Ok(req.call1((name,))?.unbind())
    }

    /// The table of globals.
    fn globals(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.rt().with(py, |l| {
            let rt = l.shared;
            let refs = l.refs();
            l.lua.enter(|ctx| {
                let g = Value::Table(ctx.globals());
                Conv { rt, refs }.lua_to_py(py, ctx, g)
            })
        })
    }

    /// A new table with `items` at 1, 2, ... and the keyword arguments as fields.
    #[pyo3(signature = (*items, **kwargs))]
    fn table(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        self.rt().with(py, |l| {
            let rt = l.shared;
            let refs = l.refs();
            l.lua.enter(|ctx| {
                let mut conv = Conv { rt, refs };
                let t = ctx.new_table();
                for (i, v) in items.iter().enumerate() {
                    let v = conv.py_to_lua(py, ctx, &v)?;
                    t.set_int(ctx.mutation(), i as i64 + 1, v);
                }
                if let Some(kw) = kwargs {
                    for (k, v) in kw.iter() {
                        set_field(py, ctx, &mut conv, t, &k, &v)?;
                    }
                }
                conv.lua_to_py(py, ctx, Value::Table(t))
            })
        })
    }

    /// A new table from mappings (their items) and iterables (appended in order).
    /// With `recursive=True`, nested dicts, lists and tuples become tables too.
    #[pyo3(signature = (*sources, recursive=false))]
    fn table_from(
        &self,
        py: Python<'_>,
        sources: &Bound<'_, PyTuple>,
        recursive: bool,
    ) -> PyResult<Py<PyAny>> {
        self.rt().with(py, |l| {
            let rt = l.shared;
            let refs = l.refs();
            l.lua.enter(|ctx| {
                let mut conv = Conv { rt, refs };
                let mut b = TableBuilder {
                    recursive,
                    seen: HashMap::new(),
                };
                let t = ctx.new_table();
                let mut n = 0;
                for src in sources.iter() {
                    b.fill(py, ctx, &mut conv, t, &src, &mut n)?;
                }
                conv.lua_to_py(py, ctx, Value::Table(t))
            })
        })
    }

    /// Runs a full garbage collection.
    fn gccollect(&self, py: Python<'_>) -> PyResult<()> {
        self.rt().with(py, |l| {
            l.lua.collect_all();
            l.lua.run_finalizers();
            Ok(())
        })?;
        // The Python objects of the userdata just freed go now, not at the next entry.
        self.rt().release_dropped_pyrefs(py);
        Ok(())
    }

    /// Bytes Lua currently uses (with `total=True`, including the runtime's own).
    #[pyo3(signature = (total=false))]
    fn get_memory_used(&self, py: Python<'_>, total: bool) -> PyResult<usize> {
        let used = self.rt().with(py, |l| Ok(l.lua.memory_used()))?;
        Ok(if total {
            used
        } else {
            used.saturating_sub(self.base_memory)
        })
    }

    /// The memory limit (0: unlimited; with `total=True`, including the runtime's own use).
    #[pyo3(signature = (total=false))]
    fn get_max_memory(&self, py: Python<'_>, total: bool) -> PyResult<usize> {
        let limit = self.rt().with(py, |l| Ok(l.lua.memory_limit()))?;
        Ok(match limit {
            None => 0,
            Some(m) if total => m,
            Some(m) => m.saturating_sub(self.base_memory),
        })
    }

    /// Limits the bytes Lua may use (0 or less, or `None`: unlimited). Without `total`, the
    /// runtime's own memory is not counted.
    #[pyo3(signature = (max_memory, total=false))]
    fn set_max_memory(&self, py: Python<'_>, max_memory: Option<i64>, total: bool) -> PyResult<()> {
        let base = if total { 0 } else { self.base_memory };
        let limit = max_memory.filter(|&m| m > 0).map(|m| m as usize + base);
        self.rt().with(py, |l| {
            l.lua.set_memory_limit(limit);
            Ok(())
        })
    }

    /// The fuel budget of each call into Lua (`None`: unlimited).
    #[getter]
    fn max_instructions(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        self.rt().with(py, |l| Ok(l.lua.limits().max_fuel()))
    }

    /// Sets the fuel budget of each call into Lua (`None`: unlimited).
    #[setter]
    fn set_max_instructions(&self, py: Python<'_>, v: Option<u64>) -> PyResult<()> {
        self.rt().with(py, |l| {
            l.lua.limits().set_max_fuel(v);
            Ok(())
        })
    }

    /// The wall-clock limit in seconds of each call into Lua (`None`: unlimited).
    #[getter]
    fn timeout(&self, py: Python<'_>) -> PyResult<Option<f64>> {
        self.rt().with(py, |l| {
            Ok(l.lua.limits().timeout().map(|d| d.as_secs_f64()))
        })
    }

    /// Sets the wall-clock limit in seconds of each call into Lua (`None`: unlimited).
    #[setter]
    fn set_timeout(&self, py: Python<'_>, v: Option<f64>) -> PyResult<()> {
        let t = crate::limits::timeout_of(v)?;
        self.rt().with(py, |l| {
            l.lua.limits().set_timeout(t);
            Ok(())
        })
    }

    /// The largest call depth of Lua code (`None`: only the built-in limit of about
    /// 125,000 frames); deeper calls raise "stack overflow", a Lua error.
    #[getter]
    fn max_call_depth(&self, py: Python<'_>) -> PyResult<Option<u32>> {
        self.rt().with(py, |l| Ok(l.lua.limits().max_depth()))
    }

    /// Sets the largest call depth of Lua code (`None`: only the built-in limit).
    #[setter]
    fn set_max_call_depth(&self, py: Python<'_>, v: Option<u32>) -> PyResult<()> {
        self.rt().with(py, |l| {
            l.lua.limits().set_max_depth(v);
            Ok(())
        })
    }

    /// The largest number of live coroutines (`None`: unlimited); creating more raises
    /// "too many coroutines", a Lua error.
    #[getter]
    fn max_coroutines(&self, py: Python<'_>) -> PyResult<Option<u32>> {
        self.rt().with(py, |l| Ok(l.lua.limits().max_coroutines()))
    }

    /// Sets the largest number of live coroutines (`None`: unlimited).
    #[setter]
    fn set_max_coroutines(&self, py: Python<'_>, v: Option<u32>) -> PyResult<()> {
        self.rt().with(py, |l| {
            l.lua.limits().set_max_coroutines(v);
            Ok(())
        })
    }

    /// Fuel (roughly, Lua instructions) used by the last call into Lua from Python.
    #[getter]
    fn instructions_used(&self, py: Python<'_>) -> PyResult<u64> {
        self.rt().with(py, |l| Ok(l.lua.limits().used()))
    }

    /// Stops the running call into Lua (from any thread) with `LuaInterruptedError`.
    fn interrupt(&self) {
        self.interrupt.store(true, Ordering::Relaxed);
    }

    /// Sets the handler for Python ints that do not fit in a Lua integer.
    fn set_overflow_handler(&self, handler: Option<Py<PyAny>>) {
        self.rt().set_overflow_handler(handler);
    }

    /// `(5, 4)`.
    #[getter]
    fn lua_version(&self) -> (u32, u32) {
        (5, 4)
    }

    /// `"Lua 5.4 (lupa_rs)"`.
    #[getter]
    fn lua_implementation(&self) -> &'static str {
        "Lua 5.4 (lupa_rs, pure Rust)"
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.core)
    }
}

impl LuaRuntime {
    /// The shared state.
    #[inline]
    fn rt(&self) -> &Arc<Shared> {
        self.core.get().shared()
    }

    fn run(
        &self,
        py: Python<'_>,
        src: &[u8],
        args: &Bound<'_, PyTuple>,
        name: Option<String>,
        mode: Option<String>,
        env: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        check_mode(py, &mode)?;
        self.check_text(py, src)?;
        let chunk = name.unwrap_or_else(|| "<python>".to_string());
        let args: Vec<Bound<'_, PyAny>> = args.iter().collect();
        let env = match env {
            None => None,
            Some(e) => match lua_ref_of(e) {
                Some((rt, slot)) if std::ptr::eq(rt, &**self.rt()) => Some(slot),
                Some(_) => return Err(errors::lua_error(py, "env belongs to another runtime")),
                None => return Err(PyTypeError::new_err("env must be a Lua table")),
            },
        };
        self.rt().with(py, |mut l| {
            let template = compile_cached(py, &mut l, src, chunk)?;
            let env = env.map(|slot| l.refs().get(slot).clone());
            let out = call_fast(
                py,
                &mut l,
                |ctx, _| match (ctx.fetch(&template), &env) {
                    (Value::Closure(c), None) => Ok(Value::Closure(ctx.reload(c))),
                    (Value::Closure(c), Some(e)) => match ctx.fetch(e) {
                        t @ Value::Table(_) => Ok(Value::Closure(ctx.reload_in(c, t))),
                        _ => Err(PyTypeError::new_err("env must be a Lua table")),
                    },
                    _ => Err(errors::lua_error(py, "invalid cached chunk")),
                },
                &args,
            )?;
            pack_results(py, out)
        })
    }

    /// In the sandbox, code from Python is text too: a binary chunk is refused.
    fn check_text(&self, py: Python<'_>, src: &[u8]) -> PyResult<()> {
        if self.rt().config.sandbox && src.first() == Some(&0x1b) {
            return Err(errors::syntax_error(
                py,
                "attempt to load a binary chunk (mode is 't')".to_string(),
            ));
        }
        Ok(())
    }
}

/// The libraries to open: `libraries` (every one by default; the safe ones in a sandbox).
fn choose_libraries(libraries: Option<Vec<String>>, sandbox: bool) -> PyResult<Vec<String>> {
    let known: &[&str] = if sandbox {
        &stdlib::SAFE_LIBRARIES
    } else {
        &stdlib::LIBRARIES
    };
    let Some(names) = libraries else {
        return Ok(known.iter().map(|s| s.to_string()).collect());
    };
    for n in &names {
        if !known.contains(&n.as_str()) {
            let why = if sandbox && stdlib::LIBRARIES.contains(&n.as_str()) {
                format!("library '{n}' is not available in a sandbox")
            } else {
                format!("unknown library '{n}' (known: {})", known.join(", "))
            };
            return Err(PyValueError::new_err(why));
        }
    }
    Ok(names)
}

/// Compiles a chunk (a template closure), reusing the result for the same name and source.
fn compile_cached(
    py: Python<'_>,
    l: &mut Locked<'_>,
    src: &[u8],
    chunk: String,
) -> PyResult<StashedValue> {
    let cache = l.chunks();
    let key = (chunk, src.to_vec());
    if let Some(p) = cache.get(&key) {
        return Ok(p.clone());
    }
    let template = l
        .lua
        .enter(|ctx| match ctx.load(src, key.0.as_bytes(), None) {
            Ok(f) => Ok(ctx.stash(Value::Closure(f))),
            Err(e) => Err(String::from_utf8_lossy(&e.message).into_owned()),
        })
        .map_err(|m| errors::syntax_error(py, m))?;
    if cache.len() >= 256 {
        cache.clear();
    }
    cache.insert(key, template.clone());
    Ok(template)
}

/// Checks `mode` as Lua's `load` does for a text chunk.
fn check_mode(py: Python<'_>, mode: &Option<String>) -> PyResult<()> {
    match mode {
        Some(m) if !m.contains('t') => Err(errors::syntax_error(
            py,
            format!("attempt to load a text chunk (mode is '{m}')"),
        )),
        _ => Ok(()),
    }
}

/// Compiles a chunk (`mode` as Lua's `load`: text chunks only need 't').
fn load(
    py: Python<'_>,
    l: &mut Locked<'_>,
    src: &[u8],
    name: Option<String>,
    mode: Option<String>,
) -> PyResult<StashedValue> {
    check_mode(py, &mode)?;
    let chunk = name.unwrap_or_else(|| "<python>".to_string());
    l.lua
        .enter(|ctx| match ctx.load(src, chunk.as_bytes(), None) {
            Ok(f) => Ok(ctx.stash(Value::Closure(f))),
            Err(e) => Err(errors::syntax_error(
                py,
                String::from_utf8_lossy(&e.message).into_owned(),
            )),
        })
}

fn set_field<'gc>(
    py: Python<'_>,
    ctx: Context<'gc>,
    conv: &mut Conv<'_>,
    t: Table<'gc>,
    k: &Bound<'_, PyAny>,
    v: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let k = conv.py_to_lua(py, ctx, k)?;
    let v = conv.py_to_lua(py, ctx, v)?;
    t.set(ctx.mutation(), k, v)
        .map_err(|e| errors::lua_error(py, e.message()))
}

/// Fills tables from Python containers (`table_from`).
struct TableBuilder<'gc> {
    recursive: bool,
    /// Containers already converted (by `id`), so shared and cyclic ones stay shared.
    seen: HashMap<usize, Table<'gc>>,
}

impl<'gc> TableBuilder<'gc> {
    fn fill(
        &mut self,
        py: Python<'_>,
        ctx: Context<'gc>,
        conv: &mut Conv<'_>,
        t: Table<'gc>,
        src: &Bound<'_, PyAny>,
        n: &mut i64,
    ) -> PyResult<()> {
        if let Some((_, slot)) = crate::objects::lua_ref_of(src) {
            let v = ctx.fetch(conv.refs.get(slot));
            if let Value::Table(from) = v {
                let mut k = Value::Nil;
                while let Ok(Some((nk, nv))) = from.next(k) {
                    t.set(ctx.mutation(), nk, nv)
                        .map_err(|e| errors::lua_error(py, e.message()))?;
                    k = nk;
                }
                return Ok(());
            }
        }
        if src.cast::<PyMapping>().is_ok() || src.cast::<PyDict>().is_ok() {
            let items = src.call_method0("items")?;
            for kv in items.try_iter()? {
                let kv = kv?;
                let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = kv.extract()?;
                let k = conv.py_to_lua(py, ctx, &k)?;
                let v = self.value(py, ctx, conv, &v)?;
                t.set(ctx.mutation(), k, v)
                    .map_err(|e| errors::lua_error(py, e.message()))?;
            }
            return Ok(());
        }
        for v in src.try_iter()? {
            let v = self.value(py, ctx, conv, &v?)?;
            *n += 1;
            t.set_int(ctx.mutation(), *n, v);
        }
        Ok(())
    }

    fn value(
        &mut self,
        py: Python<'_>,
        ctx: Context<'gc>,
        conv: &mut Conv<'_>,
        v: &Bound<'_, PyAny>,
    ) -> PyResult<Value<'gc>> {
        let container =
            v.cast::<PyDict>().is_ok() || v.cast::<PyList>().is_ok() || v.cast::<PyTuple>().is_ok();
        if !self.recursive || !container {
            return conv.py_to_lua(py, ctx, v);
        }
        let id = v.as_ptr() as usize;
        if let Some(t) = self.seen.get(&id) {
            return Ok(Value::Table(*t));
        }
        let t = ctx.new_table();
        self.seen.insert(id, t);
        let mut n = 0;
        self.fill(py, ctx, conv, t, v, &mut n)?;
        Ok(Value::Table(t))
    }
}

/// Sets up a new runtime: the Python-object metatable, the `python` table and the helpers.
fn init(
    py: Python<'_>,
    l: &mut Locked<'_>,
    register_eval: bool,
    register_builtins: bool,
) -> PyResult<()> {
    let rt = l.shared.clone();
    let refs = l.refs();
    let lua = &mut *l.lua;
    // A host function's name is the one tracebacks give its frame, C Lua's for a C function:
    // the `python` library's functions by their global names (lupa registers the library in
    // `package.loaded`), the others by how their caller named them ("?").
    let mm: Vec<(&str, StashedValue)> = pyobject::METAMETHODS
        .iter()
        .map(|(name, f)| (*name, host_function(lua, &rt, "?", *f)))
        .collect();
    let funcs: Vec<(&str, StashedValue)> = pyobject::PYTHON_FUNCTIONS
        .iter()
        .map(|(name, global, f)| (*name, host_function(lua, &rt, global, *f)))
        .collect();
    let inline_hosts: Vec<Option<StashedValue>> = pyobject::INLINE_METAMETHODS
        .iter()
        .map(|(_, _, host)| host.map(|h| host_function(lua, &rt, "?", h)))
        .collect();
    let eval = host_function(lua, &rt, "python.eval", pyobject::EVAL);
    let step = host_function(lua, &rt, "?", pyobject::ITER_STEP);
    rt.iter_step.set(refs.insert(step));
    let mt = lua.enter(|ctx| {
        let mt = ctx.new_table();
        for (name, f) in &mm {
            mt.set_str(ctx.mutation(), ctx.intern(name.as_bytes()), ctx.fetch(f));
        }
        for ((name, f, _), host) in pyobject::INLINE_METAMETHODS.iter().zip(&inline_hosts) {
            let host = host.as_ref().map_or(Value::Nil, |h| ctx.fetch(h));
            let nf = pyobject::inline_native(ctx, &rt, name, *f, host);
            mt.set_str(ctx.mutation(), ctx.intern(name.as_bytes()), nf);
        }
        mt.set_str(
            ctx.mutation(),
            ctx.intern_static(b"__name"),
            ctx.str("Python object"),
        );
        mt.set_str(
            ctx.mutation(),
            ctx.intern_static(b"__metatable"),
            Value::Boolean(false),
        );
        ctx.stash(Value::Table(mt))
    });
    rt.py_metatable.set(refs.insert(mt));
    let builtins = py.import("builtins")?;
    lua.enter(|ctx| -> PyResult<()> {
        let mut conv = Conv { rt: &rt, refs };
        let none = conv.py_userdata(py, ctx, py.None(), pyobject::Protocol::Default);
        let slot = conv.refs.insert(ctx.stash(none));
        rt.none_value.set(slot);
        let python = ctx.new_table();
        for (name, f) in &funcs {
            python.set_str(ctx.mutation(), ctx.intern(name.as_bytes()), ctx.fetch(f));
        }
        python.set_str(ctx.mutation(), ctx.intern_static(b"none"), none);
        if register_eval {
            python.set_str(ctx.mutation(), ctx.intern_static(b"eval"), ctx.fetch(&eval));
        }
        if register_builtins {
            let b = conv.py_to_lua(py, ctx, builtins.as_any())?;
            python.set_str(ctx.mutation(), ctx.intern_static(b"builtins"), b);
        }
        ctx.set_global("python", Value::Table(python));
        Ok(())
    })?;
    thread_local! {
        // The helpers chunk, compiled once per thread (a `Proto` holds no GC values).
        static HELPERS_PROTO: std::rc::Rc<interp::proto::Proto> = std::rc::Rc::new(
            interp::compiler::compile(HELPERS.as_bytes(), b"=lupa_rs")
                .unwrap_or_else(|e| panic!("{}", String::from_utf8_lossy(&e.message))),
        );
    }
    let proto = HELPERS_PROTO.with(|p| p.clone());
    // The helpers get their library functions directly: the runtime may not open them.
    let (helpers, natives) = lua.enter(|ctx| {
        let natives: Vec<StashedValue> = ["tostring", "coroutine.create"]
            .iter()
            .filter_map(|&n| stdlib::host_function(n).map(|f| ctx.stash(ctx.native(n, f))))
            .collect();
        (
            ctx.stash(Value::Closure(ctx.load_proto(&proto, None))),
            natives,
        )
    });
    let out = lua
        .call(&helpers, &natives)
        .map_err(|_| errors::lua_error(py, "cannot set up the runtime"))?;
    let mut slots = [u32::MAX; 4];
    for (i, v) in out.into_iter().take(4).enumerate() {
        slots[i] = refs.insert(v);
    }
    rt.helpers.set(slots);
    Ok(())
}

/// Registers the class in the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<LuaRuntime>()
}
