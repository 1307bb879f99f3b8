//! Host contracts: contracts a C host implements with its own functions and
//! publishes for plugins (and itself) to find.
//!
//! A `polyplug_host_contract` collects functions, then
//! `polyplug_register_host_contract` hands it to
//! [`engine::Runtime::register_host_contract`], which checks it as
//! a plugin's registration is checked (\[R4\]): names, signatures, duplicate
//! functions. Host functions are called by plugins from any thread, so they
//! keep the rules plugins keep (\[C6\]).

use std::ffi::c_char;
use std::sync::{Mutex, PoisonError};

use engine::HostContract;
use polyplug_abi::{ContextFn, NativeFn, Version, VoidFn};

use crate::error::guarded;
use crate::object::{Tag, Tagged, c_str, hand_out, live, put, put_optional, take_back};
use crate::runtime::{polyplug_runtime, runtime};
use crate::status::{Failure, polyplug_status};

/// A host contract being built. Opaque; made by
/// `polyplug_host_contract_new`, consumed by
/// `polyplug_register_host_contract` or destroyed by
/// `polyplug_host_contract_destroy`.
///
/// ```c
/// polyplug_host_contract *math;
/// polyplug_host_contract_new("host.math", (PpVersion){1, 0, 0}, &math);
/// polyplug_host_contract_typed(math, "twice", "u32(u32)", (PpVoidFn)twice);
/// polyplug_register_host_contract(runtime, math, NULL);
/// ```
#[repr(C)]
#[derive(Debug)]
pub struct polyplug_host_contract {
    tag: Tag,
    /// `None` only while a function is being added.
    contract: Mutex<Option<HostContract>>,
}

// SAFETY: [C1] `#[repr(C)]` with the tag first; the tag value is unique.
unsafe impl Tagged for polyplug_host_contract {
    const TAG: u64 = 0x7070_5f68_6f73_7463; // "pp_hostc"
    const KIND: &'static str = "polyplug_host_contract";
    fn tag(&self) -> &Tag {
        &self.tag
    }
}

impl polyplug_host_contract {
    /// Replaces the contract with `change(contract)`.
    fn change(&self, change: impl FnOnce(HostContract) -> HostContract) {
        let mut slot = self.contract.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(contract) = slot.take() {
            *slot = Some(change(contract));
        }
    }
}

/// Starts host contract `name` at `version`, with no functions yet, and
/// writes it to `*out`. The name is checked when it is registered.
///
/// Ownership: the caller owns it until `polyplug_register_host_contract`
/// takes it, or destroys it with `polyplug_host_contract_destroy`.
///
/// # Safety
///
/// `name` NUL-terminated; `out` writable (\[C4\]).
///
/// ```c
/// polyplug_host_contract *math;
/// polyplug_host_contract_new("host.math", (PpVersion){1, 0, 0}, &math);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_host_contract_new(
    name: *const c_char,
    version: Version,
    out: *mut *mut polyplug_host_contract,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C4] as documented.
        let name = unsafe { c_str(name, "name") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let object = hand_out(polyplug_host_contract {
            tag: Tag::new(polyplug_host_contract::TAG),
            contract: Mutex::new(Some(HostContract::new(name, version))),
        });
        // SAFETY: [C4] checked non-NULL above.
        unsafe { put(out, "out", object) }
    })
}

/// Adds native function `name`, with the fixed convention `fn(instance,
/// args, out, err)` of `polyplug.h` (`PpNativeFn`).
///
/// # Safety
///
/// `contract` NULL or from `polyplug_host_contract_new`; `name`
/// NUL-terminated; `func` keeps the rules of a plugin function: callable
/// from any thread at any time until the runtime is destroyed, fills `*err`
/// when it fails, never unwinds (\[C6\]).
///
/// ```c
/// static uint32_t answer(void *instance, const void *args, void *out, PpAbiError *err) {
///     *(uint32_t *)out = 42;
///     return PP_OK;
/// }
/// polyplug_host_contract_native(math, "answer", answer);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_host_contract_native(
    contract: *mut polyplug_host_contract,
    name: *const c_char,
    func: Option<NativeFn>,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let hc = unsafe { live::<polyplug_host_contract>(contract, "contract") }?;
        // SAFETY: [C4] as documented.
        let name = unsafe { c_str(name, "name") }?;
        let func = func.ok_or_else(|| Failure::null("func"))?;
        hc.change(|c| c.native(name, func));
        Ok(())
    })
}

/// Adds typed function `name` with signature `signature` (`"u32(u32)"`:
/// return type, then argument types, from `u8` to `i64`, `usize`,
/// `isize`, `f32`, `f64`, and `void` as a return type). The spelling is
/// checked when the contract is registered.
///
/// # Safety
///
/// As for `polyplug_host_contract_native`, and `func`, cast to `PpVoidFn`,
/// is a function of exactly the C type `signature` spells: callers will
/// call it as that type (\[C6\], \[R6\]).
///
/// ```c
/// static uint32_t twice(uint32_t x) { return 2 * x; }
/// polyplug_host_contract_typed(math, "twice", "u32(u32)", (PpVoidFn)twice);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_host_contract_typed(
    contract: *mut polyplug_host_contract,
    name: *const c_char,
    signature: *const c_char,
    func: Option<VoidFn>,
) -> polyplug_status {
    // SAFETY: [C1][C4][C6] as documented; no packed form.
    unsafe { add_typed(contract, name, signature, func, || Ok(None)) }
}

