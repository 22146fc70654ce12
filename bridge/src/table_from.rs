//! `LuaRuntime.table_from` and `table`: Lua tables from Python containers, as lupa builds
//! them.
//!
//! The containers are read first, with the runtime unlocked (iterating may run any Python
//! code, even code that uses this runtime: a Lua table's `keys()`, a generator), into a plan;
//! the tables are then built from the plan in one visit of the arena.

use std::collections::HashMap;
use std::sync::Arc;

use interp::{Context, Table, Value};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyMapping, PySequence, PyString, PyTuple};

use crate::convert::Conv;
use crate::errors;
use crate::shared::{Locked, Shared};

/// What goes into one table, in order.
enum Part {
    /// The entries of a Lua table (slot of its reference).
    Lua(u32),
    /// Key-value pairs (of a mapping).
    Pairs(Vec<(Py<PyAny>, Node)>),
    /// Values appended at 1, 2, ... (of any other iterable).
    Seq(Vec<Node>),
    /// The values of an exact list or tuple (without `recursive`), appended at 1, 2, ...:
    /// read when building, as reading them runs no Python code.
    Items(Py<PyAny>),
}

/// A value to store.
enum Node {
    /// A value converted as it is.
    Value(Py<PyAny>),
    /// A nested container (with `recursive=True`): the table of that plan index.
    Table(usize),
}

/// The tables to build: index 0 is the result; the others are nested containers.
struct Plan {
    tables: Vec<Vec<Part>>,
    /// Containers already planned (by `id`), so shared and cyclic ones stay shared.
    seen: HashMap<usize, usize>,
    recursive: bool,
    /// Bytes the planned tables may still take under the runtime's memory limit (`None`:
    /// no limit): an endless or huge iterable stops with `LuaMemoryError` while it is read,
    /// not after it has filled Python's memory.
    budget: Option<usize>,
    /// Nested containers found but not read yet, with their table: read in a loop, not by
    /// recursion (nesting may be as deep as Python allows).
    pending: Vec<(usize, Py<PyAny>)>,
}

/// The least a value takes in a table: an array slot (a key-value pair takes a node).
const SLOT_BYTES: usize = 16;
const NODE_BYTES: usize = 24;
const TABLE_BYTES: usize = 72;

