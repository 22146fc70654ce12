//! Fuzz target `run`: see `lupa_conformance::fuzzing::run`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lupa_conformance::fuzzing::run(data));
