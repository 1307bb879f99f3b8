//! What an engine's guest code reaches of the runtime: find any loaded
//! contract and call its typed functions, whatever language provides them.
//!
//! A native plugin does this through the host table (`find_contract`,
//! `resolve_contract`, then a typed call). An engine (a WebAssembly
//! interpreter) cannot hand its guest host pointers, so it gets
//! [`Contracts`]: handles and [`Value`]s, copied, never views into host
//! memory that outlive a call. Calls take the packed path that every
//! engine-run function and every native typed function with a packed
//! form offers (\[R13\]).

use std::ffi::c_void;
use std::fmt;
use std::sync::Weak;

use polyplug_abi::{
    AbiError, BytesView, ERR_BAD_ARGUMENT, ERR_INVALID, ERR_NOT_FOUND, ERR_UNSUPPORTED, OK,
    OwnedBuf, StrView, Version,
};

use crate::entry::ContractHandle;
use crate::loader::{Fault, Layout, TypedSignature, Value, ValueType};
use crate::runtime::Shared;

/// The loaded contracts, as an engine's guest code reaches them: find by
/// name and version, call a typed function by name with [`Value`]s. Cheap
/// to clone; `Send` and `Sync`; does nothing but fail once the runtime is
/// gone. Get one from [`Registrar::contracts`](crate::loader::Registrar::contracts).
///
/// ```
/// use polyplug::loader::{Contracts, Value};
/// use polyplug::Version;
///
/// fn inc_via_host(contracts: &Contracts, x: u32) -> Result<u32, polyplug::loader::Fault> {
///     let add = contracts.find("test.add", Version::new(1, 0, 0))?;
///     match contracts.call(add, "inc", "u32(u32)", &[Value::U32(x)])? {
///         Value::U32(y) => Ok(y),
///         _ => unreachable!("the signature was checked"),
///     }
/// }
/// # let _ = inc_via_host;
/// ```
#[derive(Clone)]
pub struct Contracts {
    pub(crate) shared: Weak<Shared>,
}

impl fmt::Debug for Contracts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contracts").finish_non_exhaustive()
    }
}

fn gone() -> Fault {
    Fault::new(ERR_NOT_FOUND, "the runtime has been dropped")
}

impl Contracts {
    /// The best loaded contract `name` that satisfies `min_version`, as
    /// `find_contract` gives it to a native plugin.
    ///
    /// # Errors
    ///
    /// `ERR_NOT_FOUND` when none satisfies it.
    ///
    /// ```
    /// # fn f(contracts: &polyplug::loader::Contracts) {
    /// let found = contracts.find("test.add", polyplug::Version::new(1, 0, 0));
    /// # let _ = found; }
    /// ```
    pub fn find(&self, name: &str, min_version: Version) -> Result<ContractHandle, Fault> {
        let shared = self.shared.upgrade().ok_or_else(gone)?;
        let reader = shared.store.reader();
        let guard = reader.pin();
        crate::read::best(&guard, name, min_version)
            .map(|(handle, _)| ContractHandle(handle))
            .ok_or_else(|| {
                Fault::new(
                    ERR_NOT_FOUND,
                    format!("no loaded contract {name} satisfies {min_version}"),
                )
            })
    }

