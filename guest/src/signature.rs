//! Typed-function signatures: the ABI's `ret(arg,arg)` spelling, derived
//! from Rust types.
//!
//! A typed entry is a plain C function pointer, stored type-erased as a
//! [`VoidFn`]. Its `signature` string is the only thing that says what the
//! pointer really is, so the SDK never spells it by hand: [`AbiType`] names
//! each scalar, [`signature!`](crate::signature) assembles the string at
//! compile time, and [`TypedFnPtr`] checks it at run time before a pointer
//! is turned back into a callable type.

use core::ffi::c_void;

use polyplug_abi::{
    AbiError, BytesView, ERR_BAD_ARGUMENT, OK, OwnedBuf, StrView, TypedEntry, VoidFn,
};

mod sealed {
    /// Keeps [`AbiType`](super::AbiType) and
    /// [`TypedFnPtr`](super::TypedFnPtr) closed: the ABI fixes the list.
    pub trait Sealed {}
}

/// A Rust type that a typed function may take or return, with its spelling
/// in a signature string.
///
/// Implemented for exactly the ABI's list: `u8`, `u16`, `u32`, `u64`, `i8`,
/// `i16`, `i32`, `i64`, `usize`, `isize`, `f32`, `f64`, and `()` as `void`.
/// `()` is meant for return types only; [`AbiArg`] is the same list without
/// it. `Default` gives the value a typed function returns after a caught
/// panic.
///
/// ```
/// use polyplug_guest::AbiType;
///
/// assert_eq!(<u32 as AbiType>::C_NAME, "u32");
/// assert_eq!(<() as AbiType>::C_NAME, "void");
/// ```
pub trait AbiType: Copy + Default + sealed::Sealed + AbiValue + 'static {
    /// The type's name in a signature string.
    ///
    /// ```
    /// use polyplug_guest::AbiType;
    ///
    /// assert_eq!(<i64 as AbiType>::C_NAME, "i64");
    /// ```
    const C_NAME: &'static str;
}

/// An [`AbiType`] that may appear as an argument: every one but `()`.
///
/// ```
/// use polyplug_guest::AbiArg;
///
/// fn spell<T: AbiArg>() -> &'static str {
///     T::C_NAME
/// }
/// assert_eq!(spell::<f64>(), "f64");
/// ```
pub trait AbiArg: AbiType {}

macro_rules! abi_types {
    ($($ty:ty => $name:literal),* $(,)?) => {
        $(
            impl sealed::Sealed for $ty {}
            impl AbiType for $ty {
                const C_NAME: &'static str = $name;
            }
            impl AbiArg for $ty {}
        )*
    };
}

abi_types!(
    u8 => "u8", u16 => "u16", u32 => "u32", u64 => "u64",
    i8 => "i8", i16 => "i16", i32 => "i32", i64 => "i64",
    usize => "usize", isize => "isize", f32 => "f32", f64 => "f64",
);

impl sealed::Sealed for () {}
impl AbiType for () {
    const C_NAME: &'static str = "void";
}

