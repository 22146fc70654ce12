//! `LuaRuntime`: one Lua state, with lupa's methods.

use std::sync::Arc;

use interp::{Lua, StashedValue, Value};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use crate::call::{call_fast, results_to_py};
use crate::convert::{pack_results, Conv};
use crate::errors;
use crate::objects::lua_ref_of;
use crate::pyobject::{self, host_function, host_function_or_inline};
use crate::runtime_core::RuntimeCore;
use crate::shared::{Config, Locked, Shared};
use crate::table_from;

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
local create, getmetafield = ...
return function(t, k) return t[k] end,
       function(t, k, v) t[k] = v end,
       function(v)
         local f = getmetafield(v, '__tostring')
         if f then return true, f(v) end
         return false
       end,
       create";

/// `getmetafield(v, name)`: field `name` of `v`'s metatable, read raw and past any
/// `__metatable` (C's `luaL_getmetafield`), or nil.
fn get_metafield<'gc>(
    call: &mut interp::NativeCall<'gc, '_>,
) -> Result<interp::Action<'gc>, interp::Error<'gc>> {
    let name = call.check_string(1)?;
    let f = call
        .ctx
        .metatable(call.arg(0))
        .map_or(Value::Nil, |mt| mt.get_str(name));
    call.ret1(f)
}

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
    /// What `interrupt()` uses (read by the running call between steps; no lock).
    interrupt: interp::InterruptHandle,
    /// Created with `max_memory` (or `string_hash_seed`): lupa then accounts memory through
    /// its own allocator, and only then reports it and lets the limit change.
    memory_managed: bool,
}

