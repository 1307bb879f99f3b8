//! Example plugin `text-rust` 1.0.0: contract `demo.text` 1.0.0 in Rust.
//!
//! | function | signature | behaviour |
//! |---|---|---|
//! | `upper` | `string(str)` | the text upper-cased, Unicode-aware (`str::to_uppercase`: `ß` → `SS`) |
//! | `checksum` | `u64(bytes)` | the wrapping sum of the bytes |
//!
//! Both are plain Rust functions (in `../text-common/text.rs`, which
//! `text-wasm` compiles too); `polyplug_guest::plugin!` derives the
//! signatures from their types (`&str` is `str`, `&[u8]` is `bytes`,
//! `String` is `string`) and exports the `extern "C"` wrappers. A `str`
//! or `bytes` argument is a view the host lends for the call: the wrapper
//! hands the function a `&str` or `&[u8]` that does not outlive it. The
//! `String` result is copied into memory from the host table's
//! `alloc(len, 1)` and handed over: from then on the host owns it and
//! frees it (a Rust host drops the `String` it became). An empty result
//! is `{NULL, 0}` and owns nothing.
//!
//! A C host may pass a `str` view that is not UTF-8: the SDK refuses it
//! without calling `upper`; the caller gets the empty string (and a
//! `LOG_ERROR` line), or `ERR_BAD_ARGUMENT` on a packed call. A panic is
//! handled the same way, `ERR_PANIC` on a packed call. No `unsafe` here
//! (`forbid(unsafe_code)`): the SDK holds it all.

#![forbid(unsafe_code)]

include!("../../text-common/text.rs");
