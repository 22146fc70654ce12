//! Fuzz target `compile`: see `lupa_conformance::fuzzing::compile`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lupa_conformance::fuzzing::compile(data));
