//! The slow paths of the instruction loop: metamethod fallbacks, closures, `for` setup,
//! concatenation.

use gc_arena::{lock::Lock, Gc};

use crate::closure::{Closure, Upvalue, UpvalueState};
use crate::number::{self, Number};
use crate::runtime::Context;
use crate::thread::{MetaExit, Resumption, ReturnTo, Thread, ThreadState};
use crate::value::{Table, Value};

use super::arith::{arith, arith_numbers, ArithError};
use super::call::{error_msg, precall, Flow, Inner};
use super::debug;
use super::meta::{tm_of, tm_of_table, Metamethod};
use super::Error;

/// Which value was indexed, for error messages.
#[derive(Clone, Copy)]
pub(crate) enum IndexedBy {
    /// Register `.0` of the current frame.
    Register(u32),
    /// Upvalue `.0` of the current closure.
    Upvalue(u32),
}

/// Follows `__index` tables (the class pattern) for a string key without leaving the
/// instruction; `None` when a function metamethod or a non-table is involved.
#[inline]
pub(super) fn index_via_tables<'gc>(
    ctx: Context<'gc>,
    mt: Table<'gc>,
    s: crate::value::LuaString<'gc>,
) -> Option<Value<'gc>> {
    let mut mt = mt;
    for _ in 0..8 {
        let Value::Table(next) = tm_of_table(ctx, mt, Metamethod::Index) else {
            return None;
        };
        let (v, nmt) = next.get_str_and_metatable(s);
        if !v.is_nil() {
            return Some(v);
        }
        match nmt {
            None => return Some(Value::Nil),
            Some(m) => mt = m,
        }
    }
    None
}

#[inline]
pub(super) fn num_of(v: Value<'_>) -> Option<Number> {
    match v {
        Value::Integer(i) => Some(Number::Int(i)),
        Value::Number(f) => Some(Number::Float(f)),
        _ => None,
    }
}

#[inline]
pub(super) fn int_of(v: Value<'_>) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(i),
        Value::Number(f) => number::float_to_int_exact(f),
        _ => None,
    }
}

#[inline]
pub(super) fn fast_set_str<'gc>(
    ctx: Context<'gc>,
    tab: Table<'gc>,
    s: crate::value::LuaString<'gc>,
    v: Value<'gc>,
) -> bool {
    tab.set_str_if_plain(ctx.mutation(), s, v)
}

#[inline]
pub(super) fn fast_set_int<'gc>(ctx: Context<'gc>, tab: Table<'gc>, n: i64, v: Value<'gc>) -> bool {
    tab.set_int_if_plain(ctx.mutation(), n, v)
}

pub(super) fn upvalue_set<'gc>(
    ctx: Context<'gc>,
    uv: Upvalue<'gc>,
    cur: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    v: Value<'gc>,
) {
    let state = uv.get();
    match state {
        UpvalueState::Open { thread, index } => {
            if thread.ptr_eq(cur) {
                // A slot past the top (see `upvalue_get`) is not written.
                if let Some(slot) = st.stack.get_mut(index) {
                    *slot = v;
                }
            } else {
                thread.set_stack_slot(ctx.mutation(), index, v);
            }
        }
        UpvalueState::Closed(_) => uv.set(ctx.mutation(), UpvalueState::Closed(v)),
    }
}

pub(super) fn find_upvalue<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    idx: usize,
) -> Upvalue<'gc> {
    match st.open_upvalues.binary_search_by_key(&idx, |e| e.0) {
        Ok(p) => st.open_upvalues[p].1,
        Err(p) => {
            let uv = Gc::new(
                ctx.mutation(),
                Lock::new(UpvalueState::Open { thread, index: idx }),
            );
            st.open_upvalues.insert(p, (idx, uv));
            uv
        }
    }
}

pub(super) fn make_closure<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    parent: Closure<'gc>,
    p: Gc<'gc, crate::closure::FunctionProto<'gc>>,
    base: usize,
) -> Closure<'gc> {
    let parent_uvs = &parent.0.upvalues;
    let uvs: Box<[Lock<Upvalue<'gc>>]> = p
        .raw
        .upvalues
        .iter()
        .map(|d| {
            Lock::new(if d.in_stack {
                find_upvalue(ctx, thread, st, base + d.index as usize)
            } else {
                parent_uvs[d.index as usize].get()
            })
        })
        .collect();
    Closure::from_cells(ctx.mutation(), p, uvs)
}

