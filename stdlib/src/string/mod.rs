//! Pure byte-string engines behind Lua's `string` library: pattern matching and binary packing.

pub mod pack;
pub mod pattern;

mod library;
pub use library::register_extra;
