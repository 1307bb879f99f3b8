//! Versions, names and contract keys; see `polyplug_fuzz::syntax`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| polyplug_fuzz::syntax::check(bytes));
