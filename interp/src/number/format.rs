//! C `printf` formatting of numbers, as glibc prints them.

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

/// Appends an integer as `tostring` does.
pub fn fmt_lua_int(i: i64, out: &mut Vec<u8>) {
    let mut buf = itoa_buf(i);
    out.append(&mut buf);
}

fn itoa_buf(i: i64) -> Vec<u8> {
    i.to_string().into_bytes()
}

/// Appends a float as `tostring` does: `%.14g`, plus `.0` if it looks like an integer.
pub fn fmt_lua_float(f: f64, out: &mut Vec<u8>) {
    let start = out.len();
    let spec = Spec {
        precision: Some(14),
        conv: b'g',
        ..Spec::default()
    };
    fmt_float(out, f, &spec);
    let s = &out[start..];
    if s.iter().all(|&c| c.is_ascii_digit() || c == b'-') {
        out.extend_from_slice(b".0");
    }
}

fn pad(out: &mut Vec<u8>, sign: &[u8], body: &[u8], spec: &Spec, allow_zero: bool) {
    let len = sign.len() + body.len();
    let w = spec.width.unwrap_or(0).min(1 << 20);
    if len >= w {
        out.extend_from_slice(sign);
        out.extend_from_slice(body);
    } else if spec.minus {
        out.extend_from_slice(sign);
        out.extend_from_slice(body);
        out.resize(out.len() + w - len, b' ');
    } else if spec.zero && allow_zero {
        out.extend_from_slice(sign);
        out.resize(out.len() + w - len, b'0');
        out.extend_from_slice(body);
    } else {
        out.resize(out.len() + w - len, b' ');
        out.extend_from_slice(sign);
        out.extend_from_slice(body);
    }
}

/// Formats an integer for `d i u o x X c` (unsigned conversions use the two's-complement bits).
pub fn fmt_int(out: &mut Vec<u8>, i: i64, spec: &Spec) {
    let (sign, mut digits): (&[u8], Vec<u8>) = match spec.conv {
        b'x' => (b"", format!("{:x}", i as u64).into_bytes()),
        b'X' => (b"", format!("{:X}", i as u64).into_bytes()),
        b'o' => (b"", format!("{:o}", i as u64).into_bytes()),
        b'u' => (b"", (i as u64).to_string().into_bytes()),
        _ => {
            let s: &[u8] = if i < 0 {
                b"-"
            } else if spec.plus {
                b"+"
            } else if spec.space {
                b" "
            } else {
                b""
            };
            (s, i.unsigned_abs().to_string().into_bytes())
        }
    };
    if let Some(p) = spec.precision {
        let p = p.min(1 << 20);
        if p == 0 && i == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, b'0');
        }
    }
    let mut prefix: Vec<u8> = sign.to_vec();
    if spec.hash && i != 0 {
        match spec.conv {
            b'x' => prefix.extend_from_slice(b"0x"),
            b'X' => prefix.extend_from_slice(b"0X"),
            b'o' if digits.first() != Some(&b'0') => digits.insert(0, b'0'),
            _ => {}
        }
    }
    pad(out, &prefix, &digits, spec, spec.precision.is_none());
}

/// Formats a float for `e E f F g G a A`.
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
    let sign: &[u8] = if f.is_nan() && !f.is_sign_negative() {
        if spec.plus {
            b"+"
        } else if spec.space {
            b" "
        } else {
            b""
        }
    } else {
        sign
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
    let prec = spec.precision.unwrap_or(6).min(400);
    let body = match spec.conv.to_ascii_lowercase() {
        b'f' => fixed(a, prec, spec.hash),
        b'e' => expo(a, prec, spec.hash),
        b'g' => general(a, spec.precision.unwrap_or(6).min(400), spec.hash),
        _ => hex(a, spec.precision, spec.hash),
    };
    let body = if upper {
        body.to_ascii_uppercase()
    } else {
        body
    };
    pad(out, sign, &body, spec, true);
}

fn fixed(a: f64, prec: usize, hash: bool) -> Vec<u8> {
    let mut s = format!("{:.*}", prec, a).into_bytes();
    if hash && prec == 0 {
        s.push(b'.');
    }
    s
}

