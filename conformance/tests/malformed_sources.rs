//! Random, truncated and mutated sources never make the compiler panic, abort or overflow
//! its stack: they compile or give a syntax error.

use std::path::Path;

use lupa_conformance::differential::rng::Rng as XorShift;

fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lua");
    let mut v: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "lua"))
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    v.push(b"local t = {1, 2, [3] = 'x', f = function(...) return ... end} return #t".to_vec());
    v
}

#[test]
fn compiler_never_panics() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let corpus = corpus();
    let mut cases = 0;
    for src in &corpus {
        // Every prefix at a few hundred cut points.
        for k in 0..200 {
            let cut = (rng.next_u64() as usize) % (src.len() + 1);
            let _ = interp::compiler::compile(&src[..cut], b"=fuzz");
            cases += 1;
            // A mutation: replace a few bytes.
            let mut m = src.clone();
            for _ in 0..(1 + k % 4) {
                if m.is_empty() {
                    break;
                }
                let i = (rng.next_u64() as usize) % m.len();
                m[i] = b"(){}[]=.,;:\"'\\-+*/%^#~<>0123456789aeflnrtx \n\0\xff"
                    [(rng.next_u64() % 46) as usize];
            }
            let _ = interp::compiler::compile(&m, b"=fuzz");
            cases += 1;
        }
    }
    for _ in 0..2000 {
        let len = (rng.next_u64() % 300) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        let _ = interp::compiler::compile(&bytes, b"=fuzz");
        cases += 1;
    }
    // Deep nesting gives a syntax error, not a Rust stack overflow.
    for depth in [100usize, 199, 200, 1000, 100_000] {
        for (open, close) in [
            ("(", ")"),
            ("{", "}"),
            ("- ", ""),
            ("not ", ""),
            ("f(", ")"),
            ("do ", " end"),
        ] {
            let mut s = String::from("return ");
            if open == "do " {
                s.clear();
            }
            for _ in 0..depth {
                s.push_str(open);
            }
            s.push('1');
            for _ in 0..depth {
                s.push_str(close);
            }
            let r = interp::compiler::compile(s.as_bytes(), b"=deep");
            if depth >= 1000 {
                let e = r.expect_err("deep nesting is refused");
                let msg = String::from_utf8_lossy(&e.message).into_owned();
                assert!(
                    msg.contains("too many") || msg.contains("levels") || msg.contains("overflow"),
                    "{msg}"
                );
            }
            cases += 1;
        }
    }
    assert!(cases > 3000);
}

/// Malformed programs that do compile run with errors, not crashes (in a child process with a
/// time limit, so an accidental infinite loop cannot hang the test).
#[test]
fn mutated_programs_run_without_crashing() {
    let mut rng = XorShift(12345);
    let corpus = corpus();
    let exe = env!("CARGO_BIN_EXE_lua-rs");
    let mut ran = 0;
    for src in &corpus {
        for _ in 0..15 {
            let mut m = src.clone();
            let i = (rng.next_u64() as usize) % m.len().max(1);
            if i < m.len() {
                m[i] = b"0123456789+-*/.,;(){}[]"[(rng.next_u64() % 23) as usize];
            }
            if interp::compiler::compile(&m, b"=m").is_err() {
                continue;
            }
            let path = std::env::temp_dir().join(format!("mut-{}-{}.lua", std::process::id(), ran));
            std::fs::write(&path, &m).unwrap();
            let mut child = std::process::Command::new("timeout")
                .args(["10", exe])
                .arg(&path)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let status = child.wait().unwrap();
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            let _ = std::fs::remove_file(&path);
            let code = status.code().unwrap_or(-1);
            assert!(code == 0 || code == 1 || code == 124, "exit {code}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            ran += 1;
        }
    }
    assert!(ran > 10);
}
