//! What a plugin library exports, and the host table it calls back into.

use core::ffi::c_void;

use crate::{AbiError, ContractInterface, StrView, Version};

/// The ABI version this crate describes.
///
/// A plugin exports it as the data symbol [`ABI_VERSION_SYMBOL`]; the host
/// reads that `u32` before it calls any plugin function and refuses the
/// library unless it equals this constant. Any change to a type in this crate
/// bumps it.
///
/// Version 2 added functions run by an engine: [`ContextEntry`](crate::ContextEntry),
/// [`ContextFn`](crate::ContextFn) and the `context*` fields at the end of
/// [`ContractInterface`], which grew from 80 to 120 bytes. A plugin built
/// against version 1 is refused with a message naming both versions.
///
/// Version 3 added strings and bytes to typed signatures ([`BytesView`](crate::BytesView),
/// [`OwnedBuf`](crate::OwnedBuf); [`StrView`] as the `str` argument) and
/// the packed form of a typed function: [`TypedEntry::packed`](crate::TypedEntry::packed),
/// which grew [`TypedEntry`](crate::TypedEntry) from 40 to 48 bytes.
///
/// Version 4 added the state handover: [`SaveInstanceFn`](crate::SaveInstanceFn),
/// [`RestoreInstanceFn`](crate::RestoreInstanceFn), their context forms,
/// and the `save_*`/`restore_*` fields at the end of
/// [`ContractInterface`], which grew from 120 to 152 bytes. A contract
/// that leaves them null works as under version 3; the plugin is rebuilt
/// against version 4 all the same.
///
/// # Example
///
/// ```
/// use polyplug_abi::ABI_VERSION;
///
/// let exported: u32 = 4; // what a plugin's `polyplug_abi_version` holds
/// assert_eq!(exported, ABI_VERSION); // else the host refuses the library
/// ```
pub const ABI_VERSION: u32 = 4;

/// Name of the exported `uint32_t` that holds the plugin's ABI version.
///
/// # Example
///
/// ```
/// use polyplug_abi::ABI_VERSION_SYMBOL;
///
/// // In C: `const uint32_t polyplug_abi_version = PP_ABI_VERSION;`
/// assert_eq!(ABI_VERSION_SYMBOL, "polyplug_abi_version");
/// ```
pub const ABI_VERSION_SYMBOL: &str = "polyplug_abi_version";

/// Name of the exported entry point, of type [`EntryFn`].
///
/// # Example
///
/// ```
/// use polyplug_abi::ENTRY_SYMBOL;
///
/// // In C: `uint32_t polyplug_entry(const PpHostApi *, const PpBundleContext *, PpAbiError *);`
/// assert_eq!(ENTRY_SYMBOL, "polyplug_entry");
/// ```
pub const ENTRY_SYMBOL: &str = "polyplug_entry";

/// Log level: very detailed tracing.
///
/// ```
/// use polyplug_abi::{LOG_DEBUG, LOG_TRACE};
///
/// assert!(LOG_TRACE < LOG_DEBUG); // levels are ordered, most detailed first
/// ```
pub const LOG_TRACE: u32 = 0;
/// Log level: debugging detail.
///
/// ```
/// use polyplug_abi::{LOG_DEBUG, LOG_INFO};
///
/// let verbose = |level: u32| level <= LOG_DEBUG;
/// assert!(verbose(LOG_DEBUG) && !verbose(LOG_INFO));
/// ```
pub const LOG_DEBUG: u32 = 1;
/// Log level: normal operation.
///
/// ```
/// use polyplug_abi::LOG_INFO;
///
/// assert_eq!(LOG_INFO, 2);
/// ```
pub const LOG_INFO: u32 = 2;
/// Log level: something unexpected that the plugin handled.
///
/// ```
/// use polyplug_abi::{LOG_INFO, LOG_WARN};
///
/// let shown = |level: u32| level >= LOG_WARN; // a host that shows warnings and errors
/// assert!(shown(LOG_WARN) && !shown(LOG_INFO));
/// ```
pub const LOG_WARN: u32 = 3;
/// Log level: an error.
///
/// ```
/// use polyplug_abi::{LOG_ERROR, LOG_WARN};
///
/// assert!(LOG_ERROR > LOG_WARN); // the most severe level
/// ```
pub const LOG_ERROR: u32 = 4;

/// A contract found through the host table: an opaque handle that the
/// plugin may keep and resolve again at any time. After the contract is
/// unloaded, resolving it fails with [`ERR_NOT_FOUND`](crate::ERR_NOT_FOUND).
///
/// # Example
///
/// ```
/// use polyplug_abi::ContractHandle;
///
/// let handle = ContractHandle(7); // opaque: only the host gives it meaning
/// assert_eq!(handle, ContractHandle(7));
/// assert_eq!(size_of::<ContractHandle>(), 8); // a plain `uint64_t` in C
/// ```
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContractHandle(pub u64);

