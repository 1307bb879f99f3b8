//! Example plugin `text-wasm` 1.0.0: contract `demo.text` 1.0.0 in Rust
//! built for wasm32-unknown-unknown. The code is the native `text-rust`'s,
//! `../../plugins/text-common/text.rs`: only the target differs.
//!
//! In this build `plugin!` exports `demo.text@1.0.0/upper:string(str)`
//! taking the `(i32 ptr, i32 len)` of the bytes the host copied in through
//! `polyplug_alloc`, and returning the upper-cased text as one `i64`
//! `ptr | (len << 32)` that the host copies out and gives back to
//! `polyplug_free(ptr, len, 1)`; `checksum:u64(bytes)` takes a pair and
//! returns an `i64`. A `str` argument that is not UTF-8 is refused before
//! `upper` runs: logged at `LOG_ERROR`, then a trap (`ERR_TRAP` for the
//! caller). No `unsafe` here (`forbid(unsafe_code)`): the SDK holds it all.

#![forbid(unsafe_code)]

include!("../../../plugins/text-common/text.rs");
