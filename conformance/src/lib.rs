//! The library side of the conformance crate: the logic of the fuzz targets of
//! `conformance/fuzz/`, shared with the regression tests of `conformance/tests/`, and the
//! C Lua 5.4.8 oracle that differential tests compare with.

pub mod fuzzing;
pub mod oracle;
