//! The io library (manual §6.8), as liolib.c: files are userdata with the `FILE*`
//! metatable over streams with C stdio's semantics ([`crate::stdio`]), the default input and
//! output, `lines`, `read` formats, `seek`, `setvbuf`, `tmpfile`, `popen`.

use std::cell::RefCell;
use std::io::SeekFrom;
use std::process::{Child, Command, Stdio};

use interp::{NativeCall, UserData, Value};

use crate::stdio::{self, BufMode, CFile, Raw, Shared};
use crate::util::{c_str, new_lib, os_path, Ret};

/// How a handle is closed (C Lua's `closef`).
enum Closer {
    /// `io_fclose`.
    File,
    /// `io_pclose`: the process to wait for.
    Pipe(Option<Child>),
    /// `io_noclose`: standard files stay open.
    Standard,
}

/// The Rust value inside a `FILE*` userdata (C Lua's `luaL_Stream`).
pub struct LuaFile {
    stream: Shared,
    /// `None` once closed (`closef == NULL`).
    closer: RefCell<Option<Closer>>,
}

impl LuaFile {
    fn is_closed(&self) -> bool {
        self.closer.borrow().is_none()
    }
}

/// Opens the `io` library.
pub fn open_io(ctx: interp::Context<'_>) {
    let io = new_lib(
        ctx,
        "io",
        &[
            ("close", io_close),
            ("flush", io_flush),
            ("input", io_input),
            ("lines", io_lines),
            ("open", io_open),
            ("output", io_output),
            ("popen", io_popen),
            ("read", io_read),
            ("tmpfile", io_tmpfile),
            ("type", io_type),
            ("write", io_write),
        ],
    );
    let mc = ctx.mutation();
    let mt = ctx.new_table();
    let methods = ctx.new_table();
    crate::util::register_methods(
        ctx,
        methods,
        &[
            ("read", f_read),
            ("write", f_write),
            ("lines", f_lines),
            ("flush", f_flush),
            ("seek", f_seek),
            ("close", f_close),
            ("setvbuf", f_setvbuf),
        ],
    );
    mt.set_str(mc, ctx.intern_static(b"__index"), Value::Table(methods));
    mt.set_str(mc, ctx.intern_static(b"__name"), ctx.str("FILE*"));
    mt.set_str(
        mc,
        ctx.intern_static(b"__tostring"),
        ctx.native(crate::util::UNNAMED, f_tostring),
    );
    let gc = ctx.native(crate::util::UNNAMED, f_gc);
    mt.set_str(mc, ctx.intern_static(b"__gc"), gc);
    mt.set_str(mc, ctx.intern_static(b"__close"), gc);
    ctx.registry()
        .set_str(mc, ctx.intern_static(b"FILE*"), Value::Table(mt));
    let stdin = new_file(ctx, stdio::stdin().clone(), Closer::Standard);
    let stdout = new_file(ctx, stdio::stdout().clone(), Closer::Standard);
    let stderr = new_file(ctx, stdio::stderr().clone(), Closer::Standard);
    io.set_str(mc, ctx.intern_static(b"stdin"), stdin);
    io.set_str(mc, ctx.intern_static(b"stdout"), stdout);
    io.set_str(mc, ctx.intern_static(b"stderr"), stderr);
    ctx.registry()
        .set_str(mc, ctx.intern_static(b"_IO_input"), stdin);
    ctx.registry()
        .set_str(mc, ctx.intern_static(b"_IO_output"), stdout);
}

fn new_file<'gc>(ctx: interp::Context<'gc>, stream: Shared, closer: Closer) -> Value<'gc> {
    let file = Box::new(LuaFile {
        stream,
        closer: RefCell::new(Some(closer)),
    });
    let u = UserData::with_user_values(ctx.mutation(), file, false);
    ctx.set_userdata_metatable(u, file_metatable(ctx));
    Value::UserData(u)
}

