//! Calling: typed functions as plain C function pointers, checked once
//! against the caller's signature string, or packed (any typed function,
//! native or engine-run); native functions; instances.
//!
//! A typed function pointer is valid while the guard it was obtained under
//! stays pinned (\[C5\]): that is what keeps its library loaded. The fast,
//! hot-reload-safe form is a `polyplug_fn`: checked once, then fetched per
//! guard for the cost of a handle check and one compare
//! ([`engine::ErasedBinding`]); after a reload it finds the new
//! version's function of the same name and checks its signature again.

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};

use engine::{ErasedBinding, ErasedFn, Guard, Instance};
use polyplug_abi::{OwnedBuf, Version, VoidFn};

use crate::error::guarded;
use crate::object::{Tag, Tagged, c_str, hand_out, live, put, take_back, this_thread};
use crate::read::{
    contract, polyplug_contract, polyplug_guard, polyplug_reader, with_guard, with_pinned,
};
use crate::status::{
    Failure, POLYPLUG_ERR_BUSY, POLYPLUG_ERR_NOT_NATIVE, POLYPLUG_ERR_WRONG_THREAD, polyplug_status,
};

/// Looks up typed function `name` of `contract` under `guard`, checks that
/// its registered signature is `signature` (such as `"u32(u32,u32)"`;
/// whitespace ignored), and writes its address to `*out`. Cast it to the
/// C function type the signature spells and call it: a plain indirect call.
///
/// Lifetime: the pointer may be called only while `guard` stays pinned
/// (\[C5\]); after `polyplug_unpin` its library may be closed. Not checked:
/// C cannot stop a copy of the pointer from being called later.
///
/// Errors: `POLYPLUG_ERR_NO_FUNCTION`, `POLYPLUG_ERR_SIGNATURE_MISMATCH`
/// (the message gives both signatures), `POLYPLUG_ERR_STALE_CONTRACT`,
/// `POLYPLUG_ERR_NOT_NATIVE` for a function an engine runs,
/// which has no C pointer (call it through a `polyplug_fn` with
/// `polyplug_fn_call`), and the guard and argument errors.
///
/// # Safety
///
/// `guard.reader` NULL or from `polyplug_reader_new`; strings
/// NUL-terminated; `out` writable (\[C1\], \[C4\]).
///
/// ```c
/// PpVoidFn f;
/// polyplug_typed(guard, add, "inc", "u32(u32)", &f);
/// uint32_t y = ((uint32_t (*)(uint32_t))f)(41);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_typed(
    guard: polyplug_guard,
    contract: polyplug_contract,
    name: *const c_char,
    signature: *const c_char,
    out: *mut Option<VoidFn>,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C4] as documented.
        let name = unsafe { c_str(name, "name") }?;
        // SAFETY: [C4] as documented.
        let signature = unsafe { c_str(signature, "signature") }?;
        // SAFETY: [C1] as documented.
        let func = unsafe {
            with_guard(guard, |g, _| {
                Ok(self::contract(g, contract)?
                    .typed_erased(name, signature)?
                    .raw())
            })
        }?;
        let func = func.ok_or_else(|| not_native(name))?;
        // SAFETY: [C4] as documented.
        unsafe { put(out, "out", Some(func)) }
    })
}

/// A typed function of a contract, checked once against a signature
/// string, fetched per guard with `polyplug_fn_get`. Opaque; used on the
/// thread that made it.
///
/// ```c
/// polyplug_fn *inc; // checked once, fetched per guard
/// polyplug_fn_new(guard, add, "inc", "u32(u32)", &inc);
/// ```
#[repr(C)]
pub struct polyplug_fn {
    tag: Tag,
    thread: usize,
    binding: ErasedBinding,
    /// The result is `string` or `buf`: `polyplug_fn_call` records it for
    /// `polyplug_buf_free` (\[C9\]). Fixed by the checked signature, which
    /// every later version's function must have too.
    owned_result: bool,
}

