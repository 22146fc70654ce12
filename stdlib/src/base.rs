//! The basic library (manual §6.1): print, type, pcall, error, load, pairs, ...

use interp::vm::meta_index_value;
use interp::{Action, Context, Error, NativeCall, Value};

use crate::util::{register, Ret};

/// The functions of the basic library, but those `open_base` and `open_base_safe` choose.
const COMMON: &[(&str, interp::NativeFn)] = &[
    ("assert", assert),
    ("error", error),
    ("getmetatable", getmetatable),
    ("ipairs", ipairs),
    ("next", next),
    ("pairs", pairs),
    ("pcall", pcall),
    ("print", print),
    ("rawequal", rawequal),
    ("rawget", rawget),
    ("rawlen", rawlen),
    ("rawset", rawset),
    ("select", select),
    ("setmetatable", setmetatable),
    ("tonumber", tonumber),
    ("tostring", tostring),
    ("type", type_),
    ("warn", warn),
    ("xpcall", xpcall),
];

/// Opens the basic library into the global table.
pub fn open_base(ctx: Context<'_>) {
    open_base_with(
        ctx,
        &[
            ("collectgarbage", collectgarbage),
            ("dofile", dofile),
            ("load", load),
            ("loadfile", loadfile),
        ],
    );
}

/// Opens the base library for untrusted code: no `dofile` and `loadfile` (no file access),
/// `load` of text chunks only (binary chunks are refused), and `collectgarbage` limited to
/// "collect", "step", "count" and "isrunning" (the collector cannot be stopped or retuned).
pub fn open_base_safe(ctx: Context<'_>) {
    open_base_with(
        ctx,
        &[("collectgarbage", collectgarbage_safe), ("load", load_text)],
    );
}

fn open_base_with(ctx: Context<'_>, chosen: &[(&'static str, interp::NativeFn)]) {
    let g = ctx.globals();
    register(ctx, g, COMMON);
    register(ctx, g, chosen);
    g.set_str(ctx.mutation(), ctx.intern_static(b"_G"), Value::Table(g));
    g.set_str(
        ctx.mutation(),
        ctx.intern_static(b"_VERSION"),
        ctx.str("Lua 5.4"),
    );
}

/// `tostring`, for hosts (`crate::host_function`).
pub(crate) fn tostring_fn() -> interp::NativeFn {
    tostring
}

fn load_text<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    load_impl(call, true)
}

fn collectgarbage_safe<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let allowed = match call.opt_string(0)? {
        None => true,
        Some(s) => matches!(s.as_bytes(), b"collect" | b"step" | b"count" | b"isrunning"),
    };
    if !allowed {
        return Err(call.arg_error(0, "option not allowed in this sandbox"));
    }
    collectgarbage(call)
}

fn print<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let mut out = Vec::with_capacity(64);
    for i in 0..call.nargs() {
        if i > 0 {
            out.push(b'\t');
        }
        let s = call.to_string(call.arg(i))?;
        out.extend_from_slice(s.as_bytes());
    }
    out.push(b'\n');
    // lua_writestring and lua_writeline: through C's stdout buffer, then fflush.
    let _ = crate::stdio::stdout_write(&out);
    let _ = crate::stdio::stdout_flush();
    call.ret0()
}

/// `warn` (`luaB_warn`): every argument must be a string; they go to the host's warning
/// function as the pieces of one message.
fn warn<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let n = call.nargs().max(1);
    for i in 0..n {
        call.check_string(i)?;
    }
    for i in 0..n {
        let piece = call.check_string(i)?;
        call.ctx.warn(piece.as_bytes(), i + 1 < n);
    }
    call.ret0()
}

fn type_<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let v = call.check_any(0)?;
    let s = call.ctx.str(v.type_name());
    call.ret1(s)
}

fn tostring<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let v = call.check_any(0)?;
    let s = call.to_string(v)?;
    call.ret1(Value::String(s))
}