fn file_metatable(ctx: interp::Context<'_>) -> Option<interp::value::Table<'_>> {
    match ctx.registry().get_str(ctx.intern_static(b"FILE*")) {
        Value::Table(t) => Some(t),
        _ => None,
    }
}

/// `luaL_testudata(v, "FILE*")`: runs `f` on the handle if `v` is one.
fn with_file<'gc, R>(
    call: &NativeCall<'gc, '_>,
    v: Value<'gc>,
    f: impl FnOnce(&LuaFile) -> R,
) -> Option<R> {
    let Value::UserData(u) = v else { return None };
    let mt = call.ctx.metatable(v);
    let expected = file_metatable(call.ctx);
    let addr = |t: Option<interp::value::Table<'gc>>| t.and_then(|t| Value::Table(t).gc_address());
    if addr(mt) != addr(expected) {
        return None;
    }
    let data = u.data().borrow();
    data.downcast_ref::<LuaFile>().map(f)
}

/// `tolstream`: argument `i` must be a handle (`luaL_checkudata`).
fn check_stream<'gc>(call: &NativeCall<'gc, '_>, i: usize) -> Result<bool, interp::Error<'gc>> {
    with_file(call, call.arg(i), |f| f.is_closed()).ok_or_else(|| call.type_error(i, "FILE*"))
}

/// `tofile`: argument 0 must be an open handle.
fn tofile<'gc>(call: &NativeCall<'gc, '_>) -> Result<Value<'gc>, interp::Error<'gc>> {
    if check_stream(call, 0)? {
        return Err(call.error("attempt to use a closed file"));
    }
    Ok(call.arg(0))
}

fn stream_of<'gc>(call: &NativeCall<'gc, '_>, v: Value<'gc>) -> Shared {
    with_file(call, v, |f| f.stream.clone()).expect("a checked file handle")
}

use crate::util::{exec_result, fail, file_result};

fn io_type<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    call.check_any(0)?;
    let r = match with_file(call, call.arg(0), |f| f.is_closed()) {
        Some(true) => call.ctx.str("closed file"),
        Some(false) => call.ctx.str("file"),
        None => Value::Nil,
    };
    call.ret1(r)
}

fn f_tostring<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let s = if check_stream(call, 0)? {
        "file (closed)".to_string()
    } else {
        let p = std::sync::Arc::as_ptr(&stream_of(call, call.arg(0)));
        format!("file ({p:p})")
    };
    call.ret1(call.ctx.str(&s))
}

/// `l_checkmode`: `[rwa]%+?b*`.
fn check_mode(mode: &[u8]) -> bool {
    let mode = c_str(mode);
    let Some((&first, rest)) = mode.split_first() else {
        return false;
    };
    let rest = rest.strip_prefix(b"+").unwrap_or(rest);
    b"rwa".contains(&first) && rest.iter().all(|&c| c == b'b')
}

/// `fopen(name, mode)` for a mode `check_mode` accepts.
fn fopen(name: &[u8], mode: &[u8]) -> std::io::Result<Shared> {
    let plus = mode.get(1) == Some(&b'+');
    let mut o = std::fs::OpenOptions::new();
    let (read, write, append) = match mode[0] {
        b'r' => {
            o.read(true).write(plus);
            (true, plus, false)
        }
        b'w' => {
            o.read(plus).write(true).create(true).truncate(true);
            (plus, true, false)
        }
        _ => {
            o.read(plus).append(true).create(true);
            (plus, true, true)
        }
    };
    let f = o.open(os_path(c_str(name)))?;
    Ok(stdio::register(CFile::new(
        Raw::File(f),
        read,
        write,
        append,
    )))
}

/// `opencheck`: opens or raises "cannot open file".
fn open_or_raise<'gc>(
    call: &NativeCall<'gc, '_>,
    name: &[u8],
    mode: &[u8],
) -> Result<Value<'gc>, interp::Error<'gc>> {
    match fopen(name, mode) {
        Ok(s) => Ok(new_file(call.ctx, s, Closer::File)),
        Err(e) => {
            let mut m = b"cannot open file '".to_vec();
            m.extend_from_slice(c_str(name));
            m.extend_from_slice(format!("' ({})", crate::util::io_error_text(&e)).as_bytes());
            Err(call.error(m))
        }
    }
}

fn io_open<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let name = call.check_string(0)?.as_bytes().to_vec();
    let mode = match call.opt_string(1)? {
        Some(m) => m.as_bytes().to_vec(),
        None => b"r".to_vec(),
    };
    if !check_mode(&mode) {
        return Err(call.arg_error(1, "invalid mode"));
    }
    match fopen(&name, &mode) {
        Ok(s) => {
            let f = new_file(call.ctx, s, Closer::File);
            call.ret1(f)
        }
        Err(e) => fail(call, &e, Some(c_str(&name))),
    }
}

