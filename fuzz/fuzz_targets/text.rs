//! Text as messages show it; see `polyplug_fuzz::text`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| polyplug_fuzz::text::check(bytes));
