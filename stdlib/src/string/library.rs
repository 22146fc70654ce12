//! The pattern, format and pack functions of the `string` library, wrapping the engines of
//! this folder for Lua values.

use std::borrow::Cow;

use interp::{Error, NativeCall, Table, Value};

use super::pack::{self, PackArg, PackError, PackKind, Unpacked};
use super::pattern::{self, Capture, GMatchState, Match, PatternError};
use crate::util::Ret;

/// Adds `find`, `match`, `gmatch`, `gsub`, `format`, `pack`, `unpack`, `packsize` and `dump`
/// to the string table.
pub fn register_extra<'gc>(ctx: interp::Context<'gc>, t: Table<'gc>) {
    let funcs: [(&'static str, interp::NativeFn); 9] = [
        ("find", find),
        ("match", str_match),
        ("gmatch", gmatch),
        ("gsub", gsub),
        ("format", crate::strformat::format),
        ("pack", str_pack),
        ("unpack", str_unpack),
        ("packsize", packsize),
        ("dump", dump),
    ];
    for (name, f) in funcs {
        let full = crate::util::qualified_name("string", name);
        t.set_str(
            ctx.mutation(),
            ctx.intern(name.as_bytes()),
            ctx.native(full, f),
        );
    }
}

fn perr<'gc>(call: &NativeCall<'gc, '_>, e: PatternError) -> Error<'gc> {
    match e {
        // The budget stopped the match: the host's limits were hit.
        PatternError::Stopped => call
            .ctx
            .stop_error()
            .unwrap_or_else(|| call.error(e.to_string())),
        e => call.error(e.to_string()),
    }
}

/// Matcher steps per unit of fuel: a step (one comparison of a pattern item with a byte)
/// takes a small fraction of a VM instruction's time.
const STEPS_PER_FUEL: usize = 8;

/// The budget of a match: its steps are fuel (one unit per [`STEPS_PER_FUEL`]), with the
/// host's limits looked at every few thousand units.
fn budget(ctx: interp::Context<'_>) -> impl FnMut(usize) -> bool + '_ {
    move |n| ctx.tick(n / STEPS_PER_FUEL).is_ok()
}

fn capture_value<'gc>(
    call: &NativeCall<'gc, '_>,
    src: &[u8],
    m: &Match,
    i: usize,
) -> Result<Value<'gc>, Error<'gc>> {
    match m.capture(i).map_err(|e| perr(call, e))? {
        Capture::Slice(a, b) => Ok(Value::String(call.ctx.intern(&src[a..b]))),
        Capture::Position(p) => Ok(Value::Integer(p as i64)),
    }
}

fn captures<'gc>(
    call: &NativeCall<'gc, '_>,
    src: &[u8],
    m: &Match,
    whole_if_none: bool,
) -> Result<Vec<Value<'gc>>, Error<'gc>> {
    let n = if whole_if_none {
        m.value_count()
    } else {
        m.level()
    };
    (0..n).map(|i| capture_value(call, src, m, i)).collect()
}

fn find_aux<'gc>(call: &mut NativeCall<'gc, '_>, find: bool) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let p = call.check_string(1)?;
    let init = call.opt_integer(2, 1)?;
    let plain = call.arg(3).is_truthy();
    let src = s.as_bytes();
    let r = pattern::find_aux(src, p.as_bytes(), init, plain, find, &mut budget(call.ctx));
    match r.map_err(|e| perr(call, e))? {
        None => call.ret1(Value::Nil),
        Some(m) => {
            let mut out = Vec::new();
            if find {
                out.push(Value::Integer(m.start as i64 + 1));
                out.push(Value::Integer(m.end as i64));
                out.extend(captures(call, src, &m, false)?);
            } else {
                out = captures(call, src, &m, true)?;
            }
            call.ret(&out)
        }
    }
}

fn find<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    find_aux(call, true)
}

fn str_match<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    find_aux(call, false)
}