/// An `extern "C" fn` pointer type that a typed entry may hold: up to six
/// [`AbiArg`] arguments and an [`AbiType`] result.
///
/// The trait is sealed; its implementations are the only types that the SDK
/// ever casts a [`VoidFn`] to or from (\[G7\] in SAFETY.md).
///
/// ```
/// use polyplug_guest::TypedFnPtr;
///
/// type Add = extern "C" fn(u32, u32) -> u32;
/// assert!(Add::matches("u32(u32,u32)"));
/// assert!(!Add::matches("u32(u32)"));
/// assert_eq!(Add::signature(), "u32(u32,u32)");
/// ```
pub trait TypedFnPtr: Copy + sealed::Sealed + 'static {
    /// The return type's spelling.
    ///
    /// ```
    /// use polyplug_guest::TypedFnPtr;
    ///
    /// assert_eq!(<extern "C" fn(u32) -> u64>::RET, "u64");
    /// assert_eq!(<extern "C" fn(u32)>::RET, "void");
    /// ```
    const RET: &'static str;
    /// The argument types' spellings, in order.
    ///
    /// ```
    /// use polyplug_guest::TypedFnPtr;
    ///
    /// assert_eq!(<extern "C" fn(u8, f64) -> u32>::ARGS, ["u8", "f64"]);
    /// assert!(<extern "C" fn() -> u32>::ARGS.is_empty());
    /// ```
    const ARGS: &'static [&'static str];

    /// Whether `signature` spells exactly this type.
    ///
    /// ```
    /// use polyplug_guest::TypedFnPtr;
    ///
    /// type Inc = extern "C" fn(u32) -> u32;
    /// assert!(Inc::matches("u32(u32)"));
    /// assert!(!Inc::matches("u64(u64)"));
    /// assert!(!Inc::matches("u32( u32 )")); // exact: registered spellings have no spaces
    /// ```
    fn matches(signature: &str) -> bool {
        signature_matches(signature, Self::RET, Self::ARGS)
    }

    /// This type's signature string, for messages.
    ///
    /// ```
    /// use polyplug_guest::TypedFnPtr;
    ///
    /// assert_eq!(<extern "C" fn()>::signature(), "void()");
    /// assert_eq!(<extern "C" fn(i32, i32) -> i32>::signature(), "i32(i32,i32)");
    /// ```
    fn signature() -> String {
        let mut out = String::with_capacity(signature_len(Self::RET, Self::ARGS));
        out.push_str(Self::RET);
        out.push('(');
        for (i, arg) in Self::ARGS.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(arg);
        }
        out.push(')');
        out
    }
}

/// The packed form of a typed function (`TypedEntry::packed`): one
/// thunk per C signature, which reads the function from the entry that
/// `ctx` points to. Implemented for the `extern "C" fn` types a typed
/// entry may hold, views and owned results included.
#[doc(hidden)]
pub trait Packed: Copy + sealed::Sealed + 'static {
    /// Calls the function of the `TypedEntry` at `ctx` with the packed
    /// `args` and writes its result to `out`.
    ///
    /// # Safety
    ///
    /// \[G9\] `ctx` points to a `TypedEntry` whose `func` has type
    /// `Self`; `args` holds the packed arguments, `out` one writable
    /// result.
    unsafe extern "C" fn packed(
        ctx: *mut c_void,
        instance: *mut c_void,
        args: *const c_void,
        out: *mut c_void,
        err: *mut AbiError,
    ) -> u32;
}

/// A value a typed entry's C function may take or return: a number,
/// `()`, a view or an owned buffer.
#[doc(hidden)]
pub trait AbiValue: Copy + sealed::Sealed + 'static {}

macro_rules! abi_values {
    ($($ty:ty),* $(,)?) => {$(impl AbiValue for $ty {})*};
}

impl sealed::Sealed for StrView {}
impl sealed::Sealed for BytesView {}
impl sealed::Sealed for OwnedBuf {}

abi_values!(
    (),
    u8,
    u16,
    u32,
    u64,
    i8,
    i16,
    i32,
    i64,
    usize,
    isize,
    f32,
    f64,
    StrView,
    BytesView,
    OwnedBuf,
);

/// The packed argument layout of an `extern "C"` typed function type: a
/// `#[repr(C)]` struct of its ABI arguments, as [`Packed::packed`] reads
/// it, read into a Rust tuple.
#[doc(hidden)]
#[cfg(not(target_family = "wasm"))]
pub trait PackedArgs: sealed::Sealed {
    /// The arguments as a tuple.
    type Tuple;
    /// The ABI result.
    type Ret: Copy;
    /// The size of the packed arguments.
    const ARGS_SIZE: usize;
    /// Reads the packed arguments.
    ///
    /// # Safety
    ///
    /// \[G9\]: `args` holds the packed arguments (possibly unaligned);
    /// when they are zero-sized, any pointer.
    unsafe fn read(args: *const c_void) -> Self::Tuple;
}

