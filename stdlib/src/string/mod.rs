//! Pure byte-string engines behind Lua's `string` library: pattern matching and binary packing;
//! and the string metatable's arithmetic metamethods.

pub mod arith;
pub mod pack;
pub mod pattern;

mod library;
pub use library::register_extra;
