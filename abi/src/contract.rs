//! The contract interface: one versioned table of functions.

use core::ffi::c_void;

use crate::{AbiError, BytesView, ContractId, HostApi, OwnedBuf, StrView, Version};

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

/// Saves the state of an instance made by the matching
/// [`CreateInstanceFn`] (or [`RestoreInstanceFn`]) as bytes, for a newer
/// version of the contract to restore: the first half of a state handover
/// (ABI 4). Writes the bytes to `*out` as an [`OwnedBuf`] allocated with
/// the host's `alloc(len, 1)` (or [`OwnedBuf::EMPTY`]), which the host
/// then owns and frees; returns [`OK`](crate::OK), or an error code with
/// `*err` filled and nothing in `*out` to free. The instance is unchanged
/// and keeps serving either way. The bytes' format is the plugin's own:
/// polyplug never reads them.
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, OK, OwnedBuf, SaveInstanceFn};
///
/// unsafe extern "C" fn save(_: *mut c_void, out: *mut OwnedBuf, _: *mut AbiError) -> u32 {
///     // SAFETY: [P4] `out` is writable for one OwnedBuf; no bytes, nothing to allocate.
///     unsafe { out.write(OwnedBuf::EMPTY) };
///     OK
/// }
///
/// let save: SaveInstanceFn = save;
/// let (mut out, mut err) = (OwnedBuf::EMPTY, AbiError::NONE);
/// // SAFETY: [P4] live out-pointers; this `save` ignores its instance.
/// assert_eq!(unsafe { save(core::ptr::null_mut(), &mut out, &mut err) }, OK);
/// ```
pub type SaveInstanceFn =
    unsafe extern "C" fn(instance: *mut c_void, out: *mut OwnedBuf, err: *mut AbiError) -> u32;

/// Makes one instance of a stateful contract from bytes that a
/// [`SaveInstanceFn`] of the same contract (an older version, maybe in
/// another language) wrote, and writes it to `*instance`: the second half
/// of a state handover (ABI 4). `state` is readable for the call only
/// (\[P3\]). The instance is destroyed by the contract's
/// [`DestroyInstanceFn`], like one from [`CreateInstanceFn`]. Returns
/// [`OK`](crate::OK) or an error code with `*err` filled and no instance.
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, BytesView, ERR_INVALID, HostApi, OK, RestoreInstanceFn};
///
/// unsafe extern "C" fn restore(
///     _: *const HostApi, state: BytesView, instance: *mut *mut c_void, _: *mut AbiError,
/// ) -> u32 {
///     if state.len != 8 { return ERR_INVALID; }
///     // SAFETY: [P3] `state` is readable for the call: 8 bytes.
///     let bytes = unsafe { core::slice::from_raw_parts(state.ptr, 8) };
///     let count = u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]));
///     // SAFETY: [P4] `instance` is writable for one pointer.
///     unsafe { instance.write(Box::into_raw(Box::new(count)).cast()) };
///     OK
/// }
///
/// let restore: RestoreInstanceFn = restore;
/// let saved = 41u64.to_le_bytes();
/// let (mut instance, mut err) = (core::ptr::null_mut(), AbiError::NONE);
/// // SAFETY: [P3][P4] a live view and live out-pointers; `restore` ignores the host table.
/// assert_eq!(unsafe { restore(core::ptr::null(), BytesView::of(&saved), &mut instance, &mut err) }, OK);
/// // SAFETY: [G3] made above as a `Box<u64>`, freed once.
/// assert_eq!(*unsafe { Box::from_raw(instance.cast::<u64>()) }, 41);
/// ```
pub type RestoreInstanceFn = unsafe extern "C" fn(
    host: *const HostApi,
    state: BytesView,
    instance: *mut *mut c_void,
    err: *mut AbiError,
) -> u32;

/// [`SaveInstanceFn`] for an instance made by a [`ContextCreateFn`] (or a
/// [`ContextRestoreFn`]), given the contract's instance context (ABI 4).
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, ContextSaveFn, ERR_UNSUPPORTED, OwnedBuf};
///
/// unsafe extern "C" fn save(_: *mut c_void, _: *mut c_void, _: *mut OwnedBuf, _: *mut AbiError) -> u32 {
///     ERR_UNSUPPORTED // this engine cannot save, for now
/// }
/// let save: ContextSaveFn = save;
/// # let _ = save;
/// ```
pub type ContextSaveFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    instance: *mut c_void,
    out: *mut OwnedBuf,
    err: *mut AbiError,
) -> u32;

