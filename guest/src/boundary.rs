//! The FFI boundary: the entry point, the generic thunks that every
//! generated table points at, and the panic catching around all of them.
//!
//! [`plugin!`](crate::plugin) generates a small type per function that
//! implements one of the traits below and points the table at the matching
//! thunk, so the generated code holds a single `unsafe` block (the entry
//! point's call of [`entry`]). No panic leaves a thunk: native functions
//! and the entry point turn it into [`ERR_PANIC`]; typed functions, which
//! have no error channel, log it and return `R::default()`.

use core::any::Any;
use core::ffi::c_void;
use core::fmt;
use core::ptr::NonNull;
use std::panic::{AssertUnwindSafe, catch_unwind};

use polyplug_abi::{
    AbiError, BundleContext, BytesView, ContractInterface, ERR_BAD_ARGUMENT, ERR_OUT_OF_MEMORY,
    ERR_PANIC, HostApi, LOG_ERROR, OK, OwnedBuf,
};

use crate::error::Error;
use crate::host::{self, Host};
use crate::signature::AbiType;
use crate::table::StaticTable;

/// The optional init function of [`plugin!`](crate::plugin): runs in the
/// entry point before any contract is registered; an error fails the load.
///
/// ```
/// use polyplug_guest::{Error, Host, InitFn};
///
/// fn init(_host: &Host) -> Result<(), Error> {
///     Ok(())
/// }
/// const INIT: InitFn = init;
/// # let _ = INIT;
/// ```
pub type InitFn = fn(&Host) -> Result<(), Error>;

/// Where a panic happened, for its message: `contract/function`.
#[derive(Clone, Copy)]
struct Site<'a>(&'a str, &'a str);

impl fmt::Display for Site<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1.is_empty() {
            f.write_str(self.0)
        } else {
            write!(f, "{}/{}", self.0, self.1)
        }
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "a panic payload that is not a string"
    }
}

/// Drops a panic payload; if its destructor panics too, that payload is
/// leaked rather than let through.
fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        core::mem::forget(again);
    }
}

/// The panic hook that [`entry`] installs in the plugin's own copy of std
/// (a cdylib links its own): logs `panic at file:line:col: message`
/// through the host at `LOG_ERROR` and prints nothing.
///
/// Why: std's default hook, with `RUST_BACKTRACE` set, symbolizes a
/// backtrace, and its symbolizer maps the library file and caches the
/// mapping in a static that is never dropped, so the file would stay mapped
/// (and the memory lost) after every unload.
fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    let message = info
        .payload_as_str()
        .unwrap_or("a panic payload that is not a string");
    let text = match info.location() {
        Some(at) => format!(
            "panic at {}:{}:{}: {message}",
            at.file(),
            at.line(),
            at.column()
        ),
        None => format!("panic: {message}"),
    };
    host::log(LOG_ERROR, &text);
}

/// Installs [`log_panic`]. Not in this crate's own unit tests, whose std is
/// the test harness's.
fn install_panic_hook() {
    #[cfg(not(test))]
    std::panic::set_hook(Box::new(log_panic));
    #[cfg(test)]
    let _ = log_panic;
}

/// Runs `f`, turning a panic into an [`ERR_PANIC`] error whose message is
/// `"<site> panicked: <panic message>"`.
fn catch<T>(site: Site<'_>, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let error = Error::new(
                ERR_PANIC,
                format!("{site} panicked: {}", panic_message(&*payload)),
            );
            drop_payload(payload);
            Err(error)
        }
    }
}

