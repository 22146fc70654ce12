//! A bytecode listing in the style of `luac -l`.

use std::fmt::Write;

use crate::opcode::OpCode;
use crate::proto::Proto;

/// Lists a prototype and its nested prototypes: one line per instruction with its operands.
pub fn disassemble(p: &Proto) -> String {
    let mut out = String::new();
    list(p, &mut out);
    out
}

fn list(p: &Proto, out: &mut String) {
    let _ = writeln!(
        out,
        "function <{}:{},{}> ({} instructions)",
        String::from_utf8_lossy(&super::chunk_id(&p.source)),
        p.line_defined,
        p.last_line_defined,
        p.code.len()
    );
    for (pc, i) in p.code.iter().enumerate() {
        let op = i.opcode();
        let line = p.line_info.get(pc).copied().unwrap_or(0);
        let args = match op {
            OpCode::LoadI | OpCode::LoadF => format!("{} {}", i.a(), i.sbx()),
            OpCode::LoadK | OpCode::Closure => format!("{} {}", i.a(), i.bx()),
            OpCode::ForLoop | OpCode::ForPrep | OpCode::TForPrep | OpCode::TForLoop => {
                format!("{} {}", i.a(), i.bx())
            }
            OpCode::Jmp => format!("{}", i.sj()),
            OpCode::ExtraArg => format!("{}", i.ax()),
            _ => {
                if i.k() {
                    format!("{} {} {} 1", i.a(), i.b(), i.c())
                } else {
                    format!("{} {} {}", i.a(), i.b(), i.c())
                }
            }
        };
        let _ = writeln!(
            out,
            "\t{}\t[{}]\t{:<9}\t{}",
            pc + 1,
            line,
            op.name().to_uppercase(),
            args
        );
    }
    for c in &p.protos {
        list(c, out);
    }
}
