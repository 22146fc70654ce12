//! Differential test of binary chunks: every script of `conformance/lua/` compiled by
//! Debian's `luac5.4` (plain and stripped) runs on `lua-rs` and prints what `lua5.4` prints.
//! Skipped when `luac5.4` or `lua5.4` is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

fn output(exe: &str, arg: &Path, dir: &Path) -> String {
    let out = Command::new(exe)
        .arg(arg)
        .current_dir(dir)
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn luac_chunks_run_like_lua54() {
    let ours = env!("CARGO_BIN_EXE_lua-rs");
    let have = |exe: &str| Command::new(exe).arg("-v").output().is_ok();
    if !have("luac5.4") || !have("lua5.4") {
        eprintln!("luac5.4 or lua5.4 not installed: skipped");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lua");
    let tmp = std::env::temp_dir().join(format!("luac-chunks-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .collect();
    scripts.sort();
    let mut failures = Vec::new();
    for script in &scripts {
        let file = script.file_name().unwrap();
        let stem = script.file_stem().unwrap().to_string_lossy().into_owned();
        for strip in [false, true] {
            let chunk = tmp.join(format!("{stem}{}.luac", if strip { ".s" } else { "" }));
            let mut luac = Command::new("luac5.4");
            if strip {
                luac.arg("-s");
            }
            let ok = luac
                .arg("-o")
                .arg(&chunk)
                .arg(file)
                .current_dir(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "luac5.4 failed on {stem}");
            let got = output(ours, &chunk, &dir);
            let want = output("lua5.4", &chunk, &dir);
            if got != want {
                failures.push(format!(
                    "{stem} (strip={strip}):\n--- lua-rs\n{got}\n--- lua5.4\n{want}"
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
