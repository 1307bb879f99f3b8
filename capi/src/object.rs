//! Checked handles: the tag every heap object a host holds starts with, the
//! calling thread's identity, and the reading of host arguments (\[C1\],
//! \[C4\]).
//!
//! Every object handed to a host (`polyplug_runtime`, `polyplug_reader`,
//! `polyplug_fn`, `polyplug_instance`, ...) is a `#[repr(C)]` struct whose
//! first field is a [`Tag`]: a 64-bit value naming its kind while it is
//! live, overwritten with [`DEAD`] just before its memory is freed. Every
//! function checks the tag before anything else, so a NULL, a pointer to an
//! object of another kind, a misaligned pointer, or a destroyed object whose
//! memory was not handed out again is refused with a status. A destroyed
//! object whose memory now holds a new object of the same kind, or a
//! pointer the library never returned, cannot be told apart from a live
//! one: reading it is the host's undefined behaviour.

use std::ffi::{CStr, OsStr, c_char};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::status::{Failure, POLYPLUG_ERR_INVALID_HANDLE, POLYPLUG_ERR_UTF8};

/// What a tag holds after its object was destroyed.
pub(crate) const DEAD: u64 = 0xdead_dead_dead_dead;

/// The first field of every object a host holds.
#[derive(Debug)]
#[repr(transparent)]
pub(crate) struct Tag(AtomicU64);

impl Tag {
    pub(crate) const fn new(kind: u64) -> Tag {
        Tag(AtomicU64::new(kind))
    }

    /// Marks the object destroyed; called just before its memory is freed.
    pub(crate) fn kill(&self) {
        // Relaxed: a best-effort mark for later misuse by the host, which
        // must not use the handle concurrently with its destruction anyway
        // ([C1]); nothing is published through it.
        self.0.store(DEAD, Ordering::Relaxed);
    }
}

/// An object kind: its tag value and its name in messages.
///
/// # Safety
///
/// The implementing type is `#[repr(C)]` with a [`Tag`] as its first field,
/// and no other kind uses the same `TAG`.
pub(crate) unsafe trait Tagged {
    /// The live tag of this kind.
    const TAG: u64;
    /// The C type name, for messages: `polyplug_reader`.
    const KIND: &'static str;
    /// The object's tag.
    fn tag(&self) -> &Tag;
}

/// Checks that `ptr`, the argument `arg`, points to a live object of kind
/// `T`, and borrows it for the call.
///
/// # Safety
///
/// \[C1\] `ptr` is NULL or a pointer this library returned (live or
/// destroyed, its memory not handed out again).
#[inline(always)]
pub(crate) unsafe fn live<'a, T: Tagged>(ptr: *const T, arg: &str) -> Result<&'a T, Failure> {
    let tag = ptr.cast::<AtomicU64>();
    if ptr.is_null() || !tag.is_aligned() {
        return Err(not_live(ptr.cast(), arg, T::KIND, None));
    }
    // SAFETY: [C1] the pointer is non-NULL, aligned, and points to memory
    // this library allocated for an object with a tag first; reading the
    // tag of a destroyed object finds DEAD (or what the allocator wrote).
    let tag = unsafe { &*tag };
    // Relaxed: the host's own synchronisation orders the object's creation
    // before its use on another thread; the tag only tells kinds apart.
    let value = tag.load(Ordering::Relaxed);
    if value != T::TAG {
        return Err(not_live(ptr.cast(), arg, T::KIND, Some(value)));
    }
    // SAFETY: [C1] the tag is this kind's live tag: a live `T`.
    Ok(unsafe { &*ptr })
}

/// Why `ptr`, the argument `arg`, is not a live `kind`: NULL or misaligned
/// (`tag` is `None`), destroyed, or something else.
#[cold]
#[inline(never)]
fn not_live(ptr: *const u8, arg: &str, kind: &str, tag: Option<u64>) -> Failure {
    match tag {
        None if ptr.is_null() => Failure::null(arg),
        None => Failure::new(
            POLYPLUG_ERR_INVALID_HANDLE,
            format!("{arg} ({ptr:p}) is not a {kind}: misaligned"),
        ),
        Some(DEAD) => Failure::new(
            POLYPLUG_ERR_INVALID_HANDLE,
            format!("{arg} ({ptr:p}) is not a live {kind}: it was destroyed"),
        ),
        // The allocator may have written over the DEAD tag of a freed object.
        Some(_) => Failure::new(
            POLYPLUG_ERR_INVALID_HANDLE,
            format!("{arg} ({ptr:p}) is not a live {kind}: destroyed, or another kind of object"),
        ),
    }
}

