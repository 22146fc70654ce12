//! Runs every self-checking script of `conformance/lua/` on `lua-rs` and on the C Lua 5.4.8
//! oracle, and checks that both print the same thing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lua");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("conformance/lua exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .collect();
    v.sort();
    v
}

fn run(exe: &Path, script: &Path) -> Option<(bool, String, String)> {
    let out = Command::new(exe)
        .arg(script.file_name().unwrap())
        .current_dir(script.parent().unwrap())
        .output()
        .ok()?;
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn lua_scripts_pass_and_match_c_lua() {
    let ours = Path::new(env!("CARGO_BIN_EXE_lua-rs"));
    let oracle = lupa_conformance::oracle::lua();
    let mut failures = Vec::new();
    let all = scripts();
    assert!(!all.is_empty(), "no scripts found");
    for script in &all {
        let topic = script.file_stem().unwrap().to_string_lossy().into_owned();
        let (ok, stdout, stderr) = run(ours, script).expect("lua-rs runs");
        if !ok || !stdout.trim_end().ends_with(&format!("OK {topic}")) {
            failures.push(format!("{topic}: lua-rs failed: {stderr}"));
            continue;
        }
        let (_, ref_out, _) = run(&oracle, script).expect("the oracle runs");
        if ref_out != stdout {
            failures.push(format!(
                "{topic}: output differs from C Lua\n--- lua-rs\n{stdout}\n--- C Lua\n{ref_out}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scripts failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

/// `lua-rs` reports errors like `lua`: message and traceback on stderr, exit status 1.
#[test]
fn errors_go_to_stderr_with_status_1() {
    let out = Command::new(env!("CARGO_BIN_EXE_lua-rs"))
        .args(["-e", "local function f() error('boom') end f()"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("(command line):1: boom"), "{err}");
    assert!(
        err.contains("stack traceback:\n\t[C]: in function 'error'"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_lua-rs"))
        .args(["-e", "x = = 1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected symbol near '='"));
}

/// The `arg` table and script arguments as `lua` sets them.
#[test]
fn script_arguments() {
    let dir = std::env::temp_dir().join(format!("lua-rs-args-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("args.lua");
    std::fs::write(&script, "print(arg[0], arg[1], arg[2], #arg, ...)").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lua-rs"))
        .arg(&script)
        .args(["a", "b"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim_end(),
        format!("{}\ta\tb\t2\ta\tb", script.display())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
