//! A plugin's registration into `PlainInterface::validate`; see
//! `polyplug_fuzz::registration`.
#![no_main]

use polyplug_fuzz::registration::{Registration, check};

libfuzzer_sys::fuzz_target!(|input: Registration| check(&input));