fn tonumber<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if call.arg(1).is_nil() {
        let v = call.check_any(0)?;
        let r = match v {
            Value::Integer(_) | Value::Number(_) => v,
            Value::String(s) => match interp::number::str_to_number(s.as_bytes()) {
                Some(n) => Value::from_number(n),
                None => Value::Nil,
            },
            _ => Value::Nil,
        };
        return call.ret1(r);
    }
    let base = call.check_integer(1)?;
    let s = match call.arg(0) {
        Value::String(s) => s,
        _ => return Err(call.type_error(0, "string")),
    };
    if !(2..=36).contains(&base) {
        return Err(call.arg_error(1, "base out of range"));
    }
    let r = match interp::number::str_to_int_base(s.as_bytes(), base as u32) {
        Some(i) => Value::Integer(i),
        None => Value::Nil,
    };
    call.ret1(r)
}

fn assert<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if call.arg(0).is_truthy() {
        let n = call.nargs();
        return Ok(Action::Return(n));
    }
    if call.nargs() == 0 {
        return Err(call.arg_error(0, "value expected"));
    }
    // `luaB_error` at level 1 on the message (or the default one): a string gets the
    // position of the code that called `assert`.
    let msg = if call.nargs() >= 2 {
        call.arg(1)
    } else {
        Value::String(call.ctx.intern_static(b"assertion failed!"))
    };
    match msg {
        Value::String(s) => Err(call.error(s.as_bytes())),
        _ => Err(Error::new(msg)),
    }
}

fn error<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let v = call.arg(0);
    let level = crate::util::opt_c_int(call, 1, 1)?;
    if let Value::String(s) = v {
        if level > 0 {
            let mut m = interp::vm::debug_api::position(call, level as usize);
            m.extend_from_slice(s.as_bytes());
            return Err(Error::new(Value::String(call.ctx.intern(&m))));
        }
    }
    Err(Error::new(v))
}

fn pcall<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    call.check_any(0)?;
    Ok(Action::ProtectedCall(None))
}

fn xpcall<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let h = call.arg(1);
    if !h.is_function() {
        return Err(call.type_error(1, "function"));
    }
    call.remove_arg(1);
    Ok(Action::ProtectedCall(Some(h)))
}

fn select<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let n = call.nargs() as i64;
    if let Value::String(s) = call.arg(0) {
        if s.as_bytes().first() == Some(&b'#') {
            return call.ret1(Value::Integer(n - 1));
        }
    }
    let i = call.check_integer(0)?;
    let i = if i < 0 { n + i } else { i.min(n) };
    if i < 1 {
        return Err(call.arg_error(0, "index out of range"));
    }
    Ok(Action::Return((n - i) as usize))
}

fn rawequal<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    call.check_any(0)?;
    call.check_any(1)?;
    let r = call.arg(0).raw_equals(call.arg(1));
    call.ret1(Value::Boolean(r))
}

fn rawlen<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let n = match call.arg(0) {
        Value::Table(t) => t.length(),
        Value::String(s) => s.len() as i64,
        _ => return Err(call.type_error(0, "table or string")),
    };
    call.ret1(Value::Integer(n))
}

fn rawget<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = call.check_table(0)?;
    call.check_any(1)?;
    let v = t.get(call.arg(1));
    call.ret1(v)
}

fn rawset<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = call.check_table(0)?;
    call.check_any(1)?;
    call.check_any(2)?;
    t.set(call.ctx.mutation(), call.arg(1), call.arg(2))
        .map_err(|e| call.op_error(e.message()))?;
    call.ret1(Value::Table(t))
}

fn next<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = call.check_table(0)?;
    match t.next(call.arg(1)) {
        Ok(Some((k, v))) => call.ret(&[k, v]),
        Ok(None) => call.ret1(Value::Nil),
        Err(_) => Err(call.op_error("invalid key to 'next'")),
    }
}

fn pairs<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let v = call.check_any(0)?;
    let mm = interp::vm::metamethod(call.ctx, v, interp::vm::Metamethod::Pairs);
    if !mm.is_nil() {
        // `lua_callk` for three results: `__pairs` may yield, and `pairs` keeps its frame.
        call.set_nargs(0);
        call.push(mm);
        call.push(v);
        return Ok(Action::Call {
            args: 1,
            results: 3,
        });
    }
    // Any value (`next` checks it): the `next` of this library, whatever the global
    // `next` is now (C Lua pushes `luaB_next` itself, a light function).
    let next = call.ctx.native("next", next);
    call.ret(&[next, v, Value::Nil])
}