// SAFETY: [C1] `#[repr(C)]` with the tag first; the tag value is unique.
unsafe impl Tagged for polyplug_fn {
    const TAG: u64 = 0x7070_5f66_756e_6374; // "pp_funct"
    const KIND: &'static str = "polyplug_fn";
    fn tag(&self) -> &Tag {
        &self.tag
    }
}

impl std::fmt::Debug for polyplug_fn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("polyplug_fn")
            .field("binding", &self.binding)
            .finish_non_exhaustive()
    }
}

/// Checks typed function `name` of `contract` against `signature` once,
/// and writes a function handle for `polyplug_fn_get` to `*out`.
///
/// Ownership: the caller owns it and destroys it with
/// `polyplug_fn_destroy`. It is used (fetched and destroyed) on the calling
/// thread only, under guards of any reader of this thread; it may outlive
/// the guard, the reader and the runtime (it then reports a stale
/// contract).
///
/// # Safety
///
/// As for `polyplug_typed`.
///
/// ```c
/// polyplug_fn *inc;
/// polyplug_fn_new(guard, add, "inc", "u32(u32)", &inc);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_fn_new(
    guard: polyplug_guard,
    contract: polyplug_contract,
    name: *const c_char,
    signature: *const c_char,
    out: *mut *mut polyplug_fn,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C4] as documented.
        let name = unsafe { c_str(name, "name") }?;
        // SAFETY: [C4] as documented.
        let signature = unsafe { c_str(signature, "signature") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: [C1] as documented.
        let (binding, thread) = unsafe {
            with_guard(guard, |g, reader| {
                let binding = self::contract(g, contract)?.bind_erased(name, signature)?;
                Ok((binding, reader.thread))
            })
        }?;
        let sig = binding.signature();
        let owned_result = sig.starts_with("string(") || sig.starts_with("buf(");
        let object = hand_out(polyplug_fn {
            tag: Tag::new(polyplug_fn::TAG),
            thread,
            binding,
            owned_result,
        });
        // SAFETY: [C4] checked non-NULL above.
        unsafe { put(out, "out", object) }
    })
}

/// Writes the address of `function` as it serves under `guard` to `*out`:
/// after a reload, the new version's function (its signature checked
/// again). The hot path: a check of the guard, the handle and one compare.
/// The pointer may be called while `guard` stays pinned (\[C5\]).
///
/// Errors: `POLYPLUG_ERR_STALE_CONTRACT` after an unload;
/// `POLYPLUG_ERR_NO_FUNCTION` or `POLYPLUG_ERR_SIGNATURE_MISMATCH` if a
/// reload dropped or changed it; `POLYPLUG_ERR_WRONG_THREAD` on another
/// thread than the one that made it; `POLYPLUG_ERR_NOT_NATIVE` when an
/// engine runs it: call it with `polyplug_fn_call`.
///
/// # Safety
///
/// `guard.reader` and `function` NULL or from this library; `out` writable.
///
/// ```c
/// polyplug_guard guard;
/// PpVoidFn f;
/// polyplug_pin(reader, &guard);                 // per call: reload-safe
/// if (polyplug_fn_get(guard, inc, &f) == POLYPLUG_OK) {
///     x = ((uint32_t (*)(uint32_t))f)(x);
/// }
/// polyplug_unpin(guard);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_fn_get(
    guard: polyplug_guard,
    function: *const polyplug_fn,
    out: *mut Option<VoidFn>,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let f = unsafe { live::<polyplug_fn>(function, "function") }?;
        // SAFETY: [C1] as documented.
        let func = unsafe {
            with_guard(guard, |g, reader| {
                if f.thread != reader.thread {
                    return Err(fn_elsewhere(f));
                }
                Ok(g.bound_erased(&f.binding)?.raw())
            })
        }?;
        let func = func.ok_or_else(|| not_native(f.binding.name()))?;
        // SAFETY: [C4] as documented.
        unsafe { put(out, "out", Some(func)) }
    })
}

/// A typed function with no plain pointer.
#[cold]
#[inline(never)]
fn not_native(name: &str) -> Failure {
    Failure::new(
        POLYPLUG_ERR_NOT_NATIVE,
        format!(
            "typed function {name} is run by an engine and has no C function pointer; call it with polyplug_fn_call"
        ),
    )
}