/// Numeric `for` preparation: returns (init, limit-or-count, step) or None to skip the loop.
pub(super) fn for_prep<'gc>(
    ctx: Context<'gc>,
    init: Value<'gc>,
    limit: Value<'gc>,
    step: Value<'gc>,
) -> Result<Option<(Value<'gc>, Value<'gc>, Value<'gc>)>, String> {
    // Like C Lua's `forprep`: an integer loop needs an integer initial value and step (not
    // numeric strings); the limit, and every value of a float loop, converts from strings.
    if let (Value::Integer(i0), Value::Integer(st)) = (init, step) {
        if st == 0 {
            return Err("'for' step is zero".to_string());
        }
        let lim = match for_number(limit) {
            Some(number::Number::Int(l)) => l,
            Some(number::Number::Float(f)) => match number::for_limit_from_float(f, st) {
                Some(l) => l,
                None => return Ok(None),
            },
            None => return Err(for_error(ctx, "limit", limit)),
        };
        if if st > 0 { i0 > lim } else { i0 < lim } {
            return Ok(None);
        }
        let count = if st > 0 {
            (lim as u64).wrapping_sub(i0 as u64) / st as u64
        } else {
            (i0 as u64).wrapping_sub(lim as u64) / ((-(st + 1)) as u64 + 1)
        };
        return Ok(Some((init, Value::Integer(count as i64), step)));
    }
    let as_float = |v| for_number(v).map(|n| n.to_float());
    let l = as_float(limit).ok_or_else(|| for_error(ctx, "limit", limit))?;
    let s = as_float(step).ok_or_else(|| for_error(ctx, "step", step))?;
    let i0 = as_float(init).ok_or_else(|| for_error(ctx, "initial value", init))?;
    if s == 0.0 {
        return Err("'for' step is zero".to_string());
    }
    if if s > 0.0 { l < i0 } else { i0 < l } {
        return Ok(None);
    }
    Ok(Some((
        Value::Number(i0),
        Value::Number(l),
        Value::Number(s),
    )))
}

/// C Lua's `luaG_forerror`.
fn for_error<'gc>(ctx: Context<'gc>, what: &str, v: Value<'gc>) -> String {
    let t = super::debug::type_name_for_msg(ctx, v);
    format!("bad 'for' {what} (number expected, got {t})")
}

/// A `for` control value as a number, converting numeric strings.
fn for_number(v: Value<'_>) -> Option<number::Number> {
    match v {
        Value::Integer(i) => Some(number::Number::Int(i)),
        Value::Number(f) => Some(number::Number::Float(f)),
        Value::String(s) => number::str_to_number(s.as_bytes()),
        _ => None,
    }
}

/// The function a call of `v` reaches by following `__call` metamethods (`v` itself for a
/// function; `None` if the chain ends before a function). Within a bound: a longer or cyclic
/// chain gives nil, and is left to `precall`, which reports it.
pub(super) fn call_target<'gc>(ctx: Context<'gc>, mut v: Value<'gc>) -> Option<Value<'gc>> {
    for _ in 0..64 {
        if v.is_function() {
            return Some(v);
        }
        v = tm_of(ctx, v, Metamethod::Call);
        if v.is_nil() {
            return None;
        }
    }
    Some(Value::Nil)
}

/// Pushes `f(args)` as a metamethod call whose first result is handled by `ret`.
pub(super) fn call_meta<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    f: Value<'gc>,
    args: &[Value<'gc>],
    ret: ReturnTo,
) -> Result<(), Error<'gc>> {
    let top = match st.frames.last() {
        Some(fr) => match fr.closure {
            Some(c) => fr.base + c.proto().max_stack,
            None => st.stack.len(),
        },
        None => st.stack.len(),
    };
    call_meta_at(ctx, thread, st, top, f, args, ret)
}