fn io_tmpfile<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    match tmpfile() {
        Ok(s) => {
            let f = new_file(call.ctx, s, Closer::File);
            call.ret1(f)
        }
        Err(e) => fail(call, &e, None),
    }
}

/// `tmpfile()`: a new "w+" file with no name.
fn tmpfile() -> std::io::Result<Shared> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    loop {
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // glibc's tmpfile() uses P_tmpdir, not TMPDIR.
        let dir = crate::util::temp_dir();
        let path = dir.join(format!("lua_tmp_{}_{}", crate::util::process_tag(), n));
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path);
        match f {
            Ok(f) => {
                let _ = std::fs::remove_file(&path);
                return Ok(stdio::register(CFile::new(Raw::File(f), true, true, false)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

fn io_popen<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let cmd = call.check_string(0)?.as_bytes().to_vec();
    let mode = match call.opt_string(1)? {
        Some(m) => m.as_bytes().to_vec(),
        None => b"r".to_vec(),
    };
    // l_checkmodep: "r" or "w" (as a C string).
    let reading = match c_str(&mode) {
        b"r" => true,
        b"w" => false,
        _ => return Err(call.arg_error(1, "invalid mode")),
    };
    if !crate::util::HAS_PROCESSES {
        // C Lua's l_popen where the platform has none.
        return Err(call.error("'popen' not supported"));
    }
    // C Lua's l_popen flushes every stream first.
    stdio::flush_all();
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(os_path(c_str(&cmd)));
    if reading {
        c.stdout(Stdio::piped());
    } else {
        c.stdin(Stdio::piped());
    }
    match c.spawn() {
        Ok(mut child) => {
            let raw = if reading {
                child.stdout.take().map(Raw::PipeIn)
            } else {
                child.stdin.take().map(Raw::PipeOut)
            };
            let cf = CFile::new(raw.unwrap_or(Raw::Bad), reading, !reading, false);
            let f = new_file(call.ctx, stdio::register(cf), Closer::Pipe(Some(child)));
            call.ret1(f)
        }
        Err(e) => fail(call, &e, Some(c_str(&cmd))),
    }
}

/// `getiofile`: the default input or output file, which must be open.
fn getiofile<'gc>(
    call: &NativeCall<'gc, '_>,
    key: &'static [u8],
) -> Result<Value<'gc>, interp::Error<'gc>> {
    let f = call.ctx.registry().get_str(call.ctx.intern_static(key));
    if with_file(call, f, |lf| lf.is_closed()).unwrap_or(true) {
        let what = String::from_utf8_lossy(&key[4..]);
        return Err(call.error(format!("default {what} file is closed")));
    }
    Ok(f)
}

/// `g_iofile`.
fn g_iofile<'gc>(call: &mut NativeCall<'gc, '_>, key: &'static [u8], mode: &[u8]) -> Ret<'gc> {
    let v = call.arg(0);
    if !v.is_nil() {
        let f = match v {
            Value::String(_) | Value::Integer(_) | Value::Number(_) => {
                let name = call.check_string(0)?.as_bytes().to_vec();
                open_or_raise(call, &name, mode)?
            }
            _ => tofile(call)?,
        };
        call.ctx
            .registry()
            .set_str(call.ctx.mutation(), call.ctx.intern_static(key), f);
    }
    let cur = call.ctx.registry().get_str(call.ctx.intern_static(key));
    call.ret1(cur)
}

fn io_input<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    g_iofile(call, b"_IO_input", b"r")
}

fn io_output<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    g_iofile(call, b"_IO_output", b"w")
}

// ----- closing -----

/// `aux_close`: marks the handle closed and runs its `closef`.
fn aux_close<'gc>(call: &mut NativeCall<'gc, '_>, f: Value<'gc>) -> Ret<'gc> {
    let (closer, stream) = with_file(call, f, |lf| {
        (lf.closer.borrow_mut().take(), lf.stream.clone())
    })
    .expect("a checked file handle");
    match closer {
        Some(Closer::Standard) => {
            with_file(call, f, |lf| {
                *lf.closer.borrow_mut() = Some(Closer::Standard)
            });
            let m = call.ctx.str("cannot close standard file");
            call.ret(&[Value::Nil, m])
        }
        Some(Closer::File) => {
            let r = stdio::lock(&stream).close();
            file_result(call, r)
        }
        Some(Closer::Pipe(child)) => {
            let _ = stdio::lock(&stream).close();
            let status = match child {
                Some(mut c) => c.wait(),
                None => Err(std::io::Error::from_raw_os_error(stdio::errno::ECHILD)),
            };
            exec_result(call, status)
        }
        None => call.ret0(),
    }
}

