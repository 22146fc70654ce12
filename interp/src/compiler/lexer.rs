//! The lexer (`llex.c`): source bytes to tokens, with every Lua 5.4 literal form.

use crate::number::{self, Number};

use super::chunk_id;

/// A token.
#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    /// `and` ... `while`: reserved words.
    And,
    Break,
    Do,
    Else,
    Elseif,
    End,
    False,
    For,
    Function,
    Goto,
    If,
    In,
    Local,
    Nil,
    Not,
    Or,
    Repeat,
    Return,
    Then,
    True,
    Until,
    While,
    /// `//`
    IDiv,
    /// `..`
    Concat,
    /// `...`
    Dots,
    /// `==`
    Eq,
    /// `>=`
    Ge,
    /// `<=`
    Le,
    /// `~=`
    Ne,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `::`
    DbColon,
    /// End of input.
    Eos,
    /// A float literal.
    Flt(f64),
    /// An integer literal.
    Int(i64),
    /// A name.
    Name(Vec<u8>),
    /// A string literal.
    Str(Vec<u8>),
    /// A single-character token.
    Char(u8),
}

const RESERVED: [(&[u8], Token); 22] = [
    (b"and", Token::And),
    (b"break", Token::Break),
    (b"do", Token::Do),
    (b"else", Token::Else),
    (b"elseif", Token::Elseif),
    (b"end", Token::End),
    (b"false", Token::False),
    (b"for", Token::For),
    (b"function", Token::Function),
    (b"goto", Token::Goto),
    (b"if", Token::If),
    (b"in", Token::In),
    (b"local", Token::Local),
    (b"nil", Token::Nil),
    (b"not", Token::Not),
    (b"or", Token::Or),
    (b"repeat", Token::Repeat),
    (b"return", Token::Return),
    (b"then", Token::Then),
    (b"true", Token::True),
    (b"until", Token::Until),
    (b"while", Token::While),
];

/// A lexical or syntax error: the full message and whether it happened at end of input.
#[derive(Debug)]
pub struct LexError {
    /// The message, `chunk:line: msg near 'tok'`.
    pub message: Vec<u8>,
    /// True when the error is at `<eof>` (an incomplete chunk).
    pub at_eof: bool,
}

/// The lexer state.
pub struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    /// Current line.
    pub line: u32,
    /// Line of the last token consumed.
    pub last_line: u32,
    /// The current token.
    pub token: Token,
    /// The raw text of the current token (for error messages).
    token_text: Vec<u8>,
    ahead: Option<(Token, Vec<u8>, u32)>,
    chunk: Vec<u8>,
    buf: Vec<u8>,
}

fn is_alpha(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// How a token is shown in messages (`luaX_token2str`).
pub fn token_to_str(t: &Token) -> String {
    match t {
        Token::Char(c) => {
            // C Lua's `lisprint`: printable ASCII only.
            if !(c.is_ascii_graphic() || *c == b' ') {
                format!("'<\\{}>'", c)
            } else {
                format!("'{}'", *c as char)
            }
        }
        Token::Eos => "<eof>".into(),
        Token::Flt(_) => "<number>".into(),
        Token::Int(_) => "<integer>".into(),
        Token::Name(_) => "<name>".into(),
        Token::Str(_) => "<string>".into(),
        other => format!("'{}'", fixed_text(other)),
    }
}

fn fixed_text(t: &Token) -> &'static str {
    for (w, tok) in RESERVED.iter() {
        if tok == t {
            return std::str::from_utf8(w).unwrap_or("?");
        }
    }
    match t {
        Token::IDiv => "//",
        Token::Concat => "..",
        Token::Dots => "...",
        Token::Eq => "==",
        Token::Ge => ">=",
        Token::Le => "<=",
        Token::Ne => "~=",
        Token::Shl => "<<",
        Token::Shr => ">>",
        Token::DbColon => "::",
        _ => "?",
    }
}