/// Calls `function` as it serves under `guard`, packed: `args` points to
/// its arguments laid out as a C struct in signature order (NULL when it
/// takes none), `out` to room for its result (NULL for `void`; a `string`
/// or `buf` result is a `PpOwnedBuf` that the caller frees with
/// `polyplug_buf_free`). The convention of `pp_typed_call` in
/// `polyplug.h`, stateless (no instance). It calls every typed function:
/// a native one through the packed form its plugin registered, one an
/// engine runs (WebAssembly) through its engine.
///
/// Errors: those of `polyplug_fn_get` (but never
/// `POLYPLUG_ERR_NOT_NATIVE`); `POLYPLUG_ERR_CALL` when the function fails
/// (a WebAssembly trap, an error a plugin returns, a native function that
/// registered no packed form: plugin code `PP_ERR_UNSUPPORTED`), with its
/// code in `polyplug_last_error_code` and its message.
///
/// A non-empty `string` or `buf` result is recorded as handed out, so
/// that `polyplug_buf_free` can refuse a second free (\[C9\]).
///
/// # Safety
///
/// `args` and `out` are laid out as the function's checked signature says
/// (\[R6\]); the rest as for `polyplug_fn_get`.
///
/// ```c
/// typedef struct { uint32_t a, b; } AddArgs;
/// AddArgs args = {2, 3};
/// uint32_t sum;
/// polyplug_fn_call(guard, add, &args, &sum); // native or WebAssembly alike
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_fn_call(
    guard: polyplug_guard,
    function: *const polyplug_fn,
    args: *const c_void,
    out: *mut c_void,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let f = unsafe { live::<polyplug_fn>(function, "function") }?;
        let call = |g: &Guard<'_>, reader: &polyplug_reader| {
            // SAFETY: [R6] `args` and `out` as the caller promised.
            unsafe { call_packed_under(g, reader, f, args, out) }
        };
        // SAFETY: [C1] as documented.
        unsafe { with_guard(guard, call) }
    })
}

/// Pins `reader`, calls `function` packed as `polyplug_fn_call` does, and
/// unpins: one crossing of the boundary for a call that must follow
/// reloads, where a pin, a fetch, the call and an unpin would be four.
/// For hosts that pay per crossing (a Python host through ctypes); a C
/// host calling in a loop pins once per batch and calls the pointer.
///
/// The guard lives only inside this call: the function's library stays
/// loaded until it returns, and nothing of it may be used afterwards but
/// the result (an owned `string` or `buf` result is the caller's, freed
/// with `polyplug_buf_free`). Takes no guard slot, so it works with every
/// slot of the reader pinned, and inside a call made under one;
/// `polyplug_reader_destroy` is refused (`POLYPLUG_ERR_BUSY`) while it
/// runs.
///
/// Errors: `POLYPLUG_ERR_NULL`, `POLYPLUG_ERR_INVALID_HANDLE` (reader or
/// function), `POLYPLUG_ERR_WRONG_THREAD` (the reader or the function is
/// another thread's), and those of `polyplug_fn_call`.
///
/// # Safety
///
/// `reader` NULL or from `polyplug_reader_new`; `function` NULL or from
/// `polyplug_fn_new` (\[C1\]); `args` and `out` as for `polyplug_fn_call`
/// (\[R6\]).
///
/// ```c
/// uint32_t y;
/// uint32_t x = 41;
/// polyplug_fn_call_pinned(reader, inc, &x, &y); // pin, call, unpin
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_fn_call_pinned(
    reader: *mut polyplug_reader,
    function: *const polyplug_fn,
    args: *const c_void,
    out: *mut c_void,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let f = unsafe { live::<polyplug_fn>(function, "function") }?;
        let call = |g: &Guard<'_>, r: &polyplug_reader| {
            // SAFETY: [R6] `args` and `out` as the caller promised.
            unsafe { call_packed_under(g, r, f, args, out) }
        };
        // SAFETY: [C1] as documented.
        unsafe { with_pinned(reader, call) }
    })
}

