//! What the sandbox (`LuaRuntime(sandbox=True)`) never hands to Lua, whatever attribute
//! filter decides the names: Python's introspection objects and the few objects that get
//! past any attribute rule.
//!
//! The attribute rule (public names only, or the host's `attribute_filter`) decides which
//! attributes Lua may read; this check decides which objects Lua may hold at all, and runs
//! on every Python object about to become a Lua value (`Conv::py_to_lua`): results of calls,
//! attributes, items, iteration steps, arguments of calls from Python, globals. So a
//! generator returned by a public method is fine, its `gi_frame` is not, and neither is a
//! `__traceback__`, a `__self__` that is a module or a `__globals__['__builtins__']['eval']`
//! a permissive filter lets through.
//!
//! Refused:
//! - frames, code objects, tracebacks and closure cells (they lead to every global and
//!   builtin of the code that made them: `f_globals`, `f_builtins`, `f_back`, `tb_frame`,
//!   `co_consts`, `cell_contents`);
//! - modules (their attributes are other modules and everything they import);
//! - the builtins that do what the attribute rule forbids or reach past the sandbox: `eval`,
//!   `exec`, `compile`, `getattr`, `setattr`, `delattr`, `__import__`, `__build_class__`,
//!   `open`, `globals`, `locals`, `vars`, `breakpoint`, `input`, `help`, `exit`, `quit`;
//! - `str.format` and `str.format_map`, unbound or bound to a string: a format string
//!   follows attribute and item chains itself (`'{0._token}'.format(svc)`,
//!   `'{0.__init__.__globals__}'`), past any filter.
//!
//! The check costs a few compares of the object's type; it runs in sandboxes only.

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::capi;

/// The refused types and objects, looked up once per process.
struct Refused {
    /// The types whose instances are refused, and what they are called in errors: exact
    /// types (frames, code objects, ...: none can be subclassed), `ModuleType` with its
    /// subclasses; and last, the types of built-in functions and of unbound methods of
    /// built-in types, whose instances are looked at in `objects`.
    types: Vec<(Py<PyType>, String)>,
    /// The addresses of `types`, side by side for the walk.
    type_ptrs: Vec<usize>,
    /// How many of `types` are refused outright (the others: see `objects`).
    refused_outright: usize,
    /// Refused built-in functions and methods (`eval`, `str.format`...) and their names in
    /// errors.
    objects: Vec<(Py<PyAny>, String)>,
}

static REFUSED: PyOnceLock<Refused> = PyOnceLock::new();

/// The builtins refused in a sandbox (those that exist in this Python).
const BUILTINS: &[&str] = &[
    "eval",
    "exec",
    "compile",
    "getattr",
    "setattr",
    "delattr",
    "__import__",
    "__build_class__",
    "open",
    "globals",
    "locals",
    "vars",
    "breakpoint",
    "input",
    "help",
    "exit",
    "quit",
];

/// The methods of `str` refused in a sandbox, unbound and bound.
const STR_METHODS: &[&str] = &["format", "format_map"];

impl Refused {
    fn new(py: Python<'_>) -> PyResult<Refused> {
        let types = py.import("types")?;
        let ty = |name: &str| -> PyResult<Py<PyType>> {
            Ok(types.getattr(name)?.cast_into::<PyType>()?.unbind())
        };
        let mut refused_types = vec![
            (ty("FrameType")?, "a Python frame".to_string()),
            (ty("CodeType")?, "a Python code object".to_string()),
            (ty("TracebackType")?, "a Python traceback".to_string()),
            (ty("CellType")?, "a Python closure cell".to_string()),
            (ty("ModuleType")?, "a Python module".to_string()),
        ];
        let builtins = py.import("builtins")?;
        let mut objects = Vec::new();
        for name in BUILTINS {
            let Ok(o) = builtins.getattr(*name) else {
                continue;
            };
            let what = format!("Python's builtin '{name}'");
            // SAFETY: `o` is a live object and the GIL is held.
            if unsafe { ffi::PyCFunction_Check(o.as_ptr()) } != 0 {
                objects.push((o.unbind(), what));
            } else {
                // `help`, `exit`, `quit`: instances of `site`'s classes, refused by type.
                refused_types.push((o.get_type().unbind(), what));
            }
        }
        let s = py.get_type::<pyo3::types::PyString>();
        for name in STR_METHODS {
            objects.push((s.getattr(*name)?.unbind(), format!("'str.{name}'")));
        }
        let refused_outright = refused_types.len();
        let cfunction = py.get_type::<pyo3::types::PyCFunction>().unbind();
        refused_types.push((cfunction, String::new()));
        refused_types.push((ty("MethodDescriptorType")?, String::new()));
        Ok(Refused {
            type_ptrs: refused_types
                .iter()
                .map(|(t, _)| t.as_ptr() as usize)
                .collect(),
            types: refused_types,
            refused_outright,
            objects,
        })
    }
}

/// An error unless `obj` may be handed to Lua in a sandbox (see the module's description).
pub(crate) fn check_reachable(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<()> {
    let refused = REFUSED.get_or_try_init(py, || Refused::new(py))?;
    // One walk of the object's type and its bases (its MRO but the last, `object`: one or
    // two types for most objects), each compared with the few refused types: no calls.
    let hit = capi::first_in_mro(obj, &refused.type_ptrs)?;
    let Some(i) = hit else {
        return Ok(());
    };
    if i < refused.refused_outright {
        return Err(not_allowed(&refused.types[i].1));
    }
    // A built-in function or an unbound method of a built-in type: most are fine.
    for (o, what) in &refused.objects {
        if obj.is(o) {
            return Err(not_allowed(what));
        }
    }
    // SAFETY: as above.
    if unsafe { ffi::PyCFunction_Check(obj.as_ptr()) } != 0 {
        if let Some(name) = bound_str_method(obj) {
            return Err(not_allowed(&format!("'str.{name}'")));
        }
    }
    Ok(())
}

/// The name of the refused `str` method `obj` is, bound to a string (`'{}'.format`).
fn bound_str_method(obj: &Bound<'_, PyAny>) -> Option<&'static str> {
    let slf = capi::cfunction_self(obj)?;
    if !slf.is_instance_of::<pyo3::types::PyString>() {
        return None;
    }
    let name = obj.getattr("__name__").ok()?;
    let name = name.cast::<pyo3::types::PyString>().ok()?;
    let name = capi::utf8(name).ok()?;
    STR_METHODS.iter().copied().find(|m| *m == name)
}

fn not_allowed(what: &str) -> PyErr {
    PyTypeError::new_err(format!("{what} is not allowed in a sandbox"))
}
