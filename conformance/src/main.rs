//! `lua-rs`: a command-line Lua 5.4 interpreter on lupa_rs's runtime, behaving like `lua5.4`.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use interp::{Lua, StashedError, StashedValue, Value};

const VERSION: &str = "Lua 5.4  Copyright (C) 1994-2025 Lua.org, PUC-Rio (lupa_rs lua-rs)";

fn usage(prog: &str, badopt: &str) {
    let mut e = std::io::stderr().lock();
    if badopt.starts_with("-e") || badopt.starts_with("-l") {
        let _ = writeln!(e, "{prog}: '{badopt}' needs argument");
    } else {
        let _ = writeln!(e, "{prog}: unrecognized option '{badopt}'");
    }
    let _ = writeln!(
        e,
        "usage: {prog} [options] [script [args]]\n\
         Available options are:\n  \
         -e stat   execute string 'stat'\n  \
         -i        enter interactive mode after executing 'script'\n  \
         -l mod    require library 'mod' into global 'mod'\n  \
         -l g=mod  require library 'mod' into global 'g'\n  \
         -v        show version information\n  \
         -E        ignore environment variables\n  \
         -W        turn warnings on\n  \
         --        stop handling options\n  \
         -         stop handling options and execute stdin"
    );
}

/// The text of an error object as lua.c's message handler shows it.
fn error_text(lua: &mut Lua, err: &StashedError) -> String {
    let msg = lua.enter(|ctx| {
        let v = ctx.fetch(&err.value);
        match v {
            Value::String(s) => s.to_str_lossy().into_owned(),
            Value::Integer(_) | Value::Number(_) => interp::vm::number_to_string(ctx, v)
                .to_str_lossy()
                .into_owned(),
            _ => {
                let mm = interp::vm::metamethod(ctx, v, interp::vm::Metamethod::ToString);
                if !mm.is_nil() {
                    if let Ok(r) = ctx.call(mm, &[v]) {
                        if let Some(Value::String(s)) = r.first() {
                            return s.to_str_lossy().into_owned();
                        }
                    }
                }
                format!("(error object is a {} value)", v.type_name())
            }
        }
    });
    match &err.traceback {
        Some(tb) => format!("{msg}\n{tb}"),
        None => msg,
    }
}

fn report(lua: &mut Lua, prog: &str, err: &StashedError) {
    let text = error_text(lua, err);
    let mut e = std::io::stderr().lock();
    // Like lua.c's l_message: the interactive loop reports without the program name.
    if prog.is_empty() {
        let _ = writeln!(e, "{text}");
    } else {
        let _ = writeln!(e, "{prog}: {text}");
    }
    let _ = e.flush();
}

/// Loads `source` as chunk `name` and calls it with `args`.
fn run_chunk(
    lua: &mut Lua,
    source: &[u8],
    name: &[u8],
    args: &[Vec<u8>],
) -> Result<Vec<StashedValue>, StashedError> {
    let f = lua.enter(|ctx| match ctx.load(source, name, None) {
        Ok(c) => Ok(ctx.stash(Value::Closure(c))),
        Err(e) => Err(StashedError {
            value: ctx.stash(Value::String(ctx.intern(&e.message))),
            kind: interp::ErrorKind::Runtime,
            traceback: None,
        }),
    })?;
    let argv: Vec<StashedValue> = lua.enter(|ctx| {
        args.iter()
            .map(|a| ctx.stash(Value::String(ctx.intern(a))))
            .collect()
    });
    lua.call(&f, &argv)
}

fn do_require(lua: &mut Lua, spec: &str) -> Result<(), StashedError> {
    let (global, module) = match spec.split_once('=') {
        Some((g, m)) => (g.to_string(), m.to_string()),
        None => (spec.to_string(), spec.to_string()),
    };
    let src = format!("{global} = require('{module}')");
    run_chunk(lua, src.as_bytes(), b"=(command line)", &[]).map(|_| ())
}

