//! Binary chunks: PUC Lua 5.4's precompiled format (`ldump.c`, `lundump.c`) and the bytecode
//! verifier that makes loading them safe.
//!
//! [`dump`] writes a [`Proto`](crate::proto::Proto) exactly as `luac` 5.4 does; [`undump`]
//! reads such a chunk back and runs [`verify`] on it, so a loaded prototype never breaks an
//! invariant the VM relies on, whatever bytes it came from.

mod dump;
mod undump;
mod verify;

pub use dump::dump;
pub use undump::undump;
pub use verify::verify;

/// The signature every binary chunk starts with (`LUA_SIGNATURE`).
pub const SIGNATURE: &[u8] = b"\x1bLua";
/// The format version byte: 5.4 (`LUAC_VERSION`).
const VERSION: u8 = 0x54;
/// The official format (`LUAC_FORMAT`).
const FORMAT: u8 = 0;
/// Bytes that catch conversion errors (`LUAC_DATA`).
const DATA: &[u8] = b"\x19\x93\r\n\x1a\n";
/// An integer that checks the integer format (`LUAC_INT`).
const LUAC_INT: i64 = 0x5678;
/// A float that checks the float format (`LUAC_NUM`).
const LUAC_NUM: f64 = 370.5;

/// Constant tags (`LUA_VNIL` etc. of `lobject.h`).
mod tag {
    pub const NIL: u8 = 0;
    pub const FALSE: u8 = 1;
    pub const TRUE: u8 = 1 | (1 << 4);
    pub const INT: u8 = 3;
    pub const FLOAT: u8 = 3 | (1 << 4);
    pub const SHORT_STR: u8 = 4;
    pub const LONG_STR: u8 = 4 | (1 << 4);
}

/// Line info: marker of an absolute entry (`ABSLINEINFO`).
const ABS_LINE_INFO: i8 = -0x80;
/// Line info: largest difference a relative entry holds, exclusive (`LIMLINEDIFF`).
const LIM_LINE_DIFF: i64 = 0x80;
/// Line info: most instructions between absolute entries (`MAXIWTHABS`).
const MAX_IWTH_ABS: u32 = 128;