/// The entry point's body: checks and stores the host table, installs the
/// panic hook (`log_panic`), runs `init`, then registers each contract
/// in order, stopping at the first error.
///
/// # Safety
///
/// \[G1\], \[G2\]: the arguments are those the host passed to
/// `polyplug_entry`: `host` is null or a host table valid until the library
/// is closed, `err` is null or writable.
pub unsafe fn entry(
    host: *const HostApi,
    bundle: *const BundleContext,
    err: *mut AbiError,
    init: Option<InitFn>,
    contracts: &[&StaticTable<ContractInterface>],
) -> u32 {
    let _ = bundle;
    // SAFETY: [G1] `host` comes unchanged from the host's call.
    if let Err(error) = unsafe { host::install(host) } {
        // SAFETY: [G2] `err` is null or writable. No checked table yet, so
        // the (static) message is not host-allocated.
        return unsafe { error.write_with(None, err) };
    }
    let Some(host) = Host::current() else {
        // SAFETY: [G2] as above.
        return unsafe {
            Error::from_static(ERR_BAD_ARGUMENT, "no host table").write_with(None, err)
        };
    };
    install_panic_hook();
    if let Some(init) = init
        && let Err(error) = catch(Site("init", ""), || init(&host))
    {
        // SAFETY: [G2] `err` is null or writable.
        return unsafe { error.write_with(Some(&host), err) };
    }
    for contract in contracts {
        // SAFETY: [G2] `err` is null or writable; [G6] the table is static.
        let code = unsafe { host.register(contract.get(), err) };
        if code != OK {
            return code;
        }
    }
    OK
}

/// A native function that takes no instance, as
/// [`plugin!`](crate::plugin) declares it.
pub trait FreeNative {
    /// The argument struct.
    type Args: Copy;
    /// The result struct.
    type Out: Copy;
    /// The contract's name, for messages.
    const CONTRACT: &'static str;
    /// The function's name, for messages.
    const NAME: &'static str;
    /// The plugin's function.
    fn call(args: &Self::Args) -> Result<Self::Out, Error>;
}

/// A native function of a stateful contract that works on its instance.
pub trait StatefulNative {
    /// The contract's state.
    type State;
    /// The argument struct.
    type Args: Copy;
    /// The result struct.
    type Out: Copy;
    /// The contract's name, for messages.
    const CONTRACT: &'static str;
    /// The function's name, for messages.
    const NAME: &'static str;
    /// The plugin's function.
    fn call(state: &mut Self::State, args: &Self::Args) -> Result<Self::Out, Error>;
}

/// The state of a stateful contract and its constructor.
pub trait StateImpl {
    /// The state one instance holds.
    type State;
    /// The contract's name, for messages.
    const CONTRACT: &'static str;
    /// Makes the state of a new instance.
    fn create(host: &Host) -> Result<Self::State, Error>;
}

/// The state handover of a stateful contract: `save = ..; restore = ..;`
/// in [`plugin!`](crate::plugin).
pub trait HandoverImpl: StateImpl {
    /// The state as bytes, in the contract's own format.
    fn save(state: &Self::State) -> Result<Vec<u8>, Error>;
    /// A state from bytes that `save` of this contract (any version, any
    /// language) wrote.
    fn restore(host: &Host, bytes: &[u8]) -> Result<Self::State, Error>;
}

/// The constructor of `state T;`: `T::default()`.
pub fn default_state<T: Default>(_host: &Host) -> Result<T, Error> {
    Ok(T::default())
}

/// The [`NativeFn`](polyplug_abi::NativeFn) of a [`FreeNative`]; ignores
/// `instance`.
///
/// # Safety
///
/// \[G2\]: called under the native calling convention: non-null `args`,
/// `out` and `err` point to valid memory of the documented types.
pub unsafe extern "C" fn native_free<N: FreeNative>(
    instance: *mut c_void,
    args: *const c_void,
    out: *mut c_void,
    err: *mut AbiError,
) -> u32 {
    let _ = instance;
    // SAFETY: [G2] forwarded unchanged from the host's call.
    unsafe { run_native(N::CONTRACT, N::NAME, args, out, err, N::call) }
}

/// The [`NativeFn`](polyplug_abi::NativeFn) of a [`StatefulNative`]; a
/// null `instance` is `ERR_BAD_ARGUMENT`.
///
/// # Safety
///
/// \[G2\] as for [`native_free`], and \[G3\]: a non-null `instance` was made by
/// this contract's `create_instance`, is not destroyed, and no other call
/// uses it at the same time.
pub unsafe extern "C" fn native_stateful<N: StatefulNative>(
    instance: *mut c_void,
    args: *const c_void,
    out: *mut c_void,
    err: *mut AbiError,
) -> u32 {
    if instance.is_null() {
        // SAFETY: [G2] `err` is null or writable.
        return unsafe { null_instance(N::CONTRACT, N::NAME, err) };
    }
    // SAFETY: [G3] a non-null instance of this contract is a live
    // `Box<N::State>` from `create_instance`, used by this call alone.
    let state = unsafe { &mut *instance.cast::<N::State>() };
    // SAFETY: [G2] forwarded unchanged from the host's call.
    unsafe {
        run_native(N::CONTRACT, N::NAME, args, out, err, |args| {
            N::call(state, args)
        })
    }
}

