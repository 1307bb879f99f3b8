//! The Rust types of a native typed function's arguments and result, and
//! how they cross the ABI: numbers as themselves, `&str` and `&[u8]` as
//! the views the caller lends for the call (`StrView`, `BytesView`,
//! \[R16\]), `String` and `Vec<u8>` as an `OwnedBuf` allocated with the
//! host's `alloc(len, 1)` and handed over (\[R12\], \[P7\]).
//!
//! A `str` view that is not UTF-8 (a C host may pass any bytes), or a
//! null view with a length, is refused: the plugin's function is not
//! called, the refusal is logged at `LOG_ERROR` naming the contract, the
//! function and the argument, and the caller gets the result type's
//! default (`0`, or the empty `{NULL, 0}` string). Nothing is read past
//! the view and no `&str` is ever made from bytes that are not UTF-8.

use core::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use core::ffi::c_void;
use polyplug_abi::{
    AbiError, BytesView, ERR_BAD_ARGUMENT, ERR_OUT_OF_MEMORY, ERR_PANIC, LOG_ERROR, OK, OwnedBuf,
    StrView,
};

use crate::boundary::panic_message;
use crate::error::Error;
use crate::host::{self, Host};
use crate::signature::{AbiType, AbiValue, PackedArgs};

mod sealed {
    /// Keeps [`TypedArg`](super::TypedArg) and
    /// [`TypedRet`](super::TypedRet) closed: each spelling must match its
    /// ABI type (\[G7\], \[G11\]).
    pub trait Sealed {}
}

/// A Rust type that a `plugin!` typed function takes as an argument: the
/// numbers of [`AbiArg`](crate::AbiArg), `&str` (`str`) and `&[u8]`
/// (`bytes`).
///
/// ```
/// use polyplug_guest::TypedArg;
///
/// assert_eq!(<&str as TypedArg>::C_NAME, "str");
/// assert_eq!(<&[u8] as TypedArg>::C_NAME, "bytes");
/// assert_eq!(<u64 as TypedArg>::C_NAME, "u64");
/// ```
pub trait TypedArg: Sized + sealed::Sealed {
    /// The argument as it crosses the ABI.
    #[doc(hidden)]
    type Abi: AbiValue;
    /// The type's name in a signature string.
    const C_NAME: &'static str;
    /// The Rust value of an ABI argument, or why it is refused.
    ///
    /// # Safety
    ///
    /// \[G11\]: a view is readable for its `len` bytes for as long as the
    /// returned value is used (the call), and not written meanwhile.
    #[doc(hidden)]
    unsafe fn from_abi(abi: Self::Abi) -> Result<Self, &'static str>;
}

/// A Rust type that a `plugin!` typed function returns: the numbers of
/// [`AbiType`], `()` (`void`), `String` (`string`) and `Vec<u8>` (`buf`).
///
/// ```
/// use polyplug_guest::TypedRet;
///
/// assert_eq!(<String as TypedRet>::C_NAME, "string");
/// assert_eq!(<Vec<u8> as TypedRet>::C_NAME, "buf");
/// assert_eq!(<() as TypedRet>::C_NAME, "void");
/// ```
///
/// A borrowed result has no ABI form (the host could not free it):
///
/// ```compile_fail
/// fn name() -> &'static str {
///     "polyplug"
/// }
/// polyplug_guest::plugin! {
///     contract "test.name" "1.0.0" {
///         typed name() -> &'static str = name;
///     }
/// }
/// # fn main() {}
/// ```
pub trait TypedRet: Sized + sealed::Sealed {
    /// The result as it crosses the ABI.
    #[doc(hidden)]
    type Abi: AbiValue;
    /// The type's name in a signature string.
    const C_NAME: &'static str;
    /// The value handed to the caller: an owned result is copied into
    /// memory from the host's `alloc(len, 1)`; `None` when the host cannot
    /// allocate it.
    #[doc(hidden)]
    fn into_abi(self) -> Option<Self::Abi>;
    /// What the caller gets when the function panicked or an argument was
    /// refused: `0`, or the empty owned result, which owns nothing.
    #[doc(hidden)]
    fn fallback() -> Self::Abi;
}

