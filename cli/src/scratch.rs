//! The runtime every command loads bundles into: native bundles and, with
//! polyplug's engines, WebAssembly, Lua, JavaScript and Python ones.

use polyplug::Runtime;
use polyplug_js::{JsConfig, JsLoader, JsStatsHandle};
use polyplug_lua::{LuaConfig, LuaLoader};
use polyplug_python::{PythonConfig, PythonLoader};
use polyplug_wasm::{WasmConfig, WasmLoader};

use crate::error::CliError;

/// The counters of the engine objects a runtime's loaders made and freed.
#[derive(Debug, Clone)]
pub(crate) struct Engines {
    /// Wasm modules and instances.
    pub(crate) wasm: polyplug_wasm::StatsHandle,
    /// Lua loads and states.
    pub(crate) lua: polyplug_lua::StatsHandle,
    /// JavaScript loads and states.
    pub(crate) js: JsStatsHandle,
    /// Python loads, modules and thread states.
    pub(crate) python: polyplug_python::StatsHandle,
}

/// A runtime that loads native, wasm, Lua, JavaScript and Python bundles,
/// and the counters of its engines.
pub(crate) fn runtime() -> Result<(Runtime, Engines), CliError> {
    let wasm = WasmLoader::new(WasmConfig::default());
    let lua = LuaLoader::new(LuaConfig::default());
    let js = JsLoader::new(JsConfig::default());
    let python = PythonLoader::new(PythonConfig::default());
    let engines = Engines {
        wasm: wasm.stats_handle(),
        lua: lua.stats_handle(),
        js: js.stats_handle(),
        python: python.stats_handle(),
    };
    let runtime = Runtime::builder()
        .loader(wasm)
        .loader(lua)
        .loader(js)
        .loader(python)
        .build()
        .map_err(CliError::Runtime)?;
    Ok((runtime, engines))
}
