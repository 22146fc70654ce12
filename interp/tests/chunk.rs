//! Binary chunks: dump/undump round trips of every conformance script, and undump plus
//! verify on mutated chunks (errors, never panics; what loads runs safely under fuel).

use std::path::PathBuf;
use std::rc::Rc;

use interp::chunk::{dump, undump};
use interp::proto::Proto;
use interp::{FirstStep, Lua, Value};

fn scripts() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/lua");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("conformance/lua exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

fn compile(name: &str, src: &[u8]) -> Proto {
    let chunk_name = format!("@{name}");
    interp::compiler::compile(src, chunk_name.as_bytes())
        .unwrap_or_else(|e| panic!("{name}: {}", String::from_utf8_lossy(&e.message)))
        .to_proto()
}

/// What a stripped dump keeps of `p`.
fn stripped(p: &Proto) -> Proto {
    Proto {
        source: Rc::from(&b"=?"[..]),
        line_info: Vec::new(),
        local_vars: Vec::new(),
        upvalues: p
            .upvalues
            .iter()
            .map(|u| interp::proto::UpvalueDesc {
                name: None,
                ..u.clone()
            })
            .collect(),
        protos: p.protos.iter().map(|c| Rc::new(stripped(c))).collect(),
        ..p.clone()
    }
}

#[test]
fn every_script_round_trips() {
    for (name, src) in scripts() {
        let p = compile(&name, &src);
        let d = dump(&p, false);
        let back = undump(&d, b"=test").unwrap_or_else(|e| {
            panic!("{name}: {}", String::from_utf8_lossy(&e));
        });
        assert!(*back == p, "{name}: round trip changed the prototype");
        assert_eq!(dump(&back, false), d, "{name}: dump not stable");
        let s = dump(&p, true);
        let back = undump(&s, b"=test").expect("stripped chunk loads");
        assert!(*back == stripped(&p), "{name}: stripped round trip");
        assert_eq!(dump(&back, true), s, "{name}: stripped dump not stable");
        assert!(s.len() < d.len());
    }
}