/// Moves `value` to the heap and hands its address to the host.
pub(crate) fn hand_out<T: Tagged>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes back an object the host destroys: owns it again and kills its
/// tag; the caller drops it.
///
/// # Safety
///
/// \[C1\] `ptr` was checked live by [`live`] in this call, was made by
/// [`hand_out`], no borrow of it is used afterwards, and the host uses the
/// handle no more (it must not call anything with it concurrently with its
/// destruction).
pub(crate) unsafe fn take_back<T: Tagged>(ptr: *mut T) -> Box<T> {
    // SAFETY: [C1] made by `Box::into_raw` in `hand_out`, and destroyed
    // once: its tag was live in this call and is killed now.
    let object = unsafe { Box::from_raw(ptr) };
    object.tag().kill();
    object
}

thread_local! {
    /// The calling thread's identity is this variable's address.
    static MARK: u8 = const { 0 };
}

/// An identity of the calling thread: no two live threads share it (a
/// thread-local's address). A thread that ended may pass it on to a new
/// one.
#[inline(always)]
pub(crate) fn this_thread() -> usize {
    MARK.with(|mark| std::ptr::from_ref(mark).addr())
}

/// Writes `value` to the out-pointer `out`, the argument `arg`.
///
/// # Safety
///
/// \[C4\] `out` is NULL (refused) or writable for one `T`.
#[inline]
pub(crate) unsafe fn put<T>(out: *mut T, arg: &str, value: T) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::null(arg));
    }
    // SAFETY: [C4] non-NULL, writable for one T by the caller's promise;
    // unaligned is allowed.
    unsafe { out.write_unaligned(value) };
    Ok(())
}

/// Writes `value` to `out` if `out` is not NULL (an optional result).
///
/// # Safety
///
/// \[C4\] `out` is NULL or writable for one `T`.
pub(crate) unsafe fn put_optional<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: [C4] non-NULL, writable for one T.
        unsafe { out.write_unaligned(value) };
    }
}

/// The bytes of the NUL-terminated string `ptr`, the argument `arg`.
///
/// # Safety
///
/// \[C4\] `ptr` is NULL (refused) or a readable NUL-terminated string that
/// stays unchanged for `'a`.
pub(crate) unsafe fn c_bytes<'a>(ptr: *const c_char, arg: &str) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::null(arg));
    }
    // SAFETY: [C4] non-NULL and NUL-terminated by the caller's promise.
    Ok(unsafe { CStr::from_ptr(ptr) }.to_bytes())
}

/// The NUL-terminated UTF-8 string `ptr`, the argument `arg`.
///
/// # Safety
///
/// As [`c_bytes`].
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char, arg: &str) -> Result<&'a str, Failure> {
    // SAFETY: [C4] forwarded.
    let bytes = unsafe { c_bytes(ptr, arg) }?;
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            POLYPLUG_ERR_UTF8,
            format!(
                "{arg} is not UTF-8 ({e}): {:?}",
                String::from_utf8_lossy(bytes)
            ),
        )
    })
}

/// The NUL-terminated path `ptr`, the argument `arg`: any bytes on Unix,
/// UTF-8 elsewhere.
///
/// # Safety
///
/// As [`c_bytes`].
pub(crate) unsafe fn c_path(ptr: *const c_char, arg: &str) -> Result<PathBuf, Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: [C4] forwarded.
        let bytes = unsafe { c_bytes(ptr, arg) }?;
        Ok(PathBuf::from(OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        // SAFETY: [C4] forwarded.
        let text = unsafe { c_str(ptr, arg) }?;
        Ok(PathBuf::from(OsStr::new(text)))
    }
}

/// `text` as a C string: a NUL inside becomes U+FFFD.
pub(crate) fn c_string(text: &str) -> std::ffi::CString {
    let bytes = text.replace('\0', "\u{fffd}").into_bytes();
    // The NULs were just replaced.
    std::ffi::CString::new(bytes).unwrap_or_default()
}

/// Refuses a list out-pointer that is NULL with a capacity above 0, before
/// a write operation changes anything.
pub(crate) fn check_list(out: *const u64, cap: usize) -> Result<(), Failure> {
    if cap > 0 && out.is_null() {
        return Err(Failure::null("ids (with a capacity above 0)"));
    }
    Ok(())
}

/// Writes the first `cap` of `ids` to `out` and their number to `*count`
/// (unless `count` is NULL).
///
/// # Safety
///
/// \[C4\] `out` is writable for `cap` values, or NULL when `cap` is 0;
/// `count` is NULL or writable.
pub(crate) unsafe fn put_list(
    ids: &[u64],
    out: *mut u64,
    cap: usize,
    count: *mut usize,
) -> Result<(), Failure> {
    check_list(out, cap)?;
    for (i, id) in ids.iter().take(cap).enumerate() {
        // SAFETY: [C4] `i < cap`, and `out` points to `cap` values.
        let slot = unsafe { out.add(i) };
        // SAFETY: [C4] in bounds (above), writable by the caller's promise.
        unsafe { slot.write_unaligned(*id) };
    }
    // SAFETY: [C4] forwarded.
    unsafe { put_optional(count, ids.len()) };
    Ok(())
}
