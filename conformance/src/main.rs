//! `lua-rs`: a command-line Lua 5.4 interpreter on lupa_rs's runtime, behaving like C Lua's
//! stand-alone `lua` (`lua.c`).

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use cli::args::{collect_args, usage, Parsed};
use cli::repl::do_repl;
use cli::state::{Cli, Failure};
use interp::Value;

/// The version line (`-v`, `-i` and interactive mode).
const COPYRIGHT: &str = "Lua 5.4 (lupa_rs)  Copyright (C) 1994-2025 Lua.org, PUC-Rio";

fn main() -> ExitCode {
    cli::signal::default_sigpipe();
    let args: Vec<Vec<u8>> = std::env::args_os()
        .map(std::ffi::OsString::into_encoded_bytes)
        .collect();
    let progname = match args.first() {
        Some(p) if !p.is_empty() => String::from_utf8_lossy(p).into_owned(),
        _ => "lua".to_string(),
    };
    let parsed = match collect_args(&args) {
        Ok(p) => p,
        Err(bad) => {
            usage(&progname, &args[bad]);
            return ExitCode::FAILURE;
        }
    };
    let mut cli = Cli::new(&progname, parsed.flags.no_env);
    let ok = pmain(&mut cli, &args, &parsed);
    cli.close();
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The steps of `lua.c`'s `pmain` after reading the options; false when one failed (it has
/// been reported).
fn pmain(cli: &mut Cli, args: &[Vec<u8>], parsed: &Parsed) -> bool {
    let flags = parsed.flags;
    let script = parsed.script;
    if flags.version {
        print_version();
    }
    create_arg_table(cli, args, script);
    if !flags.no_env && !handle_luainit(cli) {
        return false;
    }
    let optlim = if script > 0 { script } else { args.len() };
    if !run_args(cli, &args[..optlim]) {
        return false;
    }
    if script > 0 && script < args.len() && !handle_script(cli, args, script) {
        return false;
    }
    if flags.interactive {
        do_repl(cli);
    } else if script == 0 && !flags.execute && !flags.version {
        if std::io::stdin().is_terminal() {
            print_version();
            do_repl(cli);
        } else {
            let r = cli.do_file(None);
            return cli.report(r);
        }
    }
    true
}

fn print_version() {
    let _ = stdlib::stdio::stdout_write(format!("{COPYRIGHT}\n").as_bytes());
    let _ = stdlib::stdio::stdout_flush();
}

/// The global `arg`: the script at index 0, what precedes it at negative indices, its
/// arguments at positive ones (with no script, the program name is at 0).
fn create_arg_table(cli: &mut Cli, args: &[Vec<u8>], script: usize) {
    cli.lua.enter(|ctx| {
        // Sized as lua.c sizes it (`lua_createtable(L, narg, script + 1)`).
        let narg = args.len().saturating_sub(script + 1);
        let t = interp::Table::with_capacity(ctx.mutation(), narg, script + 1);
        for (i, a) in args.iter().enumerate() {
            let s = Value::String(ctx.intern(a));
            t.set_int(ctx.mutation(), i as i64 - script as i64, s);
        }
        ctx.set_global("arg", Value::Table(t));
    });
}

/// Runs `LUA_INIT_5_4` or else `LUA_INIT`: a file name after '@', or code.
fn handle_luainit(cli: &mut Cli) -> bool {
    let (name, init) = match std::env::var_os("LUA_INIT_5_4") {
        Some(v) => ("=LUA_INIT_5_4", v),
        None => match std::env::var_os("LUA_INIT") {
            Some(v) => ("=LUA_INIT", v),
            None => return true,
        },
    };
    let init = init.into_encoded_bytes();
    let r = match init.strip_prefix(b"@") {
        Some(file) => cli.do_file(Some(file)),
        None => cli.do_string(&init, name.as_bytes()),
    };
    cli.report(r)
}

/// Runs the `-e`, `-l` and `-W` options in order.
fn run_args(cli: &mut Cli, opts: &[Vec<u8>]) -> bool {
    let mut i = 1;
    while i < opts.len() {
        let opt = &opts[i];
        match opt.get(1) {
            Some(c @ (b'e' | b'l')) => {
                let extra = if opt.len() > 2 {
                    &opt[2..]
                } else {
                    i += 1;
                    &opts[i][..]
                };
                let r = if *c == b'e' {
                    cli.do_string(extra, b"=(command line)")
                } else {
                    cli.do_library(extra)
                };
                if !cli.report(r) {
                    return false;
                }
            }
            Some(b'W') => cli.lua.enter(|ctx| ctx.warn(b"@on", false)),
            _ => {}
        }
        i += 1;
    }
    true
}

/// Runs the script (stdin for `-` unless it follows `--`) with the arguments in `arg`.
fn handle_script(cli: &mut Cli, args: &[Vec<u8>], script: usize) -> bool {
    let name = &args[script][..];
    let path = (name != b"-" || args[script - 1] == b"--").then_some(name);
    let r = cli
        .load_file(path)
        .and_then(|f| Ok((f, script_args(cli)?)))
        .and_then(|(f, a)| cli.docall(f, a));
    cli.report(r)
}

/// The script's arguments: `arg[1]` to `arg[#arg]` (`pushargs`).
fn script_args(cli: &mut Cli) -> Result<Vec<interp::StashedValue>, Failure> {
    cli.lua.enter(|ctx| {
        let Value::Table(t) = ctx.get_global("arg") else {
            return Err(b"'arg' is not a table".to_vec());
        };
        let n = t.length();
        Ok((1..=n).map(|i| ctx.stash(t.get_int(i))).collect())
    })
}
