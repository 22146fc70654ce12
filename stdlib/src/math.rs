//! The math library (manual §6.7); `random` is xoshiro256** as in Lua 5.4.

use interp::number::Number;
use interp::{NativeCall, Value};

use crate::util::{new_lib, Ret};

/// Opens the `math` library.
pub fn open_math(ctx: interp::Context<'_>) {
    let t = new_lib(
        ctx,
        "math",
        &[
            ("abs", abs),
            ("ceil", ceil),
            ("floor", floor),
            ("fmod", fmod),
            ("modf", modf),
            ("sqrt", sqrt),
            ("exp", exp),
            ("log", log),
            ("sin", sin),
            ("cos", cos),
            ("tan", tan),
            ("asin", asin),
            ("acos", acos),
            ("deg", deg),
            ("rad", rad),
            ("atan", atan),
            ("max", max),
            ("min", min),
            ("tointeger", tointeger),
            ("type", type_),
            ("ult", ult),
        ],
    );
    let mc = ctx.mutation();
    t.set_str(
        mc,
        ctx.intern_static(b"pi"),
        Value::Number(std::f64::consts::PI),
    );
    t.set_str(mc, ctx.intern_static(b"huge"), Value::Number(f64::INFINITY));
    t.set_str(
        mc,
        ctx.intern_static(b"maxinteger"),
        Value::Integer(i64::MAX),
    );
    t.set_str(
        mc,
        ctx.intern_static(b"mininteger"),
        Value::Integer(i64::MIN),
    );
    // The generator's state is the upvalue of both functions (lmathlib.c's `setrandfunc`).
    let state = interp::UserData::new(
        mc,
        Box::new(std::cell::Cell::new(seed_state(0x2545_F491, 0))),
    );
    for (name, f) in [
        ("random", random as interp::NativeFn),
        ("randomseed", randomseed),
    ] {
        let full = crate::util::qualified_name("math", name);
        let up = Box::new([Value::UserData(state)]);
        let nf = interp::NativeFunction::with_upvalues(mc, full, f, up);
        t.set_str(mc, ctx.intern_static(name.as_bytes()), Value::Native(nf));
    }
}

fn float_result<'gc>(call: &mut NativeCall<'gc, '_>, f: f64) -> Ret<'gc> {
    call.ret1(Value::Number(f))
}

/// Converts an integral float to an integer when it fits (`lua_Number2Integer` for floor/ceil).
fn int_or_float<'gc>(f: f64) -> Value<'gc> {
    match interp::number::float_to_int_exact(f) {
        Some(i) => Value::Integer(i),
        None => Value::Number(f),
    }
}

// As in `lmathlib.c`, only an integer *value* takes the integer paths (`lua_isinteger`):
// a numeric string is converted to a float (`luaL_checknumber`).

fn abs<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if let Value::Integer(i) = call.arg(0) {
        return call.ret1(Value::Integer(i.wrapping_abs()));
    }
    let f = call.check_float(0)?;
    float_result(call, f.abs())
}

fn floor<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if let Value::Integer(i) = call.arg(0) {
        return call.ret1(Value::Integer(i));
    }
    let f = call.check_float(0)?;
    call.ret1(int_or_float(f.floor()))
}

fn ceil<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if let Value::Integer(i) = call.arg(0) {
        return call.ret1(Value::Integer(i));
    }
    let f = call.check_float(0)?;
    call.ret1(int_or_float(f.ceil()))
}

fn fmod<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if let (Value::Integer(a), Value::Integer(b)) = (call.arg(0), call.arg(1)) {
        if b == 0 {
            return Err(call.arg_error(1, "zero"));
        }
        // -1 too: mininteger % -1 would overflow.
        return call.ret1(Value::Integer(if b == -1 { 0 } else { a % b }));
    }
    // C Lua checks both in one call expression, which gcc evaluates right to left.
    let b = call.check_float(1)?;
    let a = call.check_float(0)?;
    float_result(call, a % b)
}

fn modf<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if let Value::Integer(n) = call.arg(0) {
        return call.ret(&[Value::Integer(n), Value::Number(0.0)]);
    }
    let f = call.check_float(0)?;
    // Rounds toward zero; the integer part is an integer when it fits (`pushnumint`).
    let ip = if f < 0.0 { f.ceil() } else { f.floor() };
    let frac = if f == ip { 0.0 } else { f - ip };
    call.ret(&[int_or_float(ip), Value::Number(frac)])
}

