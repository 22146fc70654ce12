//! The os library (manual §6.9).

use interp::{NativeCall, Value};

use crate::util::{new_lib, Ret};

/// Opens the `os` library.
pub fn open_os(ctx: interp::Context<'_>) {
    new_lib(
        ctx,
        "os",
        &[
            ("clock", clock),
            ("date", date),
            ("difftime", difftime),
            ("execute", execute),
            ("exit", exit),
            ("getenv", getenv),
            ("remove", remove),
            ("rename", rename),
            ("setlocale", setlocale),
            ("time", time),
            ("tmpname", tmpname),
        ],
    );
}

/// Opens only the parts of `os` that reveal nothing of the host but the time.
pub fn open_os_safe(ctx: interp::Context<'_>) {
    new_lib(
        ctx,
        "os",
        &[
            ("clock", clock),
            ("date", date),
            ("difftime", difftime),
            ("time", time),
        ],
    );
}

fn clock<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let t = crate::util::process_cpu_seconds();
    call.ret1(Value::Number(t))
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn time<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if call.arg(0).is_nil() {
        return call.ret1(Value::Integer(now_secs()));
    }
    let t = call.check_table(0)?;
    let ctx = call.ctx;
    let field = |name: &str, default: Option<i64>| -> Result<i64, String> {
        match t.get_str(ctx.intern(name.as_bytes())) {
            Value::Nil => default.ok_or_else(|| format!("field '{}' missing in date table", name)),
            v => v
                .to_integer()
                .ok_or_else(|| format!("field '{}' is not an integer", name)),
        }
    };
    // Each field must fit a C `int` once `delta` is taken off (`getfield` in loslib.c).
    let get = |n: &str, d: Option<i64>| {
        let v = field(n, d)?;
        let delta = match n {
            "year" => 1900,
            "month" => 1,
            _ => 0,
        };
        let fits = if v >= 0 {
            v - delta <= i32::MAX as i64
        } else {
            i32::MIN as i64 + delta <= v
        };
        if fits {
            Ok(v)
        } else {
            Err(format!("field '{}' is out-of-bound", n))
        }
    };
    let r = (|| -> Result<i64, String> {
        let year = get("year", None)?;
        let month = get("month", None)?;
        let day = get("day", None)?;
        let hour = get("hour", Some(12))?;
        let min = get("min", Some(0))?;
        let sec = get("sec", Some(0))?;
        Ok(crate::util::timegm(year, month, day, hour, min, sec))
    })();
    match r {
        Ok(v) => {
            // The table gets the normalized fields (as C's `mktime` leaves them).
            set_date_fields(ctx, t, &crate::util::gmtime(v));
            call.ret1(Value::Integer(v))
        }
        Err(m) => Err(call.error(m)),
    }
}

/// Sets the fields of a date table (`os.date("*t")`) from `tm`.
fn set_date_fields<'gc>(
    ctx: interp::Context<'gc>,
    tab: interp::value::Table<'gc>,
    tm: &crate::util::Tm,
) {
    let mc = ctx.mutation();
    for (k, v) in [
        ("year", tm.year),
        ("month", tm.month),
        ("day", tm.day),
        ("hour", tm.hour),
        ("min", tm.min),
        ("sec", tm.sec),
        ("wday", tm.wday + 1),
        ("yday", tm.yday + 1),
    ] {
        tab.set_str(mc, ctx.intern(k.as_bytes()), Value::Integer(v));
    }
    tab.set_str(mc, ctx.intern_static(b"isdst"), Value::Boolean(false));
}

fn difftime<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let a = call.check_integer(0)?;
    let b = call.opt_integer(1, 0)?;
    call.ret1(Value::Number((a - b) as f64))
}

fn date<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let fmt = call
        .opt_string(0)?
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_else(|| b"%c".to_vec());
    let t = if call.arg(1).is_nil() {
        now_secs()
    } else {
        call.check_integer(1)?
    };
    let (utc, fmt) = match fmt.strip_prefix(b"!") {
        Some(f) => (true, f.to_vec()),
        None => (false, fmt),
    };
    let _ = utc; // Local time is UTC here (no time zone database without C).
    let tm = crate::util::gmtime(t);
    if fmt.starts_with(b"*t") {
        let tab = call.ctx.new_table();
        set_date_fields(call.ctx, tab, &tm);
        return call.ret1(Value::Table(tab));
    }
    match crate::util::strftime(&fmt, &tm) {
        Ok(s) => {
            let v = call.ctx.intern(&s);
            call.ret1(Value::String(v))
        }
        Err(c) => Err(call.arg_error(
            0,
            format!(
                "invalid conversion specifier '%{}'",
                String::from_utf8_lossy(&c)
            ),
        )),
    }
}

