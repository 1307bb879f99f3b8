//! The read side: a reader per thread, guards pinned per call or per batch,
//! and finding contracts under a guard.
//!
//! A `polyplug_reader` owns a [`Reader`] of its runtime and a small table
//! of guard slots. `polyplug_pin` pins a [`Guard`] into a free slot and
//! hands the host a `polyplug_guard`: the reader's address, the slot, and
//! the slot's generation. Every use checks the reader's tag, the calling
//! thread and the slot's generation, so a guard used after `polyplug_unpin`
//! (or unpinned twice) is refused with `POLYPLUG_ERR_STALE_GUARD` for as
//! long as its reader lives, and a guard or reader used on another thread
//! with `POLYPLUG_ERR_WRONG_THREAD` (\[C3\]). Pinning allocates nothing.

use std::cell::{Cell, UnsafeCell};
use std::ffi::c_char;
use std::sync::atomic::Ordering;

use engine::{ContractHandle, ContractRef, Guard, Provider, Reader};
use polyplug_abi::Version;

use crate::error::guarded;
use crate::object::{Tag, Tagged, c_str, hand_out, live, put, put_list, take_back, this_thread};
use crate::runtime::bundle_raw;
use crate::runtime::{polyplug_runtime, runtime};
use crate::status::{
    Failure, POLYPLUG_ERR_BUSY, POLYPLUG_ERR_GUARD_LIMIT, POLYPLUG_ERR_INVALID_HANDLE,
    POLYPLUG_ERR_STALE_GUARD, POLYPLUG_ERR_WRONG_THREAD, polyplug_status,
};

/// Most guards one reader may have pinned at once (nested pins).
///
/// ```c
/// polyplug_guard nested[POLYPLUG_MAX_GUARDS]; // at most this many pinned at once
/// ```
pub const POLYPLUG_MAX_GUARDS: u32 = 16;

/// `polyplug_contract_info.bundle` of a contract the host provides.
///
/// ```c
/// if (info.bundle == POLYPLUG_NO_BUNDLE) puts("provided by the host");
/// ```
pub const POLYPLUG_NO_BUNDLE: u64 = u64::MAX;

const SLOTS: usize = POLYPLUG_MAX_GUARDS as usize;
const ALL_FREE: u32 = u32::MAX >> (32 - POLYPLUG_MAX_GUARDS);
const SLOT_BITS: u32 = 8;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;

/// A contract handle as the host keeps it: cheap to copy, valid across
/// reloads, stale after an unload (then refused, never misread).
///
/// ```c
/// static polyplug_contract add; // found once, kept: follows reloads
/// polyplug_find(guard, "test.add", (PpVersion){1, 0, 0}, &add);
/// ```
pub type polyplug_contract = u64;

/// One guard slot of a reader.
struct Slot {
    /// Bumped at every unpin; a guard names the generation it was pinned in.
    generation: Cell<u64>,
    /// Calls using this slot's guard right now, on this thread's stack.
    uses: Cell<u32>,
    /// The pinned guard. Written only while the slot is free (pin) or
    /// unused (unpin); borrowed only while pinned (\[C3\]).
    guard: UnsafeCell<Option<Guard<'static>>>,
}

/// One thread's registration with a runtime. Opaque; made by
/// `polyplug_reader_new` on the thread that will use it, and used and
/// destroyed only there.
///
/// ```c
/// polyplug_reader *reader; // one per thread
/// polyplug_reader_new(runtime, &reader);
/// ```
#[repr(C)]
pub struct polyplug_reader {
    tag: Tag,
    /// The thread that made it ([`this_thread`]); never changes.
    pub(crate) thread: usize,
    runtime: *const polyplug_runtime,
    /// Bit `i` set: slot `i` is free.
    free: Cell<u32>,
    /// Calls of `polyplug_fn_call_pinned` running on this reader (nested
    /// through plugin code calling back): each holds a guard of its own.
    pinned_calls: Cell<u32>,
    slots: [Slot; SLOTS],
    /// Declared after `slots`, so dropped after every guard. Borrows the
    /// runtime (\[C2\]).
    reader: Box<Reader<'static>>,
}

