//! String to number conversion as `luaO_str2num` / `tonumber` do.

use super::Number;

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| !is_space(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&c| !is_space(c))
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// Converts a string to a number with Lua's rules: optional whitespace and sign, decimal or
/// hexadecimal integers (hex wraps around; decimal overflow becomes a float), decimal and
/// hexadecimal floats. No `inf`/`nan`, no embedded NUL.
pub fn str_to_number(s: &[u8]) -> Option<Number> {
    if s.contains(&0) {
        return None;
    }
    let t = trim(s);
    if t.is_empty() {
        return None;
    }
    let (neg, body) = match t[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.len() >= 2 && body[0] == b'0' && (body[1] == b'x' || body[1] == b'X') {
        return hex_number(&body[2..], neg);
    }
    if !body.is_empty() && body.iter().all(|c| c.is_ascii_digit()) {
        let mut v: i64 = 0;
        let mut overflow = false;
        for &c in body {
            match v
                .checked_mul(10)
                .and_then(|x| x.checked_add((c - b'0') as i64))
            {
                Some(x) => v = x,
                None => {
                    overflow = true;
                    break;
                }
            }
        }
        if !overflow {
            return Some(Number::Int(if neg { v.wrapping_neg() } else { v }));
        }
        // A decimal integer that overflows: C Lua reads it as a float... except -2^63.
        if neg && body == b"9223372036854775808" {
            return Some(Number::Int(i64::MIN));
        }
    }
    decimal_float(body, neg)
}

fn decimal_float(body: &[u8], neg: bool) -> Option<Number> {
    // Validate the C `strtod` decimal syntax: digits [. digits] [(e|E) [sign] digits].
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
    let text = std::str::from_utf8(body).ok()?;
    let f: f64 = text.parse().ok()?;
    Some(Number::Float(if neg { -f } else { f }))
}

fn hex_number(h: &[u8], neg: bool) -> Option<Number> {
    if !h.is_empty() && h.iter().all(|c| c.is_ascii_hexdigit()) {
        let mut v: u64 = 0;
        for &c in h {
            v = v
                .wrapping_mul(16)
                .wrapping_add((c as char).to_digit(16)? as u64);
        }
        let v = v as i64;
        return Some(Number::Int(if neg { v.wrapping_neg() } else { v }));
    }
    // Hexadecimal float: mantissa digits with an optional point, optional p exponent.
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut any = false;
    let mut seen_dot = false;
    let mut i = 0;
    let mut significant = 0;
    while i < h.len() {
        let c = h[i];
        if c == b'.' {
            if seen_dot {
                return None;
            }
            seen_dot = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            any = true;
            if significant < 15 || (mant == 0 && d == 0) {
                if mant != 0 || d != 0 {
                    significant += 1;
                }
                mant = mant * 16 + d as u64;
                if seen_dot {
                    exp -= 4;
                }
            } else {
                // Too many digits: drop them, keep their weight.
                if d != 0 {
                    mant |= 1;
                }
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
        let mut eneg = false;
        if i < h.len() && (h[i] == b'+' || h[i] == b'-') {
            eneg = h[i] == b'-';
            i += 1;
        }
        let start = i;
        let mut e: i64 = 0;
        while i < h.len() && h[i].is_ascii_digit() {
            e = (e * 10 + (h[i] - b'0') as i64).min(100_000);
            i += 1;
        }
        if i == start || i != h.len() {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    let r = ldexp(mant as f64, exp);
    Some(Number::Float(if neg { -r } else { r }))
}

fn ldexp(x: f64, e: i64) -> f64 {
    let mut x = x;
    let mut e = e.clamp(-3000, 3000);
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e as i32)
}

/// `tonumber(s, base)`: an integer in `base` (2..36), with optional whitespace and '-'.
pub fn str_to_int_base(s: &[u8], base: u32) -> Option<i64> {
    let t = trim(s);
    let (neg, body) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        _ => (false, t),
    };
    if body.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in body {
        let d = (c as char).to_digit(36)?;
        if d >= base {
            return None;
        }
        v = v.wrapping_mul(base as i64).wrapping_add(d as i64);
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(str_to_number(b" 10 "), Some(Number::Int(10)));
        assert_eq!(str_to_number(b"0x10"), Some(Number::Int(16)));
        assert_eq!(str_to_number(b"0xffffffffffffffff"), Some(Number::Int(-1)));
        assert_eq!(str_to_number(b"1e2"), Some(Number::Float(100.0)));
        assert_eq!(str_to_number(b"0x1p4"), Some(Number::Float(16.0)));
        assert_eq!(str_to_number(b"0x.8"), Some(Number::Float(0.5)));
        assert_eq!(
            str_to_number(b"9223372036854775808"),
            Some(Number::Float(9_223_372_036_854_775_808.0))
        );
        assert_eq!(str_to_number(b"inf"), None);
        assert_eq!(str_to_number(b"1e"), None);
        assert_eq!(str_to_number(b""), None);
        assert_eq!(str_to_number(b".5"), Some(Number::Float(0.5)));
        assert_eq!(str_to_number(b"5."), Some(Number::Float(5.0)));
        assert_eq!(str_to_int_base(b"ff", 16), Some(255));
        assert_eq!(str_to_int_base(b"z", 36), Some(35));
        assert_eq!(str_to_int_base(b"2", 2), None);
    }
}
