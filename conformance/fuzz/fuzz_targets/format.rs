//! Fuzz target `format`: see `lupa_conformance::fuzzing::format`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lupa_conformance::fuzzing::format(data));