// SAFETY: [C1] `#[repr(C)]` with the tag first; the tag value is unique.
unsafe impl Tagged for polyplug_reader {
    const TAG: u64 = 0x7070_5f72_6561_6472; // "pp_readr"
    const KIND: &'static str = "polyplug_reader";
    fn tag(&self) -> &Tag {
        &self.tag
    }
}

impl std::fmt::Debug for polyplug_reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("polyplug_reader")
            .field("thread", &self.thread)
            .field("free", &self.free.get())
            .finish_non_exhaustive()
    }
}

/// A pinned guard: a small value, copied freely, naming a slot of its
/// reader. Valid from `polyplug_pin` until `polyplug_unpin`, on the
/// reader's thread. `POLYPLUG_GUARD_NONE` (all zero) is never valid.
///
/// ```c
/// polyplug_guard guard = POLYPLUG_GUARD_NONE;
/// polyplug_pin(reader, &guard);
/// polyplug_unpin(guard);
/// ```
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct polyplug_guard {
    /// The reader it was pinned on.
    pub reader: *mut polyplug_reader,
    /// The slot (low 8 bits) and its generation (the rest).
    pub token: u64,
}

impl polyplug_guard {
    /// No guard (`POLYPLUG_GUARD_NONE` in C): refused by every function.
    ///
    /// ```
    /// assert_eq!(polyplug_capi::polyplug_guard::NONE.token, 0);
    /// ```
    pub const NONE: polyplug_guard = polyplug_guard {
        reader: std::ptr::null_mut(),
        token: 0,
    };
}

/// The live reader of `guard`, checked for this thread, and its slot,
/// checked pinned.
///
/// # Safety
///
/// \[C1\] `guard.reader` is NULL or a reader from this library.
#[inline(always)]
unsafe fn slot_of<'a>(guard: polyplug_guard) -> Result<(&'a polyplug_reader, &'a Slot), Failure> {
    // SAFETY: [C1] forwarded.
    let reader = unsafe { live::<polyplug_reader>(guard.reader, "guard.reader") }?;
    if reader.thread != this_thread() {
        return Err(wrong_thread(
            "guard used on a thread other than the one its reader was made on",
        ));
    }
    let index = usize::try_from(guard.token & SLOT_MASK).unwrap_or(usize::MAX);
    if let Some(slot) = reader.slots.get(index) {
        // `index` < POLYPLUG_MAX_GUARDS here, so the shift is in range.
        if slot.generation.get() == guard.token >> SLOT_BITS
            && reader.free.get() & (1 << index) == 0
        {
            return Ok((reader, slot));
        }
    }
    Err(stale(guard))
}

/// A reader, guard or function used on the wrong thread.
#[cold]
#[inline(never)]
pub(crate) fn wrong_thread(what: &str) -> Failure {
    Failure::new(POLYPLUG_ERR_WRONG_THREAD, what)
}

/// A guard that is not pinned.
#[cold]
#[inline(never)]
fn stale(guard: polyplug_guard) -> Failure {
    Failure::new(
        POLYPLUG_ERR_STALE_GUARD,
        format!(
            "guard {:#x} of reader {:p} is not pinned: unpinned already, or never pinned",
            guard.token, guard.reader
        ),
    )
}

/// Marks a slot's guard in use for the life of this value.
struct InUse<'a>(&'a Slot);

impl Drop for InUse<'_> {
    fn drop(&mut self) {
        self.0.uses.set(self.0.uses.get().saturating_sub(1));
    }
}

