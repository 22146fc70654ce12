//! Lua 5.4 pattern matching (manual §6.4.1) over byte strings, following `lstrlib.c`.
//!
//! Recursion is bounded by [`MAXCCALLS`] exactly as in C Lua ("pattern too complex"), the
//! frames are small, and no heap allocation happens per match attempt. The work is counted
//! in steps (one per match attempt at a pattern item, per byte scanned by a repetition or
//! `%b`, per 64 bytes compared by a back reference) and reported to a [`Budget`] every
//! [`BUDGET_STEPS`] steps, which may stop the match ([`PatternError::Stopped`]).

use std::fmt;

/// Maximum recursion depth of the matcher (C Lua's `MAXCCALLS`).
pub const MAXCCALLS: usize = 200;
/// Maximum number of captures in one pattern (C Lua's `LUA_MAXCAPTURES`).
pub const MAXCAPTURES: usize = 32;

/// Steps between two reports to the [`Budget`].
pub const BUDGET_STEPS: u32 = 1024;

/// Told the matcher's steps as they go (in batches); returning false stops the match with
/// [`PatternError::Stopped`].
pub type Budget<'b> = &'b mut dyn FnMut(usize) -> bool;

const CAP_UNFINISHED: isize = -1;
const CAP_POSITION: isize = -2;
const L_ESC: u8 = b'%';
const SPECIALS: &[u8] = b"^$*+?.([%-";

/// An error raised by a pattern or a replacement string; `Display` gives C Lua's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternError {
    /// "malformed pattern (ends with '%')"
    EndsWithPercent,
    /// "malformed pattern (missing ']')"
    MissingBracket,
    /// "missing '[' after '%f' in pattern"
    MissingFrontierBracket,
    /// "malformed pattern (missing arguments to '%b')"
    MissingBalanceArgs,
    /// "invalid capture index %N" in a pattern (the digit N as written)
    InvalidCaptureIndex(u8),
    /// "invalid capture index %N" in a replacement string (N is 1-based)
    InvalidReplacementIndex(usize),
    /// "invalid pattern capture"
    InvalidPatternCapture,
    /// "unfinished capture"
    UnfinishedCapture,
    /// "too many captures"
    TooManyCaptures,
    /// "pattern too complex"
    TooComplex,
    /// "invalid use of '%' in replacement string"
    InvalidPercentInReplacement,
    /// The [`Budget`] stopped the match (the caller knows why).
    Stopped,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::EndsWithPercent => f.write_str("malformed pattern (ends with '%')"),
            PatternError::MissingBracket => f.write_str("malformed pattern (missing ']')"),
            PatternError::MissingFrontierBracket => {
                f.write_str("missing '[' after '%f' in pattern")
            }
            PatternError::MissingBalanceArgs => {
                f.write_str("malformed pattern (missing arguments to '%b')")
            }
            PatternError::InvalidCaptureIndex(d) => {
                write!(f, "invalid capture index %{}", *d as char)
            }
            PatternError::InvalidReplacementIndex(n) => {
                write!(f, "invalid capture index %{n}")
            }
            PatternError::InvalidPatternCapture => f.write_str("invalid pattern capture"),
            PatternError::UnfinishedCapture => f.write_str("unfinished capture"),
            PatternError::TooManyCaptures => f.write_str("too many captures"),
            PatternError::TooComplex => f.write_str("pattern too complex"),
            PatternError::Stopped => f.write_str("pattern matching stopped"),
            PatternError::InvalidPercentInReplacement => {
                f.write_str("invalid use of '%' in replacement string")
            }
        }
    }
}

impl std::error::Error for PatternError {}

/// One captured value: a byte range of the subject, or a position capture `()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// Captured substring as a 0-based half-open byte range `start..end` of the subject.
    Slice(usize, usize),
    /// Position capture: the 1-based position Lua returns.
    Position(usize),
}

