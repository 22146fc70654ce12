//! Fuzz target `pack`: see `lupa_conformance::fuzzing::pack`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lupa_conformance::fuzzing::pack(data));