/// Runs `body` with the guard `guard` names and its reader, after every
/// check.
///
/// # Safety
///
/// \[C1\] as for [`slot_of`].
#[inline(always)]
pub(crate) unsafe fn with_guard<R>(
    guard: polyplug_guard,
    body: impl FnOnce(&Guard<'static>, &polyplug_reader) -> Result<R, Failure>,
) -> Result<R, Failure> {
    // SAFETY: [C1] forwarded.
    let (reader, slot) = unsafe { slot_of(guard) }?;
    slot.uses.set(slot.uses.get().saturating_add(1));
    let in_use = InUse(slot);
    // SAFETY: [C3] the slot is pinned (checked), so its guard is `Some`
    // and is not written while `uses > 0`: unpin and repin refuse then.
    let pinned = unsafe { &*slot.guard.get() };
    let result = match pinned {
        Some(g) => body(g, reader),
        None => Err(Failure::new(
            POLYPLUG_ERR_STALE_GUARD,
            "guard slot is empty",
        )),
    };
    drop(in_use);
    result
}

/// Runs `body` under a guard of `reader` pinned for it alone, and unpinned
/// when it returns: the guard never reaches the host, so no slot is used;
/// the reader cannot be destroyed meanwhile.
///
/// # Safety
///
/// `reader` NULL or from `polyplug_reader_new` (\[C1\]).
pub(crate) unsafe fn with_pinned<R>(
    reader: *mut polyplug_reader,
    body: impl FnOnce(&Guard<'_>, &polyplug_reader) -> Result<R, Failure>,
) -> Result<R, Failure> {
    // SAFETY: [C1] forwarded.
    let r = unsafe { live::<polyplug_reader>(reader, "reader") }?;
    if r.thread != this_thread() {
        return Err(Failure::new(
            POLYPLUG_ERR_WRONG_THREAD,
            "reader pinned on a thread other than the one that made it",
        ));
    }
    // [C2] `polyplug_reader_destroy` refuses while `pinned_calls > 0`, so
    // the reader outlives this guard even if plugin code called back into
    // the library on this thread (the reader's own, checked above).
    r.pinned_calls.set(r.pinned_calls.get().saturating_add(1));
    let counted = PinnedCall(r);
    let pinned = r.reader.pin();
    let result = body(&pinned, r);
    drop(pinned);
    drop(counted);
    result
}

/// One running `polyplug_fn_call_pinned` on a reader; uncounted on drop,
/// an unwind included.
struct PinnedCall<'a>(&'a polyplug_reader);

impl Drop for PinnedCall<'_> {
    fn drop(&mut self) {
        self.0
            .pinned_calls
            .set(self.0.pinned_calls.get().saturating_sub(1));
    }
}

/// The contract handle `raw`, or an error naming it.
pub(crate) fn handle(raw: polyplug_contract) -> Result<ContractHandle, Failure> {
    ContractHandle::from_raw(raw).ok_or_else(|| {
        Failure::new(
            POLYPLUG_ERR_INVALID_HANDLE,
            format!("contract {raw:#x} is not a contract handle"),
        )
    })
}

/// The contract `raw` under `guard`.
pub(crate) fn contract<'g>(
    guard: &'g Guard<'static>,
    raw: polyplug_contract,
) -> Result<ContractRef<'g>, Failure> {
    Ok(guard.get(handle(raw)?)?)
}

