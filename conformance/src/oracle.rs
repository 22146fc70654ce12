//! The C Lua 5.4.8 oracle: stock `lua` built by `conformance/oracle.py` from the sources in
//! lupa 2.8's sdist (never committed, never part of the product).
//!
//! Tests that compare with C Lua call [`lua`], which panics when the oracle is missing: a
//! comparison that cannot find its oracle fails, it does not skip.

use std::path::PathBuf;
use std::process::Command;

/// Where `conformance/oracle.py` puts the oracle.
pub fn default_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache/lua-5.4.8/bin/lua")
}

/// The oracle's path (`$LUA_ORACLE`, else [`default_path`]), checked to be Lua 5.4.8.
///
/// Panics with the command that builds it when it is missing or another version.
pub fn lua() -> PathBuf {
    let path = std::env::var_os("LUA_ORACLE")
        .map(PathBuf::from)
        .unwrap_or_else(default_path);
    let version = Command::new(&path)
        .arg("-v")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        version.starts_with("Lua 5.4.8"),
        "the C Lua 5.4.8 oracle is missing at {} (found {version:?}): build it with \
         `python3 conformance/oracle.py` (`bash .ci/install` does)",
        path.display()
    );
    path
}