/// A successful match: the whole-match range plus the raw capture state.
#[derive(Debug, Clone)]
pub struct Match {
    /// 0-based start of the whole match (Lua's `find` returns `start + 1`).
    pub start: usize,
    /// 0-based exclusive end of the whole match (Lua's `find` returns `end`).
    pub end: usize,
    level: usize,
    /// The captures that matched (`level` of them): inline up to four, so that a match
    /// moves a few words, not the matcher's 32-entry array (gmatch loops spent 14% of their
    /// time copying it).
    caps: smallvec::SmallVec<[(usize, isize); 4]>,
}

impl Match {
    fn plain(start: usize, end: usize) -> Match {
        Match {
            start,
            end,
            level: 0,
            caps: smallvec::SmallVec::new(),
        }
    }

    /// Number of explicit captures in the pattern that matched.
    pub fn level(&self) -> usize {
        self.level
    }

    /// Number of values `match`/`gmatch` return: the captures, or 1 (the whole match).
    pub fn value_count(&self) -> usize {
        self.level.max(1)
    }

    /// Capture `i` (0-based) as C's `get_onecapture`: with no captures, index 0 is the
    /// whole match; errors for an out-of-range index or an unfinished capture.
    pub fn capture(&self, i: usize) -> Result<Capture, PatternError> {
        if i >= self.level {
            if i != 0 {
                return Err(PatternError::InvalidReplacementIndex(i + 1));
            }
            return Ok(Capture::Slice(self.start, self.end));
        }
        let (init, len) = self.caps[i];
        match len {
            CAP_UNFINISHED => Err(PatternError::UnfinishedCapture),
            CAP_POSITION => Ok(Capture::Position(init + 1)),
            l => Ok(Capture::Slice(init, init + l as usize)),
        }
    }

    /// Appends capture `i` (as [`Match::capture`]) to `out`, positions in decimal.
    pub fn push_capture(
        &self,
        src: &[u8],
        i: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), PatternError> {
        match self.capture(i)? {
            Capture::Slice(a, b) => out.extend_from_slice(src.get(a..b).unwrap_or(&[])),
            Capture::Position(p) => out.extend_from_slice(p.to_string().as_bytes()),
        }
        Ok(())
    }
}

/// C Lua's `posrelatI`: a relative initial position turned into a 1-based one (>= 1).
pub fn posrelat_init(pos: i64, len: usize) -> usize {
    if pos > 0 {
        usize::try_from(pos).unwrap_or(usize::MAX)
    } else if pos == 0 || pos.unsigned_abs() > len as u64 {
        1
    } else {
        len - pos.unsigned_abs() as usize + 1
    }
}

/// True when the pattern has no magic characters (C's `nospecials`).
pub fn no_specials(pat: &[u8]) -> bool {
    !pat.iter().any(|c| SPECIALS.contains(c))
}

