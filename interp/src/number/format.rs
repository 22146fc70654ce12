//! C `printf` formatting of numbers as glibc prints them: `tostring` (`%.14g` plus `.0`,
//! `LUAI_NUMFFORMAT` and `tostringbuff`) and one conversion of `string.format`.
//!
//! Decimal digits come from Rust's exact float formatting (`{:.*}`, `{:.*e}`), which like
//! glibc prints the exact binary value rounded to nearest, ties to even.

/// One `printf` conversion: flags, width, precision and the conversion character.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spec {
    /// `-`: left-justify.
    pub minus: bool,
    /// `+`: always a sign.
    pub plus: bool,
    /// ` `: a space for positive numbers.
    pub space: bool,
    /// `#`: alternate form.
    pub hash: bool,
    /// `0`: zero padding.
    pub zero: bool,
    /// Minimum width.
    pub width: Option<usize>,
    /// Precision.
    pub precision: Option<usize>,
    /// Conversion character (`d`, `x`, `g`, ...).
    pub conv: u8,
}

impl Spec {
    /// Parses a printf-style specification starting at `%` (`"%-+#010.3e"`): flags, width,
    /// precision and conversion, without Lua's limits (`string.format` checks those
    /// itself). Returns the spec and the number of bytes read, or `None` if it is cut short.
    pub fn parse(fmt: &[u8]) -> Option<(Spec, usize)> {
        let mut s = Spec::default();
        let mut i = 1;
        while let Some(&c) = fmt.get(i) {
            match c {
                b'-' => s.minus = true,
                b'+' => s.plus = true,
                b' ' => s.space = true,
                b'#' => s.hash = true,
                b'0' => s.zero = true,
                _ => break,
            }
            i += 1;
        }
        let digits = |i: &mut usize| {
            let st = *i;
            while fmt.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            std::str::from_utf8(&fmt[st..*i])
                .ok()?
                .parse::<usize>()
                .ok()
        };
        s.width = digits(&mut i);
        if fmt.get(i) == Some(&b'.') {
            i += 1;
            s.precision = Some(digits(&mut i).unwrap_or(0));
        }
        s.conv = *fmt.get(i)?;
        Some((s, i + 1))
    }
}

/// Bound on widths and precisions honoured (Lua's own limit is 99), so that no input
/// allocates absurdly.
const MAX_FIELD: usize = 1 << 16;

/// Beyond this many fraction digits a double's exact expansion only has zeros (it needs at
/// most 1074 decimals in `%f` and 767 significant digits in `%e`).
const MAX_EXACT_DIGITS: usize = 1100;

/// Appends an integer as `tostring` does (`LUA_INTEGER_FMT`, `%lld`).
pub fn fmt_lua_int(i: i64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut u = i.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if i < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[pos..]);
}

/// Appends a float as `tostring` does: `%.14g`, plus `.0` if it looks like an integer
/// (`1.0`, `1e+15`, `-0.0`, `inf`, `-nan`).
pub fn fmt_lua_float(f: f64, out: &mut Vec<u8>) {
    // Fast path: integral values below 1e14 print all their digits under %.14g.
    if f.abs() < 1e14 && f == f.trunc() {
        if f == 0.0 && f.is_sign_negative() {
            out.push(b'-');
        }
        fmt_lua_int(f as i64, out);
        out.extend_from_slice(b".0");
        return;
    }
    let start = out.len();
    let spec = Spec {
        precision: Some(14),
        conv: b'g',
        ..Spec::default()
    };
    fmt_float(out, f, &spec);
    if out[start..]
        .iter()
        .all(|&c| c.is_ascii_digit() || c == b'-')
    {
        out.extend_from_slice(b".0");
    }
}

/// Appends `prefix` and `body` padded to the spec's width: spaces on the left (right with
/// `-`), or zeros between prefix and body when `zero_pad`.
fn pad(out: &mut Vec<u8>, prefix: &[u8], body: &[u8], spec: &Spec, zero_pad: bool) {
    let len = prefix.len() + body.len();
    let w = spec.width.unwrap_or(0).min(MAX_FIELD);
    let fill = w.saturating_sub(len);
    if spec.minus {
        out.extend_from_slice(prefix);
        out.extend_from_slice(body);
        out.resize(out.len() + fill, b' ');
    } else if zero_pad {
        out.extend_from_slice(prefix);
        out.resize(out.len() + fill, b'0');
        out.extend_from_slice(body);
    } else {
        out.resize(out.len() + fill, b' ');
        out.extend_from_slice(prefix);
        out.extend_from_slice(body);
    }
}

