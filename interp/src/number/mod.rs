//! Lua 5.4's number semantics: integer/float arithmetic, exact comparisons, conversions
//! between strings and numbers, and C `printf`-style formatting (`%.14g` for `tostring`).

mod format;
mod parse;

pub use format::{fmt_float, fmt_int, fmt_lua_float, fmt_lua_int, Spec};
pub use parse::{str_to_int_base, str_to_number};

/// A Lua number: integer or float subtype.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Number {
    /// The value as a float.
    #[inline]
    pub fn to_float(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// 2^63 as a float.
const TWO63: f64 = 9_223_372_036_854_775_808.0;

/// A float with an exact integer value that fits in an `i64` (`luaV_flttointns`, F2Ieq).
#[inline]
pub fn float_to_int_exact(f: f64) -> Option<i64> {
    if f.floor() == f && (-TWO63..TWO63).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

/// `floor(f)` as an integer if it fits.
#[inline]
pub fn float_floor_to_int(f: f64) -> Option<i64> {
    let g = f.floor();
    if (-TWO63..TWO63).contains(&g) {
        Some(g as i64)
    } else {
        None
    }
}

/// `i == f` exactly.
#[inline]
pub fn eq_int_float(i: i64, f: f64) -> bool {
    float_to_int_exact(f) == Some(i)
}

/// `i < f` exactly.
#[inline]
pub fn lt_int_float(i: i64, f: f64) -> bool {
    if f.is_nan() {
        return false;
    }
    if f >= TWO63 {
        return true;
    }
    if f < -TWO63 {
        return false;
    }
    i < f.ceil() as i64
}

/// `i <= f` exactly.
#[inline]
pub fn le_int_float(i: i64, f: f64) -> bool {
    if f.is_nan() {
        return false;
    }
    if f >= TWO63 {
        return true;
    }
    if f < -TWO63 {
        return false;
    }
    i <= f.floor() as i64
}

/// `f < i` exactly.
#[inline]
pub fn lt_float_int(f: f64, i: i64) -> bool {
    if f.is_nan() {
        return false;
    }
    if f >= TWO63 {
        return false;
    }
    if f < -TWO63 {
        return true;
    }
    (f.floor() as i64) < i
}

/// `f <= i` exactly.
#[inline]
pub fn le_float_int(f: f64, i: i64) -> bool {
    if f.is_nan() {
        return false;
    }
    if f >= TWO63 {
        return false;
    }
    if f < -TWO63 {
        return true;
    }
    (f.ceil() as i64) <= i
}

/// Integer floor division (`b != 0`).
#[inline]
pub fn int_floor_div(a: i64, b: i64) -> i64 {
    if b == -1 {
        return a.wrapping_neg();
    }
    let q = a / b;
    if (a % b != 0) && ((a ^ b) < 0) {
        q - 1
    } else {
        q
    }
}

/// Integer modulo with the sign of the divisor (`b != 0`).
#[inline]
pub fn int_mod(a: i64, b: i64) -> i64 {
    if b == -1 {
        return 0;
    }
    let m = a % b;
    if m != 0 && (m ^ b) < 0 {
        m + b
    } else {
        m
    }
}

/// Float modulo (`luai_nummod`).
#[inline]
pub fn float_mod(a: f64, b: f64) -> f64 {
    let m = a % b;
    if (m > 0.0 && b < 0.0) || (m < 0.0 && b > 0.0) {
        m + b
    } else {
        m
    }
}

/// Float floor division.
#[inline]
pub fn float_floor_div(a: f64, b: f64) -> f64 {
    (a / b).floor()
}

/// Exponentiation (C `pow`; squares exactly for `b == 2`).
#[inline]
pub fn float_pow(a: f64, b: f64) -> f64 {
    if b == 2.0 {
        a * a
    } else {
        a.powf(b)
    }
}

/// `x << n` with Lua's rules: negative `n` shifts right, logical shifts, |n| >= 64 gives 0.
#[inline]
pub fn shift_left(x: i64, n: i64) -> i64 {
    if n <= -64 || n >= 64 {
        0
    } else if n >= 0 {
        ((x as u64) << n) as i64
    } else {
        ((x as u64) >> (-n)) as i64
    }
}

/// The integer limit of a numeric `for` whose limit is the float `f` (`forlimit`); `None`
/// means the loop must not run.
pub fn for_limit_from_float(f: f64, step: i64) -> Option<i64> {
    let conv = if step < 0 { f.ceil() } else { f.floor() };
    if (-TWO63..TWO63).contains(&conv) {
        return Some(conv as i64);
    }
    if 0.0 < f {
        if step < 0 {
            None
        } else {
            Some(i64::MAX)
        }
    } else if step > 0 {
        None
    } else {
        Some(i64::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_division_and_modulo() {
        assert_eq!(int_floor_div(7, 2), 3);
        assert_eq!(int_floor_div(-7, 2), -4);
        assert_eq!(int_mod(-7, 3), 2);
        assert_eq!(int_mod(7, -3), -2);
        assert_eq!(int_mod(i64::MIN, -1), 0);
        assert_eq!(int_floor_div(i64::MIN, -1), i64::MIN);
        assert_eq!(float_mod(5.5, f64::INFINITY), 5.5);
        assert_eq!(float_mod(-5.5, f64::INFINITY), f64::INFINITY);
        assert_eq!(float_mod(-7.0, 3.0), 2.0);
    }

    #[test]
    fn exact_mixed_comparisons() {
        let big = (1i64 << 53) + 1;
        assert!(!eq_int_float(big, big as f64));
        assert!(lt_int_float(big - 2, (big - 1) as f64));
        assert!(lt_int_float(i64::MAX, TWO63));
        assert!(!lt_int_float(1, f64::NAN));
        assert!(le_float_int(-TWO63, i64::MIN));
        assert!(lt_float_int(1.5, 2));
        assert!(!lt_float_int(2.5, 2));
    }

    #[test]
    fn shifts() {
        assert_eq!(shift_left(1, 63), i64::MIN);
        assert_eq!(shift_left(1, 64), 0);
        assert_eq!(shift_left(-1, -1), i64::MAX);
    }
}
