//! `string.format` (lstrlib.c's `str_format`): parses each conversion and formats it with the
//! printf engine of `interp::number`.

use interp::number::{self, Spec};
use interp::{NativeCall, Value};

use crate::util::Ret;

/// Maximum width or precision digits C Lua accepts.
const MAX_FORMAT_DIGITS: usize = 2;

fn invalid_conversion<'gc>(call: &NativeCall<'gc, '_>, spec: &[u8]) -> interp::Error<'gc> {
    call.error(format!(
        "invalid conversion '%{}' to 'format'",
        String::from_utf8_lossy(spec)
    ))
}

/// Parses flags, width and precision after a '%'; returns the spec and the bytes consumed
/// (not counting the conversion character).
fn parse_spec(fmt: &[u8]) -> Option<(Spec, usize)> {
    let mut spec = Spec::default();
    let mut i = 0;
    while let Some(&c) = fmt.get(i) {
        match c {
            b'-' => spec.minus = true,
            b'+' => spec.plus = true,
            b' ' => spec.space = true,
            b'#' => spec.hash = true,
            b'0' => spec.zero = true,
            _ => break,
        }
        i += 1;
    }
    let start = i;
    while fmt.get(i).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
    }
    if i - start > MAX_FORMAT_DIGITS {
        return None;
    }
    if i > start {
        spec.width = Some(std::str::from_utf8(&fmt[start..i]).ok()?.parse().ok()?);
    }
    if fmt.get(i) == Some(&b'.') {
        i += 1;
        let pstart = i;
        while fmt.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        if i - pstart > MAX_FORMAT_DIGITS {
            return None;
        }
        spec.precision = Some(if i > pstart {
            std::str::from_utf8(&fmt[pstart..i]).ok()?.parse().ok()?
        } else {
            0
        });
    }
    Some((spec, i))
}

/// Checks that only `allowed` flags are used and precision is allowed.
fn flags_ok(spec: &Spec, allowed: &[u8], precision_ok: bool) -> bool {
    (!spec.minus || allowed.contains(&b'-'))
        && (!spec.plus || allowed.contains(&b'+'))
        && (!spec.space || allowed.contains(&b' '))
        && (!spec.hash || allowed.contains(&b'#'))
        && (!spec.zero || allowed.contains(&b'0'))
        && (precision_ok || spec.precision.is_none())
}

fn pad(out: &mut Vec<u8>, s: &[u8], spec: &Spec) {
    let w = spec.width.unwrap_or(0);
    if s.len() >= w {
        out.extend_from_slice(s);
    } else if spec.minus {
        out.extend_from_slice(s);
        out.resize(out.len() + w - s.len(), b' ');
    } else {
        out.resize(out.len() + w - s.len(), b' ');
        out.extend_from_slice(s);
    }
}