/// Pushes `f(args)` at stack index `top` (see `call_meta`).
pub(super) fn call_meta_at<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    top: usize,
    f: Value<'gc>,
    args: &[Value<'gc>],
    ret: ReturnTo,
) -> Result<(), Error<'gc>> {
    st.ensure_stack(top + args.len() + 1);
    st.stack[top] = f;
    st.stack[top + 1..top + 1 + args.len()].copy_from_slice(args);
    if st.stack.len() > top + 1 + args.len() && !f.is_function() {
        // keep the stack as is; precall handles __call
    }
    match precall(ctx, thread, st, top, args.len(), 1, ret)? {
        Flow::Reload => Ok(()),
        Flow::Exit(Inner::Host) => {
            st.resume_at_reload(Resumption::Leave(MetaExit::Host));
            Ok(())
        }
        Flow::Exit(Inner::Yield) => {
            st.resume_at_reload(Resumption::Leave(MetaExit::Yield));
            Ok(())
        }
        Flow::Exit(Inner::Resume(co)) => {
            st.resume_at_reload(Resumption::Leave(MetaExit::Resume(co)));
            Ok(())
        }
        Flow::Exit(_) => Err(error_msg(ctx, b"attempt to yield across a C-call boundary")),
    }
}

pub(super) fn index_slow<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    t: Value<'gc>,
    key: Value<'gc>,
    dst: usize,
    by: Option<IndexedBy>,
) -> Result<bool, Error<'gc>> {
    let mut t = t;
    let mut by = by;
    for _ in 0..2000 {
        let mm = if let Value::Table(tab) = t {
            let v = tab.get(key);
            if !v.is_nil() {
                st.stack[dst] = v;
                return Ok(false);
            }
            match tab.metatable() {
                Some(mt) => tm_of_table(ctx, mt, Metamethod::Index),
                None => Value::Nil,
            }
        } else {
            let mm = tm_of(ctx, t, Metamethod::Index);
            if mm.is_nil() {
                return Err(debug::index_error(ctx, st, t, key, by));
            }
            mm
        };
        if mm.is_nil() {
            st.stack[dst] = Value::Nil;
            return Ok(false);
        }
        if mm.is_function() {
            return call_meta(ctx, thread, st, mm, &[t, key], ReturnTo::Store(dst)).map(|()| true);
        }
        t = mm;
        by = None;
    }
    Err(debug::runtime_error(
        ctx,
        st,
        "'__index' chain too long; possible loop",
    ))
}

pub(super) fn newindex_slow<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    t: Value<'gc>,
    key: Value<'gc>,
    v: Value<'gc>,
    by: Option<IndexedBy>,
) -> Result<bool, Error<'gc>> {
    let mut t = t;
    let mut by = by;
    for _ in 0..2000 {
        let mm = if let Value::Table(tab) = t {
            let mm = if tab.get(key).is_nil() {
                match tab.metatable() {
                    Some(mt) => tm_of_table(ctx, mt, Metamethod::NewIndex),
                    None => Value::Nil,
                }
            } else {
                Value::Nil
            };
            if mm.is_nil() {
                return tab
                    .set(ctx.mutation(), key, v)
                    .map(|()| false)
                    .map_err(|e| debug::runtime_error(ctx, st, e.message()));
            }
            mm
        } else {
            let mm = tm_of(ctx, t, Metamethod::NewIndex);
            if mm.is_nil() {
                return Err(debug::index_error(ctx, st, t, key, by));
            }
            mm
        };
        if mm.is_function() {
            return call_meta(ctx, thread, st, mm, &[t, key, v], ReturnTo::Discard).map(|()| true);
        }
        t = mm;
        by = None;
    }
    Err(debug::runtime_error(
        ctx,
        st,
        "'__newindex' chain too long; possible loop",
    ))
}

pub(super) fn arith_error<'gc>(
    ctx: Context<'gc>,
    st: &ThreadState<'gc>,
    e: ArithError,
    x: Value<'gc>,
    y: Value<'gc>,
    tm: Option<Metamethod>,
) -> Error<'gc> {
    match e {
        ArithError::DivByZero => debug::runtime_error(ctx, st, "attempt to divide by zero"),
        ArithError::ModByZero => debug::runtime_error(ctx, st, "attempt to perform 'n%0'"),
        ArithError::NoIntegerRep => {
            let culprit = if int_of_coerced(x).is_none() { x } else { y };
            debug::no_integer_rep_error(ctx, st, culprit)
        }
        ArithError::NotNumbers => {
            let bitwise = matches!(
                tm,
                Some(
                    Metamethod::BAnd
                        | Metamethod::BOr
                        | Metamethod::BXor
                        | Metamethod::Shl
                        | Metamethod::Shr
                        | Metamethod::BNot
                )
            );
            let is_num = |v: Value<'_>| matches!(v, Value::Integer(_) | Value::Number(_));
            // `luaG_opinterror`: the first operand unless it is a number.
            let culprit = if is_num(x) { y } else { x };
            if bitwise {
                // Strings are not numbers here (5.4's string metamethods are arithmetic
                // only).
                if is_num(x) && is_num(y) {
                    let culprit = if int_of(x).is_none() { x } else { y };
                    return debug::no_integer_rep_error(ctx, st, culprit);
                }
                debug::operand_error(ctx, st, "attempt to perform bitwise operation on", culprit)
            } else {
                debug::operand_error(ctx, st, "attempt to perform arithmetic on", culprit)
            }
        }
    }
}