/// [`RestoreInstanceFn`] for a contract whose instances are made by a
/// [`ContextCreateFn`], given the contract's instance context (ABI 4).
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, BytesView, ContextRestoreFn, ERR_UNSUPPORTED};
///
/// unsafe extern "C" fn restore(_: *mut c_void, _: BytesView, _: *mut *mut c_void, _: *mut AbiError) -> u32 {
///     ERR_UNSUPPORTED
/// }
/// let restore: ContextRestoreFn = restore;
/// # let _ = restore;
/// ```
pub type ContextRestoreFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    state: BytesView,
    instance: *mut *mut c_void,
    err: *mut AbiError,
) -> u32;

/// A function run by an engine (a WebAssembly interpreter, a script
/// runtime) rather than compiled into a library: `fn(ctx, instance, args,
/// out, err)`.
///
/// `ctx` is the pointer of the function's own [`ContextEntry`]: the engine
/// puts there whatever it needs to run this one function, so no call
/// dispatches on a function id and every argument travels in a register.
/// `instance` is null for a stateless call, or an instance made by the
/// contract's [`ContextCreateFn`]. `args` points to the function's
/// arguments laid out as a C struct of the types its signature names, in
/// order (`u32(u32,u64)`: a `u32` at offset 0, a `u64` at offset 8); `out`
/// points to one value of its return type (nothing is written for `void`).
/// The return value is [`OK`](crate::OK) or an error code with `*err`
/// filled.
///
/// # Example
///
/// An engine whose context is the constant to add:
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, ContextFn, OK};
///
/// unsafe extern "C" fn add_const(
///     ctx: *mut c_void, _: *mut c_void, args: *const c_void, out: *mut c_void, _: *mut AbiError,
/// ) -> u32 {
///     // SAFETY: [P1] `ctx` is the entry's context, a `u32`; `args` holds one `u32`.
///     let (k, x) = unsafe { (ctx.cast::<u32>().read(), args.cast::<u32>().read_unaligned()) };
///     // SAFETY: [P4] `out` is writable for one `u32`.
///     unsafe { out.cast::<u32>().write_unaligned(x.wrapping_add(k)) };
///     OK
/// }
///
/// let f: ContextFn = add_const;
/// let (mut k, x, mut out, mut err) = (40u32, 2u32, 0u32, AbiError::NONE);
/// // SAFETY: [P1] all pointers are live locals of the documented types.
/// let code = unsafe {
///     f((&raw mut k).cast(), core::ptr::null_mut(), (&raw const x).cast(), (&raw mut out).cast(), &mut err)
/// };
/// assert_eq!((code, out), (OK, 42));
/// ```
pub type ContextFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    instance: *mut c_void,
    args: *const c_void,
    out: *mut c_void,
    err: *mut AbiError,
) -> u32;

/// Makes one instance of a stateful contract whose functions are
/// [`ContextEntry`]s, given the contract's instance context.
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, ContextCreateFn, OK};
///
/// unsafe extern "C" fn create(_: *mut c_void, instance: *mut *mut c_void, _: *mut AbiError) -> u32 {
///     // SAFETY: [P4] `instance` is writable for one pointer.
///     unsafe { instance.write(Box::into_raw(Box::new(0u64)).cast()) };
///     OK
/// }
///
/// let create: ContextCreateFn = create;
/// let (mut instance, mut err) = (core::ptr::null_mut(), AbiError::NONE);
/// // SAFETY: [P4] live out-pointers; this `create` ignores its context.
/// assert_eq!(unsafe { create(core::ptr::null_mut(), &mut instance, &mut err) }, OK);
/// // SAFETY: [G3] made above as a `Box<u64>`, freed once.
/// drop(unsafe { Box::from_raw(instance.cast::<u64>()) });
/// ```
pub type ContextCreateFn =
    unsafe extern "C" fn(ctx: *mut c_void, instance: *mut *mut c_void, err: *mut AbiError) -> u32;

/// Destroys an instance made by the matching [`ContextCreateFn`].
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::ContextDestroyFn;
///
/// unsafe extern "C" fn destroy(_: *mut c_void, instance: *mut c_void) {
///     // SAFETY: [G3] `instance` is a `Box<u64>`, destroyed once.
///     drop(unsafe { Box::from_raw(instance.cast::<u64>()) });
/// }
///
/// let destroy: ContextDestroyFn = destroy;
/// // SAFETY: [G3] a `Box<u64>` as `destroy` expects.
/// unsafe { destroy(core::ptr::null_mut(), Box::into_raw(Box::new(1u64)).cast()) };
/// ```
pub type ContextDestroyFn = unsafe extern "C" fn(ctx: *mut c_void, instance: *mut c_void);