/// `f` called packed under `g`, a guard of `reader`.
///
/// # Safety
///
/// `args` and `out` laid out as `f`'s checked signature says (\[R6\]).
unsafe fn call_packed_under(
    g: &Guard<'_>,
    reader: &polyplug_reader,
    f: &polyplug_fn,
    args: *const c_void,
    out: *mut c_void,
) -> Result<(), Failure> {
    if f.thread != reader.thread {
        return Err(fn_elsewhere(f));
    }
    let func: ErasedFn<'_> = g.bound_erased(&f.binding)?;
    // SAFETY: [R6] the host's promise on `args` and `out` for the checked
    // signature; [C5] the guard is pinned across the call.
    unsafe { func.call_packed(std::ptr::null_mut(), args, out) }?;
    if f.owned_result && !out.is_null() {
        // SAFETY: [R6] for a `string` or `buf` result the host's `out`
        // holds a PpOwnedBuf, which the call just wrote.
        let buf = unsafe { out.cast::<OwnedBuf>().read_unaligned() };
        crate::buf::hand_over(buf);
    }
    Ok(())
}

/// A function used under a guard of another thread.
#[cold]
#[inline(never)]
fn fn_elsewhere(f: &polyplug_fn) -> Failure {
    Failure::new(
        POLYPLUG_ERR_WRONG_THREAD,
        format!(
            "function {} was made on a thread other than this guard's",
            f.binding.name()
        ),
    )
}

/// Destroys a function handle, on the thread that made it.
///
/// # Safety
///
/// `function` NULL or from `polyplug_fn_new` (\[C1\]).
///
/// ```c
/// polyplug_fn_destroy(inc);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_fn_destroy(function: *mut polyplug_fn) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let f = unsafe { live::<polyplug_fn>(function, "function") }?;
        if f.thread != this_thread() {
            return Err(Failure::new(
                POLYPLUG_ERR_WRONG_THREAD,
                "function destroyed on a thread other than the one that made it",
            ));
        }
        // SAFETY: [C1] live (checked), not used after this.
        drop(unsafe { take_back(function) });
        Ok(())
    })
}

/// Calls native function `name` of `contract` with the fixed convention:
/// `fn(NULL, args, out, &err)`. `args` and `out` are passed to the plugin
/// as they are (NULL included); their types are the contract's, which
/// polyplug cannot check. A plugin error is `POLYPLUG_ERR_CALL`, with the
/// plugin's code in `polyplug_last_error_code` and its message.
///
/// # Safety
///
/// `args` and `out` are what the contract documents for `name` (\[P1\]);
/// the rest as for `polyplug_typed`.
///
/// ```c
/// typedef struct { uint32_t a, b; } AddArgs;
/// AddArgs args = {2, 3};
/// uint32_t sum;
/// polyplug_call_native(guard, add, "add", &args, &sum);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_call_native(
    guard: polyplug_guard,
    contract: polyplug_contract,
    name: *const c_char,
    args: *const c_void,
    out: *mut c_void,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C4] as documented.
        let name = unsafe { c_str(name, "name") }?;
        let call = |g: &Guard<'static>, _: &polyplug_reader| -> Result<(), Failure> {
            let native = self::contract(g, contract)?.native(name)?;
            // SAFETY: [P1] the host's promise on `args` and `out`.
            Ok(unsafe { native.call_raw(args, out) }?)
        };
        // SAFETY: [C1] as documented.
        unsafe { with_guard(guard, call) }
    })
}

/// An instance of a stateful contract. It calls the version that made it,
/// even after a reload, and keeps that version's library loaded until it is
/// destroyed. Opaque; usable from any thread, one call at a time (a second
/// concurrent call is refused with `POLYPLUG_ERR_BUSY`).
///
/// ```c
/// polyplug_instance *counter;
/// polyplug_instance_new(guard, contract, &counter);
/// polyplug_instance_call(counter, "bump", &args, &count);
/// polyplug_instance_destroy(counter);
/// ```
#[repr(C)]
pub struct polyplug_instance {
    tag: Tag,
    /// A call or the destruction is running ([C8]).
    busy: AtomicBool,
    instance: UnsafeCell<Instance>,
}

