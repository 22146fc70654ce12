//! The library side of the conformance crate: the logic of the fuzz targets of
//! `conformance/fuzz/`, shared with the regression tests of `conformance/tests/`.

pub mod fuzzing;
