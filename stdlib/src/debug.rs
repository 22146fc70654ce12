//! The debug library (manual §6.10): tracebacks, `getinfo`, locals, upvalues, metatables and
//! the registry, and hooks.

use interp::vm::debug_api;
use interp::vm::{Hook, MASK_CALL, MASK_LINE, MASK_RETURN};
use interp::{NativeCall, Value};

use crate::util::{new_lib, Ret};

/// Opens the `debug` library.
pub fn open_debug(ctx: interp::Context<'_>) {
    new_lib(
        ctx,
        "debug",
        &[
            ("debug", debug),
            ("traceback", traceback),
            ("getinfo", getinfo),
            ("getlocal", getlocal),
            ("setlocal", setlocal),
            ("getmetatable", getmetatable),
            ("setmetatable", setmetatable),
            ("getregistry", getregistry),
            ("getupvalue", getupvalue),
            ("setupvalue", setupvalue),
            ("upvalueid", upvalueid),
            ("upvaluejoin", upvaluejoin),
            ("getuservalue", getuservalue),
            ("setuservalue", setuservalue),
            ("sethook", sethook),
            ("gethook", gethook),
            ("setcstacklimit", setcstacklimit),
        ],
    );
}

/// `debug.setcstacklimit` (deprecated in 5.4): checks its integer argument and changes
/// nothing; returns C Lua's fixed limit, `LUAI_MAXCCALLS`.
fn setcstacklimit<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    call.check_integer(0)?;
    call.ret1(Value::Integer(200))
}

/// `debug.debug`: runs each line read from stdin until a line `cont` or the end of input;
/// errors are written to stderr.
fn debug<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    use std::io::Write;
    loop {
        let _ = std::io::stderr().write_all(b"lua_debug> ");
        // fgets(buffer, sizeof(buffer), stdin), through C's stdin buffer.
        let line = match crate::stdio::stdin_read_line() {
            Ok(Some(l)) if l != b"cont\n" => l,
            _ => return call.ret0(),
        };
        let r = match call.ctx.load(&line, b"=(debug command)", None) {
            Ok(f) => call.call(Value::Closure(f), &[]).map(|_| ()),
            Err(e) => Err(interp::Error::new(Value::String(
                call.ctx.intern(&e.message),
            ))),
        };
        if let Err(e) = r {
            if !e.is_catchable() {
                return Err(e);
            }
            let msg = call.to_string(e.value)?;
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(msg.as_bytes());
            let _ = err.write_all(b"\n");
        }
    }
}

fn traceback<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let (target, msg_i) = thread_arg(call);
    let msg = call.arg(msg_i);
    if !msg.is_nil() && !matches!(msg, Value::String(_) | Value::Integer(_) | Value::Number(_)) {
        return call.ret1(msg);
    }
    // Another thread's level 0 is the yield it waits in; ours is traceback itself.
    let default_level = if target.is_some() { 0 } else { 1 };
    let level = crate::util::opt_c_int(call, msg_i + 1, default_level)?.max(0) as usize;
    let mut out = Vec::new();
    if let Ok(Some(s)) = call.opt_string(msg_i) {
        out.extend_from_slice(s.as_bytes());
        out.push(b'\n');
    }
    let tb = debug_api::traceback(call, target, level);
    out.extend_from_slice(tb.as_bytes());
    let s = call.ctx.intern(&out);
    call.ret1(Value::String(s))
}

fn set<'gc>(call: &NativeCall<'gc, '_>, t: interp::Table<'gc>, k: &str, v: Value<'gc>) {
    t.set_str(call.ctx.mutation(), call.ctx.intern(k.as_bytes()), v);
}

