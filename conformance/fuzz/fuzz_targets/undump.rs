//! Fuzz target `undump`: see `lupa_conformance::fuzzing::undump`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lupa_conformance::fuzzing::undump(data));