macro_rules! float_fn {
    ($name:ident, $f:expr) => {
        fn $name<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
            let x = call.check_float(0)?;
            float_result(call, $f(x))
        }
    };
}
float_fn!(sqrt, f64::sqrt);
float_fn!(exp, f64::exp);
float_fn!(sin, f64::sin);
float_fn!(cos, f64::cos);
float_fn!(tan, f64::tan);
float_fn!(asin, f64::asin);
float_fn!(acos, f64::acos);
float_fn!(deg, |x: f64| x * (180.0 / std::f64::consts::PI));
float_fn!(rad, |x: f64| x * (std::f64::consts::PI / 180.0));

fn atan<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let y = call.check_float(0)?;
    let x = if call.arg(1).is_nil() {
        1.0
    } else {
        call.check_float(1)?
    };
    float_result(call, y.atan2(x))
}

fn log<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let x = call.check_float(0)?;
    let r = if call.arg(1).is_nil() {
        x.ln()
    } else {
        let b = call.check_float(1)?;
        if b == 2.0 {
            x.log2()
        } else if b == 10.0 {
            x.log10()
        } else {
            x.ln() / b.ln()
        }
    };
    float_result(call, r)
}

/// `math.max`/`math.min` (C's `math_max`/`math_min`): compares the arguments, of any type,
/// with `<` (metamethods included), and returns the original value.
fn minmax<'gc>(call: &mut NativeCall<'gc, '_>, want_max: bool) -> Ret<'gc> {
    let n = call.nargs();
    if n < 1 {
        return Err(call.arg_error(0, "value expected"));
    }
    let mut best = 0;
    for i in 1..n {
        let (a, b) = (call.arg(best), call.arg(i));
        let swap = if want_max {
            interp::vm::meta_less_than(call, a, b, false)?
        } else {
            interp::vm::meta_less_than(call, b, a, false)?
        };
        if swap {
            best = i;
        }
    }
    call.ret1(call.arg(best))
}

fn max<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    minmax(call, true)
}

fn min<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    minmax(call, false)
}

fn tointeger<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let r = match call.arg(0) {
        Value::Integer(i) => Value::Integer(i),
        Value::Number(f) => match interp::number::float_to_int_exact(f) {
            Some(i) => Value::Integer(i),
            None => Value::Nil,
        },
        Value::String(s) => match interp::number::str_to_number(s.as_bytes()) {
            Some(Number::Int(i)) => Value::Integer(i),
            Some(Number::Float(f)) => {
                interp::number::float_to_int_exact(f).map_or(Value::Nil, Value::Integer)
            }
            None => Value::Nil,
        },
        _ => {
            call.check_any(0)?;
            Value::Nil
        }
    };
    call.ret1(r)
}

fn type_<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let v = call.check_any(0)?;
    let r = match v {
        Value::Integer(_) => call.ctx.str("integer"),
        Value::Number(_) => call.ctx.str("float"),
        _ => Value::Nil,
    };
    call.ret1(r)
}

fn ult<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let a = call.check_integer(0)?;
    let b = call.check_integer(1)?;
    call.ret1(Value::Boolean((a as u64) < (b as u64)))
}

// ----- xoshiro256** (lmathlib.c) -----

type RandState = [u64; 4];

fn rotl(x: u64, n: u32) -> u64 {
    x.rotate_left(n)
}

fn next_rand(s: &mut RandState) -> u64 {
    let s0 = s[0];
    let s1 = s[1];
    let s2 = s[2] ^ s0;
    let s3 = s[3] ^ s1;
    let res = rotl(s1.wrapping_mul(5), 7).wrapping_mul(9);
    s[0] = s0 ^ s3;
    s[1] = s1 ^ s2;
    s[2] = s2 ^ (s1 << 17);
    s[3] = rotl(s3, 45);
    res
}

fn seed_state(n1: u64, n2: u64) -> RandState {
    let mut s = [n1, 0xff, n2, 0];
    for _ in 0..16 {
        next_rand(&mut s);
    }
    s
}

/// Runs `f` on the generator's state (the function's upvalue; a fresh state if Lua code put
/// something else there with `debug.setupvalue`).
fn with_state<'gc, R>(call: &NativeCall<'gc, '_>, f: impl FnOnce(&mut RandState) -> R) -> R {
    let Value::UserData(u) = call.upvalue(0) else {
        let mut s = seed_state(0, 0);
        return f(&mut s);
    };
    let data = u.data().borrow();
    let Some(cell) = data.downcast_ref::<std::cell::Cell<RandState>>() else {
        let mut s = seed_state(0, 0);
        return f(&mut s);
    };
    let mut s = cell.get();
    let r = f(&mut s);
    cell.set(s);
    r
}

