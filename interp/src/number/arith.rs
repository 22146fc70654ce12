//! Integer and float arithmetic, float/integer conversions, exact mixed comparisons and the
//! numeric `for` preparation, after `lvm.c` and `llimits.h` of Lua 5.4.

use super::Number;

/// 2^63 as a float (`-(lua_Number)LUA_MININTEGER`).
const TWO63: f64 = 9_223_372_036_854_775_808.0;

/// 2^53: integers in `[-2^53, 2^53]` convert to floats exactly (`MAXINTFITSF`).
const MAXINTFITSF: u64 = 1 << 53;

/// The error message of a numeric `for` with a zero step.
pub const FOR_STEP_ZERO: &str = "'for' step is zero";

/// Rounding mode of a float to integer conversion (`F2Imod`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum F2I {
    /// Only floats with an exact integer value convert (`F2Ieq`).
    Exact,
    /// Takes the floor of the float (`F2Ifloor`).
    Floor,
    /// Takes the ceiling of the float (`F2Iceil`).
    Ceil,
}

/// Whether an integral float is inside the `i64` range (`lua_numbertointeger`'s test).
#[inline]
pub fn float_fits_int(f: f64) -> bool {
    (-TWO63..TWO63).contains(&f)
}

/// Whether an integer converts to a float without rounding (`l_intfitsf`).
#[inline]
pub fn int_fits_float(i: i64) -> bool {
    MAXINTFITSF.wrapping_add(i as u64) <= 2 * MAXINTFITSF
}

/// Float to integer under `mode` (`luaV_flttointns`); `None` if out of range, NaN, or not
/// integral in [`F2I::Exact`] mode.
#[inline]
pub fn float_to_int(f: f64, mode: F2I) -> Option<i64> {
    let mut g = f.floor();
    if f != g {
        match mode {
            F2I::Exact => return None,
            F2I::Floor => {}
            F2I::Ceil => g += 1.0,
        }
    }
    if float_fits_int(g) {
        Some(g as i64)
    } else {
        None
    }
}

/// A float with an exact integer value that fits in an `i64` (`luaV_flttointns`, F2Ieq).
#[inline]
pub fn float_to_int_exact(f: f64) -> Option<i64> {
    float_to_int(f, F2I::Exact)
}

/// `floor(f)` as an integer if it fits (F2Ifloor).
#[inline]
pub fn float_floor_to_int(f: f64) -> Option<i64> {
    float_to_int(f, F2I::Floor)
}

/// `i == f` exactly (no rounding of large integers; NaN is unequal).
#[inline]
pub fn eq_int_float(i: i64, f: f64) -> bool {
    float_to_int(f, F2I::Exact) == Some(i)
}

/// `i < f` exactly (`LTintfloat`; NaN gives false).
#[inline]
pub fn lt_int_float(i: i64, f: f64) -> bool {
    if int_fits_float(i) {
        (i as f64) < f
    } else {
        // i < f <=> i < ceil(f)
        match float_to_int(f, F2I::Ceil) {
            Some(fi) => i < fi,
            None => f > 0.0,
        }
    }
}

/// `i <= f` exactly (`LEintfloat`; NaN gives false).
#[inline]
pub fn le_int_float(i: i64, f: f64) -> bool {
    if int_fits_float(i) {
        (i as f64) <= f
    } else {
        // i <= f <=> i <= floor(f)
        match float_to_int(f, F2I::Floor) {
            Some(fi) => i <= fi,
            None => f > 0.0,
        }
    }
}

/// `f < i` exactly (`LTfloatint`; NaN gives false).
#[inline]
pub fn lt_float_int(f: f64, i: i64) -> bool {
    if int_fits_float(i) {
        f < (i as f64)
    } else {
        // f < i <=> floor(f) < i
        match float_to_int(f, F2I::Floor) {
            Some(fi) => fi < i,
            None => f < 0.0,
        }
    }
}

/// `f <= i` exactly (`LEfloatint`; NaN gives false).
#[inline]
pub fn le_float_int(f: f64, i: i64) -> bool {
    if int_fits_float(i) {
        f <= (i as f64)
    } else {
        // f <= i <=> ceil(f) <= i
        match float_to_int(f, F2I::Ceil) {
            Some(fi) => fi <= i,
            None => f < 0.0,
        }
    }
}

