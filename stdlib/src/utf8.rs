//! The utf8 library (manual §6.5), with the `lax` flag of Lua 5.4.

use interp::compiler::utf8_encode;
use interp::{NativeCall, Value};

use crate::util::{new_lib, Ret};

const MAXUNICODE: u32 = 0x10FFFF;
const MAXUTF: u32 = 0x7FFF_FFFF;

/// Opens the `utf8` library.
pub fn open_utf8(ctx: interp::Context<'_>) {
    let t = new_lib(
        ctx,
        "utf8",
        &[
            ("char", char),
            ("codepoint", codepoint),
            ("codes", codes),
            ("len", len),
            ("offset", offset),
        ],
    );
    t.set_str(
        ctx.mutation(),
        ctx.intern_static(b"charpattern"),
        Value::String(ctx.intern_static(b"[\x00-\x7F\xC2-\xFD][\x80-\xBF]*")),
    );
}

/// Decodes one UTF-8 sequence at the start of `s`: (code point, length), or None if invalid.
fn utf8_decode(s: &[u8], strict: bool) -> Option<(u32, usize)> {
    const LIMITS: [u32; 6] = [!0, 0x80, 0x800, 0x10000, 0x200000, 0x4000000];
    let c = *s.first()? as u32;
    if c < 0x80 {
        return Some((c, 1));
    }
    let mut res: u32 = 0;
    let mut count = 0;
    let mut cc = c;
    while cc & 0x40 != 0 {
        count += 1;
        let b = *s.get(count)? as u32;
        if b & 0xC0 != 0x80 {
            return None;
        }
        res = (res << 6) | (b & 0x3F);
        cc <<= 1;
    }
    res |= (cc & 0x7F) << (count * 5);
    if count > 5 || res > MAXUTF || res < LIMITS[count] {
        return None;
    }
    if strict && (res > MAXUNICODE || (0xD800..=0xDFFF).contains(&res)) {
        return None;
    }
    Some((res, count + 1))
}

fn char<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let mut out = Vec::new();
    for i in 0..call.nargs() {
        let c = call.check_integer(i)?;
        if (c as u64) > MAXUTF as u64 {
            return Err(call.arg_error(i, "value out of range"));
        }
        utf8_encode(c as u32, &mut out);
    }
    let s = call.ctx.intern(&out);
    call.ret1(Value::String(s))
}

fn len<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let b = s.as_bytes();
    let l = b.len() as i64;
    let mut posi = relpos(call.opt_integer(1, 1)?, l);
    let posj = relpos(call.opt_integer(2, -1)?, l);
    let lax = call.arg(3).is_truthy();
    if !(1 <= posi && posi - 1 <= l) {
        return Err(call.arg_error(1, "initial position out of bounds"));
    }
    posi -= 1;
    if posj > l {
        return Err(call.arg_error(2, "final position out of bounds"));
    }
    let mut n = 0i64;
    while posi < posj {
        match utf8_decode(&b[posi as usize..], !lax) {
            Some((_, k)) => {
                posi += k as i64;
                n += 1;
            }
            None => return call.ret(&[Value::Nil, Value::Integer(posi + 1)]),
        }
    }
    call.ret1(Value::Integer(n))
}

fn relpos(pos: i64, len: i64) -> i64 {
    if pos >= 0 {
        pos
    } else if -pos > len {
        0
    } else {
        len + pos + 1
    }
}

fn codepoint<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let b = s.as_bytes();
    let l = b.len() as i64;
    let posi = relpos(call.opt_integer(1, 1)?, l);
    let pose = relpos(call.opt_integer(2, posi)?, l);
    let lax = call.arg(3).is_truthy();
    if posi < 1 {
        return Err(call.arg_error(1, "out of bounds"));
    }
    if pose > l {
        return Err(call.arg_error(2, "out of bounds"));
    }
    if posi > pose {
        return call.ret0();
    }
    if pose - posi >= i32::MAX as i64 {
        return Err(call.error("string slice too long"));
    }
    call.check_stack((pose - posi + 1) as usize, "string slice too long")?;
    let mut out = Vec::new();
    let mut p = (posi - 1) as usize;
    while (p as i64) < pose {
        match utf8_decode(&b[p..], !lax) {
            Some((c, k)) => {
                out.push(Value::Integer(c as i64));
                p += k;
            }
            None => return Err(call.error("invalid UTF-8 code")),
        }
    }
    call.ret(&out)
}

fn iscont(b: Option<&u8>) -> bool {
    b.is_some_and(|&c| c & 0xC0 == 0x80)
}

fn offset<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let b = s.as_bytes();
    let l = b.len() as i64;
    let n = call.check_integer(1)?;
    let default_i = if n >= 0 { 1 } else { l + 1 };
    let mut posi = relpos(call.opt_integer(2, default_i)?, l);
    if !(1 <= posi && posi - 1 <= l) {
        return Err(call.arg_error(2, "position out of bounds"));
    }
    posi -= 1;
    let mut n = n;
    if n == 0 {
        while posi > 0 && iscont(b.get(posi as usize)) {
            posi -= 1;
        }
        return call.ret1(Value::Integer(posi + 1));
    }
    if iscont(b.get(posi as usize)) {
        return Err(call.error("initial position is a continuation byte"));
    }
    if n < 0 {
        while n < 0 && posi > 0 {
            posi -= 1;
            while posi > 0 && iscont(b.get(posi as usize)) {
                posi -= 1;
            }
            n += 1;
        }
    } else {
        n -= 1;
        while n > 0 && posi < l {
            posi += 1;
            while iscont(b.get(posi as usize)) {
                posi += 1;
            }
            n -= 1;
        }
    }
    if n == 0 {
        call.ret1(Value::Integer(posi + 1))
    } else {
        call.ret1(Value::Nil)
    }
}

fn codes_iter<'gc>(call: &mut NativeCall<'gc, '_>, strict: bool) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let b = s.as_bytes();
    let mut n = call.arg(1).to_integer().unwrap_or(0) as u64;
    if n < b.len() as u64 {
        while iscont(b.get(n as usize)) {
            n += 1;
        }
    }
    if n >= b.len() as u64 {
        return call.ret0();
    }
    let p = n as usize;
    match utf8_decode(&b[p..], strict) {
        Some((c, k)) if !iscont(b.get(p + k)) => {
            call.ret(&[Value::Integer(p as i64 + 1), Value::Integer(c as i64)])
        }
        _ => Err(call.error("invalid UTF-8 code")),
    }
}

fn codes_strict<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    codes_iter(call, true)
}

fn codes_lax<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    codes_iter(call, false)
}

fn codes<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let lax = call.arg(1).is_truthy();
    if iscont(s.as_bytes().first()) {
        return Err(call.arg_error(0, "invalid UTF-8 code"));
    }
    let f = if lax {
        call.ctx.native(crate::util::UNNAMED, codes_lax)
    } else {
        call.ctx.native(crate::util::UNNAMED, codes_strict)
    };
    call.ret(&[f, Value::String(s), Value::Integer(0)])
}