/// Registers a contract. Valid only while the entry point runs; later calls
/// fail with [`ERR_NOT_IN_INIT`](crate::ERR_NOT_IN_INIT). The host copies
/// and checks `*contract` before it returns.
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, ContractId, ContractInterface, ERR_INVALID, OK, RegisterContractFn, StrView, Version};
///
/// unsafe extern "C" fn register(_: *mut c_void, contract: *const ContractInterface, _: *mut AbiError) -> u32 {
///     // SAFETY: [P3] `contract` is readable for the duration of the call.
///     let contract = unsafe { contract.read_unaligned() };
///     if contract.native_count + contract.typed_count > 0 { OK } else { ERR_INVALID }
/// }
///
/// let empty = ContractInterface {
///     id: ContractId::of("demo.empty", 1),
///     name: StrView::from_static("demo.empty"),
///     version: Version::new(1, 0, 0),
///     native_count: 0, native: core::ptr::null(),
///     typed_count: 0, typed: core::ptr::null(),
///     create_instance: None, destroy_instance: None,
///     context_count: 0, context: core::ptr::null(), instance_ctx: core::ptr::null_mut(),
///     create_context_instance: None, destroy_context_instance: None,
///     save_instance: None, restore_instance: None,
///     save_context_instance: None, restore_context_instance: None,
/// };
/// let register: RegisterContractFn = register;
/// // SAFETY: [P3] `empty` is a live local; this `register` ignores `ctx` and `err`.
/// let code = unsafe { register(core::ptr::null_mut(), &empty, core::ptr::null_mut()) };
/// assert_eq!(code, ERR_INVALID); // no functions
/// ```
pub type RegisterContractFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    contract: *const ContractInterface,
    err: *mut AbiError,
) -> u32;

/// Finds the best loaded contract named `name` that satisfies `min_version`
/// (the highest compatible minor) and writes its handle to `*out`. Host
/// contracts and plugin contracts are found alike.
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, ContractHandle, ERR_NOT_FOUND, FindContractFn, OK, StrView, Version};
///
/// /// A host that provides `test.add` 1.3 and nothing else.
/// unsafe extern "C" fn find(
///     _: *mut c_void, name: StrView, min: Version, out: *mut ContractHandle, _: *mut AbiError,
/// ) -> u32 {
///     // SAFETY: [P3] `name` is readable for the duration of the call.
///     let name = unsafe { core::slice::from_raw_parts(name.ptr, name.len) };
///     if name != b"test.add" || !Version::new(1, 3, 0).satisfies(min) {
///         return ERR_NOT_FOUND;
///     }
///     // SAFETY: [P4] `out` is writable for one handle.
///     unsafe { out.write(ContractHandle(1)) };
///     OK
/// }
///
/// let find: FindContractFn = find;
/// let mut handle = ContractHandle(0);
/// // SAFETY: [P3][P4] a static name and a live out-pointer; `err` may be null.
/// let code = unsafe { find(core::ptr::null_mut(), StrView::from_static("test.add"), Version::new(1, 2, 0), &mut handle, core::ptr::null_mut()) };
/// assert_eq!((code, handle), (OK, ContractHandle(1)));
/// ```
pub type FindContractFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    name: StrView,
    min_version: Version,
    out: *mut ContractHandle,
    err: *mut AbiError,
) -> u32;

/// Writes the current interface of `handle` to `*out`. The pointers in it
/// stay valid until the plugin function that called `resolve_contract`
/// returns to the host; keep the handle, never the pointers.
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, ContractHandle, ContractInterface, ERR_NOT_FOUND, ResolveContractFn};
///
/// /// A host whose contracts have all been unloaded.
/// unsafe extern "C" fn resolve(
///     _: *mut c_void, _: ContractHandle, _: *mut ContractInterface, _: *mut AbiError,
/// ) -> u32 {
///     ERR_NOT_FOUND
/// }
///
/// let resolve: ResolveContractFn = resolve;
/// let mut out = core::mem::MaybeUninit::<ContractInterface>::uninit();
/// // SAFETY: [P4] `out` is writable for one interface; `err` may be null.
/// let code = unsafe { resolve(core::ptr::null_mut(), ContractHandle(1), out.as_mut_ptr(), core::ptr::null_mut()) };
/// assert_eq!(code, ERR_NOT_FOUND); // keep the handle; resolve again later
/// ```
pub type ResolveContractFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    handle: ContractHandle,
    out: *mut ContractInterface,
    err: *mut AbiError,
) -> u32;