// SAFETY: [C1] `#[repr(C)]` with the tag first; the tag value is unique.
unsafe impl Tagged for polyplug_instance {
    const TAG: u64 = 0x7070_5f69_6e73_7461; // "pp_insta"
    const KIND: &'static str = "polyplug_instance";
    fn tag(&self) -> &Tag {
        &self.tag
    }
}

impl std::fmt::Debug for polyplug_instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("polyplug_instance").finish_non_exhaustive()
    }
}

/// Marks `instance` busy for one call, or refuses.
fn claim(instance: &polyplug_instance) -> Result<(), Failure> {
    // Acquire: pairs with the Release in `release`, so the previous call's
    // use of the instance, on whatever thread, happens before this one's.
    instance
        .busy
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .map(|_| ())
        .map_err(|_| {
            Failure::new(
                POLYPLUG_ERR_BUSY,
                "instance is in a call on another thread (instances take one call at a time)",
            )
        })
}

/// Ends a claim.
fn release(instance: &polyplug_instance) {
    // Release: pairs with the Acquire in `claim`.
    instance.busy.store(false, Ordering::Release);
}

/// Makes an instance of stateful contract `contract` and writes it to
/// `*out`. `POLYPLUG_ERR_STATELESS` if the contract makes none.
///
/// Ownership: the caller owns it and destroys it with
/// `polyplug_instance_destroy`, on any thread. It needs no guard and may
/// outlive the guard, the reader and the runtime.
///
/// # Safety
///
/// As for `polyplug_typed`.
///
/// ```c
/// polyplug_instance *counter;
/// polyplug_instance_new(guard, contract, &counter);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_instance_new(
    guard: polyplug_guard,
    contract: polyplug_contract,
    out: *mut *mut polyplug_instance,
) -> polyplug_status {
    guarded(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: [C1] as documented.
        let instance = unsafe {
            with_guard(guard, |g, _| {
                Ok(self::contract(g, contract)?.create_instance()?)
            })
        }?;
        let object = hand_out(polyplug_instance {
            tag: Tag::new(polyplug_instance::TAG),
            busy: AtomicBool::new(false),
            instance: UnsafeCell::new(instance),
        });
        // SAFETY: [C4] checked non-NULL above.
        unsafe { put(out, "out", object) }
    })
}

/// Calls native function `name` on `instance`: `fn(state, args, out,
/// &err)`, `args` and `out` passed as they are.
///
/// # Safety
///
/// As for `polyplug_call_native`; `instance` NULL or from
/// `polyplug_instance_new`.
///
/// ```c
/// uint32_t count;
/// polyplug_instance_call(counter, "bump", &args, &count);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_instance_call(
    instance: *mut polyplug_instance,
    name: *const c_char,
    args: *const c_void,
    out: *mut c_void,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let i = unsafe { live::<polyplug_instance>(instance, "instance") }?;
        // SAFETY: [C4] as documented.
        let name = unsafe { c_str(name, "name") }?;
        claim(i)?;
        // SAFETY: [C8] claimed: no other call or destruction runs.
        let inner = unsafe { &mut *i.instance.get() };
        // SAFETY: [P1] the host's promise on `args` and `out`.
        let result = unsafe { inner.call_raw(name, args, out) };
        release(i);
        Ok(result?)
    })
}

/// Writes the version that made `instance` to `*version`.
///
/// # Safety
///
/// `instance` NULL or from `polyplug_instance_new`; `version` writable.
///
/// ```c
/// PpVersion made_by;
/// polyplug_instance_version(counter, &made_by);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_instance_version(
    instance: *mut polyplug_instance,
    version: *mut Version,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let i = unsafe { live::<polyplug_instance>(instance, "instance") }?;
        claim(i)?;
        // SAFETY: [C8] claimed.
        let made_by = unsafe { &*i.instance.get() }.version();
        release(i);
        // SAFETY: [C4] as documented.
        unsafe { put(version, "version", made_by) }
    })
}

