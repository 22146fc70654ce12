//! A minimal io library: `io.write`, `io.read` and the standard streams. The complete
//! library (files, `lines`, `popen`, ...) is still to come.

use std::io::{BufRead, Read, Write};

use interp::{NativeCall, Value};

use crate::util::{new_lib, Ret};

/// Opens the (minimal) `io` library.
pub fn open_io(ctx: interp::Context<'_>) {
    let t = new_lib(ctx, "io", &[("write", write), ("read", read)]);
    for (name, f) in [("stdout", stdout_write as interp::NativeFn), ("stderr", stderr_write)] {
        let s = ctx.new_table();
        let m = ctx.new_table();
        m.set_str(ctx.mutation(), ctx.intern(b"write"), ctx.native("write", f));
        m.set_str(ctx.mutation(), ctx.intern(b"__index"), Value::Table(m));
        m.set_str(ctx.mutation(), ctx.intern(b"__name"), ctx.str("FILE*"));
        s.set_metatable(ctx.mutation(), Some(m));
        t.set_str(ctx.mutation(), ctx.intern(name.as_bytes()), Value::Table(s));
    }
}

fn write_args<'gc>(call: &mut NativeCall<'gc, '_>, first: usize, out: &mut dyn Write) -> Result<(), interp::Error<'gc>> {
    for i in first..call.nargs() {
        let s = call.check_string(i)?;
        let _ = out.write_all(s.as_bytes());
    }
    Ok(())
}

fn write<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let mut o = std::io::stdout().lock();
    write_args(call, 0, &mut o)?;
    let _ = o.flush();
    let f = call.ctx.get_global("io");
    let out = if let Value::Table(t) = f { t.get_str(call.ctx.intern(b"stdout")) } else { Value::Nil };
    call.ret1(out)
}

fn stdout_write<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let mut o = std::io::stdout().lock();
    write_args(call, 1, &mut o)?;
    let _ = o.flush();
    let me = call.arg(0);
    call.ret1(me)
}

fn stderr_write<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let mut o = std::io::stderr().lock();
    write_args(call, 1, &mut o)?;
    let me = call.arg(0);
    call.ret1(me)
}

fn read<'gc>(call: &mut NativeCall<'gc, '_>) -> Ret<'gc> {
    let fmt = match call.arg(0) {
        Value::Nil => b"l".to_vec(),
        Value::Integer(n) => {
            let mut buf = vec![0u8; n.max(0) as usize];
            let got = std::io::stdin().lock().read(&mut buf).unwrap_or(0);
            if got == 0 && n > 0 {
                return call.ret1(Value::Nil);
            }
            buf.truncate(got);
            let s = call.ctx.intern(&buf);
            return call.ret1(Value::String(s));
        }
        _ => call.check_string(0)?.as_bytes().to_vec(),
    };
    let fmt: &[u8] = fmt.strip_prefix(b"*").unwrap_or(&fmt);
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    match fmt.first() {
        Some(b'a') => {
            let mut buf = Vec::new();
            let _ = lock.read_to_end(&mut buf);
            let s = call.ctx.intern(&buf);
            call.ret1(Value::String(s))
        }
        Some(b'l') | Some(b'L') => {
            let mut buf = Vec::new();
            let n = lock.read_until(b'\n', &mut buf).unwrap_or(0);
            if n == 0 {
                return call.ret1(Value::Nil);
            }
            if fmt[0] == b'l' && buf.last() == Some(&b'\n') {
                buf.pop();
            }
            let s = call.ctx.intern(&buf);
            call.ret1(Value::String(s))
        }
        Some(b'n') => {
            let mut buf = Vec::new();
            let _ = lock.read_until(b'\n', &mut buf);
            let t = String::from_utf8_lossy(&buf).trim().to_string();
            match interp::number::str_to_number(t.as_bytes()) {
                Some(n) => call.ret1(Value::from_number(n)),
                None => call.ret1(Value::Nil),
            }
        }
        _ => Err(call.arg_error(0, "invalid format")),
    }
}
