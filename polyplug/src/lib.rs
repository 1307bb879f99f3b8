//! polyplug: load plugins, call them at the cost of a raw FFI call, and
//! hot-reload or unload them while other threads keep calling.
//!
//! # The problem
//!
//! A host that loads native plugins wants three things that pull against
//! each other. Calls must be as cheap as calling a function pointer. A
//! plugin must be replaceable while threads are calling it, without those
//! threads ever seeing half a table, calling into a closed library, or
//! waiting on a lock. And a bad plugin file, or a plugin that fails, must
//! cost the host an error message, never what it already had loaded.
//!
//! # How polyplug answers
//!
//! - A **bundle** is a directory with a `manifest.toml` and a library. The
//!   plugin registers **contracts**: versioned tables of functions, found by
//!   name and minimum version ([`Guard::find`]).
//! - Every contract lives in a lock-free slot store (`polyplug-store`).
//!   A reader pins a [`Guard`]; everything it finds borrows the guard, so
//!   the compiler stops a call through a table after the guard is gone, and
//!   while the guard lives the table and its library stay loaded.
//! - A reload builds the new version completely off to the side, then
//!   swaps its tables in with one commit. Old tables are destroyed, and old
//!   libraries closed, on the writer side once no guard can reach them.
//!   Every failure before the commit leaves the old version serving.
//!
//! # Example
//!
//! ```no_run
//! use polyplug::{Runtime, Version};
//!
//! let runtime = Runtime::new()?;
//! let bundle = runtime.load_bundle("plugins/reload-test")?;
//!
//! let reader = runtime.reader(); // one per thread
//! {
//!     let guard = reader.pin();
//!     let contract = guard.find("reload.test", Version::new(1, 0, 0))?;
//!     let version = contract.typed::<extern "C" fn() -> u32>("version")?;
//!     println!("serving {}", version.call());
//! }
//! runtime.reload_bundle(bundle, None)?; // readers switch without waiting
//! runtime.unload_bundle(bundle)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `SAFETY.md` at the repository root states the invariants (\[R1\]–\[R9\]
//! for this crate) and what the runtime asks of plugins (\[P1\]–\[P6\]).

mod binding;
mod entry;
mod error;
mod event;
mod graph;
mod host;
pub mod interface;
mod library;
mod read;
mod runtime;
mod signature;

pub use binding::Binding;
pub use entry::{BundleId, ContractHandle, Provider};
pub use error::{CallError, FindError, InstanceError, LoadError};
pub use event::{Event, LogLevel};
pub use library::{Closed, LibraryStats};
pub use polyplug_abi::{ContractId, Version};
pub use polyplug_loader::Unmapped;
pub use polyplug_store::Revision;
pub use read::{ContractRef, Guard, Instance, NativeFnRef, Reader, Session};
pub use runtime::{BundleInfo, HostContract, Runtime};
pub use signature::{AbiType, Signature, Typed};