fn interactive(lua: &mut Lua) {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        print!("> ");
        let _ = std::io::stdout().flush();
        let Some(Ok(mut line)) = lines.next() else {
            break;
        };
        if let Some(rest) = line.strip_prefix('=') {
            line = format!("return {rest}");
        }
        // Try as an expression first, then as statements; continue incomplete input.
        let expr = format!("return {line}");
        let compiled_expr = interp::compiler::compile(expr.as_bytes(), b"=stdin").is_ok();
        let mut src = if compiled_expr { expr } else { line };
        loop {
            match interp::compiler::compile(src.as_bytes(), b"=stdin") {
                Err(e) if e.incomplete => {
                    print!(">> ");
                    let _ = std::io::stdout().flush();
                    match lines.next() {
                        Some(Ok(more)) => {
                            src.push('\n');
                            src.push_str(&more);
                        }
                        _ => return,
                    }
                }
                _ => break,
            }
        }
        match run_chunk(lua, src.as_bytes(), b"=stdin", &[]) {
            Ok(results) if !results.is_empty() => {
                let print_src = b"print(...)";
                let f = lua.enter(|ctx| {
                    ctx.load(print_src, b"=stdin", None)
                        .map(|c| ctx.stash(Value::Closure(c)))
                });
                if let Ok(f) = f {
                    if let Err(e) = lua.call(&f, &results) {
                        report(lua, "", &e);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => report(lua, "", &e),
        }
    }
    println!();
}

fn main() -> ExitCode {
    let args: Vec<Vec<u8>> = std::env::args_os()
        .map(|a| {
            use std::os::unix::ffi::OsStringExt;
            a.into_vec()
        })
        .collect();
    let prog = String::from_utf8_lossy(&args[0])
        .rsplit('/')
        .next()
        .unwrap_or("lua-rs")
        .to_string();

    // Parse options as lua.c does.
    let mut i = 1;
    let mut has_e = false;
    let mut has_i = false;
    let mut has_v = false;
    let mut warnings = false;
    while i < args.len() {
        let a = &args[i];
        if a.first() != Some(&b'-') {
            break;
        }
        match &a[..] {
            b"-" => break,
            b"--" => {
                i += 1;
                break;
            }
            b"-i" => {
                has_i = true;
                has_v = true;
            }
            b"-v" => has_v = true,
            b"-E" => {}
            b"-W" => warnings = true,
            _ if a.starts_with(b"-e") || a.starts_with(b"-l") => {
                has_e |= a.starts_with(b"-e");
                if a.len() == 2 {
                    i += 1;
                    if i >= args.len() || args[i].first() == Some(&b'-') {
                        usage(&prog, &String::from_utf8_lossy(a));
                        return ExitCode::FAILURE;
                    }
                }
            }
            _ => {
                usage(&prog, &String::from_utf8_lossy(a));
                return ExitCode::FAILURE;
            }
        }
        i += 1;
    }
    let script = i;

    let mut lua = Lua::new();
    lua.enter(|ctx| {
        stdlib::open_all(ctx);
        // The `arg` table: script at 0, options before it negative, arguments after.
        let t = ctx.new_table();
        let base = if script < args.len() {
            script as i64
        } else {
            args.len() as i64 - 1
        };
        for (j, a) in args.iter().enumerate() {
            let s = Value::String(ctx.intern(a));
            t.set_int(ctx.mutation(), j as i64 - base, s);
        }
        ctx.set_global("arg", Value::Table(t));
        if warnings {
            ctx.registry().set_str(
                ctx.mutation(),
                ctx.intern(b"_WARN_ON"),
                Value::Boolean(true),
            );
        }
    });
    if has_v {
        println!("{VERSION}");
    }

    // Run -e and -l in order.
    let mut j = 1;
    while j < script {
        let a = &args[j];
        if a.starts_with(b"-e") || a.starts_with(b"-l") {
            let (opt, val) = if a.len() > 2 {
                (a[..2].to_vec(), a[2..].to_vec())
            } else {
                j += 1;
                (a.clone(), args[j].clone())
            };
            let r = if opt == b"-e" {
                run_chunk(&mut lua, &val, b"=(command line)", &[]).map(|_| ())
            } else {
                do_require(&mut lua, &String::from_utf8_lossy(&val))
            };
            if let Err(e) = r {
                report(&mut lua, &prog, &e);
                return ExitCode::FAILURE;
            }
        }
        j += 1;
    }

    if script < args.len() {
        let name = &args[script];
        let script_args = &args[script + 1..];
        let (source, chunk) =
            if &name[..] == b"-" && (script == 0 || &args[script - 1][..] != b"--") {
                let mut d = Vec::new();
                let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut d);
                (d, b"=stdin".to_vec())
            } else {
                let path = String::from_utf8_lossy(name).into_owned();
                match std::fs::read(&path) {
                    Ok(d) => {
                        let mut c = b"@".to_vec();
                        c.extend_from_slice(name);
                        (d, c)
                    }
                    Err(e) => {
                        let _ = writeln!(std::io::stderr(), "{prog}: cannot open {path}");
                        let _ = e;
                        return ExitCode::FAILURE;
                    }
                }
            };
        let source = interp::compiler::skip_shebang(&source).to_vec();
        if let Err(e) = run_chunk(&mut lua, &source, &chunk, script_args) {
            report(&mut lua, &prog, &e);
            return ExitCode::FAILURE;
        }
    } else if !has_e && !has_v {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() {
            println!("{VERSION}");
            interactive(&mut lua);
        } else {
            let mut d = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut d);
            if let Err(e) = run_chunk(&mut lua, &d, b"=stdin", &[]) {
                report(&mut lua, &prog, &e);
                return ExitCode::FAILURE;
            }
        }
    }
    if has_i {
        interactive(&mut lua);
    }
    ExitCode::SUCCESS
}
