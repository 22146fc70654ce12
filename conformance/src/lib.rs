//! The library side of the conformance crate: the logic of the fuzz targets of
//! `conformance/fuzz/`, shared with the regression tests of `conformance/tests/`; the
//! differential fuzzer, which compares `lua-rs` with C Lua 5.4.8; and the oracle itself.

pub mod differential;
pub mod fuzzing;
pub mod oracle;
