//! The io library (manual §6.8): files as userdata with the `FILE*` metatable, the default
//! input and output, `lines`, `read` formats, `seek`, `setvbuf`, `tmpfile`, `popen`.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::process::{Child, Command, Stdio};

use interp::{NativeCall, UserData, Value};

use crate::util::{new_lib, Ret};

/// An open stream.
enum Stream {
    Stdin(BufReader<std::io::Stdin>),
    Stdout,
    Stderr,
    File {
        r: BufReader<File>,
        w: Option<FileWriter>,
    },
    Pipe(Child),
    Closed,
}

/// How a file's writes are buffered (`setvbuf`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum BufMode {
    /// Every write goes out at once.
    No,
    /// Writes go out when the buffer is full (or on flush, seek, read, close).
    Full,
    /// Writes go out at each newline too.
    Line,
}

/// C stdio's buffer size.
const BUFSIZ: usize = 8192;

/// The write side of a file: writes wait in a buffer, as C stdio's do, until `mode` says
/// they go out. `r` shares the file offset (a duplicated descriptor).
struct FileWriter {
    file: File,
    pending: Vec<u8>,
    /// File position of `pending`'s first byte.
    at: u64,
    mode: BufMode,
}

impl FileWriter {
    fn new(file: File) -> FileWriter {
        FileWriter {
            file,
            pending: Vec::new(),
            at: 0,
            mode: BufMode::Full,
        }
    }

    /// Writes `data` at the current position of `r`.
    fn write(&mut self, r: &mut BufReader<File>, data: &[u8]) -> std::io::Result<()> {
        if self.pending.is_empty() {
            self.at = r.stream_position()?;
        }
        self.pending.extend_from_slice(data);
        let now = match self.mode {
            BufMode::No => true,
            BufMode::Line => data.contains(&b'\n'),
            BufMode::Full => false,
        };
        if now || self.pending.len() >= BUFSIZ {
            self.flush(r)?;
        }
        Ok(())
    }

    /// Writes out the buffer; `r` continues after it.
    fn flush(&mut self, r: &mut BufReader<File>) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.file.seek(SeekFrom::Start(self.at))?;
        let r1 = self.file.write_all(&self.pending);
        let end = self.at + self.pending.len() as u64;
        self.pending.clear();
        r1?;
        r.seek(SeekFrom::Start(end)).map(|_| ())
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        // A file never closed still gets its buffered output (C Lua closes files at exit).
        if !self.pending.is_empty() && self.file.seek(SeekFrom::Start(self.at)).is_ok() {
            let _ = self.file.write_all(&self.pending);
        }
    }
}

/// The Rust value inside a `FILE*` userdata.
pub struct LuaFile {
    stream: RefCell<Stream>,
    /// Standard streams cannot be closed.
    standard: bool,
}

impl LuaFile {
    fn new(s: Stream, standard: bool) -> LuaFile {
        LuaFile {
            stream: RefCell::new(s),
            standard,
        }
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
            ("close", f_close),
            ("flush", f_flush),
            ("lines", f_lines),
            ("read", f_read),
            ("seek", f_seek),
            ("setvbuf", f_setvbuf),
            ("write", f_write),
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
    let stdin = new_file(ctx, Stream::Stdin(BufReader::new(std::io::stdin())), true);
    let stdout = new_file(ctx, Stream::Stdout, true);
    let stderr = new_file(ctx, Stream::Stderr, true);
    io.set_str(mc, ctx.intern_static(b"stdin"), stdin);
    io.set_str(mc, ctx.intern_static(b"stdout"), stdout);
    io.set_str(mc, ctx.intern_static(b"stderr"), stderr);
    ctx.registry()
        .set_str(mc, ctx.intern_static(b"_IO_input"), stdin);
    ctx.registry()
        .set_str(mc, ctx.intern_static(b"_IO_output"), stdout);
}

fn new_file<'gc>(ctx: interp::Context<'gc>, s: Stream, standard: bool) -> Value<'gc> {
    let file = Box::new(LuaFile::new(s, standard));
    let u = UserData::with_user_values(ctx.mutation(), file, false);
    let mt = match ctx.registry().get_str(ctx.intern_static(b"FILE*")) {
        Value::Table(t) => Some(t),
        _ => None,
    };
    ctx.set_userdata_metatable(u, mt);
    Value::UserData(u)
}