fn expo(a: f64, prec: usize, hash: bool) -> Vec<u8> {
    let s = format!("{:.*e}", prec, a);
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let mut out = m.as_bytes().to_vec();
    if hash && prec == 0 {
        out.push(b'.');
    }
    out.extend_from_slice(format!("e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs()).as_bytes());
    out
}

fn general(a: f64, prec: usize, hash: bool) -> Vec<u8> {
    let p = if prec == 0 { 1 } else { prec };
    // The exponent as %e would print it with precision p-1.
    let e = if a == 0.0 {
        0
    } else {
        let s = format!("{:.*e}", p - 1, a);
        s.split_once('e')
            .map(|(_, e)| e.parse::<i32>().unwrap_or(0))
            .unwrap_or(0)
    };
    let mut s = if e < -4 || e >= p as i32 {
        expo(a, p - 1, hash)
    } else {
        fixed(a, (p as i32 - 1 - e).max(0) as usize, hash)
    };
    if !hash {
        // Remove trailing zeros of the fraction.
        let epos = s.iter().position(|&c| c == b'e');
        let (mant, rest) = match epos {
            Some(i) => (s[..i].to_vec(), s[i..].to_vec()),
            None => (s.clone(), Vec::new()),
        };
        let mut mant = mant;
        if mant.contains(&b'.') {
            while mant.last() == Some(&b'0') {
                mant.pop();
            }
            if mant.last() == Some(&b'.') {
                mant.pop();
            }
        }
        mant.extend_from_slice(&rest);
        s = mant;
    }
    s
}

fn hex(a: f64, prec: Option<usize>, hash: bool) -> Vec<u8> {
    if a == 0.0 {
        let mut s = b"0x0".to_vec();
        if let Some(p) = prec {
            if p > 0 {
                s.push(b'.');
                s.resize(s.len() + p.min(400), b'0');
            }
        }
        if hash && prec.unwrap_or(0) == 0 {
            s.push(b'.');
        }
        s.extend_from_slice(b"p+0");
        return s;
    }
    let bits = a.to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1u64 << 52) - 1);
    let lead: u64;
    if exp == 0 {
        lead = 0;
        exp = -1022;
    } else {
        lead = 1;
        exp -= 1023;
    }
    let mut digits = 13usize;
    let mut lead = lead;
    if let Some(p) = prec {
        if p < 13 {
            let shift = (13 - p) * 4;
            let full = (lead << 52) | mant;
            let half = 1u64 << (shift - 1);
            let rem = full & ((1u64 << shift) - 1);
            let mut q = full >> shift;
            if rem > half || (rem == half && (q & 1) == 1) {
                q += 1;
            }
            let full2 = q << shift;
            lead = full2 >> 52;
            mant = full2 & ((1u64 << 52) - 1);
            digits = p;
        }
    }
    let mut frac = format!("{:013x}", mant).into_bytes();
    if prec.is_none() {
        while frac.last() == Some(&b'0') {
            frac.pop();
        }
    } else {
        frac.truncate(digits);
        while frac.len() < prec.unwrap_or(0).min(400) {
            frac.push(b'0');
        }
    }
    let mut s = format!("0x{}", lead).into_bytes();
    if !frac.is_empty() || hash {
        s.push(b'.');
        s.extend_from_slice(&frac);
    }
    s.extend_from_slice(format!("p{}{}", if exp < 0 { '-' } else { '+' }, exp.abs()).as_bytes());
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

    #[test]
    fn lua_float_output() {
        assert_eq!(g(1.0), "1.0");
        assert_eq!(g(0.1), "0.1");
        assert_eq!(g(1e15), "1e+15");
        assert_eq!(g(1e14), "1e+14");
        assert_eq!(g(123456789012.0), "123456789012.0");
        assert_eq!(g(-0.0), "-0.0");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(-f64::INFINITY), "-inf");
        assert_eq!(g(1.0 / 3.0), "0.33333333333333");
        assert_eq!(g(2f64.powi(53)), "9.007199254741e+15");
        assert_eq!(g(1.23456), "1.23456");
    }

    #[test]
    fn printf_conversions() {
        let f = |conv: u8, w: Option<usize>, p: Option<usize>, x: f64| {
            let mut v = Vec::new();
            fmt_float(
                &mut v,
                x,
                &Spec {
                    width: w,
                    precision: p,
                    conv,
                    ..Spec::default()
                },
            );
            String::from_utf8(v).unwrap()
        };
        assert_eq!(f(b'f', Some(5), Some(2), 1.23456), " 1.23");
        assert_eq!(f(b'e', None, None, 12345.678), "1.234568e+04");
        assert_eq!(f(b'g', None, None, 0.0001), "0.0001");
        assert_eq!(f(b'g', None, None, 0.00001), "1e-05");
        assert_eq!(f(b'a', None, None, 1.0), "0x1p+0");
        assert_eq!(f(b'a', None, None, 3.0), "0x1.8p+1");
        let mut v = Vec::new();
        fmt_int(
            &mut v,
            -1,
            &Spec {
                conv: b'x',
                ..Spec::default()
            },
        );
        assert_eq!(v, b"ffffffffffffffff");
    }
}