fn bad_packed_call(err: *mut AbiError) -> u32 {
    if !err.is_null() {
        // SAFETY: [G2] a non-null `err` is writable for one AbiError.
        unsafe {
            err.write_unaligned(AbiError::new(
                ERR_BAD_ARGUMENT,
                "packed call: null ctx, function, args or out",
            ))
        };
    }
    ERR_BAD_ARGUMENT
}

macro_rules! typed_fn_ptrs {
    ($(($packed:ident; $($arg:ident $v:ident),*)),* $(,)?) => {
        $(
            impl<R: AbiValue, $($arg: AbiValue),*> sealed::Sealed for extern "C" fn($($arg),*) -> R {}
            impl<R: AbiType, $($arg: AbiArg),*> TypedFnPtr for extern "C" fn($($arg),*) -> R {
                const RET: &'static str = R::C_NAME;
                const ARGS: &'static [&'static str] = &[$($arg::C_NAME),*];
            }

            /// Packed arguments, laid out as a C struct.
            #[repr(C)]
            #[derive(Clone, Copy)]
            pub(crate) struct $packed<$($arg),*>($(pub(crate) $arg),*);

            #[cfg(not(target_family = "wasm"))]
            impl<R: AbiValue, $($arg: AbiValue),*> PackedArgs for extern "C" fn($($arg),*) -> R {
                type Tuple = ($($arg,)*);
                type Ret = R;
                const ARGS_SIZE: usize = size_of::<$packed<$($arg),*>>();
                unsafe fn read(args: *const c_void) -> Self::Tuple {
                    let $packed($($v),*) = if Self::ARGS_SIZE == 0 {
                        // SAFETY: a zero-sized value is read from any
                        // non-null aligned pointer.
                        unsafe { core::ptr::NonNull::<$packed<$($arg),*>>::dangling().as_ptr().read() }
                    } else {
                        // SAFETY: [G9] the caller passes the packed
                        // arguments, possibly unaligned.
                        unsafe { args.cast::<$packed<$($arg),*>>().read_unaligned() }
                    };
                    let tuple: Self::Tuple = ($($v,)*);
                    tuple
                }
            }

            impl<R: AbiValue, $($arg: AbiValue),*> Packed for extern "C" fn($($arg),*) -> R {
                unsafe extern "C" fn packed(
                    ctx: *mut c_void,
                    _instance: *mut c_void,
                    args: *const c_void,
                    out: *mut c_void,
                    err: *mut AbiError,
                ) -> u32 {
                    let args_size = size_of::<$packed<$($arg),*>>();
                    if ctx.is_null() || out.is_null() || (args_size > 0 && args.is_null()) {
                        return bad_packed_call(err);
                    }
                    // SAFETY: [G9] `ctx` points to a TypedEntry.
                    let entry = unsafe { ctx.cast::<TypedEntry>().read_unaligned() };
                    let Some(func) = entry.func else {
                        return bad_packed_call(err);
                    };
                    // SAFETY: [G9] the entry's function has type `Self`.
                    let func = unsafe { core::mem::transmute::<VoidFn, Self>(func) };
                    let $packed($($v),*) = if args_size == 0 {
                        // SAFETY: a zero-sized value is read from any
                        // non-null aligned pointer.
                        unsafe { core::ptr::NonNull::<$packed<$($arg),*>>::dangling().as_ptr().read() }
                    } else {
                        // SAFETY: [G9] `args` (non-null, checked) holds
                        // the packed arguments.
                        unsafe { args.cast::<$packed<$($arg),*>>().read_unaligned() }
                    };
                    let result = func($($v),*);
                    // SAFETY: [G9] `out` (non-null, checked) is writable
                    // for one `R`.
                    unsafe { out.cast::<R>().write_unaligned(result) };
                    OK
                }
            }
        )*
    };
}

typed_fn_ptrs!(
    (Args0;),
    (Args1; A a),
    (Args2; A a, B b),
    (Args3; A a, B b, C c),
    (Args4; A a, B b, C c, D d),
    (Args5; A a, B b, C c, D d, E e),
    (Args6; A a, B b, C c, D d, E e, F f),
);

