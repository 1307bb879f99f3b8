//! Example plugin `counter-rust` 2.0.0: contract `demo.counter` 1.0.0,
//! stepping by 2. The code is `../counter-common/counter.rs`, shared with
//! `counter-rust-v1`.

/// Which build of the shared source this is: `version()` answers it and
/// `step` adds it.
const VERSION: u32 = 2;

/// The plugin's name in its log messages.
const PLUGIN: &str = "counter-rust";

include!("../../counter-common/counter.rs");