/// Digits of `u` in `radix` (8, 10 or 16), most significant first.
fn digits(mut u: u64, radix: u64, upper: bool) -> Vec<u8> {
    let table: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut v = Vec::with_capacity(22);
    loop {
        v.push(table[(u % radix) as usize]);
        u /= radix;
        if u == 0 {
            break;
        }
    }
    v.reverse();
    v
}

/// Formats an integer for `d i` (signed) and `u o x X c` (the two's-complement bits as
/// unsigned, as `string.format` passes `lua_Integer` to `%llx`).
pub fn fmt_int(out: &mut Vec<u8>, i: i64, spec: &Spec) {
    match spec.conv {
        b'd' | b'i' => {
            let sign: &[u8] = if i < 0 {
                b"-"
            } else if spec.plus {
                b"+"
            } else if spec.space {
                b" "
            } else {
                b""
            };
            let body = int_digits(i.unsigned_abs(), 10, false, spec);
            pad(
                out,
                sign,
                &body,
                spec,
                spec.zero && spec.precision.is_none(),
            );
        }
        _ => fmt_uint(out, i as u64, spec),
    }
}

/// The digits of an integer conversion with the precision applied (minimum digit count;
/// precision 0 prints nothing for 0).
fn int_digits(u: u64, radix: u64, upper: bool, spec: &Spec) -> Vec<u8> {
    let mut d = if u == 0 && spec.precision == Some(0) {
        Vec::new()
    } else {
        digits(u, radix, upper)
    };
    if let Some(p) = spec.precision {
        let p = p.min(MAX_FIELD);
        if d.len() < p {
            let mut z = vec![b'0'; p - d.len()];
            z.append(&mut d);
            d = z;
        }
    }
    d
}

/// Formats an unsigned integer for `u o x X` (and `c`: the low byte, padded).
pub fn fmt_uint(out: &mut Vec<u8>, u: u64, spec: &Spec) {
    let zero_pad = spec.zero && spec.precision.is_none();
    match spec.conv {
        b'c' => pad(out, b"", &[u as u8], spec, false),
        b'o' => {
            let mut body = int_digits(u, 8, false, spec);
            if spec.hash && body.first() != Some(&b'0') {
                body.insert(0, b'0');
            }
            pad(out, b"", &body, spec, zero_pad);
        }
        b'x' | b'X' => {
            let upper = spec.conv == b'X';
            let body = int_digits(u, 16, upper, spec);
            let prefix: &[u8] = match (spec.hash && u != 0, upper) {
                (false, _) => b"",
                (true, false) => b"0x",
                (true, true) => b"0X",
            };
            pad(out, prefix, &body, spec, zero_pad);
        }
        _ => {
            let body = int_digits(u, 10, false, spec);
            pad(out, b"", &body, spec, zero_pad);
        }
    }
}

/// Formats a float for `e E f F g G a A` (any other conversion is treated as `g`).
pub fn fmt_float(out: &mut Vec<u8>, f: f64, spec: &Spec) {
    let upper = spec.conv.is_ascii_uppercase();
    let sign: &[u8] = if f.is_sign_negative() {
        b"-"
    } else if spec.plus {
        b"+"
    } else if spec.space {
        b" "
    } else {
        b""
    };
    if !f.is_finite() {
        let body: &[u8] = match (f.is_nan(), upper) {
            (true, false) => b"nan",
            (true, true) => b"NAN",
            (false, false) => b"inf",
            (false, true) => b"INF",
        };
        pad(out, sign, body, spec, false);
        return;
    }
    let a = f.abs();
    let prec = spec.precision.map(|p| p.min(MAX_FIELD));
    let zero_pad = spec.zero && !spec.minus;
    match spec.conv.to_ascii_lowercase() {
        b'a' => {
            let mut body = hex(a, prec, spec.hash);
            if upper {
                body.make_ascii_uppercase();
            }
            let mut prefix = sign.to_vec();
            prefix.extend_from_slice(if upper { b"0X" } else { b"0x" });
            pad(out, &prefix, &body, spec, zero_pad);
        }
        c => {
            let p = prec.unwrap_or(6);
            let mut body = match c {
                b'f' => fixed(a, p, spec.hash),
                b'e' => expo(a, p, spec.hash),
                _ => general(a, p, spec.hash),
            };
            if upper {
                body.make_ascii_uppercase();
            }
            pad(out, sign, &body, spec, zero_pad);
        }
    }
}