    /// Calls typed function `function` of the contract behind `handle`,
    /// whose registered signature must be `signature` (whitespace
    /// ignored), with `args` of its argument types. The contract stays
    /// pinned for the call. `str` and `bytes` arguments are borrowed for
    /// the call; a `string` or `buf` result is returned owned.
    ///
    /// # Errors
    ///
    /// `ERR_NOT_FOUND` for a stale handle or an unknown function,
    /// `ERR_BAD_ARGUMENT` for another signature or arguments that do not
    /// fit it, `ERR_UNSUPPORTED` for a native typed function without a
    /// packed form, and whatever the function itself fails with.
    ///
    /// ```
    /// # fn f(contracts: &polyplug::loader::Contracts, handle: polyplug::ContractHandle) -> Result<(), polyplug::loader::Fault> {
    /// use polyplug::loader::Value;
    ///
    /// let upper = contracts.call(handle, "upper", "string(str)", &[Value::Str("abc")])?;
    /// assert_eq!(upper, Value::String("ABC".to_owned()));
    /// # Ok(()) }
    /// ```
    pub fn call(
        &self,
        handle: ContractHandle,
        function: &str,
        signature: &str,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        let signature = TypedSignature::parse(signature)
            .map_err(|problem| Fault::new(ERR_BAD_ARGUMENT, problem))?;
        let types: Vec<Option<ValueType>> = args.iter().map(Value::value_type).collect();
        if types.len() != signature.args.len()
            || types
                .iter()
                .zip(&signature.args)
                .any(|(t, s)| *t != Some(*s))
        {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                format!("arguments {types:?} do not fit the signature {signature}"),
            ));
        }
        let shared = self.shared.upgrade().ok_or_else(gone)?;
        let reader = shared.store.reader();
        let guard = reader.pin();
        let entry = guard.get(handle.0).map_err(|_| {
            Fault::new(
                ERR_NOT_FOUND,
                format!("contract handle {handle} is not loaded"),
            )
        })?;
        let table = &entry.table;
        let named =
            |problem: String| format!("contract {}: function {function}: {problem}", table.name);
        let Some(index) = table.typed.iter().position(|t| &*t.name == function) else {
            return Err(Fault::new(
                ERR_NOT_FOUND,
                format!("contract {} has no typed function {function:?}", table.name),
            ));
        };
        let registered = &table.typed[index].signature;
        if **registered != signature.to_string() {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                named(format!("its signature is {registered}, not {signature}")),
            ));
        }
        let Some((func, ctx)) = table.packed_call(index) else {
            return Err(Fault::new(
                ERR_UNSUPPORTED,
                named("a native typed function without a packed form; its plugin sets TypedEntry::packed to offer one".to_owned()),
            ));
        };
        let offsets = crate::loader::offsets(&signature);
        let size = signature
            .args
            .iter()
            .zip(&offsets)
            .map(|(t, o)| o + t.size_align().0)
            .max()
            .unwrap_or(0);
        // Eight-byte words: aligned for every argument type.
        let mut packed = vec![0u64; size.div_ceil(8).max(1)];
        let base = packed.as_mut_ptr().cast::<u8>();
        for (arg, offset) in args.iter().zip(&offsets) {
            let at = base.wrapping_add(*offset);
            // SAFETY: `offset` + the argument's size is within `packed`
            // (its size was computed from the same offsets); writes are
            // unaligned.
            unsafe { write_arg(at, arg) };
        }
        // Large and aligned enough for every result type (at most 16 bytes).
        let mut out = [0u64; 2];
        let mut err = AbiError::NONE;
        // SAFETY: [R11][R13] the packed call of a function of the guard's
        // table, with its own context, the arguments packed as its checked
        // signature lays them out, and a writable result; the guard keeps
        // the table and its code alive for the call.
        let code = unsafe {
            func(
                ctx,
                std::ptr::null_mut(),
                packed.as_ptr().cast::<c_void>(),
                out.as_mut_ptr().cast::<c_void>(),
                &mut err,
            )
        };
        if code != OK {
            // SAFETY: [P6] the callee filled `err` by the ABI's rules.
            let message = unsafe { crate::host::take_message(&err) };
            return Err(Fault::new(code, named(message.as_str().to_owned())));
        }
        let out = out.as_ptr().cast::<u8>();
        // SAFETY: [R12] the function returned OK, so `out` holds one value
        // of its result type.
        unsafe { read_result(out, signature.ret) }
            .map_err(|problem| Fault::new(ERR_INVALID, named(problem)))
    }
}