/// Logs `message` at `level` (one of the `LOG_*` constants).
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{LOG_INFO, LogFn, StrView};
///
/// unsafe extern "C" fn log(_: *mut c_void, level: u32, message: StrView) {
///     // SAFETY: [P3] `message` is readable for the duration of the call.
///     let bytes = unsafe { core::slice::from_raw_parts(message.ptr, message.len) };
///     println!("[{level}] {}", String::from_utf8_lossy(bytes));
/// }
///
/// let log: LogFn = log;
/// // SAFETY: [P3] a static message; this `log` ignores `ctx`.
/// unsafe { log(core::ptr::null_mut(), LOG_INFO, StrView::from_static("hello")) };
/// ```
pub type LogFn = unsafe extern "C" fn(ctx: *mut c_void, level: u32, message: StrView);

/// Allocates `size` bytes aligned to `align` (a power of two) from the host;
/// returns null on failure or when `size` is 0.
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use std::alloc::{Layout, alloc, dealloc};
/// use polyplug_abi::AllocFn;
///
/// unsafe extern "C" fn host_alloc(_: *mut c_void, size: usize, align: usize) -> *mut c_void {
///     match Layout::from_size_align(size, align) {
///         // SAFETY: [R9] a valid layout of non-zero size.
///         Ok(layout) if size > 0 => unsafe { alloc(layout) }.cast(),
///         _ => core::ptr::null_mut(),
///     }
/// }
///
/// let alloc_fn: AllocFn = host_alloc;
/// // SAFETY: [R9] any size and alignment may be asked for; this host ignores `ctx`.
/// assert!(unsafe { alloc_fn(core::ptr::null_mut(), 0, 1) }.is_null()); // size 0: refused
/// // SAFETY: as above.
/// let ptr = unsafe { alloc_fn(core::ptr::null_mut(), 16, 8) };
/// assert!(!ptr.is_null());
/// // SAFETY: [R9] freed with the size and alignment it was allocated with.
/// unsafe { dealloc(ptr.cast(), Layout::from_size_align(16, 8).unwrap()) };
/// ```
pub type AllocFn = unsafe extern "C" fn(ctx: *mut c_void, size: usize, align: usize) -> *mut c_void;

/// Frees memory from [`AllocFn`], given the same size and alignment.
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use std::alloc::{Layout, alloc, dealloc};
/// use polyplug_abi::FreeFn;
///
/// unsafe extern "C" fn host_free(_: *mut c_void, ptr: *mut c_void, size: usize, align: usize) {
///     if let (false, Ok(layout)) = (ptr.is_null(), Layout::from_size_align(size, align)) {
///         // SAFETY: [R9] the caller passes what `alloc` returned, with its size and alignment.
///         unsafe { dealloc(ptr.cast(), layout) };
///     }
/// }
///
/// let free: FreeFn = host_free;
/// let layout = Layout::from_size_align(16, 1).unwrap();
/// // SAFETY: [R9] a non-zero size.
/// let ptr = unsafe { alloc(layout) }.cast::<c_void>();
/// // SAFETY: [R9] `ptr` came from the allocator with this size and alignment.
/// unsafe { free(core::ptr::null_mut(), ptr, 16, 1) };
/// // SAFETY: [R9] null is ignored.
/// unsafe { free(core::ptr::null_mut(), core::ptr::null_mut(), 0, 1) };
/// ```
pub type FreeFn =
    unsafe extern "C" fn(ctx: *mut c_void, ptr: *mut c_void, size: usize, align: usize);

/// Copies the last error that the host reported to this bundle into `*out`
/// and returns its code ([`OK`](crate::OK) when there was none). A message
/// is host-allocated ([`ERROR_FLAG_HOST_ALLOCATED`](crate::ERROR_FLAG_HOST_ALLOCATED)).
///
/// The host keeps one last error per bundle, whatever the plugin calls, and
/// bounds its message: polyplug keeps at most 1,024 bytes, and a longer
/// message is cut at a character boundary and ends with ` [truncated]`.
///
/// # Example
///
/// ```
/// use core::ffi::c_void;
/// use polyplug_abi::{AbiError, LastErrorFn, OK};
///
/// /// A host that has reported no error to this bundle.
/// unsafe extern "C" fn last_error(_: *mut c_void, out: *mut AbiError) -> u32 {
///     // SAFETY: [P4] `out` is writable for one `AbiError`.
///     unsafe { out.write(AbiError::NONE) };
///     OK
/// }
///
/// let last_error: LastErrorFn = last_error;
/// let mut err = AbiError::new(7, "stale");
/// // SAFETY: [P4] `err` is a live local; this host ignores `ctx`.
/// assert_eq!(unsafe { last_error(core::ptr::null_mut(), &mut err) }, OK);
/// assert_eq!(err, AbiError::NONE);
/// ```
pub type LastErrorFn = unsafe extern "C" fn(ctx: *mut c_void, out: *mut AbiError) -> u32;

