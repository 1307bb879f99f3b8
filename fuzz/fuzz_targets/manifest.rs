//! `manifest.toml` bytes into `parse_manifest`; see `polyplug_fuzz::manifest`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| polyplug_fuzz::manifest::check(bytes));
