//! libpolyplug: the polyplug runtime for hosts written in C, C++ and
//! Python.
//!
//! # The problem
//!
//! A host that is not written in Rust wants what a Rust host gets: calls at
//! the cost of a function pointer, hot reload while its threads call,
//! errors that say what went wrong, and nothing lost when a reload fails.
//! But a C compiler checks none of the rules the Rust compiler checks for a
//! Rust host: that a guard stays on its thread, that nothing borrowed from a
//! guard outlives it, that an object is freed once. This crate is the C API
//! (`extern "C"` functions over [`engine::Runtime`], with no
//! runtime logic of its own) and the checks that make those mistakes
//! detectable where they are cheap to detect.
//!
//! # The concepts
//!
//! - A **runtime** (`polyplug_runtime *`) is a [`engine::Runtime`]:
//!   load, reload, unload, drain, reclaim, host contracts, events.
//! - A **reader** (`polyplug_reader *`) registers one thread for reads; a
//!   **guard** (`polyplug_guard`, a small value) pins it per call or per
//!   batch. Everything found under a guard is valid while it is pinned.
//! - A **contract** (`polyplug_contract`, a `uint64_t`) is a kept
//!   [`engine::ContractHandle`]: generation-checked, it follows
//!   reloads and goes stale on unload.
//! - A **function** (`polyplug_fn *`) is a typed function checked once
//!   against the caller's signature string, fetched per guard as a plain C
//!   function pointer.
//! - Every call returns a `polyplug_status`; the message of the last failure
//!   on the calling thread is kept for the host to read.
//!
//! # Guarantees
//!
//! Argued in `SAFETY.md`, section "The C API", invariants \[C1\]–\[C8\]:
//!
//! - No panic crosses the boundary: every exported function runs its body
//!   under one `catch_unwind`, in `guarded` (\[C7\]).
//! - Misuse is detected where it is cheap: NULL arguments, handles of the
//!   wrong kind or already destroyed (while their memory is not reused),
//!   stale guards, guards and readers on the wrong thread, destroying a
//!   runtime with live readers or a reader with live guards, stale contract
//!   handles, wrong signatures, an instance used by two threads at once.
//!   The header says exactly what is and is not checked.
//! - No global state beyond a thread-local last error: two runtimes in one
//!   process are independent.
//!
//! # Example
//!
//! The same calls from Rust (a C host makes them through the header):
//!
//! ```
//! # if engine::MODEL_BUILD { return; }
//! use std::ffi::CString;
//! use polyplug_capi::*;
//!
//! let dir = CString::new(polyplug_fixtures::bundle("test-add").to_str().unwrap()).unwrap();
//! let (mut runtime, mut reader) = (std::ptr::null_mut(), std::ptr::null_mut());
//! let (mut guard, mut contract, mut inc) = (polyplug_guard::NONE, 0, None);
//! let version = polyplug_abi::Version::new(1, 0, 0);
//! // SAFETY (each call): [C4] every pointer is a live local; handles come
//! // from the library and are used on this thread.
//! let statuses = [
//!     // SAFETY: as above.
//!     unsafe { polyplug_runtime_new(&mut runtime) },
//!     // SAFETY: as above.
//!     unsafe { polyplug_load_bundle(runtime, dir.as_ptr(), std::ptr::null_mut()) },
//!     // SAFETY: as above.
//!     unsafe { polyplug_reader_new(runtime, &mut reader) },
//!     // SAFETY: as above.
//!     unsafe { polyplug_pin(reader, &mut guard) },
//!     // SAFETY: as above.
//!     unsafe { polyplug_find(guard, c"test.add".as_ptr(), version, &mut contract) },
//!     // SAFETY: as above.
//!     unsafe { polyplug_typed(guard, contract, c"inc".as_ptr(), c"u32(u32)".as_ptr(), &mut inc) },
//! ];
//! assert_eq!(statuses, [POLYPLUG_OK; 6]);
//! // SAFETY: [C5] checked as u32(u32); called while `guard` is pinned.
//! let inc: extern "C" fn(u32) -> u32 = unsafe { std::mem::transmute(inc.unwrap()) };
//! assert_eq!(inc(41), 42);
//! let statuses = [
//!     // SAFETY: as above; each handle destroyed once, in order.
//!     unsafe { polyplug_unpin(guard) },
//!     // SAFETY: as above.
//!     unsafe { polyplug_reader_destroy(reader) },
//!     // SAFETY: as above.
//!     unsafe { polyplug_runtime_destroy(runtime) },
//! ];
//! assert_eq!(statuses, [POLYPLUG_OK; 3]);
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![expect(
    non_camel_case_types,
    reason = "the C API's types carry the names C hosts write: polyplug_runtime, polyplug_guard"
)]

mod buf;
mod bundles;
mod call;
mod error;
mod events;
mod host;
mod object;
mod read;
mod runtime;
mod status;

pub use buf::*;
pub use bundles::*;
pub use call::*;
pub use error::*;
pub use events::*;
pub use host::*;
pub use read::*;
pub use runtime::*;
pub use status::*;
