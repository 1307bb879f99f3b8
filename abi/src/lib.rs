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
//! # The pieces
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
//!   pointers ([`TypedEntry`]) and optional instance constructors.
//! - [`AbiError`] and the `ERR_*` codes.
//!
//! The C header `include/polyplug.h` is generated from this crate by
//! cbindgen; a test fails when the committed header is stale.
//!
//! # Example
//!
//! ```
//! use polyplug_abi::{ContractId, Version};
//!
//! let id = ContractId::of("test.add", 1);
//! assert_eq!(id, ContractId::of("test.add", 1));
//! assert_ne!(id, ContractId::of("test.add", 2));
//! assert!(Version::new(1, 4, 0).satisfies(Version::new(1, 2, 0)));
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
    ContractInterface, CreateInstanceFn, DestroyInstanceFn, NativeEntry, NativeFn, TypedEntry,
    VoidFn,
};
pub use error::{
    AbiError, ERR_ABI_MISMATCH, ERR_BAD_ARGUMENT, ERR_DUPLICATE, ERR_INTERNAL, ERR_INVALID,
    ERR_NOT_FOUND, ERR_NOT_IN_INIT, ERR_OUT_OF_MEMORY, ERR_PANIC, ERR_PLUGIN, ERR_UNDECLARED,
    ERR_UNSUPPORTED, ERROR_FLAG_HOST_ALLOCATED, OK,
};
pub use host::{
    ABI_VERSION, ABI_VERSION_SYMBOL, AllocFn, BundleContext, ContractHandle, ENTRY_SYMBOL, EntryFn,
    FindContractFn, FreeFn, HostApi, LOG_DEBUG, LOG_ERROR, LOG_INFO, LOG_TRACE, LOG_WARN,
    LastErrorFn, LogFn, RegisterContractFn, ResolveContractFn,
};
pub use id::ContractId;
pub use str::StrView;
pub use version::Version;
