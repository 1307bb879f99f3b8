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
//! # The concepts
//!
//! - A **bundle** is a directory with a `manifest.toml` and a library
//!   ([`Runtime::load_bundle`], [`BundleId`]). The plugin registers
//!   **contracts**: versioned tables of functions, found by name and
//!   minimum [`Version`] ([`Guard::find`]), and kept as a
//!   [`ContractHandle`]. The host can publish contracts of its own
//!   ([`HostContract`]).
//! - Contracts live in a lock-free slot store (`polyplug-store`). A thread
//!   registers a [`Reader`] once and pins a [`Guard`] per call (or per
//!   batch; a [`Session`] makes per-call pins cheaper still).
//!   Everything found borrows the guard: a [`ContractRef`], its
//!   [`Typed`] functions (a plain `extern "C" fn` call) and its
//!   [`NativeFnRef`]s. A [`Binding`] re-finds a typed function through any
//!   guard at the cost of a handle check.
//! - A stateful contract makes [`Instance`]s, which keep the version that
//!   made them.
//! - Bundles of other kinds than native (WebAssembly, scripts) are loaded
//!   by [`loader::Loader`]s a host adds with [`Runtime::builder`]; their
//!   contracts are found, called, reloaded and unloaded exactly as native
//!   ones.
//! - A reload builds the new version completely off to the side, then
//!   swaps its tables in with one commit. Old tables are destroyed, and old
//!   libraries closed, on the writer side once no guard can reach them
//!   ([`Runtime::reclaim`], [`Runtime::drain`], [`Event::LibraryClosed`]).
//! - A [`Watch`] ([`Runtime::watch`], the `watch` feature, on by default)
//!   reloads a bundle when its files change, once they have been quiet for
//!   a while, so a library still being written is never read.
//!
//! # Guarantees
//!
//! Each is an invariant of `SAFETY.md` (at the repository root), argued
//! there and checked by the tests it lists.
//!
//! - Readers never lock and never wait for a writer; a reader sees a
//!   contract's whole old table or its whole new one (the store's \[S1\],
//!   \[S2\]).
//! - A call never reaches a closed library: every table and instance keeps
//!   its library loaded, and `dlclose` runs on the writer side only, after
//!   no guard can reach the library (\[R1\], \[R2\]).
//! - A contract or function borrowed from a guard cannot outlive it: the
//!   compiler refuses (\[R3\]).
//! - A kept [`ContractHandle`] reaches the new version after a reload and
//!   goes stale after an unload; in the runtime that issued it, it never
//!   reaches another contract (\[S3\], \[S4\]). A [`BundleId`] names a
//!   bundle only in the runtime that issued it; any other runtime refuses
//!   it ([`LoadError::ForeignBundle`]) and changes nothing.
//! - What a plugin registers is copied and checked before use, and the
//!   host never reads plugin memory after that (\[R4\]).
//! - A typed function is only ever called as the signature it registered
//!   (\[R6\], \[R10\]).
//! - A failed load, reload or unload changes nothing: the old version keeps
//!   serving (\[R8\]).
//! - A bundle's files are read before the writer's lock is taken, and a
//!   FIFO, socket, device or directory where a file should be is refused
//!   without being read, so no bundle can stall other writers.
//! - Error messages are one line of printable text: names, paths and
//!   plugin messages in them are escaped ([`polyplug_loader::Escaped`]),
//!   a plugin message is read up to [`PluginMessage::MAX_BYTES`] and says
//!   when it was cut; the error's fields keep the raw text.
//! - No panic crosses the boundary: every host function catches panics
//!   (\[R5\]).
//! - Plugin code that a write runs (an entry point, a library finaliser)
//!   and that calls back into the runtime through a host contract never
//!   deadlocks it: queries answer, writes are refused with
//!   [`LoadError::Reentrant`] and change nothing (\[R11\]).
//!
//! What the runtime asks of native plugins in turn is \[P1\]–\[P7\].
//!
//! # Example
//!
//! A reader calls a plugin while the writer hot-reloads it, v1 to v2:
//!
//! ```
//! # if polyplug::MODEL_BUILD { return Ok(()); }
//! use std::time::Duration;
//! use polyplug::{Runtime, Version};
//! use polyplug_fixtures::bundle;
//!
//! type VersionFn = extern "C" fn() -> u32;
//! let runtime = Runtime::new()?;
//! let id = runtime.load_bundle(bundle("reload-v1"))?;
//!
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         let reader = runtime.reader(); // once per thread
//!         for _ in 0..1_000 {
//!             let guard = reader.pin(); // no lock, no allocation
//!             let contract = guard.find("reload.test", Version::new(1, 0, 0)).unwrap();
//!             let answer = contract.typed::<VersionFn>("version").unwrap().call();
//!             assert!(answer == 100 || answer == 200); // v1 or v2, never anything else
//!         }
//!     });
//!     // Readers never wait for this.
//!     runtime.reload_bundle(id, Some(&bundle("reload-v2"))).unwrap();
//! });
//!
//! runtime.unload_bundle(id)?;
//! runtime.drain(Duration::from_secs(5))?;
//! assert_eq!(runtime.library_stats().closed, 2); // v1 and v2, both closed
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod binding;
mod builder;
mod contracts;
mod entry;
mod error;
mod event;
mod foreign;
mod graph;
mod host;
pub mod interface;
mod library;
pub mod loader;
mod message;
mod read;
mod runtime;
mod signature;
#[cfg(feature = "watch")]
mod watch;
mod writer;

pub use binding::{AnchoredBinding, Binding, Held};
pub use builder::RuntimeBuilder;
pub use entry::{BundleId, ContractHandle, Provider};
pub use error::{
    CallError, ContractMismatch, FindError, HandoverError, HandoverStep, InstanceError, LoadError,
};
pub use event::{Event, LogLevel};
pub use foreign::{ErasedBinding, ErasedFn};
pub use library::{Closed, CodeStats, LibraryStats};
pub use message::PluginMessage;
pub use polyplug_abi::{ContractId, Version};
pub use polyplug_loader::{PublicKey, SealError, SecretKey, Trust, Unmapped};
pub use polyplug_store::Revision;

/// True when the runtime was built for a model checker (`--cfg loom` or
/// `--cfg shuttle`). The store's primitives then work only inside a model,
/// so every doc example that loads or reads returns at once there: rustdoc
/// does not see `RUSTFLAGS`, but links the examples against the model build.
#[doc(hidden)]
pub use polyplug_store::sync::MODEL_BUILD;
pub use read::{ContractKey, ContractRef, Guard, Instance, NativeFnRef, Reader, Session};
pub use runtime::{BundleInfo, HostContract, Runtime};
pub use signature::{AbiType, Bytes, InstanceFn, Param, RawSignature, Ret, Signature, Str, Typed};
#[cfg(feature = "watch")]
pub use watch::{Watch, WatchError, WatchOptions};
pub use writer::{CalledFrom, InProgress, Operation};