fn getinfo<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let (target, base) = thread_arg(call);
    let what = call
        .opt_string(base + 1)?
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_else(|| b"flnSrtu".to_vec());
    if what.first() == Some(&b'>') {
        return Err(call.arg_error(base + 1, "invalid option"));
    }
    for &c in &what {
        if !b"SlnrutLf".contains(&c) {
            return Err(call.arg_error(base + 1, "invalid option"));
        }
    }
    let t = call.ctx.new_table();
    let f = call.arg(base);
    let (info, func) = if f.is_function() {
        (function_info(f), f)
    } else {
        let level = crate::util::check_c_int(call, base)?;
        if level < 0 {
            return call.ret1(Value::Nil);
        }
        let st = if target.is_none() && level == 0 {
            Some((
                interp::vm::FunctionInfo {
                    name: Some(("field", b"getinfo".to_vec())),
                    ..interp::vm::FunctionInfo::native()
                },
                call.func_value(),
            ))
        } else {
            debug_api::stack_info(call, target, level as usize)
        };
        match st {
            Some(i) => i,
            None => return call.ret1(Value::Nil),
        }
    };
    let ctx = call.ctx;
    if what.contains(&b'S') {
        set(call, t, "source", Value::String(ctx.intern(&info.source)));
        set(
            call,
            t,
            "short_src",
            Value::String(ctx.intern(&info.short_src)),
        );
        set(call, t, "what", ctx.str(info.what));
        set(call, t, "linedefined", Value::Integer(info.line_defined));
        set(
            call,
            t,
            "lastlinedefined",
            Value::Integer(info.last_line_defined),
        );
    }
    if what.contains(&b'l') {
        set(call, t, "currentline", Value::Integer(info.current_line));
    }
    if what.contains(&b'n') {
        if let Some((namewhat, name)) = &info.name {
            set(call, t, "name", Value::String(ctx.intern(name)));
            set(call, t, "namewhat", ctx.str(namewhat));
        } else {
            set(call, t, "namewhat", ctx.str(""));
        }
    }
    if what.contains(&b'u') {
        let (nups, nparams, vararg) = match func {
            Value::Closure(c) => (
                c.num_upvalues() as i64,
                c.proto().num_params() as i64,
                c.proto().is_vararg(),
            ),
            Value::Native(n) => (n.num_upvalues() as i64, 0, true),
            _ => (0, 0, true),
        };
        set(call, t, "nups", Value::Integer(nups));
        set(call, t, "nparams", Value::Integer(nparams));
        set(call, t, "isvararg", Value::Boolean(vararg));
    }
    if what.contains(&b't') {
        set(call, t, "istailcall", Value::Boolean(info.is_tail_call));
    }
    if what.contains(&b'r') {
        let (first, n) = match (call.arg(base), target) {
            (Value::Integer(level), None) if level > 0 => debug_api::transfer(call, level as usize),
            _ => (0, 0),
        };
        set(call, t, "ftransfer", Value::Integer(first as i64));
        set(call, t, "ntransfer", Value::Integer(n as i64));
    }
    if what.contains(&b'f') && !func.is_nil() {
        set(call, t, "func", func);
    }
    if what.contains(&b'L') {
        if let Value::Closure(c) = func {
            let lines = ctx.new_table();
            // A vararg function's VARARGPREP is not an active line (5.4.8 `collectvalidlines`).
            let raw = c.raw_proto();
            for &l in raw.line_info.iter().skip(raw.is_vararg as usize) {
                lines.set_int(ctx.mutation(), l as i64, Value::Boolean(true));
            }
            set(call, t, "activelines", Value::Table(lines));
        }
    }
    call.ret1(Value::Table(t))
}

fn function_info<'gc>(f: Value<'gc>) -> interp::vm::FunctionInfo {
    match f {
        Value::Closure(c) => {
            let p = c.raw_proto();
            interp::vm::FunctionInfo {
                source: p.source.to_vec(),
                short_src: interp::compiler::chunk_id(&p.source),
                what: if p.line_defined == 0 { "main" } else { "Lua" },
                current_line: -1,
                line_defined: p.line_defined as i64,
                last_line_defined: p.last_line_defined as i64,
                name: None,
                is_tail_call: false,
            }
        }
        _ => interp::vm::FunctionInfo::native(),
    }
}

fn getlocal<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let (target, a) = thread_arg(call);
    let n = crate::util::check_c_int(call, a + 1)?;
    match call.arg(a) {
        // Parameter names of a function value.
        Value::Closure(c) => {
            let p = c.raw_proto();
            let name = p
                .local_vars
                .iter()
                .filter(|v| v.start_pc == 0)
                .nth((n - 1).max(0) as usize)
                .filter(|_| n >= 1 && (n as usize) <= p.num_params as usize)
                .map(|v| v.name.to_vec());
            return match name {
                Some(nm) => {
                    let s = call.ctx.intern(&nm);
                    call.ret1(Value::String(s))
                }
                None => call.ret1(Value::Nil),
            };
        }
        Value::Native(_) => return call.ret1(Value::Nil),
        _ => {}
    }
    let level = crate::util::check_c_int(call, a)?;
    let found = debug_api::local(call, target, level, n);
    match found {
        Err(_) => Err(call.arg_error(a, "level out of range")),
        Ok(None) => call.ret1(Value::Nil),
        Ok(Some((name, v))) => {
            let name = Value::String(call.ctx.intern(&name));
            call.ret(&[name, v])
        }
    }
}