/// Projects a random 64-bit value into `[0, n]` as `project` in lmathlib.c.
fn project(ran: u64, n: u64, s: &mut RandState) -> u64 {
    if n & (n.wrapping_add(1)) == 0 {
        return ran & n;
    }
    let mut lim = n;
    lim |= lim >> 1;
    lim |= lim >> 2;
    lim |= lim >> 4;
    lim |= lim >> 8;
    lim |= lim >> 16;
    lim |= lim >> 32;
    let mut r = ran & lim;
    while r > n {
        r = next_rand(s) & lim;
    }
    r
}

fn random<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let rv = with_state(call, next_rand);
    let (low, up) = match call.nargs() {
        0 => {
            let f = (rv >> 11) as f64 * (0.5 / (1u64 << 52) as f64);
            return call.ret1(Value::Number(f));
        }
        1 => match call.check_integer(0)? {
            0 => return call.ret1(Value::Integer(rv as i64)),
            up => (1, up),
        },
        2 => (call.check_integer(0)?, call.check_integer(1)?),
        _ => return Err(call.error("wrong number of arguments")),
    };
    if low > up {
        return Err(call.arg_error(0, "interval is empty"));
    }
    let r = with_state(call, |s| {
        project(rv, (up as u64).wrapping_sub(low as u64), s)
    });
    call.ret1(Value::Integer(r.wrapping_add(low as u64) as i64))
}

fn randomseed<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let (n1, n2) = if call.nargs() == 0 {
        let t = call.ctx.limits().clock().seed();
        (
            t,
            Value::Table(call.ctx.registry()).gc_address().unwrap_or(0) as u64,
        )
    } else {
        (
            call.check_integer(0)? as u64,
            call.opt_integer(1, 0)? as u64,
        )
    };
    with_state(call, |s| *s = seed_state(n1, n2));
    call.ret(&[Value::Integer(n1 as i64), Value::Integer(n2 as i64)])
}

// ----- LUA_COMPAT_MATHLIB: functions deprecated since 5.3 that the stock `lua` keeps -----

/// The deprecated functions (`lmathlib.c` under LUA_COMPAT_MATHLIB); `atan2` is `atan`.
const COMPAT: [(&str, interp::NativeFn); 8] = [
    ("atan2", atan),
    ("cosh", cosh),
    ("sinh", sinh),
    ("tanh", tanh),
    ("pow", pow),
    ("frexp", frexp),
    ("ldexp", ldexp),
    ("log10", log10),
];

/// Adds the functions of C Lua's LUA_COMPAT_MATHLIB to the `math` table, if it is open.
pub fn open_math_compat(ctx: interp::Context<'_>) {
    let Value::Table(t) = ctx.get_global("math") else {
        return;
    };
    for (name, f) in COMPAT {
        let full = crate::util::qualified_name("math", name);
        t.set_str(
            ctx.mutation(),
            ctx.intern_static(name.as_bytes()),
            ctx.native(full, f),
        );
    }
}

float_fn!(cosh, f64::cosh);
float_fn!(sinh, f64::sinh);
float_fn!(tanh, f64::tanh);
float_fn!(log10, f64::log10);

fn pow<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let (x, y) = (call.check_float(0)?, call.check_float(1)?);
    float_result(call, x.powf(y))
}

fn frexp<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let (m, e) = split_exponent(call.check_float(0)?);
    call.ret(&[Value::Number(m), Value::Integer(e as i64)])
}

fn ldexp<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let x = call.check_float(0)?;
    let e = call.check_integer(1)? as i32;
    float_result(call, scale_by_power_of_two(x, e))
}

/// C's `frexp`: `x = m * 2^e` with `0.5 <= |m| < 1` (zero, infinities and NaN as they are).
fn split_exponent(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: normalize first.
        let (m, e) = split_exponent(x * f64::from_bits(0x4350_0000_0000_0000)); // 2^54
        return (m, e - 54);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, exp - 1022)
}

/// C's `ldexp`/`scalbn`: `x * 2^n`, rounded once, overflowing to infinity and underflowing
/// through the subnormals as C does.
fn scale_by_power_of_two(x: f64, mut n: i32) -> f64 {
    let p1023 = f64::from_bits(0x7fe0_0000_0000_0000); // 2^1023
    let pm969 = f64::from_bits(0x0360_0000_0000_0000); // 2^-1022 * 2^53
    let mut y = x;
    if n > 1023 {
        y *= p1023;
        n -= 1023;
        if n > 1023 {
            y *= p1023;
            n = (n - 1023).min(1023);
        }
    } else if n < -1022 {
        // Scaled in two steps so that the final one cannot round twice in the subnormals.
        y *= pm969;
        n += 1022 - 53;
        if n < -1022 {
            y *= pm969;
            n = (n + 1022 - 53).max(-1022);
        }
    }
    y * f64::from_bits(((0x3ff + n) as u64) << 52)
}