/// Checks the pointers, copies the arguments in, runs `f` under
/// `catch_unwind`, and writes the result or the error.
///
/// The success path holds only the null checks, the copies and `f`'s own
/// code: everything an error needs (the site's name, formatting, the host
/// allocator) lives in the cold functions below, so a native function that
/// returns `Ok` costs a few instructions more than the same function
/// written in C.
///
/// # Safety
///
/// \[G2\]: non-null `args` points to a readable `A`, non-null `out` to a
/// writable `O`, and `err` is null or writable, for this call. Neither
/// needs to be aligned; they may overlap.
#[inline(always)]
unsafe fn run_native<A: Copy, O: Copy>(
    contract: &'static str,
    name: &'static str,
    args: *const c_void,
    out: *mut c_void,
    err: *mut AbiError,
    f: impl FnOnce(&A) -> Result<O, Error>,
) -> u32 {
    if args.is_null() && size_of::<A>() != 0 {
        // SAFETY: [G2] `err` is null or writable.
        return unsafe { null_pointer(contract, name, true, err) };
    }
    if out.is_null() && size_of::<O>() != 0 {
        // SAFETY: [G2] `err` is null or writable.
        return unsafe { null_pointer(contract, name, false, err) };
    }
    // A zero-sized type is read from and written to a dangling pointer,
    // which is valid for it even where the host passed null.
    let args = if size_of::<A>() == 0 {
        NonNull::<A>::dangling().as_ptr().cast_const()
    } else {
        args.cast::<A>()
    };
    let out = if size_of::<O>() == 0 {
        NonNull::<O>::dangling().as_ptr()
    } else {
        out.cast::<O>()
    };
    // SAFETY: [G2] `args` points to a readable `A` (checked non-null above, or
    // dangling for a ZST); an unaligned copy, so `out` may alias it.
    let args = unsafe { args.read_unaligned() };
    match catch_unwind(AssertUnwindSafe(|| f(&args))) {
        Ok(Ok(value)) => {
            // SAFETY: [G2] `out` points to a writable `O` (non-null or
            // dangling for a ZST); written unaligned.
            unsafe { out.write_unaligned(value) };
            OK
        }
        // SAFETY: [G2] `err` is null or writable.
        Ok(Err(error)) => unsafe { failed(error, err) },
        // SAFETY: [G2] `err` is null or writable.
        Err(payload) => unsafe { panicked(contract, name, payload, err) },
    }
}

/// A native function's `args` pointer (`args_null`) or `out` pointer is
/// null: `ERR_BAD_ARGUMENT`, written to `err`. (A flag, not the pointer's
/// name: six arguments stay in registers, so the caller jumps here without
/// a stack frame of its own.)
///
/// # Safety
///
/// \[G2\]: `err` is null or writable.
#[cold]
#[inline(never)]
#[expect(
    improper_ctypes_definitions,
    reason = "called from Rust only: `extern \"C\"` makes it nounwind, so a thunk jumps to it as a tail call"
)]
unsafe extern "C" fn null_pointer(
    contract: &'static str,
    name: &'static str,
    args_null: bool,
    err: *mut AbiError,
) -> u32 {
    let site = Site(contract, name);
    let which = if args_null { "args" } else { "out" };
    let error = Error::new(ERR_BAD_ARGUMENT, format!("{site}: `{which}` is null"));
    // SAFETY: [G2] `err` is null or writable.
    unsafe { error.write_to(err) }
}

