//! The runtime every command loads bundles into: native bundles and, with
//! polyplug's wasm loader, WebAssembly ones.

use polyplug::Runtime;
use polyplug_wasm::{StatsHandle, WasmConfig, WasmLoader};

use crate::error::CliError;

/// A runtime that loads native and wasm bundles, and the counters of its
/// wasm engine objects.
pub(crate) fn runtime() -> Result<(Runtime, StatsHandle), CliError> {
    let loader = WasmLoader::new(WasmConfig::default());
    let stats = loader.stats_handle();
    let runtime = Runtime::builder()
        .loader(loader)
        .build()
        .map_err(CliError::Runtime)?;
    Ok((runtime, stats))
}
