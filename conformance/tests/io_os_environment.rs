//! `io` and `os` against C Lua 5.4.8 where the process's environment matters, which a
//! regression script cannot set for itself: time zones (`TZ` in the environment of both
//! interpreters, for `conformance/differential/regressions/os_date_time.lua`) and standard
//! input (a file, which can seek and is shared with child processes at its offset, and a
//! pipe), read through C stdio's one buffer.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use lupa_conformance::differential::harness::mask_addresses;

/// What a run printed, its exit status, and the time zone or input it ran with.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

enum Input<'a> {
    File(&'a Path),
    Pipe(&'a [u8]),
}

fn regressions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("differential/regressions")
}

fn run(exe: &Path, args: &[&str], tz: Option<&str>, input: Option<Input<'_>>) -> Run {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(exe);
    c.arg0("lua").args(args).current_dir(regressions());
    match tz {
        Some(tz) => c.env("TZ", tz),
        None => c.env_remove("TZ"),
    };
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut data = None;
    match input {
        Some(Input::File(p)) => {
            c.stdin(std::fs::File::open(p).expect("input file"));
        }
        Some(Input::Pipe(d)) => {
            c.stdin(Stdio::piped());
            data = Some(d.to_vec());
        }
        None => {
            c.stdin(Stdio::null());
        }
    }
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", exe.display()));
    if let Some(d) = data {
        let mut stdin = child.stdin.take().unwrap();
        // The script may stop reading early: a broken pipe is part of the test.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&d);
        });
    }
    let out = child.wait_with_output().expect("wait");
    Run {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&mask_addresses(&out.stdout)).into_owned(),
        stderr: String::from_utf8_lossy(&mask_addresses(&out.stderr)).into_owned(),
    }
}

fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lua-rs"))
}

#[test]
fn dates_and_times_match_c_lua_in_several_time_zones() {
    let oracle = lupa_conformance::oracle::lua();
    let zones = [
        Some("America/New_York"),
        Some("UTC"),
        Some("Asia/Kolkata"),
        Some("Australia/Lord_Howe"),
        Some("Europe/London"),
        Some("EST5EDT,M3.2.0,M11.1.0"),
        Some("<+0330>-3:30"),
        Some(""),
        None,
    ];
    let mut failures = Vec::new();
    for tz in zones {
        let args = ["os_date_time.lua"];
        let want = run(&oracle, &args, tz, None);
        let got = run(&ours(), &args, tz, None);
        assert_eq!(
            want.status,
            Some(0),
            "C Lua failed under TZ={tz:?}: {want:?}"
        );
        if want != got {
            failures.push(format!(
                "TZ={tz:?}:\n--- C Lua\n{want:?}\n--- lua-rs\n{got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Reads stdin in every way (formats after partial reads, numbers, seeks, flush giving the
/// read-ahead back, a child reading the same descriptor) and prints what it got.
const STDIN_SCRIPT: &str = r#"
local function show(...) local t = table.pack(...) for i = 1, t.n do t[i] = tostring(t[i]) end print(table.concat(t, " | ")) end
show(io.read("n", "l"))
show(io.stdin:seek())
show(io.read(3), io.read("L"))
os.execute("head -c 5; echo")
show(io.read("l"))
show(io.stdin:seek("set", 0))
show(io.read("l"), io.stdin:read("n"))
show(io.stdin:flush())
os.execute("head -c 4; echo")
for l in io.lines(nil, "L") do io.write(l) if l:find("150") then break end end
show(io.read(2), io.read("n"), io.read(0))
show(#io.read("a"), io.read("a"), io.read("l"), io.read(0), io.read("n"))
"#;

#[test]
fn stdin_matches_c_lua_from_a_file_and_a_pipe() {
    let oracle = lupa_conformance::oracle::lua();
    let dir = std::env::temp_dir().join(format!("lupa_io_os_env_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("stdin.lua");
    std::fs::write(&script, STDIN_SCRIPT).unwrap();
    let data: String = (100..2000).map(|i| format!("{i}\n")).collect();
    let input = dir.join("input.txt");
    std::fs::write(&input, &data).unwrap();
    let args = [script.to_str().unwrap()];
    let mut failures = Vec::new();
    for what in ["file", "pipe"] {
        let make = || match what {
            "file" => Input::File(&input),
            _ => Input::Pipe(data.as_bytes()),
        };
        let want = run(&oracle, &args, Some("UTC"), Some(make()));
        let got = run(&ours(), &args, Some("UTC"), Some(make()));
        assert_eq!(
            want.status,
            Some(0),
            "C Lua failed reading a {what}: {want:?}"
        );
        if want != got {
            failures.push(format!(
                "stdin from a {what}:\n--- C Lua\n{want:?}\n--- lua-rs\n{got:?}"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
