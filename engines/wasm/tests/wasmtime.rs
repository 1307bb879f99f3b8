//! The WebAssembly suites (`suite/`) on wasmtime: every test the default
//! engine passes, with the same typed errors.
#![cfg(all(feature = "wasmtime", not(any(loom, shuttle, miri))))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

use polyplug_wasm::{WasmConfig, WasmLoader};

/// The loader the suites run on.
fn engine(config: WasmConfig) -> WasmLoader {
    WasmLoader::wasmtime(config)
}

#[path = "suite/wat_modules.rs"]
mod wat_modules;

#[path = "suite/compiled_guests.rs"]
mod compiled_guests;

#[path = "suite/handover.rs"]
mod handover;

#[path = "suite/bytes.rs"]
mod bytes;
