//! Typed-function signature spellings; see `polyplug_fuzz::signature`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| polyplug_fuzz::signature::check(bytes));
