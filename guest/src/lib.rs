//! The Rust SDK for polyplug plugins: ordinary Rust functions plus one
//! [`plugin!`] declaration make a plugin library.
//!
//! # The problem
//!
//! A polyplug plugin is a shared library that speaks the C ABI of
//! [`polyplug_abi`]: it exports a `u32` named `polyplug_abi_version` and an
//! entry point `polyplug_entry`, and registers contract tables of raw
//! function pointers that take `*const c_void` arguments and write a
//! `*mut AbiError`. Written by hand, that is a page of `unsafe` per
//! function, and one panic that unwinds into the host, one signature string
//! spelled wrong, or one error message freed by the wrong allocator is a
//! crash in somebody else's process.
//!
//! # The concepts
//!
//! - [`plugin!`] declares the plugin: an optional init function and any
//!   number of contracts with their native functions (`fn(&Args) ->
//!   Result<Out, Error>`), typed functions (plain `fn(u32) -> u32`, or
//!   with text and bytes: `fn(&str) -> String`, `fn(&[u8]) -> Vec<u8>`) and
//!   optional per-instance state. It generates the exports, a thunk per
//!   function and the static tables ([`StaticTable`]).
//! - **State handover**: a stateful contract may add `save = ..;
//!   restore = ..;` after its `state` line. `save` writes an instance's
//!   state as bytes in the plugin's own format, `restore` makes a state
//!   from such bytes; a host then moves a live instance to a reloaded
//!   version with `Instance::upgrade`, and the new version may be written
//!   in another language as long as it reads the same bytes. Either may
//!   fail with an [`Error`]: the host's old instance keeps serving. See
//!   [`plugin!`] and "State handover" in the README.
//! - [`Error`]: a code and a message; returned by plugin functions and
//!   written into the caller's `AbiError` with the message in host memory.
//! - [`Host`]: the host's services, lent to plugin code: logging, finding
//!   and resolving other contracts ([`ResolvedContract`], [`Typed`]).
//! - [`AbiType`], [`TypedFnPtr`] and [`signature!`]: the `ret(arg,arg)`
//!   spelling of typed functions, derived from Rust types; [`TypedArg`]
//!   and [`TypedRet`] add the views and owned results that a native
//!   `plugin!` typed function takes and returns (`&str` is `str`, `&[u8]`
//!   `bytes`, `String` `string`, `Vec<u8>` `buf`).
//!
//! # Guarantees
//!
//! Each points at the invariant (or section) of `SAFETY.md` that argues it.
//!
//! - **No panic crosses the boundary** (\[P6\]). Every exported function
//!   and every generated thunk runs plugin code under `catch_unwind`. Native
//!   functions, the entry point and instance constructors return
//!   [`ERR_PANIC`](abi::ERR_PANIC) with the panic message; typed functions,
//!   called through their plain pointer, which has no error channel, log
//!   the panic through the host at `LOG_ERROR` and return their type's
//!   default (0, or an empty string or buffer); called packed, they
//!   return `ERR_PANIC` with the message.
//! - **Views are checked before they become Rust references** (\[G11\]): a
//!   `str` argument becomes a `&str` only when it is UTF-8; a C host's
//!   bytes that are not are refused (logged, the function not called, the
//!   default returned). A `string` or `buf` result is copied into the
//!   host's `alloc(len, 1)` and handed over.
//! - **Host pointers are used only as the host allows**: the host table is
//!   checked at entry and kept in one `AtomicPtr` (\[G1\]); arguments,
//!   results and instances are read and written unaligned, for one call
//!   (\[G2\], \[G3\]); views from `resolve_contract` borrow the `&Host` of
//!   the current call, so they cannot be kept (\[G5\]).
//! - **No unsafe in plugin code** for the common case: declaring functions,
//!   state, errors, logging, and calling typed functions of other contracts
//!   (their signature strings are compared before a pointer is cast,
//!   \[G7\]). Calling another contract's *native* function is `unsafe`
//!   ([`ResolvedContract::call_native`]): native functions carry no types
//!   (\[G8\]).
//! - **Signatures are derived, never typed in**: `u32(u32,u32)` comes from
//!   `fn(a: u32, b: u32) -> u32` at compile time (\[G7\]); the static
//!   tables they sit in are immutable (\[G6\]).
//! - **Error messages outlive the library**: they are copied into memory
//!   from the host's `alloc` and flagged
//!   [`ERROR_FLAG_HOST_ALLOCATED`](abi::ERROR_FLAG_HOST_ALLOCATED). Without
//!   a host allocator a static message is sent as is and an owned one is
//!   replaced by a fixed static text (\[G4\], \[P6\], \[R9\]).
//! - **The library can be unmapped**: the SDK uses no thread-locals (glibc
//!   keeps a library that registered TLS destructors mapped forever) and
//!   no global allocator tricks. The host table lives in one `AtomicPtr`
//!   (SAFETY.md, "Library unmapping").
//! - **Panics are logged, not printed**: the entry point installs a panic
//!   hook in the plugin's own copy of std (every cdylib links its own) that
//!   logs `panic at file:line:col: message` through the host at
//!   `LOG_ERROR`. std's default hook would, with `RUST_BACKTRACE` set,
//!   symbolize a backtrace, and its symbolizer maps the library file into
//!   a cache that is never freed: the file would stay mapped after every
//!   unload (SAFETY.md, "The guest SDK"). An init function that sets its
//!   own hook takes that on.
//!
//! # WebAssembly
//!
//! The same crate, and the same [`plugin!`] declaration, build a plugin
//! for polyplug's wasm loader: only the target changes (`cargo build
//! --release --target wasm32-unknown-unknown`, with `panic = "abort"` in
//! the release profile). In a `target_family = "wasm"` build, `plugin!`
//! exports each typed function under the name the loader reads
//! (`test.add@1.0.0/add:u32(u32,u32)`), a stateful contract's
//! `+instance`, and `polyplug_init`; native functions are not exported
//! (they take C structs by pointer), and neither is a state handover yet
//! (`save = ..; restore = ..;` compile, and a host's upgrade to a wasm
//! version is refused at its restore step). `instance typed` functions work on an
//! instance's state, which lives in that instance's own wasm memory.
//! [`Host`] can log, through the import `polyplug.log`; finding and
//! resolving contracts ([`ResolvedContract`], [`Typed`]) are native-only.
//! A panic is logged with its place and traps (\[G9\]).
//! `docs/wasm-plugins.md` has the whole guide.
//!
//! What plugin authors and hosts must keep in turn is stated on
//! [`Host::with`], [`ResolvedContract`] and in the ABI's docs.
//!
//! # Example
//!
//! The `test.add` fixture, whole (its `Cargo.toml` says
//! `crate-type = ["cdylib"]`):
//!
//! ```
//! use polyplug_guest::Error;
//!
//! #[repr(C)]
//! #[derive(Clone, Copy)]
//! pub struct AddArgs {
//!     pub a: u32,
//!     pub b: u32,
//! }
//!
//! fn add(args: &AddArgs) -> Result<u32, Error> {
//!     Ok(args.a.wrapping_add(args.b))
//! }
//!
//! fn fail(_args: &AddArgs) -> Result<u32, Error> {
//!     Err(Error::plugin(1, "test.add failed on purpose"))
//! }
//!
//! fn add_typed(a: u32, b: u32) -> u32 {
//!     a.wrapping_add(b)
//! }
//!
//! fn inc(x: u32) -> u32 {
//!     x.wrapping_add(1)
//! }
//!
//! polyplug_guest::plugin! {
//!     contract "test.add" "1.0.0" {
//!         native add(AddArgs) -> u32 = add;
//!         native fail(AddArgs) -> u32 = fail;
//!         typed add(a: u32, b: u32) -> u32 = add_typed;
//!         typed inc(x: u32) -> u32 = inc;
//!     }
//! }
//! # fn main() {}
//! ```

