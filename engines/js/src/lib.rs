//! polyplug-js: plugins written in JavaScript, loaded by polyplug like
//! native ones, run by QuickJS under budgets.
//!
//! # The problem
//!
//! A host that wants plugins in a scripting language still wants what
//! polyplug gives native plugins: versioned contracts, typed calls from
//! any thread, hot reload while threads call, unload with stale handles,
//! and a script that loops, recurses or allocates without end must not
//! take the host with it.
//!
//! # The concepts
//!
//! - [`JsLoader`] is a [`polyplug::loader::Loader`] for bundles with
//!   `loader = "javascript"`; a host adds it with
//!   `Runtime::builder().loader(JsLoader::new(JsConfig::default()))`.
//! - A bundle is its `manifest.toml` and one ES module, the `[library]`
//!   entry for the platform. The module cannot `import` anything: the
//!   loader gives QuickJS no module loader, so an import fails at load.
//! - **Registration.** The module exports `contracts`, an array of
//!   `{ name, version, functions }`, where `functions` maps each function
//!   name to `{ sig, fn }`:
//!
//!   ```js
//!   export const contracts = [{
//!     name: "demo.counter",
//!     version: "1.0.0",
//!     functions: {
//!       inc: { sig: "u32(u32)", fn: (x) => x + 1 },
//!     },
//!   }];
//!   ```
//!
//!   `sig` is a typed signature (`polyplug::loader::TypedSignature`);
//!   `fn.length` must equal its number of arguments. The runtime then
//!   checks the registration as it checks a native one (valid names and
//!   signatures, declared in `[[provides]]`, no duplicate).
//! - **Values.** `u8`..`u32`, `i8`..`i32`, `f32`, `f64` are numbers;
//!   `u64`, `i64`, `usize`, `isize` arrive as `BigInt`s and may be
//!   returned as `BigInt`s or integral numbers; `str` is a string, `bytes`
//!   a `Uint8Array` (a copy); a `string` result is a string, a `buf`
//!   result a `Uint8Array` or `ArrayBuffer`. A result that does not fit
//!   its type (a fraction, out of range, the wrong kind) is a fault naming
//!   the function, never wrapped.
//! - [`Budget`]: heap, fuel per call, stack, states, from the manifest's
//!   `[limits]` (`memory_pages`, `fuel`, `recursion_depth`, `instances`),
//!   with the loader's defaults and the host's ceilings ([`JsConfig`]):
//!   QuickJS's memory limit, its stack limit, and an interrupt handler
//!   that counts fuel.
//! - **Threads.** QuickJS runtimes are single-threaded. Each calling
//!   thread gets its own QuickJS runtime and context per load, made on
//!   its first call by evaluating the module, kept in a thread-local cache
//!   keyed by the load; calls on different threads share no lock. A state
//!   of a load that was reloaded or unloaded is freed by its own thread,
//!   at its next call into the engine or when it exits
//!   ([`collect_this_thread`]); [`JsStats`] counts live and pending
//!   states.
//! - **The host.** A script reaches every loaded contract through the
//!   `polyplug` global: `polyplug.find(name, minVersion)`,
//!   `polyplug.call(handle, function, signature, ...args)`,
//!   `polyplug.log(level, message)`.
//!
//! # Guarantees
//!
//! - A script that throws returns a [`CallError`](polyplug::CallError)
//!   with `ERR_TRAP`; one that runs out of fuel, memory or stack returns
//!   `ERR_BUDGET`, as the wasm engine does. The message names bundle,
//!   contract, function, the script's message and its file:line. The
//!   thread gets control back; after a budget fault its next call runs in
//!   a fresh state (unless instances live in it: see below).
//! - A syntax error or an exception while the module evaluates fails the
//!   load with a [`CodeError`](polyplug::loader::CodeError) naming the
//!   file and line; a reload that fails leaves the old load serving.
//!
//! # Stateful contracts
//!
//! A contract entry with a `class` is stateful:
//! [`create_instance`](polyplug::ContractRef::create_instance) makes
//! `new Class()`, and each of the contract's functions is a *method* of
//! the class, called with the instance as `this`. Its function entries
//! give only `sig`:
//!
//! ```js
//! class Counter {
//!   constructor() { this.n = 0; }
//!   bump() { this.n += 1; return this.n; }
//! }
//! export const contracts = [{ name: "demo.counter", version: "1.0.0", class: Counter,
//!   functions: { bump: { sig: "u32()" } } }];
//! ```
//!
//! At load, a `class` that is not a constructor, a prototype lacking one
//! of the methods, a method whose `length` differs from its signature's
//! arguments, or a `fn` in a stateful contract is a
//! [`CodeError`](polyplug::loader::CodeError) naming the file, the
//! contract and the function. A constructor that throws fails
//! `create_instance` with a `CallError`. A method called without an
//! instance is an `ERR_BAD_ARGUMENT` fault.
//!
//! An instance belongs to the QuickJS state that made it: the object lives
//! in its thread's state of the load, and the
//! [`Instance`](polyplug::Instance) the host holds is plain data (the
//! thread, the load, a key). So:
//!
//! - A call on another thread is a [`CallError`](polyplug::CallError)
//!   (`ERR_BAD_ARGUMENT`) naming bundle, contract and function and saying
//!   the instance belongs to another thread.
//! - Dropped on its own thread, the object is freed at once. Dropped on
//!   another thread, it is *pending* ([`JsStats::instances_pending`]): its
//!   thread frees it at its next call into the engine
//!   ([`collect_this_thread`]), or when the state goes (the thread exits).
//! - As for native and WebAssembly instances, an instance keeps the
//!   version that made it: after a reload its calls still run the old
//!   module, in the old load's state.
//! - Budgets hold as for plain calls: each method call gets the fuel of a
//!   call, the object counts against its state's heap, and at most
//!   `limits.instances` instances of one load live at once. A method that
//!   fails (throws, runs out of fuel, memory or stack) frees its object:
//!   the instance is unusable (`ERR_TRAP`) and a new one must be made. A
//!   state holding instances is kept after a budget fault rather than
//!   replaced.
//!
//! A stateful contract entry may also give `save` (called with the
//! instance, returns its state as a `Uint8Array` or an `ArrayBuffer`, in
//! the contract's own format) and `restore` (called with such bytes as a
//! `Uint8Array`, returns a new instance object): then
//! [`Instance::upgrade`](polyplug::Instance::upgrade) hands a live
//! instance over to the version serving after a reload, in any language.
//! Both or neither: one alone is a load error naming the file, the
//! contract and the function. `save` runs as a method call does, on the
//! instance's own thread only and under the same budgets, and a failing
//! one leaves the instance serving; `restore` makes its instance as
//! `create_instance` does, counted against `limits.instances`. A throw, a
//! result of the wrong type or a budget overrun in either is a fault
//! naming the contract, `save` or `restore`, and what was thrown with its
//! file and line.
//!
//! # Example
//!
//! ```
//! # if polyplug::MODEL_BUILD { return Ok(()); }
//! use polyplug::{Runtime, Version};
//! use polyplug_js::{JsConfig, JsLoader};
//!
//! let dir = std::env::temp_dir().join(format!("polyplug-js-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! std::fs::write(
//!     dir.join("counter.js"),
//!     r#"export const contracts = [{ name: "demo.counter", version: "1.0.0",
//!          functions: { inc: { sig: "u32(u32)", fn: (x) => x + 1 } } }];"#,
//! )?;
//! std::fs::write(dir.join("manifest.toml"), format!(
//!     "[bundle]\nname = \"counter\"\nversion = \"1.0.0\"\nloader = \"javascript\"\n\
//!      [library]\n{} = \"counter.js\"\n[[provides]]\nname = \"demo.counter\"\nversion = \"1.0.0\"\n",
//!     std::env::consts::OS,
//! ))?;
//! let runtime = Runtime::builder().loader(JsLoader::new(JsConfig::default())).build()?;
//! runtime.load_bundle(&dir)?;
//! let reader = runtime.reader();
//! let guard = reader.pin();
//! let inc = guard.find("demo.counter", Version::new(1, 0, 0))?.typed::<extern "C" fn(u32) -> u32>("inc")?;
//! assert_eq!(inc.try_call(41)?, 42);
//! # drop(guard);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod budget;
mod host;
mod instance;
mod loader;
mod state;
mod values;

pub use budget::{Budget, JsConfig, OPS_PER_CHECK, STACK_BYTES_PER_FRAME};
pub use loader::{JsLoader, JsStats, JsStatsHandle};
pub use state::collect_this_thread;