fn with_file<'gc, R>(
    call: &NativeCall<'gc, '_>,
    v: Value<'gc>,
    f: impl FnOnce(&LuaFile) -> R,
) -> Option<R> {
    let Value::UserData(u) = v else { return None };
    let data = u.0.data.borrow();
    data.downcast_ref::<LuaFile>().map(f).or_else(|| {
        let _ = call;
        None
    })
}

fn check_file<'gc>(call: &NativeCall<'gc, '_>, i: usize) -> Result<Value<'gc>, interp::Error<'gc>> {
    let v = call.arg(i);
    match with_file(call, v, |f| matches!(*f.stream.borrow(), Stream::Closed)) {
        Some(false) => Ok(v),
        Some(true) => Err(call.error("attempt to use a closed file")),
        None => Err(call.type_error(i, "FILE*")),
    }
}

fn io_error<'gc>(
    call: &mut NativeCall<'gc, '_>,
    e: std::io::Error,
    name: Option<&str>,
) -> Ret<'gc> {
    let text = crate::util::io_error_text(&e);
    let msg = match name {
        Some(n) => format!("{n}: {text}"),
        None => text,
    };
    let code = e.raw_os_error().unwrap_or(0) as i64;
    call.ret(&[Value::Nil, call.ctx.str(&msg), Value::Integer(code)])
}

fn io_type<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    call.check_any(0)?;
    let r = match with_file(call, call.arg(0), |f| {
        matches!(*f.stream.borrow(), Stream::Closed)
    }) {
        Some(true) => call.ctx.str("closed file"),
        Some(false) => call.ctx.str("file"),
        None => Value::Nil,
    };
    call.ret1(r)
}

fn check_mode(mode: &[u8]) -> bool {
    let m = mode.strip_suffix(b"b").unwrap_or(mode);
    matches!(m, b"r" | b"w" | b"a" | b"r+" | b"w+" | b"a+")
}

fn open_path(path: &str, mode: &[u8]) -> std::io::Result<Stream> {
    let m = mode.strip_suffix(b"b").unwrap_or(mode);
    let mut o = OpenOptions::new();
    match m {
        b"r" => o.read(true),
        b"w" => o.write(true).create(true).truncate(true),
        b"a" => o.append(true).create(true),
        b"r+" => o.read(true).write(true),
        b"w+" => o.read(true).write(true).create(true).truncate(true),
        _ => o.read(true).append(true).create(true),
    };
    let f = o.open(path)?;
    let w = if m != b"r" {
        Some(FileWriter::new(f.try_clone()?))
    } else {
        None
    };
    Ok(Stream::File {
        r: BufReader::new(f),
        w,
    })
}

fn io_open<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let name = call.check_string(0)?.to_str_lossy().into_owned();
    let mode = call
        .opt_string(1)?
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_else(|| b"r".to_vec());
    if !check_mode(&mode) {
        return Err(call.arg_error(1, "invalid mode"));
    }
    match open_path(&name, &mode) {
        Ok(s) => {
            let f = new_file(call.ctx, s, false);
            call.ret1(f)
        }
        Err(e) => io_error(call, e, Some(&name)),
    }
}

fn io_tmpfile<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("lua_tmp_{}_{}", std::process::id(), n));
    let p = path.to_string_lossy().into_owned();
    match open_path(&p, b"w+") {
        Ok(s) => {
            let _ = std::fs::remove_file(&path);
            let f = new_file(call.ctx, s, false);
            call.ret1(f)
        }
        Err(e) => io_error(call, e, None),
    }
}

fn io_popen<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let cmd = call.check_string(0)?.to_str_lossy().into_owned();
    let mode = call
        .opt_string(1)?
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_else(|| b"r".to_vec());
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(&cmd);
    match &mode[..] {
        b"r" => c.stdout(Stdio::piped()),
        b"w" => c.stdin(Stdio::piped()),
        _ => return Err(call.arg_error(1, "invalid mode")),
    };
    match c.spawn() {
        Ok(child) => {
            let f = new_file(call.ctx, Stream::Pipe(child), false);
            call.ret1(f)
        }
        Err(e) => io_error(call, e, Some(&cmd)),
    }
}

fn default_file<'gc>(call: &NativeCall<'gc, '_>, key: &[u8]) -> Value<'gc> {
    call.ctx.registry().get_str(call.ctx.intern(key))
}

