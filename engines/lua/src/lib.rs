//! polyplug-lua: plugins written in Lua, loaded by polyplug like native
//! ones, run by Lua 5.4 under budgets.
//!
//! # The problem
//!
//! Some plugins are best written as scripts: small, changed often,
//! written by people who do not ship native code. A script must not be
//! able to crash or stall the host, and the host still wants what
//! polyplug gives native plugins: versioned contracts, typed calls from
//! any thread, hot reload while threads call, unload with stale handles.
//!
//! # The concepts
//!
//! - [`LuaLoader`] is a [`polyplug::loader::Loader`] for bundles with
//!   `loader = "lua"`; a host adds it with
//!   `Runtime::builder().loader(LuaLoader::new(LuaConfig::default()))`.
//!   The manifest's `[library]` entry names the script, which the runtime
//!   reads and checks against `library.sha256` as for any bundle.
//! - The script *returns a table* of the contracts it registers:
//!
//!   ```lua
//!   local M = {}
//!   function M.inc(x) return x + 1 end
//!   return {
//!     contracts = {
//!       { name = "demo.counter", version = "1.0.0",
//!         functions = {
//!           inc = { sig = "u32(u32)", fn = M.inc },
//!           greet = { sig = "string(str)", fn = function(name) return "hello " .. name end },
//!         } },
//!     },
//!   }
//!   ```
//!
//!   Each contract must be declared in the manifest's `[[provides]]`;
//!   signatures use polyplug's typed grammar. Integers arrive as Lua
//!   integers, floats as numbers, `str` and `bytes` as Lua strings; a
//!   `string` or `buf` result is a Lua string (`string` must be UTF-8).
//!   A result that does not fit its declared type (`-1` for `u32`, `1.5`
//!   for `i64`) is an `ERR_TRAP` naming the function, never wrapped.
//!   `u64` and `usize` arguments above `i64::MAX` are refused: Lua
//!   integers are 64-bit signed.
//! - The sandbox: the `coroutine`, `table`, `string`, `utf8`, `math` and
//!   `package` libraries and the base functions less `dofile` and
//!   `loadfile`; no `io`, `os` or `debug`. `require` finds `name.lua` and
//!   `name/init.lua` in the bundle directory only, with no C loaders
//!   (`package.cpath` is empty, `package.loadlib` is gone). Files
//!   `require`d are not covered by `library.sha256`.
//! - The `polyplug` table: `polyplug.find(name, "1.0.0")` (or a major
//!   number) gives a handle to any loaded contract of any language,
//!   `polyplug.call(handle, "fn", "u32(u32)", ...)` calls one of its
//!   typed functions, `polyplug.log(level, message)` logs for the bundle.
//!   A failed find or call raises a Lua error.
//! - [`Budget`]: from the manifest's `[limits]`, with the loader's
//!   defaults and the host's ceilings ([`LuaConfig`]): `memory_pages`
//!   (64 KiB pages) is each state's memory limit, `fuel` the VM
//!   instructions one call may run (an instruction hook every
//!   [`FUEL_STEP`]), `instances` the live states of one load.
//!
//! # Threads
//!
//! Each load keeps the script, not a state. Each calling thread gets its
//! own Lua state of the load on its first call (the script runs again
//! there), kept in a thread-local list: threads never share a state, so
//! the call path takes no lock. A state is freed by its own thread only:
//! when a load is dropped (after a reload or an unload, on the writer
//! side), its states on other threads are *pending* until that thread's
//! next call into any Lua load, or until it exits. [`LuaStats`] counts
//! live and pending states.
//!
//! # Guarantees
//!
//! - A script that raises, overflows its stack, runs out of fuel or of
//!   memory returns a [`CallError`](polyplug::CallError) (`ERR_TRAP`,
//!   `ERR_BUDGET`, as the WebAssembly engine does) naming bundle,
//!   contract, function, and the script's `file:line` and message; the
//!   thread gets control back and its next call runs in a fresh state.
//! - A script that does not parse, raises, or loops while loading is a
//!   [`LoadError`](polyplug::LoadError) naming the file and line; a failed
//!   reload leaves the old version serving.
//! - Everything the runtime guarantees for native bundles holds: the
//!   registration checks, publish, reload and unload are the runtime's own
//!   code, not this crate's.
//! - No `unsafe` here: `forbid(unsafe_code)`.
//!
//! Stateful contracts (instances) are not offered by Lua bundles yet.
//!
//! # Example
//!
//! ```
//! # if polyplug::MODEL_BUILD { return Ok(()); }
//! use polyplug::{Runtime, Version};
//! use polyplug_lua::{LuaConfig, LuaLoader};
//!
//! let dir = std::env::temp_dir().join(format!("polyplug-lua-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! std::fs::write(dir.join("answer.lua"), r#"
//!     return { contracts = { { name = "demo.answer", version = "1.0.0",
//!         functions = { answer = { sig = "u32()", fn = function() return 42 end } } } } }
//! "#)?;
//! std::fs::write(dir.join("manifest.toml"), format!(
//!     "[bundle]\nname = \"answer\"\nversion = \"1.0.0\"\nloader = \"lua\"\n\
//!      [library]\n{} = \"answer.lua\"\n[[provides]]\nname = \"demo.answer\"\nversion = \"1.0.0\"\n",
//!     std::env::consts::OS,
//! ))?;
//! let runtime = Runtime::builder().loader(LuaLoader::new(LuaConfig::default())).build()?;
//! runtime.load_bundle(&dir)?;
//! let reader = runtime.reader();
//! let guard = reader.pin();
//! let answer = guard.find("demo.answer", Version::new(1, 0, 0))?.typed::<extern "C" fn() -> u32>("answer")?;
//! assert_eq!(answer.try_call()?, 42);
//! # drop(guard);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod budget;
mod convert;
mod host;
mod loader;
mod sandbox;
mod threads;

pub use budget::{Budget, LuaConfig};
pub use loader::{LuaLoader, LuaStats, StatsHandle};
pub use sandbox::FUEL_STEP;