fn f_close<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = tofile(call)?;
    aux_close(call, f)
}

fn io_close<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if call.nargs() == 0 {
        let out = call
            .ctx
            .registry()
            .get_str(call.ctx.intern_static(b"_IO_output"));
        call.push(out);
    }
    f_close(call)
}

fn f_gc<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if !check_stream(call, 0)? {
        let f = call.arg(0);
        aux_close(call, f)?;
    }
    call.set_nargs(0);
    call.ret0()
}

// ----- reading -----

/// C's `isspace` in the C locale (Rust's `is_ascii_whitespace` leaves out '\v').
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// liolib.c's `read_number`: reads the longest prefix that can start a numeral (at most
/// 200 characters), pushing back the first character that does not fit; `None` if the
/// text is not a numeral.
fn read_number(f: &mut CFile) -> std::io::Result<Option<interp::number::Number>> {
    const L_MAXLENNUM: usize = 200;
    struct Rn<'f> {
        f: &'f mut CFile,
        c: Option<u8>,
        buf: Vec<u8>,
        ok: bool,
    }
    impl Rn<'_> {
        fn nextc(&mut self) -> std::io::Result<bool> {
            if self.buf.len() >= L_MAXLENNUM {
                self.ok = false;
                return Ok(false);
            }
            self.buf.extend(self.c);
            self.c = self.f.getc()?;
            Ok(true)
        }
        fn test2(&mut self, set: &[u8; 2]) -> std::io::Result<bool> {
            match self.c {
                Some(c) if c == set[0] || c == set[1] => self.nextc(),
                _ => Ok(false),
            }
        }
        fn readdigits(&mut self, hex: bool) -> std::io::Result<usize> {
            let mut count = 0;
            while let Some(c) = self.c {
                let digit = if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                };
                if !digit || !self.nextc()? {
                    break;
                }
                count += 1;
            }
            Ok(count)
        }
    }
    let mut c = f.getc()?;
    while c.is_some_and(is_c_space) {
        c = f.getc()?;
    }
    let mut rn = Rn {
        f,
        c,
        buf: Vec::new(),
        ok: true,
    };
    let mut count = 0;
    let mut hex = false;
    rn.test2(b"-+")?;
    if rn.test2(b"00")? {
        if rn.test2(b"xX")? {
            hex = true;
        } else {
            count = 1;
        }
    }
    count += rn.readdigits(hex)?;
    if rn.test2(b"..")? {
        count += rn.readdigits(hex)?;
    }
    if count > 0 && rn.test2(if hex { b"pP" } else { b"eE" })? {
        rn.test2(b"-+")?;
        rn.readdigits(false)?;
    }
    let la = rn.c;
    rn.f.ungetc(la);
    if !rn.ok {
        return Ok(None);
    }
    Ok(interp::number::str_to_number(&rn.buf))
}

/// One result of `g_read`.
enum Item {
    Str(Vec<u8>),
    Num(interp::number::Number),
    Fail,
}

