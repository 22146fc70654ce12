//! Replays fuzz inputs on stable Rust, with a plain build: `fuzz_replay TARGET FILE...` runs
//! each file through `lupa_conformance::fuzzing::TARGET` (a crash shows its backtrace), and
//! `fuzz_replay dis FILE...` prints the listing of binary chunks as the `undump` target
//! loads them.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((target, files)) = args.split_first() else {
        eprintln!("usage: fuzz_replay TARGET|dis FILE...");
        std::process::exit(2);
    };
    for file in files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        if target == "dis" {
            let mut chunk = data.clone();
            if !chunk.starts_with(interp::chunk::SIGNATURE) {
                chunk = lupa_conformance::fuzzing::chunk_header();
                chunk.extend_from_slice(&data);
            }
            match interp::chunk::undump(&chunk, b"=fuzz") {
                Ok(p) => println!("{}", interp::compiler::disassemble(&p)),
                Err(e) => println!("{file}: {}", String::from_utf8_lossy(&e)),
            }
        } else if lupa_conformance::fuzzing::run_target(target, &data) {
            println!("{file}: ok");
        } else {
            eprintln!("no target {target}");
            std::process::exit(2);
        }
    }
}