fn source_bytes(rt: &Shared, code: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = code.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    let s = code
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err("Lua code must be str or bytes"))?;
    let b = s.call_method1("encode", (rt.config.source_encoding.as_str(),))?;
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
                        max_call_depth=None, max_coroutines=None, string_hash_seed=None))]
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
        string_hash_seed: Option<u32>,
    ) -> PyResult<Self> {
        let timeout = crate::limits::timeout_of(timeout)?;
        let memory_managed = max_memory.is_some() || string_hash_seed.is_some();
        let libraries = choose_libraries(libraries, sandbox)?;
        // The sandbox preset: no `python.eval`/`python.builtins`, and only public Python
        // attributes unless the host filters them itself.
        let (register_eval, register_builtins) = if sandbox {
            (false, false)
        } else {
            (register_eval, register_builtins)
        };
        let public_only = sandbox && attribute_filter.is_none() && attribute_handlers.is_none();
        let (attribute_filter, handlers) =
            check_attribute_hooks(py, attribute_filter, attribute_handlers)?;
        let source_encoding = source_encoding
            .or_else(|| encoding.clone())
            .unwrap_or_else(|| "UTF-8".to_string());
        let lua = Lua::new();
        lua.enter(|ctx| {
            // Set-up makes little garbage: no collection until it is done.
            ctx.set_gc_running(false);
            // lupa's runtime is `luaL_newstate`'s: warnings go to standard error once `@on`.
            ctx.set_warn_function(Some(stdlib::stderr_warnings()));
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
            source_encoding,
            unpack_returned_tuples,
            attribute_filter,
            attribute_handlers: handlers,
            public_only,
            sandbox,
        };
        let rt = Arc::new(Shared::new(lua, config));
        rt.set_overflow_handler(check_overflow_handler(py, overflow_handler)?);
        let core = RuntimeCore::new(py, rt.clone())?;
        let (base_memory, interrupt) = rt.with(py, |mut l| {
            init(py, &mut l, register_eval, register_builtins)?;
            l.lua.enter(|ctx| ctx.set_gc_running(true));
            let base = l.lua.memory_used();
            if let Some(m) = max_memory.filter(|&m| m > 0) {
                l.lua.set_memory_limit(Some(m.saturating_add(base)));
            }
            let limits = l.lua.limits();
            limits.set_max_fuel(max_instructions);
            limits.set_timeout(timeout);
            limits.set_max_depth(max_call_depth);
            limits.set_max_coroutines(max_coroutines);
            crate::limits::install_signal_poll(
                &limits,
                &l.shared.signals,
                &l.shared.stop_exception,
            );
            if let Some(lua) = l.lua.owned() {
                // Finalizers are Lua code run between steps, maybe long (under the limits):
                // with the GIL released, as a long step runs, even where steps run with it
                // held (a first step, calls into Python).
                lua.set_finalizer_runner(Some(std::rc::Rc::new(|run: &mut dyn FnMut()| {
                    // Once the interpreter is finalized, with the GIL kept (this thread
                    // could not take it back).
                    if crate::shared::interpreter_finalized() {
                        return run();
                    }
                    let job = crate::call::AssertSend(run);
                    Python::attach(|py| {
                        py.detach(move || {
                            let job = job;
                            (job.0)()
                        })
                    })
                })));
            }
            Ok((base, limits.interrupt_handle()))
        })?;
        Ok(LuaRuntime {
            core,
            base_memory,
            interrupt,
            memory_managed,
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
        let kwargs = match kwargs {
            Some(kw) => kw.clone(),
            None => PyDict::new(py),
        };
        let sources = [items.clone().into_any(), kwargs.into_any()];
        table_from::table_from(py, self.rt(), &sources, false)
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
        let sources: Vec<Bound<'_, PyAny>> = sources.iter().collect();
        table_from::table_from(py, self.rt(), &sources, recursive)
    }

    /// Runs a full garbage collection.
    fn gccollect(&self, py: Python<'_>) -> PyResult<()> {
        // The finalizers are Lua code run for Python: under the runtime's limits, as a call
        // (a `__gc` that loops is stopped; the stop is the exception).
        let r = self.rt().with(py, |mut l| {
            let limits = l.lua.limits();
            let Some(lua) = l.lua.owned() else {
                // From inside a step: the collection is asked for, for when it ends.
                l.lua.collect_all();
                return Ok(());
            };
            crate::limits::run_limited(py, l.shared, &limits, || {
                // With the GIL released, as a long call runs (finalizers calling Python
                // take it).
                let job = crate::call::AssertSend(lua);
                py.detach(move || {
                    let job = job;
                    job.0.collect_all();
                    job.0.run_finalizers();
                })
            })
        });
        // The Python objects of the userdata just freed go now, not at the next entry.
        self.rt().release_dropped_pyrefs(py);
        r
    }

    /// Bytes Lua currently uses (with `total=True`, including the runtime's own).
    #[pyo3(signature = (total=false))]
    fn get_memory_used(&self, py: Python<'_>, total: bool) -> PyResult<Option<usize>> {
        if !self.memory_managed {
            return Ok(None);
        }
        let used = self.rt().with(py, |l| Ok(l.lua.memory_used()))?;
        Ok(Some(if total {
            used
        } else {
            used.saturating_sub(self.base_memory)
        }))
    }

    /// The memory limit (0: unlimited; with `total=True`, including the runtime's own use;
    /// `None` for a runtime made without `max_memory`, as in lupa).
    #[pyo3(signature = (total=false))]
    fn get_max_memory(&self, py: Python<'_>, total: bool) -> PyResult<Option<usize>> {
        if !self.memory_managed {
            return Ok(None);
        }
        let limit = self.rt().with(py, |l| Ok(l.lua.memory_limit()))?;
        Ok(Some(match limit {
            None => 0,
            Some(m) if total => m,
            Some(m) => m.saturating_sub(self.base_memory),
        }))
    }

    /// Limits the bytes Lua may use (0 or `None`: unlimited). Without `total`, the runtime's
    /// own memory is not counted. As in lupa, only a runtime made with `max_memory` has a
    /// limit to change (`RuntimeError` otherwise).
    #[pyo3(signature = (max_memory, total=false))]
    fn set_max_memory(&self, py: Python<'_>, max_memory: Option<i64>, total: bool) -> PyResult<()> {
        if !self.memory_managed {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "max_memory must be set on LuaRuntime creation",
            ));
        }
        if max_memory.is_some_and(|m| m < 0) {
            return Err(pyo3::exceptions::PyOverflowError::new_err(
                "can't convert negative value to size_t",
            ));
        }
        let base = if total { 0 } else { self.base_memory };
        let limit = max_memory
            .filter(|&m| m > 0)
            .map(|m| (m as usize).saturating_add(base));
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
        self.interrupt.interrupt();
    }

    /// Sets the handler for Python ints that do not fit in a Lua integer.
    fn set_overflow_handler(&self, py: Python<'_>, handler: Option<Py<PyAny>>) -> PyResult<()> {
        self.rt()
            .set_overflow_handler(check_overflow_handler(py, handler)?);
        Ok(())
    }

    /// `(5, 4)`.
    #[getter]
    fn lua_version(&self) -> (u32, u32) {
        (5, 4)
    }

    /// `"Lua 5.4"`, as lupa gives it (Lua's `_VERSION`; `lupa_rs.__version__` tells this
    /// implementation's own version).
    #[getter]
    fn lua_implementation(&self) -> &'static str {
        "Lua 5.4"
    }

    /// Whether the garbage collector runs (for `nogc`).
    fn _gc_running(&self, py: Python<'_>) -> PyResult<bool> {
        self.rt()
            .with(py, |l| Ok(l.lua.enter(|ctx| ctx.gc_running())))
    }

    /// Stops or restarts the garbage collector (for `nogc`).
    fn _set_gc_running(&self, py: Python<'_>, on: bool) -> PyResult<()> {
        self.rt().with(py, |l| {
            l.lua.enter(|ctx| ctx.set_gc_running(on));
            Ok(())
        })
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
        check_mode(py, &mode).map_err(|e| errors::in_loading(py, e))?;
        self.check_text(py, src)
            .map_err(|e| errors::in_loading(py, e))?;
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
            let template =
                compile_cached(py, &mut l, src, chunk).map_err(|e| errors::in_loading(py, e))?;
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

/// An overflow handler from Python: `None` or a callable.
fn check_overflow_handler(py: Python<'_>, h: Option<Py<PyAny>>) -> PyResult<Option<Py<PyAny>>> {
    match h {
        Some(h) if !h.bind(py).is_callable() => {
            Err(PyValueError::new_err("overflow_handler must be callable"))
        }
        h => Ok(h),
    }
}

/// `attribute_filter` and `attribute_handlers` as lupa checks them: a callable filter; two
/// handlers (from any iterable), each callable or `None`; not both kinds at once.
#[allow(clippy::type_complexity)]
fn check_attribute_hooks(
    py: Python<'_>,
    filter: Option<Py<PyAny>>,
    handlers: Option<Bound<'_, PyAny>>,
) -> PyResult<(Option<Py<PyAny>>, (Option<Py<PyAny>>, Option<Py<PyAny>>))> {
    if let Some(f) = &filter {
        if !f.bind(py).is_callable() {
            return Err(PyValueError::new_err("attribute_filter must be callable"));
        }
    }
    let Some(h) = handlers.filter(|h| h.is_truthy().unwrap_or(true)) else {
        return Ok((filter, (None, None)));
    };
    let bad = || PyValueError::new_err("attribute_handlers must be a sequence of two callables");
    let items: Vec<Bound<'_, PyAny>> = match h.try_iter() {
        Ok(it) => it.collect::<PyResult<_>>().map_err(|_| bad())?,
        Err(_) => return Err(bad()),
    };
    let [getter, setter] = <[Bound<'_, PyAny>; 2]>::try_from(items).map_err(|_| bad())?;
    let hook = |h: Bound<'_, PyAny>| match h.is_none() {
        true => Ok(None),
        false if h.is_callable() => Ok(Some(h.unbind())),
        false => Err(bad()),
    };
    let (getter, setter) = (hook(getter)?, hook(setter)?);
    let filter_set = filter
        .as_ref()
        .is_some_and(|f| f.bind(py).is_truthy().unwrap_or(true));
    if filter_set && (getter.is_some() || setter.is_some()) {
        return Err(PyValueError::new_err(
            "attribute_filter and attribute_handlers are mutually exclusive",
        ));
    }
    Ok((filter, (getter, setter)))
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
    collect_if_over_limit(py, l)?;
    let template = l
        .lua
        .enter(|ctx| match ctx.load(src, key.0.as_bytes(), None) {
            Ok(f) => Ok(ctx.stash(Value::Closure(f))),
            Err(e) => Err(String::from_utf8_lossy(&e.message).into_owned()),
        })
        .map_err(|m| errors::syntax_error(py, m))?;
    check_loaded(py, l)?;
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
    collect_if_over_limit(py, l)?;
    let f = l
        .lua
        .enter(|ctx| match ctx.load(src, chunk.as_bytes(), None) {
            Ok(f) => Ok(ctx.stash(Value::Closure(f))),
            Err(e) => Err(errors::syntax_error(
                py,
                String::from_utf8_lossy(&e.message).into_owned(),
            )),
        })?;
    check_loaded(py, l)?;
    Ok(f)
}

