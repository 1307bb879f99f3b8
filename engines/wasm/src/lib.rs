//! polyplug-wasm: plugins compiled to WebAssembly, loaded by polyplug like
//! native ones, run under budgets by the wasmi interpreter or, with the
//! `wasmtime` feature, compiled by wasmtime
//! (`WasmLoader::wasmtime`; `docs/wasm-plugins.md` compares the two).
//!
//! # The problem
//!
//! A native plugin runs with the host's full trust: a bug in it is a bug
//! in the host. A plugin compiled to WebAssembly cannot reach host memory,
//! and an interpreter can stop it: a loop that never ends runs out of
//! fuel, a recursion out of stack, a `memory.grow` hits its limit. The
//! host still wants what polyplug gives native plugins: versioned
//! contracts, typed calls from any thread, hot reload while threads call,
//! unload with stale handles.
//!
//! # The concepts
//!
//! - [`WasmLoader`] is a [`polyplug::loader::Loader`] for bundles with
//!   `loader = "wasm"`; a host adds it with
//!   `Runtime::builder().loader(WasmLoader::new(WasmConfig::default()))`.
//! - A module declares its contracts by its export names
//!   (`test.add@1.0.0/add:u32(u32,u32)`); `docs/wasm-plugins.md` is the
//!   guide for authors.
//! - [`Budget`]: memory pages, fuel per call, recursion depth, table
//!   elements and instances, from the manifest's `[limits]`, with the
//!   loader's defaults and the host's ceilings ([`WasmConfig`]).
//! - Each load compiles the module once. Each calling thread gets its own
//!   wasm instance on its first call; a stateful contract's
//!   [`Instance`](polyplug::Instance) gets one of its own, whose linear
//!   memory is its state.
//! - A stateful contract that exports `+save` and `+restore` hands an
//!   instance's state over to a reloaded version of any language
//!   (`Instance::upgrade`); `str`/`bytes` arguments, `string`/`buf`
//!   results and the state cross through the module's `polyplug_alloc`
//!   and `polyplug_free` (`docs/wasm-plugins.md`, "Bytes across the
//!   boundary").
//!
//! # Guarantees
//!
//! - A guest that traps, loops or exhausts a budget returns a
//!   [`CallError`](polyplug::CallError) (`ERR_TRAP`, `ERR_BUDGET`) naming
//!   bundle, contract, function and trap; the thread gets control back and
//!   its next call runs in a fresh instance.
//! - Everything the runtime guarantees for native bundles holds: the
//!   registration checks, publish, reload and unload are the runtime's own
//!   code, not this crate's.
//! - Engine objects of a load are dropped on the writer side, after no
//!   guard can reach the load (`SAFETY.md`, \[W1\], \[W2\]), and counted
//!   ([`WasmStats`]).
//!
//! # Example
//!
//! ```
//! # if polyplug::MODEL_BUILD { return Ok(()); }
//! use polyplug::{Runtime, Version};
//! use polyplug_wasm::{WasmConfig, WasmLoader};
//!
//! let dir = std::env::temp_dir().join(format!("polyplug-wasm-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! // (module (func (export "demo.answer@1.0.0/answer:u32()") (result i32) i32.const 42))
//! let module = [
//!     0x00, b'a', b's', b'm', 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01,
//!     0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x22, 0x01, 0x1e, b'd', b'e', b'm', b'o', b'.',
//!     b'a', b'n', b's', b'w', b'e', b'r', b'@', b'1', b'.', b'0', b'.', b'0', b'/', b'a',
//!     b'n', b's', b'w', b'e', b'r', b':', b'u', b'3', b'2', b'(', b')', 0x00, 0x00, 0x0a,
//!     0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b,
//! ];
//! std::fs::write(dir.join("answer.wasm"), module)?;
//! std::fs::write(dir.join("manifest.toml"), format!(
//!     "[bundle]\nname = \"answer\"\nversion = \"1.0.0\"\nloader = \"wasm\"\n\
//!      [library]\n{} = \"answer.wasm\"\n[[provides]]\nname = \"demo.answer\"\nversion = \"1.0.0\"\n",
//!     std::env::consts::OS,
//! ))?;
//! let runtime = Runtime::builder().loader(WasmLoader::new(WasmConfig::default())).build()?;
//! runtime.load_bundle(&dir)?;
//! let reader = runtime.reader();
//! let guard = reader.pin();
//! let answer = guard.find("demo.answer", Version::new(1, 0, 0))?.typed::<extern "C" fn() -> u32>("answer")?;
//! assert_eq!(answer.try_call()?, 42);
//! # drop(guard);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backend;
mod budget;
mod cache;
mod guest;
mod imports;
mod loader;
mod transfer;
mod typed;
mod wasmi_engine;
#[cfg(feature = "wasmtime")]
mod wasmtime_engine;

pub use budget::{Budget, WasmConfig};
pub use loader::{StatsHandle, WasmLoader, WasmStats};
