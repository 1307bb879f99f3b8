//! polyplug's benchmarks, and the code they share with the instruction
//! counts.
//!
//! # The problem
//!
//! "Zero overhead" is a claim about ratios: a call through a resolved
//! contract against the raw `dlsym` call a host would write without
//! polyplug, a reload against a bare `dlopen` cycle, two readers against
//! one. Absolute times differ between machines; ratios taken in one run
//! do not. So every benchmark here measures its baseline beside it, in the
//! same run, and `report` prints each arm's ratio to its baseline.
//!
//! # The pieces
//!
//! - [`counter`]: the "count to a million" arms, `counter = inc(counter)`
//!   through each mechanism. The criterion bench `counter_inc` times them;
//!   the `count` binary runs them under callgrind for instructions per call.
//! - [`bare`]: the bare `dlopen` + `dlsym` + init + `dlclose` cycle that
//!   the lifecycle bench compares the runtime's load and reload with.
//! - [`registry`]: a runtime holding many host contracts, for find and
//!   resolve at 10 to 10,000 contracts.
//! - [`capi`]: the C API opened as a C host links it: its typed function
//!   pointer against `dlsym`, and `polyplug_find` against `Guard::find`.
//! - [`wasm`]: the wasm loader against wasmi used directly on the same
//!   module: a typed call, load and reload, two calling threads.
//! - [`script`]: the Lua and JavaScript loaders against mlua and rquickjs
//!   used directly on the same script: a typed call, two calling threads.
//!
//! # Running
//!
//! ```text
//! cargo bench -p polyplug-benches
//! cargo run --release -p polyplug-benches --bin report -- --callgrind
//! ```
//!
//! # Example
//!
//! Every arm computes the same count:
//!
//! ```
//! # if polyplug::MODEL_BUILD { return; }
//! use polyplug_benches::counter::{Arm, Setup};
//!
//! let setup = Setup::new().unwrap();
//! for arm in Arm::ALL {
//!     assert_eq!(setup.run(arm, 1_000).unwrap(), 1_000, "{arm:?}");
//! }
//! ```

pub mod bare;
pub mod capi;
pub mod counter;
pub mod registry;
pub mod script;
pub mod wasm;
pub mod wasmtime;
