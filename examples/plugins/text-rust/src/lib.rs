//! Example plugin `text-rust` 1.0.0: contract `demo.text` 1.0.0 in Rust.
//!
//! | function | signature | behaviour |
//! |---|---|---|
//! | `upper` | `string(str)` | the text upper-cased, Unicode-aware (`str::to_uppercase`: `ß` → `SS`) |
//! | `checksum` | `u64(bytes)` | the wrapping sum of the bytes |
//!
//! A `str` or `bytes` argument is a view the host lends for the call
//! (`StrView`, `BytesView`: pointer and length); the plugin reads it and
//! keeps no pointer into it. The `string` result is an `OwnedBuf` that
//! the plugin allocates with the host table's `alloc(len, 1)` and hands
//! over: from then on the host owns it and frees it (a Rust host drops the
//! `String` it became). An empty result is `{NULL, 0}` and owns nothing.
//!
//! `polyplug_guest::plugin!` declares typed functions over numbers only
//! (its `AbiType` list has no views or owned results, and the SDK gives
//! plugin code no way to allocate from the host), so this plugin exports
//! `polyplug_abi_version` and `polyplug_entry` itself, with the ABI types
//! that the SDK re-exports.

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use polyplug_guest::abi::{
    ABI_VERSION, AbiError, BundleContext, BytesView, ContractId, ContractInterface,
    ERR_ABI_MISMATCH, ERR_BAD_ARGUMENT, HostApi, OwnedBuf, StrView, TypedEntry, Version, VoidFn,
};

/// The contract's name and version.
const CONTRACT: &str = "demo.text";
const VERSION: Version = Version::new(1, 0, 0);

/// The host table from `polyplug_entry`, for `alloc`; null before it ran.
static HOST: AtomicPtr<HostApi> = AtomicPtr::new(ptr::null_mut());

/// `upper`: the text upper-cased.
fn upper(text: &str) -> String {
    text.to_uppercase()
}

/// `checksum`: the wrapping sum of the bytes as `u64`.
fn checksum(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |sum, &byte| sum.wrapping_add(u64::from(byte)))
}

/// The bytes a view lends, empty when its length is 0.
///
/// # Safety
///
/// \[R16\] `ptr` is readable for `len` bytes for the current call.
unsafe fn lent<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 || ptr.is_null() {
        return &[];
    }
    // SAFETY: [R16] the host lends `len` readable bytes at `ptr` (non-null,
    // checked) for the call, which this borrow does not outlive.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// `bytes` copied into the host's memory, `alloc(len, 1)`, and handed
/// over ([P7]); `{NULL, 0}` when empty or when the host cannot allocate
/// (a typed function has no error channel).
fn hand_over(bytes: &[u8]) -> OwnedBuf {
    let host = HOST.load(Ordering::Acquire);
    if bytes.is_empty() || host.is_null() {
        return OwnedBuf::EMPTY;
    }
    // SAFETY: [G1] a non-null `HOST` is the table `polyplug_entry` got,
    // valid and unchanged until the library is closed.
    let host = unsafe { &*host };
    let Some(alloc) = host.alloc else {
        return OwnedBuf::EMPTY;
    };
    // SAFETY: [R9] the host allocator; a non-zero size and alignment 1.
    let ptr = unsafe { alloc(host.ctx, bytes.len(), 1) }.cast::<u8>();
    if ptr.is_null() {
        return OwnedBuf::EMPTY;
    }
    // SAFETY: [R9] `ptr` is a fresh allocation of `bytes.len()` bytes,
    // which cannot overlap `bytes`.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len()) };
    OwnedBuf {
        ptr,
        len: bytes.len(),
    }
}

/// The exported `upper`, `string(str)`. A panic ([P6]) returns `{NULL, 0}`.
extern "C" fn upper_abi(text: StrView) -> OwnedBuf {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: [R16] the host lends the view for this call.
        let bytes = unsafe { lent(text.ptr, text.len) };
        // A Rust host passes a `&str`; another host's bytes that are not
        // UTF-8 are upper-cased with U+FFFD in place of the bad sequences.
        let upper = upper(&String::from_utf8_lossy(bytes));
        hand_over(upper.as_bytes())
    }))
    .unwrap_or(OwnedBuf::EMPTY)
}