/// `g_read`: reads with the formats in arguments `first..`; `first == nargs` reads a line.
fn g_read<'gc>(call: &mut NativeCall<'gc, '_>, fv: Value<'gc>, first: usize) -> Ret<'gc> {
    let stream = stream_of(call, fv);
    let mut f = stdio::lock(&stream);
    f.clear_err();
    let mut items = Vec::new();
    let nargs = call.nargs().saturating_sub(first);
    let mut io_err = None;
    if nargs == 0 {
        let mut line = Vec::new();
        match f.read_line(&mut line, false) {
            Ok(nl) => items.push(if nl || !line.is_empty() {
                Item::Str(line)
            } else {
                Item::Fail
            }),
            Err(e) => io_err = Some(e),
        }
    } else {
        for i in first..first + nargs {
            let r = match call.arg(i) {
                Value::Integer(_) | Value::Number(_) => {
                    let n = call.check_integer(i)?;
                    if n == 0 {
                        // test_eof
                        f.getc().map(|c| {
                            f.ungetc(c);
                            if c.is_some() {
                                Item::Str(Vec::new())
                            } else {
                                Item::Fail
                            }
                        })
                    } else {
                        let n = n as u64 as usize;
                        // luaL_prepbuffsize allocates the whole block first.
                        let mut buf = Vec::new();
                        if !call.fits(n) || buf.try_reserve_exact(n).is_err() {
                            drop(f);
                            let mut e = interp::Error::new(call.ctx.str("not enough memory"));
                            e.kind = interp::ErrorKind::Memory;
                            return Err(e);
                        }
                        f.read_chars(n, &mut buf).map(|()| {
                            if buf.is_empty() {
                                Item::Fail
                            } else {
                                Item::Str(buf)
                            }
                        })
                    }
                }
                _ => {
                    let fmt = call.check_string(i)?;
                    let b = fmt.as_bytes();
                    let b = b.strip_prefix(b"*").unwrap_or(b);
                    match b.first() {
                        Some(b'n') => read_number(&mut f).map(|n| match n {
                            Some(n) => Item::Num(n),
                            None => Item::Fail,
                        }),
                        Some(&c @ (b'l' | b'L')) => {
                            let mut line = Vec::new();
                            f.read_line(&mut line, c == b'L').map(|nl| {
                                if nl || !line.is_empty() {
                                    Item::Str(line)
                                } else {
                                    Item::Fail
                                }
                            })
                        }
                        Some(b'a') => {
                            let mut all = Vec::new();
                            f.read_all(&mut all).map(|()| Item::Str(all))
                        }
                        _ => {
                            drop(f);
                            return Err(call.arg_error(i, "invalid format"));
                        }
                    }
                }
            };
            match r {
                Ok(item) => {
                    let stop = matches!(item, Item::Fail);
                    items.push(item);
                    if stop {
                        break;
                    }
                }
                Err(e) => {
                    io_err = Some(e);
                    break;
                }
            }
        }
    }
    // ferror(f): the stream's error indicator.
    let err = f.take_error().or(io_err);
    drop(f);
    if let Some(e) = err {
        return fail(call, &e, None);
    }
    let vals: Vec<Value<'gc>> = items
        .into_iter()
        .map(|it| match it {
            Item::Str(s) => Value::String(call.ctx.intern(&s)),
            Item::Num(n) => Value::from_number(n),
            Item::Fail => Value::Nil,
        })
        .collect();
    call.ret(&vals)
}

fn io_read<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = getiofile(call, b"_IO_input")?;
    g_read(call, f, 0)
}

fn f_read<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = tofile(call)?;
    g_read(call, f, 1)
}

/// `io_readline`, the iterator of `lines`: upvalues are the file, whether to close it at
/// the end, the number of formats and the formats.
fn io_readline<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = call.upvalue(0);
    let toclose = call.upvalue(1).is_truthy();
    // At most the formats there are (Lua code may have changed the count: debug.setupvalue).
    let formats = call.function().num_upvalues().saturating_sub(3);
    let n = (call.upvalue(2).to_integer().unwrap_or(0).max(0) as usize).min(formats);
    if with_file(call, f, |lf| lf.is_closed()).unwrap_or(true) {
        return Err(call.error("file is already closed"));
    }
    call.set_nargs(0);
    call.push(f);
    for i in 0..n {
        let v = call.upvalue(3 + i);
        call.push(v);
    }
    g_read(call, f, 1)?;
    let results = call.args().to_vec();
    if results.first().is_some_and(|v| v.is_truthy()) {
        return call.ret(&results);
    }
    if results.len() > 1 {
        // The error message of a failed read.
        let msg = match results[1] {
            Value::String(s) => s.as_bytes().to_vec(),
            _ => Vec::new(),
        };
        return Err(call.error(msg));
    }
    if toclose {
        call.set_nargs(0);
        aux_close(call, f)?;
    }
    call.set_nargs(0);
    call.ret0()
}

/// `aux_lines`: the iterator over `f` with the formats in arguments 1...
fn aux_lines<'gc>(
    call: &NativeCall<'gc, '_>,
    f: Value<'gc>,
    toclose: bool,
) -> Result<Value<'gc>, interp::Error<'gc>> {
    // C Lua's MAXARGLINE.
    const MAXARGLINE: usize = 250;
    let n = call.nargs().saturating_sub(1);
    if n > MAXARGLINE {
        return Err(call.arg_error(MAXARGLINE + 1, "too many arguments"));
    }
    let mut ups = vec![f, Value::Boolean(toclose), Value::Integer(n as i64)];
    ups.extend((1..=n).map(|i| call.arg(i)));
    Ok(Value::Native(interp::NativeFunction::with_upvalues(
        call.ctx.mutation(),
        crate::util::UNNAMED,
        io_readline,
        ups.into_boxed_slice(),
    )))
}