/// A loaded chunk past the memory limit (after a full collection) is C Lua's failed
/// allocation in the parser: `LuaMemoryError` ("not enough memory").
fn check_loaded(py: Python<'_>, l: &mut Locked<'_>) -> PyResult<()> {
    if collect_if_over_limit(py, l)? {
        return Err(errors::memory_error(py, "not enough memory"));
    }
    Ok(())
}

/// [`interp::Lua::collect_if_over_limit`] from Python: the finalizers it runs are Lua code
/// run for Python, under the runtime's limits (a stop is the error).
fn collect_if_over_limit(py: Python<'_>, l: &mut Locked<'_>) -> PyResult<bool> {
    if !l.lua.memory_exceeded() {
        return Ok(false);
    }
    let limits = l.lua.limits();
    let Some(lua) = l.lua.owned() else {
        return Ok(l.lua.collect_if_over_limit());
    };
    crate::limits::run_limited(py, l.shared, &limits, || {
        // With the GIL released, as a long call runs.
        let job = crate::call::AssertSend(lua);
        py.detach(move || {
            let job = job;
            job.0.collect_if_over_limit()
        })
    })
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
    let Some(lua) = l.lua.owned() else {
        return Err(errors::lua_error(
            py,
            "cannot set up a runtime from inside a step",
        ));
    };
    // A host function's name is the one tracebacks give its frame, C Lua's for a C function:
    // the `python` library's functions by their global names (lupa registers the library in
    // `package.loaded`), the others by how their caller named them ("?").
    let inline_hosts: Vec<Option<StashedValue>> = pyobject::INLINE_METAMETHODS
        .iter()
        .map(|(_, _, host)| host.map(|h| host_function(lua, &rt, "?", h)))
        .collect();
    // The inline natives of the functions that run on the host where they can (Python code
    // that may call back into the runtime), for where they cannot (a library function calls
    // them): the `python` table's functions, `python.iter` steps and `__call`.
    let (handle, inline_funcs, inline_step, inline_call) = lua.enter(|ctx| {
        let handle = pyobject::shared_handle(ctx, &rt);
        let funcs: Vec<StashedValue> = pyobject::PYTHON_FUNCTIONS
            .iter()
            .zip(pyobject::INLINE_PYTHON_FUNCTIONS)
            .map(|((_, global, _, _, _), f)| {
                ctx.stash(pyobject::inline_native(ctx, handle, global, f, Value::Nil))
            })
            .collect();
        let native = |f| ctx.stash(pyobject::inline_native(ctx, handle, "?", f, Value::Nil));
        let step = native(pyobject::inline_iter_step);
        let call = native(pyobject::CALL.0);
        (ctx.stash(handle), funcs, step, call)
    });
    let funcs: Vec<StashedValue> = pyobject::PYTHON_FUNCTIONS
        .iter()
        .zip(&inline_funcs)
        .map(
            |((_, global, f, inline_safe, check), inline)| match inline_safe {
                true => inline.clone(),
                false => host_function_or_inline(lua, &rt, global, *f, inline, *check),
            },
        )
        .collect();
    let step = host_function_or_inline(lua, &rt, "?", pyobject::ITER_STEP, &inline_step, None);
    let call = host_function_or_inline(lua, &rt, "?", pyobject::CALL.1, &inline_call, None);
    rt.iter_step.set(refs.insert(step));
    let mt = lua.enter(|ctx| {
        let handle = ctx.fetch(&handle);
        let mt = ctx.new_table();
        for ((name, f, _), host) in pyobject::INLINE_METAMETHODS.iter().zip(&inline_hosts) {
            let host = host.as_ref().map_or(Value::Nil, |h| ctx.fetch(h));
            // Named by how their callers name them in tracebacks (C Lua's C functions).
            let nf = pyobject::inline_native(ctx, handle, "?", *f, host);
            mt.set_str(ctx.mutation(), ctx.intern(name.as_bytes()), nf);
        }
        mt.set_str(
            ctx.mutation(),
            ctx.intern_static(b"__call"),
            ctx.fetch(&call),
        );
        mt.set_str(
            ctx.mutation(),
            ctx.intern_static(b"__name"),
            ctx.str("Python object"),
        );
        mt.set_str(
            ctx.mutation(),
            ctx.intern_static(b"__gc"),
            ctx.native("__gc", pyobject::GC),
        );
        if rt.config.sandbox {
            // Scripts cannot reach (and change) what every Python object does.
            mt.set_str(
                ctx.mutation(),
                ctx.intern_static(b"__metatable"),
                Value::Boolean(false),
            );
        }
        let identity = ctx.new_table();
        let weak_values = ctx.new_table();
        weak_values.set_str(ctx.mutation(), ctx.intern_static(b"__mode"), ctx.str("v"));
        ctx.set_table_metatable(identity, Some(weak_values));
        rt.identity_map
            .set(refs.insert(ctx.stash(Value::Table(identity))));
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
        for ((name, _, _, _, _), f) in pyobject::PYTHON_FUNCTIONS.iter().zip(&funcs) {
            python.set_str(ctx.mutation(), ctx.intern(name.as_bytes()), ctx.fetch(f));
        }
        python.set_str(ctx.mutation(), ctx.intern_static(b"none"), none);
        if register_eval {
            // Python's own `eval`, as lupa gives it (an indexable Python object).
            let eval = conv.py_to_lua(py, ctx, builtins.getattr("eval")?.as_any())?;
            python.set_str(ctx.mutation(), ctx.intern_static(b"eval"), eval);
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
        static HELPERS_PROTO: std::cell::OnceCell<interp::proto::VerifiedProto> =
            const { std::cell::OnceCell::new() };
    }
    let proto = HELPERS_PROTO.with(|p| {
        if let Some(p) = p.get() {
            return Ok(p.clone());
        }
        // It fails only where the thread's stack is nearly used up ("C stack overflow").
        let compiled = interp::compiler::compile(HELPERS.as_bytes(), b"=lupa_rs").map_err(|e| {
            let msg = String::from_utf8_lossy(&e.message);
            errors::lua_error(py, format!("cannot set up the runtime: {msg}"))
        })?;
        Ok::<_, PyErr>(p.get_or_init(|| compiled).clone())
    })?;
    // The helpers get their library functions directly: the runtime may not open them.
    let (helpers, natives) = lua.enter(|ctx| {
        let mut natives: Vec<StashedValue> = ["coroutine.create"]
            .iter()
            .filter_map(|&n| stdlib::host_function(n).map(|f| ctx.stash(ctx.native(n, f))))
            .collect();
        natives.push(ctx.stash(ctx.native("getmetafield", get_metafield)));
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