/// The body of `polyplug_host_contract_typed` and
/// `polyplug_host_contract_typed_packed`: checks the arguments in order,
/// `packed()` last (`Ok(None)`: no packed form), then adds the function.
///
/// # Safety
///
/// As for `polyplug_host_contract_typed_packed`, for a packed form given.
unsafe fn add_typed(
    contract: *mut polyplug_host_contract,
    name: *const c_char,
    signature: *const c_char,
    func: Option<VoidFn>,
    packed: impl FnOnce() -> Result<Option<ContextFn>, Failure>,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let hc = unsafe { live::<polyplug_host_contract>(contract, "contract") }?;
        // SAFETY: [C4] as documented.
        let name = unsafe { c_str(name, "name") }?;
        // SAFETY: [C4] as documented.
        let signature = unsafe { c_str(signature, "signature") }?;
        let func = func.ok_or_else(|| Failure::null("func"))?;
        let packed = packed()?;
        hc.change(|c| match packed {
            // SAFETY: [C6][R6][R13] the host promises `func` has the type
            // `signature` spells and `packed` is its packed form.
            Some(packed) => unsafe { c.typed_erased_packed(name, signature, func, packed) },
            // SAFETY: [C6][R6] the host promises `func` has the type
            // `signature` spells.
            None => unsafe { c.typed_erased(name, signature, func) },
        });
        Ok(())
    })
}

/// Adds typed function `name` as `polyplug_host_contract_typed` does, with
/// its packed form `packed`, so that callers that hold no C type for it
/// can call it too: a Lua, JavaScript or Python script, a WebAssembly
/// guest, `polyplug_fn_call` and `polyplug_fn_call_pinned`. Without a
/// packed form they are refused with `PP_ERR_UNSUPPORTED`.
///
/// `packed` is what a plugin's `PpTypedEntry.packed` is: it is called as
/// `packed(ctx, instance, args, out, err)`, with `ctx` the address of a
/// `PpTypedEntry` whose `func` is `func`, `instance` NULL, `args` pointing
/// to the arguments laid out as a C struct of the signature's argument
/// types (NULL when there are none), and `out` writable for one value of
/// its return type (NULL for `void`). It returns `PP_OK`, or an error code
/// with `err` filled as a plugin fills it.
///
/// # Safety
///
/// As for `polyplug_host_contract_typed`, and `packed` is a packed form of
/// `func` as just said (\[C6\], \[R13\]).
///
/// ```c
/// static uint32_t twice(uint32_t x) { return 2 * x; }
/// static uint32_t twice_packed(void *ctx, void *instance, const void *args, void *out,
///                              PpAbiError *err) {
///     const PpTypedEntry *entry = ctx;
///     uint32_t x;
///     memcpy(&x, args, sizeof x);
///     uint32_t y = ((uint32_t (*)(uint32_t))entry->func)(x);
///     memcpy(out, &y, sizeof y);
///     return PP_OK;
/// }
/// polyplug_host_contract_typed_packed(math, "twice", "u32(u32)", (PpVoidFn)twice, twice_packed);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_host_contract_typed_packed(
    contract: *mut polyplug_host_contract,
    name: *const c_char,
    signature: *const c_char,
    func: Option<VoidFn>,
    packed: Option<ContextFn>,
) -> polyplug_status {
    // SAFETY: [C1][C4][C6][R13] as documented.
    unsafe {
        add_typed(contract, name, signature, func, || {
            packed.map(Some).ok_or_else(|| Failure::null("packed"))
        })
    }
}

/// Publishes host contract `contract` in `runtime` and writes its handle to
/// `*handle` unless it is NULL. Once both handles are valid, `contract` is
/// consumed, whether registration succeeds or not: do not use or destroy
/// it afterwards. Refused (`POLYPLUG_ERR_HOST_CONTRACT`, naming the field)
/// as a plugin's registration would be.
///
/// # Safety
///
/// `runtime` and `contract` NULL or from this library; `handle` NULL or
/// writable.
///
/// ```c
/// polyplug_contract handle;
/// polyplug_register_host_contract(runtime, math, &handle); // math is gone
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_register_host_contract(
    runtime: *const polyplug_runtime,
    contract: *mut polyplug_host_contract,
    handle: *mut u64,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        // SAFETY: [C1] as documented.
        unsafe { live::<polyplug_host_contract>(contract, "contract") }?;
        // SAFETY: [C1] live (checked); consumed here, as documented.
        let hc = unsafe { take_back(contract) };
        let built = hc
            .contract
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(built) = built else {
            return Ok(());
        };
        let registered = rt.runtime.register_host_contract(built)?;
        // SAFETY: [C4] as documented.
        unsafe { put_optional(handle, registered.to_raw()) };
        Ok(())
    })
}

/// Destroys a host contract that was not registered.
///
/// # Safety
///
/// `contract` NULL or from `polyplug_host_contract_new`, not registered
/// (\[C1\]).
///
/// ```c
/// polyplug_host_contract_destroy(math);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_host_contract_destroy(
    contract: *mut polyplug_host_contract,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        unsafe { live::<polyplug_host_contract>(contract, "contract") }?;
        // SAFETY: [C1] live (checked), not used after this.
        drop(unsafe { take_back(contract) });
        Ok(())
    })
}