/// The default input or output file, which must be open (C Lua's `getiofile`).
fn open_default<'gc>(
    call: &NativeCall<'gc, '_>,
    key: &[u8],
    what: &str,
) -> Result<Value<'gc>, interp::Error<'gc>> {
    let f = default_file(call, key);
    let closed = with_file(call, f, |lf| matches!(*lf.stream.borrow(), Stream::Closed));
    if closed == Some(true) {
        return Err(call.error(format!("default {what} file is closed")));
    }
    Ok(f)
}

fn set_default<'gc>(call: &mut NativeCall<'gc, '_>, key: &[u8], mode: &[u8]) -> Ret<'gc> {
    let v = call.arg(0);
    if !v.is_nil() {
        let f = match v {
            Value::String(s) => {
                let name = s.to_str_lossy().into_owned();
                match open_path(&name, mode) {
                    Ok(st) => new_file(call.ctx, st, false),
                    Err(e) => {
                        let msg = format!("{}: {}", name, crate::util::io_error_text(&e));
                        return Err(call.error(msg));
                    }
                }
            }
            _ => check_file(call, 0)?,
        };
        call.ctx
            .registry()
            .set_str(call.ctx.mutation(), call.ctx.intern(key), f);
    }
    let cur = default_file(call, key);
    call.ret1(cur)
}

fn io_input<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    set_default(call, b"_IO_input", b"r")
}

fn io_output<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    set_default(call, b"_IO_output", b"w")
}

fn write_values<'gc>(call: &mut NativeCall<'gc, '_>, fv: Value<'gc>, first: usize) -> Ret<'gc> {
    let mut buf = Vec::new();
    for i in first..call.nargs() {
        match call.arg(i) {
            Value::String(s) => buf.extend_from_slice(s.as_bytes()),
            Value::Integer(n) => interp::number::fmt_lua_int(n, &mut buf),
            // C Lua writes floats with LUA_NUMBER_FMT ("%.14g"): 1.0 is written "1".
            Value::Number(f) => interp::number::fmt_float(
                &mut buf,
                f,
                &interp::number::Spec {
                    precision: Some(14),
                    conv: b'g',
                    ..Default::default()
                },
            ),
            _ => return Err(call.type_error(i, "string")),
        }
    }
    let r = with_file(call, fv, |f| -> std::io::Result<()> {
        match &mut *f.stream.borrow_mut() {
            Stream::Stdout => {
                let mut o = std::io::stdout().lock();
                o.write_all(&buf)?;
                o.flush()
            }
            Stream::Stderr => std::io::stderr().write_all(&buf),
            Stream::File { w: Some(w), r } => w.write(r, &buf),
            Stream::Pipe(c) => match c.stdin.as_mut() {
                Some(i) => i.write_all(&buf),
                None => Err(std::io::Error::other("Bad file descriptor")),
            },
            _ => Err(std::io::Error::from_raw_os_error(9)),
        }
    });
    match r {
        Some(Ok(())) => call.ret1(fv),
        Some(Err(e)) => io_error(call, e, None),
        None => Err(call.type_error(0, "FILE*")),
    }
}

fn io_write<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = open_default(call, b"_IO_output", "output")?;
    write_values(call, f, 0)
}

fn f_write<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = check_file(call, 0)?;
    write_values(call, f, 1)
}

/// Reads with one format from a buffered reader.
fn read_format(r: &mut dyn BufRead, fmt: &Fmt) -> std::io::Result<Option<Vec<u8>>> {
    match fmt {
        Fmt::Count(n) => {
            let mut buf = vec![0u8; *n];
            let mut got = 0;
            while got < *n {
                let k = r.read(&mut buf[got..])?;
                if k == 0 {
                    break;
                }
                got += k;
            }
            buf.truncate(got);
            if got == 0 && *n > 0 {
                return Ok(None);
            }
            if *n == 0 {
                return Ok(if r.fill_buf()?.is_empty() {
                    None
                } else {
                    Some(Vec::new())
                });
            }
            Ok(Some(buf))
        }
        Fmt::All => {
            let mut buf = Vec::new();
            r.read_to_end(&mut buf)?;
            Ok(Some(buf))
        }
        Fmt::Line(keep) => {
            let mut buf = Vec::new();
            let n = r.read_until(b'\n', &mut buf)?;
            if n == 0 {
                return Ok(None);
            }
            if !keep && buf.last() == Some(&b'\n') {
                buf.pop();
            }
            Ok(Some(buf))
        }
        Fmt::Number => read_numeral(r).map(Some),
    }
}