fn f_lines<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = tofile(call)?;
    let it = aux_lines(call, f, false)?;
    call.ret1(it)
}

fn io_lines<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if call.nargs() == 0 {
        call.push(Value::Nil);
    }
    if call.arg(0).is_nil() {
        let f = call
            .ctx
            .registry()
            .get_str(call.ctx.intern_static(b"_IO_input"));
        let rest: Vec<Value<'gc>> = call.args()[1..].to_vec();
        call.set_nargs(0);
        call.push(f);
        for v in rest {
            call.push(v);
        }
        tofile(call)?;
        let it = aux_lines(call, f, false)?;
        return call.ret1(it);
    }
    let name = call.check_string(0)?.as_bytes().to_vec();
    let f = open_or_raise(call, &name, b"r")?;
    let it = aux_lines(call, f, true)?;
    call.ret(&[it, Value::Nil, Value::Nil, f])
}

// ----- writing -----

/// `g_write`: writes arguments `first..` (strings and numbers), each as it comes.
fn g_write<'gc>(call: &mut NativeCall<'gc, '_>, fv: Value<'gc>, first: usize) -> Ret<'gc> {
    let stream = stream_of(call, fv);
    let mut err = None;
    let mut num = Vec::new();
    for i in first..call.nargs() {
        let v = call.arg(i);
        let r = match v {
            Value::Integer(n) => {
                num.clear();
                interp::number::fmt_lua_int(n, &mut num);
                stdio::lock(&stream).write(&num)
            }
            // LUA_NUMBER_FMT, "%.14g".
            Value::Number(x) => {
                num.clear();
                interp::number::fmt_float(
                    &mut num,
                    x,
                    &interp::number::Spec {
                        precision: Some(14),
                        conv: b'g',
                        ..Default::default()
                    },
                );
                stdio::lock(&stream).write(&num)
            }
            _ => {
                let s = call.check_string(i)?;
                stdio::lock(&stream).write(s.as_bytes())
            }
        };
        if let Err(e) = r {
            err = Some(e);
        }
    }
    match err {
        None => call.ret1(fv),
        Some(e) => fail(call, &e, None),
    }
}

fn io_write<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = getiofile(call, b"_IO_output")?;
    g_write(call, f, 0)
}

fn f_write<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = tofile(call)?;
    g_write(call, f, 1)
}

// ----- the rest -----

fn f_seek<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = tofile(call)?;
    let op = crate::util::check_option(call, 1, Some("cur"), &["set", "cur", "end"])?;
    let off = call.opt_integer(2, 0)?;
    let pos = match op {
        0 if off < 0 => Err(std::io::Error::from_raw_os_error(stdio::errno::EINVAL)),
        0 => Ok(SeekFrom::Start(off as u64)),
        1 => Ok(SeekFrom::Current(off)),
        _ => Ok(SeekFrom::End(off)),
    };
    let stream = stream_of(call, f);
    let r = pos.and_then(|p| stdio::lock(&stream).seek(p));
    match r {
        Ok(p) => call.ret1(Value::Integer(p as i64)),
        Err(e) => fail(call, &e, None),
    }
}

fn f_setvbuf<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = tofile(call)?;
    let op = crate::util::check_option(call, 1, None, &["no", "full", "line"])?;
    // The size (LUAL_BUFFERSIZE by default) is checked; glibc keeps its own buffer size.
    call.opt_integer(2, 1024)?;
    let mode = [BufMode::No, BufMode::Full, BufMode::Line][op];
    let stream = stream_of(call, f);
    let r = stdio::lock(&stream).set_mode(mode);
    file_result(call, r)
}

fn io_flush<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = getiofile(call, b"_IO_output")?;
    let stream = stream_of(call, f);
    let r = stdio::lock(&stream).flush();
    file_result(call, r)
}

fn f_flush<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = tofile(call)?;
    let stream = stream_of(call, f);
    let r = stdio::lock(&stream).flush();
    file_result(call, r)
}
