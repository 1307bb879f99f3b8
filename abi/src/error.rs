//! Status codes and the error value that crosses the boundary.

use crate::StrView;

/// Success.
///
/// ```
/// use polyplug_abi::{AbiError, OK};
///
/// assert_eq!(OK, 0);
/// assert_eq!(AbiError::NONE.code, OK); // "no error" carries OK
/// ```
pub const OK: u32 = 0;
/// A pointer or value passed across the boundary was invalid (null, out of
/// range, not UTF-8).
///
/// ```
/// use polyplug_abi::{AbiError, ERR_BAD_ARGUMENT};
///
/// let err = AbiError::new(ERR_BAD_ARGUMENT, "contract name is not UTF-8");
/// assert_eq!(err.code, 1); // codes are ABI: they never change
/// ```
pub const ERR_BAD_ARGUMENT: u32 = 1;
/// The named contract, function or symbol does not exist.
///
/// ```
/// use polyplug_abi::{AbiError, ERR_NOT_FOUND};
///
/// let err = AbiError::new(ERR_NOT_FOUND, "no contract test.mul 1.0");
/// assert_eq!(err.code, 2);
/// ```
pub const ERR_NOT_FOUND: u32 = 2;
/// The plugin was built for another ABI version.
///
/// ```
/// use polyplug_abi::{ABI_VERSION, ERR_ABI_MISMATCH, OK};
///
/// let check = |exported: u32| if exported == ABI_VERSION { OK } else { ERR_ABI_MISMATCH };
/// assert_eq!(check(999), ERR_ABI_MISMATCH); // the `bad-abi` fixture exports 999
/// assert_eq!(ERR_ABI_MISMATCH, 3);
/// ```
pub const ERR_ABI_MISMATCH: u32 = 3;
/// `register_contract` was called outside the entry point.
///
/// ```
/// use polyplug_abi::{AbiError, ERR_NOT_IN_INIT};
///
/// let err = AbiError::new(ERR_NOT_IN_INIT, "register_contract outside init");
/// assert_eq!(err.code, 4);
/// ```
pub const ERR_NOT_IN_INIT: u32 = 4;
/// A contract was registered twice by one bundle.
///
/// ```
/// use polyplug_abi::{AbiError, ERR_DUPLICATE};
///
/// let err = AbiError::new(ERR_DUPLICATE, "test.add registered twice");
/// assert_eq!(err.code, 5);
/// ```
pub const ERR_DUPLICATE: u32 = 5;
/// A contract was registered that the bundle's manifest does not declare.
///
/// ```
/// use polyplug_abi::{AbiError, ERR_UNDECLARED};
///
/// let err = AbiError::new(ERR_UNDECLARED, "undeclared.extra is not in the manifest");
/// assert_eq!(err.code, 6);
/// ```
pub const ERR_UNDECLARED: u32 = 6;
/// A registered interface failed validation (null function pointers, counts,
/// names, an id that does not match `name@major`).
///
/// ```
/// use polyplug_abi::{AbiError, ERR_INVALID};
///
/// let err = AbiError::new(ERR_INVALID, "native function 0 is null");
/// assert_eq!(err.code, 7);
/// ```
pub const ERR_INVALID: u32 = 7;
/// Plugin code panicked; the panic was caught at the boundary.
///
/// ```
/// use polyplug_abi::{AbiError, ERR_PANIC};
///
/// let err = AbiError::new(ERR_PANIC, "test.add panicked on purpose");
/// assert_eq!(err.code, 8);
/// ```
pub const ERR_PANIC: u32 = 8;
/// An allocation failed.
///
/// ```
/// use polyplug_abi::{AbiError, ERR_OUT_OF_MEMORY};
///
/// let err = AbiError::new(ERR_OUT_OF_MEMORY, "instance allocation failed");
/// assert_eq!(err.code, 9);
/// ```
pub const ERR_OUT_OF_MEMORY: u32 = 9;
/// The operation is not supported by this host or plugin.
///
/// ```
/// use polyplug_abi::{AbiError, ERR_UNSUPPORTED};
///
/// let err = AbiError::new(ERR_UNSUPPORTED, "no host allocator");
/// assert_eq!(err.code, 10);
/// ```
pub const ERR_UNSUPPORTED: u32 = 10;
/// A bug in the host; the message says more.
///
/// ```
/// use polyplug_abi::{AbiError, ERR_INTERNAL};
///
/// let err = AbiError::new(ERR_INTERNAL, "host function panicked");
/// assert_eq!(err.code, 11);
/// ```
pub const ERR_INTERNAL: u32 = 11;
/// Guest code of an engine-run plugin (WebAssembly, a script) trapped:
/// `unreachable`, an out-of-bounds access, a stack overflow, a division by
/// zero. The message names the bundle, contract, function and trap.
///
/// ```
/// use polyplug_abi::{AbiError, ERR_TRAP};
///
/// let err = AbiError::new(ERR_TRAP, "wasm trap: unreachable");
/// assert_eq!(err.code, 12);
/// ```
pub const ERR_TRAP: u32 = 12;
/// Guest code of an engine-run plugin exhausted one of its bundle's
/// budgets: fuel per call, linear memory, instances. The message names
/// the budget and its limit.
///
/// ```
/// use polyplug_abi::{AbiError, ERR_BUDGET};
///
/// let err = AbiError::new(ERR_BUDGET, "fuel per call exhausted");
/// assert_eq!(err.code, 13);
/// ```
pub const ERR_BUDGET: u32 = 13;
/// The first code free for plugin-defined errors. Plugins may return any
/// code at or above it; the host passes it through unchanged.
///
/// ```
/// use polyplug_abi::{AbiError, ERR_PLUGIN};
///
/// // The `test.add` fixture's `fail` returns its own code 1.
/// let err = AbiError::new(ERR_PLUGIN + 1, "test.add failed on purpose");
/// assert_eq!(err.code, 1001);
/// ```
pub const ERR_PLUGIN: u32 = 1000;

/// [`AbiError::flags`] bit: `message` was allocated with the host table's
/// `alloc` (size `message.len`, alignment 1) and the receiver frees it with
/// `free`. Without this bit the message is static: it lives as long as the
/// library of the code that wrote it.
///
/// ```
/// use polyplug_abi::{AbiError, ERR_INTERNAL, ERROR_FLAG_HOST_ALLOCATED};
///
/// let err = AbiError::new(ERR_INTERNAL, "a static message");
/// assert_eq!(err.flags & ERROR_FLAG_HOST_ALLOCATED, 0); // nothing for the receiver to free
/// ```
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
    /// No error: code [`OK`], no message. Initialise every `err` argument
    /// to it before a call.
    ///
    /// ```
    /// use polyplug_abi::{AbiError, OK};
    ///
    /// let err = AbiError::NONE;
    /// assert_eq!((err.code, err.flags, err.message.len), (OK, 0, 0));
    /// ```
    pub const NONE: AbiError = AbiError {
        code: OK,
        flags: 0,
        message: StrView::EMPTY,
    };

    /// An error with a static message.
    ///
    /// ```
    /// use polyplug_abi::{AbiError, ERR_NOT_FOUND};
    ///
    /// const MISSING: AbiError = AbiError::new(ERR_NOT_FOUND, "no such function");
    /// assert_eq!(MISSING.code, ERR_NOT_FOUND);
    /// assert_eq!(MISSING.message.len, "no such function".len());
    /// ```
    pub const fn new(code: u32, message: &'static str) -> AbiError {
        AbiError {
            code,
            flags: 0,
            message: StrView::from_static(message),
        }
    }
}