/// Registers the calling thread for reads of `runtime` and writes the
/// reader to `*out`. Make one per thread and keep it; pins are then cheap.
///
/// Ownership: the caller owns the reader and destroys it with
/// `polyplug_reader_destroy`, on this thread, before the runtime.
///
/// # Safety
///
/// `runtime` NULL or from `polyplug_runtime_new`; `out` NULL or writable
/// (\[C1\], \[C4\]).
///
/// ```c
/// polyplug_reader *reader;            // once per thread
/// polyplug_reader_new(runtime, &reader);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_reader_new(
    runtime: *const polyplug_runtime,
    out: *mut *mut polyplug_reader,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let rt = unsafe { self::runtime(runtime, "runtime") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let reader = rt.runtime.reader();
        // SAFETY: [C2] the runtime outlives the reader: it counts its
        // readers (incremented next) and refuses to be destroyed while any
        // lives.
        let reader = unsafe { std::mem::transmute::<Reader<'_>, Reader<'static>>(reader) };
        // Relaxed: the host orders this call before any destroy of the
        // runtime by its own synchronisation; the Release decrement in
        // `polyplug_reader_destroy` is what the destroy acquires.
        rt.readers.fetch_add(1, Ordering::Relaxed);
        let object = hand_out(polyplug_reader {
            tag: Tag::new(polyplug_reader::TAG),
            thread: this_thread(),
            runtime,
            free: Cell::new(ALL_FREE),
            pinned_calls: Cell::new(0),
            slots: std::array::from_fn(|_| Slot {
                generation: Cell::new(1),
                uses: Cell::new(0),
                guard: UnsafeCell::new(None),
            }),
            reader: Box::new(reader),
        });
        // SAFETY: [C4] checked non-NULL above.
        unsafe { put(out, "out", object) }
    })
}

/// Destroys a reader, on the thread that made it. Refused with
/// `POLYPLUG_ERR_BUSY` while any of its guards is pinned, and with
/// `POLYPLUG_ERR_WRONG_THREAD` on another thread (a reader whose thread
/// ended without destroying it is leaked, and keeps its runtime from being
/// destroyed).
///
/// # Safety
///
/// `reader` NULL or from `polyplug_reader_new` (\[C1\]).
///
/// ```c
/// polyplug_reader_destroy(reader);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_reader_destroy(reader: *mut polyplug_reader) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let r = unsafe { live::<polyplug_reader>(reader, "reader") }?;
        if r.thread != this_thread() {
            return Err(Failure::new(
                POLYPLUG_ERR_WRONG_THREAD,
                "reader destroyed on a thread other than the one that made it",
            ));
        }
        let pinned = POLYPLUG_MAX_GUARDS - r.free.get().count_ones() + r.pinned_calls.get();
        if pinned > 0 {
            return Err(Failure::new(
                POLYPLUG_ERR_BUSY,
                format!("reader has {pinned} pinned guard(s); unpin them first"),
            ));
        }
        let runtime = r.runtime;
        // SAFETY: [C1][C2] live (checked), no guard pinned, on its thread;
        // dropping it drops the store reader here, where it was made.
        drop(unsafe { take_back(reader) });
        // SAFETY: [C2] the runtime lives while this reader was counted.
        let rt = unsafe { &*runtime };
        // Release: the reader's uses of the runtime happen before a destroy
        // that acquires this count ([C2]).
        rt.readers.fetch_sub(1, Ordering::Release);
        Ok(())
    })
}

/// Pins `reader` and writes the guard to `*out`: until `polyplug_unpin`,
/// nothing found under it is destroyed or unloaded. No lock, no
/// allocation. Keep guards short: a pinned guard keeps every library
/// retired meanwhile loaded. Up to `POLYPLUG_MAX_GUARDS` may be pinned at
/// once (nested), else `POLYPLUG_ERR_GUARD_LIMIT`.
///
/// # Safety
///
/// `reader` NULL or a reader of this thread; `out` NULL or writable.
///
/// ```c
/// polyplug_guard guard;
/// polyplug_pin(reader, &guard);
/// // find, call
/// polyplug_unpin(guard);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_pin(
    reader: *mut polyplug_reader,
    out: *mut polyplug_guard,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let r = unsafe { live::<polyplug_reader>(reader, "reader") }?;
        if r.thread != this_thread() {
            return Err(Failure::new(
                POLYPLUG_ERR_WRONG_THREAD,
                "reader pinned on a thread other than the one that made it",
            ));
        }
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let free = r.free.get();
        if free == 0 {
            return Err(Failure::new(
                POLYPLUG_ERR_GUARD_LIMIT,
                format!("reader already has {POLYPLUG_MAX_GUARDS} pinned guards"),
            ));
        }
        let index = free.trailing_zeros();
        let slot = &r.slots[index as usize];
        let pinned = r.reader.pin();
        // SAFETY: [C2] the guard borrows `r.reader`, which is dropped only
        // by `polyplug_reader_destroy`, refused while any slot is pinned.
        let pinned = unsafe { std::mem::transmute::<Guard<'_>, Guard<'static>>(pinned) };
        // SAFETY: [C3] the slot is free, so nothing borrows its guard.
        unsafe { *slot.guard.get() = Some(pinned) };
        r.free.set(free & !(1 << index));
        let guard = polyplug_guard {
            reader,
            token: slot.generation.get() << SLOT_BITS | u64::from(index),
        };
        // SAFETY: [C4] checked non-NULL above.
        unsafe { put(out, "out", guard) }
    })
}

