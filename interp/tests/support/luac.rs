//! Test support: reads the binary chunks of Debian's `luac5.4` into our `Proto`, so the VM can
//! be tested against C Lua's own compiler output (our bytecode is Lua 5.4's).

use std::rc::Rc;

use interp::opcode::Instruction;
use interp::proto::{Constant, LocalVar, Proto, UpvalueDesc, VarKind};

struct Reader<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        let v = self.b[self.p];
        self.p += 1;
        v
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let v = &self.b[self.p..self.p + n];
        self.p += n;
        v
    }
    fn size(&mut self) -> usize {
        let mut x = 0usize;
        loop {
            let b = self.byte();
            x = (x << 7) | (b & 0x7f) as usize;
            if b & 0x80 != 0 {
                return x;
            }
        }
    }
    fn string(&mut self) -> Option<Vec<u8>> {
        let n = self.size();
        if n == 0 {
            None
        } else {
            Some(self.bytes(n - 1).to_vec())
        }
    }
    fn function(&mut self, parent_source: Option<Rc<[u8]>>) -> Proto {
        let source: Rc<[u8]> = match self.string() {
            Some(s) => s.into(),
            None => parent_source.unwrap_or_else(|| Rc::from(&b"=?"[..])),
        };
        let line_defined = self.size() as u32;
        let last_line_defined = self.size() as u32;
        let num_params = self.byte();
        let is_vararg = self.byte() != 0;
        let max_stack_size = self.byte();
        let n = self.size();
        let code: Vec<Instruction> = (0..n)
            .map(|_| Instruction(u32::from_le_bytes(self.bytes(4).try_into().unwrap())))
            .collect();
        let n = self.size();
        let constants = (0..n)
            .map(|_| match self.byte() {
                0 => Constant::Nil,
                1 => Constant::Boolean(false),
                17 => Constant::Boolean(true),
                3 => Constant::Integer(i64::from_le_bytes(self.bytes(8).try_into().unwrap())),
                19 => Constant::Float(f64::from_le_bytes(self.bytes(8).try_into().unwrap())),
                4 | 20 => Constant::String(self.string().unwrap_or_default().into()),
                t => panic!("bad constant tag {t}"),
            })
            .collect();
        let n = self.size();
        let mut upvalues: Vec<UpvalueDesc> = (0..n)
            .map(|_| {
                let in_stack = self.byte() != 0;
                let index = self.byte();
                let kind = match self.byte() {
                    1 => VarKind::Const,
                    2 => VarKind::ToClose,
                    3 => VarKind::CompileTimeConst,
                    _ => VarKind::Regular,
                };
                UpvalueDesc {
                    name: None,
                    in_stack,
                    index,
                    kind,
                }
            })
            .collect();
        let n = self.size();
        let protos = (0..n)
            .map(|_| Rc::new(self.function(Some(source.clone()))))
            .collect();
        // Debug information.
        let n = self.size();
        let rel: Vec<i8> = self.bytes(n).iter().map(|&b| b as i8).collect();
        let n = self.size();
        let abs: Vec<(usize, u32)> = (0..n).map(|_| (self.size(), self.size() as u32)).collect();
        let mut line_info = Vec::with_capacity(code.len());
        let mut line = line_defined;
        for (pc, &d) in rel.iter().enumerate() {
            if d == -0x80 {
                line = abs.iter().find(|e| e.0 == pc).map(|e| e.1).unwrap_or(line);
            } else {
                line = (line as i64 + d as i64) as u32;
            }
            line_info.push(line);
        }
        line_info.resize(code.len(), line);
        let n = self.size();
        let local_vars = (0..n)
            .map(|_| LocalVar {
                name: self.string().unwrap_or_default().into(),
                start_pc: self.size() as u32,
                end_pc: self.size() as u32,
            })
            .collect();
        let n = self.size();
        for u in upvalues.iter_mut().take(n) {
            u.name = self.string().map(|s| s.into());
        }
        Proto {
            source,
            line_defined,
            last_line_defined,
            num_params,
            is_vararg,
            max_stack_size,
            code,
            line_info,
            constants,
            upvalues,
            protos,
            local_vars,
        }
    }
}

/// Compiles `source` with `luac5.4` (as chunk `chunk_name`) and reads the result; `None` if
/// luac5.4 is not installed.
pub fn compile_with_luac(source: &str, chunk_name: &str) -> Option<Result<Proto, String>> {
    let dir = std::env::temp_dir().join(format!("luac-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).ok()?;
    let src = dir.join(chunk_name);
    let out = dir.join("out.luac");
    // luac names the chunk after the file: write the source to a file named like the chunk.
    std::fs::write(&src, source).ok()?;
    let r = std::process::Command::new("luac5.4")
        .current_dir(&dir)
        .arg("-o")
        .arg("out.luac")
        .arg(chunk_name)
        .output();
    let r = match r {
        Ok(r) => r,
        Err(_) => return None,
    };
    if !r.status.success() {
        return Some(Err(String::from_utf8_lossy(&r.stderr).into_owned()));
    }
    let bytes = std::fs::read(&out).ok()?;
    let _ = std::fs::remove_dir_all(&dir);
    let mut rd = Reader { b: &bytes, p: 0 };
    assert_eq!(rd.bytes(4), b"\x1bLua");
    rd.bytes(1 + 1 + 6 + 1 + 1 + 1 + 8 + 8);
    let _nup = rd.byte();
    Some(Ok(rd.function(None)))
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