fn ipairs_aux<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let i = call.check_integer(1)?.wrapping_add(1);
    let t = call.arg(0);
    let v = match t {
        Value::Table(tab) if tab.metatable().is_none() => tab.get_int(i),
        _ => meta_index_value(call, t, Value::Integer(i))?,
    };
    if v.is_nil() {
        call.ret1(Value::Nil)
    } else {
        call.ret(&[Value::Integer(i), v])
    }
}

fn ipairs<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = call.check_any(0)?;
    let f = call.ctx.native(crate::util::UNNAMED, ipairs_aux);
    call.ret(&[f, t, Value::Integer(0)])
}

fn getmetatable<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let v = call.check_any(0)?;
    match call.ctx.metatable(v) {
        None => call.ret1(Value::Nil),
        Some(mt) => {
            let protected = mt.get_str(call.ctx.intern_static(b"__metatable"));
            if !protected.is_nil() {
                call.ret1(protected)
            } else {
                call.ret1(Value::Table(mt))
            }
        }
    }
}

fn setmetatable<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = call.check_table(0)?;
    let mt = match call.arg(1) {
        Value::Nil => None,
        Value::Table(m) => Some(m),
        _ => return Err(call.type_error(1, "nil or table")),
    };
    if call.nargs() < 2 {
        return Err(call.type_error(1, "nil or table"));
    }
    if let Some(cur) = t.metatable() {
        if !cur.get_str(call.ctx.intern_static(b"__metatable")).is_nil() {
            return Err(call.error("cannot change a protected metatable"));
        }
    }
    call.ctx.set_table_metatable(t, mt);
    call.ret1(Value::Table(t))
}

fn collectgarbage<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    const OPTIONS: [&str; 10] = [
        "stop",
        "restart",
        "collect",
        "count",
        "step",
        "setpause",
        "setstepmul",
        "isrunning",
        "generational",
        "incremental",
    ];
    let opt = OPTIONS[crate::util::check_option(call, 0, Some("collect"), &OPTIONS)?].as_bytes();
    let ctx = call.ctx;
    if ctx.in_finalizer() {
        // Like C Lua: the collector is not reentrant; inside a finalizer every option fails.
        return call.ret1(Value::Nil);
    }
    // As `luaB_collectgarbage` and `lua_gc`: each option reads its own integer arguments
    // (0 = leave as is); pause, step multiplier and major multiplier are kept in units of 4
    // (`setgcparam`), so a pause of 150 reads back as 148.
    let arg = |call: &NativeCall<'gc, '_>, i: usize| -> Result<i32, Error<'gc>> {
        Ok(call.opt_integer(i, 0)? as i32)
    };
    let quantize = |v: i32| v / 4 * 4;
    let mut p = ctx.gc_params();
    match opt {
        b"collect" => {
            ctx.request_gc();
            call.ret1(Value::Integer(0))
        }
        b"count" => {
            let kb = ctx.memory_estimate() as f64 / 1024.0;
            call.ret1(Value::Number(kb))
        }
        b"step" => {
            arg(call, 1)?;
            ctx.request_gc();
            // A step ends a cycle in incremental mode (ours collects in full); in
            // generational mode a young collection never reaches the pause state.
            call.ret1(Value::Boolean(!ctx.gc_generational()))
        }
        b"isrunning" => call.ret1(Value::Boolean(ctx.gc_running())),
        b"stop" => {
            ctx.set_gc_running(false);
            call.ret1(Value::Integer(0))
        }
        b"restart" => {
            ctx.set_gc_running(true);
            call.ret1(Value::Integer(0))
        }
        b"incremental" => {
            let (pause, stepmul, stepsize) = (arg(call, 1)?, arg(call, 2)?, arg(call, 3)?);
            if pause != 0 {
                p.pause = quantize(pause);
            }
            if stepmul != 0 {
                p.stepmul = quantize(stepmul);
            }
            if stepsize != 0 {
                p.stepsize = stepsize;
            }
            ctx.set_gc_params(p);
            let prev = ctx.gc_mode(opt);
            call.ret1(ctx.str(prev))
        }
        b"generational" => {
            let (minormul, majormul) = (arg(call, 1)?, arg(call, 2)?);
            if minormul != 0 {
                p.minormul = minormul;
            }
            if majormul != 0 {
                p.majormul = quantize(majormul);
            }
            ctx.set_gc_params(p);
            let prev = ctx.gc_mode(opt);
            call.ret1(ctx.str(prev))
        }
        b"setpause" | b"setstepmul" => {
            let v = quantize(arg(call, 1)?);
            let field = if opt == b"setpause" {
                &mut p.pause
            } else {
                &mut p.stepmul
            };
            let prev = std::mem::replace(field, v);
            ctx.set_gc_params(p);
            call.ret1(Value::Integer(prev as i64))
        }
        _ => Err(call.arg_error(
            0,
            format!("invalid option '{}'", String::from_utf8_lossy(opt)),
        )),
    }
}

