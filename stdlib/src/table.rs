//! The table library (manual §6.6): metamethod-aware like Lua 5.4.

use interp::vm::{
    meta_index_value as index, meta_len, meta_less_than, meta_new_index as new_index,
};
use interp::{Error, NativeCall, Value};

use crate::util::{new_lib, Ret};

/// Opens the `table` library.
pub fn open_table(ctx: interp::Context<'_>) {
    new_lib(
        ctx,
        "table",
        &[
            ("concat", concat),
            ("insert", insert),
            ("move", move_),
            ("pack", pack),
            ("remove", remove),
            ("sort", sort),
            ("unpack", unpack),
        ],
    );
}

/// Checks that argument `i` is a table or has the metamethods the operation needs.
fn check_tab<'gc>(call: &NativeCall<'gc, '_>, i: usize) -> Result<Value<'gc>, Error<'gc>> {
    let v = call.arg(i);
    if let Value::Table(_) = v {
        return Ok(v);
    }
    if let Some(mt) = call.ctx.metatable(v) {
        let has = |n: &[u8]| !mt.get_str(call.ctx.intern(n)).is_nil();
        if has(b"__index") || has(b"__newindex") || has(b"__len") {
            return Ok(v);
        }
    }
    Err(call.type_error(i, "table"))
}

fn geti<'gc>(
    call: &mut NativeCall<'gc, '_>,
    t: Value<'gc>,
    i: i64,
) -> Result<Value<'gc>, Error<'gc>> {
    if let Value::Table(tab) = t {
        if tab.metatable().is_none() {
            return Ok(tab.get_int(i));
        }
    }
    index(call, t, Value::Integer(i))
}

fn seti<'gc>(
    call: &mut NativeCall<'gc, '_>,
    t: Value<'gc>,
    i: i64,
    v: Value<'gc>,
) -> Result<(), Error<'gc>> {
    if let Value::Table(tab) = t {
        if tab.metatable().is_none() {
            tab.set_int(call.ctx.mutation(), i, v);
            return Ok(());
        }
    }
    new_index(call, t, Value::Integer(i), v)
}

fn length<'gc>(call: &mut NativeCall<'gc, '_>, t: Value<'gc>) -> Result<i64, Error<'gc>> {
    if let Value::Table(tab) = t {
        if tab.metatable().is_none() {
            return Ok(tab.length());
        }
    }
    meta_len(call, t)
}

fn insert<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = check_tab(call, 0)?;
    let e = length(call, t)?.wrapping_add(1);
    match call.nargs() {
        2 => {
            let v = call.arg(1);
            seti(call, t, e, v)?;
        }
        3 => {
            let pos = call.check_integer(1)?;
            if (pos as u64).wrapping_sub(1) >= e as u64 {
                return Err(call.arg_error(1, "position out of bounds"));
            }
            let mut i = e;
            while i > pos {
                let v = geti(call, t, i - 1)?;
                seti(call, t, i, v)?;
                i -= 1;
            }
            let v = call.arg(2);
            seti(call, t, pos, v)?;
        }
        _ => return Err(call.error("wrong number of arguments to 'insert'")),
    }
    call.ret0()
}

fn remove<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = check_tab(call, 0)?;
    let size = length(call, t)?;
    let mut pos = call.opt_integer(1, size)?;
    if call.nargs() >= 2
        && size.wrapping_add(1) as u64 != pos as u64
        && (pos as u64).wrapping_sub(1) >= size as u64
    {
        return Err(call.arg_error(1, "position out of bounds"));
    }
    let v = geti(call, t, pos)?;
    while pos < size {
        let next = geti(call, t, pos + 1)?;
        seti(call, t, pos, next)?;
        pos += 1;
    }
    if pos <= size || call.nargs() >= 2 {
        seti(call, t, pos, Value::Nil)?;
    }
    call.ret1(v)
}

fn move_<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let a1 = check_tab(call, 0)?;
    let f = call.check_integer(1)?;
    let e = call.check_integer(2)?;
    let t = call.check_integer(3)?;
    let tt = if call.nargs() >= 5 && !call.arg(4).is_nil() {
        check_tab(call, 4)?
    } else {
        a1
    };
    if e >= f {
        if !(f > 0 || e < i64::MAX + f) {
            return Err(call.arg_error(2, "too many elements to move"));
        }
        if t > i64::MAX - (e - f) {
            return Err(call.arg_error(3, "destination wrap around"));
        }
        let same = tt.raw_equals(a1);
        if t > e || t <= f || !same {
            for i in 0..=(e - f) {
                let v = geti(call, a1, f + i)?;
                seti(call, tt, t + i, v)?;
            }
        } else {
            let mut i = e - f;
            while i >= 0 {
                let v = geti(call, a1, f + i)?;
                seti(call, tt, t + i, v)?;
                i -= 1;
            }
        }
    }
    call.ret1(tt)
}