#[test]
fn header_errors_match_lundump() {
    let p = interp::compiler::compile(b"return 1", b"=x").unwrap();
    let d = dump(&p, false);
    let msg = |b: &[u8], name: &[u8]| String::from_utf8(undump(b, name).unwrap_err()).unwrap();
    assert_eq!(
        msg(&d[..10], &d),
        "binary string: bad binary format (truncated chunk)"
    );
    assert_eq!(
        msg(&d[..10], b"@f.lua"),
        "f.lua: bad binary format (truncated chunk)"
    );
    let mut bad = d.clone();
    bad[4] = 0x53;
    assert_eq!(msg(&bad, b"=n"), "n: bad binary format (version mismatch)");
    let mut bad = d.clone();
    bad[12] = 8;
    assert_eq!(
        msg(&bad, b"c"),
        "c: bad binary format (Instruction size mismatch)"
    );
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Source touching most opcodes, for mutation.
const SAMPLE: &str = r##"
local a, b = 1, 2.5
local t = {1, 2, 3, x = "y", [10] = false}
local s = "str" .. a .. b
for i = 1, 3 do t[i] = t[i] * 2 + i // 1 - i % 2 end
for k, v in pairs and pairs(t) or next, t do a = a + 1 end
local function f(x, ...)
  local n = select and select("#", ...) or 0
  if x == nil then return n elseif x < 3 then return x << 1 else return -x, ~x end
end
local c <const> = 7
local u = function() a = a + c return a, b, s end
while a < 20 do a = a + 1 if a > 15 then break end end
repeat b = b * 2 until b > 100
t.z = #t + (t.x == "y" and 1 or 0)
return f(a, 1, 2, 3), u(), t, s:upper() and 1, a & 3 | 4 ~ 5 >> 1, a / 2, a ^ 2, not a
"##;

/// Loads `chunk` if it verifies and runs it for at most one step of fuel: must not panic.
fn load_and_run(chunk: &[u8]) -> bool {
    let Ok(p) = undump(chunk, b"=fuzz") else {
        return false;
    };
    let mut lua = Lua::new();
    let r = lua.call_first_step(
        |ctx| -> Result<_, ()> {
            let f = Value::Closure(ctx.load_proto(&p, None));
            Ok((f, [Value::Integer(1), Value::Nil].into_iter().collect()))
        },
        |_, vals| vals.len(),
    );
    assert!(matches!(
        r,
        Ok(FirstStep::Done(_) | FirstStep::Failed(_) | FirstStep::Running(_))
    ));
    true
}

#[test]
fn truncated_chunks_are_errors() {
    let p = interp::compiler::compile(SAMPLE.as_bytes(), b"=sample").unwrap();
    for strip in [false, true] {
        let d = dump(&p, strip);
        assert!(load_and_run(&d), "the intact chunk loads");
        for n in 0..d.len() {
            let e = undump(&d[..n], b"=t").expect_err("truncated chunk loaded");
            assert_eq!(e, b"t: bad binary format (truncated chunk)", "at {n}");
        }
    }
}

#[test]
fn mutated_chunks_never_panic() {
    let p = interp::compiler::compile(SAMPLE.as_bytes(), b"=sample").unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut loaded = 0;
    for strip in [false, true] {
        let d = dump(&p, strip);
        // Every single byte flipped in turn.
        for pos in 0..d.len() {
            let mut m = d.clone();
            m[pos] ^= 0xff;
            loaded += load_and_run(&m) as usize;
        }
        // Random changes of one to four bytes; instruction bytes half the time.
        let code_start = 40;
        for _ in 0..5000 {
            let mut m = d.clone();
            for _ in 0..1 + rng.below(4) {
                let pos = if rng.below(2) == 0 {
                    code_start + rng.below(d.len().min(600) - code_start)
                } else {
                    rng.below(d.len())
                };
                m[pos] = rng.next() as u8;
            }
            if rng.below(8) == 0 {
                m.truncate(rng.below(m.len()));
            }
            loaded += load_and_run(&m) as usize;
        }
    }
    eprintln!("{loaded} mutated chunks loaded");
    assert!(loaded > 0, "some mutations are harmless and load");
}

#[test]
fn verifier_rejects_bad_operands() {
    use interp::opcode::{Instruction, OpCode};
    let base = interp::compiler::compile(b"local a = 1 return a", b"=x").unwrap();
    interp::chunk::verify(&base).expect("compiled code verifies");
    let bad = |i: Instruction| {
        let mut p = base.to_proto();
        p.code[1] = i;
        interp::chunk::verify(&p).expect_err("bad instruction accepted");
    };
    let ms = base.max_stack_size as u32;
    bad(Instruction::abc(OpCode::Move, ms, 0, 0, false));
    bad(Instruction::abc(OpCode::Move, 0, ms, 0, false));
    bad(Instruction::abx(OpCode::LoadK, 0, 99));
    bad(Instruction::abc(OpCode::GetUpval, 0, 5, 0, false));
    bad(Instruction::abc(OpCode::LoadNil, 0, ms, 0, false));
    bad(Instruction::abc(OpCode::Call, 0, 0, 1, false));
    bad(Instruction::abc(OpCode::Concat, 0, 1, 0, false));
    bad(Instruction::abc(OpCode::Add, 0, 0, 0, false));
    bad(Instruction::abc(OpCode::MmBin, 0, 0, 6, false));
    bad(Instruction::abc(OpCode::Eq, 0, 0, 0, false));
    bad(Instruction::abx(OpCode::Closure, 0, 0));
    bad(Instruction::abc(OpCode::VarArg, ms, 0, 2, false));
    bad(Instruction::abc(OpCode::TForCall, 0, 0, 1, false));
    bad(Instruction::abc(OpCode::NewTable, 0, 0, 0, false));
    bad(Instruction::sj_(OpCode::Jmp, 100));
    bad(Instruction(0x7f));
}