/// Reads a chunk given to `load` as a string or as a function returning pieces. An error
/// while reading (`Ok(Err(msg))`) makes `load` return `nil, msg`, as in C Lua.
type Source<'gc> = Result<Vec<u8>, Value<'gc>>;

fn chunk_source<'gc>(call: &mut NativeCall<'gc, '_>) -> Result<Source<'gc>, Error<'gc>> {
    match call.arg(0) {
        Value::String(s) => Ok(Ok(s.as_bytes().to_vec())),
        // `lua_tolstring`: a number is loaded as its text.
        v @ (Value::Integer(_) | Value::Number(_)) => {
            Ok(Ok(call.to_string(v)?.as_bytes().to_vec()))
        }
        f if f.is_function() => {
            let mut src = Vec::new();
            loop {
                let r = match call.call(f, &[]) {
                    Ok(r) => r,
                    Err(e) if e.is_catchable() => return Ok(Err(e.value)),
                    Err(e) => return Err(e),
                };
                let piece = match r.first().copied().unwrap_or_default() {
                    Value::Nil => break,
                    v @ (Value::String(_) | Value::Integer(_) | Value::Number(_)) => {
                        call.to_string(v)?
                    }
                    _ => {
                        // `luaL_error` inside `lua_load`'s protected parser: with the
                        // caller's position, and the message handler runs on it.
                        let e = call.error("reader function must return a string");
                        return Ok(Err(call.handled_error_value(e.value)));
                    }
                };
                if piece.is_empty() {
                    break;
                }
                // A reader that never ends is stopped by the host's limits (a unit of fuel
                // per piece and per 64 bytes of it) or runs out of memory: the source
                // read so far counts against the limit, as C Lua's buffer of it does.
                call.tick(1 + piece.len() / 64)?;
                if !call.fits(src.len().saturating_add(piece.len())) {
                    call.ctx.request_gc();
                    return Ok(Err(call.ctx.str("not enough memory")));
                }
                src.extend_from_slice(piece.as_bytes());
            }
            Ok(Ok(src))
        }
        _ => Err(call.type_error(0, "function")),
    }
}

/// Compiles `src` and returns the function, or `nil, message` (the shared part of `load`,
/// `loadfile` and `dofile`).
fn load_chunk<'gc>(
    call: &mut NativeCall<'gc, '_>,
    src: &[u8],
    name: &[u8],
    mode: &[u8],
    env: Option<Value<'gc>>,
) -> Result<Value<'gc>, Value<'gc>> {
    let ctx = call.ctx;
    let is_binary = src.first() == Some(&0x1b);
    // The mode is a C string: it ends at a zero byte.
    let mode = mode.split(|&c| c == 0).next().unwrap_or_default();
    let (kind, letter) = if is_binary {
        ("binary", b'b')
    } else {
        ("text", b't')
    };
    if !mode.contains(&letter) {
        let mut m = format!("attempt to load a {kind} chunk (mode is '").into_bytes();
        m.extend_from_slice(mode);
        m.extend_from_slice(b"')");
        return Err(Value::String(ctx.intern(&m)));
    }
    let proto = if is_binary {
        interp::chunk::undump(src, name).map_err(|m| Value::String(ctx.intern(&m)))?
    } else {
        interp::compiler::compile_at(src, name, call.c_calls()).map_err(|e| {
            let msg = Value::String(ctx.intern(&e.message));
            if e.message == b"C stack overflow" {
                // Raised by `luaE_checkcstack`, not as a syntax error: the message handler
                // of the code calling `load` runs on it (lua.c's adds a traceback).
                call.handled_error_value(msg)
            } else {
                msg
            }
        })?
    };
    Ok(Value::Closure(ctx.load_proto(&proto, env)))
}

