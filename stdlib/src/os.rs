//! The os library (manual §6.9).

use interp::{NativeCall, Value};

use crate::ostime;
use crate::util::{c_str, exec_result, fail, file_result, new_lib, os_path, Ret};

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

/// C's `clock()` in seconds, from the runtime's clock (glibc's counts microseconds; a
/// clock that cannot tell gives C's `(clock_t)-1`).
fn clock<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let micros = call
        .ctx
        .limits()
        .clock()
        .cpu_time()
        .map_or(-1, |d| d.as_micros() as i64);
    call.ret1(Value::Number(micros as f64 / 1e6))
}

/// C's `time(NULL)` from the runtime's clock (`-1` where it has none).
fn now(call: &NativeCall<'_, '_>) -> i64 {
    match call.ctx.limits().clock().system_time() {
        Some(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        None => -1,
    }
}

/// `l_checktime`.
fn check_time<'gc>(call: &NativeCall<'gc, '_>, i: usize) -> Result<i64, interp::Error<'gc>> {
    call.check_integer(i)
}

fn time<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if call.arg(0).is_nil() {
        let t = now(call);
        if t == -1 {
            return Err(call.error("time result cannot be represented in this installation"));
        }
        return call.ret1(Value::Integer(t));
    }
    let t = call.check_table(0)?;
    let tv = Value::Table(t);
    let mut f = [0i32; 6];
    for (slot, (key, d, delta)) in [
        ("year", None, 1900),
        ("month", None, 1),
        ("day", None, 0),
        ("hour", Some(12), 0),
        ("min", Some(0), 0),
        ("sec", Some(0), 0),
    ]
    .into_iter()
    .enumerate()
    {
        f[slot] = getfield(call, tv, key, d, delta)?;
    }
    let k = Value::String(call.ctx.intern_static(b"isdst"));
    let isdst = match interp::vm::meta_index_value(call, tv, k)? {
        Value::Nil => -1,
        v => i32::from(v.is_truthy()),
    };
    let mut tm = ostime::Tm::new(f[0], f[1], f[2], f[3], f[4], f[5], isdst);
    let r = ostime::mktime(&mut tm);
    // The table gets the normalized fields, even when the time cannot be represented.
    set_all_fields(call, tv, &tm)?;
    if r == -1 {
        return Err(call.error("time result cannot be represented in this installation"));
    }
    call.ret1(Value::Integer(r))
}

/// loslib.c's `getfield` (`lua_getfield`, metamethods included): an integer field (numbers
/// and numeric strings convert) that fits a C `int` once `delta` is taken off, or the
/// default `d` when absent.
fn getfield<'gc>(
    call: &mut NativeCall<'gc, '_>,
    t: Value<'gc>,
    key: &'static str,
    d: Option<i32>,
    delta: i64,
) -> Result<i32, interp::Error<'gc>> {
    let k = Value::String(call.ctx.intern_static(key.as_bytes()));
    let v = interp::vm::meta_index_value(call, t, k)?;
    match v.to_integer() {
        None if !v.is_nil() => Err(call.error(format!("field '{key}' is not an integer"))),
        None => d.ok_or_else(|| call.error(format!("field '{key}' missing in date table"))),
        Some(res) => {
            let fits = if res >= 0 {
                res - delta <= i32::MAX as i64
            } else {
                i32::MIN as i64 + delta <= res
            };
            if fits {
                Ok((res - delta) as i32)
            } else {
                Err(call.error(format!("field '{key}' is out-of-bound")))
            }
        }
    }
}

/// `setallfields`: the fields of a date table (`os.date("*t")`) from `tm`, set with
/// `lua_setfield` (metamethods included).
fn set_all_fields<'gc>(
    call: &mut NativeCall<'gc, '_>,
    tab: Value<'gc>,
    tm: &ostime::Tm,
) -> Result<(), interp::Error<'gc>> {
    for (k, v, delta) in [
        ("year", tm.year, 1900),
        ("month", tm.mon, 1),
        ("day", tm.mday, 0),
        ("hour", tm.hour, 0),
        ("min", tm.min, 0),
        ("sec", tm.sec, 0),
        ("yday", tm.yday, 1),
        ("wday", tm.wday, 1),
    ] {
        let key = Value::String(call.ctx.intern_static(k.as_bytes()));
        interp::vm::meta_new_index(call, tab, key, Value::Integer(v as i64 + delta))?;
    }
    if tm.isdst >= 0 {
        let key = Value::String(call.ctx.intern_static(b"isdst"));
        interp::vm::meta_new_index(call, tab, key, Value::Boolean(tm.isdst != 0))?;
    }
    Ok(())
}

fn difftime<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let a = check_time(call, 0)?;
    let b = check_time(call, 1)?;
    call.ret1(Value::Number((a as i128 - b as i128) as f64))
}

