//! What a plugin library exports, and the host table it calls back into.

use core::ffi::c_void;

use crate::{AbiError, ContractInterface, StrView, Version};

/// The ABI version this crate describes.
///
/// A plugin exports it as the data symbol [`ABI_VERSION_SYMBOL`]; the host
/// reads that `u32` before it calls any plugin function and refuses the
/// library unless it equals this constant. Any change to a type in this crate
/// bumps it.
pub const ABI_VERSION: u32 = 1;

/// Name of the exported `uint32_t` that holds the plugin's ABI version.
pub const ABI_VERSION_SYMBOL: &str = "polyplug_abi_version";

/// Name of the exported entry point, of type [`EntryFn`].
pub const ENTRY_SYMBOL: &str = "polyplug_entry";

/// Log level: very detailed tracing.
pub const LOG_TRACE: u32 = 0;
/// Log level: debugging detail.
pub const LOG_DEBUG: u32 = 1;
/// Log level: normal operation.
pub const LOG_INFO: u32 = 2;
/// Log level: something unexpected that the plugin handled.
pub const LOG_WARN: u32 = 3;
/// Log level: an error.
pub const LOG_ERROR: u32 = 4;

/// A contract found through the host table: an opaque handle that the
/// plugin may keep and resolve again at any time. After the contract is
/// unloaded, resolving it fails with [`ERR_NOT_FOUND`](crate::ERR_NOT_FOUND).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContractHandle(pub u64);

/// Registers a contract. Valid only while the entry point runs; later calls
/// fail with [`ERR_NOT_IN_INIT`](crate::ERR_NOT_IN_INIT). The host copies
/// and checks `*contract` before it returns.
pub type RegisterContractFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    contract: *const ContractInterface,
    err: *mut AbiError,
) -> u32;

/// Finds the best loaded contract named `name` that satisfies `min_version`
/// (the highest compatible minor) and writes its handle to `*out`. Host
/// contracts and plugin contracts are found alike.
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
pub type ResolveContractFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    handle: ContractHandle,
    out: *mut ContractInterface,
    err: *mut AbiError,
) -> u32;

/// Logs `message` at `level` (one of the `LOG_*` constants).
pub type LogFn = unsafe extern "C" fn(ctx: *mut c_void, level: u32, message: StrView);

/// Allocates `size` bytes aligned to `align` (a power of two) from the host;
/// returns null on failure or when `size` is 0.
pub type AllocFn = unsafe extern "C" fn(ctx: *mut c_void, size: usize, align: usize) -> *mut c_void;

/// Frees memory from [`AllocFn`], given the same size and alignment.
pub type FreeFn =
    unsafe extern "C" fn(ctx: *mut c_void, ptr: *mut c_void, size: usize, align: usize);

/// Copies the last error that the host reported to this bundle into `*out`
/// and returns its code ([`OK`](crate::OK) when there was none). A message
/// is host-allocated ([`ERROR_FLAG_HOST_ALLOCATED`](crate::ERROR_FLAG_HOST_ALLOCATED)).
pub type LastErrorFn = unsafe extern "C" fn(ctx: *mut c_void, out: *mut AbiError) -> u32;

/// The table of host services a plugin calls back into.
///
/// The host builds one per loaded library and keeps it, and `ctx`, valid
/// until that library is closed, so a plugin may keep the pointer it was
/// given at entry. Every function is safe to call from any thread and
/// catches panics on the host side. Pass `ctx` back as the first argument.
/// The `err` argument of each function may be null.
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
pub type EntryFn = unsafe extern "C" fn(
    host: *const HostApi,
    bundle: *const BundleContext,
    err: *mut AbiError,
) -> u32;