fn execute<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let Some(cmd) = call.opt_string(0)? else {
        return call.ret1(Value::Boolean(true));
    };
    let status = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(&*cmd.to_str_lossy())
        .status();
    match status {
        Ok(s) => {
            use std::os::unix::process::ExitStatusExt;
            if let Some(code) = s.code() {
                let ok = if code == 0 {
                    Value::Boolean(true)
                } else {
                    Value::Nil
                };
                call.ret(&[ok, call.ctx.str("exit"), Value::Integer(code as i64)])
            } else {
                let sig = s.signal().unwrap_or(0);
                call.ret(&[
                    Value::Nil,
                    call.ctx.str("signal"),
                    Value::Integer(sig as i64),
                ])
            }
        }
        Err(e) => call.ret(&[Value::Nil, call.ctx.str(&e.to_string())]),
    }
}

fn exit<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let code = match call.arg(0) {
        Value::Boolean(b) => i32::from(!b),
        _ => call.opt_integer(0, 0)? as i32,
    };
    if call.arg(1).is_truthy() {
        close_state(call);
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}

/// Closes the state as C Lua's `lua_close` does: the pending to-be-closed variables of the
/// running thread are closed, then every object with a `__gc` metamethod is finalized, newest
/// first; errors become warnings. Used by `os.exit(code, true)` and by `lua-rs` on exit.
pub fn close_state<'gc>(call: &mut NativeCall<'gc, '_>) {
    if let Err(e) = call.close_all_tbc() {
        gc_warning(call.ctx, "__close", e.value);
    }
    let ctx = call.ctx;
    ctx.begin_close();
    while let Some(obj) = ctx.next_to_finalize() {
        let mm = ctx
            .metatable(obj)
            .map(|mt| mt.get_str(ctx.tm_name(interp::vm::Metamethod::Gc)))
            .unwrap_or_default();
        if !mm.is_function() {
            continue;
        }
        let was = ctx.state().in_finalizer.replace(true);
        let r = call.call(mm, &[obj]);
        ctx.state().in_finalizer.set(was);
        if let Err(e) = r {
            gc_warning(ctx, "__gc", e.value);
        }
    }
}

/// The warning for an error in a finalizer or closing method (C Lua's `luaE_warnerror`).
fn gc_warning<'gc>(ctx: interp::Context<'gc>, what: &str, err: Value<'gc>) {
    if !ctx
        .registry()
        .get_str(ctx.intern_static(b"_WARN_ON"))
        .is_truthy()
    {
        return;
    }
    let msg = match err {
        Value::String(s) => s.to_str_lossy().into_owned(),
        _ => "error object is not a string".to_string(),
    };
    eprintln!("Lua warning: error in {what} ({msg})");
}

fn getenv<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let name = call.check_string(0)?;
    let v = match std::env::var_os(&*name.to_str_lossy()) {
        Some(v) => {
            use std::os::unix::ffi::OsStrExt;
            Value::String(call.ctx.intern(v.as_bytes()))
        }
        None => Value::Nil,
    };
    call.ret1(v)
}

fn file_result<'gc>(
    call: &mut NativeCall<'gc, '_>,
    r: std::io::Result<()>,
    name: &str,
) -> Ret<'gc> {
    match r {
        Ok(()) => call.ret1(Value::Boolean(true)),
        Err(e) => {
            let msg = format!("{}: {}", name, crate::util::io_error_text(&e));
            let code = e.raw_os_error().unwrap_or(0) as i64;
            call.ret(&[Value::Nil, call.ctx.str(&msg), Value::Integer(code)])
        }
    }
}

fn remove<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let name = call.check_string(0)?.to_str_lossy().into_owned();
    let r = match std::fs::metadata(&name) {
        Ok(m) if m.is_dir() => std::fs::remove_dir(&name),
        _ => std::fs::remove_file(&name),
    };
    file_result(call, r, &name)
}

fn rename<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let a = call.check_string(0)?.to_str_lossy().into_owned();
    let b = call.check_string(1)?.to_str_lossy().into_owned();
    let r = std::fs::rename(&a, &b);
    file_result(call, r, &a)
}

fn setlocale<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let loc = call.opt_string(0)?;
    let r = match loc {
        None => call.ctx.str("C"),
        Some(s) if s.as_bytes() == b"C" || s.as_bytes() == b"" || s.as_bytes() == b"POSIX" => {
            call.ctx.str("C")
        }
        Some(_) => Value::Nil,
    };
    call.ret1(r)
}

fn tmpname<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("/tmp/lua_{}_{}", std::process::id(), n);
    if std::fs::File::create(&name).is_err() {
        return Err(call.error("unable to generate a unique filename"));
    }
    let v = call.ctx.str(&name);
    call.ret1(v)
}
