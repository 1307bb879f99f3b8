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
//!   [`FUEL_STEP`]), `instances` the live states of one load, and
//!   separately its live instances of stateful contracts.
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
//!   thread gets control back and its next call runs in a fresh state
//!   (unless instances live in it: see below).
//! - A script that does not parse, raises, or loops while loading is a
//!   [`LoadError`](polyplug::LoadError) naming the file and line; a failed
//!   reload leaves the old version serving.
//! - Everything the runtime guarantees for native bundles holds: the
//!   registration checks, publish, reload and unload are the runtime's own
//!   code, not this crate's.
//! - No `unsafe` here: `forbid(unsafe_code)`.
//!
//! # Stateful contracts
//!
//! A contract with a `new` function is stateful:
//! [`create_instance`](polyplug::ContractRef::create_instance) calls
//! `new()`, which returns the instance's object (a table, usually with a
//! metatable), and each of the contract's functions is a *method* of that
//! object, called as `object:name(...)`. Its function entries give only
//! `sig`:
//!
//! ```lua
//! local Counter = {}
//! Counter.__index = Counter
//! function Counter.new() return setmetatable({ n = 0 }, Counter) end
//! function Counter:bump() self.n = self.n + 1; return self.n end
//! return { contracts = { { name = "demo.counter", version = "1.0.0", new = Counter.new,
//!     functions = { bump = { sig = "u32()" } } } } }
//! ```
//!
//! At load, `new` runs once in the load's own state: a `new` that is not
//! a function, raises, returns no table, or returns an object lacking one
//! of the methods is a [`LoadError`](polyplug::LoadError) naming the
//! file, the contract and the function; so is a `fn` in a stateful
//! contract. A method called without an instance is an `ERR_BAD_ARGUMENT`
//! fault.
//!
//! An instance belongs to the Lua state that made it: the object lives in
//! its thread's state of the load, and the [`Instance`](polyplug::Instance)
//! the host holds is plain data (the thread, the load, a key). So:
//!
//! - A call on another thread is a [`CallError`](polyplug::CallError)
//!   (`ERR_BAD_ARGUMENT`) naming bundle, contract and function and saying
//!   the instance belongs to another thread.
//! - Dropped on its own thread, the object is freed at once. Dropped on
//!   another thread, it is *pending* ([`LuaStats::instances_pending`]):
//!   its thread frees it at its next call into a Lua load, or when the
//!   state goes (the thread exits).
//! - As for native and WebAssembly instances, an instance keeps the
//!   version that made it: after a reload its calls still run the old
//!   script, in the old load's state.
//! - Budgets hold as for plain calls: each method call gets the fuel of a
//!   call, the object counts against its state's memory, and at most
//!   `limits.instances` instances of one load live at once. A method that
//!   fails (raises, runs out of fuel or memory) frees its object: the
//!   instance is unusable (`ERR_TRAP`) and a new one must be made. Its
//!   thread's state, holding other instances, is kept rather than
//!   replaced.
//!
//! A stateful contract may also give `save` (called with the instance's
//! object, returns its state as a string of bytes in the contract's own
//! format) and `restore` (called with such a string, returns a new object
//! as `new` does): then [`Instance::upgrade`](polyplug::Instance::upgrade)
//! hands a live instance over to the version serving after a reload, in
//! any language. Both or neither: one alone is a load error naming the
//! file, the contract and the function. `save` runs as a method call does,
//! on the instance's own thread only and under the same budgets, and a
//! failing one leaves the instance serving; `restore` makes its instance
//! as `create_instance` does, counted against `limits.instances`. A raise,
//! a result of the wrong type or a budget overrun in either is a fault
//! naming the contract, `save` or `restore`, and the script's words.
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
mod instance;
mod loader;
mod sandbox;
mod threads;

pub use budget::{Budget, LuaConfig};
pub use loader::{LuaLoader, LuaStats, StatsHandle};
pub use sandbox::FUEL_STEP;
