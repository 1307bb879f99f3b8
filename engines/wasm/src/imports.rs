//! The host imports, once for every engine: `polyplug.log(level, ptr,
//! len)`, `polyplug.find(name_ptr, name_len, major, minor) -> handle` and
//! `polyplug.call(handle, fn_ptr, fn_len, sig_ptr, sig_len, args_ptr,
//! out_ptr) -> code` (`docs/wasm-plugins.md`).
//!
//! An engine gives them a [`Guest`]: the calling instance's exported
//! memory, read and written through bounds-checked copies, its
//! `polyplug_alloc`, and the load's logger and contracts. Each import
//! catches panics: none unwinds through an engine.

use std::panic::{AssertUnwindSafe, catch_unwind};

use polyplug::LogLevel;
use polyplug::loader::{Contracts, Fault, Logger, TypedSignature, Value, ValueType};
use polyplug::{ContractHandle, Version};
use polyplug_abi::{
    ERR_BAD_ARGUMENT, ERR_INTERNAL, ERR_INVALID, ERR_NOT_FOUND, ERR_UNSUPPORTED, OK,
};

pub(crate) const HOST_MODULE: &str = "polyplug";
pub(crate) const LOG_IMPORT: &str = "log";
pub(crate) const FIND_IMPORT: &str = "find";
pub(crate) const CALL_IMPORT: &str = "call";
/// Longest contract or function name, or signature, read from a guest.
const MAX_NAME_BYTES: u32 = 256;
/// Longest log message copied out of linear memory, in bytes.
const MAX_LOG_BYTES: u32 = 4096;

/// Why a guest memory access failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Memory {
    /// The module exports no `memory`.
    Missing,
    /// The range is not inside it.
    OutOfBounds,
}

/// What a host import sees of the instance calling it.
pub(crate) trait Guest {
    fn logger(&self) -> &Logger;
    fn contracts(&self) -> &Contracts;
    /// Copies `buf.len()` bytes at `offset` of the exported memory.
    fn read(&mut self, offset: usize, buf: &mut [u8]) -> Result<(), Memory>;
    /// Copies `bytes` to `offset` of the exported memory.
    fn write(&mut self, offset: usize, bytes: &[u8]) -> Result<(), Memory>;
    /// Calls the module's `polyplug_alloc(len, 1)`; `None` when it has no
    /// such export.
    fn alloc(&mut self, len: u32) -> Option<Result<i32, Fault>>;
}

fn no_memory() -> Fault {
    Fault::new(ERR_UNSUPPORTED, "the module exports no memory")
}

/// `polyplug.log`: copies at most [`MAX_LOG_BYTES`] out and logs them for
/// the bundle; a bad range logs nothing.
pub(crate) fn log(guest: &mut impl Guest, level: i32, ptr: i32, len: i32) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let len = u32::try_from(len).unwrap_or(0).min(MAX_LOG_BYTES);
        let mut bytes = vec![0u8; usize::try_from(len).unwrap_or(0)];
        let offset = usize::try_from(ptr.cast_unsigned()).unwrap_or(usize::MAX);
        // The guest reaches host memory only through this copy, bounds
        // checked by the engine.
        if guest.read(offset, &mut bytes).is_err() {
            return;
        }
        let level = LogLevel::from_code(u32::try_from(level).unwrap_or(u32::MAX));
        guest.logger().log(level, &String::from_utf8_lossy(&bytes));
    }));
}

/// Copies `len` bytes at `ptr` out of the guest's exported `memory`,
/// refusing more than `limit`.
fn read_guest(
    guest: &mut impl Guest,
    ptr: i32,
    len: i32,
    limit: u32,
    what: &str,
) -> Result<Vec<u8>, Fault> {
    let len = u32::try_from(len)
        .map_err(|_| Fault::new(ERR_BAD_ARGUMENT, format!("{what}: negative length")))?;
    if len > limit {
        return Err(Fault::new(
            ERR_BAD_ARGUMENT,
            format!("{what}: {len} bytes, more than {limit}"),
        ));
    }
    let mut bytes = vec![0u8; usize::try_from(len).unwrap_or(0)];
    let offset = usize::try_from(ptr.cast_unsigned()).unwrap_or(usize::MAX);
    // The guest reaches host memory only through this copy, bounds
    // checked by the engine.
    guest.read(offset, &mut bytes).map_err(|e| match e {
        Memory::Missing => no_memory(),
        Memory::OutOfBounds => Fault::new(
            ERR_BAD_ARGUMENT,
            format!("{what}: out of the module's memory"),
        ),
    })?;
    Ok(bytes)
}