/// The slot of `guard`, checked pinned and not in use by a call further up
/// this thread's stack, for unpin and repin.
///
/// # Safety
///
/// As for [`slot_of`].
unsafe fn idle_slot<'a>(guard: polyplug_guard) -> Result<(&'a polyplug_reader, &'a Slot), Failure> {
    // SAFETY: [C1] forwarded.
    let (reader, slot) = unsafe { slot_of(guard) }?;
    if slot.uses.get() > 0 {
        return Err(Failure::new(
            POLYPLUG_ERR_BUSY,
            "guard is in use by a call further up this thread's stack",
        ));
    }
    Ok((reader, slot))
}

/// Unpins `guard`: what it protected may now be reclaimed, and every
/// function pointer obtained under it must not be called any more. The
/// guard is stale afterwards: using or unpinning it again is refused with
/// `POLYPLUG_ERR_STALE_GUARD`.
///
/// # Safety
///
/// `guard.reader` NULL or a reader from `polyplug_reader_new` (\[C1\]).
///
/// ```c
/// polyplug_unpin(guard);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_unpin(guard: polyplug_guard) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let (reader, slot) = unsafe { idle_slot(guard) }?;
        // SAFETY: [C3] pinned and unused: nothing borrows the guard.
        let pinned = unsafe { (*slot.guard.get()).take() };
        slot.generation.set(slot.generation.get().wrapping_add(1));
        let index = guard.token & SLOT_MASK;
        reader.free.set(reader.free.get() | 1 << index);
        drop(pinned);
        Ok(())
    })
}

/// Lets go of what `guard` protected and pins again, keeping the same
/// guard value: a quiescent point for a long batch. Function pointers
/// obtained under it before must not be called after.
///
/// # Safety
///
/// As for `polyplug_unpin`.
///
/// ```c
/// for (int i = 0; i < n; i++) {
///     // calls under guard
///     polyplug_repin(guard);
/// }
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_repin(guard: polyplug_guard) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let (_, slot) = unsafe { idle_slot(guard) }?;
        // SAFETY: [C3] pinned and unused: nothing borrows the guard.
        if let Some(g) = unsafe { &mut *slot.guard.get() } {
            g.repin();
        }
        Ok(())
    })
}

/// Writes the revision seen under `guard` to `*revision`.
///
/// # Safety
///
/// As for `polyplug_unpin`; `revision` NULL or writable.
///
/// ```c
/// uint64_t revision;
/// polyplug_guard_revision(guard, &revision);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_guard_revision(
    guard: polyplug_guard,
    revision: *mut u64,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let seen = unsafe { with_guard(guard, |g, _| Ok(g.revision().0)) }?;
        // SAFETY: [C4] as documented.
        unsafe { put(revision, "revision", seen) }
    })
}

