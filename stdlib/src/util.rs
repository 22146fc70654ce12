//! Helpers shared by the libraries.

use interp::{Action, Context, Error, NativeFn, Table, Value};

/// The result type of a library function.
pub type Ret<'gc> = Result<Action<'gc>, Error<'gc>>;

/// Sets `name = function` in `t` for each entry.
pub fn register<'gc>(ctx: Context<'gc>, t: Table<'gc>, funcs: &[(&'static str, NativeFn)]) {
    for &(name, f) in funcs {
        let k = ctx.intern_static(name.as_bytes());
        t.set_str(ctx.mutation(), k, ctx.native(name, f));
    }
}

/// The name of a native function that no library table holds (an iterator, a method, a
/// metamethod): C Lua finds no global name for it, so messages and tracebacks name it by
/// how it was called, or `?`.
pub const UNNAMED: &str = "?";

/// Stores `funcs` in `t` as functions without a global name ([`UNNAMED`]): methods.
pub fn register_methods<'gc>(ctx: Context<'gc>, t: Table<'gc>, funcs: &[(&'static str, NativeFn)]) {
    for &(name, f) in funcs {
        let k = ctx.intern_static(name.as_bytes());
        t.set_str(ctx.mutation(), k, ctx.native(UNNAMED, f));
    }
}

/// A new table holding `funcs`, stored as global `name` and in `package.loaded`. The
/// functions are named `name.f` (as C Lua's tracebacks name them).
pub fn new_lib<'gc>(
    ctx: Context<'gc>,
    name: &'static str,
    funcs: &[(&'static str, NativeFn)],
) -> Table<'gc> {
    let t = Table::with_capacity(ctx.mutation(), 0, funcs.len());
    for &(fname, f) in funcs {
        let full = qualified_name(name, fname);
        t.set_str(
            ctx.mutation(),
            ctx.intern_static(fname.as_bytes()),
            ctx.native(full, f),
        );
    }
    ctx.set_global(name, Value::Table(t));
    t
}

/// `"lib.name"` as a `'static` string: each distinct name is allocated once per process
/// (natives carry `'static` names), however many runtimes open the library.
pub(crate) fn qualified_name(lib: &'static str, name: &'static str) -> &'static str {
    use std::sync::{Mutex, OnceLock};
    // Keyed by the addresses of the two literals (cheap to hash; the same literal always has
    // the same address, and a copy elsewhere only adds one entry).
    type Names = hashbrown::HashMap<(usize, usize, usize), &'static str>;
    static NAMES: OnceLock<Mutex<Names>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let key = (
        lib.as_ptr() as usize,
        name.as_ptr() as usize,
        name.len() << 16 | lib.len(),
    );
    names
        .entry(key)
        .or_insert_with(|| Box::leak(format!("{lib}.{name}").into_boxed_str()))
}

/// A Lua string as C code sees it through `lua_tostring`: up to its first NUL.
pub fn c_str(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(p) => &s[..p],
        None => s,
    }
}

/// `luaL_checkoption`: the index in `list` of argument `i` (a string, or `def` when absent
/// and `def` is given); "invalid option 'x'" otherwise.
pub fn check_option<'gc>(
    call: &interp::NativeCall<'gc, '_>,
    i: usize,
    def: Option<&str>,
    list: &[&str],
) -> Result<usize, Error<'gc>> {
    let name = match (def, call.arg(i)) {
        (Some(d), Value::Nil) => d.as_bytes().to_vec(),
        _ => call.check_string(i)?.as_bytes().to_vec(),
    };
    let name = c_str(&name);
    match list.iter().position(|o| o.as_bytes() == name) {
        Some(p) => Ok(p),
        None => {
            let mut m = b"invalid option '".to_vec();
            m.extend_from_slice(name);
            m.push(b'\'');
            Err(call.arg_error(i, m))
        }
    }
}

/// The text C's `strerror` gives for common I/O errors.
pub fn io_error_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "No such file or directory".into(),
        PermissionDenied => "Permission denied".into(),
        AlreadyExists => "File exists".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(p) => s[..p].to_string(),
                None => s,
            }
        }
    }
}

