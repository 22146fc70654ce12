//! The `lua-rs` command line: the official test `main.lua` (from the cached suite)
//! and direct checks of the options, compared with the C Lua 5.4.8 oracle where both behave alike.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const LUA_RS: &str = env!("CARGO_BIN_EXE_lua-rs");

/// Blocks of `main.lua` that need what lupa_rs does not have: C libraries.
const UNSUPPORTED: [&str; 1] = [
    "RUN(\"env LUA_CPATH='./libs/?.so' lua -l lib2-v2 -e 'print(lib2.id())' > %s\",\n    out)\ncheckout(\"true\\n\")\n",
];

/// Exit code, stdout and stderr of `exe args` with extra environment `env` and `stdin`.
fn run(exe: &str, args: &[&str], env: &[(&str, &str)], stdin: &str) -> (i32, String, String) {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("interpreter starts");
    use std::io::Write;
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `args` on `lua-rs` and on the C Lua oracle; the program name is replaced by `lua` in
/// the error output. Returns lua-rs's result.
fn compare(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let (code, out, err) = run(LUA_RS, args, env, "");
    let ours = (code, out, err.replace(LUA_RS, "lua"));
    let oracle = lupa_conformance::oracle::lua();
    let oracle = oracle.to_str().expect("a UTF-8 path");
    let (code, out, err) = run(oracle, args, env, "");
    let theirs = (code, out, err.replace(oracle, "lua"));
    assert_eq!(ours, theirs, "lua-rs and C Lua differ on {args:?}");
    ours
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lua-rs-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The official `main.lua` passes with `_port=false` (less the unsupported blocks).
#[test]
fn official_main_lua() {
    let testes = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/testes");
    let Ok(mut text) = std::fs::read_to_string(testes.join("main.lua")) else {
        panic!(
            "no cached test suite at {}: `python3 conformance/oracle.py` (run by `bash \
             .ci/install`) fetches it",
            testes.display()
        );
    };
    for block in UNSUPPORTED {
        assert!(text.contains(block), "main.lua changed: {block}");
        text = text.replace(block, "");
    }
    // The Ctrl-C tests read the pid that `echo $!` prints before the script's first line;
    // on a loaded machine the script can win that race. A short sleep makes it lose.
    let race = r#"string.format('%s -e "%s" & echo $!', progname, luaprg)"#;
    assert!(text.contains(race), "main.lua changed: {race}");
    let delayed =
        r#"string.format('%s -e "os.execute([[sleep 0.3]])" -e "%s" & echo $!', progname, luaprg)"#;
    text = text.replace(race, delayed);
    let dir = temp_dir("main");
    std::fs::write(dir.join("main.lua"), text).unwrap();
    let out = Command::new(LUA_RS)
        .args(["-e", "_port=false _soft=false _nomsg=true", "main.lua"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.ends_with("OK\n"),
        "{stdout}\n{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `LUA_INIT_5_4` before `LUA_INIT`, code or `@file`, with `arg` available; its errors.
#[test]
fn lua_init() {
    let dir = temp_dir("init");
    let script = dir.join("init.lua");
    std::fs::write(&script, "X = (X or 0) + 1; print(X)").unwrap();
    let at_file = format!("@{}", script.display());
    let print_x = ["-e", "print(X)"];
    assert_eq!(
        compare(&print_x, &[("LUA_INIT", "X=tonumber(arg[0])")]).1,
        "nil\n"
    );
    let both = [("LUA_INIT_5_4", "X=10"), ("LUA_INIT", "X=3")];
    assert_eq!(compare(&print_x, &both).1, "10\n");
    assert_eq!(compare(&print_x, &[("LUA_INIT", &at_file)]).1, "1\n1\n");
    let (code, _, err) = compare(&print_x, &[("LUA_INIT", "error('msg')")]);
    assert_eq!(code, 1);
    assert!(err.starts_with("lua: LUA_INIT:1: msg\n"), "{err}");
    // -E ignores LUA_INIT and the paths.
    let env = [("LUA_INIT", "error('x')"), ("LUA_PATH", "xxx")];
    let (code, out, _) = run(LUA_RS, &["-E", "-e", "print(package.path)"], &env, "");
    assert_eq!(code, 0);
    assert!(!out.contains("xxx") && out.contains("lua"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `LUA_PATH(_5_4)` and `LUA_CPATH(_5_4)`; the first `;;` stands for the default path.
#[test]
fn lua_path() {
    let get = |var: &str, value: &str, field: &str| {
        let code = format!("print(package.{field})");
        run(LUA_RS, &["-e", &code], &[(var, value)], "").1
    };
    let default = run(LUA_RS, &["-E", "-e", "print(package.path)"], &[], "").1;
    let default = default.trim_end();
    assert_eq!(get("LUA_PATH", "x", "path"), "x\n");
    assert_eq!(get("LUA_PATH_5_4", "y", "path"), "y\n");
    assert_eq!(get("LUA_CPATH", "xuxu", "cpath"), "xuxu\n");
    assert_eq!(get("LUA_PATH", ";;", "path"), format!("{default}\n"));
    assert_eq!(get("LUA_PATH", "a;;b", "path"), format!("a;{default};b\n"));
    assert_eq!(get("LUA_PATH", "a;;", "path"), format!("a;{default}\n"));
    assert_eq!(get("LUA_PATH", ";;b;;", "path"), format!("{default};b;;\n"));
}

/// `-v`, bad options, exit statuses and the messages of non-string error objects.
#[test]
fn options_status_and_messages() {
    let (_, out, _) = run(LUA_RS, &["-v"], &[], "");
    assert!(
        out.starts_with("Lua 5.4") && out.ends_with("PUC-Rio\n"),
        "{out}"
    );
    for bad in ["-h", "---", "-Ex", "-vv", "-iv"] {
        let (code, out, err) = compare(&[bad], &[]);
        assert_eq!((code, out.as_str()), (1, ""));
        assert!(err.starts_with(&format!("lua: unrecognized option '{bad}'\nusage: lua ")));
    }
    let (code, _, err) = compare(&["-e"], &[]);
    assert_eq!(code, 1);
    assert!(err.starts_with("lua: '-e' needs argument\n"), "{err}");
    for (code, status) in [
        ("os.exit(3)", 3),
        ("os.exit(false)", 1),
        ("os.exit(true, true)", 0),
        ("error('x')", 1),
    ] {
        assert_eq!(compare(&["-e", code], &[]).0, status, "{code}");
    }
    let (_, _, err) = compare(&["-e", "error({})"], &[]);
    assert!(
        err.starts_with("lua: (error object is a table value)\n"),
        "{err}"
    );
    let tostring = "error(setmetatable({}, {__tostring = function() return 'custom' end}))";
    assert_eq!(compare(&["-e", tostring], &[]).2, "lua: custom\n");
    let close = "local x <close> = setmetatable({}, {__close = function() print('closed') end})
                 setmetatable({}, {__gc = function() print('gc') end}) os.exit(0, true)";
    assert_eq!(compare(&["-e", close], &[]).1, "closed\ngc\n");
}

/// Script arguments, `-` for stdin, and the interactive mode's prompts and results.
#[test]
fn stdin_and_interactive() {
    let (_, out, _) = run(LUA_RS, &["-", "a", "b"], &[], "print(...)");
    assert_eq!(out, "a\tb\n");
    let (_, out, _) = run(
        LUA_RS,
        &["-e", "_PROMPT='$ '", "-i"],
        &[],
        "1+1\nx = {\n}\n",
    );
    assert!(out.ends_with("$ 1+1\n2\n$ x = {\n>> }\n$ \n"), "{out}");
}

/// Exit code, stdout and stderr of `exe -e code`, sent SIGINT once it has run for a while.
fn run_interrupted(exe: &str, code: &str) -> (i32, String, String) {
    let child = Command::new(exe)
        .args(["-e", code])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("interpreter starts");
    std::thread::sleep(std::time::Duration::from_millis(400));
    // SAFETY: sending a signal to our own child process has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).replace(exe, "lua"),
    )
}

#[test]
fn ctrl_c_raises_interrupted_as_lua_c_does() {
    let oracle = lupa_conformance::oracle::lua();
    let oracle = oracle.to_str().expect("a UTF-8 path");
    for code in [
        // Caught by pcall: the script goes on.
        "local ok, e = pcall(function() while true do end end) print(ok, e)",
        // Uncaught: the error and its traceback, exit status 1.
        "local function spin() while true do end end spin()",
    ] {
        let ours = run_interrupted(LUA_RS, code);
        let theirs = run_interrupted(oracle, code);
        assert_eq!(ours, theirs, "{code}");
    }
}
