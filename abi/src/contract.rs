//! The contract interface: one versioned table of functions.

use core::ffi::c_void;

use crate::{AbiError, ContractId, HostApi, StrView, Version};

/// The fixed native calling convention: `fn(instance, args, out, err)`.
///
/// `instance` is the value `create_instance` made, or null for a contract
/// without instances. `args` points to the function's argument struct and
/// `out` to its result, both laid out as the contract documents. The return
/// value is [`OK`](crate::OK) or an error code; on error the function also
/// fills `*err` (which the caller initialised to [`AbiError::NONE`]).
pub type NativeFn = unsafe extern "C" fn(
    instance: *mut c_void,
    args: *const c_void,
    out: *mut c_void,
    err: *mut AbiError,
) -> u32;

/// An untyped function pointer: the storage type of a typed entry. The host
/// turns it back into the signature that [`TypedEntry::signature`] names.
pub type VoidFn = unsafe extern "C" fn();

/// Makes one instance of a stateful contract and writes it to `*instance`.
/// Returns [`OK`](crate::OK) or an error code with `*err` filled.
pub type CreateInstanceFn = unsafe extern "C" fn(
    host: *const HostApi,
    instance: *mut *mut c_void,
    err: *mut AbiError,
) -> u32;

/// Destroys an instance made by the matching [`CreateInstanceFn`].
pub type DestroyInstanceFn = unsafe extern "C" fn(instance: *mut c_void);

/// One native function of a contract.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NativeEntry {
    /// The function's name, unique within the contract.
    pub name: StrView,
    /// The function; a null entry is refused at registration.
    pub func: Option<NativeFn>,
}

/// One typed function of a contract: a plain C function pointer called with
/// no marshalling at all.
///
/// `signature` spells the C type in the form `ret(arg,arg)`, using only
/// `void`, `u8`, `u16`, `u32`, `u64`, `i8`, `i16`, `i32`, `i64`, `usize`,
/// `isize`, `f32` and `f64`, with no spaces: `u32(u32,u32)`, `void()`. The
/// host compares it with the signature it asks for before it hands out the
/// pointer, so a typed call cannot use the wrong type.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TypedEntry {
    /// The function's name, unique within the contract.
    pub name: StrView,
    /// The function's C signature, as above.
    pub signature: StrView,
    /// The function, cast to [`VoidFn`]; a null entry is refused.
    pub func: Option<VoidFn>,
}

/// A contract: what a plugin registers and a host calls.
///
/// The plugin passes a pointer to one of these to `register_contract`; the
/// host copies and checks every field before the call returns, so the
/// struct, its arrays and its strings only need to live for that call. The
/// function pointers must stay callable for as long as the library is
/// loaded.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ContractInterface {
    /// `ContractId::of(name, version.major)`; checked by the host.
    pub id: ContractId,
    /// The contract's name, for example `test.add`.
    pub name: StrView,
    /// The contract's version.
    pub version: Version,
    /// Number of entries in `native`.
    pub native_count: u32,
    /// Native functions, `native_count` of them; may be null when the count
    /// is 0.
    pub native: *const NativeEntry,
    /// Number of entries in `typed`.
    pub typed_count: u32,
    /// Typed functions, `typed_count` of them; may be null when the count is
    /// 0.
    pub typed: *const TypedEntry,
    /// Makes an instance; null for a contract without state. Set both or
    /// neither of `create_instance` and `destroy_instance`.
    pub create_instance: Option<CreateInstanceFn>,
    /// Destroys an instance.
    pub destroy_instance: Option<DestroyInstanceFn>,
}