/// C Lua's `read_number`: reads the longest prefix that can start a numeral (sign, `0x`,
/// digits, decimal point, exponent), at most 200 characters, leaving the first character
/// that does not fit unread. The text is converted (or refused) by the caller.
fn read_numeral<R: BufRead + ?Sized>(r: &mut R) -> std::io::Result<Vec<u8>> {
    struct Rn<'r, R: ?Sized> {
        r: &'r mut R,
        buf: Vec<u8>,
        overflow: bool,
    }
    impl<R: BufRead + ?Sized> Rn<'_, R> {
        fn cur(&mut self) -> std::io::Result<Option<u8>> {
            Ok(self.r.fill_buf()?.first().copied())
        }
        /// Takes the current character if it is one of `set`.
        fn test(&mut self, set: &[u8]) -> std::io::Result<bool> {
            match self.cur()? {
                Some(c) if set.contains(&c) => self.take(c),
                _ => Ok(false),
            }
        }
        fn take(&mut self, c: u8) -> std::io::Result<bool> {
            if self.buf.len() >= 200 {
                self.overflow = true;
                return Ok(false);
            }
            self.buf.push(c);
            self.r.consume(1);
            Ok(true)
        }
        fn digits(&mut self, hex: bool) -> std::io::Result<usize> {
            let mut n = 0;
            while let Some(c) = self.cur()? {
                let ok = if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                };
                if !ok || !self.take(c)? {
                    break;
                }
                n += 1;
            }
            Ok(n)
        }
    }
    while let Some(c) = r.fill_buf()?.first().copied() {
        if !c.is_ascii_whitespace() {
            break;
        }
        r.consume(1);
    }
    let mut rn = Rn {
        r,
        buf: Vec::new(),
        overflow: false,
    };
    let mut count = 0;
    let mut hex = false;
    rn.test(b"-+")?;
    if rn.test(b"0")? {
        if rn.test(b"xX")? {
            hex = true;
        } else {
            count = 1;
        }
    }
    count += rn.digits(hex)?;
    if rn.test(b".")? {
        count += rn.digits(hex)?;
    }
    if count > 0 && rn.test(if hex { b"pP" } else { b"eE" })? {
        rn.test(b"-+")?;
        rn.digits(false)?;
    }
    if rn.overflow {
        return Ok(Vec::new());
    }
    Ok(rn.buf)
}

enum Fmt {
    Count(usize),
    All,
    Line(bool),
    Number,
}

fn parse_formats<'gc>(
    call: &NativeCall<'gc, '_>,
    first: usize,
) -> Result<Vec<Fmt>, interp::Error<'gc>> {
    let mut out = Vec::new();
    if call.nargs() <= first {
        out.push(Fmt::Line(false));
    }
    for i in first..call.nargs() {
        match call.arg(i) {
            Value::Integer(n) => out.push(Fmt::Count(n.max(0) as usize)),
            Value::Number(f) => out.push(Fmt::Count(f.max(0.0) as usize)),
            Value::String(s) => {
                let b = s.as_bytes();
                let b = b.strip_prefix(b"*").unwrap_or(b);
                out.push(match b.first() {
                    Some(b'n') => Fmt::Number,
                    Some(b'a') => Fmt::All,
                    Some(b'l') => Fmt::Line(false),
                    Some(b'L') => Fmt::Line(true),
                    _ => return Err(call.arg_error(i, "invalid format")),
                });
            }
            _ => return Err(call.arg_error(i, "invalid format")),
        }
    }
    Ok(out)
}

fn read_values<'gc>(call: &mut NativeCall<'gc, '_>, fv: Value<'gc>, first: usize) -> Ret<'gc> {
    read_values_or_raise(call, fv, first, false)
}