/// Erases a typed function pointer to the [`VoidFn`] a
/// [`TypedEntry`](polyplug_abi::TypedEntry) stores. Usable in statics.
///
/// ```
/// extern "C" fn inc(x: u32) -> u32 {
///     x.wrapping_add(1)
/// }
/// let erased = polyplug_guest::erase(inc as extern "C" fn(u32) -> u32);
/// let _ = erased;
/// ```
pub const fn erase<F: TypedFnPtr>(f: F) -> polyplug_abi::VoidFn {
    const {
        assert!(size_of::<F>() == size_of::<VoidFn>());
    }
    // SAFETY: [G7] `F` is a sealed `extern "C" fn` type, pointer-sized like
    // `VoidFn` (asserted above); a fn pointer is never null, so this is valid.
    unsafe { core::mem::transmute_copy::<F, VoidFn>(&f) }
}

/// Erases the `extern "C"` function of a typed entry, views and owned
/// results included, to the [`VoidFn`] a `TypedEntry` stores; the entry's
/// signature string spells `F`'s ABI types (\[G7\], \[G11\]).
#[doc(hidden)]
#[cfg(not(target_family = "wasm"))]
pub const fn erase_packed<F: Packed>(f: F) -> VoidFn {
    const {
        assert!(size_of::<F>() == size_of::<VoidFn>());
    }
    // SAFETY: [G7] `F` is one of the sealed `extern "C" fn` types `Packed`
    // is implemented for, pointer-sized like `VoidFn` (asserted above) and
    // never null.
    unsafe { core::mem::transmute_copy::<F, VoidFn>(&f) }
}

/// Turns an erased pointer back into `F`.
///
/// # Safety
///
/// \[G7\]: `f` must have been erased from a function of type `F`, which the
/// caller shows by a signature string that [`TypedFnPtr::matches`] accepted.
#[cfg(not(target_family = "wasm"))]
pub(crate) unsafe fn restore<F: TypedFnPtr>(f: VoidFn) -> F {
    const {
        assert!(size_of::<F>() == size_of::<VoidFn>());
    }
    // SAFETY: [G7] the caller guarantees `f` really has type `F`; both are
    // non-null, pointer-sized fn pointers.
    unsafe { core::mem::transmute_copy::<VoidFn, F>(&f) }
}

/// Whether `signature` is `ret(args[0],args[1],...)`, byte for byte.
pub(crate) fn signature_matches(signature: &str, ret: &str, args: &[&str]) -> bool {
    let Some(rest) = signature.strip_prefix(ret) else {
        return false;
    };
    let Some(mut rest) = rest.strip_prefix('(') else {
        return false;
    };
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            match rest.strip_prefix(',') {
                Some(r) => rest = r,
                None => return false,
            }
        }
        match rest.strip_prefix(arg) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest == ")"
}

/// The spelling of an argument type; refuses `()` at compile time.
#[doc(hidden)]
pub const fn arg_name<T: AbiArg>() -> &'static str {
    T::C_NAME
}

/// Length of `ret(args...)` in bytes.
#[doc(hidden)]
pub const fn signature_len(ret: &str, args: &[&str]) -> usize {
    let mut len = ret.len() + 2;
    let mut i = 0;
    while i < args.len() {
        if i > 0 {
            len += 1;
        }
        len += args[i].len();
        i += 1;
    }
    len
}

const fn push(out: &mut [u8], mut at: usize, bytes: &[u8]) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        out[at] = bytes[i];
        at += 1;
        i += 1;
    }
    at
}

/// `ret(args...)` as bytes in an array of exactly `N` bytes, where `N` is
/// [`signature_len`]; evaluated at compile time by
/// [`signature!`](crate::signature).
#[doc(hidden)]
pub const fn signature_bytes<const N: usize>(ret: &str, args: &[&str]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = push(&mut out, 0, ret.as_bytes());
    at = push(&mut out, at, b"(");
    let mut i = 0;
    while i < args.len() {
        if i > 0 {
            at = push(&mut out, at, b",");
        }
        at = push(&mut out, at, args[i].as_bytes());
        i += 1;
    }
    at = push(&mut out, at, b")");
    assert!(at == N, "signature_bytes: N is not signature_len");
    out
}