/// Plain substring search (C's `lmemfind`): 0-based offset of `needle` in `hay`.
pub fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    if needle.len() > hay.len() {
        return None;
    }
    let last = hay.len() - needle.len();
    let mut i = 0;
    while i <= last {
        match hay[i..=last].iter().position(|&c| c == first) {
            None => return None,
            Some(off) => {
                i += off;
                if &hay[i + 1..i + needle.len()] == rest {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

/// The matcher state (C's `MatchState`) for one subject and one (un-anchored) pattern.
pub struct Matcher<'a> {
    src: &'a [u8],
    pat: &'a [u8],
    level: usize,
    depth: usize,
    caps: [(usize, isize); MAXCAPTURES],
    /// Steps left before the next report to `budget`.
    countdown: u32,
    budget: Option<Budget<'a>>,
}

fn is_space(c: u8) -> bool {
    c == b' ' || (9..=13).contains(&c)
}

/// C-locale `match_class`: does byte `c` belong to class letter `cl` (or equal it)?
pub fn match_class(c: u8, cl: u8) -> bool {
    let res = match cl.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c < 32 || c == 127,
        b'd' => c.is_ascii_digit(),
        b'g' => (33..=126).contains(&c),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        b's' => is_space(c),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        b'z' => c == 0, // deprecated, still accepted by C Lua 5.4
        _ => return cl == c,
    };
    if cl.is_ascii_uppercase() {
        !res
    } else {
        res
    }
}

impl<'a> Matcher<'a> {
    /// A matcher for `src` and `pat` (the pattern without a leading `^` anchor).
    pub fn new(src: &'a [u8], pat: &'a [u8]) -> Matcher<'a> {
        Matcher {
            src,
            pat,
            level: 0,
            depth: MAXCCALLS,
            caps: [(0, 0); MAXCAPTURES],
            countdown: BUDGET_STEPS,
            budget: None,
        }
    }

    /// A matcher that reports its steps to `budget`.
    pub fn with_budget(src: &'a [u8], pat: &'a [u8], budget: Budget<'a>) -> Matcher<'a> {
        Matcher {
            budget: Some(budget),
            ..Matcher::new(src, pat)
        }
    }

    /// Counts one step of work.
    #[inline]
    fn step(&mut self) -> Result<(), PatternError> {
        self.countdown -= 1;
        if self.countdown == 0 {
            return self.report();
        }
        Ok(())
    }

    /// Counts `n` steps of work.
    fn steps(&mut self, n: usize) -> Result<(), PatternError> {
        let mut n = n;
        while n >= self.countdown as usize {
            n -= self.countdown as usize;
            self.countdown = 0;
            self.report()?;
        }
        self.countdown -= n as u32;
        Ok(())
    }

    #[cold]
    fn report(&mut self) -> Result<(), PatternError> {
        let n = (BUDGET_STEPS - self.countdown) as usize;
        self.countdown = BUDGET_STEPS;
        if let Some(b) = &mut self.budget {
            if n > 0 && !b(n) {
                return Err(PatternError::Stopped);
            }
        }
        Ok(())
    }

    /// Reports the steps not reported yet (when the matching is over).
    pub fn flush(&mut self) -> Result<(), PatternError> {
        self.report()
    }

    /// Pattern byte at `i`, or 0 past the end (C's NUL terminator).
    #[inline]
    fn p(&self, i: usize) -> u8 {
        self.pat.get(i).copied().unwrap_or(0)
    }

    /// Tries to match the whole pattern at 0-based subject offset `s`.
    pub fn match_at(&mut self, s: usize) -> Result<Option<Match>, PatternError> {
        self.level = 0;
        self.depth = MAXCCALLS;
        Ok(self.do_match(s, 0)?.map(|e| Match {
            start: s,
            end: e,
            level: self.level,
            caps: smallvec::SmallVec::from_slice(&self.caps[..self.level]),
        }))
    }

    fn class_end(&self, mut p: usize) -> Result<usize, PatternError> {
        let c = self.p(p);
        p += 1;
        match c {
            L_ESC => {
                if p >= self.pat.len() {
                    return Err(PatternError::EndsWithPercent);
                }
                Ok(p + 1)
            }
            b'[' => {
                if self.p(p) == b'^' {
                    p += 1;
                }
                loop {
                    if p >= self.pat.len() {
                        return Err(PatternError::MissingBracket);
                    }
                    let c = self.pat[p];
                    p += 1;
                    if c == L_ESC && p < self.pat.len() {
                        p += 1;
                    }
                    if self.p(p) == b']' {
                        return Ok(p + 1);
                    }
                }
            }
            _ => Ok(p),
        }
    }

    /// `p` is the index of `[`, `ec` the index of the closing `]`.
    fn match_bracket_class(&self, c: u8, mut p: usize, ec: usize) -> bool {
        let mut sig = true;
        if self.p(p + 1) == b'^' {
            sig = false;
            p += 1;
        }
        p += 1;
        while p < ec {
            let pc = self.p(p);
            if pc == L_ESC {
                p += 1;
                if match_class(c, self.p(p)) {
                    return sig;
                }
            } else if self.p(p + 1) == b'-' && p + 2 < ec {
                p += 2;
                if pc <= c && c <= self.p(p) {
                    return sig;
                }
            } else if pc == c {
                return sig;
            }
            p += 1;
        }
        !sig
    }

    #[inline]
    fn single_match(&self, s: usize, p: usize, ep: usize) -> bool {
        let Some(&c) = self.src.get(s) else {
            return false;
        };
        match self.p(p) {
            b'.' => true,
            L_ESC => match_class(c, self.p(p + 1)),
            b'[' => self.match_bracket_class(c, p, ep - 1),
            pc => pc == c,
        }
    }

    fn do_match(&mut self, s: usize, p: usize) -> Result<Option<usize>, PatternError> {
        if self.depth == 0 {
            return Err(PatternError::TooComplex);
        }
        self.step()?;
        self.depth -= 1;
        let r = self.match_body(s, p);
        self.depth += 1;
        r
    }

    fn match_body(&mut self, mut s: usize, mut p: usize) -> Result<Option<usize>, PatternError> {
        let plen = self.pat.len();
        loop {
            if p >= plen {
                return Ok(Some(s));
            }
            match self.pat[p] {
                b'(' => {
                    return if self.p(p + 1) == b')' {
                        self.start_capture(s, p + 2, CAP_POSITION)
                    } else {
                        self.start_capture(s, p + 1, CAP_UNFINISHED)
                    };
                }
                b')' => return self.end_capture(s, p + 1),
                b'$' if p + 1 == plen => {
                    return Ok(if s == self.src.len() { Some(s) } else { None });
                }
                L_ESC if self.p(p + 1) == b'b' => match self.match_balance(s, p + 2)? {
                    Some(ns) => {
                        s = ns;
                        p += 4;
                        continue;
                    }
                    None => return Ok(None),
                },
                L_ESC if self.p(p + 1) == b'f' => {
                    p += 2;
                    if self.p(p) != b'[' {
                        return Err(PatternError::MissingFrontierBracket);
                    }
                    let ep = self.class_end(p)?;
                    let prev = if s == 0 { 0 } else { self.src[s - 1] };
                    let cur = self.src.get(s).copied().unwrap_or(0);
                    if !self.match_bracket_class(prev, p, ep - 1)
                        && self.match_bracket_class(cur, p, ep - 1)
                    {
                        p = ep;
                        continue;
                    }
                    return Ok(None);
                }
                L_ESC if self.p(p + 1).is_ascii_digit() => {
                    match self.match_capture(s, self.p(p + 1))? {
                        Some(ns) => {
                            s = ns;
                            p += 2;
                            continue;
                        }
                        None => return Ok(None),
                    }
                }
                _ => {
                    let ep = self.class_end(p)?;
                    let q = self.p(ep);
                    if !self.single_match(s, p, ep) {
                        if q == b'*' || q == b'?' || q == b'-' {
                            p = ep + 1;
                            continue;
                        }
                        return Ok(None);
                    }
                    match q {
                        b'?' => {
                            if let Some(r) = self.do_match(s + 1, ep + 1)? {
                                return Ok(Some(r));
                            }
                            p = ep + 1;
                        }
                        b'+' => return self.max_expand(s + 1, p, ep),
                        b'*' => return self.max_expand(s, p, ep),
                        b'-' => return self.min_expand(s, p, ep),
                        _ => {
                            s += 1;
                            p = ep;
                        }
                    }
                }
            }
        }
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> Result<Option<usize>, PatternError> {
        let mut i = 0;
        while self.single_match(s + i, p, ep) {
            i += 1;
            self.step()?;
        }
        loop {
            if let Some(r) = self.do_match(s + i, ep + 1)? {
                return Ok(Some(r));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    fn min_expand(
        &mut self,
        mut s: usize,
        p: usize,
        ep: usize,
    ) -> Result<Option<usize>, PatternError> {
        loop {
            if let Some(r) = self.do_match(s, ep + 1)? {
                return Ok(Some(r));
            }
            if self.single_match(s, p, ep) {
                s += 1;
            } else {
                return Ok(None);
            }
        }
    }

    fn start_capture(
        &mut self,
        s: usize,
        p: usize,
        what: isize,
    ) -> Result<Option<usize>, PatternError> {
        let level = self.level;
        if level >= MAXCAPTURES {
            return Err(PatternError::TooManyCaptures);
        }
        self.caps[level] = (s, what);
        self.level = level + 1;
        let r = self.do_match(s, p)?;
        if r.is_none() {
            self.level -= 1;
        }
        Ok(r)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> Result<Option<usize>, PatternError> {
        let l = (0..self.level)
            .rev()
            .find(|&l| self.caps[l].1 == CAP_UNFINISHED)
            .ok_or(PatternError::InvalidPatternCapture)?;
        self.caps[l].1 = (s - self.caps[l].0) as isize;
        let r = self.do_match(s, p)?;
        if r.is_none() {
            self.caps[l].1 = CAP_UNFINISHED;
        }
        Ok(r)
    }

    fn match_balance(&mut self, s: usize, p: usize) -> Result<Option<usize>, PatternError> {
        if p + 1 >= self.pat.len() {
            return Err(PatternError::MissingBalanceArgs);
        }
        let (b, e) = (self.pat[p], self.pat[p + 1]);
        if self.src.get(s) != Some(&b) {
            return Ok(None);
        }
        let mut cont = 1usize;
        let src = self.src;
        for (i, &c) in src.iter().enumerate().skip(s + 1) {
            self.step()?;
            if c == e {
                cont -= 1;
                if cont == 0 {
                    return Ok(Some(i + 1));
                }
            } else if c == b {
                cont += 1;
            }
        }
        Ok(None)
    }

    fn match_capture(&mut self, s: usize, digit: u8) -> Result<Option<usize>, PatternError> {
        let l = digit.wrapping_sub(b'1') as usize;
        if digit < b'1' || l >= self.level || self.caps[l].1 == CAP_UNFINISHED {
            return Err(PatternError::InvalidCaptureIndex(digit));
        }
        let (init, len) = self.caps[l];
        if len < 0 {
            return Ok(None);
        }
        let len = len as usize;
        self.steps(len / 64)?;
        if self.src.len() - s >= len && self.src[init..init + len] == self.src[s..s + len] {
            Ok(Some(s + len))
        } else {
            Ok(None)
        }
    }
}

/// Splits a leading `^` anchor off a pattern.
fn split_anchor(pat: &[u8]) -> (bool, &[u8]) {
    match pat.split_first() {
        Some((b'^', rest)) => (true, rest),
        _ => (false, pat),
    }
}

/// Shared body of `string.find` / `string.match` (C's `str_find_aux`); `init` is Lua's raw
/// argument (default 1). With `find` set, a plain search is done when `plain` or when the
/// pattern has no specials; the result then has no captures. The work is told to `budget`
/// (a plain search counts one step per 64 bytes searched).
pub fn find_aux(
    src: &[u8],
    pat: &[u8],
    init: i64,
    plain: bool,
    find: bool,
    budget: Budget<'_>,
) -> Result<Option<Match>, PatternError> {
    let init = posrelat_init(init, src.len()) - 1;
    if init > src.len() {
        return Ok(None);
    }
    if find && (plain || no_specials(pat)) {
        let r = memfind(&src[init..], pat);
        let searched = r.map_or(src.len() - init, |i| i + pat.len());
        if !budget(searched / 64 + 1) {
            return Err(PatternError::Stopped);
        }
        return Ok(r.map(|i| Match::plain(init + i, init + i + pat.len())));
    }
    let (anchor, pat) = split_anchor(pat);
    let mut m = Matcher::with_budget(src, pat, budget);
    let mut s = init;
    let r = loop {
        if let Some(r) = m.match_at(s)? {
            break Some(r);
        }
        s += 1;
        if s > src.len() || anchor {
            break None;
        }
    };
    m.flush()?;
    Ok(r)
}

/// `string.find(s, pat, init, plain)`: returns `start+1`, `end`, then captures `0..level()`.
pub fn find(src: &[u8], pat: &[u8], init: i64, plain: bool) -> Result<Option<Match>, PatternError> {
    find_aux(src, pat, init, plain, true, &mut |_| true)
}

/// `string.match(s, pat, init)`: returns captures `0..value_count()`.
pub fn str_match(src: &[u8], pat: &[u8], init: i64) -> Result<Option<Match>, PatternError> {
    find_aux(src, pat, init, false, false, &mut |_| true)
}

/// Iteration state of `string.gmatch` (kept by the library between calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GMatchState {
    pos: usize,
    lastmatch: Option<usize>,
}

impl GMatchState {
    /// Starts an iteration; `init` is Lua's raw third argument (default 1).
    pub fn new(src_len: usize, init: i64) -> GMatchState {
        let mut pos = posrelat_init(init, src_len) - 1;
        if pos > src_len {
            pos = src_len + 1;
        }
        GMatchState {
            pos,
            lastmatch: None,
        }
    }

    /// Next match (values `0..value_count()`), or `None` when exhausted. `src` and `pat`
    /// must be the same on every call; `^` is not an anchor in `gmatch`.
    pub fn next(&mut self, src: &[u8], pat: &[u8]) -> Result<Option<Match>, PatternError> {
        self.next_with(src, pat, &mut |_| true)
    }

    /// [`GMatchState::next`] telling its work to `budget`.
    pub fn next_with(
        &mut self,
        src: &[u8],
        pat: &[u8],
        budget: Budget<'_>,
    ) -> Result<Option<Match>, PatternError> {
        let mut m = Matcher::with_budget(src, pat, budget);
        let mut s = self.pos;
        while s <= src.len() {
            if let Some(r) = m.match_at(s)? {
                if Some(r.end) != self.lastmatch {
                    self.pos = r.end;
                    self.lastmatch = Some(r.end);
                    m.flush()?;
                    return Ok(Some(r));
                }
            }
            s += 1;
        }
        self.pos = s;
        m.flush()?;
        Ok(None)
    }
}

/// What a `gsub` callback wants in place of a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replacement {
    /// Keep the original matched text (the function/table gave `nil` or `false`).
    Keep,
    /// Replace the match by these bytes.
    Bytes(Vec<u8>),
}

/// Appends the expansion of a string replacement (`%0`-`%9`, `%%`) for match `m` to `out`.
pub fn expand_replacement(
    src: &[u8],
    repl: &[u8],
    m: &Match,
    out: &mut Vec<u8>,
) -> Result<(), PatternError> {
    let mut i = 0;
    while let Some(off) = repl[i..].iter().position(|&c| c == L_ESC) {
        out.extend_from_slice(&repl[i..i + off]);
        let p = i + off + 1;
        match repl.get(p).copied() {
            Some(L_ESC) => out.push(L_ESC),
            Some(b'0') => out.extend_from_slice(&src[m.start..m.end]),
            Some(d) if d.is_ascii_digit() => m.push_capture(src, (d - b'1') as usize, out)?,
            _ => return Err(PatternError::InvalidPercentInReplacement),
        }
        i = p + 1;
    }
    out.extend_from_slice(&repl[i..]);
    Ok(())
}

/// `string.gsub` driven by a callback that appends each match's replacement to the output
/// buffer (`out` already holds everything before the match). `max_n` is Lua's raw fourth
/// argument (`None` = unlimited). Returns the new bytes and the number of matches. The work
/// is told to `budget`, the replacements' bytes counting one step per 64.
pub fn gsub_with<E, F>(
    src: &[u8],
    pat: &[u8],
    max_n: Option<i64>,
    budget: Budget<'_>,
    mut repl: F,
) -> Result<(Vec<u8>, usize), E>
where
    E: From<PatternError>,
    F: FnMut(&Match, &mut Vec<u8>) -> Result<(), E>,
{
    let (anchor, pat) = split_anchor(pat);
    let max_s = max_n.unwrap_or(src.len() as i64 + 1);
    let mut m = Matcher::with_budget(src, pat, budget);
    let mut out = Vec::with_capacity(src.len());
    let mut s = 0;
    let mut lastmatch = None;
    let mut n: i64 = 0;
    while n < max_s {
        match m.match_at(s)? {
            Some(r) if Some(r.end) != lastmatch => {
                n += 1;
                let before = out.len();
                repl(&r, &mut out)?;
                m.steps((out.len() - before) / 64)?;
                s = r.end;
                lastmatch = Some(r.end);
            }
            _ if s < src.len() => {
                out.push(src[s]);
                s += 1;
            }
            _ => break,
        }
        if anchor {
            break;
        }
    }
    out.extend_from_slice(&src[s..]);
    m.flush()?;
    Ok((out, n as usize))
}

/// `string.gsub` with a callback returning a [`Replacement`] (function or table values).
pub fn gsub<E, F>(
    src: &[u8],
    pat: &[u8],
    max_n: Option<i64>,
    mut repl: F,
) -> Result<(Vec<u8>, usize), E>
where
    E: From<PatternError>,
    F: FnMut(&Match) -> Result<Replacement, E>,
{
    gsub_with(
        src,
        pat,
        max_n,
        &mut |_| true,
        |m: &Match, out: &mut Vec<u8>| {
            match repl(m)? {
                Replacement::Keep => out.extend_from_slice(&src[m.start..m.end]),
                Replacement::Bytes(b) => out.extend_from_slice(&b),
            }
            Ok(())
        },
    )
}

/// `string.gsub` with a string replacement (handles `%0`-`%9` and `%%`).
pub fn gsub_str(
    src: &[u8],
    pat: &[u8],
    repl: &[u8],
    max_n: Option<i64>,
) -> Result<(Vec<u8>, usize), PatternError> {
    gsub_with(
        src,
        pat,
        max_n,
        &mut |_| true,
        |m: &Match, out: &mut Vec<u8>| expand_replacement(src, repl, m, out),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fm(s: &str, p: &str) -> Option<(usize, usize)> {
        find(s.as_bytes(), p.as_bytes(), 1, false)
            .unwrap()
            .map(|m| (m.start + 1, m.end))
    }

    fn mt(s: &str, p: &str) -> Result<Option<Vec<String>>, String> {
        match str_match(s.as_bytes(), p.as_bytes(), 1) {
            Err(e) => Err(e.to_string()),
            Ok(None) => Ok(None),
            Ok(Some(m)) => {
                let mut v = Vec::new();
                for i in 0..m.value_count() {
                    let mut out = Vec::new();
                    m.push_capture(s.as_bytes(), i, &mut out)
                        .map_err(|e| e.to_string())?;
                    v.push(String::from_utf8_lossy(&out).into_owned());
                }
                Ok(Some(v))
            }
        }
    }

    #[test]
    fn basics() {
        assert_eq!(fm("hello world", "o w"), Some((5, 7)));
        assert_eq!(fm("hello", "l+"), Some((3, 4)));
        assert_eq!(fm("hello", "^h"), Some((1, 1)));
        assert_eq!(fm("hello", "^e"), None);
        assert_eq!(fm("hello", "o$"), Some((5, 5)));
        assert_eq!(fm("", ""), Some((1, 0)));
        assert_eq!(
            mt("key = val", "(%w+)%s*=%s*(%w+)").unwrap(),
            Some(vec!["key".into(), "val".into()])
        );
        assert_eq!(
            mt("THE (quick) fox", "%b()").unwrap(),
            Some(vec!["(quick)".into()])
        );
        assert_eq!(
            mt("THE (quick) fox", "%f[%a]%a+").unwrap(),
            Some(vec!["THE".into()])
        );
        assert_eq!(mt("abcabc", "(abc)%1").unwrap(), Some(vec!["abc".into()]));
        assert_eq!(
            mt("abc", "()b()").unwrap(),
            Some(vec!["2".into(), "3".into()])
        );
        assert_eq!(mt("a-b", "[%-]").unwrap(), Some(vec!["-".into()]));
        assert_eq!(mt("x]", "[]]").unwrap(), Some(vec!["]".into()]));
        assert_eq!(
            mt("abc", "%").unwrap_err(),
            "malformed pattern (ends with '%')"
        );
        assert_eq!(
            mt("abc", "[a").unwrap_err(),
            "malformed pattern (missing ']')"
        );
        assert_eq!(mt("abc", "(a").unwrap_err(), "unfinished capture");
        assert_eq!(mt("abc", "a)").unwrap_err(), "invalid pattern capture");
        assert_eq!(mt("abc", "%1").unwrap_err(), "invalid capture index %1");
    }

    #[test]
    fn gsub_and_gmatch() {
        let (r, n) = gsub_str(b"hello world", b"(o)", b"[%1%%]", None).unwrap();
        assert_eq!((r.as_slice(), n), (&b"hell[o%] w[o%]rld"[..], 2));
        let (r, n) = gsub_str(b"abc", b"", b"-", None).unwrap();
        assert_eq!((r.as_slice(), n), (&b"-a-b-c-"[..], 4));
        let (r, n) = gsub_str(b"abc", b"%w", b"%0%0", Some(2)).unwrap();
        assert_eq!((r.as_slice(), n), (&b"aabbc"[..], 2));
        assert_eq!(
            gsub_str(b"abc", b"a", b"%2", None).unwrap_err(),
            PatternError::InvalidReplacementIndex(2)
        );
        let mut st = GMatchState::new(3, 1);
        let mut seen = Vec::new();
        while let Some(m) = st.next(b"abc", b"a*").unwrap() {
            seen.push((m.start, m.end));
        }
        assert_eq!(seen, vec![(0, 1), (2, 2), (3, 3)]);
    }

    #[test]
    fn pathological() {
        let mut pat = "a?".repeat(16);
        pat.push_str(&"a".repeat(16));
        assert_eq!(fm(&"a".repeat(16), &pat), Some((1, 16)));
        let deep = "(".repeat(300);
        assert_eq!(mt("x", &deep).unwrap_err(), "too many captures");
        let s = "a".repeat(300);
        let p = "a?".repeat(300);
        assert_eq!(mt(&s, &p).unwrap_err(), "pattern too complex");
        let nested = format!("{}{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(mt(&nested, "%b()").unwrap().is_some());
    }

    #[test]
    fn budget_counts_steps_and_stops_matching() {
        // All steps are reported, in batches, the same on every run.
        let s = "a".repeat(200);
        let total = |pat: &str| {
            let mut steps = Vec::new();
            let r = find_aux(s.as_bytes(), pat.as_bytes(), 1, false, true, &mut |n| {
                steps.push(n);
                true
            });
            assert!(matches!(r, Ok(None)));
            assert!(steps.iter().all(|&n| n > 0 && n <= BUDGET_STEPS as usize));
            steps.iter().sum::<usize>()
        };
        let backtracking = total(".-.-b");
        assert_eq!(backtracking, total(".-.-b"));
        // Cubic work: some 200^3 / 6 steps, against a linear scan's few hundred.
        assert!(backtracking > 1_000_000, "{backtracking}");
        assert!(total("b") < 1_000);
        // A budget that says stop ends the match at its next report.
        let mut reports = 0;
        let r = find_aux(s.as_bytes(), b".-.-.-b", 1, false, true, &mut |_| {
            reports += 1;
            reports < 3
        });
        assert!(matches!(r, Err(PatternError::Stopped)));
        assert_eq!(reports, 3);
        let mut reports = 0;
        let r = gsub_with::<PatternError, _>(
            s.as_bytes(),
            b"a-a-b",
            None,
            &mut |_| {
                reports += 1;
                false
            },
            |_, _| Ok(()),
        );
        assert_eq!(r, Err(PatternError::Stopped));
        assert_eq!(reports, 1);
    }

    #[test]
    fn fuzz_no_panic() {
        let alphabet = b"ab%()[]^$*+?.-0129fbBxXsSdD";
        let mut seed: u64 = 0x1234_5678_9abc_def0;
        let mut rnd = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..20_000 {
            let plen = rnd(12);
            let pat: Vec<u8> = (0..plen).map(|_| alphabet[rnd(alphabet.len())]).collect();
            let slen = rnd(16);
            let src: Vec<u8> = (0..slen).map(|_| b"ab()x0 \0"[rnd(8)]).collect();
            let init = rnd(40) as i64 - 20;
            let _ = find(&src, &pat, init, false);
            let _ = str_match(&src, &pat, init);
            let _ = gsub_str(&src, &pat, b"%0%1", None);
            let mut st = GMatchState::new(src.len(), init);
            for _ in 0..40 {
                match st.next(&src, &pat) {
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
        }
    }
}
