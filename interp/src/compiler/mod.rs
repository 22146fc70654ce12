//! The compiler: Lua 5.4 source to Lua 5.4 bytecode in a single pass, after PUC Lua's
//! `llex.c` (lexer), `lparser.c` (parser) and `lcode.c` (code generator).

mod chunkid;
mod code;
mod disasm;
mod expr;
mod lexer;
mod parser;

pub use chunkid::chunk_id;
pub use disasm::disassemble;
pub use lexer::utf8_encode;

use crate::proto::VerifiedProto;

/// A syntax error.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    /// The complete message C Lua gives, e.g. `[string "x = "]:1: unexpected symbol near <eof>`.
    pub message: Vec<u8>,
    /// True when the error is at the end of the input (an incomplete chunk, for the REPL).
    pub incomplete: bool,
}

/// The message, as C Lua gives it.
impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.message))
    }
}

impl std::error::Error for SyntaxError {}

/// Compiles a chunk. `chunk_name` is what `load` receives (`@file.lua`, `=stdin`, or the
/// source itself). A leading `#` line is not skipped here (see [`skip_shebang`]).
pub fn compile(source: &[u8], chunk_name: &[u8]) -> Result<VerifiedProto, SyntaxError> {
    compile_at(source, chunk_name, 0)
}

/// Like [`compile`], for code that runs at C-call count `c_calls` (see
/// [`crate::vm::NativeCall::c_calls`]): each syntactic level counts one more, as in C Lua,
/// and reaching its limit is "C stack overflow".
pub fn compile_at(
    source: &[u8],
    chunk_name: &[u8],
    c_calls: u32,
) -> Result<VerifiedProto, SyntaxError> {
    let mut p = parser::Parser::new(source, chunk_name);
    p.start_level(c_calls);
    p.main_func()
        .map(VerifiedProto::from_compiler)
        .map_err(|e| SyntaxError {
            message: e.message,
            incomplete: e.at_eof,
        })
}

/// Skips a UTF-8 byte-order mark and a first line starting with `#` (as `luaL_loadfile`
/// does for files), keeping the newline so line numbers stay right.
pub fn skip_shebang(source: &[u8]) -> &[u8] {
    let source = source.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(source);
    if source.first() == Some(&b'#') {
        match source.iter().position(|&c| c == b'\n') {
            Some(p) => &source[p..],
            None => &[],
        }
    } else {
        source
    }
}