/// A new table from `sources` (mappings give their items, Lua tables their entries, other
/// iterables their values appended in order); with `recursive`, nested lists, tuples,
/// sequences and mappings become tables too (each container once, cycles kept).
pub(crate) fn table_from(
    py: Python<'_>,
    rt: &Arc<Shared>,
    sources: &[Bound<'_, PyAny>],
    recursive: bool,
) -> PyResult<Py<PyAny>> {
    let budget = rt.with(py, |l| {
        Ok(l.lua
            .memory_limit()
            .map(|m| m.saturating_sub(l.lua.memory_used())))
    })?;
    let mut plan = Plan {
        tables: vec![Vec::new()],
        seen: HashMap::new(),
        recursive,
        budget,
        pending: Vec::new(),
    };
    for src in sources {
        if recursive {
            plan.seen.insert(src.as_ptr() as usize, 0);
        }
        let part = plan.part(py, src)?;
        plan.tables[0].push(part);
    }
    while let Some((i, v)) = plan.pending.pop() {
        let part = plan.part(py, v.bind(py))?;
        plan.tables[i].push(part);
    }
    rt.with(py, |mut l| build(py, &mut l, &plan))
}

impl Plan {
    /// Takes `bytes` from the budget.
    fn charge(&mut self, py: Python<'_>, bytes: usize) -> PyResult<()> {
        match &mut self.budget {
            Some(b) if *b < bytes => Err(errors::memory_error(py, "not enough memory")),
            Some(b) => {
                *b -= bytes;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Reads one container.
    fn part(&mut self, py: Python<'_>, src: &Bound<'_, PyAny>) -> PyResult<Part> {
        if src.is_instance_of::<crate::objects::LuaTable>() {
            if let Some((_, slot)) = crate::objects::lua_ref_of(src) {
                return Ok(Part::Lua(slot));
            }
        }
        if !self.recursive
            && (src.is_exact_instance_of::<PyList>() || src.is_exact_instance_of::<PyTuple>())
        {
            return Ok(Part::Items(src.clone().unbind()));
        }
        if let Ok(d) = src.cast::<PyDict>() {
            let mut pairs = Vec::with_capacity(d.len());
            for (k, v) in d.iter() {
                self.charge(py, NODE_BYTES)?;
                pairs.push((k.unbind(), self.node(py, &v)?));
            }
            return Ok(Part::Pairs(pairs));
        }
        if src.cast::<PyMapping>().is_ok() {
            let mut pairs = Vec::new();
            for k in src.try_iter()? {
                let k = k?;
                let v = src.get_item(&k)?;
                self.charge(py, NODE_BYTES)?;
                pairs.push((k.unbind(), self.node(py, &v)?));
            }
            return Ok(Part::Pairs(pairs));
        }
        // A length is a hint only: the budget bounds what is reserved.
        let hint = src.len().unwrap_or(0);
        let hint = self.budget.map_or(hint, |b| hint.min(b / SLOT_BYTES));
        let mut values = Vec::with_capacity(hint);
        for v in src.try_iter()? {
            self.charge(py, SLOT_BYTES)?;
            values.push(self.node(py, &v?)?);
        }
        Ok(Part::Seq(values))
    }

    /// Reads one value: a nested container is planned as a table of its own.
    fn node(&mut self, py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Node> {
        if !self.recursive || !is_container(v) {
            return Ok(Node::Value(v.clone().unbind()));
        }
        let id = v.as_ptr() as usize;
        if let Some(&i) = self.seen.get(&id) {
            return Ok(Node::Table(i));
        }
        self.charge(py, TABLE_BYTES)?;
        let i = self.tables.len();
        self.tables.push(Vec::new());
        self.seen.insert(id, i);
        self.pending.push((i, v.clone().unbind()));
        Ok(Node::Table(i))
    }
}

/// What `recursive=True` turns into a table: lists, dicts, sequences and mappings (not
/// strings, Lua objects or wrapped objects).
fn is_container(v: &Bound<'_, PyAny>) -> bool {
    if v.cast::<PyList>().is_ok() || v.cast::<PyDict>().is_ok() || v.cast::<PyTuple>().is_ok() {
        return true;
    }
    if v.is_instance_of::<PyString>()
        || v.is_instance_of::<PyBytes>()
        || v.is_instance_of::<PyByteArray>()
        || crate::objects::lua_ref_of(v).is_some()
        || v.is_instance_of::<crate::pyobject::ProtocolWrapper>()
    {
        return false;
    }
    v.cast::<PySequence>().is_ok() || v.cast::<PyMapping>().is_ok()
}

/// Builds the planned tables (in one visit of the arena) and returns the first.
fn build(py: Python<'_>, l: &mut Locked<'_>, plan: &Plan) -> PyResult<Py<PyAny>> {
    let rt = l.shared;
    let refs = l.refs();
    l.lua.enter(|ctx| {
        let mut conv = Conv { rt, refs };
        let tables: Vec<Table<'_>> = plan.tables.iter().map(|_| ctx.new_table()).collect();
        for (t, parts) in tables.iter().zip(&plan.tables) {
            let mut n = 0;
            for part in parts {
                fill(py, ctx, &mut conv, &tables, *t, part, &mut n)?;
            }
        }
        // The tables are garbage if they went past the limit (the next call collects them).
        if ctx.reserve(0).is_err() {
            return Err(errors::memory_error(py, "not enough memory"));
        }
        conv.lua_to_py(py, ctx, Value::Table(tables[0]))
    })
}

/// Stores one part into `t` (`n`: the last index appended).
fn fill<'gc>(
    py: Python<'_>,
    ctx: Context<'gc>,
    conv: &mut Conv<'_>,
    tables: &[Table<'gc>],
    t: Table<'gc>,
    part: &Part,
    n: &mut i64,
) -> PyResult<()> {
    let value = |conv: &mut Conv<'_>, node: &Node| match node {
        Node::Value(v) => conv.py_to_lua(py, ctx, v.bind(py)),
        Node::Table(i) => Ok(Value::Table(tables[*i])),
    };
    let set = |k: Value<'gc>, v: Value<'gc>| {
        t.set(ctx.mutation(), k, v)
            .map_err(|e| errors::lua_error(py, e.message()))
    };
    match part {
        Part::Lua(slot) => {
            if let Value::Table(from) = ctx.fetch(conv.refs.get(*slot)) {
                let mut k = Value::Nil;
                while let Ok(Some((nk, nv))) = from.next(k) {
                    set(nk, nv)?;
                    k = nk;
                }
            }
        }
        Part::Pairs(pairs) => {
            for (k, v) in pairs {
                let k = conv.key_to_lua(py, ctx, k.bind(py))?;
                let v = value(conv, v)?;
                set(k, v)?;
            }
        }
        Part::Items(seq) => {
            let seq = seq.bind(py);
            let mut append = |v: Bound<'_, PyAny>| -> PyResult<()> {
                let v = conv.py_to_lua(py, ctx, &v)?;
                *n += 1;
                t.set_int(ctx.mutation(), *n, v);
                if *n % 4096 == 0 && ctx.reserve(0).is_err() {
                    return Err(errors::memory_error(py, "not enough memory"));
                }
                Ok(())
            };
            if let Ok(list) = seq.cast::<PyList>() {
                // The length is checked each time: an overflow handler converting an item
                // may change the list.
                let mut i = 0;
                while let Ok(v) = list.get_item(i) {
                    append(v)?;
                    i += 1;
                }
            } else if let Ok(tuple) = seq.cast::<PyTuple>() {
                for v in tuple.iter() {
                    append(v)?;
                }
            }
        }
        Part::Seq(values) => {
            for v in values {
                let v = value(conv, v)?;
                *n += 1;
                t.set_int(ctx.mutation(), *n, v);
            }
        }
    }
    Ok(())
}
