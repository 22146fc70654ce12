//! The command line of `lua-rs`, read as C Lua's `lua.c` reads it.

use std::io::Write;

/// The options found before the script name.
#[derive(Default, Clone, Copy)]
pub struct Flags {
    /// `-e` was given.
    pub execute: bool,
    /// `-i`: enter interactive mode after the script.
    pub interactive: bool,
    /// `-v` (or `-i`): show version information.
    pub version: bool,
    /// `-E`: ignore environment variables.
    pub no_env: bool,
}

/// What the command line asks for: the options, and the index of the script name
/// (0 when there is none; it may equal the argument count after a final `--`).
pub struct Parsed {
    /// The options.
    pub flags: Flags,
    /// Index of the script in the arguments, 0 if none.
    pub script: usize,
}

/// Reads the options (C Lua's `collectargs`); on a bad option, returns its index.
pub fn collect_args(args: &[Vec<u8>]) -> Result<Parsed, usize> {
    let mut flags = Flags::default();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a.first() != Some(&b'-') {
            return Ok(Parsed { flags, script: i });
        }
        let alone = a.len() == 2;
        match a.get(1) {
            Some(b'-') if alone => {
                return Ok(Parsed {
                    flags,
                    script: i + 1,
                })
            }
            None => return Ok(Parsed { flags, script: i }),
            Some(b'E') if alone => flags.no_env = true,
            Some(b'W') if alone => {}
            Some(b'i') if alone => {
                flags.interactive = true;
                flags.version = true;
            }
            Some(b'v') if alone => flags.version = true,
            Some(c @ (b'e' | b'l')) => {
                flags.execute |= *c == b'e';
                if alone {
                    match args.get(i + 1) {
                        Some(next) if next.first() != Some(&b'-') => i += 1,
                        _ => return Err(i),
                    }
                }
            }
            _ => return Err(i),
        }
        i += 1;
    }
    Ok(Parsed { flags, script: 0 })
}

/// Prints the complaint about `badopt` and the usage text to stderr (C Lua's `print_usage`).
pub fn usage(progname: &str, badopt: &[u8]) {
    let bad = String::from_utf8_lossy(badopt);
    let mut e = std::io::stderr().lock();
    if matches!(badopt.get(1), Some(b'e' | b'l')) {
        let _ = writeln!(e, "{progname}: '{bad}' needs argument");
    } else {
        let _ = writeln!(e, "{progname}: unrecognized option '{bad}'");
    }
    let _ = writeln!(
        e,
        "usage: {progname} [options] [script [args]]\n\
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
