//! The parts of the `lua-rs` command: option parsing, the Lua state and how code runs in
//! it, and the interactive mode.

pub mod args;
pub mod repl;
pub mod state;