pub(super) fn int_of_coerced(v: Value<'_>) -> Option<i64> {
    v.to_integer()
}

pub(super) fn arith_meta<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    tm: Metamethod,
    x: Value<'gc>,
    y: Value<'gc>,
    dst: usize,
) -> Result<(), Error<'gc>> {
    // Numbers only: strings reach arithmetic through the string library's metamethods
    // (`luaT_trybinTM` tries the first operand's metamethod, then the second's).
    let is_num = |v: Value<'_>| matches!(v, Value::Integer(_) | Value::Number(_));
    if is_num(x) && is_num(y) {
        let r = match tm {
            Metamethod::Unm => x
                .to_number()
                .map(|n| arith_numbers(tm, n, n))
                .ok_or(ArithError::NotNumbers)
                .and_then(|r| r.map(Value::from_number)),
            Metamethod::BNot => x
                .to_integer()
                .map(|i| Value::Integer(!i))
                .ok_or(ArithError::NoIntegerRep),
            _ => arith(tm, x, y),
        };
        match r {
            Ok(v) => {
                st.stack[dst] = v;
                return Ok(());
            }
            Err(ArithError::NotNumbers) => {}
            Err(e) => return Err(arith_error(ctx, st, e, x, y, Some(tm))),
        }
    }
    let mut mm = tm_of(ctx, x, tm);
    if mm.is_nil() {
        mm = tm_of(ctx, y, tm);
    }
    if mm.is_nil() {
        return Err(arith_error(ctx, st, ArithError::NotNumbers, x, y, Some(tm)));
    }
    call_meta(ctx, thread, st, mm, &[x, y], ReturnTo::Store(dst))
}

pub(super) fn call_compare<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    mm: Value<'gc>,
    x: Value<'gc>,
    y: Value<'gc>,
) -> Result<(), Error<'gc>> {
    call_meta(ctx, thread, st, mm, &[x, y], ReturnTo::Compare)
}

pub(super) fn compare_meta<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    x: Value<'gc>,
    y: Value<'gc>,
    le: bool,
) -> Result<(), Error<'gc>> {
    let tm = if le { Metamethod::Le } else { Metamethod::Lt };
    let mut mm = tm_of(ctx, x, tm);
    if mm.is_nil() {
        mm = tm_of(ctx, y, tm);
    }
    if mm.is_nil() && le && ctx.compat_lt_le() {
        // `a <= b` as `not (b < a)`.
        mm = tm_of(ctx, y, Metamethod::Lt);
        if mm.is_nil() {
            mm = tm_of(ctx, x, Metamethod::Lt);
        }
        if !mm.is_nil() {
            return call_meta(ctx, thread, st, mm, &[y, x], ReturnTo::CompareNot);
        }
    }
    if mm.is_nil() {
        return Err(debug::compare_error(ctx, st, x, y));
    }
    call_compare(ctx, thread, st, mm, x, y)
}

pub(super) fn len_slow<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    x: Value<'gc>,
    dst: usize,
    reg: u32,
) -> Result<(), Error<'gc>> {
    let mm = tm_of(ctx, x, Metamethod::Len);
    if mm.is_nil() {
        if let Value::Table(t) = x {
            st.stack[dst] = Value::Integer(t.length());
            return Ok(());
        }
        return Err(debug::typed_error(
            ctx,
            st,
            "get length of",
            x,
            Some(st.frames.last().map_or(0, |f| f.base) + reg as usize),
        ));
    }
    call_meta(ctx, thread, st, mm, &[x, x], ReturnTo::Store(dst))
}