/// The iteration state of a `gmatch` iterator, kept in a userdata upvalue.
struct GMatchBox(std::cell::Cell<GMatchState>);

fn gmatch_aux<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let (Value::String(s), Value::String(p), Value::UserData(u)) =
        (call.upvalue(0), call.upvalue(1), call.upvalue(2))
    else {
        return call.ret0();
    };
    let data = u.data().borrow();
    let Some(b) = data.downcast_ref::<GMatchBox>() else {
        return call.ret0();
    };
    let mut st = b.0.get();
    let r = st.next_with(s.as_bytes(), p.as_bytes(), &mut budget(call.ctx));
    b.0.set(st);
    drop(data);
    match r.map_err(|e| perr(call, e))? {
        None => call.ret1(Value::Nil),
        Some(m) => {
            let out = captures(call, s.as_bytes(), &m, true)?;
            call.ret(&out)
        }
    }
}

fn gmatch<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let p = call.check_string(1)?;
    let init = call.opt_integer(2, 1)?;
    let st = GMatchState::new(s.len(), init);
    let mc = call.ctx.mutation();
    let u = interp::UserData::new(mc, Box::new(GMatchBox(std::cell::Cell::new(st))));
    let f = interp::NativeFunction::with_upvalues(
        mc,
        crate::util::UNNAMED,
        gmatch_aux,
        Box::new([Value::String(s), Value::String(p), Value::UserData(u)]),
    );
    call.ret1(Value::Native(f))
}

enum GsubError<'gc> {
    Pattern(PatternError),
    Lua(Error<'gc>),
}

impl<'gc> From<PatternError> for GsubError<'gc> {
    fn from(e: PatternError) -> Self {
        GsubError::Pattern(e)
    }
}

fn gsub<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = call.check_string(0)?;
    let p = call.check_string(1)?;
    let repl = call.arg(2);
    let max_n = if call.arg(3).is_nil() {
        None
    } else {
        Some(call.check_integer(3)?)
    };
    let src = s.as_bytes();
    let kind_ok = matches!(
        repl,
        Value::String(_) | Value::Integer(_) | Value::Number(_) | Value::Table(_)
    ) || repl.is_function();
    if !kind_ok {
        return Err(call.type_error(2, "string/function/table"));
    }
    let mut changed = false;
    let result = match repl {
        Value::String(_) | Value::Integer(_) | Value::Number(_) => {
            let r = call.check_string(2)?;
            let res = pattern::gsub_with(
                src,
                p.as_bytes(),
                max_n,
                &mut budget(call.ctx),
                |m: &Match, out: &mut Vec<u8>| {
                    pattern::expand_replacement(src, r.as_bytes(), m, out)
                },
            );
            changed = res.as_ref().is_ok_and(|(_, n)| *n > 0);
            res.map_err(GsubError::Pattern)
        }
        _ => pattern::gsub_with(
            src,
            p.as_bytes(),
            max_n,
            &mut budget(call.ctx),
            |m: &Match, out: &mut Vec<u8>| -> Result<(), GsubError<'gc>> {
                let first = capture_value(call, src, m, 0).map_err(GsubError::Lua)?;
                let v = if let Value::Table(t) = repl {
                    interp::vm::meta_index_value(call, Value::Table(t), first)
                        .map_err(GsubError::Lua)?
                } else {
                    let args = captures(call, src, m, true).map_err(GsubError::Lua)?;
                    call.call(repl, &args)
                        .map_err(GsubError::Lua)?
                        .first()
                        .copied()
                        .unwrap_or_default()
                };
                match v {
                    Value::Nil | Value::Boolean(false) => {
                        out.extend_from_slice(&src[m.start..m.end])
                    }
                    Value::String(r) => {
                        changed = true;
                        out.extend_from_slice(r.as_bytes())
                    }
                    Value::Integer(_) | Value::Number(_) => {
                        changed = true;
                        out.extend_from_slice(interp::vm::number_to_string(call.ctx, v).as_bytes())
                    }
                    other => {
                        return Err(GsubError::Lua(call.error(format!(
                            "invalid replacement value (a {})",
                            other.type_name()
                        ))))
                    }
                }
                Ok(())
            },
        ),
    };
    match result {
        Ok((out, n)) => {
            call.tick(out.len() / 64)?;
            let r = if changed { call.ctx.intern(&out) } else { s };
            call.ret(&[Value::String(r), Value::Integer(n as i64)])
        }
        Err(GsubError::Pattern(e)) => Err(perr(call, e)),
        Err(GsubError::Lua(e)) => Err(e),
    }
}