/// One function of a contract run by an engine: a typed function (its
/// `signature` is spelled as a [`TypedEntry`]'s) called through
/// [`ContextFn`] with its own context pointer.
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, ContextEntry, OK, StrView};
///
/// unsafe extern "C" fn nop(_: *mut c_void, _: *mut c_void, _: *const c_void, _: *mut c_void, _: *mut AbiError) -> u32 {
///     OK
/// }
///
/// let entry = ContextEntry {
///     name: StrView::from_static("nop"),
///     signature: StrView::from_static("void()"),
///     ctx: core::ptr::null_mut(),
///     func: Some(nop),
/// };
/// assert_eq!(size_of::<ContextEntry>(), 48);
/// # let _ = entry;
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ContextEntry {
    /// The function's name, unique within the contract (among its typed
    /// and context entries).
    pub name: StrView,
    /// The function's C signature, as for [`TypedEntry::signature`].
    pub signature: StrView,
    /// Passed as the first argument of every call of `func`; valid for as
    /// long as the contract's table is reachable.
    pub ctx: *mut c_void,
    /// The function; a null entry is refused.
    pub func: Option<ContextFn>,
}

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
/// `signature` spells the C type in the form `ret(arg,arg)`, with no
/// spaces: `u32(u32,u32)`, `void()`, `string(str)`. Arguments are `u8`,
/// `u16`, `u32`, `u64`, `i8`, `i16`, `i32`, `i64`, `usize`, `isize`, `f32`,
/// `f64`, and the borrowed views `str` ([`StrView`], UTF-8) and `bytes`
/// ([`BytesView`](crate::BytesView)); the result is `void`, one of the
/// twelve numbers, or an owned `string` (UTF-8) or `buf`, both an
/// [`OwnedBuf`](crate::OwnedBuf) that the caller frees with the host's
/// `free`. So `string(str)` is the C type `PpOwnedBuf (*)(PpStrView)`. The
/// host compares the signature with the one it asks for before it hands
/// out the pointer, so a typed call cannot use the wrong type.
///
/// `packed`, when set, is the same function called *packed*: as a
/// [`ContextFn`] whose `ctx` is the address of this entry (a thunk reads
/// `func` from it, so one thunk serves every function of one signature),
/// with `args` pointing to the arguments laid out as a C struct of the
/// signature's types in order and `out` to one value of the result type.
/// A caller that knows the signature at compile time calls `func`; one
/// that marshals at run time (a WebAssembly guest through the host's
/// imports, the `pp_typed_call` helper of `polyplug.h`) needs `packed`,
/// and gets [`ERR_UNSUPPORTED`](crate::ERR_UNSUPPORTED) without it.
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
///     packed: None, // callable by callers that know `void()` at compile time
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
    /// The packed form, called with this entry's address as `ctx`; null
    /// when the plugin offers none.
    pub packed: Option<ContextFn>,
}

/// A contract: what a plugin registers and a host calls.
///
/// A contract's functions are native ([`NativeEntry`]), typed
/// ([`TypedEntry`]) or run by an engine ([`ContextEntry`]). A host or
/// plugin calling a typed function looks its name up in `typed`, then in
/// `context`: a contract loaded by an engine (WebAssembly, a script) has
/// its typed functions there.
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
///     context_count: 0,
///     context: core::ptr::null(),
///     instance_ctx: core::ptr::null_mut(),
///     create_context_instance: None,
///     destroy_context_instance: None,
///     save_instance: None,
///     restore_instance: None,
///     save_context_instance: None,
///     restore_context_instance: None,
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
    /// Number of entries in `context`.
    pub context_count: u32,
    /// Functions run by an engine, `context_count` of them; may be null
    /// when the count is 0.
    pub context: *const ContextEntry,
    /// Passed to `create_context_instance` and `destroy_context_instance`.
    pub instance_ctx: *mut c_void,
    /// Makes an instance for the `context` functions; null for a contract
    /// without state. Set both or neither of this and
    /// `destroy_context_instance`, and not together with
    /// `create_instance`.
    pub create_context_instance: Option<ContextCreateFn>,
    /// Destroys an instance made by `create_context_instance`.
    pub destroy_context_instance: Option<ContextDestroyFn>,
    /// Saves an instance's state for a state handover (ABI 4); null when
    /// the contract offers none. Only with `create_instance`, and set
    /// together with `restore_instance`.
    pub save_instance: Option<SaveInstanceFn>,
    /// Makes an instance from saved state (ABI 4); null when the contract
    /// offers none. Set together with `save_instance`.
    pub restore_instance: Option<RestoreInstanceFn>,
    /// `save_instance` for instances made by `create_context_instance`,
    /// given `instance_ctx` (ABI 4). Set together with
    /// `restore_context_instance`.
    pub save_context_instance: Option<ContextSaveFn>,
    /// `restore_instance` for instances made by
    /// `create_context_instance`, given `instance_ctx` (ABI 4).
    pub restore_context_instance: Option<ContextRestoreFn>,
}
