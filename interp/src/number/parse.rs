//! String to number conversion as `luaO_str2num` (`l_str2int`, then `l_str2d` over glibc's
//! `strtod`) and `tonumber(s, base)` (`lbaselib.c`'s `b_str2int`) do.

use super::Number;

/// C `isspace` in the "C" locale (also Lua's `lisspace`).
#[inline]
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `s` without leading and trailing C whitespace.
fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| !is_space(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&c| !is_space(c))
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// The value of a hexadecimal digit.
#[inline]
fn hex_value(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// Converts a string to a number with Lua's rules (`luaO_str2num` on the whole string):
/// optional whitespace and sign, decimal or hexadecimal integers (hex wraps around modulo
/// 2^64; decimal overflow becomes a float), decimal and hexadecimal floats as `strtod` reads
/// them (correctly rounded). No `inf`/`nan`, no embedded NUL, no empty numeral.
pub fn str_to_number(s: &[u8]) -> Option<Number> {
    if s.contains(&0) {
        return None;
    }
    let t = trim(s);
    if let Some(i) = str_to_int(t) {
        return Some(Number::Int(i));
    }
    // l_str2d: reject 'inf' and 'nan' (any 'n' before a '.' or 'x')
    if let Some(&c) = t
        .iter()
        .find(|&&c| matches!(c, b'.' | b'x' | b'X' | b'n' | b'N'))
    {
        if c == b'n' || c == b'N' {
            return None;
        }
    }
    strtod(t).map(Number::Float)
}

/// `l_str2int` on a trimmed string: a decimal integer that fits, or a hex integer (wrapping).
fn str_to_int(t: &[u8]) -> Option<i64> {
    let (neg, body) = split_sign(t);
    if body.len() >= 2 && body[0] == b'0' && (body[1] == b'x' || body[1] == b'X') {
        let h = &body[2..];
        if h.is_empty() {
            return None;
        }
        let mut a: u64 = 0;
        for &c in h {
            a = a.wrapping_mul(16).wrapping_add(hex_value(c)? as u64);
        }
        return Some(if neg { a.wrapping_neg() } else { a } as i64);
    }
    if body.is_empty() {
        return None;
    }
    const MAXBY10: u64 = (i64::MAX / 10) as u64;
    const MAXLASTD: u64 = (i64::MAX % 10) as u64;
    let mut a: u64 = 0;
    for &c in body {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = (c - b'0') as u64;
        if a >= MAXBY10 && (a > MAXBY10 || d > MAXLASTD + neg as u64) {
            return None; // overflow: not accepted as an integer
        }
        a = a * 10 + d;
    }
    Some(if neg { a.wrapping_neg() } else { a } as i64)
}

/// An optional leading '-' or '+'.
#[inline]
fn split_sign(t: &[u8]) -> (bool, &[u8]) {
    match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    }
}

/// glibc `strtod` on a trimmed string that must be consumed whole (no inf/nan forms).
fn strtod(t: &[u8]) -> Option<f64> {
    let (neg, body) = split_sign(t);
    let r = if body.len() >= 2 && body[0] == b'0' && (body[1] == b'x' || body[1] == b'X') {
        hex_float(&body[2..])?
    } else {
        decimal_float(body)?
    };
    Some(if neg { -r } else { r })
}

