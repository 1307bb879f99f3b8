//! Owned results: the `string` and `buf` results of `polyplug_fn_call`
//! that the host frees with `polyplug_buf_free`.
//!
//! C cannot stop a host from freeing a buffer twice or freeing memory that
//! never came from the library, and either would corrupt the heap. So the
//! library keeps the address and length of every result it handed out and
//! not yet taken back, in one table for the process (results belong to no
//! runtime: they are plain heap blocks), and frees only what is in it
//! (\[C9\]). The cost: one lock and one hash-map insert per call that
//! returns a non-empty `string` or `buf`, and one lock and one removal per
//! free; calls with other results never touch it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use polyplug_abi::OwnedBuf;

use crate::error::guarded;
use crate::status::{Failure, POLYPLUG_ERR_INVALID_HANDLE, polyplug_status};

/// Every owned result handed out and not yet freed: address to length.
static OUTSTANDING: Mutex<Option<HashMap<usize, usize>>> = Mutex::new(None);

/// The table, locked. A panic while it was held cannot leave it half
/// changed (each change is one insert or one removal), so a poisoned lock
/// is taken as it is.
fn outstanding() -> std::sync::MutexGuard<'static, Option<HashMap<usize, usize>>> {
    OUTSTANDING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records `buf`, a result just handed to the host, as outstanding.
/// `{NULL, 0}` and other empty results own nothing and are not recorded.
pub(crate) fn hand_over(buf: OwnedBuf) {
    if buf.ptr.is_null() || buf.len == 0 {
        return;
    }
    outstanding()
        .get_or_insert_with(HashMap::new)
        .insert(buf.ptr as usize, buf.len);
}

/// Takes `buf` back from the table: `Ok` when it is an outstanding result
/// of exactly this length (it is then no longer in the table).
fn take_back(buf: &OwnedBuf) -> Result<(), Failure> {
    let mut table = outstanding();
    let recorded = table.as_mut().and_then(|t| t.remove(&(buf.ptr as usize)));
    match recorded {
        Some(len) if len == buf.len => Ok(()),
        Some(len) => {
            if let Some(t) = table.as_mut() {
                t.insert(buf.ptr as usize, len);
            }
            Err(Failure::new(
                POLYPLUG_ERR_INVALID_HANDLE,
                format!(
                    "buffer {:p} was handed out with {len} bytes, not {}: nothing freed",
                    buf.ptr, buf.len
                ),
            ))
        }
        None => Err(Failure::new(
            POLYPLUG_ERR_INVALID_HANDLE,
            format!(
                "buffer {:p} ({} bytes) is not an unfreed result of polyplug_fn_call: freed already, or not from this library; nothing freed",
                buf.ptr, buf.len
            ),
        )),
    }
}

/// Frees a `string` or `buf` result of `polyplug_fn_call` (a `PpOwnedBuf`
/// the caller owns), on any thread, before or after the runtime that made
/// it is destroyed: results belong to no runtime. `{NULL, 0}` (an empty
/// result), and any value with `len` 0, is nothing to free: `POLYPLUG_OK`.
///
/// Checked: the library records every non-empty result it hands out and
/// frees only a recorded one, of its recorded length. A second free of the
/// same value, a pointer that no `polyplug_fn_call` returned, or a wrong
/// `len` is refused with `POLYPLUG_ERR_INVALID_HANDLE` and frees nothing.
/// Not detectable: once a buffer is freed, the allocator may reuse its
/// address for a later result; a second free of the old value while that
/// later result (of the same length) is outstanding frees the later one.
///
/// # Safety
///
/// None beyond passing the value by copy: what it frees is only what the
/// library handed out and has not taken back (\[C9\], \[R12\]).
///
/// ```c
/// PpOwnedBuf greeting;
/// polyplug_fn_call(guard, greet, &(PpStrView){"ada", 3}, &greeting);
/// printf("%.*s\n", (int)greeting.len, (const char *)greeting.ptr);
/// polyplug_buf_free(greeting);                  // POLYPLUG_OK
/// polyplug_buf_free(greeting);                  // POLYPLUG_ERR_INVALID_HANDLE
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polyplug_buf_free(buf: OwnedBuf) -> polyplug_status {
    guarded(|| {
        if buf.ptr.is_null() || buf.len == 0 {
            return Ok(());
        }
        take_back(&buf)?;
        // SAFETY: [C9][R12][R9] `buf` was recorded by `hand_over` with this
        // length and taken out of the table just now, so it is a result the
        // host allocator (the global allocator) allocated with layout
        // (len, 1), that of a Vec<u8> of capacity len, freed this once.
        drop(unsafe { Vec::from_raw_parts(buf.ptr, buf.len, buf.len) });
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::POLYPLUG_OK;

    fn result(bytes: &[u8]) -> OwnedBuf {
        let mut boxed = bytes.to_vec().into_boxed_slice();
        let buf = OwnedBuf {
            ptr: boxed.as_mut_ptr(),
            len: boxed.len(),
        };
        std::mem::forget(boxed);
        hand_over(buf);
        buf
    }

    #[test]
    fn a_result_is_freed_once_and_a_second_free_is_refused() {
        let buf = result(b"abc");
        // SAFETY: [C9] a value handed over just now.
        assert_eq!(unsafe { polyplug_buf_free(buf) }, POLYPLUG_OK);
        // SAFETY: [C9] refused before anything is freed.
        let again = unsafe { polyplug_buf_free(buf) };
        assert_eq!(again, POLYPLUG_ERR_INVALID_HANDLE);
    }

    #[test]
    fn a_wrong_length_frees_nothing_and_the_right_one_then_frees() {
        let buf = result(b"abcd");
        let wrong = OwnedBuf {
            ptr: buf.ptr,
            len: 3,
        };
        // SAFETY: [C9] refused before anything is freed.
        let refused = unsafe { polyplug_buf_free(wrong) };
        assert_eq!(refused, POLYPLUG_ERR_INVALID_HANDLE);
        // SAFETY: [C9] the recorded value, still outstanding.
        assert_eq!(unsafe { polyplug_buf_free(buf) }, POLYPLUG_OK);
    }
}