/// A function that needs an instance got none: `ERR_BAD_ARGUMENT`, written
/// to `err`.
///
/// # Safety
///
/// \[G2\]: `err` is null or writable.
#[cold]
#[inline(never)]
#[expect(
    improper_ctypes_definitions,
    reason = "called from Rust only: `extern \"C\"` makes it nounwind, so a thunk jumps to it as a tail call"
)]
unsafe extern "C" fn null_instance(
    contract: &'static str,
    name: &'static str,
    err: *mut AbiError,
) -> u32 {
    let error = Error::new(
        ERR_BAD_ARGUMENT,
        format!(
            "{}: the instance is null; this function needs one from create_instance",
            Site(contract, name)
        ),
    );
    // SAFETY: [G2] `err` is null or writable.
    unsafe { error.write_to(err) }
}

/// A native function returned `Err(error)`: written to `err`.
///
/// # Safety
///
/// \[G2\]: `err` is null or writable.
#[cold]
#[inline(never)]
#[expect(
    improper_ctypes_definitions,
    reason = "called from Rust only: `extern \"C\"` makes it nounwind, so a thunk jumps to it as a tail call"
)]
unsafe extern "C" fn failed(error: Error, err: *mut AbiError) -> u32 {
    // SAFETY: [G2] `err` is null or writable.
    unsafe { error.write_to(err) }
}

/// A native function panicked: [`ERR_PANIC`] with the message
/// `"<site> panicked: <panic message>"`, written to `err`, as [`catch`]
/// words it.
///
/// # Safety
///
/// \[G2\]: `err` is null or writable.
#[cold]
#[inline(never)]
#[expect(
    improper_ctypes_definitions,
    reason = "called from Rust only: `extern \"C\"` makes it nounwind, so a thunk jumps to it as a tail call"
)]
unsafe extern "C" fn panicked(
    contract: &'static str,
    name: &'static str,
    payload: Box<dyn Any + Send>,
    err: *mut AbiError,
) -> u32 {
    let error = Error::new(
        ERR_PANIC,
        format!(
            "{} panicked: {}",
            Site(contract, name),
            panic_message(&*payload)
        ),
    );
    drop_payload(payload);
    // SAFETY: [G2] `err` is null or writable.
    unsafe { error.write_to(err) }
}

/// Runs a typed function's body. A typed function has no error channel, so
/// a panic is logged through the host at `LOG_ERROR` and the function
/// returns `R::default()` (0, 0.0, or nothing).
pub fn typed_call<R: AbiType>(contract: &str, name: &str, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(payload) => {
            host::log(
                LOG_ERROR,
                &format!(
                    "typed {} panicked: {}; returning the default {}",
                    Site(contract, name),
                    panic_message(&*payload),
                    R::C_NAME
                ),
            );
            drop_payload(payload);
            R::default()
        }
    }
}

/// The [`CreateInstanceFn`](polyplug_abi::CreateInstanceFn) of a stateful
/// contract: boxes the state made by [`StateImpl::create`] (which gets the
/// host table stored at entry) and writes the box to `*instance`.
///
/// # Safety
///
/// \[G2\]: `instance` is null or writable; `err` is null or writable.
pub unsafe extern "C" fn create_instance<S: StateImpl>(
    host: *const HostApi,
    instance: *mut *mut c_void,
    err: *mut AbiError,
) -> u32 {
    let _ = host;
    if instance.is_null() {
        let error = Error::new(
            ERR_BAD_ARGUMENT,
            format!(
                "{}: `instance` is null",
                Site(S::CONTRACT, "create_instance")
            ),
        );
        // SAFETY: [G2] `err` is null or writable.
        return unsafe { error.write_to(err) };
    }
    match catch(Site(S::CONTRACT, "create_instance"), || {
        Host::with(S::create)
    }) {
        Ok(state) => {
            let raw = Box::into_raw(Box::new(state)).cast::<c_void>();
            // SAFETY: [G2] `instance` is non-null (checked above) and writable.
            unsafe { instance.write(raw) };
            OK
        }
        // SAFETY: [G2] `err` is null or writable.
        Err(error) => unsafe { error.write_to(err) },
    }
}

