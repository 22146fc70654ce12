//! `string.pack`, `string.unpack` and `string.packsize` (manual §6.4.2), following `lstrlib.c`.
//!
//! Native layout of a 64-bit little-endian C: int 4, long 8, `lua_Integer` 8, `size_t` 8,
//! float 4, double 8, maximum alignment 8.

use std::borrow::Cow;
use std::fmt;

const MAXINTSIZE: usize = 16;
const SZINT: usize = 8;
const MAXALIGN: usize = 8;
const TWO63: f64 = 9_223_372_036_854_775_808.0;
/// C's `MAXSIZE` for pack formats (`INT_MAX` on a 64-bit machine).
const MAXSIZE: usize = i32::MAX as usize;

/// A pack/unpack error. With `arg` set, the library reports "bad argument #arg to 'f' (msg)";
/// without, the message is raised as is (C's `luaL_error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError {
    /// The 1-based Lua argument the error is about, if any.
    pub arg: Option<usize>,
    /// C Lua's message (bytes: an invalid option is shown as the byte it is).
    pub msg: Vec<u8>,
}

impl PackError {
    fn arg(arg: usize, msg: impl Into<String>) -> PackError {
        PackError {
            arg: Some(arg),
            msg: msg.into().into_bytes(),
        }
    }

    fn plain(msg: impl Into<Vec<u8>>) -> PackError {
        PackError {
            arg: None,
            msg: msg.into(),
        }
    }
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.msg))
    }
}

impl std::error::Error for PackError {}

/// The kind of Lua value an option of `string.pack` needs from its argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackKind {
    /// An integer (`luaL_checkinteger`).
    Int,
    /// A number (`luaL_checknumber`).
    Float,
    /// A string (`luaL_checklstring`, numbers converted).
    Str,
}

/// A value supplied to `string.pack` by the library's callback.
#[derive(Debug, Clone, PartialEq)]
pub enum PackArg<'a> {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A byte string.
    Str(Cow<'a, [u8]>),
}

