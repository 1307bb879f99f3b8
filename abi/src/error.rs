//! Status codes and the error value that crosses the boundary.

use crate::StrView;

/// Success.
pub const OK: u32 = 0;
/// A pointer or value passed across the boundary was invalid (null, out of
/// range, not UTF-8).
pub const ERR_BAD_ARGUMENT: u32 = 1;
/// The named contract, function or symbol does not exist.
pub const ERR_NOT_FOUND: u32 = 2;
/// The plugin was built for another ABI version.
pub const ERR_ABI_MISMATCH: u32 = 3;
/// `register_contract` was called outside the entry point.
pub const ERR_NOT_IN_INIT: u32 = 4;
/// A contract was registered twice by one bundle.
pub const ERR_DUPLICATE: u32 = 5;
/// A contract was registered that the bundle's manifest does not declare.
pub const ERR_UNDECLARED: u32 = 6;
/// A registered interface failed validation (null function pointers, counts,
/// names, an id that does not match `name@major`).
pub const ERR_INVALID: u32 = 7;
/// Plugin code panicked; the panic was caught at the boundary.
pub const ERR_PANIC: u32 = 8;
/// An allocation failed.
pub const ERR_OUT_OF_MEMORY: u32 = 9;
/// The operation is not supported by this host or plugin.
pub const ERR_UNSUPPORTED: u32 = 10;
/// A bug in the host; the message says more.
pub const ERR_INTERNAL: u32 = 11;
/// The first code free for plugin-defined errors. Plugins may return any
/// code at or above it; the host passes it through unchanged.
pub const ERR_PLUGIN: u32 = 1000;

/// [`AbiError::flags`] bit: `message` was allocated with the host table's
/// `alloc` (size `message.len`, alignment 1) and the receiver frees it with
/// `free`. Without this bit the message is static: it lives as long as the
/// library of the code that wrote it.
pub const ERROR_FLAG_HOST_ALLOCATED: u32 = 1;

/// An error: a `u32` code and a message.
///
/// Whoever calls a function that takes `*mut AbiError` initialises it to
/// [`AbiError::NONE`] first; the callee writes it only when it returns a
/// code other than [`OK`], and then writes the same code here. The receiver
/// checks `message` as UTF-8 before showing it.
///
/// ```
/// use polyplug_abi::{AbiError, OK};
///
/// let err = AbiError::NONE;
/// assert_eq!(err.code, OK);
/// assert_eq!(err.message.len, 0);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbiError {
    /// One of the `ERR_*` codes, or a plugin code `>= ERR_PLUGIN`.
    pub code: u32,
    /// `ERROR_FLAG_*` bits that say who owns `message`.
    pub flags: u32,
    /// What went wrong, for people.
    pub message: StrView,
}

impl AbiError {
    /// No error: code [`OK`], no message.
    pub const NONE: AbiError = AbiError {
        code: OK,
        flags: 0,
        message: StrView::EMPTY,
    };

    /// An error with a static message.
    pub const fn new(code: u32, message: &'static str) -> AbiError {
        AbiError {
            code,
            flags: 0,
            message: StrView::from_static(message),
        }
    }
}