/// Writes `arg` at `at` as a packed argument.
///
/// # Safety
///
/// `at` is writable for one value of `arg`'s type.
unsafe fn write_arg(at: *mut u8, arg: &Value<'_>) {
    fn put<const N: usize>(at: *mut u8, bytes: [u8; N]) {
        // SAFETY: the caller's `at` holds N bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), at, N) };
    }
    match arg {
        Value::Void | Value::String(_) | Value::Buf(_) => {}
        Value::U8(v) => put(at, v.to_ne_bytes()),
        Value::U16(v) => put(at, v.to_ne_bytes()),
        Value::U32(v) => put(at, v.to_ne_bytes()),
        Value::U64(v) => put(at, v.to_ne_bytes()),
        Value::I8(v) => put(at, v.to_ne_bytes()),
        Value::I16(v) => put(at, v.to_ne_bytes()),
        Value::I32(v) => put(at, v.to_ne_bytes()),
        Value::I64(v) => put(at, v.to_ne_bytes()),
        Value::Usize(v) => put(at, v.to_ne_bytes()),
        Value::Isize(v) => put(at, v.to_ne_bytes()),
        Value::F32(v) => put(at, v.to_ne_bytes()),
        Value::F64(v) => put(at, v.to_ne_bytes()),
        Value::Str(text) => {
            let view = StrView {
                ptr: text.as_ptr(),
                len: text.len(),
            };
            // SAFETY: the caller's `at` holds one StrView.
            unsafe { at.cast::<StrView>().write_unaligned(view) };
        }
        Value::Bytes(bytes) => {
            // SAFETY: the caller's `at` holds one BytesView.
            unsafe { at.cast::<BytesView>().write_unaligned(BytesView::of(bytes)) };
        }
    }
}

/// Reads a packed result of type `ret` at `out`, taking over an owned one.
///
/// # Safety
///
/// \[R12\] `out` holds one value of type `ret`, written by a function that
/// returned OK; an owned result is handed over once.
unsafe fn read_result(out: *const u8, ret: Option<ValueType>) -> Result<Value<'static>, String> {
    fn take<const N: usize>(out: *const u8) -> [u8; N] {
        let mut bytes = [0u8; N];
        // SAFETY: the caller's `out` holds at least N bytes.
        unsafe { std::ptr::copy_nonoverlapping(out, bytes.as_mut_ptr(), N) };
        bytes
    }
    let owned = || {
        // SAFETY: [R12] the result is one OwnedBuf.
        let buf = unsafe { out.cast::<OwnedBuf>().read_unaligned() };
        // SAFETY: [R12] from the host allocator, handed over once.
        unsafe { crate::signature::take_owned(buf) }
    };
    Ok(match ret {
        None => Value::Void,
        Some(ValueType::U8) => Value::U8(u8::from_ne_bytes(take(out))),
        Some(ValueType::U16) => Value::U16(u16::from_ne_bytes(take(out))),
        Some(ValueType::U32) => Value::U32(u32::from_ne_bytes(take(out))),
        Some(ValueType::U64) => Value::U64(u64::from_ne_bytes(take(out))),
        Some(ValueType::I8) => Value::I8(i8::from_ne_bytes(take(out))),
        Some(ValueType::I16) => Value::I16(i16::from_ne_bytes(take(out))),
        Some(ValueType::I32) => Value::I32(i32::from_ne_bytes(take(out))),
        Some(ValueType::I64) => Value::I64(i64::from_ne_bytes(take(out))),
        Some(ValueType::Usize) => Value::Usize(usize::from_ne_bytes(take(out))),
        Some(ValueType::Isize) => Value::Isize(isize::from_ne_bytes(take(out))),
        Some(ValueType::F32) => Value::F32(f32::from_ne_bytes(take(out))),
        Some(ValueType::F64) => Value::F64(f64::from_ne_bytes(take(out))),
        Some(ValueType::String) => Value::String(
            String::from_utf8(owned()).map_err(|_| "returned a string that is not UTF-8")?,
        ),
        Some(ValueType::Buf) => Value::Buf(owned()),
        Some(ValueType::Str | ValueType::Bytes) => {
            return Err("a view is not a result type".to_owned());
        }
    })
}
