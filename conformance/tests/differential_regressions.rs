//! Every program the differential fuzzer (or a differential run by hand) found `lua-rs` and
//! C Lua 5.4.8 to disagree on, fixed since: `conformance/differential/regressions/*.lua`
//! must print the same stdout and stderr and exit with the same status under both.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lupa_conformance::differential::harness::run;

fn regressions() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("differential/regressions");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .collect();
    v.sort();
    v
}

#[test]
fn regressions_match_c_lua() {
    let oracle = lupa_conformance::oracle::lua();
    let ours = Path::new(env!("CARGO_BIN_EXE_lua-rs"));
    let all = regressions();
    assert!(!all.is_empty(), "no regression scripts");
    let mut failures = Vec::new();
    for script in &all {
        let dir = script.parent().unwrap();
        let file = script.file_name().unwrap().to_str().unwrap();
        let timeout = Duration::from_secs(60);
        let want = run(&oracle, dir, file, timeout);
        let got = run(ours, dir, file, timeout);
        if want != got {
            failures.push(format!(
                "{file}:\n--- C Lua (status {:?})\n{}{}\n--- lua-rs (status {:?})\n{}{}",
                want.status,
                String::from_utf8_lossy(&want.stdout),
                String::from_utf8_lossy(&want.stderr),
                got.status,
                String::from_utf8_lossy(&got.stdout),
                String::from_utf8_lossy(&got.stderr),
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} regressions differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
