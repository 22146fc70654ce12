//! The string library functions (manual §6.4) and the string metatable. Pattern matching and
//! `pack` live in `string/`; number formatting in `interp::number`.

use interp::{NativeCall, Value, ValueType};

use crate::string::pattern::posrelat_init;
use crate::util::{new_lib, Ret};

/// Opens the `string` library and sets the metatable of strings (`("x"):upper()`).
pub fn open_string(ctx: interp::Context<'_>) {
    let t = new_lib(
        ctx,
        "string",
        &[
            ("byte", byte),
            ("char", char),
            ("len", len),
            ("lower", lower),
            ("rep", rep),
            ("reverse", reverse),
            ("sub", sub),
            ("upper", upper),
        ],
    );
    crate::string::register_extra(ctx, t);
    let mt = ctx.new_table();
    mt.set_str(
        ctx.mutation(),
        ctx.intern_static(b"__index"),
        Value::Table(t),
    );
    crate::util::register_methods(ctx, mt, &crate::string::arith::METAMETHODS);
    ctx.set_type_metatable(ValueType::String, Some(mt));
}

/// End position: clipped to the length.
pub fn get_end_pos(pos: i64, len: usize) -> usize {
    if pos > len as i64 {
        len
    } else if pos >= 0 {
        pos as usize
    } else if pos < -(len as i64) {
        0
    } else {
        (len as i64 + pos + 1) as usize
    }
}

fn str_ret<'gc>(call: &mut NativeCall<'gc, '_>, bytes: &[u8]) -> Ret<'gc> {
    let s = call.ctx.intern(bytes);
    call.ret1(Value::String(s))
}

fn len<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    call.ret1(Value::Integer(s.len() as i64))
}

fn sub<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let l = s.len();
    let i = posrelat_init(call.check_integer(1)?, l);
    let j = get_end_pos(call.opt_integer(2, -1)?, l);
    if i > j {
        return str_ret(call, b"");
    }
    let bytes: &[u8] = &s.as_bytes()[i - 1..j];
    if i == 1 && j == l {
        return call.ret1(Value::String(s));
    }
    str_ret(call, bytes)
}

fn upper<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let v: Vec<u8> = s.as_bytes().to_ascii_uppercase();
    str_ret(call, &v)
}

fn lower<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let v: Vec<u8> = s.as_bytes().to_ascii_lowercase();
    str_ret(call, &v)
}

fn reverse<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let mut v = s.as_bytes().to_vec();
    v.reverse();
    str_ret(call, &v)
}

/// Largest string `rep`/`concat` may build.
pub const MAX_STRING: usize = i32::MAX as usize;

fn rep<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let n = call.check_integer(1)?;
    let sep = call.opt_string(2)?;
    if n <= 0 {
        return str_ret(call, b"");
    }
    let sep_b: &[u8] = sep.map(|x| x.as_bytes()).unwrap_or(b"");
    let total = (s.len() as u128 + sep_b.len() as u128) * n as u128;
    if total >= MAX_STRING as u128 {
        return Err(call.error("resulting string too large"));
    }
    if total == 0 {
        // No copies to make, however many (C Lua loops `n` times here).
        return str_ret(call, b"");
    }
    call.reserve(total as usize)?;
    // One unit of fuel per 64 bytes, charged as the string grows (a big one takes a while).
    let mut out = Vec::with_capacity(total as usize);
    let mut paid = 0;
    for k in 0..n {
        out.extend_from_slice(s.as_bytes());
        if k + 1 < n {
            out.extend_from_slice(sep_b);
        }
        if out.len() - paid >= 1 << 16 {
            call.tick((out.len() - paid) / 64)?;
            paid = out.len() / 64 * 64;
        }
    }
    call.tick((out.len() - paid) / 64)?;
    str_ret(call, &out)
}

fn byte<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let l = s.len();
    let pi = call.opt_integer(1, 1)?;
    let i = posrelat_init(pi, l);
    let j = get_end_pos(call.opt_integer(2, pi)?, l);
    if i > j {
        return call.ret0();
    }
    if j - i >= i32::MAX as usize {
        return Err(call.error("string slice too long"));
    }
    call.check_stack(j - i + 1, "string slice too long")?;
    let vals: Vec<Value> = s.as_bytes()[i - 1..j]
        .iter()
        .map(|&b| Value::Integer(b as i64))
        .collect();
    call.ret(&vals)
}

fn char<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let mut out = Vec::with_capacity(call.nargs());
    for i in 0..call.nargs() {
        let c = call.check_integer(i)?;
        if !(0..=255).contains(&c) {
            return Err(call.arg_error(i, "value out of range"));
        }
        out.push(c as u8);
    }
    str_ret(call, &out)
}