fn load<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    load_impl(call, false)
}

/// `load`; with `text_only`, binary chunks are refused whatever the mode says.
fn load_impl<'gc>(call: &mut NativeCall<'gc, '_>, text_only: bool) -> Ret<'gc> {
    // Arguments are checked in `luaB_load`'s order: mode, chunk name, then the chunk.
    let mut mode = match call.opt_string(2)? {
        Some(s) => s.as_bytes().to_vec(),
        None => b"bt".to_vec(),
    };
    let name = call.opt_string(1)?.map(|s| s.as_bytes().to_vec());
    let is_text = matches!(
        call.arg(0),
        Value::String(_) | Value::Integer(_) | Value::Number(_)
    );
    let src = match chunk_source(call)? {
        Ok(src) => src,
        Err(msg) => return call.ret(&[Value::Nil, msg]),
    };
    let mut name = match name {
        Some(n) => n,
        None if is_text => src.clone(),
        None => b"=(load)".to_vec(),
    };
    // The chunk name is a C string: it ends at a zero byte.
    if let Some(z) = name.iter().position(|&c| c == 0) {
        name.truncate(z);
    }
    if text_only {
        mode.retain(|&c| c != b'b');
    }
    let env = if call.nargs() >= 4 {
        Some(call.arg(3))
    } else {
        None
    };
    match load_chunk(call, &src, &name, &mode, env) {
        Ok(f) => call.ret1(f),
        Err(msg) => call.ret(&[Value::Nil, msg]),
    }
}

/// Reads a file for `loadfile`/`dofile`: skips a first line starting with '#'.
fn read_source(path: Option<&[u8]>) -> Result<(Vec<u8>, Vec<u8>), String> {
    let (data, name) = match path {
        Some(p) => {
            let ps = String::from_utf8_lossy(p).into_owned();
            let d = std::fs::read(&ps)
                .map_err(|e| format!("cannot open {}: {}", ps, crate::util::io_error_text(&e)))?;
            let mut n = b"@".to_vec();
            n.extend_from_slice(p);
            (d, n)
        }
        None => {
            let d = crate::stdio::stdin_read_all()
                .map_err(|e| format!("cannot read stdin: {}", crate::util::io_error_text(&e)))?;
            (d, b"=stdin".to_vec())
        }
    };
    let src = interp::compiler::skip_shebang(&data);
    // A binary chunk after a '#' line loses the newline kept for line numbers.
    let src = match src {
        [b'\n', 0x1b, ..] => &src[1..],
        _ => src,
    };
    Ok((src.to_vec(), name))
}

fn loadfile<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let path = call.opt_string(0)?.map(|s| s.as_bytes().to_vec());
    let mode = match call.opt_string(1)? {
        Some(s) => s.as_bytes().to_vec(),
        None => b"bt".to_vec(),
    };
    let env = if call.nargs() >= 3 {
        Some(call.arg(2))
    } else {
        None
    };
    let (src, name) = match read_source(path.as_deref()) {
        Ok(x) => x,
        Err(m) => return call.ret(&[Value::Nil, call.ctx.str(&m)]),
    };
    match load_chunk(call, &src, &name, &mode, env) {
        Ok(f) => call.ret1(f),
        Err(msg) => call.ret(&[Value::Nil, msg]),
    }
}

fn dofile<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let path = call.opt_string(0)?.map(|s| s.as_bytes().to_vec());
    let (src, name) = read_source(path.as_deref()).map_err(|m| Error::new(call.ctx.str(&m)))?;
    let f = load_chunk(call, &src, &name, b"bt", None).map_err(Error::new)?;
    call.set_nargs(0);
    call.push(f);
    Ok(Action::Call {
        args: 0,
        results: -1,
    })
}
