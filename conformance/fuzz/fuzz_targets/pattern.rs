//! Fuzz target `pattern`: see `lupa_conformance::fuzzing::pattern`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lupa_conformance::fuzzing::pattern(data));
