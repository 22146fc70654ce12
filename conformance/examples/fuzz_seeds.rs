//! Writes the seed corpora of the fuzz targets: `fuzz_seeds OUT_DIR [LUA_DIR...]` fills
//! `OUT_DIR/<target>/` with the seeds of `lupa_conformance::fuzzing::seeds`, built from the
//! `*.lua` files of `conformance/lua/` and of each `LUA_DIR` (the official test suite, say).

use std::path::{Path, PathBuf};

use lupa_conformance::fuzzing::{seeds, TARGETS};

fn lua_files(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .collect();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: fuzz_seeds OUT_DIR [LUA_DIR...]");
        std::process::exit(2);
    };
    let mut sources = lua_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("lua"));
    for dir in &args[1..] {
        sources.extend(lua_files(Path::new(dir)));
    }
    for target in TARGETS {
        let dir = Path::new(out).join(target);
        std::fs::create_dir_all(&dir).expect("creates the corpus folder");
        let v = seeds(target, &sources);
        for (i, s) in v.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:04}")), s).expect("writes a seed");
        }
        println!("{target}: {} seeds", v.len());
    }
}