/// The conversions C99's strftime has (LUA_STRFTIMEOPTIONS): one-letter ones, then those
/// with the `E` and `O` modifiers.
const STRFTIME_OPTIONS: [&[u8]; 2] = [
    b"aAbBcCdDeFgGhHIjmMnprRStTuUVwWxXyYzZ%",
    b"EcECExEXEyEYOdOeOHOIOmOMOSOuOUOVOwOWOy",
];

/// loslib.c's `checkoption`: the length of the conversion at the start of `conv` (after a
/// '%'), or `None` if it is not a valid one.
fn check_conversion(conv: &[u8]) -> Option<usize> {
    if conv
        .first()
        .is_some_and(|c| STRFTIME_OPTIONS[0].contains(c))
    {
        return Some(1);
    }
    let two = conv.get(..2)?;
    STRFTIME_OPTIONS[1].chunks(2).any(|o| o == two).then_some(2)
}

fn date<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let fmt = match call.opt_string(0)? {
        Some(s) => s.as_bytes().to_vec(),
        None => b"%c".to_vec(),
    };
    let t = if call.arg(1).is_nil() {
        now(call)
    } else {
        check_time(call, 1)?
    };
    let (tm, s) = match fmt.strip_prefix(b"!") {
        Some(rest) => (ostime::gmtime(t), rest),
        None => (ostime::localtime(t), &fmt[..]),
    };
    let Some(tm) = tm else {
        return Err(call.error("date result cannot be represented in this installation"));
    };
    // strcmp(s, "*t"): the format as a C string.
    if c_str(s) == b"*t" {
        let tab = Value::Table(call.ctx.new_table());
        set_all_fields(call, tab, &tm)?;
        return call.ret1(tab);
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'%' {
            out.push(s[i]);
            i += 1;
            continue;
        }
        i += 1;
        let Some(n) = check_conversion(&s[i..]) else {
            let mut m = b"invalid conversion specifier '%".to_vec();
            m.extend_from_slice(c_str(&s[i..]));
            m.push(b'\'');
            return Err(call.arg_error(0, &m));
        };
        let mut cc = b"%".to_vec();
        cc.extend_from_slice(&s[i..i + n]);
        out.extend_from_slice(&ostime::strftime(&cc, &tm));
        i += n;
    }
    let v = call.ctx.intern(&out);
    call.ret1(Value::String(v))
}

fn execute<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let Some(cmd) = call.opt_string(0)? else {
        // system(NULL): whether there is a shell (none where processes cannot start).
        let shell = crate::util::HAS_PROCESSES && std::path::Path::new("/bin/sh").exists();
        return call.ret1(Value::Boolean(shell));
    };
    let mut c = std::process::Command::new("/bin/sh");
    c.arg("-c").arg(os_path(cmd.as_bytes()));
    let status = system(c);
    exec_result(call, status)
}

/// C's `system(cmd)`: /bin/sh -c cmd with the process's standard streams; while it runs,
/// this process ignores SIGINT and SIGQUIT (Ctrl-C stops the command, not the Lua code
/// waiting for it), and the command gets the dispositions the process had.
#[cfg(unix)]
fn system(mut c: std::process::Command) -> std::io::Result<std::process::ExitStatus> {
    use std::os::unix::process::CommandExt;
    // SAFETY: signal() with SIG_IGN has no preconditions; it returns the old disposition.
    let (old_int, old_quit) = unsafe {
        (
            libc::signal(libc::SIGINT, libc::SIG_IGN),
            libc::signal(libc::SIGQUIT, libc::SIG_IGN),
        )
    };
    let restore = move || {
        for (sig, old) in [(libc::SIGINT, old_int), (libc::SIGQUIT, old_quit)] {
            if old != libc::SIG_IGN {
                // SAFETY: signal() is async-signal-safe (this runs in the child between
                // fork and exec) and SIG_DFL is a valid disposition.
                unsafe { libc::signal(sig, libc::SIG_DFL) };
            }
        }
        Ok(())
    };
    // SAFETY: the closure only calls signal(), which is async-signal-safe.
    unsafe { c.pre_exec(restore) };
    let r = c.status();
    // SAFETY: puts back the dispositions signal() returned above.
    unsafe {
        libc::signal(libc::SIGINT, old_int);
        libc::signal(libc::SIGQUIT, old_quit);
    }
    r
}

#[cfg(not(unix))]
fn system(mut c: std::process::Command) -> std::io::Result<std::process::ExitStatus> {
    c.status()
}

fn exit<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let code = match call.arg(0) {
        Value::Boolean(b) => i32::from(!b),
        _ => call.opt_integer(0, 0)? as i32,
    };
    if call.arg(1).is_truthy() {
        close_state(call);
    }
    // C's exit() flushes every stream.
    crate::stdio::flush_all();
    std::process::exit(code)
}

