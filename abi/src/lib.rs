//! The C ABI that polyplug hosts and plugins share.
//!
//! # The problem
//!
//! A plugin written in Rust, C or C++ and a host written in Rust must agree
//! on every byte that crosses between them, across compilers and compiler
//! versions. Rust enums, `bool`s, slices and trait objects have no stable
//! layout, and a C plugin can hand back any bit pattern at all. So only plain
//! data crosses: `#[repr(C)]` structs of fixed-width integers, raw pointers,
//! `(ptr, len)` views and nullable `extern "C"` function pointers. Every code
//! is a `u32` with named constants, so whatever a plugin writes is a valid
//! value that the host can check.
//!
//! # The concepts
//!
//! - [`ABI_VERSION_SYMBOL`] and [`ENTRY_SYMBOL`]: what a plugin library
//!   exports. The host reads the version first and calls the entry point only
//!   when it equals [`ABI_VERSION`].
//! - [`EntryFn`]: the entry point. It receives the [`HostApi`] table and a
//!   [`BundleContext`] and registers the plugin's contracts.
//! - [`ContractId`]: a 64-bit id derived from `name@major` by FNV-1a
//!   ([`ContractId::of`]).
//! - [`Version`]: `major.minor.patch` with [`Version::satisfies`].
//! - [`ContractInterface`]: one versioned table of functions: native
//!   functions with the fixed calling convention [`NativeFn`], typed function
//!   pointers ([`TypedEntry`]), functions run by an engine with a context
//!   pointer per function ([`ContextEntry`], [`ContextFn`]) and optional
//!   instance constructors, with an optional state handover
//!   ([`SaveInstanceFn`], [`RestoreInstanceFn`]) that moves an instance's
//!   state to a newer version of the contract.
//! - Typed arguments and results beyond numbers: borrowed [`StrView`] and
//!   [`BytesView`] arguments (`str`, `bytes`), and [`OwnedBuf`] results
//!   (`string`, `buf`) that the caller owns and frees with the host's
//!   `free`.
//! - The *packed* call of a typed function: its arguments laid out as a C
//!   struct, its result written through a pointer, one [`ContextFn`] per
//!   function. Every engine-run function is called this way, and a native
//!   typed function may offer it too ([`TypedEntry::packed`]), so a caller
//!   that marshals at run time (a WebAssembly guest, a script, a C helper)
//!   calls any typed function of any language the same way.
//! - [`AbiError`] and the `ERR_*` codes.
//!
//! The C header `include/polyplug.h` is generated from this crate by
//! cbindgen; a test fails when the committed header is stale.
//!
//! # Guarantees
//!
//! Each is stated, with its argument, in `SAFETY.md` under the id given.
//!
//! - **Any bit pattern a plugin writes is a value the host can check.**
//!   Codes, levels and flags are `u32`, never Rust enums or `bool`s;
//!   function pointers are `Option<unsafe extern "C" fn>`, so null is
//!   `None`. The host copies a registered [`ContractInterface`] and checks
//!   every field before it uses any (\[R4\]).
//! - **The ABI version is checked before any plugin function runs.** The
//!   host reads [`ABI_VERSION_SYMBOL`] as a plain `u32` and looks up
//!   [`ENTRY_SYMBOL`] only when it equals [`ABI_VERSION`] (\[L2\]).
//! - **Every pointer says who owns it, and for how long.** Data handed to
//!   the host is read during the call only (\[P3\]); out-pointers are
//!   writable for one value (\[P4\]); views from `resolve_contract` are not
//!   kept (\[P5\], \[R7\]); an error message is static or allocated with
//!   the host's `alloc` and flagged [`ERROR_FLAG_HOST_ALLOCATED`] (\[P6\],
//!   \[R9\]).
//! - **Rust and C agree on every layout.** `tests/layout.rs` checks the size
//!   and field offsets of every type, `tests/c_header.rs` compiles the
//!   header, and `tests/header.rs` fails when it is stale.
//! - **No unsafe code**: the crate only describes data
//!   (`forbid(unsafe_code)`).
//!
//! # Example
//!
//! ```
//! use polyplug_abi::{AbiError, ContractId, ERR_NOT_FOUND, Version};
//!
//! let id = ContractId::of("test.add", 1);
//! assert_eq!(id, ContractId::of("test.add", 1));
//! assert_ne!(id, ContractId::of("test.add", 2));
//! assert!(Version::new(1, 4, 0).satisfies(Version::new(1, 2, 0)));
//!
//! // What crosses back on failure: a `u32` code and a (ptr, len) message.
//! let err = AbiError::new(ERR_NOT_FOUND, "no contract test.mul 1.0");
//! assert_eq!((err.code, err.message.len), (ERR_NOT_FOUND, 24));
//! ```
#![no_std]
#![forbid(unsafe_code)]

mod contract;
mod error;
mod host;
mod id;
mod str;
mod version;

pub use contract::{
    ContextCreateFn, ContextDestroyFn, ContextEntry, ContextFn, ContextRestoreFn, ContextSaveFn,
    ContractInterface, CreateInstanceFn, DestroyInstanceFn, NativeEntry, NativeFn,
    RestoreInstanceFn, SaveInstanceFn, TypedEntry, VoidFn,
};
pub use error::{
    AbiError, ERR_ABI_MISMATCH, ERR_BAD_ARGUMENT, ERR_BUDGET, ERR_DUPLICATE, ERR_INTERNAL,
    ERR_INVALID, ERR_NOT_FOUND, ERR_NOT_IN_INIT, ERR_OUT_OF_MEMORY, ERR_PANIC, ERR_PLUGIN,
    ERR_TRAP, ERR_UNDECLARED, ERR_UNSUPPORTED, ERROR_FLAG_HOST_ALLOCATED, OK,
};
pub use host::{
    ABI_VERSION, ABI_VERSION_SYMBOL, AllocFn, BundleContext, ContractHandle, ENTRY_SYMBOL, EntryFn,
    FindContractFn, FreeFn, HostApi, LOG_DEBUG, LOG_ERROR, LOG_INFO, LOG_TRACE, LOG_WARN,
    LastErrorFn, LogFn, RegisterContractFn, ResolveContractFn,
};
pub use id::ContractId;
pub use str::{BytesView, OwnedBuf, StrView};
pub use version::Version;
