//! The string metatable's arithmetic metamethods (`lstrlib.c`): in Lua 5.4 the VM does
//! arithmetic on numbers only, and a numeric string takes part in `+`, `-`, `*`, `/`, `//`,
//! `%`, `^` and unary `-` through these (there are none for the bitwise operators).

use interp::vm::arith::ArithError;
use interp::vm::Metamethod;
use interp::{Error, NativeCall, NativeFn, Value};

use crate::util::Ret;

/// `(name, function)` of each metamethod, for the string metatable.
pub const METAMETHODS: [(&str, NativeFn); 8] = [
    ("__add", add),
    ("__sub", sub),
    ("__mul", mul),
    ("__mod", modulo),
    ("__pow", pow),
    ("__div", div),
    ("__idiv", idiv),
    ("__unm", unm),
];

/// A number, or a string that converts to one as a whole (`tonum`).
fn tonum(v: Value<'_>) -> Option<interp::number::Number> {
    match v {
        Value::Integer(_) | Value::Number(_) | Value::String(_) => v.to_number(),
        _ => None,
    }
}

/// `arith`: both operands convert, so compute; otherwise the other operand's metamethod
/// (`trymt`), or the error naming both types.
fn arith<'gc>(call: &mut NativeCall<'gc, '_>, op: Metamethod) -> Ret<'gc> {
    let (a, b) = (call.arg(0), call.arg(1));
    if let (Some(x), Some(y)) = (tonum(a), tonum(b)) {
        return match interp::vm::arith_numbers(op, x, y) {
            Ok(n) => call.ret1(Value::from_number(n)),
            // Raised inside a C function in C Lua: no position.
            Err(ArithError::DivByZero) => Err(bare(call, "attempt to divide by zero")),
            Err(ArithError::ModByZero) => Err(bare(call, "attempt to perform 'n%0'")),
            Err(_) => Err(bare(
                call,
                "attempt to perform arithmetic on a number value",
            )),
        };
    }
    let name = interp::vm::METAMETHOD_NAMES[op as usize];
    let mm = match b {
        Value::String(_) => Value::Nil,
        _ => call
            .ctx
            .metatable(b)
            .map_or(Value::Nil, |mt| mt.get_str(call.ctx.tm_name(op))),
    };
    if mm.is_nil() {
        return Err(call.error(format!(
            "attempt to {} a '{}' with a '{}'",
            &name[2..],
            a.type_name(),
            b.type_name()
        )));
    }
    let r = call.call(mm, &[a, b])?;
    call.ret1(r.first().copied().unwrap_or(Value::Nil))
}

fn bare<'gc>(call: &NativeCall<'gc, '_>, msg: &str) -> Error<'gc> {
    Error::new(Value::String(call.ctx.intern(msg.as_bytes())))
}

fn add<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    arith(call, Metamethod::Add)
}

fn sub<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    arith(call, Metamethod::Sub)
}

fn mul<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    arith(call, Metamethod::Mul)
}

fn modulo<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    arith(call, Metamethod::Mod)
}

fn pow<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    arith(call, Metamethod::Pow)
}

fn div<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    arith(call, Metamethod::Div)
}

fn idiv<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    arith(call, Metamethod::IDiv)
}

fn unm<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    arith(call, Metamethod::Unm)
}