/// `string.format`.
pub fn format<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let fmt = call.check_string(0)?.as_bytes().to_vec();
    let mut out = Vec::with_capacity(fmt.len() + 16);
    let mut arg = 0usize;
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        if fmt.get(i) == Some(&b'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        let Some((mut spec, used)) = parse_spec(&fmt[i..]) else {
            let end = (i + 6).min(fmt.len());
            return Err(invalid_conversion(call, &fmt[i..end]));
        };
        let Some(&conv) = fmt.get(i + used) else {
            return Err(invalid_conversion(call, &fmt[i..]));
        };
        let whole = &fmt[i..i + used + 1];
        i += used + 1;
        arg += 1;
        if arg >= call.nargs() {
            return Err(call.arg_error(arg, "no value"));
        }
        spec.conv = conv;
        match conv {
            b'c' => {
                if !flags_ok(&spec, b"-", false) {
                    return Err(invalid_conversion(call, whole));
                }
                let n = call.check_integer(arg)?;
                pad(&mut out, &[n as u8], &spec);
            }
            b'd' | b'i' => {
                if !flags_ok(&spec, b"-+0 ", true) {
                    return Err(invalid_conversion(call, whole));
                }
                let n = call.check_integer(arg)?;
                number::fmt_int(&mut out, n, &spec);
            }
            b'u' | b'o' | b'x' | b'X' => {
                let allowed: &[u8] = if conv == b'u' { b"-0" } else { b"-#0" };
                if !flags_ok(&spec, allowed, true) {
                    return Err(invalid_conversion(call, whole));
                }
                let n = call.check_integer(arg)?;
                number::fmt_int(&mut out, n, &spec);
            }
            b'a' | b'A' | b'e' | b'E' | b'f' | b'F' | b'g' | b'G' => {
                if !flags_ok(&spec, b"-+#0 ", true) {
                    return Err(invalid_conversion(call, whole));
                }
                let f = call.check_float(arg)?;
                number::fmt_float(&mut out, f, &spec);
            }
            b'p' => {
                if !flags_ok(&spec, b"-", false) {
                    return Err(invalid_conversion(call, whole));
                }
                let v = call.arg(arg);
                let s = match v {
                    Value::Table(_)
                    | Value::Closure(_)
                    | Value::Native(_)
                    | Value::Thread(_)
                    | Value::UserData(_)
                    | Value::String(_) => {
                        format!("0x{:x}", v.gc_address().unwrap_or(0))
                    }
                    _ => "(null)".to_string(),
                };
                pad(&mut out, s.as_bytes(), &spec);
            }
            b'q' => {
                if used != 0 {
                    return Err(call.error("specifier '%q' cannot have modifiers"));
                }
                quote(call, &mut out, arg)?;
            }
            b's' => {
                if !flags_ok(&spec, b"-", true) {
                    return Err(invalid_conversion(call, whole));
                }
                let s = call.to_string(call.arg(arg))?;
                let bytes = s.as_bytes();
                match spec.precision {
                    None if bytes.len() >= 100 => out.extend_from_slice(bytes),
                    Some(p) => {
                        let b = &bytes[..p.min(bytes.len())];
                        let b = match b.iter().position(|&c| c == 0) {
                            Some(z) => &b[..z],
                            None => b,
                        };
                        pad(&mut out, b, &spec)
                    }
                    None => {
                        if bytes.contains(&0) {
                            return Err(call.arg_error(arg, "string contains zeros"));
                        }
                        pad(&mut out, bytes, &spec)
                    }
                }
            }
            _ => return Err(invalid_conversion(call, whole)),
        }
    }
    let s = call.ctx.intern(&out);
    call.ret1(Value::String(s))
}

fn quote<'gc>(
    call: &mut NativeCall<'gc, '_>,
    out: &mut Vec<u8>,
    arg: usize,
) -> Result<(), interp::Error<'gc>> {
    match call.arg(arg) {
        Value::String(s) => {
            let b = s.as_bytes();
            out.push(b'"');
            for (k, &c) in b.iter().enumerate() {
                match c {
                    b'"' | b'\\' | b'\n' => {
                        out.push(b'\\');
                        out.push(c);
                    }
                    b'\r' => out.extend_from_slice(b"\\r"),
                    0 => {
                        if b.get(k + 1).is_some_and(|d| d.is_ascii_digit()) {
                            out.extend_from_slice(b"\\000");
                        } else {
                            out.extend_from_slice(b"\\0");
                        }
                    }
                    c if c.is_ascii_control() => {
                        if b.get(k + 1).is_some_and(|d| d.is_ascii_digit()) {
                            out.extend_from_slice(format!("\\{:03}", c).as_bytes());
                        } else {
                            out.extend_from_slice(format!("\\{}", c).as_bytes());
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push(b'"');
        }
        Value::Integer(n) => {
            if n == i64::MIN {
                out.extend_from_slice(b"0x8000000000000000");
            } else {
                out.extend_from_slice(n.to_string().as_bytes());
            }
        }
        Value::Number(f) => {
            if f == f64::INFINITY {
                out.extend_from_slice(b"1e9999");
            } else if f == f64::NEG_INFINITY {
                out.extend_from_slice(b"-1e9999");
            } else if f.is_nan() {
                out.extend_from_slice(b"(0/0)");
            } else if f == f.floor() && f.abs() < 1e18 {
                let spec = Spec {
                    conv: b'a',
                    ..Spec::default()
                };
                let mut tmp = Vec::new();
                number::fmt_float(&mut tmp, f, &spec);
                out.extend_from_slice(&tmp);
            } else {
                let spec = Spec {
                    conv: b'a',
                    ..Spec::default()
                };
                number::fmt_float(out, f, &spec);
            }
        }
        Value::Nil | Value::Boolean(_) => {
            let s = call.to_string(call.arg(arg))?;
            out.extend_from_slice(s.as_bytes());
        }
        _ => return Err(call.arg_error(arg, "value has no literal form")),
    }
    Ok(())
}
