//! Reading a binary chunk into a prototype, as PUC Lua 5.4's `lundump.c` does, then
//! verifying it: the bytes are untrusted, so every count is checked against the input left
//! and every loaded prototype against the VM's invariants.

use std::rc::Rc;

use crate::opcode::Instruction;
use crate::proto::{Constant, LocalVar, Proto, UpvalueDesc, VarKind, VerifiedProto};

use super::{tag, DATA, FORMAT, LUAC_INT, LUAC_NUM, SIGNATURE, VERSION};

/// Deepest nesting of functions in a chunk (the parser's limit, `LUAI_MAXCCALLS`).
const MAX_DEPTH: usize = 200;

/// A read error: the `why` of `"%s: bad binary format (%s)"`.
type Why = String;

/// Loads a binary chunk (`luaU_undump`) and verifies it. `chunk_name` is what `load` got;
/// errors are C Lua's complete messages, e.g. `binary string: bad binary format (truncated
/// chunk)`.
pub fn undump(chunk: &[u8], chunk_name: &[u8]) -> Result<VerifiedProto, Vec<u8>> {
    let mut s = LoadState { b: chunk, p: 0 };
    let main = s
        .header()
        .and_then(|()| s.byte())
        .and_then(|_nupvalues| s.function(None, 0))
        .and_then(|p| super::verify(&p).map(|()| VerifiedProto::verified(p)));
    main.map_err(|why| {
        let mut m = display_name(chunk_name).to_vec();
        m.extend_from_slice(b": bad binary format (");
        m.extend_from_slice(why.as_bytes());
        m.push(b')');
        m
    })
}

/// The chunk name as `luaU_undump` shows it: without a `=` or `@` prefix, `binary string` for
/// a chunk named after itself, cut at a zero byte (it is a C string there).
fn display_name(name: &[u8]) -> &[u8] {
    let name = &name[..name.iter().position(|&c| c == 0).unwrap_or(name.len())];
    match name.first() {
        Some(b'@' | b'=') => &name[1..],
        Some(&c) if c == SIGNATURE[0] => b"binary string",
        _ => name,
    }
}

/// The input and the read position (`LoadState` over a `ZIO`).
struct LoadState<'a> {
    b: &'a [u8],
    p: usize,
}

fn truncated<T>() -> Result<T, Why> {
    Err("truncated chunk".into())
}

impl<'a> LoadState<'a> {
    fn left(&self) -> usize {
        self.b.len() - self.p
    }