/// Finds the loaded contract `name` with the highest version satisfying
/// `min_version` (same major, at least its minor) and writes its handle to
/// `*contract`. The handle may be kept: it follows reloads and is refused
/// as stale once the contract is unloaded.
///
/// # Safety
///
/// As for `polyplug_unpin`; `name` NUL-terminated; `contract` writable.
///
/// ```c
/// polyplug_contract add;
/// polyplug_find(guard, "test.add", (PpVersion){1, 0, 0}, &add);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_find(
    guard: polyplug_guard,
    name: *const c_char,
    min_version: Version,
    contract: *mut polyplug_contract,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C4] as documented.
        let name = unsafe { c_str(name, "name") }?;
        // SAFETY: [C1] as documented.
        let found = unsafe { with_guard(guard, |g, _| Ok(g.find(name, min_version)?.handle())) }?;
        // SAFETY: [C4] as documented.
        unsafe { put(contract, "contract", found.to_raw()) }
    })
}

/// Writes the handles of every loaded contract `name` satisfying
/// `min_version` (from any bundle or the host) to `contracts`, at most
/// `cap`, and their number to `*count` (unless NULL).
///
/// # Safety
///
/// As for `polyplug_find`; `contracts` writable for `cap` values.
///
/// ```c
/// polyplug_contract all[8];
/// size_t count;
/// polyplug_find_all(guard, "test.add", (PpVersion){1, 0, 0}, all, 8, &count);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_find_all(
    guard: polyplug_guard,
    name: *const c_char,
    min_version: Version,
    contracts: *mut polyplug_contract,
    cap: usize,
    count: *mut usize,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C4] as documented.
        let name = unsafe { c_str(name, "name") }?;
        // SAFETY: [C1] as documented.
        let found: Vec<u64> = unsafe {
            with_guard(guard, |g, _| {
                Ok(g.find_all(name, min_version)
                    .map(|c| c.handle().to_raw())
                    .collect())
            })
        }?;
        // SAFETY: [C4] as documented.
        unsafe { put_list(&found, contracts, cap, count) }
    })
}

/// What `polyplug_contract_info` tells about a contract. The strings are
/// UTF-8, not NUL-terminated, and valid while the guard is pinned.
///
/// ```c
/// polyplug_contract_info info;
/// polyplug_contract_describe(guard, add, &info);
/// if (info.stateful) polyplug_instance_new(guard, add, &instance);
/// ```
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct polyplug_contract_info {
    /// The contract's name.
    pub name: *const c_char,
    /// Its length in bytes.
    pub name_len: usize,
    /// The version serving now.
    pub version: Version,
    /// The id of the bundle providing it, or `POLYPLUG_NO_BUNDLE` (the
    /// host).
    pub bundle: u64,
    /// 1 if it makes instances, else 0.
    pub stateful: u32,
    /// Its number of native functions.
    pub native_count: u32,
    /// Its number of typed functions.
    pub typed_count: u32,
}

/// Describes contract `contract` as it serves under `guard`.
///
/// # Safety
///
/// As for `polyplug_unpin`; `info` writable.
///
/// ```c
/// polyplug_contract_info info;
/// polyplug_contract_describe(guard, add, &info);
/// printf("%.*s %u.%u\n", (int)info.name_len, info.name, info.version.major, info.version.minor);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_contract_describe(
    guard: polyplug_guard,
    contract: polyplug_contract,
    info: *mut polyplug_contract_info,
) -> polyplug_status {
    guarded(|| {
        // SAFETY: [C1] as documented.
        let described = unsafe {
            with_guard(guard, |g, _| {
                let c = self::contract(g, contract)?;
                let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
                Ok(polyplug_contract_info {
                    name: c.name().as_ptr().cast(),
                    name_len: c.name().len(),
                    version: c.version(),
                    bundle: match c.provider() {
                        Provider::Bundle { id, .. } => bundle_raw(*id),
                        Provider::Host => POLYPLUG_NO_BUNDLE,
                    },
                    stateful: u32::from(c.is_stateful()),
                    native_count: count(c.native_names().count()),
                    typed_count: count(c.typed_signatures().count()),
                })
            })
        }?;
        // SAFETY: [C4] as documented.
        unsafe { put(info, "info", described) }
    })
}