/// `%.{prec}f` of a non-negative finite float.
fn fixed(a: f64, prec: usize, hash: bool) -> Vec<u8> {
    let exact = prec.min(MAX_EXACT_DIGITS);
    let mut s = format!("{:.*}", exact, a).into_bytes();
    s.resize(s.len() + (prec - exact), b'0');
    if hash && prec == 0 {
        s.push(b'.');
    }
    s
}

/// The mantissa digits (with the point) and decimal exponent of `%.{prec}e`.
fn expo_parts(a: f64, prec: usize) -> (Vec<u8>, i32) {
    let exact = prec.min(MAX_EXACT_DIGITS);
    let s = format!("{:.*e}", exact, a);
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let mut m = m.as_bytes().to_vec();
    m.resize(m.len() + (prec - exact), b'0');
    (m, e.parse().unwrap_or(0))
}

/// Appends a C exponent: `e`, sign, at least two digits.
fn push_exp(out: &mut Vec<u8>, e: i32) {
    out.push(b'e');
    out.push(if e < 0 { b'-' } else { b'+' });
    let e = e.unsigned_abs();
    if e < 10 {
        out.push(b'0');
    }
    fmt_lua_int(e as i64, out);
}

/// `%.{prec}e` of a non-negative finite float.
fn expo(a: f64, prec: usize, hash: bool) -> Vec<u8> {
    let (mut m, e) = expo_parts(a, prec);
    if hash && prec == 0 {
        m.push(b'.');
    }
    push_exp(&mut m, e);
    m
}

/// `%.{prec}g` of a non-negative finite float (C99 7.19.6.1).
fn general(a: f64, prec: usize, hash: bool) -> Vec<u8> {
    let p = prec.max(1);
    // X: the exponent %e would print with precision P-1 (after rounding).
    let (mant, x) = expo_parts(a, p - 1);
    let (mut s, exp) = if x < -4 || x as i64 >= p as i64 {
        (mant, Some(x))
    } else {
        // The `f` style with P-1-X decimals shows the same P rounded digits.
        let digits: Vec<u8> = mant.into_iter().filter(|&c| c != b'.').collect();
        let mut f = Vec::with_capacity(digits.len() + 6);
        if x >= 0 {
            let (int, frac) = digits.split_at((x as usize + 1).min(digits.len()));
            f.extend_from_slice(int);
            if !frac.is_empty() {
                f.push(b'.');
                f.extend_from_slice(frac);
            }
        } else {
            f.extend_from_slice(b"0.");
            f.resize(f.len() + (-x - 1) as usize, b'0');
            f.extend_from_slice(&digits);
        }
        (f, None)
    };
    if hash {
        if exp == Some(p as i32) && expo_parts(a, 40).1 == x - 1 {
            // glibc quirk: the value was below 10^P but rounds up to it; glibc picks the
            // `f` style first (precision 0) and prints "1.e+P" instead of C99's "1.000e+P".
            s.truncate(1);
        }
        if !s.contains(&b'.') {
            s.push(b'.');
        }
    } else if s.contains(&b'.') {
        while s.last() == Some(&b'0') {
            s.pop();
        }
        if s.last() == Some(&b'.') {
            s.pop();
        }
    }
    if let Some(x) = exp {
        push_exp(&mut s, x);
    }
    s
}