/// The bytes from [`signature_bytes`] as text. They are ASCII pieces of
/// `&str`s, so the check cannot fail; in a constant it would be a compile
/// error.
#[doc(hidden)]
#[expect(
    clippy::panic,
    reason = "evaluated in a constant: a panic is a compile error"
)]
pub const fn signature_str(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => panic!("signature bytes are not UTF-8"),
    }
}

/// The signature string of a function type, as a `&'static str` built at
/// compile time: `fn(u32, u32) -> u32` gives `"u32(u32,u32)"`, `fn()` gives
/// `"void()"`.
///
/// ```
/// use polyplug_guest::signature;
///
/// const ADD: &str = signature!(fn(u32, u32) -> u32);
/// assert_eq!(ADD, "u32(u32,u32)");
/// assert_eq!(signature!(fn()), "void()");
/// assert_eq!(signature!(fn(f64, i8) -> u64), "u64(f64,i8)");
/// ```
#[macro_export]
macro_rules! signature {
    (fn($($arg:ty),* $(,)?) $(-> $ret:ty)?) => {{
        const __POLYPLUG_RET: &str = <$crate::__ret!($($ret)?) as $crate::AbiType>::C_NAME;
        const __POLYPLUG_ARGS: &[&str] = &[$($crate::__private::arg_name::<$arg>()),*];
        const __POLYPLUG_LEN: usize =
            $crate::__private::signature_len(__POLYPLUG_RET, __POLYPLUG_ARGS);
        const __POLYPLUG_BYTES: [u8; __POLYPLUG_LEN] =
            $crate::__private::signature_bytes::<__POLYPLUG_LEN>(__POLYPLUG_RET, __POLYPLUG_ARGS);
        const __POLYPLUG_SIGNATURE: &str = $crate::__private::signature_str(&__POLYPLUG_BYTES);
        __POLYPLUG_SIGNATURE
    }};
}

/// A return type, `()` when none is written.
#[doc(hidden)]
#[macro_export]
macro_rules! __ret {
    () => {
        ()
    };
    ($ret:ty) => {
        $ret
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_strings() {
        assert_eq!(signature!(fn(u32, u32) -> u32), "u32(u32,u32)");
        assert_eq!(signature!(fn() -> u32), "u32()");
        assert_eq!(signature!(fn()), "void()");
        assert_eq!(signature!(fn(u8) -> ()), "void(u8)");
        assert_eq!(
            signature!(fn(u8, u16, u32, u64, i8, i16) -> f32),
            "f32(u8,u16,u32,u64,i8,i16)"
        );
        assert_eq!(signature!(fn(usize, isize) -> f64), "f64(usize,isize)");
    }

    #[test]
    fn runtime_spelling_agrees_with_compile_time() {
        type Add = extern "C" fn(u32, u32) -> u32;
        type Unit = extern "C" fn();
        assert_eq!(Add::signature(), signature!(fn(u32, u32) -> u32));
        assert_eq!(Unit::signature(), signature!(fn()));
        assert!(Add::matches("u32(u32,u32)"));
        assert!(Unit::matches("void()"));
    }

    #[test]
    fn matching_is_exact() {
        type Add = extern "C" fn(u32, u32) -> u32;
        for wrong in [
            "",
            "u32",
            "u32(",
            "u32(u32)",
            "u32(u32,u32,u32)",
            "u32(u32, u32)",
            "u32(u32,u32) ",
            "u64(u32,u32)",
            "u32(u32,u3)",
            "u32(u32u32)",
            "u32 (u32,u32)",
        ] {
            assert!(!Add::matches(wrong), "{wrong:?} must not match");
        }
    }

    #[test]
    fn erase_and_restore_round_trip() {
        extern "C" fn inc(x: u32) -> u32 {
            x.wrapping_add(1)
        }
        type Inc = extern "C" fn(u32) -> u32;
        let erased = erase(inc as Inc);
        // SAFETY: [G7] erased from an `Inc` two lines above.
        let back = unsafe { restore::<Inc>(erased) };
        assert_eq!(back(41), 42);
    }
}