/// `read`; with `raise`, an I/O error is raised (as `lines` iterators do) instead of returned.
fn read_values_or_raise<'gc>(
    call: &mut NativeCall<'gc, '_>,
    fv: Value<'gc>,
    first: usize,
    raise: bool,
) -> Ret<'gc> {
    let fmts = parse_formats(call, first)?;
    let r = with_file(call, fv, |f| -> std::io::Result<Vec<Option<Vec<u8>>>> {
        let mut st = f.stream.borrow_mut();
        let mut out = Vec::new();
        for fmt in &fmts {
            let v = match &mut *st {
                Stream::Stdin(r) => read_format(r, fmt)?,
                Stream::File { r, w } => {
                    if let Some(w) = w {
                        w.flush(r)?;
                    }
                    read_format(r, fmt)?
                }
                Stream::Pipe(c) => match c.stdout.as_mut() {
                    Some(o) => read_format(&mut BufReader::new(o), fmt)?,
                    None => return Err(std::io::Error::from_raw_os_error(9)),
                },
                _ => return Err(std::io::Error::from_raw_os_error(9)),
            };
            let stop = v.is_none();
            out.push(v);
            if stop {
                break;
            }
        }
        Ok(out)
    });
    match r {
        Some(Ok(vals)) => {
            let mut res = Vec::new();
            for (v, fmt) in vals.into_iter().zip(fmts.iter()) {
                res.push(match (v, fmt) {
                    (None, _) => Value::Nil,
                    (Some(b), Fmt::Number) => match interp::number::str_to_number(&b) {
                        Some(n) => Value::from_number(n),
                        None => Value::Nil,
                    },
                    (Some(b), _) => Value::String(call.ctx.intern(&b)),
                });
                if res.last().is_some_and(|v| v.is_nil()) {
                    break;
                }
            }
            call.ret(&res)
        }
        Some(Err(e)) if raise => Err(call.error(crate::util::io_error_text(&e))),
        Some(Err(e)) => io_error(call, e, None),
        None => Err(call.type_error(0, "FILE*")),
    }
}

fn io_read<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = open_default(call, b"_IO_input", "input")?;
    read_values(call, f, 0)
}

fn f_read<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = check_file(call, 0)?;
    read_values(call, f, 1)
}

fn lines_iter<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = call.upvalue(0);
    let close_at_eof = call.upvalue(1).is_truthy();
    let n = call.upvalue(2).to_integer().unwrap_or(0) as usize;
    // Re-read with the stored formats.
    call.set_nargs(0);
    for i in 0..n {
        let v = call.upvalue(3 + i);
        call.push(v);
    }
    if with_file(call, f, |f| matches!(*f.stream.borrow(), Stream::Closed)) == Some(true) {
        return Err(call.error("file is already closed"));
    }
    let r = read_values_or_raise(call, f, 0, true)?;
    let first_nil = call.args().first().is_none_or(|v| v.is_nil());
    if first_nil && close_at_eof {
        with_file(call, f, |f| *f.stream.borrow_mut() = Stream::Closed);
    }
    Ok(r)
}

fn make_lines<'gc>(
    call: &mut NativeCall<'gc, '_>,
    f: Value<'gc>,
    close: bool,
    first: usize,
) -> Ret<'gc> {
    // C Lua's MAXARGLINE.
    const MAX_FORMATS: usize = 250;
    if call.nargs().saturating_sub(first) > MAX_FORMATS {
        return Err(call.arg_error(MAX_FORMATS + 1, "too many arguments"));
    }
    let mut ups = vec![
        f,
        Value::Boolean(close),
        Value::Integer((call.nargs().saturating_sub(first)) as i64),
    ];
    for i in first..call.nargs() {
        ups.push(call.arg(i));
    }
    let it = interp::NativeFunction::with_upvalues(
        call.ctx.mutation(),
        crate::util::UNNAMED,
        lines_iter,
        ups.into_boxed_slice(),
    );
    call.ret(&[
        Value::Native(it),
        Value::Nil,
        Value::Nil,
        if close { f } else { Value::Nil },
    ])
}

fn io_lines<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if call.arg(0).is_nil() {
        let f = open_default(call, b"_IO_input", "input")?;
        check_file_value(call, f)?;
        return make_lines(call, f, false, 1);
    }
    let name = call.check_string(0)?.to_str_lossy().into_owned();
    match open_path(&name, b"r") {
        Ok(s) => {
            let f = new_file(call.ctx, s, false);
            make_lines(call, f, true, 1)
        }
        Err(e) => Err(call.error(format!("{}: {}", name, crate::util::io_error_text(&e)))),
    }
}

fn check_file_value<'gc>(
    call: &NativeCall<'gc, '_>,
    f: Value<'gc>,
) -> Result<(), interp::Error<'gc>> {
    match with_file(call, f, |f| matches!(*f.stream.borrow(), Stream::Closed)) {
        Some(false) => Ok(()),
        _ => Err(call.error("default input file is closed")),
    }
}

fn f_lines<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = check_file(call, 0)?;
    make_lines(call, f, false, 1)
}

