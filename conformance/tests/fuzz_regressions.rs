//! The fuzz targets' seeds and every input under `conformance/fuzz/regressions/<target>/`
//! (crashes, hangs and runaway allocations the fuzzers found, fixed since) run through the
//! same functions as the fuzzers: each must return normally.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

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

/// Runs `data` through `target` on its own thread: a panic fails the test, and so does a
/// run longer than a fuzzer's timeout (a hang that fuel or memory limits missed).
fn run_bounded(target: &'static str, name: &str, data: Vec<u8>) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let known = run_target(target, &data);
        let _ = tx.send(known);
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(known) => assert!(known),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{target}: {name} runs over 30s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{target}: {name} panicked"),
    }
}

fn check(target: &'static str) {
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
    for (i, s) in seeds.into_iter().enumerate() {
        run_bounded(target, &format!("seed {i}"), s);
    }
    for p in regressions(target) {
        let data = std::fs::read(&p).unwrap();
        run_bounded(target, &p.display().to_string(), data);
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