/// The exported `checksum`, `u64(bytes)`. A panic ([P6]) returns 0.
extern "C" fn checksum_abi(bytes: BytesView) -> u64 {
    catch_unwind(|| {
        // SAFETY: [R16] the host lends the view for this call.
        checksum(unsafe { lent(bytes.ptr, bytes.len) })
    })
    .unwrap_or(0)
}

/// A typed function pointer erased to the `VoidFn` a `TypedEntry` holds.
macro_rules! erase {
    ($f:expr, $ty:ty) => {{
        let f: $ty = $f;
        // SAFETY: [R6] an `extern "C"` fn pointer, pointer-sized like
        // `VoidFn`; the host turns it back only into the type its
        // signature string (next to it in the entry) spells.
        unsafe { std::mem::transmute::<$ty, VoidFn>(f) }
    }};
}

/// Writes `code` and a static `message` to `*err` when `err` is not null;
/// returns `code`.
///
/// # Safety
///
/// \[G2\] `err` is null or writable for one `AbiError`.
unsafe fn fail(err: *mut AbiError, code: u32, message: &'static str) -> u32 {
    if !err.is_null() {
        // SAFETY: [G2] a non-null `err` is writable; written unaligned.
        unsafe { err.write_unaligned(AbiError::new(code, message)) };
    }
    code
}

/// The ABI version this plugin was built for. The host reads it before it
/// calls anything else.
#[unsafe(no_mangle)]
pub static polyplug_abi_version: u32 = ABI_VERSION;

/// The entry point: keeps the host table and registers `demo.text`.
///
/// # Safety
///
/// Only the host calls it, as the ABI's `EntryFn` describes: `host` is
/// the host table ([G1]), `err` null or writable ([G2]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_entry(
    host: *const HostApi,
    bundle: *const BundleContext,
    err: *mut AbiError,
) -> u32 {
    let _ = bundle;
    // SAFETY: [G1] the host passes its table, valid until the library is
    // closed; null is refused below.
    let Some(table) = (unsafe { host.as_ref() }) else {
        // SAFETY: [G2] `err` is null or writable.
        return unsafe { fail(err, ERR_BAD_ARGUMENT, "text-rust: the host table is null") };
    };
    if table.abi_version != ABI_VERSION || (table.size as usize) < size_of::<HostApi>() {
        // SAFETY: [G2] `err` is null or writable.
        return unsafe { fail(err, ERR_ABI_MISMATCH, "text-rust: another ABI version") };
    }
    let Some(register) = table.register_contract else {
        // SAFETY: [G2] `err` is null or writable.
        return unsafe { fail(err, ERR_BAD_ARGUMENT, "text-rust: no register_contract") };
    };
    HOST.store(host.cast_mut(), Ordering::Release);
    let typed = [
        TypedEntry {
            name: StrView::from_static("upper"),
            signature: StrView::from_static("string(str)"),
            func: Some(erase!(upper_abi, extern "C" fn(StrView) -> OwnedBuf)),
            packed: None,
        },
        TypedEntry {
            name: StrView::from_static("checksum"),
            signature: StrView::from_static("u64(bytes)"),
            func: Some(erase!(checksum_abi, extern "C" fn(BytesView) -> u64)),
            packed: None,
        },
    ];
    // The host copies the interface and its array during the call ([P3]).
    let contract = ContractInterface {
        id: ContractId::of(CONTRACT, VERSION.major),
        name: StrView::from_static(CONTRACT),
        version: VERSION,
        native_count: 0,
        native: ptr::null(),
        typed_count: 2,
        typed: typed.as_ptr(),
        create_instance: None,
        destroy_instance: None,
        context_count: 0,
        context: ptr::null(),
        instance_ctx: ptr::null_mut::<c_void>(),
        create_context_instance: None,
        destroy_context_instance: None,
        save_instance: None,
        restore_instance: None,
        save_context_instance: None,
        restore_context_instance: None,
    };
    // SAFETY: [P3] `contract` and `typed` are readable for the call; [G2]
    // `err` is the host's, null or writable.
    unsafe { register(table.ctx, &contract, err) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_is_unicode_aware_and_checksum_wraps_per_byte() {
        assert_eq!(upper("straße é"), "STRASSE É");
        assert_eq!(checksum(&[0xFF, 0xFF, 1]), 511);
        assert_eq!(checksum(&[]), 0);
    }
}
