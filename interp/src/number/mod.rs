//! Lua 5.4's number semantics: integer/float arithmetic, exact comparisons, conversions
//! between strings and numbers, and C `printf`-style formatting (`%.14g` for `tostring`).
//!
//! Everything here is a pure function over Rust integers, floats and byte slices, written to
//! reproduce C Lua 5.4 (`lvm.c`, `lobject.c`, `llimits.h`, `lbaselib.c`) and glibc's `printf`
//! and `strtod` bit for bit on x86_64 Linux.
//!
//! - [`arith`]: floor division, modulo, power, shifts, float/integer conversions, exact mixed
//!   comparisons and the numeric `for` preparation.
//! - [`parse`]: `luaO_str2num` (`tonumber(s)`, coercions, the lexer) and `tonumber(s, base)`.
//! - [`format`](mod@format): `tostring` of numbers and a one-conversion `printf` engine for
//!   `string.format`.

pub mod arith;
pub mod format;
pub mod parse;

pub use arith::{
    eq_int_float, float_fits_int, float_floor_div, float_floor_to_int, float_mod, float_mul,
    float_pow, float_to_int, float_to_int_exact, for_count, for_limit, for_limit_from_float,
    for_prep_float, for_prep_int, int_fits_float, int_floor_div, int_mod, le_float_int,
    le_int_float, lt_float_int, lt_int_float, shift_left, shift_right, F2I, FOR_STEP_ZERO,
};
pub use format::{fmt_float, fmt_int, fmt_lua_float, fmt_lua_int, fmt_uint, Spec};
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
    /// The value as a float (`cast_num` for integers).
    #[inline]
    pub fn to_float(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// The value as an integer under `mode` (`luaV_tointegerns`); `None` if not representable.
    #[inline]
    pub fn to_int(self, mode: F2I) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            Number::Float(f) => float_to_int(f, mode),
        }
    }

    /// Appends the number as `tostring` prints it.
    pub fn fmt_lua(self, out: &mut Vec<u8>) {
        match self {
            Number::Int(i) => fmt_lua_int(i, out),
            Number::Float(f) => fmt_lua_float(f, out),
        }
    }
}
