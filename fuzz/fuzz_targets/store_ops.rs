//! Store operations against the reference model; see
//! `polyplug_fuzz::store_ops`.
#![no_main]

use polyplug_fuzz::store_ops::{Script, check};

libfuzzer_sys::fuzz_target!(|script: Script| check(&script));
