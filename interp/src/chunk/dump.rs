//! Writing a prototype as a binary chunk, byte for byte as PUC Lua 5.4's `ldump.c` does.

use crate::proto::{Constant, Proto, VarKind};
use crate::value::SHORT_STRING_MAX;

use super::{tag, ABS_LINE_INFO, DATA, FORMAT, LIM_LINE_DIFF, LUAC_INT, LUAC_NUM, MAX_IWTH_ABS};
use super::{SIGNATURE, VERSION};

/// Serializes a main function (`luaU_dump`); `strip` drops the debug information.
pub fn dump(p: &Proto, strip: bool) -> Vec<u8> {
    let mut d = Dumper {
        out: Vec::new(),
        strip,
    };
    d.header();
    d.byte(p.upvalues.len() as u8);
    d.function(p, None);
    d.out
}

/// The state of one dump (`DumpState`).
struct Dumper {
    out: Vec<u8>,
    strip: bool,
}

impl Dumper {
    fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    /// A `size_t` in the MSB-first 7-bit varint format, last byte marked by bit 7 (`dumpSize`).
    fn size(&mut self, mut x: u64) {
        let mut buf = [0u8; 10];
        let mut n = 0;
        loop {
            buf[buf.len() - 1 - n] = (x & 0x7f) as u8;
            n += 1;
            x >>= 7;
            if x == 0 {
                break;
            }
        }
        let last = buf.len() - 1;
        buf[last] |= 0x80;
        self.out.extend_from_slice(&buf[buf.len() - n..]);
    }

    fn int(&mut self, x: usize) {
        self.size(x as u64);
    }

    /// A nullable string: size+1 then the bytes, or size 0 for none (`dumpString`).
    fn string(&mut self, s: Option<&[u8]>) {
        match s {
            None => self.size(0),
            Some(s) => {
                self.size(s.len() as u64 + 1);
                self.out.extend_from_slice(s);
            }
        }
    }

    fn header(&mut self) {
        self.out.extend_from_slice(SIGNATURE);
        self.byte(VERSION);
        self.byte(FORMAT);
        self.out.extend_from_slice(DATA);
        self.byte(4); // sizeof(Instruction)
        self.byte(8); // sizeof(lua_Integer)
        self.byte(8); // sizeof(lua_Number)
        self.out.extend_from_slice(&LUAC_INT.to_le_bytes());
        self.out.extend_from_slice(&LUAC_NUM.to_le_bytes());
    }

    fn function(&mut self, p: &Proto, parent_source: Option<&[u8]>) {
        if self.strip || parent_source == Some(&p.source[..]) {
            self.string(None);
        } else {
            self.string(Some(&p.source));
        }
        self.int(p.line_defined as usize);
        self.int(p.last_line_defined as usize);
        self.byte(p.num_params);
        self.byte(p.is_vararg as u8);
        self.byte(p.max_stack_size);
        self.int(p.code.len());
        for i in &p.code {
            self.out.extend_from_slice(&i.0.to_le_bytes());
        }
        self.constants(p);
        self.upvalues(p);
        self.int(p.protos.len());
        for child in &p.protos {
            self.function(child, Some(&p.source));
        }
        self.debug(p);
    }

    fn constants(&mut self, p: &Proto) {
        self.int(p.constants.len());
        for k in &p.constants {
            match k {
                Constant::Nil => self.byte(tag::NIL),
                Constant::Boolean(false) => self.byte(tag::FALSE),
                Constant::Boolean(true) => self.byte(tag::TRUE),
                Constant::Integer(i) => {
                    self.byte(tag::INT);
                    self.out.extend_from_slice(&i.to_le_bytes());
                }
                Constant::Float(f) => {
                    self.byte(tag::FLOAT);
                    self.out.extend_from_slice(&f.to_le_bytes());
                }
                Constant::String(s) => {
                    let short = s.len() <= SHORT_STRING_MAX;
                    self.byte(if short { tag::SHORT_STR } else { tag::LONG_STR });
                    self.string(Some(s));
                }
            }
        }
    }

    fn upvalues(&mut self, p: &Proto) {
        self.int(p.upvalues.len());
        for u in &p.upvalues {
            self.byte(u.in_stack as u8);
            self.byte(u.index);
            self.byte(match u.kind {
                VarKind::Regular => 0,
                VarKind::Const => 1,
                VarKind::ToClose => 2,
                VarKind::CompileTimeConst => 3,
            });
        }
    }

    fn debug(&mut self, p: &Proto) {
        let (rel, abs) = if self.strip {
            (Vec::new(), Vec::new())
        } else {
            encode_lines(p)
        };
        self.int(rel.len());
        self.out.extend(rel.iter().map(|&d| d as u8));
        self.int(abs.len());
        for &(pc, line) in &abs {
            self.int(pc);
            self.int(line as usize);
        }
        let locals: &[_] = if self.strip { &[] } else { &p.local_vars };
        self.int(locals.len());
        for v in locals {
            self.string(Some(&v.name));
            self.int(v.start_pc as usize);
            self.int(v.end_pc as usize);
        }
        let names: &[_] = if self.strip { &[] } else { &p.upvalues };
        self.int(names.len());
        for u in names {
            self.string(u.name.as_deref());
        }
    }
}

/// Absolute lines to `lineinfo` deltas plus `abslineinfo` (pc, line) entries, as `lcode.c`'s
/// `savelineinfo` produces them.
fn encode_lines(p: &Proto) -> (Vec<i8>, Vec<(usize, u32)>) {
    let mut rel = Vec::with_capacity(p.line_info.len());
    let mut abs = Vec::new();
    let mut previous = p.line_defined as i64;
    let mut since_abs = 0u32;
    for (pc, &line) in p.line_info.iter().enumerate() {
        let diff = line as i64 - previous;
        if diff.abs() >= LIM_LINE_DIFF || since_abs >= MAX_IWTH_ABS {
            abs.push((pc, line));
            rel.push(ABS_LINE_INFO);
            since_abs = 1;
        } else {
            rel.push(diff as i8);
            since_abs += 1;
        }
        previous = line as i64;
    }
    (rel, abs)
}