fn read_name(guest: &mut impl Guest, ptr: i32, len: i32, what: &str) -> Result<String, Fault> {
    String::from_utf8(read_guest(guest, ptr, len, MAX_NAME_BYTES, what)?)
        .map_err(|_| Fault::new(ERR_BAD_ARGUMENT, format!("{what}: not UTF-8")))
}

/// `polyplug.find(name_ptr, name_len, major, minor) -> i64`: the handle of
/// the best loaded contract, or 0 when none satisfies the version (or the
/// arguments are bad); the reason is logged.
pub(crate) fn find(guest: &mut impl Guest, ptr: i32, len: i32, major: i32, minor: i32) -> i64 {
    let found = catch_unwind(AssertUnwindSafe(|| {
        let name = read_name(&mut *guest, ptr, len, "polyplug.find: name")?;
        let version = Version::new(major.cast_unsigned(), minor.cast_unsigned(), 0);
        guest.contracts().find(&name, version)
    }))
    .unwrap_or_else(|_| Err(Fault::new(ERR_INTERNAL, "polyplug.find panicked")));
    match found {
        Ok(handle) => handle.to_raw().cast_signed(),
        Err(fault) => {
            guest
                .logger()
                .log(LogLevel::Debug, &format!("polyplug.find: {fault}"));
            0
        }
    }
}

/// Size and alignment of a type in a wasm32 guest's C structs; `None`
/// for types a guest cannot pass.
fn guest_layout(ty: ValueType) -> Option<(usize, usize)> {
    match ty {
        ValueType::U32 | ValueType::I32 | ValueType::F32 => Some((4, 4)),
        ValueType::U64 | ValueType::I64 | ValueType::F64 => Some((8, 8)),
        ValueType::Str | ValueType::Bytes | ValueType::String | ValueType::Buf => Some((8, 4)),
        _ => None,
    }
}

fn word<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = bytes.get(at..at + N) {
        out.copy_from_slice(src);
    }
    out
}

/// Copies `bytes` into fresh guest memory from the module's exported
/// `polyplug_alloc(size, align) -> ptr`; `(0, 0)` for no bytes.
fn give_to_guest(guest: &mut impl Guest, bytes: &[u8]) -> Result<(u32, u32), Fault> {
    if bytes.is_empty() {
        return Ok((0, 0));
    }
    let len =
        u32::try_from(bytes.len()).map_err(|_| Fault::new(ERR_BAD_ARGUMENT, "result too large"))?;
    let Some(allocated) = guest.alloc(len) else {
        return Err(Fault::new(
            ERR_UNSUPPORTED,
            "a string or buf result needs the export polyplug_alloc(size, align) -> ptr",
        ));
    };
    let ptr = allocated?;
    guest
        .write(
            usize::try_from(ptr.cast_unsigned()).unwrap_or(usize::MAX),
            bytes,
        )
        .map_err(|e| match e {
            Memory::Missing => no_memory(),
            Memory::OutOfBounds => Fault::new(
                ERR_BAD_ARGUMENT,
                "polyplug_alloc returned memory out of bounds",
            ),
        })?;
    Ok((ptr.cast_unsigned(), len))
}

