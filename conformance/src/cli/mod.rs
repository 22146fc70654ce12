//! The parts of the `lua-rs` command: option parsing, the Lua state and how code runs in
//! it, the interactive mode and SIGINT.

pub mod args;
pub mod repl;
pub mod signal;
pub mod state;
