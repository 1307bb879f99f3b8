//! Example plugin `counter-wasm` 2.0.0: contract `demo.counter` 1.0.0,
//! stepping by 2, built for wasm32-unknown-unknown. The code is the native
//! Rust counter's, `../../plugins/counter-common/counter.rs`: only the
//! target differs.

/// Which build of the shared source this is: `version()` answers it and
/// `step` adds it.
const VERSION: u32 = 2;

/// The plugin's name in its log messages.
const PLUGIN: &str = "counter-wasm";

include!("../../../plugins/counter-common/counter.rs");