fn setlocal<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let (target, a) = thread_arg(call);
    let level = crate::util::check_c_int(call, a)?;
    let n = crate::util::check_c_int(call, a + 1)?;
    let v = call.check_any(a + 2)?;
    let found = debug_api::set_local(call, target, level, n, v);
    match found {
        Err(_) => Err(call.arg_error(a, "level out of range")),
        Ok(None) => call.ret1(Value::Nil),
        Ok(Some(name)) => {
            let name = Value::String(call.ctx.intern(&name));
            call.ret1(name)
        }
    }
}

/// The thread a debug function works on (`None`: the running one) and the index of its
/// next argument.
fn thread_arg<'gc>(call: &NativeCall<'gc, '_>) -> (Option<interp::Thread<'gc>>, usize) {
    match call.arg(0) {
        Value::Thread(t) if !t.ptr_eq(call.thread) => (Some(t), 1),
        Value::Thread(_) => (None, 1),
        _ => (None, 0),
    }
}

fn getmetatable<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let v = call.check_any(0)?;
    let mt = call.ctx.metatable(v).map(Value::Table).unwrap_or_default();
    call.ret1(mt)
}

fn setmetatable<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let v = call.arg(0);
    let mt = match call.arg(1) {
        Value::Nil => None,
        Value::Table(t) => Some(t),
        _ => return Err(call.type_error(1, "nil or table")),
    };
    match v {
        Value::Table(t) => call.ctx.set_table_metatable(t, mt),
        Value::UserData(u) => call.ctx.set_userdata_metatable(u, mt),
        other => call.ctx.set_type_metatable(other.type_of(), mt),
    }
    call.ret1(v)
}

fn getregistry<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let r = call.ctx.registry();
    call.ret1(Value::Table(r))
}

fn upvalue_name<'gc>(c: interp::Closure<'gc>, i: usize) -> Vec<u8> {
    let p = c.raw_proto();
    p.upvalues
        .get(i)
        .and_then(|u| u.name.as_deref())
        .map(|n| n.to_vec())
        .unwrap_or_else(|| b"(no name)".to_vec()) // stripped (`aux_upvalue`)
}

fn getupvalue<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    // As `auxupvalue`: the index, then the function.
    let n = crate::util::check_c_int(call, 1)?;
    if !call.arg(0).is_function() {
        return Err(call.type_error(0, "function"));
    }
    match call.arg(0) {
        Value::Closure(c) if n >= 1 && (n as usize) <= c.num_upvalues() => {
            let name = call.ctx.intern(&upvalue_name(c, n as usize - 1));
            let v = debug_api::upvalue(call, c, n as usize - 1);
            call.ret(&[Value::String(name), v])
        }
        Value::Native(f) if n >= 1 && (n as usize) <= f.num_upvalues() => {
            let v = f.upvalue(n as usize - 1);
            call.ret(&[call.ctx.str(""), v])
        }
        _ => call.ret0(),
    }
}

fn setupvalue<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    // As `db_setupvalue`: the value, the index, then the function.
    let v = call.check_any(2)?;
    let n = crate::util::check_c_int(call, 1)?;
    if !call.arg(0).is_function() {
        return Err(call.type_error(0, "function"));
    }
    match call.arg(0) {
        Value::Closure(c) if n >= 1 && (n as usize) <= c.num_upvalues() => {
            let i = n as usize - 1;
            debug_api::set_upvalue(call, c, i, v);
            let name = call.ctx.intern(&upvalue_name(c, i));
            call.ret1(Value::String(name))
        }
        // A C function's upvalues have no names (`aux_upvalue`: "").
        Value::Native(f) if n >= 1 && f.set_upvalue(call.ctx.mutation(), n as usize - 1, v) => {
            call.ret1(call.ctx.str(""))
        }
        _ => call.ret0(),
    }
}

/// The identity of upvalue `n` of the function at argument `i` (`lua_upvalueid`), after
/// checking the arguments as C Lua's `checkupval` does; `None` for an invalid index.
fn upvalue_id<'gc>(
    call: &NativeCall<'gc, '_>,
    i: usize,
) -> Result<Option<i64>, interp::Error<'gc>> {
    let n = crate::util::check_c_int(call, i + 1)?;
    let id = match call.arg(i) {
        Value::Closure(c) if n >= 1 && (n as usize) <= c.num_upvalues() => {
            Some(c.upvalue_id(n as usize - 1) as i64)
        }
        Value::Native(f) if n >= 1 && (n as usize) <= f.num_upvalues() => {
            Some(f.as_ptr() as usize as i64 + n)
        }
        Value::Closure(_) | Value::Native(_) => None,
        _ => return Err(call.type_error(i, "function")),
    };
    Ok(id)
}