/// A value produced by `string.unpack`.
#[derive(Debug, Clone, PartialEq)]
pub enum Unpacked {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A byte string.
    Str(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KOption {
    Int,
    Uint,
    Float,
    Number,
    Double,
    Char,
    String,
    Zstr,
    Padding,
    PaddAlign,
    Nop,
}

struct Header<'f> {
    fmt: &'f [u8],
    pos: usize,
    little: bool,
    maxalign: usize,
}

impl<'f> Header<'f> {
    fn new(fmt: &'f [u8]) -> Header<'f> {
        // C reads the format as a NUL-terminated string.
        let end = fmt.iter().position(|&c| c == 0).unwrap_or(fmt.len());
        Header {
            fmt: &fmt[..end],
            pos: 0,
            little: true,
            maxalign: 1,
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.fmt.len()
    }

    fn peek_digit(&self) -> bool {
        self.fmt.get(self.pos).is_some_and(u8::is_ascii_digit)
    }

    fn get_num(&mut self, df: usize) -> usize {
        if !self.peek_digit() {
            return df;
        }
        let mut a = 0usize;
        loop {
            a = a * 10 + (self.fmt[self.pos] - b'0') as usize;
            self.pos += 1;
            if !(self.peek_digit() && a <= (MAXSIZE - 9) / 10) {
                return a;
            }
        }
    }

    fn get_num_limit(&mut self, df: usize) -> Result<usize, PackError> {
        let sz = self.get_num(df);
        if sz > MAXINTSIZE || sz == 0 {
            return Err(PackError::plain(format!(
                "integral size ({sz}) out of limits [1,{MAXINTSIZE}]"
            )));
        }
        Ok(sz)
    }

    fn get_option(&mut self) -> Result<(KOption, usize), PackError> {
        let opt = self.fmt.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        let r = match opt {
            b'b' => (KOption::Int, 1),
            b'B' => (KOption::Uint, 1),
            b'h' => (KOption::Int, 2),
            b'H' => (KOption::Uint, 2),
            b'l' | b'j' => (KOption::Int, 8),
            b'L' | b'J' | b'T' => (KOption::Uint, 8),
            b'f' => (KOption::Float, 4),
            b'n' => (KOption::Number, 8),
            b'd' => (KOption::Double, 8),
            b'i' => (KOption::Int, self.get_num_limit(4)?),
            b'I' => (KOption::Uint, self.get_num_limit(4)?),
            b's' => (KOption::String, self.get_num_limit(8)?),
            b'c' => {
                if !self.peek_digit() {
                    return Err(PackError::plain("missing size for format option 'c'"));
                }
                (KOption::Char, self.get_num(0))
            }
            b'z' => (KOption::Zstr, 0),
            b'x' => (KOption::Padding, 1),
            b'X' => (KOption::PaddAlign, 0),
            b' ' => (KOption::Nop, 0),
            b'<' | b'=' => {
                self.little = true;
                (KOption::Nop, 0)
            }
            b'>' => {
                self.little = false;
                (KOption::Nop, 0)
            }
            b'!' => {
                self.maxalign = self.get_num_limit(MAXALIGN)?;
                (KOption::Nop, 0)
            }
            c => {
                let mut m = b"invalid format option '".to_vec();
                m.push(c);
                m.push(b'\'');
                return Err(PackError::plain(m));
            }
        };
        Ok(r)
    }

    /// Next option with its size and the padding needed before it at `total`.
    fn get_details(&mut self, total: usize) -> Result<(KOption, usize, usize), PackError> {
        let (opt, size) = self.get_option()?;
        let mut align = size;
        if opt == KOption::PaddAlign {
            let bad = if self.at_end() {
                true
            } else {
                let (next, a) = self.get_option()?;
                align = a;
                next == KOption::Char || align == 0
            };
            if bad {
                return Err(PackError::arg(1, "invalid next option for option 'X'"));
            }
        }
        let ntoalign = if align <= 1 || opt == KOption::Char {
            0
        } else {
            let align = align.min(self.maxalign);
            if !align.is_power_of_two() {
                return Err(PackError::arg(
                    1,
                    "format asks for alignment not power of 2",
                ));
            }
            (align - (total & (align - 1))) & (align - 1)
        };
        Ok((opt, size, ntoalign))
    }
}

fn pack_int(out: &mut Vec<u8>, mut n: u64, little: bool, size: usize, neg: bool) {
    let start = out.len();
    out.resize(start + size, 0);
    let buf = &mut out[start..];
    for i in 0..size {
        let b = if i < SZINT {
            let b = (n & 0xff) as u8;
            n >>= 8;
            b
        } else if neg {
            0xff
        } else {
            0
        };
        buf[if little { i } else { size - 1 - i }] = b;
    }
}

fn unpack_int(data: &[u8], little: bool, size: usize, signed: bool) -> Result<i64, PackError> {
    let byte = |i: usize| data[if little { i } else { size - 1 - i }];
    let limit = size.min(SZINT);
    let mut res: u64 = 0;
    for i in (0..limit).rev() {
        res = (res << 8) | byte(i) as u64;
    }
    if size < SZINT {
        if signed {
            let mask = 1u64 << (size * 8 - 1);
            res = (res ^ mask).wrapping_sub(mask);
        }
    } else if size > SZINT {
        let mask = if !signed || (res as i64) >= 0 {
            0
        } else {
            0xff
        };
        for i in limit..size {
            if byte(i) != mask {
                return Err(PackError::plain(format!(
                    "{size}-byte integer does not fit into Lua Integer"
                )));
            }
        }
    }
    Ok(res as i64)
}

fn arg_int(v: PackArg<'_>, arg: usize) -> Result<i64, PackError> {
    match v {
        PackArg::Int(i) => Ok(i),
        PackArg::Float(f) if f.fract() == 0.0 && (-TWO63..TWO63).contains(&f) => Ok(f as i64),
        PackArg::Float(_) => Err(PackError::arg(arg, "number has no integer representation")),
        PackArg::Str(_) => Err(PackError::arg(arg, "number expected, got string")),
    }
}

fn arg_float(v: PackArg<'_>, arg: usize) -> Result<f64, PackError> {
    match v {
        PackArg::Int(i) => Ok(i as f64),
        PackArg::Float(f) => Ok(f),
        PackArg::Str(_) => Err(PackError::arg(arg, "number expected, got string")),
    }
}

fn arg_str(v: PackArg<'_>) -> Cow<'_, [u8]> {
    match v {
        PackArg::Str(s) => s,
        PackArg::Int(i) => Cow::Owned(i.to_string().into_bytes()),
        PackArg::Float(f) => Cow::Owned(format!("{f:?}").into_bytes()),
    }
}

/// `string.pack(fmt, ...)`. `arg(n, kind)` supplies Lua argument `n` (1-based, the first
/// value is argument 2) converted to `kind`, raising its own type errors; it should return
/// the variant matching `kind`. `reserve(len)` is asked before the result grows to `len`
/// bytes from a size in the format (`c` pads its string to any size), and may refuse.
pub fn pack<'a, E, F, R>(fmt: &[u8], mut reserve: R, mut arg: F) -> Result<Vec<u8>, E>
where
    E: From<PackError>,
    F: FnMut(usize, PackKind) -> Result<PackArg<'a>, E>,
    R: FnMut(usize) -> Result<(), E>,
{
    let mut h = Header::new(fmt);
    let mut out = Vec::new();
    let mut argn = 1;
    while !h.at_end() {
        let (opt, size, ntoalign) = h.get_details(out.len())?;
        out.resize(out.len() + ntoalign, 0);
        argn += 1;
        match opt {
            KOption::Int => {
                let n = arg_int(arg(argn, PackKind::Int)?, argn)?;
                if size < SZINT {
                    let lim = 1i64 << (size * 8 - 1);
                    if !(-lim <= n && n < lim) {
                        return Err(PackError::arg(argn, "integer overflow").into());
                    }
                }
                pack_int(&mut out, n as u64, h.little, size, n < 0);
            }
            KOption::Uint => {
                let n = arg_int(arg(argn, PackKind::Int)?, argn)?;
                if size < SZINT && (n as u64) >= (1u64 << (size * 8)) {
                    return Err(PackError::arg(argn, "unsigned overflow").into());
                }
                pack_int(&mut out, n as u64, h.little, size, false);
            }
            KOption::Float => {
                let f = arg_float(arg(argn, PackKind::Float)?, argn)? as f32;
                let b = if h.little {
                    f.to_le_bytes()
                } else {
                    f.to_be_bytes()
                };
                out.extend_from_slice(&b);
            }
            KOption::Number | KOption::Double => {
                let f = arg_float(arg(argn, PackKind::Float)?, argn)?;
                let b = if h.little {
                    f.to_le_bytes()
                } else {
                    f.to_be_bytes()
                };
                out.extend_from_slice(&b);
            }
            KOption::Char => {
                let s = arg_str(arg(argn, PackKind::Str)?);
                if s.len() > size {
                    return Err(PackError::arg(argn, "string longer than given size").into());
                }
                reserve(out.len() + size)?;
                out.extend_from_slice(&s);
                out.resize(out.len() + (size - s.len()), 0);
            }
            KOption::String => {
                let s = arg_str(arg(argn, PackKind::Str)?);
                if size < 8 && (s.len() as u64) >= (1u64 << (size * 8)) {
                    return Err(
                        PackError::arg(argn, "string length does not fit in given size").into(),
                    );
                }
                pack_int(&mut out, s.len() as u64, h.little, size, false);
                out.extend_from_slice(&s);
            }
            KOption::Zstr => {
                let s = arg_str(arg(argn, PackKind::Str)?);
                if s.contains(&0) {
                    return Err(PackError::arg(argn, "string contains zeros").into());
                }
                out.extend_from_slice(&s);
                out.push(0);
            }
            KOption::Padding => {
                out.push(0);
                argn -= 1;
            }
            KOption::PaddAlign | KOption::Nop => argn -= 1,
        }
    }
    Ok(out)
}

/// `string.packsize(fmt)`.
pub fn packsize(fmt: &[u8]) -> Result<usize, PackError> {
    let mut h = Header::new(fmt);
    let mut total = 0usize;
    while !h.at_end() {
        let (opt, size, ntoalign) = h.get_details(total)?;
        if opt == KOption::String || opt == KOption::Zstr {
            return Err(PackError::arg(1, "variable-length format"));
        }
        let size = size + ntoalign;
        if total > MAXSIZE - size.min(MAXSIZE) {
            return Err(PackError::arg(1, "format result too large"));
        }
        total += size;
    }
    Ok(total)
}

/// `string.unpack(fmt, data, init)`; `init` is Lua's raw third argument (default 1).
/// Returns the values and the 1-based position after the last byte read.
pub fn unpack(fmt: &[u8], data: &[u8], init: i64) -> Result<(Vec<Unpacked>, usize), PackError> {
    let ld = data.len();
    let mut pos = super::pattern::posrelat_init(init, ld) - 1;
    if pos > ld {
        return Err(PackError::arg(3, "initial position out of string"));
    }
    let mut h = Header::new(fmt);
    let mut vals = Vec::new();
    while !h.at_end() {
        let (opt, size, ntoalign) = h.get_details(pos)?;
        if ntoalign + size > ld - pos {
            return Err(PackError::arg(2, "data string too short"));
        }
        pos += ntoalign;
        let here = &data[pos..];
        match opt {
            KOption::Int | KOption::Uint => {
                vals.push(Unpacked::Int(unpack_int(
                    here,
                    h.little,
                    size,
                    opt == KOption::Int,
                )?));
            }
            KOption::Float => {
                let b: [u8; 4] = [here[0], here[1], here[2], here[3]];
                let f = if h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                vals.push(Unpacked::Float(f as f64));
            }
            KOption::Number | KOption::Double => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&here[..8]);
                let f = if h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                vals.push(Unpacked::Float(f));
            }
            KOption::Char => vals.push(Unpacked::Str(here[..size].to_vec())),
            KOption::String => {
                let len = unpack_int(here, h.little, size, false)? as u64;
                if len > (ld - pos - size) as u64 {
                    return Err(PackError::arg(2, "data string too short"));
                }
                let len = len as usize;
                vals.push(Unpacked::Str(here[size..size + len].to_vec()));
                pos += len;
            }
            KOption::Zstr => {
                let len = here.iter().position(|&c| c == 0).unwrap_or(here.len());
                if pos + len >= ld {
                    return Err(PackError::arg(2, "unfinished string for format 'z'"));
                }
                vals.push(Unpacked::Str(here[..len].to_vec()));
                pos += len + 1;
            }
            KOption::PaddAlign | KOption::Padding | KOption::Nop => {}
        }
        pos += size;
    }
    Ok((vals, pos + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(fmt: &str, args: Vec<PackArg<'static>>) -> Result<Vec<u8>, PackError> {
        pack(
            fmt.as_bytes(),
            |_| Ok(()),
            |n, _k| {
                args.get(n - 2)
                    .cloned()
                    .ok_or_else(|| PackError::arg(n, "number expected, got no value"))
            },
        )
    }

    #[test]
    fn round_trips() {
        let b = p("<i4", vec![PackArg::Int(-2)]).unwrap();
        assert_eq!(b, vec![0xfe, 0xff, 0xff, 0xff]);
        assert_eq!(unpack(b"<i4", &b, 1).unwrap(), (vec![Unpacked::Int(-2)], 5));
        let b = p(">I3", vec![PackArg::Int(0x010203)]).unwrap();
        assert_eq!(b, vec![1, 2, 3]);
        let b = p("i16", vec![PackArg::Int(-1)]).unwrap();
        assert_eq!(b, vec![0xff; 16]);
        assert_eq!(unpack(b"i16", &b, 1).unwrap().0, vec![Unpacked::Int(-1)]);
        let b = p("!8 b d", vec![PackArg::Int(1), PackArg::Float(1.5)]).unwrap();
        assert_eq!(b.len(), 16);
        let b = p(
            "s1z",
            vec![
                PackArg::Str(Cow::Borrowed(b"hi")),
                PackArg::Str(Cow::Borrowed(b"yo")),
            ],
        )
        .unwrap();
        assert_eq!(b, b"\x02hiyo\0");
        assert_eq!(packsize(b"!i1i8").unwrap(), 16);
        assert_eq!(packsize(b"i3Xi8").unwrap(), 3);
        assert_eq!(packsize(b"!i2Xi8").unwrap(), 8);
    }

    #[test]
    fn errors() {
        assert_eq!(
            packsize(b"i17").unwrap_err().to_string(),
            "integral size (17) out of limits [1,16]"
        );
        assert_eq!(
            packsize(b"s").unwrap_err(),
            PackError::arg(1, "variable-length format")
        );
        assert_eq!(
            packsize(b"!3i").unwrap_err().to_string(),
            "format asks for alignment not power of 2"
        );
        assert_eq!(
            p("i1", vec![PackArg::Int(1000)]).unwrap_err(),
            PackError::arg(2, "integer overflow")
        );
        assert_eq!(
            unpack(b"i4", b"ab", 1).unwrap_err(),
            PackError::arg(2, "data string too short")
        );
        assert_eq!(unpack(b"i4", b"ab", 10).unwrap_err().arg, Some(3));
        assert_eq!(
            unpack(b"z", b"abc", 1).unwrap_err().to_string(),
            "unfinished string for format 'z'"
        );
        assert_eq!(
            unpack(b"i9", b"\xff\xff\xff\xff\xff\xff\xff\xff\x01", 1)
                .unwrap_err()
                .to_string(),
            "9-byte integer does not fit into Lua Integer"
        );
        assert_eq!(
            packsize(b"Xz").unwrap_err().to_string(),
            "invalid next option for option 'X'"
        );
        assert_eq!(
            packsize(b"y").unwrap_err().to_string(),
            "invalid format option 'y'"
        );
    }

    #[test]
    fn fuzz_no_panic() {
        let alphabet = b"<>=! bBhHlLjJTiIfdnszxXc0123456789";
        let mut seed: u64 = 0xdead_beef_cafe_f00d;
        let mut rnd = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..20_000 {
            let flen = rnd(8);
            let fmt: Vec<u8> = (0..flen).map(|_| alphabet[rnd(alphabet.len())]).collect();
            let dlen = rnd(40);
            let data: Vec<u8> = (0..dlen).map(|_| rnd(256) as u8).collect();
            let _ = packsize(&fmt);
            let _ = unpack(&fmt, &data, rnd(50) as i64 - 25);
            let _ = pack(
                &fmt,
                |_| Ok(()),
                |_, k| -> Result<PackArg<'static>, PackError> {
                    Ok(match k {
                        PackKind::Int => PackArg::Int(rnd(1000) as i64 - 500),
                        PackKind::Float => PackArg::Float(0.5),
                        PackKind::Str => PackArg::Str(Cow::Borrowed(b"abc")),
                    })
                },
            );
        }
    }
}
