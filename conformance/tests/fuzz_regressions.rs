//! The fuzz targets' seeds and every input under `conformance/fuzz/regressions/<target>/`
//! (crashes, hangs and runaway allocations the fuzzers found, fixed since) run through the
//! same functions as the fuzzers: each must return normally.

use std::path::{Path, PathBuf};

use lupa_conformance::fuzzing::{run_target, seeds, TARGETS};

fn regressions(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep"))
        .collect();
    v.sort();
    v
}

fn check(target: &str) {
    let mut scripts: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("lua"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "lua"))
            .collect();
    scripts.sort();
    let sources: Vec<Vec<u8>> = scripts.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let seeds = seeds(target, &sources);
    assert!(!seeds.is_empty(), "{target} has seeds");
    for s in &seeds {
        assert!(run_target(target, s));
    }
    for p in regressions(target) {
        let data = std::fs::read(&p).unwrap();
        eprintln!("{target}: {}", p.display());
        assert!(run_target(target, &data));
    }
}

#[test]
fn every_target_has_a_regression_folder() {
    for t in TARGETS {
        regressions(t);
    }
    assert!(!run_target("no such target", b""));
}

#[test]
fn compile() {
    check("compile");
}

#[test]
fn run() {
    check("run");
}

#[test]
fn format() {
    check("format");
}

#[test]
fn pattern() {
    check("pattern");
}

#[test]
fn pack() {
    check("pack");
}

#[test]
fn undump() {
    check("undump");
}
