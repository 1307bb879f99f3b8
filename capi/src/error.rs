//! The boundary: every exported function runs its body through [`guarded`],
//! which catches panics (\[C7\]) and records a failure as the calling
//! thread's last error.
//!
//! The last error is the only mutable state outside the objects a host
//! holds, and it is per thread, so two runtimes in one process, or two
//! threads of one, never see each other's failures. A successful call
//! leaves it alone (as `errno`): read it only after a call returned a
//! status other than `POLYPLUG_OK`.

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::status::{Failure, POLYPLUG_ERR_PANIC, POLYPLUG_OK, polyplug_status};

/// The last failure on this thread; the message is NUL-terminated.
struct LastError {
    status: polyplug_status,
    code: u32,
    /// The message bytes and a terminating NUL; never empty.
    message: Vec<u8>,
}

thread_local! {
    static LAST: RefCell<LastError> = const {
        RefCell::new(LastError { status: POLYPLUG_OK, code: 0, message: Vec::new() })
    };
}

/// Records `failure` as this thread's last error. A NUL inside the message
/// becomes U+FFFD so that C sees the whole message.
fn record(failure: Failure) {
    let failure = failure.into_parts();
    let mut message = failure.message.replace('\0', "\u{fffd}").into_bytes();
    message.push(0);
    // `try_with`: during thread teardown the slot may be gone; the status
    // still reaches the caller.
    let _ = LAST.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            *last = LastError {
                status: failure.status,
                code: failure.code,
                message,
            };
        }
    });
}

/// Runs `body` at the boundary: its failure, or a panic inside it, becomes
/// a status and this thread's last error. The one `catch_unwind` of the
/// crate: every exported function goes through here.
#[inline]
pub(crate) fn guarded(body: impl FnOnce() -> Result<(), Failure>) -> polyplug_status {
    // AssertUnwindSafe: after a caught panic the host gets ERR_PANIC and
    // the objects involved may hold whatever the panic left; every object
    // is either unchanged or checked again on its next use.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => POLYPLUG_OK,
        Ok(Err(failure)) => {
            let status = failure.status();
            record(failure);
            status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            record(Failure::new(
                POLYPLUG_ERR_PANIC,
                format!("polyplug panicked (a bug in polyplug, caught at the C boundary): {what}"),
            ));
            POLYPLUG_ERR_PANIC
        }
    }
}

/// The status of the last failed call on this thread, or `POLYPLUG_OK` if
/// none has failed yet. Any thread; reads only this thread's record.
///
/// ```c
/// if (polyplug_unpin(guard) != POLYPLUG_OK) {
///     assert(polyplug_last_error_status() == POLYPLUG_ERR_STALE_GUARD);
/// }
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn polyplug_last_error_status() -> polyplug_status {
    LAST.try_with(|last| last.try_borrow().map_or(POLYPLUG_OK, |l| l.status))
        .unwrap_or(POLYPLUG_OK)
}

/// The plugin's own code for the last failure on this thread: the code a
/// plugin function returned (`POLYPLUG_ERR_CALL`) or its entry point
/// returned (`POLYPLUG_ERR_INIT_FAILED`); 0 for every other failure.
///
/// ```c
/// if (polyplug_call_native(guard, contract, "fail", &args, &out) == POLYPLUG_ERR_CALL) {
///     printf("plugin code %u\n", polyplug_last_error_code());
/// }
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn polyplug_last_error_code() -> u32 {
    LAST.try_with(|last| last.try_borrow().map_or(0, |l| l.code))
        .unwrap_or(0)
}

/// The message of the last failure on this thread: UTF-8, NUL-terminated,
/// naming the argument, handle, bundle, contract or function. Never NULL
/// (`""` before the first failure). If `len` is not NULL, `*len` receives
/// the length without the NUL.
///
/// Lifetime: owned by the library; valid until the next call on this
/// thread that fails. Copy it to keep it. Any thread.
///
/// # Safety
///
/// `len` is NULL or writable for one `size_t` (\[C4\]).
///
/// ```c
/// size_t len;
/// const char *message = polyplug_last_error_message(&len);
/// fprintf(stderr, "%.*s\n", (int)len, message);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_last_error_message(len: *mut usize) -> *const c_char {
    let (ptr, n) = LAST
        .try_with(|last| match last.try_borrow() {
            Ok(l) if !l.message.is_empty() => (l.message.as_ptr(), l.message.len() - 1),
            _ => (c"".as_ptr().cast::<u8>(), 0),
        })
        .unwrap_or((c"".as_ptr().cast::<u8>(), 0));
    if !len.is_null() {
        // SAFETY: [C4] a non-NULL `len` is writable for one size_t.
        unsafe { len.write(n) };
    }
    ptr.cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::POLYPLUG_ERR_NULL;

    #[test]
    fn a_failure_and_a_panic_become_the_last_error() {
        assert_eq!(guarded(|| Err(Failure::null("out"))), POLYPLUG_ERR_NULL);
        let mut len = 0;
        // SAFETY: `len` is a live local.
        let ptr = unsafe { polyplug_last_error_message(&mut len) };
        // SAFETY: the message is NUL-terminated and lives until the next failure.
        let message = unsafe { std::ffi::CStr::from_ptr(ptr) };
        assert_eq!(message.to_str(), Ok("out is NULL"));
        assert_eq!(len, "out is NULL".len());
        assert_eq!(guarded(|| Ok(())), POLYPLUG_OK);
        assert_eq!(polyplug_last_error_status(), POLYPLUG_ERR_NULL); // success leaves it
        let status = guarded(|| std::panic::panic_any("on purpose"));
        assert_eq!(status, POLYPLUG_ERR_PANIC);
        // SAFETY: NULL `len` is allowed.
        let ptr = unsafe { polyplug_last_error_message(std::ptr::null_mut()) };
        // SAFETY: as above.
        let message = unsafe { std::ffi::CStr::from_ptr(ptr) };
        assert!(message.to_str().is_ok_and(|m| m.ends_with("on purpose")));
    }

    #[test]
    fn threads_keep_their_own_last_error() {
        assert_eq!(guarded(|| Err(Failure::null("here"))), POLYPLUG_ERR_NULL);
        let other = std::thread::spawn(|| polyplug_last_error_status()).join();
        assert_eq!(other.ok(), Some(POLYPLUG_OK));
    }
}
