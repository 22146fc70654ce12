//! Differential test of binary chunks: every script of `conformance/lua/` compiled by C Lua
//! 5.4.8 (`string.dump` of `loadfile`, as `luac` writes them, plain and stripped) runs on
//! `lua-rs` and prints what the oracle prints.

use std::path::{Path, PathBuf};
use std::process::Command;

fn output(exe: &Path, arg: &Path, dir: &Path) -> String {
    let out = Command::new(exe)
        .arg(arg)
        .current_dir(dir)
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Writes `string.dump(loadfile(arg[1]), arg[3] == "strip")` to `arg[2]`: what `luac` writes.
const DUMP: &str = "local f = assert(loadfile(arg[1]))\n\
    local o = assert(io.open(arg[2], 'wb'))\n\
    o:write(string.dump(f, arg[3] == 'strip'))\n\
    o:close()\n";

#[test]
fn luac_chunks_run_like_c_lua() {
    let ours = Path::new(env!("CARGO_BIN_EXE_lua-rs"));
    let oracle = lupa_conformance::oracle::lua();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lua");
    let tmp = std::env::temp_dir().join(format!("luac-chunks-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let dump = tmp.join("dump.lua");
    std::fs::write(&dump, DUMP).unwrap();
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
            let ok = Command::new(&oracle)
                .arg(&dump)
                .arg(file)
                .arg(&chunk)
                .arg(if strip { "strip" } else { "" })
                .current_dir(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "the oracle could not dump {stem}");
            let got = output(ours, &chunk, &dir);
            let want = output(&oracle, &chunk, &dir);
            if got != want {
                failures.push(format!(
                    "{stem} (strip={strip}):\n--- lua-rs\n{got}\n--- C Lua\n{want}"
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