fn close_value<'gc>(call: &mut NativeCall<'gc, '_>, f: Value<'gc>) -> Ret<'gc> {
    let r = with_file(call, f, |lf| -> Result<Option<i32>, &'static str> {
        if lf.standard {
            return Err("cannot close standard file");
        }
        let old = std::mem::replace(&mut *lf.stream.borrow_mut(), Stream::Closed);
        match old {
            Stream::File {
                w: Some(mut w),
                mut r,
            } => {
                let _ = w.flush(&mut r);
                Ok(None)
            }
            Stream::Pipe(mut c) => {
                drop(c.stdin.take());
                let st = c.wait().map(|s| s.code().unwrap_or(-1)).unwrap_or(-1);
                Ok(Some(st))
            }
            _ => Ok(None),
        }
    });
    match r {
        Some(Ok(None)) => call.ret1(Value::Boolean(true)),
        Some(Ok(Some(code))) => {
            let ok = if code == 0 {
                Value::Boolean(true)
            } else {
                Value::Nil
            };
            call.ret(&[ok, call.ctx.str("exit"), Value::Integer(code as i64)])
        }
        Some(Err(m)) => call.ret(&[Value::Nil, call.ctx.str(m)]),
        None => Err(call.type_error(0, "FILE*")),
    }
}

fn io_close<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    if call.arg(0).is_nil() {
        let f = default_file(call, b"_IO_output");
        return close_value(call, f);
    }
    let f = check_file(call, 0)?;
    close_value(call, f)
}

fn f_close<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = check_file(call, 0)?;
    close_value(call, f)
}

fn f_gc<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = call.arg(0);
    let found = with_file(call, f, |lf| {
        if !lf.standard {
            if let Stream::File { w: Some(w), r } = &mut *lf.stream.borrow_mut() {
                let _ = w.flush(r);
            }
            *lf.stream.borrow_mut() = Stream::Closed;
        }
    });
    if found.is_none() {
        return Err(call.type_error(0, "FILE*"));
    }
    call.ret0()
}

fn io_flush<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = open_default(call, b"_IO_output", "output")?;
    flush_file(call, f)
}

fn f_flush<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = check_file(call, 0)?;
    flush_file(call, f)
}

fn flush_file<'gc>(call: &mut NativeCall<'gc, '_>, f: Value<'gc>) -> Ret<'gc> {
    with_file(call, f, |lf| {
        if let Stream::File { w: Some(w), r } = &mut *lf.stream.borrow_mut() {
            let _ = w.flush(r);
        }
        let _ = std::io::stdout().flush();
    });
    call.ret1(f)
}

fn f_seek<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = check_file(call, 0)?;
    let whence = call
        .opt_string(1)?
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_else(|| b"cur".to_vec());
    let off = call.opt_integer(2, 0)?;
    let pos = match &whence[..] {
        b"set" => SeekFrom::Start(off.max(0) as u64),
        b"cur" => SeekFrom::Current(off),
        b"end" => SeekFrom::End(off),
        _ => return Err(call.arg_error(1, "invalid option")),
    };
    let r = with_file(call, f, |lf| match &mut *lf.stream.borrow_mut() {
        Stream::File { r, w } => {
            if let Some(w) = w {
                w.flush(r)?;
            }
            r.seek(pos)
        }
        _ => Err(std::io::Error::from_raw_os_error(29)),
    });
    match r {
        Some(Ok(p)) => call.ret1(Value::Integer(p as i64)),
        Some(Err(e)) => io_error(call, e, None),
        None => Err(call.type_error(0, "FILE*")),
    }
}

fn f_setvbuf<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = check_file(call, 0)?;
    let mode = match call.check_string(1)?.as_bytes() {
        b"no" => BufMode::No,
        b"full" => BufMode::Full,
        b"line" => BufMode::Line,
        _ => return Err(call.arg_error(1, "invalid option")),
    };
    with_file(call, f, |lf| {
        if let Stream::File { w: Some(w), r } = &mut *lf.stream.borrow_mut() {
            let _ = w.flush(r);
            w.mode = mode;
        }
    });
    call.ret1(Value::Boolean(true))
}

fn f_tostring<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let f = call.arg(0);
    let closed =
        with_file(call, f, |lf| matches!(*lf.stream.borrow(), Stream::Closed)).unwrap_or(true);
    let s = if closed {
        "file (closed)".to_string()
    } else {
        format!("file (0x{:x})", f.gc_address().unwrap_or(0))
    };
    call.ret1(call.ctx.str(&s))
}
