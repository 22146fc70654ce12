//! Metamethods: names, lookup (with the absent-cache of metatables), and the operations that
//! native functions use (indexing, comparison, `tostring`) through nested calls.

use crate::runtime::Context;
use crate::value::{LuaString, Table, Value};

use super::{Error, NativeCall};

pub use crate::metamethod::{Metamethod, METAMETHOD_NAMES};

/// Looks up metamethod `tm` in metatable `mt`, using and updating the absent-cache for the
/// first six metamethods.
#[inline]
pub fn tm_of_table<'gc>(ctx: Context<'gc>, mt: Table<'gc>, tm: Metamethod) -> Value<'gc> {
    let st = mt.state();
    let bit = tm as u8;
    if bit < 8 && st.flags.get() & (1 << bit) != 0 {
        return Value::Nil;
    }
    let v = st.get_str(ctx.tm_name(tm));
    if v.is_nil() && bit < 8 {
        st.flags.set(st.flags.get() | (1 << bit));
    }
    v
}

/// The metamethod `tm` of any value, or nil.
#[inline]
pub fn tm_of<'gc>(ctx: Context<'gc>, v: Value<'gc>, tm: Metamethod) -> Value<'gc> {
    match ctx.metatable(v) {
        Some(mt) => tm_of_table(ctx, mt, tm),
        None => Value::Nil,
    }
}

/// Formats a number as `tostring` does (`%.14g` for floats, with `.0` for integral values).
pub fn number_to_string<'gc>(ctx: Context<'gc>, v: Value<'gc>) -> LuaString<'gc> {
    let mut buf = Vec::with_capacity(24);
    match v {
        Value::Integer(i) => crate::number::fmt_lua_int(i, &mut buf),
        Value::Number(f) => crate::number::fmt_lua_float(f, &mut buf),
        _ => {}
    }
    ctx.intern(&buf)
}

/// The default `tostring` text of a value (no `__tostring`): `table: 0x...` etc.
pub fn default_tostring<'gc>(ctx: Context<'gc>, v: Value<'gc>) -> Vec<u8> {
    match v {
        Value::Nil => b"nil".to_vec(),
        Value::Boolean(b) => {
            if b {
                b"true".to_vec()
            } else {
                b"false".to_vec()
            }
        }
        Value::Integer(_) | Value::Number(_) => number_to_string(ctx, v).as_bytes().to_vec(),
        Value::String(s) => s.as_bytes().to_vec(),
        _ => {
            let mut name = v.type_name().as_bytes().to_vec();
            if let Some(mt) = ctx.metatable(v) {
                if let Value::String(s) = mt.get_str(ctx.tm_name(Metamethod::Name)) {
                    name = s.as_bytes().to_vec();
                }
            }
            let addr = v.gc_address().unwrap_or(0);
            let mut out = name;
            out.extend_from_slice(format!(": 0x{:x}", addr).as_bytes());
            out
        }
    }
}

/// `tostring(v)`: honours `__tostring` (which must return a string) and `__name`.
pub fn tostring<'gc>(
    call: &mut NativeCall<'gc, '_>,
    v: Value<'gc>,
) -> Result<LuaString<'gc>, Error<'gc>> {
    let ctx = call.ctx;
    let mm = tm_of(ctx, v, Metamethod::ToString);
    if !mm.is_nil() {
        let r = call.call(mm, &[v])?;
        return match r.first() {
            Some(Value::String(s)) => Ok(*s),
            Some(n @ (Value::Integer(_) | Value::Number(_))) => Ok(number_to_string(ctx, *n)),
            _ => Err(call.error("'__tostring' must return a string")),
        };
    }
    match v {
        Value::String(s) => Ok(s),
        _ => Ok(ctx.intern(&default_tostring(ctx, v))),
    }
}

/// `t[k]` with metamethods, for native functions (`lua_gettable`).
pub fn index<'gc>(
    call: &mut NativeCall<'gc, '_>,
    t: Value<'gc>,
    k: Value<'gc>,
) -> Result<Value<'gc>, Error<'gc>> {
    let ctx = call.ctx;
    let mut t = t;
    for _ in 0..2000 {
        let mm = if let Value::Table(tab) = t {
            let v = tab.get(k);
            if !v.is_nil() {
                return Ok(v);
            }
            match tab.metatable() {
                Some(mt) => tm_of_table(ctx, mt, Metamethod::Index),
                None => return Ok(Value::Nil),
            }
        } else {
            let mm = tm_of(ctx, t, Metamethod::Index);
            if mm.is_nil() {
                return Err(
                    call.op_error(format!("attempt to index a {} value", call.type_name_of(t)))
                );
            }
            mm
        };
        if mm.is_nil() {
            return Ok(Value::Nil);
        }
        if mm.is_function() {
            return Ok(call.call(mm, &[t, k])?.first().copied().unwrap_or_default());
        }
        t = mm;
    }
    Err(call.op_error("'__index' chain too long; possible loop"))
}

