//! Arithmetic, bitwise and comparison operators on numbers, and comparison of strings (no
//! metamethods): the VM's fast paths and the compiler's constant folding.

use crate::number::{self, Number};
use crate::value::Value;

use crate::metamethod::Metamethod;

/// Why an arithmetic operation could not produce a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithError {
    /// An operand is not a number (nor a numeric string): try a metamethod.
    NotNumbers,
    /// Integer division by zero.
    DivByZero,
    /// Integer modulo by zero.
    ModByZero,
    /// A bitwise operand has no integer representation.
    NoIntegerRep,
}

/// An operand of arithmetic: numbers only. Strings are converted by the string library's
/// arithmetic metamethods, as in C Lua 5.4 (`lstrlib.c`), not by the VM.
#[inline]
fn to_num(v: Value<'_>) -> Option<Number> {
    match v {
        Value::Integer(i) => Some(Number::Int(i)),
        Value::Number(f) => Some(Number::Float(f)),
        _ => None,
    }
}

/// Converts an operand for bitwise operations (numbers only, exact mode).
#[inline]
fn to_int(v: Value<'_>) -> Result<i64, ArithError> {
    match to_num(v) {
        Some(Number::Int(i)) => Ok(i),
        Some(Number::Float(f)) => number::float_to_int_exact(f).ok_or(ArithError::NoIntegerRep),
        None => Err(ArithError::NotNumbers),
    }
}

/// Applies the binary operator `op` (one of the arithmetic/bitwise metamethods) to two
/// values; `NotNumbers` unless both are numbers.
pub fn arith<'gc>(op: Metamethod, a: Value<'gc>, b: Value<'gc>) -> Result<Value<'gc>, ArithError> {
    use Metamethod as M;
    match op {
        M::BAnd | M::BOr | M::BXor | M::Shl | M::Shr => {
            let (x, y) = match (to_int(a), to_int(b)) {
                (Ok(x), Ok(y)) => (x, y),
                (Err(ArithError::NotNumbers), _) | (_, Err(ArithError::NotNumbers)) => {
                    return Err(ArithError::NotNumbers)
                }
                _ => return Err(ArithError::NoIntegerRep),
            };
            Ok(Value::Integer(match op {
                M::BAnd => x & y,
                M::BOr => x | y,
                M::BXor => x ^ y,
                M::Shl => number::shift_left(x, y),
                _ => number::shift_left(x, y.wrapping_neg()),
            }))
        }
        _ => {
            let (x, y) = match (to_num(a), to_num(b)) {
                (Some(x), Some(y)) => (x, y),
                _ => return Err(ArithError::NotNumbers),
            };
            arith_numbers(op, x, y).map(Value::from_number)
        }
    }
}

/// Arithmetic on two numbers with Lua 5.4's integer/float rules.
#[inline]
pub fn arith_numbers(op: Metamethod, x: Number, y: Number) -> Result<Number, ArithError> {
    use Metamethod as M;
    if let (Number::Int(a), Number::Int(b)) = (x, y) {
        return Ok(Number::Int(match op {
            M::Add => a.wrapping_add(b),
            M::Sub => a.wrapping_sub(b),
            M::Mul => a.wrapping_mul(b),
            M::Mod => {
                if b == 0 {
                    return Err(ArithError::ModByZero);
                }
                number::int_mod(a, b)
            }
            M::IDiv => {
                if b == 0 {
                    return Err(ArithError::DivByZero);
                }
                number::int_floor_div(a, b)
            }
            M::Div => return Ok(Number::Float(a as f64 / b as f64)),
            M::Pow => return Ok(Number::Float(number::float_pow(a as f64, b as f64))),
            M::Unm => a.wrapping_neg(),
            _ => return Err(ArithError::NotNumbers),
        }));
    }
    let (a, b) = (x.to_float(), y.to_float());
    Ok(Number::Float(match op {
        M::Add => a + b,
        M::Sub => a - b,
        M::Mul => number::float_mul(a, b),
        M::Div => a / b,
        M::Mod => number::float_mod(a, b),
        M::IDiv => number::float_floor_div(a, b),
        M::Pow => number::float_pow(a, b),
        M::Unm => -a,
        _ => return Err(ArithError::NotNumbers),
    }))
}

/// `a < b` for numbers (exact across subtypes); `None` if either is not a number.
#[inline]
pub fn num_lt(a: Value<'_>, b: Value<'_>) -> Option<bool> {
    Some(match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => x < y,
        (Value::Number(x), Value::Number(y)) => x < y,
        (Value::Integer(x), Value::Number(y)) => number::lt_int_float(x, y),
        (Value::Number(x), Value::Integer(y)) => number::lt_float_int(x, y),
        _ => return None,
    })
}

/// `a <= b` for numbers; `None` if either is not a number.
#[inline]
pub fn num_le(a: Value<'_>, b: Value<'_>) -> Option<bool> {
    Some(match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => x <= y,
        (Value::Number(x), Value::Number(y)) => x <= y,
        (Value::Integer(x), Value::Number(y)) => number::le_int_float(x, y),
        (Value::Number(x), Value::Integer(y)) => number::le_float_int(x, y),
        _ => return None,
    })
}

/// Primitive `<` / `<=` on numbers or strings; `None` when a metamethod is needed.
#[inline]
pub fn primitive_less(a: Value<'_>, b: Value<'_>, or_equal: bool) -> Option<bool> {
    if let (Value::String(x), Value::String(y)) = (a, b) {
        let o = x.as_bytes().cmp(y.as_bytes());
        return Some(if or_equal { o.is_le() } else { o.is_lt() });
    }
    if or_equal {
        num_le(a, b)
    } else {
        num_lt(a, b)
    }
}
