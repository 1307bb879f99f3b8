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
///
/// # Example
///
/// A native `add` that reads `AddArgs` and writes a `u32`, called as a host
/// calls it:
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, NativeFn, OK};
///
/// #[repr(C)]
/// struct AddArgs { a: u32, b: u32 }
///
/// unsafe extern "C" fn add(
///     _: *mut c_void, args: *const c_void, out: *mut c_void, _: *mut AbiError,
/// ) -> u32 {
///     // SAFETY: [P1] the contract documents `args` as an `AddArgs`.
///     let args = unsafe { args.cast::<AddArgs>().read_unaligned() };
///     // SAFETY: [P4] `out` is writable for one `u32`.
///     unsafe { out.cast::<u32>().write_unaligned(args.a.wrapping_add(args.b)) };
///     OK
/// }
///
/// let add: NativeFn = add;
/// let (args, mut out, mut err) = (AddArgs { a: 2, b: 3 }, 0u32, AbiError::NONE);
/// // SAFETY: [P1] `add` reads an `AddArgs` and writes a `u32`; all are live locals.
/// let code = unsafe { add(core::ptr::null_mut(), (&raw const args).cast(), (&raw mut out).cast(), &mut err) };
/// assert_eq!((code, out), (OK, 5));
/// ```
pub type NativeFn = unsafe extern "C" fn(
    instance: *mut c_void,
    args: *const c_void,
    out: *mut c_void,
    err: *mut AbiError,
) -> u32;

/// An untyped function pointer: the storage type of a typed entry. The host
/// turns it back into the signature that [`TypedEntry::signature`] names.
///
/// # Example
///
/// ```
/// use polyplug_abi::VoidFn;
///
/// extern "C" fn tick() {}
/// let erased: VoidFn = tick; // `void()`: a safe fn pointer coerces
/// assert!(Some(erased).is_some());
/// ```
///
/// Other signatures are erased with a cast in C, or with
/// `polyplug_guest::erase` in Rust.
pub type VoidFn = unsafe extern "C" fn();

/// Makes one instance of a stateful contract and writes it to `*instance`.
/// Returns [`OK`](crate::OK) or an error code with `*err` filled.
///
/// # Example
///
/// An instance that is a boxed counter, made and destroyed as the host
/// does:
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, CreateInstanceFn, DestroyInstanceFn, HostApi, OK};
///
/// unsafe extern "C" fn create(_: *const HostApi, instance: *mut *mut c_void, _: *mut AbiError) -> u32 {
///     let state = Box::into_raw(Box::new(0u64)).cast::<c_void>();
///     // SAFETY: [P4] `instance` is writable for one pointer.
///     unsafe { instance.write(state) };
///     OK
/// }
/// unsafe extern "C" fn destroy(instance: *mut c_void) {
///     // SAFETY: [G3] `instance` came from `create` and is destroyed once.
///     drop(unsafe { Box::from_raw(instance.cast::<u64>()) });
/// }
///
/// let (create, destroy): (CreateInstanceFn, DestroyInstanceFn) = (create, destroy);
/// let (mut instance, mut err) = (core::ptr::null_mut(), AbiError::NONE);
/// // SAFETY: [P4] the out-pointers are live locals; `create` does not read the host table.
/// assert_eq!(unsafe { create(core::ptr::null(), &mut instance, &mut err) }, OK);
/// // SAFETY: [G3] made by `create` just now, destroyed once.
/// unsafe { destroy(instance) };
/// ```
pub type CreateInstanceFn = unsafe extern "C" fn(
    host: *const HostApi,
    instance: *mut *mut c_void,
    err: *mut AbiError,
) -> u32;

/// Destroys an instance made by the matching [`CreateInstanceFn`].
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::DestroyInstanceFn;
///
/// unsafe extern "C" fn destroy(instance: *mut c_void) {
///     // SAFETY: [G3] `instance` is a `Box<u64>` made for this contract, destroyed once.
///     drop(unsafe { Box::from_raw(instance.cast::<u64>()) });
/// }
///
/// let destroy: DestroyInstanceFn = destroy;
/// let instance = Box::into_raw(Box::new(7u64)).cast::<c_void>();
/// // SAFETY: [G3] a `Box<u64>` as `destroy` expects, destroyed once.
/// unsafe { destroy(instance) };
/// ```
pub type DestroyInstanceFn = unsafe extern "C" fn(instance: *mut c_void);

/// One native function of a contract.
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, NativeEntry, OK, StrView};
///
/// unsafe extern "C" fn nop(_: *mut c_void, _: *const c_void, _: *mut c_void, _: *mut AbiError) -> u32 {
///     OK
/// }
///
/// let entry = NativeEntry { name: StrView::from_static("nop"), func: Some(nop) };
/// assert_eq!(entry.name.len, 3);
/// assert_eq!(size_of::<NativeEntry>(), size_of::<StrView>() + size_of::<usize>());
/// ```
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
///
/// # Example
///
/// ```
/// use polyplug_abi::{StrView, TypedEntry, VoidFn};
///
/// extern "C" fn tick() {}
///
/// let entry = TypedEntry {
///     name: StrView::from_static("tick"),
///     signature: StrView::from_static("void()"),
///     func: Some(tick as VoidFn),
/// };
/// assert_eq!(entry.signature.len, 6);
/// ```
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
///
/// # Example
///
/// A contract `demo.nop` 1.0.0 with one native function and no state:
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, ContractId, ContractInterface, NativeEntry, OK, StrView, Version};
///
/// unsafe extern "C" fn nop(_: *mut c_void, _: *const c_void, _: *mut c_void, _: *mut AbiError) -> u32 {
///     OK
/// }
///
/// let native = [NativeEntry { name: StrView::from_static("nop"), func: Some(nop) }];
/// let contract = ContractInterface {
///     id: ContractId::of("demo.nop", 1), // the host checks it against name@major
///     name: StrView::from_static("demo.nop"),
///     version: Version::new(1, 0, 0),
///     native_count: 1,
///     native: native.as_ptr(),
///     typed_count: 0,
///     typed: core::ptr::null(),
///     create_instance: None,
///     destroy_instance: None,
/// };
/// assert_eq!(contract.id, ContractId::of("demo.nop", contract.version.major));
/// ```
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