/// Integer floor division `a // b` (`luaV_idiv`); the caller rejects `b == 0`
/// ("attempt to perform 'n//0'"). `mininteger // -1 == mininteger`.
#[inline]
pub fn int_floor_div(a: i64, b: i64) -> i64 {
    if b == -1 {
        return a.wrapping_neg();
    }
    if b == 0 {
        return 0; // unreachable for correct callers; avoid a panic
    }
    let q = a / b;
    if (a ^ b) < 0 && a % b != 0 {
        q - 1
    } else {
        q
    }
}

/// Integer modulo `a % b` with the sign of the divisor (`luaV_mod`); the caller rejects
/// `b == 0` ("attempt to perform 'n%%0'"). `mininteger % -1 == 0`.
#[inline]
pub fn int_mod(a: i64, b: i64) -> i64 {
    if b == -1 || b == 0 {
        return 0;
    }
    let m = a % b;
    if m != 0 && (m ^ b) < 0 {
        m + b
    } else {
        m
    }
}

/// Float multiplication as C Lua (gcc, x86-64) computes it: when both operands are NaN the
/// result is the first one's (its sign shows in `tostring`). LLVM may put the operands of
/// the commutative `mulsd` either way round, and a test for two NaNs costs ~15% on
/// float-heavy code (nbody), so on x86-64 the instruction is written out with its operands
/// in C Lua's order.
#[inline(always)]
pub fn float_mul(a: f64, b: f64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        let mut r = a;
        // SAFETY: `mulsd` multiplies two xmm registers; it reads no memory, writes only `r`
        // and touches neither the stack nor the flags.
        unsafe {
            std::arch::asm!(
                "mulsd {r}, {b}",
                r = inout(xmm_reg) r,
                b = in(xmm_reg) b,
                options(pure, nomem, nostack, preserves_flags)
            );
        }
        r
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let r = a * b;
        if r.is_nan() && a.is_nan() {
            a * 1.0
        } else {
            r
        }
    }
}

/// Float modulo (`luai_nummod`): C `fmod`, then corrected towards the divisor's sign, so
/// `-5.5 % math.huge == math.huge` and `5.5 % -math.huge == -math.huge` as in C Lua.
#[inline]
pub fn float_mod(a: f64, b: f64) -> f64 {
    let m = a % b; // LLVM `frem`: glibc `fmod` on x86_64
    if (m > 0.0 && b < 0.0) || (m < 0.0 && b > 0.0) {
        m + b
    } else {
        m
    }
}

/// Float floor division `floor(a / b)` (`luai_numidiv`).
#[inline]
pub fn float_floor_div(a: f64, b: f64) -> f64 {
    (a / b).floor()
}

/// Exponentiation (`luai_numpow`: `a*a` for `b == 2`, else C `pow`).
#[inline]
pub fn float_pow(a: f64, b: f64) -> f64 {
    if b == 2.0 {
        a * a
    } else {
        a.powf(b)
    }
}

/// `x << n` (`luaV_shiftl`): negative `n` shifts right, logical shifts, |n| >= 64 gives 0.
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

/// `x >> n` (`luaV_shiftr`): `shift_left(x, -n)` with wrapping negation.
#[inline]
pub fn shift_right(x: i64, n: i64) -> i64 {
    shift_left(x, n.wrapping_neg())
}