/// `luaL_fileresult(L, 0, name)`: nil, the message (after `name: `) and the error code.
pub fn fail<'gc>(
    call: &mut interp::NativeCall<'gc, '_>,
    e: &std::io::Error,
    name: Option<&[u8]>,
) -> Ret<'gc> {
    let mut msg = Vec::new();
    if let Some(n) = name {
        msg.extend_from_slice(n);
        msg.extend_from_slice(b": ");
    }
    msg.extend_from_slice(io_error_text(e).as_bytes());
    let m = Value::String(call.ctx.intern(&msg));
    let code = e.raw_os_error().unwrap_or(0) as i64;
    call.ret(&[Value::Nil, m, Value::Integer(code)])
}

/// `luaL_fileresult(L, r.is_ok(), NULL)`.
pub fn file_result<'gc>(
    call: &mut interp::NativeCall<'gc, '_>,
    r: std::io::Result<()>,
) -> Ret<'gc> {
    match r {
        Ok(()) => call.ret1(Value::Boolean(true)),
        Err(e) => fail(call, &e, None),
    }
}

/// `luaL_execresult` for a process run by `os.execute` or closed by `pclose`: true or nil,
/// then "exit" and the exit status, or "signal" and the signal that killed it.
pub fn exec_result<'gc>(
    call: &mut interp::NativeCall<'gc, '_>,
    status: std::io::Result<std::process::ExitStatus>,
) -> Ret<'gc> {
    let status = match status {
        Ok(s) => s,
        Err(e) => return fail(call, &e, None),
    };
    let (what, code) = match status.code() {
        Some(c) => ("exit", c),
        None => {
            #[cfg(unix)]
            let sig = {
                use std::os::unix::process::ExitStatusExt;
                status.signal().unwrap_or(0)
            };
            #[cfg(not(unix))]
            let sig = 0;
            ("signal", sig)
        }
    };
    let ok = if what == "exit" && code == 0 {
        Value::Boolean(true)
    } else {
        Value::Nil
    };
    let w = call.ctx.str(what);
    call.ret(&[ok, w, Value::Integer(code as i64)])
}

/// A path from a Lua string's bytes, up to its first NUL (as C's `fopen` sees it).
#[cfg(unix)]
pub fn os_path(name: &[u8]) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(c_str(name)).into()
}

/// A path from a Lua string's bytes, up to its first NUL (as C's `fopen` sees it).
#[cfg(not(unix))]
pub fn os_path(name: &[u8]) -> std::path::PathBuf {
    String::from_utf8_lossy(c_str(name)).into_owned().into()
}

/// The bytes of an OS string (an environment variable, a path) as Lua sees them: the OS's
/// own bytes on unix and WASI, UTF-8 (WTF-8 for unpaired surrogates) on Windows.
pub fn os_bytes(s: &std::ffi::OsStr) -> &[u8] {
    s.as_encoded_bytes()
}

/// Whether this target starts processes (`os.execute`, `io.popen`): WebAssembly has none.
pub const HAS_PROCESSES: bool = cfg!(not(target_family = "wasm"));

/// A number that tells this process's temporary files from another's: the process id where
/// there are processes, else (WebAssembly) the clock's nanoseconds, where there is a clock.
pub fn process_tag() -> u64 {
    if HAS_PROCESSES {
        return u64::from(std::process::id());
    }
    #[cfg(target_os = "wasi")]
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        return d.as_nanos() as u64;
    }
    0
}

/// The directory for temporary files: glibc's `P_tmpdir` (`/tmp`) on unix, `$TMPDIR` (else
/// `/tmp`) on WASI, the platform's elsewhere.
pub fn temp_dir() -> std::path::PathBuf {
    if cfg!(unix) {
        return "/tmp".into();
    }
    if cfg!(target_family = "wasm") {
        return std::env::var_os("TMPDIR").map_or_else(|| "/tmp".into(), Into::into);
    }
    std::env::temp_dir()
}

/// Argument `i` as `(int)luaL_checkinteger` gives it: an integer wrapped to 32 bits, as C
/// Lua's libraries take levels, counts and indices that are `int`s.
pub fn check_c_int<'gc>(call: &interp::NativeCall<'gc, '_>, i: usize) -> Result<i64, Error<'gc>> {
    Ok(call.check_integer(i)? as i32 as i64)
}

/// `(int)luaL_optinteger` (see [`check_c_int`]).
pub fn opt_c_int<'gc>(
    call: &interp::NativeCall<'gc, '_>,
    i: usize,
    default: i64,
) -> Result<i64, Error<'gc>> {
    Ok(call.opt_integer(i, default)? as i32 as i64)
}
