//! Test support: compiles with Debian's `luac5.4` and reads the binary chunk with our loader
//! (`interp::chunk::undump`), so the VM can be tested against C Lua's own compiler output.

use interp::proto::VerifiedProto;

/// Compiles `source` with `luac5.4` (as chunk `chunk_name`) and reads the result; `None` if
/// luac5.4 is not installed.
pub fn compile_with_luac(source: &str, chunk_name: &str) -> Option<Result<VerifiedProto, String>> {
    if cfg!(target_family = "wasm") {
        return None; // no processes
    }
    let dir = std::env::temp_dir().join(format!("luac-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).ok()?;
    let src = dir.join(chunk_name);
    let out = dir.join("out.luac");
    // luac names the chunk after the file: write the source to a file named like the chunk.
    std::fs::write(&src, source).ok()?;
    let r = std::process::Command::new("luac5.4")
        .current_dir(&dir)
        .arg("-o")
        .arg("out.luac")
        .arg(chunk_name)
        .output();
    let r = match r {
        Ok(r) => r,
        Err(_) => return None,
    };
    if !r.status.success() {
        return Some(Err(String::from_utf8_lossy(&r.stderr).into_owned()));
    }
    let bytes = std::fs::read(&out).ok()?;
    let _ = std::fs::remove_dir_all(&dir);
    let proto = interp::chunk::undump(&bytes, chunk_name.as_bytes())
        .map_err(|e| String::from_utf8_lossy(&e).into_owned());
    Some(proto)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
