//! Example plugin `counter-rust` 1.0.0: contract `demo.counter` 1.0.0,
//! stepping by 1. The code is `../counter-common/counter.rs`, shared with
//! `counter-rust-v2`.

/// Which build of the shared source this is: `version()` answers it and
/// `step` adds it.
const VERSION: u32 = 1;

/// The plugin's name in its log messages.
const PLUGIN: &str = "counter-rust";

include!("../../counter-common/counter.rs");