#[cfg(not(target_family = "wasm"))]
mod boundary;
mod error;
#[cfg(not(target_family = "wasm"))]
mod host;
mod macros;
#[cfg(not(target_family = "wasm"))]
mod resolved;
mod signature;
mod table;
#[cfg(not(target_family = "wasm"))]
mod typed;
#[cfg(target_family = "wasm")]
mod wasm;
mod wasm_macros;

pub use polyplug_abi as abi;

#[cfg(not(target_family = "wasm"))]
pub use boundary::InitFn;
pub use error::Error;
#[cfg(not(target_family = "wasm"))]
pub use host::{Host, log};
#[cfg(not(target_family = "wasm"))]
pub use resolved::{ResolvedContract, Typed};
pub use signature::{AbiArg, AbiType, TypedFnPtr, erase};
pub use table::StaticTable;
#[cfg(not(target_family = "wasm"))]
pub use typed::{TypedArg, TypedRet};
#[cfg(target_family = "wasm")]
pub use wasm::{Host, InitFn, log};

/// What [`plugin!`] expands to. Not a public API: it changes without
/// notice.
#[doc(hidden)]
pub mod __private {
    #[cfg(not(target_family = "wasm"))]
    pub use crate::boundary::{
        FreeNative, HandoverImpl, StateImpl, StatefulNative, create_instance, default_state,
        destroy_instance, entry, native_free, native_stateful, restore_instance, save_instance,
        typed_call,
    };
    pub use crate::signature::{Packed, arg_name, signature_bytes, signature_len, signature_str};
    pub use crate::table::{count_u32, parse_version};
    /// `state T;`'s constructor in a WebAssembly build.
    #[cfg(target_family = "wasm")]
    pub use crate::wasm::default_state;
    #[cfg(not(target_family = "wasm"))]
    pub use crate::{
        signature::erase_packed,
        typed::{Refusal, packed_call, typed_or_fallback, typed_result},
    };

    /// The WebAssembly build's thunks and compile-time checks.
    #[cfg(target_family = "wasm")]
    pub mod wasm {
        pub use crate::wasm::{
            StateCell, WasmArg, WasmRet, alloc, bytes_arg, create_instance, free, init,
            instance_call, number, restore_instance, ret, save_instance, str_arg, typed_call,
        };
    }
}

#[cfg(test)]
mod tests;