fn concat<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = check_tab(call, 0)?;
    let sep = call
        .opt_string(1)?
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_default();
    let i = call.opt_integer(2, 1)?;
    let j = if call.arg(3).is_nil() {
        length(call, t)?
    } else {
        call.check_integer(3)?
    };
    let mut out = Vec::new();
    let mut k = i;
    while k <= j {
        let v = geti(call, t, k)?;
        match v {
            Value::String(s) => out.extend_from_slice(s.as_bytes()),
            Value::Integer(_) | Value::Number(_) => {
                out.extend_from_slice(interp::vm::number_to_string(call.ctx, v).as_bytes())
            }
            _ => {
                return Err(call.error(format!(
                    "invalid value ({}) at index {} in table for 'concat'",
                    call.type_name_of(v),
                    k
                )))
            }
        }
        if k != j {
            out.extend_from_slice(&sep);
        }
        if k == i64::MAX {
            break;
        }
        k += 1;
    }
    let s = call.ctx.intern(&out);
    call.ret1(Value::String(s))
}

fn pack<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let n = call.nargs();
    let t = interp::Table::with_capacity(call.ctx.mutation(), n, 1);
    for i in 0..n {
        t.set_int(call.ctx.mutation(), i as i64 + 1, call.arg(i));
    }
    t.set_str(
        call.ctx.mutation(),
        call.ctx.intern(b"n"),
        Value::Integer(n as i64),
    );
    call.ret1(Value::Table(t))
}

fn unpack<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = call.arg(0);
    let i = call.opt_integer(1, 1)?;
    let e = if call.arg(2).is_nil() {
        length(call, t)?
    } else {
        call.check_integer(2)?
    };
    if i > e {
        return call.ret0();
    }
    let n = (e as i128 - i as i128 + 1) as u128;
    if n >= 1_000_000 {
        return Err(call.error("too many results to unpack"));
    }
    let mut out = Vec::with_capacity(n as usize);
    for k in i..=e {
        out.push(geti(call, t, k)?);
    }
    call.ret(&out)
}

fn sort<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = check_tab(call, 0)?;
    let n = length(call, t)?;
    if n > 1 {
        if n >= i32::MAX as i64 {
            return Err(call.arg_error(0, "array too big"));
        }
        let cmp = call.arg(1);
        if !cmp.is_nil() && !cmp.is_function() {
            return Err(call.type_error(1, "function"));
        }
        let mut items = Vec::with_capacity(n as usize);
        for i in 1..=n {
            items.push(geti(call, t, i)?);
        }
        let mut err: Option<Error<'gc>> = None;
        // A merge sort that tolerates inconsistent comparators (never panics).
        let mut less = |a: Value<'gc>, b: Value<'gc>, call: &mut NativeCall<'gc, '_>| -> bool {
            if err.is_some() {
                return false;
            }
            let r = if cmp.is_nil() {
                meta_less_than(call, a, b, false)
            } else {
                call.call(cmp, &[a, b])
                    .map(|r| r.first().copied().unwrap_or_default().is_truthy())
            };
            match r {
                Ok(x) => x,
                Err(e) => {
                    err = Some(e);
                    false
                }
            }
        };
        merge_sort(&mut items, &mut |a, b| less(a, b, call));
        if let Some(e) = err {
            return Err(e);
        }
        for (i, v) in items.into_iter().enumerate() {
            seti(call, t, i as i64 + 1, v)?;
        }
    }
    call.ret0()
}

fn merge_sort<T: Copy>(v: &mut [T], less: &mut dyn FnMut(T, T) -> bool) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    if n <= 12 {
        for i in 1..n {
            let mut j = i;
            while j > 0 && less(v[j], v[j - 1]) {
                v.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let mid = n / 2;
    merge_sort(&mut v[..mid], less);
    merge_sort(&mut v[mid..], less);
    let mut out = Vec::with_capacity(n);
    let (mut i, mut j) = (0, mid);
    while i < mid && j < n {
        if less(v[j], v[i]) {
            out.push(v[j]);
            j += 1;
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&v[i..mid]);
    out.extend_from_slice(&v[j..n]);
    v.copy_from_slice(&out);
}