fn pack_err<'gc>(call: &NativeCall<'gc, '_>, e: PackError) -> Error<'gc> {
    match e.arg {
        Some(a) => call.arg_error(a - 1, &e.msg),
        None => call.error(e.msg),
    }
}

enum PackFail<'gc> {
    Pack(PackError),
    Lua(Error<'gc>),
}

impl<'gc> From<PackError> for PackFail<'gc> {
    fn from(e: PackError) -> Self {
        PackFail::Pack(e)
    }
}

fn str_pack<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let fmt = call.check_string(0)?;
    let ctx = call.ctx;
    let r = pack::pack(
        fmt.as_bytes(),
        |len| ctx.reserve(len).map_err(PackFail::Lua),
        |n: usize, kind: PackKind| -> Result<PackArg<'gc>, PackFail<'gc>> {
            let i = n - 1;
            if i >= call.nargs() {
                // C Lua pushes a nil after the arguments: a missing one reads as nil.
                let expected = if matches!(kind, PackKind::Str) {
                    "string"
                } else {
                    "number"
                };
                let msg = format!("{expected} expected, got nil");
                return Err(PackFail::Lua(call.arg_error(i, msg)));
            }
            match kind {
                PackKind::Int => call
                    .check_integer(i)
                    .map(PackArg::Int)
                    .map_err(PackFail::Lua),
                PackKind::Float => call
                    .check_float(i)
                    .map(PackArg::Float)
                    .map_err(PackFail::Lua),
                PackKind::Str => call
                    .check_string(i)
                    .map(|s| PackArg::Str(Cow::Borrowed(s.as_bytes())))
                    .map_err(PackFail::Lua),
            }
        },
    );
    match r {
        Ok(bytes) => {
            let s = call.ctx.intern(&bytes);
            call.ret1(Value::String(s))
        }
        Err(PackFail::Pack(e)) => Err(pack_err(call, e)),
        Err(PackFail::Lua(e)) => Err(e),
    }
}

fn str_unpack<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let fmt = call.check_string(0)?;
    let data = call.check_string(1)?;
    let init = call.opt_integer(2, 1)?;
    match pack::unpack(fmt.as_bytes(), data.as_bytes(), init) {
        Ok((vals, next)) => {
            let mut out: Vec<Value> = vals
                .into_iter()
                .map(|v| match v {
                    Unpacked::Int(i) => Value::Integer(i),
                    Unpacked::Float(f) => Value::Number(f),
                    Unpacked::Str(s) => Value::String(call.ctx.intern(&s)),
                })
                .collect();
            out.push(Value::Integer(next as i64));
            call.ret(&out)
        }
        Err(e) => Err(pack_err(call, e)),
    }
}

fn packsize<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let fmt = call.check_string(0)?;
    match pack::packsize(fmt.as_bytes()) {
        Ok(n) => call.ret1(Value::Integer(n as i64)),
        Err(e) => Err(pack_err(call, e)),
    }
}

/// `string.dump(f [, strip])`: the binary chunk of a Lua function.
fn dump<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    match call.arg(0) {
        Value::Closure(c) => {
            let strip = call.arg(1).is_truthy();
            let chunk = interp::chunk::dump(c.raw_proto(), strip);
            let s = call.ctx.intern(&chunk);
            call.ret1(Value::String(s))
        }
        Value::Native(_) => Err(call.error("unable to dump given function")),
        _ => Err(call.type_error(0, "function")),
    }
}