/// The [`SaveInstanceFn`](polyplug_abi::SaveInstanceFn) of a stateful
/// contract with a handover: [`HandoverImpl::save`] on the boxed state,
/// its bytes copied into the host's memory and handed over in `*out`.
///
/// # Safety
///
/// \[G2\]: `out` and `err` are null or writable; \[G3\]: a non-null
/// `instance` was made by this contract's `create_instance` or
/// `restore_instance`, is not destroyed, and no other call uses it.
pub unsafe extern "C" fn save_instance<S: HandoverImpl>(
    instance: *mut c_void,
    out: *mut OwnedBuf,
    err: *mut AbiError,
) -> u32 {
    let site = Site(S::CONTRACT, "save_instance");
    if instance.is_null() || out.is_null() {
        let error = Error::new(
            ERR_BAD_ARGUMENT,
            format!("{site}: `instance` or `out` is null"),
        );
        // SAFETY: [G2] `err` is null or writable.
        return unsafe { error.write_to(err) };
    }
    // SAFETY: [G3] a live `Box<S::State>` of this contract, used by this
    // call alone.
    let state = unsafe { &*instance.cast::<S::State>() };
    let saved = catch(site, || {
        let bytes = S::save(state)?;
        Host::with(|host| {
            host.alloc_bytes(&bytes).ok_or_else(|| {
                Error::new(
                    ERR_OUT_OF_MEMORY,
                    format!("{site}: the host could not allocate {} bytes", bytes.len()),
                )
            })
        })
    });
    match saved {
        Ok(buf) => {
            // SAFETY: [G2] `out` is non-null (checked above) and writable.
            unsafe { out.write_unaligned(buf) };
            OK
        }
        // SAFETY: [G2] `err` is null or writable.
        Err(error) => unsafe { error.write_to(err) },
    }
}

/// The [`RestoreInstanceFn`](polyplug_abi::RestoreInstanceFn) of a
/// stateful contract with a handover: boxes the state that
/// [`HandoverImpl::restore`] makes from `state`, as `create_instance`
/// boxes a new one.
///
/// # Safety
///
/// \[G2\]: `instance` and `err` are null or writable; `state` is
/// readable for the call (\[P3\]).
pub unsafe extern "C" fn restore_instance<S: HandoverImpl>(
    host: *const HostApi,
    state: BytesView,
    instance: *mut *mut c_void,
    err: *mut AbiError,
) -> u32 {
    let _ = host;
    let site = Site(S::CONTRACT, "restore_instance");
    if instance.is_null() || (state.ptr.is_null() && state.len != 0) {
        let error = Error::new(
            ERR_BAD_ARGUMENT,
            format!("{site}: `instance` or `state` is null"),
        );
        // SAFETY: [G2] `err` is null or writable.
        return unsafe { error.write_to(err) };
    }
    let bytes: &[u8] = if state.len == 0 {
        &[]
    } else {
        // SAFETY: [G2] the host's view is readable for the call.
        unsafe { core::slice::from_raw_parts(state.ptr, state.len) }
    };
    match catch(site, || Host::with(|host| S::restore(host, bytes))) {
        Ok(state) => {
            let raw = Box::into_raw(Box::new(state)).cast::<c_void>();
            // SAFETY: [G2] `instance` is non-null (checked above) and writable.
            unsafe { instance.write(raw) };
            OK
        }
        // SAFETY: [G2] `err` is null or writable.
        Err(error) => unsafe { error.write_to(err) },
    }
}

/// The [`DestroyInstanceFn`](polyplug_abi::DestroyInstanceFn) of a
/// stateful contract: drops the boxed state. Null does nothing; a panic in
/// the state's destructor is logged.
///
/// # Safety
///
/// \[G3\]: a non-null `instance` was made by [`create_instance::<S>`] or
/// [`restore_instance`], is destroyed once, and no call uses it at the
/// same time or afterwards.
pub unsafe extern "C" fn destroy_instance<S: StateImpl>(instance: *mut c_void) {
    if instance.is_null() {
        return;
    }
    // SAFETY: [G3] made by `Box::into_raw` in `create_instance::<S>`,
    // handed back once.
    let state = unsafe { Box::from_raw(instance.cast::<S::State>()) };
    let dropped = catch(Site(S::CONTRACT, "destroy_instance"), move || {
        drop(state);
        Ok(())
    });
    if let Err(error) = dropped {
        host::log(LOG_ERROR, error.message());
    }
}
