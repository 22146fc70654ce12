//! The interactive mode of `lua-rs` (`lua.c`'s `doREPL`): reads lines with a prompt, runs
//! each as `return <line>;` if that compiles, else as statements (asking for continuation
//! lines while the chunk is incomplete), and prints the results.

use std::io::IsTerminal;

use interp::StashedValue;

use super::state::{Cli, Failure};

/// The default prompts.
const PROMPT: &[u8] = b"> ";
const PROMPT2: &[u8] = b">> ";

/// Runs the read-eval-print loop until the input ends.
pub fn do_repl(cli: &mut Cli) {
    let old = cli.progname.take();
    while let Some(loaded) = load_line(cli) {
        match loaded.and_then(|f| cli.docall(f, Vec::new())) {
            Ok(results) => print_results(cli, results),
            Err(msg) => cli.message_out(&msg),
        }
    }
    let _ = stdlib::stdio::stdout_write(b"\n");
    let _ = stdlib::stdio::stdout_flush();
    cli.progname = old;
}

/// The prompt: `_PROMPT` (or `_PROMPT2` for continuation lines) converted with `tostring`,
/// or the default.
fn prompt(cli: &mut Cli, first: bool) -> Vec<u8> {
    let name: &[u8] = if first { b"_PROMPT" } else { b"_PROMPT2" };
    let v = cli
        .lua
        .enter(|ctx| ctx.stash(ctx.globals().get_str(ctx.intern(name))));
    if cli.lua.enter(|ctx| ctx.fetch(&v).is_nil()) {
        return if first { PROMPT } else { PROMPT2 }.to_vec();
    }
    cli.tostring(v).unwrap_or_else(|e| e)
}

/// Shows the prompt and reads a line without its newline; `None` at the end of input. When
/// stdin is not a terminal the line is echoed, as readline does.
fn read_line(cli: &mut Cli, first: bool) -> Option<Vec<u8>> {
    let p = prompt(cli, first);
    // lua_readline without readline: fputs(prompt, stdout), fflush(stdout), fgets(stdin),
    // through the C streams the io library shares.
    let _ = stdlib::stdio::stdout_write(&p);
    let _ = stdlib::stdio::stdout_flush();
    let mut line = match stdlib::stdio::stdin_read_line() {
        Ok(Some(l)) => l,
        _ => return None,
    };
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    if !std::io::stdin().is_terminal() {
        let _ = stdlib::stdio::stdout_write(&line);
        let _ = stdlib::stdio::stdout_write(b"\n");
        let _ = stdlib::stdio::stdout_flush();
    }
    Some(line)
}

/// Reads a line (`=expr` stands for `return expr`) and compiles it, first as an expression
/// to print, then as statements; `None` at the end of input.
fn load_line(cli: &mut Cli) -> Option<Result<StashedValue, Failure>> {
    let mut line = read_line(cli, true)?;
    if line.first() == Some(&b'=') {
        line.splice(..1, b"return ".iter().copied());
    }
    let mut ret = b"return ".to_vec();
    ret.extend_from_slice(&line);
    ret.push(b';');
    if let Ok(f) = cli.load(&ret, b"=stdin") {
        return Some(Ok(f));
    }
    Some(multiline(cli, line))
}

/// Compiles `line`, adding continuation lines while the chunk is incomplete.
fn multiline(cli: &mut Cli, mut line: Vec<u8>) -> Result<StashedValue, Failure> {
    loop {
        match cli.load(&line, b"=stdin") {
            Err(msg) if msg.ends_with(b"<eof>") => match read_line(cli, false) {
                Some(more) => {
                    line.push(b'\n');
                    line.extend_from_slice(&more);
                }
                None => return Err(msg),
            },
            r => return r,
        }
    }
}

/// Prints the results of a line with the global `print` (`l_print`).
fn print_results(cli: &mut Cli, results: Vec<StashedValue>) {
    if results.is_empty() {
        return;
    }
    let print = cli
        .lua
        .enter(|ctx| ctx.stash(ctx.globals().get_str(ctx.intern(b"print"))));
    if let Err(msg) = cli.pcall(print, results) {
        let mut m = b"error calling 'print' (".to_vec();
        m.extend_from_slice(&msg);
        m.push(b')');
        cli.message_out(&m);
    }
}