/// `%a` after the "0x" prefix, for a non-negative finite float, as glibc prints it: leading
/// digit 1 (0 for subnormals, exponent -1022), trailing zeros dropped without a precision,
/// rounding to nearest-even otherwise (a carry may make the leading digit 2).
fn hex(a: f64, prec: Option<usize>, hash: bool) -> Vec<u8> {
    let bits = a.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let mut frac = bits & ((1u64 << 52) - 1);
    let (mut lead, exp) = match (biased, frac) {
        (0, 0) => (0u64, 0i64),
        (0, _) => (0, -1022),
        _ => (1, biased - 1023),
    };
    let mut ndigits = 13usize; // fraction digits to print before padding
    match prec {
        None => {
            while ndigits > 0 && (frac >> (4 * (13 - ndigits))) & 0xf == 0 {
                ndigits -= 1;
            }
        }
        Some(p) if p < 13 => {
            let shift = (13 - p) as u32 * 4;
            let full = (lead << 52) | frac;
            let half = 1u64 << (shift - 1);
            let rem = full & ((1u64 << shift) - 1);
            let mut q = full >> shift;
            if rem > half || (rem == half && q & 1 == 1) {
                q += 1;
            }
            let full = q << shift;
            lead = full >> 52;
            frac = full & ((1u64 << 52) - 1);
            ndigits = p;
        }
        Some(_) => {}
    }
    let mut s = Vec::with_capacity(24);
    s.push(b'0' + lead as u8);
    if ndigits > 0 || hash || prec.is_some_and(|p| p > 0) {
        s.push(b'.');
    }
    let all = digits(frac, 16, false);
    let mut fd = vec![b'0'; 13 - all.len()];
    fd.extend_from_slice(&all);
    s.extend_from_slice(&fd[..ndigits]);
    if let Some(p) = prec {
        s.resize(s.len() + p.saturating_sub(ndigits), b'0');
    }
    s.push(b'p');
    s.push(if exp < 0 { b'-' } else { b'+' });
    fmt_lua_int(exp.abs(), &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(f: f64) -> String {
        let mut v = Vec::new();
        fmt_lua_float(f, &mut v);
        String::from_utf8(v).unwrap()
    }

    /// Formats with a printf-like spec string such as "%-+#010.3e".
    fn pf(fmt: &str, x: f64) -> String {
        let (spec, rest) = parse(fmt);
        let mut v = Vec::new();
        fmt_float(&mut v, x, &spec);
        String::from_utf8(v).unwrap() + rest
    }

    fn pi(fmt: &str, x: i64) -> String {
        let (spec, rest) = parse(fmt);
        let mut v = Vec::new();
        fmt_int(&mut v, x, &spec);
        String::from_utf8(v).unwrap() + rest
    }

    fn parse(fmt: &str) -> (Spec, &str) {
        let (spec, n) = Spec::parse(fmt.as_bytes()).unwrap();
        (spec, &fmt[n..])
    }

    #[test]
    fn lua_float_output() {
        assert_eq!(g(1.0), "1.0");
        assert_eq!(g(100.0), "100.0");
        assert_eq!(g(0.1), "0.1");
        assert_eq!(g(1e15), "1e+15");
        assert_eq!(g(1e14), "1e+14");
        assert_eq!(g(99999999999999.0), "99999999999999.0");
        assert_eq!(g(123456789012.0), "123456789012.0");
        assert_eq!(g(-0.0), "-0.0");
        assert_eq!(g(0.0), "0.0");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(-f64::INFINITY), "-inf");
        assert_eq!(g(f64::NAN), "nan");
        assert_eq!(g(-f64::NAN), "-nan");
        assert_eq!(g(1.0 / 3.0), "0.33333333333333");
        assert_eq!(g(9_007_199_254_740_992.0), "9.007199254741e+15");
        assert_eq!(g(9_223_372_036_854_775_808.0), "9.2233720368548e+18");
        assert_eq!(g(1.23456), "1.23456");
        assert_eq!(g(1e-5), "1e-05");
        assert_eq!(g(5e-324), "4.9406564584125e-324");
        assert_eq!(g(1e308 * 10.0), "inf");
        assert_eq!(g(-1.5), "-1.5");
    }

    #[test]
    fn lua_int_output() {
        let s = |i: i64| {
            let mut v = Vec::new();
            fmt_lua_int(i, &mut v);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(s(0), "0");
        assert_eq!(s(-7), "-7");
        assert_eq!(s(i64::MIN), "-9223372036854775808");
        assert_eq!(s(i64::MAX), "9223372036854775807");
    }

    #[test]
    fn printf_floats() {
        assert_eq!(pf("%5.2f", 1.23456), " 1.23");
        assert_eq!(pf("%e", 12345.678), "1.234568e+04");
        assert_eq!(pf("%E", 0.0), "0.000000E+00");
        assert_eq!(pf("%.0e", 2.5), "2e+00");
        assert_eq!(pf("%#.0e", 2.5), "2.e+00");
        assert_eq!(pf("%#.0f", 0.5), "0.");
        assert_eq!(pf("%.0f", 1.5), "2");
        assert_eq!(pf("%.1f", 0.25), "0.2");
        assert_eq!(pf("%g", 0.0001), "0.0001");
        assert_eq!(pf("%g", 0.00001), "1e-05");
        assert_eq!(pf("%g", 100000.0), "100000");
        assert_eq!(pf("%g", 1000000.0), "1e+06");
        assert_eq!(pf("%g", 999999.5), "1e+06");
        assert_eq!(pf("%#g", 1.0), "1.00000");
        assert_eq!(pf("%#.3g", 1e10), "1.00e+10");
        assert_eq!(pf("%#g", 999999.5), "1.e+06");
        assert_eq!(pf("%#.3g", 999.5), "1.e+03");
        assert_eq!(pf("%#g", 9999995.0), "1.00000e+07");
        assert_eq!(pf("%#g", 99.99996), "100.000");
        assert_eq!(pf("%.0g", 0.0), "0");
        assert_eq!(pf("%#.0g", 0.0), "0.");
        assert_eq!(pf("%G", 1e-10), "1E-10");
        assert_eq!(pf("%+.3f", 1.0), "+1.000");
        assert_eq!(pf("% .3f", 1.0), " 1.000");
        assert_eq!(pf("%010.3f", -1.0), "-00001.000");
        assert_eq!(pf("%-10.3f|", -1.0), "-1.000    |");
        assert_eq!(pf("%010f", f64::INFINITY), "       inf");
        assert_eq!(pf("%-6f|", f64::NAN), "nan   |");
        assert_eq!(pf("%+f", f64::NAN), "+nan");
        assert_eq!(pf("%F", -f64::NAN), "-NAN");
        assert_eq!(pf("%.3f", -0.0), "-0.000");
        assert_eq!(pf("%e", 1e300), "1.000000e+300");
        assert_eq!(pf("%.3e", 5e-324), "4.941e-324");
        assert_eq!(pf("%.20f", 0.1), "0.10000000000000000555");
    }

    #[test]
    fn printf_hex_floats() {
        assert_eq!(pf("%a", 1.0), "0x1p+0");
        assert_eq!(pf("%a", 3.0), "0x1.8p+1");
        assert_eq!(pf("%A", 3.0), "0X1.8P+1");
        assert_eq!(pf("%a", 0.1), "0x1.999999999999ap-4");
        assert_eq!(pf("%.3a", 1.0 / 3.0), "0x1.555p-2");
        assert_eq!(pf("%a", 0.0), "0x0p+0");
        assert_eq!(pf("%a", -0.0), "-0x0p+0");
        assert_eq!(pf("%#a", 1.0), "0x1.p+0");
        assert_eq!(pf("%.2a", 0.0), "0x0.00p+0");
        assert_eq!(pf("%a", 5e-324), "0x0.0000000000001p-1022");
        assert_eq!(pf("%.0a", 1.5), "0x2p+0");
        assert_eq!(pf("%.0a", 2.5), "0x1p+1");
        assert_eq!(pf("%.1a", 1.96875), "0x2.0p+0");
        assert_eq!(pf("%.15a", 1.0), "0x1.000000000000000p+0");
        assert_eq!(pf("%012a", 1.0), "0x0000001p+0");
        assert_eq!(pf("%-12a|", -1.0), "-0x1p+0     |");
        assert_eq!(pf("%+a", f64::MAX), "+0x1.fffffffffffffp+1023");
    }

    #[test]
    fn printf_integers() {
        assert_eq!(pi("%d", -1), "-1");
        assert_eq!(pi("%5d", 42), "   42");
        assert_eq!(pi("%-5d|", 42), "42   |");
        assert_eq!(pi("%05d", -42), "-0042");
        assert_eq!(pi("%+d", 0), "+0");
        assert_eq!(pi("% d", 7), " 7");
        assert_eq!(pi("%.3d", 7), "007");
        assert_eq!(pi("%08.3d", 7), "     007");
        assert_eq!(pi("%.0d", 0), "");
        assert_eq!(pi("%d", i64::MIN), "-9223372036854775808");
        assert_eq!(pi("%x", -1), "ffffffffffffffff");
        assert_eq!(pi("%X", 255), "FF");
        assert_eq!(pi("%#x", 255), "0xff");
        assert_eq!(pi("%#x", 0), "0");
        assert_eq!(pi("%#010x", 255), "0x000000ff");
        assert_eq!(pi("%o", 8), "10");
        assert_eq!(pi("%#o", 8), "010");
        assert_eq!(pi("%#.0o", 0), "0");
        assert_eq!(pi("%#.3o", 8), "010");
        assert_eq!(pi("%u", -1), "18446744073709551615");
        assert_eq!(pi("%5c|", 65), "    A|");
    }

    #[test]
    #[cfg_attr(miri, ignore = "formats gigabytes: too slow under Miri")]
    fn huge_fields_do_not_panic() {
        let s = Spec {
            width: Some(usize::MAX),
            precision: Some(usize::MAX),
            conv: b'f',
            ..Spec::default()
        };
        for conv in [b'f', b'e', b'g', b'a', b'd', b'x', b'o', b'c'] {
            let mut v = Vec::new();
            let s = Spec { conv, ..s };
            if conv.is_ascii_digit() || b"dxoc".contains(&conv) {
                fmt_int(&mut v, -5, &s);
            } else {
                fmt_float(&mut v, 1e300, &s);
            }
            assert!(v.len() <= 2 * MAX_FIELD + 400);
        }
    }
}