fn upvalueid<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    match upvalue_id(call, 0)? {
        Some(id) => call.ret1(Value::LightUserData(id as usize)),
        None => call.ret1(Value::Nil),
    }
}

fn upvaluejoin<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    for i in [0, 2] {
        if upvalue_id(call, i)?.is_none() {
            return Err(call.arg_error(i + 1, "invalid upvalue index"));
        }
    }
    let (Value::Closure(f1), Value::Closure(f2)) = (call.arg(0), call.arg(2)) else {
        let i = if matches!(call.arg(0), Value::Closure(_)) {
            2
        } else {
            0
        };
        return Err(call.arg_error(i, "Lua function expected"));
    };
    let (n1, n2) = (
        crate::util::check_c_int(call, 1)?,
        crate::util::check_c_int(call, 3)?,
    );
    f1.join_upvalue(call.ctx.mutation(), n1 as usize - 1, f2, n2 as usize - 1);
    call.ret0()
}

fn getuservalue<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    match call.arg(0) {
        Value::UserData(u) if crate::util::opt_c_int(call, 1, 1)? == 1 => match u.user_value() {
            Some(v) => call.ret(&[v, Value::Boolean(true)]),
            None => call.ret(&[Value::Nil, Value::Boolean(false)]),
        },
        _ => call.ret(&[Value::Nil, Value::Boolean(false)]),
    }
}

fn setuservalue<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let Value::UserData(u) = call.arg(0) else {
        return Err(call.type_error(0, "userdata"));
    };
    let v = call.check_any(1)?;
    if crate::util::opt_c_int(call, 2, 1)? != 1 || !u.set_user_value(call.ctx.mutation(), v) {
        return call.ret1(Value::Nil); // no such user value
    }
    call.ret1(Value::UserData(u))
}

fn sethook<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let (target, a) = thread_arg(call);
    let hook = if call.arg(a).is_nil() {
        Hook::default()
    } else {
        let smask = call.check_string(a + 1)?.as_bytes().to_vec();
        if !call.arg(a).is_function() {
            return Err(call.type_error(a, "function"));
        }
        let count = crate::util::opt_c_int(call, a + 2, 0)?.clamp(0, i32::MAX as i64) as u32;
        let mut mask = 0;
        for (c, m) in [(b'c', MASK_CALL), (b'r', MASK_RETURN), (b'l', MASK_LINE)] {
            if smask.contains(&c) {
                mask |= m;
            }
        }
        Hook::new(call.arg(a), mask, count)
    };
    record_hook(call, target.unwrap_or(call.thread), hook.func);
    if debug_api::set_hook(call, target, hook).is_err() {
        return Err(call.error("cannot set the hook of a running coroutine"));
    }
    call.ret0()
}

/// Keeps `registry._HOOKKEY[thread] = hook` (a table with weak keys), as C Lua's debug
/// library does; the hook itself lives in the thread.
fn record_hook<'gc>(call: &NativeCall<'gc, '_>, thread: interp::Thread<'gc>, f: Value<'gc>) {
    let ctx = call.ctx;
    let key = ctx.intern_static(b"_HOOKKEY");
    let table = match ctx.registry().get_str(key) {
        Value::Table(t) => t,
        _ => {
            let t = ctx.new_table();
            let mt = ctx.new_table();
            mt.set_str(ctx.mutation(), ctx.intern_static(b"__mode"), ctx.str("k"));
            ctx.set_table_metatable(t, Some(mt));
            ctx.registry().set_str(ctx.mutation(), key, Value::Table(t));
            t
        }
    };
    // A thread key is never nil or NaN: this cannot fail.
    let _ = table.set(ctx.mutation(), Value::Thread(thread), f);
}

fn gethook<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let (target, _) = thread_arg(call);
    let hook = debug_api::hook(call, target);
    if !hook.active() {
        return call.ret1(Value::Nil);
    }
    let mut smask = Vec::new();
    for (c, m) in [(b'c', MASK_CALL), (b'r', MASK_RETURN), (b'l', MASK_LINE)] {
        if hook.mask & m != 0 {
            smask.push(c);
        }
    }
    let smask = Value::String(call.ctx.intern(&smask));
    call.ret(&[hook.func, smask, Value::Integer(hook.base_count as i64)])
}
