//! Bytes as a WebAssembly module, through the wasm loader, every typed
//! export called with arbitrary arguments; see `polyplug_fuzz::wasm_module`.
#![no_main]

use polyplug_fuzz::wasm_module::{WasmInput, check};

libfuzzer_sys::fuzz_target!(|input: WasmInput| {
    check(&input);
});