    fn block(&mut self, n: usize) -> Result<&'a [u8], Why> {
        if n > self.left() {
            return truncated();
        }
        let v = &self.b[self.p..self.p + n];
        self.p += n;
        Ok(v)
    }

    fn byte(&mut self) -> Result<u8, Why> {
        Ok(self.block(1)?[0])
    }

    /// A varint no larger than `limit` (`loadUnsigned`).
    fn unsigned(&mut self, limit: u64) -> Result<u64, Why> {
        let limit = limit >> 7;
        let mut x = 0u64;
        loop {
            let b = self.byte()?;
            if x >= limit {
                return Err("integer overflow".into());
            }
            x = (x << 7) | (b & 0x7f) as u64;
            if b & 0x80 != 0 {
                return Ok(x);
            }
        }
    }

    fn size(&mut self) -> Result<u64, Why> {
        self.unsigned(u64::MAX)
    }

    fn int(&mut self) -> Result<u32, Why> {
        Ok(self.unsigned(i32::MAX as u64)? as u32)
    }

    /// A count of items that take at least `item_size` bytes each: more than the input holds
    /// is a truncated chunk (checked before anything is allocated).
    fn count(&mut self, item_size: usize) -> Result<usize, Why> {
        let n = self.int()? as usize;
        if n.saturating_mul(item_size) > self.left() {
            return truncated();
        }
        Ok(n)
    }

    fn i64(&mut self) -> Result<i64, Why> {
        Ok(i64::from_le_bytes(self.block(8)?.try_into().unwrap()))
    }

    fn f64(&mut self) -> Result<f64, Why> {
        Ok(f64::from_le_bytes(self.block(8)?.try_into().unwrap()))
    }

    /// A nullable string (`loadStringN`).
    fn string_n(&mut self) -> Result<Option<&'a [u8]>, Why> {
        match self.size()? {
            0 => Ok(None),
            n => {
                let n = usize::try_from(n - 1).or_else(|_| truncated())?;
                self.block(n).map(Some)
            }
        }
    }

    fn literal(&mut self, s: &[u8], why: &str) -> Result<(), Why> {
        if self.block(s.len())? != s {
            return Err(why.into());
        }
        Ok(())
    }

    fn check_size(&mut self, size: u8, name: &str) -> Result<(), Why> {
        if self.byte()? != size {
            return Err(format!("{name} size mismatch"));
        }
        Ok(())
    }

    /// The header after the first byte (`checkHeader`).
    fn header(&mut self) -> Result<(), Why> {
        self.block(1)?;
        self.literal(&SIGNATURE[1..], "not a binary chunk")?;
        if self.byte()? != VERSION {
            return Err("version mismatch".into());
        }
        if self.byte()? != FORMAT {
            return Err("format mismatch".into());
        }
        self.literal(DATA, "corrupted chunk")?;
        self.check_size(4, "Instruction")?;
        self.check_size(8, "lua_Integer")?;
        self.check_size(8, "lua_Number")?;
        if self.i64()? != LUAC_INT {
            return Err("integer format mismatch".into());
        }
        if self.f64()? != LUAC_NUM {
            return Err("float format mismatch".into());
        }
        Ok(())
    }

    /// One function and its nested functions (`loadFunction`).
    fn function(&mut self, parent_source: Option<&Rc<[u8]>>, depth: usize) -> Result<Proto, Why> {
        if depth >= MAX_DEPTH {
            return Err("too many nested functions".into());
        }
        let source: Rc<[u8]> = match self.string_n()? {
            Some(s) => s.into(),
            None => parent_source
                .cloned()
                .unwrap_or_else(|| Rc::from(&b"=?"[..])),
        };
        let line_defined = self.int()?;
        let last_line_defined = self.int()?;
        let num_params = self.byte()?;
        let is_vararg = self.byte()? != 0;
        let max_stack_size = self.byte()?;
        let code = self.code()?;
        let constants = self.constants()?;
        let mut upvalues = self.upvalues()?;
        let n = self.count(1)?;
        let mut protos = Vec::with_capacity(n);
        for _ in 0..n {
            protos.push(Rc::new(self.function(Some(&source), depth + 1)?));
        }
        let mut p = Proto {
            source,
            line_defined,
            last_line_defined,
            num_params,
            is_vararg,
            max_stack_size,
            code,
            line_info: Vec::new(),
            constants,
            upvalues: Vec::new(),
            protos,
            local_vars: Vec::new(),
        };
        self.debug(&mut p, &mut upvalues)?;
        p.upvalues = upvalues;
        Ok(p)
    }

    fn code(&mut self) -> Result<Vec<Instruction>, Why> {
        let n = self.count(4)?;
        let bytes = self.block(n * 4)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|w| Instruction(u32::from_le_bytes(w.try_into().unwrap())))
            .collect())
    }

    fn constants(&mut self) -> Result<Vec<Constant>, Why> {
        let n = self.count(1)?;
        let mut k = Vec::with_capacity(n);
        for _ in 0..n {
            k.push(match self.byte()? {
                tag::NIL => Constant::Nil,
                tag::FALSE => Constant::Boolean(false),
                tag::TRUE => Constant::Boolean(true),
                tag::FLOAT => Constant::Float(self.f64()?),
                tag::INT => Constant::Integer(self.i64()?),
                tag::SHORT_STR | tag::LONG_STR => match self.string_n()? {
                    Some(s) => Constant::String(s.into()),
                    None => return Err("bad format for constant string".into()),
                },
                _ => return Err("bad constant type".into()),
            });
        }
        Ok(k)
    }

    fn upvalues(&mut self) -> Result<Vec<UpvalueDesc>, Why> {
        let n = self.count(3)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let in_stack = self.byte()? != 0;
            let index = self.byte()?;
            let kind = match self.byte()? {
                1 => VarKind::Const,
                2 => VarKind::ToClose,
                3 => VarKind::CompileTimeConst,
                _ => VarKind::Regular,
            };
            v.push(UpvalueDesc {
                name: None,
                in_stack,
                index,
                kind,
            });
        }
        Ok(v)
    }

    /// Line information, local variables and upvalue names (`loadDebug`).
    fn debug(&mut self, p: &mut Proto, upvalues: &mut [UpvalueDesc]) -> Result<(), Why> {
        let n = self.count(1)?;
        let rel = self.block(n)?;
        if n != 0 && n != p.code.len() {
            return Err("corrupted chunk".into());
        }
        let n = self.count(2)?;
        let mut abs = Vec::with_capacity(n);
        for _ in 0..n {
            abs.push((self.int()? as usize, self.int()?));
        }
        p.line_info = decode_lines(rel, &abs, p.line_defined);
        let n = self.count(3)?;
        let mut locals = Vec::with_capacity(n);
        for _ in 0..n {
            locals.push(LocalVar {
                name: self.string_n()?.unwrap_or_default().into(),
                start_pc: self.int()?,
                end_pc: self.int()?,
            });
        }
        p.local_vars = locals;
        // Upvalue names: none, or one per upvalue whatever the count says.
        if self.int()? != 0 {
            for u in upvalues.iter_mut() {
                u.name = self.string_n()?.map(Into::into);
            }
        }
        Ok(())
    }
}

/// The absolute line of each instruction from `lineinfo` deltas and `abslineinfo` entries,
/// as `luaG_getfuncline` computes them (empty when the chunk was stripped).
fn decode_lines(rel: &[u8], abs: &[(usize, u32)], line_defined: u32) -> Vec<u32> {
    let mut lines = Vec::with_capacity(rel.len());
    let mut line = line_defined as i64;
    let mut next_abs = 0;
    for (pc, &d) in rel.iter().enumerate() {
        if next_abs < abs.len() && abs[next_abs].0 <= pc {
            while next_abs + 1 < abs.len() && abs[next_abs + 1].0 <= pc {
                next_abs += 1;
            }
            line = abs[next_abs].1 as i64;
            next_abs += 1;
        } else {
            line += d as i8 as i64;
        }
        lines.push(line.clamp(0, u32::MAX as i64) as u32);
    }
    lines
}