/// `t[k] = v` with metamethods, for native functions (`lua_settable`).
pub fn new_index<'gc>(
    call: &mut NativeCall<'gc, '_>,
    t: Value<'gc>,
    k: Value<'gc>,
    v: Value<'gc>,
) -> Result<(), Error<'gc>> {
    let ctx = call.ctx;
    let mut t = t;
    for _ in 0..2000 {
        let mm = if let Value::Table(tab) = t {
            let existing = tab.get(k);
            let mm = if existing.is_nil() {
                match tab.metatable() {
                    Some(mt) => tm_of_table(ctx, mt, Metamethod::NewIndex),
                    None => Value::Nil,
                }
            } else {
                Value::Nil
            };
            if mm.is_nil() {
                return tab
                    .set(ctx.mutation(), k, v)
                    .map_err(|e| call.op_error(e.message()));
            }
            mm
        } else {
            let mm = tm_of(ctx, t, Metamethod::NewIndex);
            if mm.is_nil() {
                return Err(
                    call.op_error(format!("attempt to index a {} value", call.type_name_of(t)))
                );
            }
            mm
        };
        if mm.is_function() {
            call.call(mm, &[t, k, v])?;
            return Ok(());
        }
        t = mm;
    }
    Err(call.op_error("'__newindex' chain too long; possible loop"))
}

/// `#v` with `__len`, for native functions (`luaL_len` requires an integer result).
pub fn len<'gc>(call: &mut NativeCall<'gc, '_>, v: Value<'gc>) -> Result<i64, Error<'gc>> {
    let mm = tm_of(call.ctx, v, Metamethod::Len);
    if !mm.is_nil() {
        let r = call.call(mm, &[v])?.first().copied().unwrap_or_default();
        return r
            .to_integer()
            .ok_or_else(|| call.error("object length is not an integer"));
    }
    match v {
        Value::Table(t) => Ok(t.length()),
        Value::String(s) => Ok(s.len() as i64),
        _ => Err(call.op_error(format!(
            "attempt to get length of a {} value",
            call.type_name_of(v)
        ))),
    }
}

/// `a < b` (or `a <= b`) with metamethods, for native functions.
pub fn less_than<'gc>(
    call: &mut NativeCall<'gc, '_>,
    a: Value<'gc>,
    b: Value<'gc>,
    or_equal: bool,
) -> Result<bool, Error<'gc>> {
    if let Some(r) = super::arith::primitive_less(a, b, or_equal) {
        return Ok(r);
    }
    let tm = if or_equal {
        Metamethod::Le
    } else {
        Metamethod::Lt
    };
    let mut mm = tm_of(call.ctx, a, tm);
    if mm.is_nil() {
        mm = tm_of(call.ctx, b, tm);
    }
    if mm.is_nil() && or_equal && call.ctx.compat_lt_le() {
        // `a <= b` as `not (b < a)` (LUA_COMPAT_LT_LE).
        mm = tm_of(call.ctx, b, Metamethod::Lt);
        if mm.is_nil() {
            mm = tm_of(call.ctx, a, Metamethod::Lt);
        }
        if !mm.is_nil() {
            let r = call.call(mm, &[b, a])?.first().copied().unwrap_or_default();
            return Ok(!r.is_truthy());
        }
    }
    if mm.is_nil() {
        return Err(call.op_error(super::debug::compare_error_text(call, a, b)));
    }
    Ok(call
        .call(mm, &[a, b])?
        .first()
        .copied()
        .unwrap_or_default()
        .is_truthy())
}

/// `a == b` with `__eq`, for native functions.
pub fn equals<'gc>(
    call: &mut NativeCall<'gc, '_>,
    a: Value<'gc>,
    b: Value<'gc>,
) -> Result<bool, Error<'gc>> {
    if a.raw_equals(b) {
        return Ok(true);
    }
    let mm = match (a, b) {
        (Value::Table(_), Value::Table(_)) | (Value::UserData(_), Value::UserData(_)) => {
            let m = tm_of(call.ctx, a, Metamethod::Eq);
            if m.is_nil() {
                tm_of(call.ctx, b, Metamethod::Eq)
            } else {
                m
            }
        }
        _ => return Ok(false),
    };
    if mm.is_nil() {
        return Ok(false);
    }
    Ok(call
        .call(mm, &[a, b])?
        .first()
        .copied()
        .unwrap_or_default()
        .is_truthy())
}
