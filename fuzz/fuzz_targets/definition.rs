//! Contract definition files; see `polyplug_fuzz::definition`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| polyplug_fuzz::definition::check(bytes));