/// A decimal float: digits [. digits] [(e|E) [sign] digits], correctly rounded.
fn decimal_float(body: &[u8]) -> Option<f64> {
    let mut i = 0;
    let mut digits = 0;
    while i < body.len() && body[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < body.len() && body[i] == b'.' {
        i += 1;
        while i < body.len() && body[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < body.len() && (body[i] == b'e' || body[i] == b'E') {
        i += 1;
        if i < body.len() && (body[i] == b'+' || body[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < body.len() && body[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != body.len() {
        return None;
    }
    // Only ASCII digits, '.', 'e', signs remain: Rust's parser is correctly rounded too.
    let text = std::str::from_utf8(body).ok()?;
    text.parse::<f64>().ok()
}

/// A hexadecimal float after "0x": hex digits with an optional point (at least one digit),
/// then an optional binary exponent `p [sign] digits`; correctly rounded to nearest-even.
fn hex_float(h: &[u8]) -> Option<f64> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0; // value = mant * 2^exp (+ sticky)
    let mut sticky = false;
    let mut any = false;
    let mut seen_dot = false;
    let mut i = 0;
    while i < h.len() {
        let c = h[i];
        if c == b'.' {
            if seen_dot {
                break;
            }
            seen_dot = true;
        } else if let Some(d) = hex_value(c) {
            any = true;
            if mant >> 60 == 0 {
                mant = mant * 16 + d as u64;
                if seen_dot {
                    exp -= 4;
                }
            } else {
                // No room: the digit only matters as a sticky bit, its weight as exponent.
                sticky |= d != 0;
                if !seen_dot {
                    exp += 4;
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if i < h.len() {
        if h[i] != b'p' && h[i] != b'P' {
            return None;
        }
        i += 1;
        let (eneg, rest) = split_sign(&h[i..]);
        if rest.is_empty() {
            return None;
        }
        let mut e: i64 = 0;
        for &c in rest {
            if !c.is_ascii_digit() {
                return None;
            }
            e = (e * 10 + (c - b'0') as i64).min(1 << 40);
        }
        exp = exp.saturating_add(if eneg { -e } else { e });
    }
    Some(make_f64(mant, exp, sticky))
}

/// `mant * 2^exp` rounded to nearest-even, where `sticky` stands for nonzero bits below
/// `mant`'s last bit (which must then be below the rounding position).
fn make_f64(mant: u64, exp: i64, sticky: bool) -> f64 {
    if mant == 0 {
        return 0.0;
    }
    let lz = mant.leading_zeros() as i64;
    let m = mant << lz;
    // value = m * 2^(e - 63), with m in [2^63, 2^64): the leading bit weighs 2^e.
    let e = exp.saturating_sub(lz).saturating_add(63);
    if e > 1023 {
        return f64::INFINITY;
    }
    let keep: i64 = if e >= -1022 { 53 } else { e + 1075 };
    if keep < 0 {
        return 0.0;
    }
    let shift = (64 - keep) as u32; // 11..=64
    let m = m as u128;
    let mut q = m >> shift;
    let rem = m & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    if rem > half || (rem == half && (sticky || q & 1 == 1)) {
        q += 1;
    }
    let q = q as u64;
    if e >= -1022 {
        let (q, e) = if q == 1 << 53 {
            (q >> 1, e + 1)
        } else {
            (q, e)
        };
        if e > 1023 {
            return f64::INFINITY;
        }
        f64::from_bits((((e + 1023) as u64) << 52) | (q & ((1 << 52) - 1)))
    } else {
        // Subnormal: q counts units of 2^-1074 (2^52 of them is the smallest normal).
        f64::from_bits(q)
    }
}

/// `tonumber(s, base)` (`b_str2int`): optional whitespace, optional '-' or '+', at least
/// one alphanumeric digit below `base` (2..=36), optional whitespace; wraps around modulo
/// 2^64. `None` for anything else, including embedded NULs.
pub fn str_to_int_base(s: &[u8], base: u32) -> Option<i64> {
    let t = trim(s);
    let (neg, body) = split_sign(t);
    if body.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in body {
        let d = (c as char).to_digit(36)?;
        if d >= base {
            return None;
        }
        v = v.wrapping_mul(base as u64).wrapping_add(d as u64);
    }
    Some(if neg { v.wrapping_neg() } else { v } as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<Number> {
        str_to_number(s.as_bytes())
    }

    fn fl(s: &str) -> f64 {
        match n(s) {
            Some(Number::Float(f)) => f,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn integers() {
        assert_eq!(n(" 10 "), Some(Number::Int(10)));
        assert_eq!(n("\t\n\x0b\x0c\r-10\r"), Some(Number::Int(-10)));
        assert_eq!(n("+7"), Some(Number::Int(7)));
        assert_eq!(n("0x10"), Some(Number::Int(16)));
        assert_eq!(n("-0X1f"), Some(Number::Int(-31)));
        assert_eq!(n("0xffffffffffffffff"), Some(Number::Int(-1)));
        assert_eq!(n("0x1ffffffffffffffff"), Some(Number::Int(-1)));
        assert_eq!(n("9223372036854775807"), Some(Number::Int(i64::MAX)));
        assert_eq!(n("-9223372036854775808"), Some(Number::Int(i64::MIN)));
        assert_eq!(
            n("9223372036854775808"),
            Some(Number::Float(9_223_372_036_854_775_808.0))
        );
        assert_eq!(
            n("-9223372036854775809"),
            Some(Number::Float(-(9_223_372_036_854_775_808.0)))
        );
        assert_eq!(n("000000000000000000000000000001"), Some(Number::Int(1)));
        assert_eq!(n("- 1"), None);
        assert_eq!(n("--1"), None);
        assert_eq!(n("1 1"), None);
        assert_eq!(n("1\0"), None);
        assert_eq!(n(""), None);
        assert_eq!(n("  "), None);
        assert_eq!(n("0x"), None);
        assert_eq!(n("-"), None);
    }

    #[test]
    fn floats() {
        assert_eq!(fl("1e2"), 100.0);
        assert_eq!(fl(".5"), 0.5);
        assert_eq!(fl("5."), 5.0);
        assert_eq!(fl("-.5e-1"), -0.05);
        assert_eq!(fl("0.1"), 0.1);
        assert_eq!(fl("1e400"), f64::INFINITY);
        assert_eq!(fl("-1e400"), f64::NEG_INFINITY);
        assert_eq!(fl("1e-400"), 0.0);
        assert!(fl("-0.0").is_sign_negative());
        assert_eq!(fl("4.9406564584124654e-324"), 5e-324);
        assert_eq!(n("inf"), None);
        assert_eq!(n("nan"), None);
        assert_eq!(n("-INF"), None);
        assert_eq!(n("1e"), None);
        assert_eq!(n("1e+"), None);
        assert_eq!(n("."), None);
        assert_eq!(n("1.2.3"), None);
        assert_eq!(n("1_0"), None);
    }

    #[test]
    fn hex_floats() {
        assert_eq!(fl("0x1p4"), 16.0);
        assert_eq!(fl("0x.8"), 0.5);
        assert_eq!(fl("0x1."), 1.0);
        assert_eq!(fl("0xA.8p-1"), 5.25);
        assert_eq!(fl("0x1P-1074"), 5e-324);
        assert_eq!(fl("0x1p-1075"), 0.0);
        assert_eq!(fl("0x1.8p-1075"), 5e-324);
        assert_eq!(fl("0x1p1024"), f64::INFINITY);
        assert_eq!(fl("0x1.fffffffffffff8p1023"), f64::INFINITY);
        assert_eq!(fl("0x1.fffffffffffff7p1023"), f64::MAX);
        assert_eq!(fl("0x1.00000000000008p0"), 1.0);
        assert_eq!(fl("0x1.000000000000080000000001p0"), 1.0 + f64::EPSILON);
        assert_eq!(fl("0x1.00000000000018p0"), 1.0 + 2.0 * f64::EPSILON);
        assert_eq!(
            fl("0x123456789abcdef0123p0"),
            0x123456789abcdef0123u128 as f64
        );
        assert_eq!(fl("0x0.0000000000001p-1022"), 5e-324);
        assert_eq!(fl("0x.000000000000000000000000000001p120"), 1.0);
        assert_eq!(fl("0x1p99999999999999999999"), f64::INFINITY);
        assert_eq!(n("0x.p1"), None);
        assert_eq!(n("0x1p"), None);
        assert_eq!(n("0x1p+"), None);
        assert_eq!(n("0x1.8.1"), None);
        assert_eq!(n("0xg"), None);
    }

    #[test]
    fn bases() {
        assert_eq!(str_to_int_base(b"ff", 16), Some(255));
        assert_eq!(str_to_int_base(b"  -FF  ", 16), Some(-255));
        assert_eq!(str_to_int_base(b"+11", 2), Some(3));
        assert_eq!(str_to_int_base(b"z", 36), Some(35));
        assert_eq!(str_to_int_base(b"Zz", 36), Some(35 * 36 + 35));
        assert_eq!(str_to_int_base(b"2", 2), None);
        assert_eq!(str_to_int_base(b"", 10), None);
        assert_eq!(str_to_int_base(b"-", 10), None);
        assert_eq!(str_to_int_base(b"1 1", 10), None);
        assert_eq!(str_to_int_base(b"1\0", 10), None);
        assert_eq!(str_to_int_base(b"1.0", 10), None);
        assert_eq!(str_to_int_base(b"ffffffffffffffff", 16), Some(-1));
        assert_eq!(str_to_int_base(b"18446744073709551617", 10), Some(1));
    }
}