/// Closes the state as C Lua's `lua_close` does: the pending to-be-closed variables of the
/// running thread are closed, then every object with a `__gc` metamethod is finalized, newest
/// first; errors become warnings. Used by `os.exit(code, true)` and by `lua-rs` on exit.
pub fn close_state<'gc>(call: &mut NativeCall<'gc, '_>) {
    if let Err(e) = call.close_all_tbc() {
        call.ctx.warn_error("__close", e.value);
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
        let was = ctx.set_in_finalizer(true);
        let r = call.call(mm, &[obj]);
        ctx.set_in_finalizer(was);
        if let Err(e) = r {
            ctx.warn_error("__gc", e.value);
        }
    }
}

fn getenv<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let name = call.check_string(0)?;
    let name = c_str(name.as_bytes());
    let v = if name.is_empty() || name.contains(&b'=') {
        None
    } else {
        std::env::var_os(os_path(name))
    };
    let v = match v {
        Some(v) => Value::String(call.ctx.intern(crate::util::os_bytes(&v))),
        None => Value::Nil,
    };
    call.ret1(v)
}

fn remove<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let name = call.check_string(0)?.as_bytes().to_vec();
    let path = os_path(&name);
    // C's remove(): unlink, or rmdir for a directory.
    let r = match std::fs::remove_file(&path) {
        Err(e) if e.raw_os_error() == Some(21) || path.is_dir() => std::fs::remove_dir(&path),
        r => r,
    };
    match r {
        Ok(()) => call.ret1(Value::Boolean(true)),
        Err(e) => fail(call, &e, Some(c_str(&name))),
    }
}

fn rename<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let a = call.check_string(0)?.as_bytes().to_vec();
    let b = call.check_string(1)?.as_bytes().to_vec();
    let r = std::fs::rename(os_path(&a), os_path(&b));
    file_result(call, r)
}

fn setlocale<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let loc = call.opt_string(0)?.map(|s| c_str(s.as_bytes()).to_vec());
    let cat = crate::util::check_option(
        call,
        1,
        Some("all"),
        &["all", "collate", "ctype", "monetary", "numeric", "time"],
    )?;
    let r = set_c_locale(cat, loc.as_deref());
    let v = match r {
        Some(name) => Value::String(call.ctx.intern(&name)),
        None => Value::Nil,
    };
    call.ret1(v)
}

/// C's `setlocale(category, locale)` (`locale` `None` only queries).
#[cfg(unix)]
fn set_c_locale(cat: usize, loc: Option<&[u8]>) -> Option<Vec<u8>> {
    let cats = [
        libc::LC_ALL,
        libc::LC_COLLATE,
        libc::LC_CTYPE,
        libc::LC_MONETARY,
        libc::LC_NUMERIC,
        libc::LC_TIME,
    ];
    let loc = loc.map(|l| std::ffi::CString::new(l).expect("cut at the first NUL"));
    let p = loc.as_ref().map_or(std::ptr::null(), |l| l.as_ptr());
    // SAFETY: `p` is null or a NUL-terminated string that outlives the call; the result is
    // null or a NUL-terminated string, copied before anything else can change it.
    unsafe {
        let r = libc::setlocale(cats[cat], p);
        (!r.is_null()).then(|| std::ffi::CStr::from_ptr(r).to_bytes().to_vec())
    }
}

/// Only the C locale exists without a C library.
#[cfg(not(unix))]
fn set_c_locale(_cat: usize, loc: Option<&[u8]>) -> Option<Vec<u8>> {
    match loc {
        None | Some(b"") | Some(b"C") | Some(b"POSIX") => Some(b"C".to_vec()),
        Some(_) => None,
    }
}

fn tmpname<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    match make_temp_name() {
        Some(name) => {
            let v = call.ctx.str(&name);
            call.ret1(v)
        }
        None => Err(call.error("unable to generate a unique filename")),
    }
}

/// `mkstemp("/tmp/lua_XXXXXX")`, closed at once: a new empty file's name.
#[cfg(unix)]
fn make_temp_name() -> Option<String> {
    let mut buf = *b"/tmp/lua_XXXXXX\0";
    // SAFETY: `buf` is a writable NUL-terminated template ending in six 'X'; mkstemp
    // replaces them and returns an open descriptor (or -1), which is closed at once.
    let fd = unsafe { libc::mkstemp(buf.as_mut_ptr().cast()) };
    if fd == -1 {
        return None;
    }
    // SAFETY: `fd` was just opened by mkstemp and is not used elsewhere.
    unsafe { libc::close(fd) };
    Some(String::from_utf8_lossy(&buf[..buf.len() - 1]).into_owned())
}

#[cfg(not(unix))]
fn make_temp_name() -> Option<String> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = crate::util::temp_dir()
            .join(format!("lua_{}_{}", crate::util::process_tag(), n))
            .to_string_lossy()
            .into_owned();
        if std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&name)
            .is_ok()
        {
            return Some(name);
        }
    }
    None
}