/// The integer limit of a numeric `for` whose limit is the float `f` (`forlimit` for a float
/// limit): floor (ceil for a negative step), clipped to the integer range; `None` means the
/// loop must not run (the limit is beyond every integer in the loop's direction, or NaN with
/// a positive step).
#[inline]
pub fn for_limit_from_float(f: f64, step: i64) -> Option<i64> {
    let mode = if step < 0 { F2I::Ceil } else { F2I::Floor };
    if let Some(l) = float_to_int(f, mode) {
        return Some(l);
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

/// `forlimit`: the clipped integer limit of an integer loop, or `None` to skip the loop.
#[inline]
pub fn for_limit(init: i64, limit: Number, step: i64) -> Option<i64> {
    let lim = match limit {
        Number::Int(l) => l,
        Number::Float(f) => for_limit_from_float(f, step)?,
    };
    let skip = if step > 0 { init > lim } else { init < lim };
    if skip {
        None
    } else {
        Some(lim)
    }
}

/// The iteration count after the first of an integer loop that runs (`forprep`), computed in
/// unsigned arithmetic; requires `step != 0` and `init` not past `limit`.
#[inline]
pub fn for_count(init: i64, limit: i64, step: i64) -> u64 {
    if step > 0 {
        let count = (limit as u64).wrapping_sub(init as u64);
        if step != 1 {
            count / step as u64
        } else {
            count
        }
    } else if step < 0 {
        // 'step+1' avoids negating 'mininteger'
        let count = (init as u64).wrapping_sub(limit as u64);
        count / ((-(step + 1)) as u64 + 1)
    } else {
        0
    }
}

/// Prepares an integer numeric `for` (`forprep` with integer init and step): `Err` for a zero
/// step, `Ok(None)` to skip the loop, `Ok(Some(count))` with the iterations after the first.
#[inline]
pub fn for_prep_int(init: i64, limit: Number, step: i64) -> Result<Option<u64>, &'static str> {
    if step == 0 {
        return Err(FOR_STEP_ZERO);
    }
    Ok(for_limit(init, limit, step).map(|lim| for_count(init, lim, step)))
}

/// Prepares a float numeric `for`: `Err` for a zero step, `Ok(false)` to skip the loop (a NaN
/// limit does not skip it, as in C Lua).
#[inline]
pub fn for_prep_float(init: f64, limit: f64, step: f64) -> Result<bool, &'static str> {
    if step == 0.0 {
        return Err(FOR_STEP_ZERO);
    }
    let skip = if 0.0 < step {
        limit < init
    } else {
        init < limit
    };
    Ok(!skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_division_and_modulo() {
        assert_eq!(int_floor_div(7, 2), 3);
        assert_eq!(int_floor_div(-7, 2), -4);
        assert_eq!(int_floor_div(7, -2), -4);
        assert_eq!(int_floor_div(-7, -2), 3);
        assert_eq!(int_floor_div(i64::MIN, -1), i64::MIN);
        assert_eq!(int_floor_div(i64::MIN, 1), i64::MIN);
        assert_eq!(int_mod(-7, 3), 2);
        assert_eq!(int_mod(7, -3), -2);
        assert_eq!(int_mod(-7, -3), -1);
        assert_eq!(int_mod(i64::MIN, -1), 0);
        assert_eq!(int_mod(i64::MIN, i64::MAX), i64::MAX - 1);
        assert_eq!(float_mod(5.5, f64::INFINITY), 5.5);
        assert_eq!(float_mod(-5.5, f64::INFINITY), f64::INFINITY);
        assert_eq!(float_mod(5.5, f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert_eq!(float_mod(-5.5, f64::NEG_INFINITY), -5.5);
        assert_eq!(float_mod(-7.0, 3.0), 2.0);
        assert_eq!(float_mod(-7.0, -3.0), -1.0);
        assert!(float_mod(-0.0, 1.0).is_sign_negative());
        assert!(float_mod(1.0, 0.0).is_nan());
        assert_eq!(float_floor_div(-7.0, 2.0), -4.0);
        assert_eq!(float_floor_div(1.0, 0.0), f64::INFINITY);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri perturbs the results of the math library")]
    fn powers_round_as_the_math_library_does() {
        assert_eq!(float_pow(3.0, 2.0), 9.0);
        assert_eq!(float_pow(2.0, 0.5), std::f64::consts::SQRT_2);
    }

    #[test]
    fn conversions() {
        assert_eq!(float_to_int(3.5, F2I::Exact), None);
        assert_eq!(float_to_int(3.5, F2I::Floor), Some(3));
        assert_eq!(float_to_int(3.5, F2I::Ceil), Some(4));
        assert_eq!(float_to_int(-3.5, F2I::Floor), Some(-4));
        assert_eq!(float_to_int(-3.5, F2I::Ceil), Some(-3));
        assert_eq!(float_to_int(-TWO63, F2I::Exact), Some(i64::MIN));
        assert_eq!(float_to_int(TWO63, F2I::Floor), None);
        assert_eq!(float_to_int(f64::NAN, F2I::Floor), None);
        assert_eq!(float_to_int(f64::INFINITY, F2I::Ceil), None);
        assert_eq!(float_to_int(-0.0, F2I::Exact), Some(0));
        assert!(int_fits_float(1 << 53));
        assert!(int_fits_float(-(1 << 53)));
        assert!(!int_fits_float((1 << 53) + 1));
        assert!(!int_fits_float(i64::MIN));
        assert!(float_fits_int(-TWO63));
        assert!(!float_fits_int(TWO63));
        assert!(!float_fits_int(f64::NAN));
    }

    #[test]
    fn exact_mixed_comparisons() {
        let big = (1i64 << 53) + 1;
        assert!(!eq_int_float(big, big as f64));
        assert!(eq_int_float(big - 1, (big - 1) as f64));
        assert!(lt_int_float(big - 2, (big - 1) as f64));
        assert!(!lt_int_float(big, (big - 1) as f64));
        assert!(le_int_float(big - 1, (big - 1) as f64));
        assert!(lt_float_int((big - 1) as f64, big));
        assert!(lt_int_float(i64::MAX, TWO63));
        assert!(!le_float_int(TWO63, i64::MAX));
        assert!(le_float_int(-TWO63, i64::MIN));
        assert!(!lt_float_int(-TWO63, i64::MIN));
        assert!(lt_float_int(f64::NEG_INFINITY, i64::MIN));
        assert!(lt_float_int(1.5, 2));
        assert!(!lt_float_int(2.5, 2));
        for i in [0, 1, i64::MAX, i64::MIN, big] {
            assert!(!lt_int_float(i, f64::NAN));
            assert!(!le_int_float(i, f64::NAN));
            assert!(!lt_float_int(f64::NAN, i));
            assert!(!le_float_int(-f64::NAN, i));
            assert!(!eq_int_float(i, f64::NAN));
        }
    }

    #[test]
    fn shifts() {
        assert_eq!(shift_left(1, 63), i64::MIN);
        assert_eq!(shift_left(1, 64), 0);
        assert_eq!(shift_left(-1, -1), i64::MAX);
        assert_eq!(shift_left(-1, -64), 0);
        assert_eq!(shift_right(-1, 63), 1);
        assert_eq!(shift_right(5, i64::MIN), 0);
        assert_eq!(shift_left(5, i64::MIN), 0);
    }

    #[test]
    fn numeric_for() {
        assert_eq!(for_prep_int(1, Number::Int(10), 0), Err(FOR_STEP_ZERO));
        assert_eq!(for_prep_int(1, Number::Int(10), 1), Ok(Some(9)));
        assert_eq!(for_prep_int(1, Number::Int(10), 3), Ok(Some(3)));
        assert_eq!(for_prep_int(10, Number::Int(1), 1), Ok(None));
        assert_eq!(for_prep_int(10, Number::Int(1), -4), Ok(Some(2)));
        assert_eq!(for_prep_int(1, Number::Float(2.9), 1), Ok(Some(1)));
        assert_eq!(for_prep_int(1, Number::Float(-2.9), -1), Ok(Some(3)));
        assert_eq!(for_prep_int(1, Number::Float(1e300), -1), Ok(None));
        assert_eq!(
            for_prep_int(1, Number::Float(1e300), 1),
            Ok(Some(i64::MAX as u64 - 1))
        );
        assert_eq!(for_prep_int(1, Number::Float(f64::NAN), 1), Ok(None));
        assert_eq!(
            for_prep_int(1, Number::Float(f64::NAN), -1),
            Ok(Some(1u64.wrapping_sub(i64::MIN as u64)))
        );
        assert_eq!(
            for_prep_int(i64::MIN, Number::Int(i64::MAX), 1),
            Ok(Some(u64::MAX))
        );
        assert_eq!(
            for_prep_int(i64::MAX, Number::Int(i64::MIN), i64::MIN),
            Ok(Some(1))
        );
        assert_eq!(for_prep_float(1.0, 0.0, 1.0), Ok(false));
        assert_eq!(for_prep_float(1.0, f64::NAN, 1.0), Ok(true));
        assert_eq!(for_prep_float(1.0, 2.0, 0.0), Err(FOR_STEP_ZERO));
        assert_eq!(for_prep_float(1.0, 2.0, -0.5), Ok(false));
    }
}
