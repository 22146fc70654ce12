//! `luaO_chunkid`: how a chunk name appears in messages.

/// Size of a chunk id in C Lua (`LUA_IDSIZE`, including the terminating zero).
const LUA_IDSIZE: usize = 60;

/// Formats a chunk name: `=name` verbatim, `@file` as the file name (truncated from the left
/// with `...`), anything else as `[string "first line..."]`.
pub fn chunk_id(source: &[u8]) -> Vec<u8> {
    let bufflen = LUA_IDSIZE;
    match source.first() {
        Some(b'=') => {
            let s = &source[1..];
            s[..s.len().min(bufflen - 1)].to_vec()
        }
        Some(b'@') => {
            let s = &source[1..];
            if s.len() < bufflen {
                s.to_vec()
            } else {
                let mut out = b"...".to_vec();
                let keep = bufflen - 1 - 3;
                out.extend_from_slice(&s[s.len() - keep..]);
                out
            }
        }
        _ => {
            let nl = source.iter().position(|&c| c == b'\n');
            let pre = b"[string \"";
            let pos = b"\"]";
            let dots = b"...";
            let avail = bufflen - pre.len() - dots.len() - pos.len() - 1;
            let mut out = pre.to_vec();
            if source.len() < avail && nl.is_none() {
                out.extend_from_slice(source);
            } else {
                let mut l = nl.unwrap_or(source.len());
                if l > avail {
                    l = avail;
                }
                out.extend_from_slice(&source[..l]);
                out.extend_from_slice(dots);
            }
            out.extend_from_slice(pos);
            out
        }
    }
}