impl<'a> Lexer<'a> {
    /// A lexer over `src` for chunk `chunk_name`.
    pub fn new(src: &'a [u8], chunk_name: &[u8]) -> Lexer<'a> {
        Lexer {
            src,
            pos: 0,
            line: 1,
            last_line: 1,
            token: Token::Eos,
            token_text: Vec::new(),
            ahead: None,
            chunk: chunk_id(chunk_name),
            buf: Vec::new(),
        }
    }

    fn cur(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn peek(&self, k: usize) -> Option<u8> {
        self.src.get(self.pos + k).copied()
    }

    /// An error at the current token (`luaX_syntaxerror`).
    pub fn syntax_error(&self, msg: &str) -> LexError {
        // A zero byte is token 0 in C Lua, which `lexerror` takes for "no token".
        if self.token == Token::Char(0) {
            return self.error_with(msg, None, false);
        }
        let near = self.token_text_for_msg(&self.token, &self.token_text);
        self.error_with(msg, Some(near), self.token == Token::Eos)
    }

    /// An error message with position only (no token).
    pub fn error_plain(&self, msg: &str) -> LexError {
        self.error_with(msg, None, false)
    }

    fn token_text_for_msg(&self, t: &Token, text: &[u8]) -> Vec<u8> {
        match t {
            Token::Name(_) | Token::Str(_) | Token::Flt(_) | Token::Int(_) => quoted(text),
            other => token_to_str(other).into_bytes(),
        }
    }

    fn error_with(&self, msg: &str, near: Option<Vec<u8>>, at_eof: bool) -> LexError {
        let mut m = self.chunk.clone();
        m.extend_from_slice(format!(":{}: {}", self.line, msg).as_bytes());
        if let Some(n) = near {
            m.extend_from_slice(b" near ");
            m.extend_from_slice(&n);
        }
        LexError { message: m, at_eof }
    }

    /// A lexical error near the text read so far (`lexerror` with the buffer).
    fn lex_error(&self, msg: &str, eof: bool) -> LexError {
        let near = if eof {
            b"<eof>".to_vec()
        } else {
            quoted(&self.buf)
        };
        self.error_with(msg, Some(near), eof)
    }

    /// Advances to the next token.
    pub fn next(&mut self) -> Result<(), LexError> {
        self.last_line = self.line;
        if let Some((t, txt, _)) = self.ahead.take() {
            self.token = t;
            self.token_text = txt;
            return Ok(());
        }
        let (t, txt) = self.scan()?;
        self.token = t;
        self.token_text = txt;
        Ok(())
    }

    /// Looks at the token after the current one.
    pub fn lookahead(&mut self) -> Result<&Token, LexError> {
        if self.ahead.is_none() {
            let (t, txt) = self.scan()?;
            self.ahead = Some((t, txt, self.line));
        }
        Ok(&self.ahead.as_ref().unwrap().0)
    }

    fn newline(&mut self) -> Result<(), LexError> {
        let old = self.cur();
        self.pos += 1;
        if let Some(c) = self.cur() {
            if (c == b'\n' || c == b'\r') && Some(c) != old {
                self.pos += 1;
            }
        }
        self.line += 1;
        if self.line >= i32::MAX as u32 {
            return Err(self.error_plain("chunk has too many lines"));
        }
        Ok(())
    }

    fn scan(&mut self) -> Result<(Token, Vec<u8>), LexError> {
        self.buf.clear();
        loop {
            let Some(c) = self.cur() else {
                return Ok((Token::Eos, Vec::new()));
            };
            match c {
                b'\n' | b'\r' => self.newline()?,
                b' ' | b'\t' | 0x0b | 0x0c => self.pos += 1,
                b'-' => {
                    if self.peek(1) != Some(b'-') {
                        self.pos += 1;
                        return Ok((Token::Char(b'-'), Vec::new()));
                    }
                    self.pos += 2;
                    if self.cur() == Some(b'[') {
                        if let Some(level) = self.long_bracket_level() {
                            self.read_long_string(level, false)?;
                            self.buf.clear();
                            continue;
                        }
                    }
                    while let Some(c) = self.cur() {
                        if c == b'\n' || c == b'\r' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                b'[' => {
                    if let Some(level) = self.long_bracket_level() {
                        let s = self.read_long_string(level, true)?;
                        let txt = self.buf.clone();
                        return Ok((Token::Str(s), txt));
                    }
                    if self.peek(1) == Some(b'=') {
                        // '[=' without a second '[': C Lua reports an invalid delimiter.
                        let mut k = 1;
                        while self.peek(k) == Some(b'=') {
                            k += 1;
                        }
                        self.buf
                            .extend_from_slice(&self.src[self.pos..self.pos + k]);
                        self.pos += k;
                        return Err(self.lex_error("invalid long string delimiter", false));
                    }
                    self.pos += 1;
                    return Ok((Token::Char(b'['), Vec::new()));
                }
                b'=' => return Ok(self.two(b'=', Token::Eq, Token::Char(b'='))),
                b'<' => {
                    if self.peek(1) == Some(b'=') {
                        self.pos += 2;
                        return Ok((Token::Le, Vec::new()));
                    }
                    return Ok(self.two(b'<', Token::Shl, Token::Char(b'<')));
                }
                b'>' => {
                    if self.peek(1) == Some(b'=') {
                        self.pos += 2;
                        return Ok((Token::Ge, Vec::new()));
                    }
                    return Ok(self.two(b'>', Token::Shr, Token::Char(b'>')));
                }
                b'/' => return Ok(self.two(b'/', Token::IDiv, Token::Char(b'/'))),
                b'~' => return Ok(self.two(b'=', Token::Ne, Token::Char(b'~'))),
                b':' => return Ok(self.two(b':', Token::DbColon, Token::Char(b':'))),
                b'"' | b'\'' => {
                    let s = self.read_string(c)?;
                    let txt = self.buf.clone();
                    return Ok((Token::Str(s), txt));
                }
                b'.' => {
                    if self.peek(1) == Some(b'.') {
                        if self.peek(2) == Some(b'.') {
                            self.pos += 3;
                            return Ok((Token::Dots, Vec::new()));
                        }
                        self.pos += 2;
                        return Ok((Token::Concat, Vec::new()));
                    }
                    if self.peek(1).is_some_and(|d| d.is_ascii_digit()) {
                        return self.read_numeral();
                    }
                    self.pos += 1;
                    return Ok((Token::Char(b'.'), Vec::new()));
                }
                b'0'..=b'9' => return self.read_numeral(),
                c if is_alpha(c) => {
                    let start = self.pos;
                    while self.cur().is_some_and(is_alnum) {
                        self.pos += 1;
                    }
                    let word = &self.src[start..self.pos];
                    for (w, t) in RESERVED.iter() {
                        if *w == word {
                            return Ok((t.clone(), word.to_vec()));
                        }
                    }
                    return Ok((Token::Name(word.to_vec()), word.to_vec()));
                }
                c => {
                    self.pos += 1;
                    return Ok((Token::Char(c), Vec::new()));
                }
            }
        }
    }

    fn two(&mut self, second: u8, yes: Token, no: Token) -> (Token, Vec<u8>) {
        if self.peek(1) == Some(second) {
            self.pos += 2;
            (yes, Vec::new())
        } else {
            self.pos += 1;
            (no, Vec::new())
        }
    }

    /// At a '[': if it opens a long bracket `[==[`, returns its level.
    fn long_bracket_level(&self) -> Option<usize> {
        let mut k = 1;
        while self.peek(k) == Some(b'=') {
            k += 1;
        }
        if self.peek(k) == Some(b'[') {
            Some(k - 1)
        } else {
            None
        }
    }

    fn read_long_string(&mut self, level: usize, is_string: bool) -> Result<Vec<u8>, LexError> {
        let start_line = self.line;
        let open = level + 2;
        self.buf
            .extend_from_slice(&self.src[self.pos..self.pos + open]);
        self.pos += open;
        let mut content = Vec::new();
        if let Some(b'\n' | b'\r') = self.cur() {
            self.newline()?;
            self.buf.push(b'\n');
        }
        loop {
            let Some(c) = self.cur() else {
                let what = if is_string { "string" } else { "comment" };
                let msg = format!("unfinished long {} (starting at line {})", what, start_line);
                return Err(self.lex_error(&msg, true));
            };
            match c {
                b']' => {
                    let mut k = 1;
                    while self.peek(k) == Some(b'=') {
                        k += 1;
                    }
                    if k - 1 == level && self.peek(k) == Some(b']') {
                        self.buf
                            .extend_from_slice(&self.src[self.pos..self.pos + k + 1]);
                        self.pos += k + 1;
                        return Ok(content);
                    }
                    content.push(b']');
                    self.buf.push(b']');
                    self.pos += 1;
                }
                b'\n' | b'\r' => {
                    self.newline()?;
                    content.push(b'\n');
                    self.buf.push(b'\n');
                }
                c => {
                    if is_string {
                        content.push(c);
                        self.buf.push(c);
                    }
                    self.pos += 1;
                }
            }
        }
    }

    fn read_string(&mut self, delim: u8) -> Result<Vec<u8>, LexError> {
        self.buf.push(delim);
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.cur() else {
                return Err(self.lex_error("unfinished string", true));
            };
            if c == delim {
                self.buf.push(c);
                self.pos += 1;
                return Ok(out);
            }
            match c {
                b'\n' | b'\r' => return Err(self.lex_error("unfinished string", false)),
                b'\\' => {
                    // As C Lua's buffer: an escape is saved raw while it is read (an error
                    // shows it so) and replaced by what it stands for once read.
                    let (mark, out_mark) = (self.buf.len(), out.len());
                    self.read_escape(&mut out)?;
                    self.buf.truncate(mark);
                    self.buf.extend_from_slice(&out[out_mark..]);
                }
                c => {
                    out.push(c);
                    self.buf.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// Reads the escape sequence at the backslash under the cursor into `out`.
    fn read_escape(&mut self, out: &mut Vec<u8>) -> Result<(), LexError> {
        self.buf.push(b'\\');
        self.pos += 1;
        let Some(e) = self.cur() else {
            return Err(self.lex_error("unfinished string", true));
        };
        match e {
            b'a' => self.esc(out, 7),
            b'b' => self.esc(out, 8),
            b'f' => self.esc(out, 12),
            b'n' => self.esc(out, b'\n'),
            b'r' => self.esc(out, b'\r'),
            b't' => self.esc(out, b'\t'),
            b'v' => self.esc(out, 11),
            b'\\' | b'"' | b'\'' => self.esc(out, e),
            b'\n' | b'\r' => {
                self.newline()?;
                out.push(b'\n');
            }
            b'x' => {
                self.buf.push(b'x');
                self.pos += 1;
                let mut v = 0u8;
                for _ in 0..2 {
                    match self.cur() {
                        Some(h) if h.is_ascii_hexdigit() => {
                            self.buf.push(h);
                            self.pos += 1;
                            v = v * 16 + (h as char).to_digit(16).unwrap() as u8;
                        }
                        other => {
                            if let Some(o) = other {
                                self.buf.push(o);
                            }
                            return Err(self.lex_error("hexadecimal digit expected", false));
                        }
                    }
                }
                out.push(v);
            }
            b'z' => {
                self.pos += 1;
                while let Some(w) = self.cur() {
                    if w == b'\n' || w == b'\r' {
                        self.newline()?;
                    } else if w.is_ascii_whitespace() || w == 0x0b {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
            }
            b'u' => self.read_utf8_escape(out)?,
            d if d.is_ascii_digit() => {
                let mut v: u32 = 0;
                let mut k = 0;
                while k < 3 && self.cur().is_some_and(|x| x.is_ascii_digit()) {
                    let x = self.cur().unwrap();
                    self.buf.push(x);
                    v = v * 10 + (x - b'0') as u32;
                    self.pos += 1;
                    k += 1;
                }
                if v > 255 {
                    if let Some(x) = self.cur() {
                        self.buf.push(x);
                    }
                    return Err(self.lex_error("decimal escape too large", false));
                }
                out.push(v as u8);
            }
            other => {
                self.buf.push(other);
                return Err(self.lex_error("invalid escape sequence", false));
            }
        }
        Ok(())
    }

    fn esc(&mut self, out: &mut Vec<u8>, v: u8) {
        let raw = self.src[self.pos];
        self.buf.push(raw);
        self.pos += 1;
        out.push(v);
    }

    fn read_utf8_escape(&mut self, out: &mut Vec<u8>) -> Result<(), LexError> {
        self.buf.push(b'u');
        self.pos += 1;
        if self.cur() != Some(b'{') {
            if let Some(x) = self.cur() {
                self.buf.push(x);
            }
            return Err(self.lex_error("missing '{'", false));
        }
        self.buf.push(b'{');
        self.pos += 1;
        let mut v: u64 = 0;
        let mut digits = 0;
        loop {
            match self.cur() {
                Some(h) if h.is_ascii_hexdigit() => {
                    self.buf.push(h);
                    self.pos += 1;
                    v = v * 16 + (h as char).to_digit(16).unwrap() as u64;
                    digits += 1;
                    if v > 0x7FFF_FFFF {
                        return Err(self.lex_error("UTF-8 value too large", false));
                    }
                }
                Some(b'}') if digits > 0 => {
                    self.buf.push(b'}');
                    self.pos += 1;
                    break;
                }
                other => {
                    if let Some(o) = other {
                        self.buf.push(o);
                    }
                    let msg = if digits == 0 {
                        "hexadecimal digit expected"
                    } else {
                        "missing '}'"
                    };
                    return Err(self.lex_error(msg, false));
                }
            }
        }
        utf8_encode(v as u32, out);
        Ok(())
    }

    fn read_numeral(&mut self) -> Result<(Token, Vec<u8>), LexError> {
        let start = self.pos;
        let mut expo = (b'E', b'e');
        if self.cur() == Some(b'0') && matches!(self.peek(1), Some(b'x' | b'X')) {
            expo = (b'P', b'p');
            self.pos += 2;
        }
        while let Some(c) = self.cur() {
            if c == expo.0 || c == expo.1 {
                self.pos += 1;
                if matches!(self.cur(), Some(b'+' | b'-')) {
                    self.pos += 1;
                }
            } else if c.is_ascii_hexdigit() || c == b'.' {
                self.pos += 1;
            } else {
                break;
            }
        }
        // A numeral touching a letter takes that one letter, to force the error (C Lua's
        // message then shows exactly that much: "malformed number near '3.fi'").
        if self
            .cur()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        {
            self.pos += 1;
        }
        let text = &self.src[start..self.pos];
        match number::str_to_number(text) {
            Some(Number::Int(i)) => Ok((Token::Int(i), text.to_vec())),
            Some(Number::Float(f)) => Ok((Token::Flt(f), text.to_vec())),
            None => {
                self.buf = text.to_vec();
                Err(self.lex_error("malformed number", false))
            }
        }
    }
}

/// `'text'` as C's `"'%s'"` shows a token: raw bytes, up to the first zero byte.
fn quoted(text: &[u8]) -> Vec<u8> {
    let text = text.split(|&c| c == 0).next().unwrap_or_default();
    let mut v = Vec::with_capacity(text.len() + 2);
    v.push(b'\'');
    v.extend_from_slice(text);
    v.push(b'\'');
    v
}

/// Encodes a code point (up to 2^31) as UTF-8 the way Lua does (`luaO_utf8esc`).
pub fn utf8_encode(x: u32, out: &mut Vec<u8>) {
    if x < 0x80 {
        out.push(x as u8);
        return;
    }
    let mut buf = [0u8; 8];
    let mut n = 1;
    let mut x = x;
    let mut mfb: u32 = 0x3f;
    loop {
        buf[8 - n] = 0x80 | (x & 0x3f) as u8;
        n += 1;
        x >>= 6;
        mfb >>= 1;
        if x <= mfb {
            break;
        }
    }
    buf[8 - n] = ((!mfb << 1) | x) as u8;
    out.extend_from_slice(&buf[8 - n..]);
}
