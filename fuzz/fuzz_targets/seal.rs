//! Signed bundles' signature file, hash list and keys; see `polyplug_fuzz::seal`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| polyplug_fuzz::seal::check(bytes));