/// Destroys `instance`: runs the plugin's destructor on this thread and
/// lets its library go (it is closed by the runtime's next write or
/// reclaim, never here). Refused with `POLYPLUG_ERR_BUSY` while a call on
/// it runs.
///
/// # Safety
///
/// `instance` NULL or from `polyplug_instance_new` (\[C1\]).
///
/// ```c
/// polyplug_instance_destroy(counter);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_instance_destroy(
    instance: *mut polyplug_instance,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let i = unsafe { live::<polyplug_instance>(instance, "instance") }?;
        claim(i)?;
        // SAFETY: [C1][C8] live and claimed: no call runs, and the host
        // uses the handle no more.
        drop(unsafe { take_back(instance) });
        Ok(())
    })
}

#[cfg(all(test, not(any(loom, shuttle, miri))))]
mod tests {
    use std::ffi::CString;

    use super::*;
    use crate::read::{
        polyplug_find, polyplug_pin, polyplug_reader_destroy, polyplug_reader_new, polyplug_unpin,
    };
    use crate::runtime::{polyplug_load_bundle, polyplug_runtime_destroy, polyplug_runtime_new};
    use crate::status::POLYPLUG_OK;

    /// An instance takes one call at a time: while a call holds it, another
    /// call or its destruction is refused.
    #[test]
    fn a_busy_instance_is_refused() {
        let dir = CString::new(polyplug_fixtures::bundle("reload-v1").to_str().unwrap()).unwrap();
        let mut runtime = std::ptr::null_mut();
        let mut reader = std::ptr::null_mut();
        let mut guard = polyplug_guard::NONE;
        let mut contract = 0;
        let mut instance = std::ptr::null_mut();
        let version = Version::new(1, 0, 0);
        // SAFETY (each block below): every pointer is a live local or a
        // handle the library returned and that is not yet destroyed.
        let statuses = [
            // SAFETY: as above.
            unsafe { polyplug_runtime_new(&mut runtime) },
            // SAFETY: as above.
            unsafe { polyplug_load_bundle(runtime, dir.as_ptr(), std::ptr::null_mut()) },
            // SAFETY: as above.
            unsafe { polyplug_reader_new(runtime, &mut reader) },
            // SAFETY: as above.
            unsafe { polyplug_pin(reader, &mut guard) },
            // SAFETY: as above.
            unsafe { polyplug_find(guard, c"reload.test".as_ptr(), version, &mut contract) },
            // SAFETY: as above.
            unsafe { polyplug_instance_new(guard, contract, &mut instance) },
            // SAFETY: as above.
            unsafe { polyplug_unpin(guard) },
        ];
        assert_eq!(statuses, [POLYPLUG_OK; 7]);
        // SAFETY: a live instance from the library.
        let object = unsafe { &*instance };
        claim(object).unwrap(); // a call in progress, as on another thread
        let args = [0u32; 2];
        let mut out = 0u32;
        let out_ptr: *mut u32 = &raw mut out;
        let call = |instance| {
            // SAFETY: reload.test's `bump` reads two u32 and writes one.
            unsafe {
                polyplug_instance_call(
                    instance,
                    c"bump".as_ptr(),
                    args.as_ptr().cast(),
                    out_ptr.cast(),
                )
            }
        };
        assert_eq!(call(instance), POLYPLUG_ERR_BUSY);
        // SAFETY: as above.
        let destroy = unsafe { polyplug_instance_destroy(instance) };
        assert_eq!(destroy, POLYPLUG_ERR_BUSY);
        release(object);
        assert_eq!(call(instance), POLYPLUG_OK);
        assert_eq!(out, 1);
        let statuses = [
            // SAFETY: handles from the library, destroyed once, in order.
            unsafe { polyplug_instance_destroy(instance) },
            // SAFETY: as above.
            unsafe { polyplug_reader_destroy(reader) },
            // SAFETY: as above.
            unsafe { polyplug_runtime_destroy(runtime) },
        ];
        assert_eq!(statuses, [POLYPLUG_OK; 3]);
    }
}