/// The table of host services a plugin calls back into.
///
/// The host builds one per loaded library and keeps it, and `ctx`, valid
/// until that library is closed, so a plugin may keep the pointer it was
/// given at entry. Every function is safe to call from any thread and
/// catches panics on the host side. Pass `ctx` back as the first argument.
/// The `err` argument of each function may be null.
///
/// # Example
///
/// ```
/// use polyplug_abi::{ABI_VERSION, HostApi};
///
/// let api = HostApi {
///     abi_version: ABI_VERSION,
///     size: size_of::<HostApi>() as u32,
///     ctx: core::ptr::null_mut(),
///     register_contract: None,
///     find_contract: None,
///     resolve_contract: None,
///     log: None,
///     alloc: None,
///     free: None,
///     last_error: None,
/// };
/// // What a plugin checks first ([G1]); a missing function is `None`, never null.
/// assert!(api.abi_version == ABI_VERSION && api.size as usize >= size_of::<HostApi>());
/// assert!(api.log.is_none());
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HostApi {
    /// [`ABI_VERSION`] of the host.
    pub abi_version: u32,
    /// `size_of::<HostApi>()` as the host built it; fields beyond it are
    /// absent.
    pub size: u32,
    /// The host's context for this library; opaque to the plugin.
    pub ctx: *mut c_void,
    /// See [`RegisterContractFn`].
    pub register_contract: Option<RegisterContractFn>,
    /// See [`FindContractFn`].
    pub find_contract: Option<FindContractFn>,
    /// See [`ResolveContractFn`].
    pub resolve_contract: Option<ResolveContractFn>,
    /// See [`LogFn`].
    pub log: Option<LogFn>,
    /// See [`AllocFn`].
    pub alloc: Option<AllocFn>,
    /// See [`FreeFn`].
    pub free: Option<FreeFn>,
    /// See [`LastErrorFn`].
    pub last_error: Option<LastErrorFn>,
}

/// What the entry point learns about the bundle it was loaded from. Valid
/// for the duration of the entry call.
///
/// # Example
///
/// ```
/// use polyplug_abi::{BundleContext, StrView, Version};
///
/// let bundle = BundleContext {
///     name: StrView::from_static("test-add"),
///     version: Version::new(1, 0, 0),
///     dir: StrView::EMPTY, // the directory was not valid UTF-8
/// };
/// assert_eq!(bundle.name.len, 8);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BundleContext {
    /// The bundle's name, from its manifest.
    pub name: StrView,
    /// The bundle's version, from its manifest.
    pub version: Version,
    /// The bundle directory, as UTF-8 when it is valid UTF-8, else empty.
    pub dir: StrView,
}

/// The entry point, exported as [`ENTRY_SYMBOL`]. It registers the plugin's
/// contracts through `host` and returns [`OK`](crate::OK), or an error code
/// with `*err` filled. It runs once per load, on the host's writer thread.
///
/// # Example
///
/// ```
/// use polyplug_abi::{AbiError, BundleContext, ERR_BAD_ARGUMENT, EntryFn, HostApi, OK};
///
/// unsafe extern "C" fn entry(host: *const HostApi, _: *const BundleContext, err: *mut AbiError) -> u32 {
///     if host.is_null() {
///         // SAFETY: [P4] `err` is writable for one `AbiError`.
///         unsafe { err.write(AbiError::new(ERR_BAD_ARGUMENT, "no host table")) };
///         return ERR_BAD_ARGUMENT;
///     }
///     OK // a real entry point registers its contracts here
/// }
///
/// let entry: EntryFn = entry;
/// let mut err = AbiError::NONE; // the caller initialises `err`
/// // SAFETY: [P4] `err` is a live local; the null host table is refused, not read.
/// let code = unsafe { entry(core::ptr::null(), core::ptr::null(), &mut err) };
/// assert_eq!((code, err.code), (ERR_BAD_ARGUMENT, ERR_BAD_ARGUMENT));
/// ```
pub type EntryFn = unsafe extern "C" fn(
    host: *const HostApi,
    bundle: *const BundleContext,
    err: *mut AbiError,
) -> u32;