macro_rules! number_types {
    ($($ty:ty),* $(,)?) => {$(
        impl sealed::Sealed for $ty {}
        impl TypedArg for $ty {
            type Abi = $ty;
            const C_NAME: &'static str = <$ty as AbiType>::C_NAME;
            unsafe fn from_abi(abi: $ty) -> Result<$ty, &'static str> {
                Ok(abi)
            }
        }
        impl TypedRet for $ty {
            type Abi = $ty;
            const C_NAME: &'static str = <$ty as AbiType>::C_NAME;
            fn into_abi(self) -> Option<$ty> {
                Some(self)
            }
            fn fallback() -> $ty {
                <$ty>::default()
            }
        }
    )*};
}

number_types!(u8, u16, u32, u64, i8, i16, i32, i64, usize, isize, f32, f64,);

impl sealed::Sealed for () {}
impl TypedRet for () {
    type Abi = ();
    const C_NAME: &'static str = "void";
    fn into_abi(self) -> Option<()> {
        Some(())
    }
    fn fallback() {}
}

/// The bytes a view lends, or a refusal for a null pointer with a length.
///
/// # Safety
///
/// \[G11\]: a non-null `ptr` is readable for `len` bytes for `'a`.
unsafe fn lent<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], &'static str> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err("a null view with a non-zero length");
    }
    // SAFETY: [G11][R16] `ptr` is non-null (checked) and the caller lends
    // `len` readable bytes there for `'a`, unwritten meanwhile.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

impl sealed::Sealed for &str {}
impl TypedArg for &str {
    type Abi = StrView;
    const C_NAME: &'static str = "str";
    unsafe fn from_abi(abi: StrView) -> Result<Self, &'static str> {
        // SAFETY: [G11] forwarded from the caller.
        let bytes = unsafe { lent(abi.ptr, abi.len) }?;
        core::str::from_utf8(bytes).map_err(|_| "a str view that is not UTF-8")
    }
}

impl sealed::Sealed for &[u8] {}
impl TypedArg for &[u8] {
    type Abi = BytesView;
    const C_NAME: &'static str = "bytes";
    unsafe fn from_abi(abi: BytesView) -> Result<Self, &'static str> {
        // SAFETY: [G11] forwarded from the caller.
        unsafe { lent(abi.ptr, abi.len) }
    }
}

/// `bytes` in host memory, handed over; `None` without a host table or
/// allocator, or when it is out of memory.
fn hand_over(bytes: &[u8]) -> Option<OwnedBuf> {
    if bytes.is_empty() {
        return Some(OwnedBuf::EMPTY);
    }
    Host::current()?.alloc_bytes(bytes)
}

impl sealed::Sealed for String {}
impl TypedRet for String {
    type Abi = OwnedBuf;
    const C_NAME: &'static str = "string";
    fn into_abi(self) -> Option<OwnedBuf> {
        hand_over(self.as_bytes())
    }
    fn fallback() -> OwnedBuf {
        OwnedBuf::EMPTY
    }
}

impl sealed::Sealed for Vec<u8> {}
impl TypedRet for Vec<u8> {
    type Abi = OwnedBuf;
    const C_NAME: &'static str = "buf";
    fn into_abi(self) -> Option<OwnedBuf> {
        hand_over(&self)
    }
    fn fallback() -> OwnedBuf {
        OwnedBuf::EMPTY
    }
}

/// Why a typed call gave the fallback instead of the function's result.
#[derive(Debug)]
#[doc(hidden)]
pub enum Refusal {
    /// The argument named first was refused for the reason second.
    Arg(&'static str, &'static str),
}

/// Where a typed function lives, for messages: `contract/function`.
struct Site<'a>(&'a str, &'a str);

impl fmt::Display for Site<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0, self.1)
    }
}

/// Drops a panic payload; if its destructor panics too, that payload is
/// leaked rather than let through.
fn drop_payload(payload: Box<dyn core::any::Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        core::mem::forget(again);
    }
}

