//! `string.format` (lstrlib.c's `str_format`): parses each conversion and formats it with the
//! printf engine of `interp::number`.

use interp::number::{self, Spec};
use interp::{NativeCall, Value};

use crate::util::Ret;

/// Maximum size of a conversion specification (lstrlib.c's `MAX_FORMAT`).
const MAX_FORMAT: usize = 32;

/// Characters spanned by C's `getformat`: flags, width and precision.
const FORMAT_SPAN: &[u8] = b"-+#0 123456789.";

fn invalid_conversion<'gc>(call: &NativeCall<'gc, '_>, form: &[u8]) -> interp::Error<'gc> {
    call.error(format!(
        "invalid conversion '%{}' to 'format'",
        String::from_utf8_lossy(form)
    ))
}

/// C's `getformat`: the specification after a '%' (conversion included, if any).
fn get_format<'gc, 'f>(
    call: &NativeCall<'gc, '_>,
    fmt: &'f [u8],
) -> Result<&'f [u8], interp::Error<'gc>> {
    let span = fmt.iter().take_while(|c| FORMAT_SPAN.contains(c)).count();
    if span + 1 >= MAX_FORMAT - 10 {
        return Err(call.error("invalid format (too long)"));
    }
    Ok(&fmt[..(span + 1).min(fmt.len())])
}

/// Skips up to two digits, returning their value.
fn two_digits(form: &[u8], i: &mut usize) -> Option<usize> {
    let start = *i;
    while *i < start + 2 && form.get(*i).is_some_and(u8::is_ascii_digit) {
        *i += 1;
    }
    let digits = std::str::from_utf8(&form[start..*i]).ok()?;
    digits.parse().ok()
}

/// C's `checkformat`: only `flags`, a width of up to two digits and (if allowed) a
/// precision of up to two digits may precede the conversion. Returns the parsed spec.
fn check_format(form: &[u8], flags: &[u8], precision: bool) -> Option<Spec> {
    let mut spec = Spec::default();
    let mut i = 0;
    while let Some(&c) = form.get(i).filter(|c| flags.contains(c)) {
        match c {
            b'-' => spec.minus = true,
            b'+' => spec.plus = true,
            b' ' => spec.space = true,
            b'#' => spec.hash = true,
            _ => spec.zero = true,
        }
        i += 1;
    }
    if form.get(i) != Some(&b'0') {
        spec.width = two_digits(form, &mut i);
        if precision && form.get(i) == Some(&b'.') {
            i += 1;
            spec.precision = Some(two_digits(form, &mut i).unwrap_or(0));
        }
    }
    let conv = *form.get(i).filter(|c| c.is_ascii_alphabetic())?;
    spec.conv = conv;
    Some(spec)
}

/// `check_format` raising C Lua's error.
fn checked_spec<'gc>(
    call: &NativeCall<'gc, '_>,
    form: &[u8],
    flags: &[u8],
    precision: bool,
) -> Result<Spec, interp::Error<'gc>> {
    check_format(form, flags, precision).ok_or_else(|| {
        call.error(format!(
            "invalid conversion specification: '%{}'",
            String::from_utf8_lossy(form)
        ))
    })
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
        arg += 1;
        if arg >= call.nargs() {
            return Err(call.arg_error(arg, "no value"));
        }
        let form = get_format(call, &fmt[i..])?;
        i += form.len();
        format_item(call, &mut out, form, arg)?;
    }
    let s = call.ctx.intern(&out);
    call.ret1(Value::String(s))
}

/// Formats one conversion `form` (without the '%') of argument `arg`.
fn format_item<'gc>(
    call: &mut NativeCall<'gc, '_>,
    out: &mut Vec<u8>,
    form: &[u8],
    arg: usize,
) -> Result<(), interp::Error<'gc>> {
    match form.last().copied().unwrap_or(0) {
        b'c' => {
            let spec = checked_spec(call, form, b"-", false)?;
            let n = call.check_integer(arg)?;
            pad(out, &[n as u8], &spec);
        }
        conv @ (b'd' | b'i' | b'u' | b'o' | b'x' | b'X') => {
            let flags: &[u8] = match conv {
                b'd' | b'i' => b"-+0 ",
                b'u' => b"-0",
                _ => b"-#0",
            };
            let n = call.check_integer(arg)?;
            let spec = checked_spec(call, form, flags, true)?;
            number::fmt_int(out, n, &spec);
        }
        // As `str_format`: '%a' checks its specification before its argument, the others
        // after.
        b'a' | b'A' => {
            let spec = checked_spec(call, form, b"-+#0 ", true)?;
            let f = call.check_float(arg)?;
            number::fmt_float(out, f, &spec);
        }
        b'e' | b'E' | b'f' | b'g' | b'G' => {
            let f = call.check_float(arg)?;
            let spec = checked_spec(call, form, b"-+#0 ", true)?;
            number::fmt_float(out, f, &spec);
        }
        b'p' => {
            let spec = checked_spec(call, form, b"-", false)?;
            pad(out, pointer(call.arg(arg)).as_bytes(), &spec);
        }
        b'q' => {
            if form.len() > 1 {
                return Err(call.error("specifier '%q' cannot have modifiers"));
            }
            quote(call, out, arg)?;
        }
        b's' => {
            let s = call.to_string(call.arg(arg))?;
            format_s(call, out, s.as_bytes(), form, arg)?;
        }
        _ => return Err(invalid_conversion(call, form)),
    }
    Ok(())
}

/// `%p`: the address of a collectable value, or "(null)".
fn pointer(v: Value<'_>) -> String {
    match v {
        Value::Table(_)
        | Value::Closure(_)
        | Value::Native(_)
        | Value::Thread(_)
        | Value::UserData(_)
        | Value::LightUserData(_)
        | Value::String(_) => format!("0x{:x}", v.gc_address().unwrap_or(0)),
        _ => "(null)".to_string(),
    }
}

/// `%s`: without modifiers the whole string is kept; otherwise it must not contain zeros.
fn format_s<'gc>(
    call: &NativeCall<'gc, '_>,
    out: &mut Vec<u8>,
    bytes: &[u8],
    form: &[u8],
    arg: usize,
) -> Result<(), interp::Error<'gc>> {
    if form.len() == 1 {
        out.extend_from_slice(bytes);
        return Ok(());
    }
    if bytes.contains(&0) {
        return Err(call.arg_error(arg, "string contains zeros"));
    }
    let spec = checked_spec(call, form, b"-", true)?;
    match spec.precision {
        None if bytes.len() >= 100 => out.extend_from_slice(bytes),
        Some(p) => pad(out, &bytes[..p.min(bytes.len())], &spec),
        None => pad(out, bytes, &spec),
    }
    Ok(())
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