/// The body of `polyplug.call`: reads the arguments from guest memory as
/// the wasm32 C struct of the signature, calls through [`Contracts`], and
/// writes the result at `out_ptr`.
fn call_body(
    guest: &mut impl Guest,
    handle: i64,
    (fn_ptr, fn_len, sig_ptr, sig_len): (i32, i32, i32, i32),
    args_ptr: i32,
    out_ptr: i32,
) -> Result<(), Fault> {
    let function = read_name(guest, fn_ptr, fn_len, "polyplug.call: function")?;
    let spelling = read_name(guest, sig_ptr, sig_len, "polyplug.call: signature")?;
    let signature =
        TypedSignature::parse(&spelling).map_err(|p| Fault::new(ERR_BAD_ARGUMENT, p))?;
    let mut offsets = Vec::with_capacity(signature.args.len());
    let mut size = 0usize;
    for ty in &signature.args {
        let (s, a) = guest_layout(*ty).ok_or_else(|| {
            Fault::new(
                ERR_UNSUPPORTED,
                format!("type {} cannot cross from WebAssembly", ty.name()),
            )
        })?;
        size = size.next_multiple_of(a);
        offsets.push(size);
        size += s;
    }
    let packed = read_guest(
        guest,
        args_ptr,
        i32::try_from(size).unwrap_or(i32::MAX),
        4096,
        "polyplug.call: arguments",
    )?;
    // Views are copied out of guest memory first, then borrowed.
    let mut copies: Vec<Vec<u8>> = Vec::new();
    for (ty, at) in signature.args.iter().zip(&offsets) {
        if matches!(ty, ValueType::Str | ValueType::Bytes) {
            let ptr = i32::from_ne_bytes(word(&packed, *at));
            let len = i32::from_ne_bytes(word(&packed, at + 4));
            copies.push(read_guest(
                guest,
                ptr,
                len,
                u32::MAX,
                "polyplug.call: view argument",
            )?);
        }
    }
    let mut views = copies.iter();
    let mut args = Vec::with_capacity(signature.args.len());
    for (ty, at) in signature.args.iter().zip(&offsets) {
        let at = *at;
        args.push(match ty {
            ValueType::U32 => Value::U32(u32::from_ne_bytes(word(&packed, at))),
            ValueType::I32 => Value::I32(i32::from_ne_bytes(word(&packed, at))),
            ValueType::F32 => Value::F32(f32::from_ne_bytes(word(&packed, at))),
            ValueType::U64 => Value::U64(u64::from_ne_bytes(word(&packed, at))),
            ValueType::I64 => Value::I64(i64::from_ne_bytes(word(&packed, at))),
            ValueType::F64 => Value::F64(f64::from_ne_bytes(word(&packed, at))),
            ValueType::Str => Value::Str(
                std::str::from_utf8(views.next().map_or(&[][..], Vec::as_slice))
                    .map_err(|_| Fault::new(ERR_BAD_ARGUMENT, "str argument is not UTF-8"))?,
            ),
            ValueType::Bytes => Value::Bytes(views.next().map_or(&[][..], Vec::as_slice)),
            _ => {
                return Err(Fault::new(
                    ERR_UNSUPPORTED,
                    format!("type {} cannot cross from WebAssembly", ty.name()),
                ));
            }
        });
    }
    let handle = ContractHandle::from_raw(handle.cast_unsigned()).ok_or_else(|| {
        Fault::new(
            ERR_NOT_FOUND,
            format!("{handle:#x} is not a contract handle"),
        )
    })?;
    let contracts = guest.contracts().clone();
    let result = contracts.call(handle, &function, &spelling, &args)?;
    drop(args);
    let bytes: Vec<u8> = match result {
        Value::Void => Vec::new(),
        Value::U32(v) => v.to_ne_bytes().to_vec(),
        Value::I32(v) => v.to_ne_bytes().to_vec(),
        Value::F32(v) => v.to_ne_bytes().to_vec(),
        Value::U64(v) => v.to_ne_bytes().to_vec(),
        Value::I64(v) => v.to_ne_bytes().to_vec(),
        Value::F64(v) => v.to_ne_bytes().to_vec(),
        Value::String(text) => pair(give_to_guest(guest, text.as_bytes())?),
        Value::Buf(data) => pair(give_to_guest(guest, &data)?),
        other => {
            return Err(Fault::new(
                ERR_UNSUPPORTED,
                format!(
                    "a {:?} result cannot cross into WebAssembly",
                    other.value_type()
                ),
            ));
        }
    };
    if !bytes.is_empty() {
        guest
            .write(
                usize::try_from(out_ptr.cast_unsigned()).unwrap_or(usize::MAX),
                &bytes,
            )
            .map_err(|e| match e {
                Memory::Missing => no_memory(),
                Memory::OutOfBounds => Fault::new(
                    ERR_BAD_ARGUMENT,
                    "polyplug.call: `out` is out of the module's memory",
                ),
            })?;
    }
    Ok(())
}

fn pair((ptr, len): (u32, u32)) -> Vec<u8> {
    let mut bytes = ptr.to_ne_bytes().to_vec();
    bytes.extend_from_slice(&len.to_ne_bytes());
    bytes
}

/// `polyplug.call(handle, fn_ptr, fn_len, sig_ptr, sig_len, args_ptr,
/// out_ptr) -> i32`: 0, or the error code; the reason is logged.
pub(crate) fn call(
    guest: &mut impl Guest,
    handle: i64,
    names: (i32, i32, i32, i32),
    args_ptr: i32,
    out_ptr: i32,
) -> i32 {
    let result = catch_unwind(AssertUnwindSafe(|| {
        call_body(&mut *guest, handle, names, args_ptr, out_ptr)
    }))
    .unwrap_or_else(|_| Err(Fault::new(ERR_INTERNAL, "polyplug.call panicked")));
    match result {
        Ok(()) => OK.cast_signed(),
        Err(fault) => {
            guest
                .logger()
                .log(LogLevel::Warn, &format!("polyplug.call: {fault}"));
            fault.code.cast_signed()
        }
    }
}

/// The failure of a `polyplug_alloc` call that returned no `i32`.
pub(crate) fn alloc_returned_nothing() -> Fault {
    Fault::new(ERR_INVALID, "polyplug_alloc returned no i32")
}