/// Starts the `__close` metamethod of the innermost pending to-be-closed variable (OP_CLOSE
/// and OP_RETURN, which run again when it returns: it may yield). `top` is the end of the
/// values to keep (the results of OP_RETURN).
pub(super) fn close_next<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    top: usize,
) -> Result<(), Error<'gc>> {
    let Some(idx) = st.tbc.pop() else {
        return Ok(());
    };
    // A slot past the top (see `close_tbc`) holds nil.
    let v = st.stack.get(idx).copied().unwrap_or_default();
    // A metamethod removed since the variable was declared fails as a call of nil.
    let mm = tm_of(ctx, v, Metamethod::Close);
    st.close_upvalues(ctx.mutation(), idx);
    let at = match st
        .frames
        .last()
        .and_then(|f| f.closure.map(|c| (f.base, c)))
    {
        Some((base, c)) => (base + c.proto().max_stack).max(top),
        None => st.stack.len().max(top),
    };
    let ret = ReturnTo::Reclose { top: top as u32 };
    call_meta_at(ctx, thread, st, at, mm, &[v, Value::Nil], ret)
}

/// OP_CONCAT over `stack[first..first+n]`, result in `stack[first]`.
pub(super) fn concat<'gc>(
    ctx: Context<'gc>,
    thread: Thread<'gc>,
    st: &mut ThreadState<'gc>,
    first: usize,
    n: usize,
) -> Result<(), Error<'gc>> {
    let mut top = first + n;
    let mut buf: Vec<u8> = Vec::new();
    while top - first > 1 {
        let (a, b) = (st.stack[top - 2], st.stack[top - 1]);
        if is_stringy(a) && is_stringy(b) {
            let mut j = top - 2;
            while j > first && is_stringy(st.stack[j - 1]) {
                j -= 1;
            }
            buf.clear();
            for idx in j..top {
                append_stringy(&mut buf, st.stack[idx]);
            }
            st.stack[j] = Value::String(ctx.intern(&buf));
            top = j + 1;
        } else {
            let mut mm = tm_of(ctx, a, Metamethod::Concat);
            if mm.is_nil() {
                mm = tm_of(ctx, b, Metamethod::Concat);
            }
            if mm.is_nil() {
                let (bad, idx) = if is_stringy(a) {
                    (b, top - 1)
                } else {
                    (a, top - 2)
                };
                return Err(debug::typed_error(ctx, st, "concatenate", bad, Some(idx)));
            }
            // The metamethod runs as a frame (it may yield); its return goes on with the
            // rest of the concatenation (`ReturnTo::Concat`, `ConcatResume`).
            let ret = ReturnTo::Concat {
                first: first as u32,
                top: top as u32,
            };
            return call_meta(ctx, thread, st, mm, &[a, b], ret);
        }
    }
    Ok(())
}

#[inline]
pub(super) fn is_stringy(v: Value<'_>) -> bool {
    matches!(v, Value::String(_) | Value::Integer(_) | Value::Number(_))
}

pub(super) fn append_stringy(buf: &mut Vec<u8>, v: Value<'_>) {
    match v {
        Value::String(s) => buf.extend_from_slice(s.as_bytes()),
        Value::Integer(i) => number::fmt_lua_int(i, buf),
        Value::Number(f) => number::fmt_lua_float(f, buf),
        _ => {}
    }
}

/// Clears the registers of the top frame that hold only dead temporaries, at a loop's
/// backward jump (a statement boundary, where only active locals are live), and drops stale
/// slots above the frame. Called when a step ends there, before the collector runs, so that
/// leftovers of finished expressions and calls keep nothing alive (C Lua lowers `L->top` to
/// the live registers before collecting, for the same reason).
#[cold]
pub(super) fn clear_dead_registers(
    st: &mut ThreadState<'_>,
    base: usize,
    proto: &crate::closure::FunctionProto<'_>,
    jump_pc: usize,
) {
    let raw = &proto.raw;
    if raw.line_info.is_empty() {
        return; // stripped: which locals are active is unknown
    }
    let pc = jump_pc as u32;
    let active = raw
        .local_vars
        .iter()
        .filter(|v| v.start_pc <= pc && pc < v.end_pc)
        .count();
    let end = base + proto.max_stack;
    if st.stack.len() > end && st.top <= end {
        st.stack.truncate(end);
    }
    let to = end.min(st.stack.len());
    let from = (base + active.max(proto.num_params)).min(to);
    for v in &mut st.stack[from..to] {
        *v = Value::Nil;
    }
}