/// Runs a typed function's body (argument conversion, then the plugin's
/// function) and hands its result over, or says why it could not: a
/// refused argument (`ERR_BAD_ARGUMENT`), a panic (`ERR_PANIC`, with the
/// panic message) or a result the host could not allocate
/// (`ERR_OUT_OF_MEMORY`), each naming the contract and function.
#[doc(hidden)]
#[inline]
pub fn typed_result<R: TypedRet>(
    contract: &str,
    name: &str,
    f: impl FnOnce() -> Result<R, Refusal>,
) -> Result<R::Abi, Error> {
    // The successful path is the conversion and the plugin's function
    // only: every error is made out of line, so a typed function over
    // numbers compiles to its body and the unwind landing pad.
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => match value.into_abi() {
            Some(abi) => Ok(abi),
            None => Err(no_memory(contract, name, R::C_NAME)),
        },
        Ok(Err(refusal)) => Err(refused(contract, name, refusal)),
        Err(payload) => Err(panicked(contract, name, payload)),
    }
}

/// The error of a result the host could not allocate.
#[cold]
#[inline(never)]
fn no_memory(contract: &str, name: &str, c_name: &'static str) -> Error {
    let site = Site(contract, name);
    Error::new(
        ERR_OUT_OF_MEMORY,
        format!("typed {site}: the host could not allocate the {c_name} result"),
    )
}

/// The error of a refused argument.
#[cold]
#[inline(never)]
fn refused(contract: &str, name: &str, refusal: Refusal) -> Error {
    let site = Site(contract, name);
    let Refusal::Arg(arg, why) = refusal;
    Error::new(
        ERR_BAD_ARGUMENT,
        format!("typed {site}: argument `{arg}` refused, {why}; the function was not called"),
    )
}

/// The error of a panic, whose payload is dropped here.
#[cold]
#[inline(never)]
fn panicked(contract: &str, name: &str, payload: Box<dyn core::any::Any + Send>) -> Error {
    let site = Site(contract, name);
    let message = format!("typed {site} panicked: {}", panic_message(&*payload));
    drop_payload(payload);
    Error::new(ERR_PANIC, message)
}

/// A [`typed_result`] for the plain `extern "C"` call, which has no error
/// channel: an error is logged at `LOG_ERROR` and the caller gets
/// [`TypedRet::fallback`].
#[doc(hidden)]
#[inline]
pub fn typed_or_fallback<R: TypedRet>(result: Result<R::Abi, Error>) -> R::Abi {
    match result {
        Ok(abi) => abi,
        Err(error) => {
            log_fallback(&error, R::C_NAME);
            R::fallback()
        }
    }
}

/// Logs why a plain typed call returns its default.
#[cold]
#[inline(never)]
fn log_fallback(error: &Error, c_name: &'static str) {
    host::log(
        LOG_ERROR,
        &format!("{}; returning the default {c_name}", error.message()),
    );
}

/// The packed call of a typed function (`TypedEntry::packed`): its
/// arguments read from `args`, its result written to `out`, or its error
/// to `*err` (a packed call has an error channel: a panic is `ERR_PANIC`
/// there, not a default). `F` is the function's `extern "C"` type, whose
/// packed argument layout it reads.
///
/// # Safety
///
/// \[G9\]: `args` holds the packed arguments of `F` (any pointer when
/// there are none), `out` is writable for one result, `err` is null or
/// writable; \[G11\] for the views among the arguments.
#[doc(hidden)]
pub unsafe fn packed_call<F: PackedArgs>(
    args: *const c_void,
    out: *mut c_void,
    err: *mut AbiError,
    body: impl FnOnce(F::Tuple) -> Result<F::Ret, Error>,
) -> u32 {
    if out.is_null() || (F::ARGS_SIZE > 0 && args.is_null()) {
        let error = Error::from_static(ERR_BAD_ARGUMENT, "packed call: null args or out");
        // SAFETY: [G2] `err` is null or writable.
        return unsafe { error.write_to(err) };
    }
    // SAFETY: [G9] `args` (non-null when there are arguments, checked)
    // holds the packed arguments of `F`.
    let args = unsafe { F::read(args) };
    match body(args) {
        Ok(result) => {
            // SAFETY: [G9] `out` (non-null, checked) is writable for one
            // result, possibly unaligned.
            unsafe { out.cast::<F::Ret>().write_unaligned(result) };
            OK
        }
        // SAFETY: [G2] `err` is null or writable.
        Err(error) => unsafe { error.write_to(err) },
    }
}
