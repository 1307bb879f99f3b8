//! Typed function signatures: the Rust side of [`TypedEntry::signature`].
//!
//! A plugin publishes a typed function as an untyped pointer plus a C
//! signature string such as `u32(u32,u32)`. The host asks for a Rust type
//! such as `extern "C" fn(u32, u32) -> u32`; [`Signature::matches`] compares
//! the two spellings, and only a match turns the pointer back into that type
//! (\[R6\] in `SAFETY.md`).
//!
//! [`TypedEntry::signature`]: polyplug_abi::TypedEntry::signature

use std::ffi::c_void;
use std::marker::PhantomData;
use std::ptr::NonNull;

use polyplug_abi::{AbiError, BytesView, OK, OwnedBuf, StrView, TypedEntry, VoidFn};

use crate::error::CallError;
use crate::interface::{Callee, Table};

mod sealed {
    pub trait Sealed {}
}

/// A plain value that crosses the boundary by value, with its name in the
/// signature spelling.
///
/// ```
/// use polyplug::AbiType;
///
/// assert_eq!(<u32 as AbiType>::C_NAME, "u32");
/// assert_eq!(<() as AbiType>::C_NAME, "void"); // return types only
/// ```
pub trait AbiType: Copy + sealed::Sealed {
    /// The type's name in a signature string: `u32`, `f64`, `void`.
    ///
    /// ```
    /// use polyplug::AbiType;
    ///
    /// assert_eq!(<f64 as AbiType>::C_NAME, "f64");
    /// ```
    const C_NAME: &'static str;

    /// The value whose bits are all zero: what [`Typed::call`] returns
    /// when an engine-run function fails.
    #[doc(hidden)]
    const ZERO: Self;
}

/// An argument type of a typed signature, as the host names it: a number
/// ([`AbiType`]), or [`Str`] or [`Bytes`] for the borrowed views `str` and
/// `bytes`. [`Arg`](Param::Arg) is what a call takes (`u32`, `&str`,
/// `&[u8]`), [`Abi`](Param::Abi) what crosses (`u32`,
/// [`StrView`], [`BytesView`]).
///
/// ```
/// use polyplug::{Param, Str};
///
/// assert_eq!(<Str as Param>::C_NAME, "str");
/// assert_eq!(<u64 as Param>::C_NAME, "u64");
/// ```
pub trait Param: sealed::Sealed + 'static {
    /// The type's name in a signature string.
    ///
    /// ```
    /// assert_eq!(<polyplug::Bytes as polyplug::Param>::C_NAME, "bytes");
    /// ```
    const C_NAME: &'static str;
    /// What a caller passes.
    type Arg<'a>;
    /// What crosses the boundary.
    #[doc(hidden)]
    type Abi: Copy;
    /// The value that crosses, borrowing `arg` for the call.
    #[doc(hidden)]
    fn to_abi(arg: Self::Arg<'_>) -> Self::Abi;
}

/// A result type of a typed signature, as the host names it: a number or
/// `()` ([`AbiType`]), or `String` and `Vec<u8>` for the owned results
/// `string` and `buf`, which cross as an [`OwnedBuf`] whose memory the
/// host takes over.
///
/// ```
/// use polyplug::Ret;
///
/// assert_eq!(<String as Ret>::C_NAME, "string");
/// assert_eq!(<Vec<u8> as Ret>::C_NAME, "buf");
/// assert_eq!(<() as Ret>::C_NAME, "void");
/// ```
pub trait Ret: sealed::Sealed + 'static {
    /// The type's name in a signature string.
    ///
    /// ```
    /// assert_eq!(<u32 as polyplug::Ret>::C_NAME, "u32");
    /// ```
    const C_NAME: &'static str;
    /// What crosses the boundary.
    #[doc(hidden)]
    type Abi: Copy;
    /// What a call returns.
    type Out;
    /// The crossing value with all bits zero: what `out` holds before an
    /// engine-run function writes it.
    #[doc(hidden)]
    const ZERO_ABI: Self::Abi;
    /// The result, taking ownership of what `abi` owns.
    ///
    /// # Safety
    ///
    /// \[R12\] `abi` was returned by a function of this result type: an
    /// [`OwnedBuf`] from the host allocator, handed over once.
    #[doc(hidden)]
    unsafe fn from_abi(abi: Self::Abi) -> Result<Self::Out, String>;
    /// The result [`Typed::call`] gives for a failed call.
    #[doc(hidden)]
    fn zero() -> Self::Out;
}

/// The argument marker of a `str` parameter: a call takes a `&str`, which
/// crosses as a [`StrView`] borrowed for the call.
///
/// ```
/// # use polyplug::{HostContract, Runtime, Version};
/// # fn text(runtime: &Runtime) -> Result<(), Box<dyn std::error::Error>> {
/// use polyplug::Str;
///
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let upper = guard
///     .find("demo.text", Version::new(1, 0, 0))?
///     .typed::<extern "C" fn(Str) -> String>("upper")?; // `string(str)`
/// assert_eq!(upper.try_call("abc")?, "ABC");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Str;

/// The argument marker of a `bytes` parameter: a call takes a `&[u8]`,
/// which crosses as a [`BytesView`] borrowed for the call.
///
/// ```
/// use polyplug::{Bytes, Signature};
///
/// assert_eq!(<extern "C" fn(Bytes) -> u64>::spelling(), "u64(bytes)");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Bytes;

macro_rules! abi_types {
    ($($t:ty => $name:literal, $zero:expr);* $(;)?) => {$(
        impl sealed::Sealed for $t {}
        impl AbiType for $t {
            const C_NAME: &'static str = $name;
            const ZERO: Self = $zero;
        }
        impl Ret for $t {
            const C_NAME: &'static str = $name;
            type Abi = $t;
            type Out = $t;
            const ZERO_ABI: $t = $zero;
            #[inline(always)]
            unsafe fn from_abi(abi: $t) -> Result<$t, String> {
                Ok(abi)
            }
            fn zero() -> $t {
                $zero
            }
        }
    )*};
}

macro_rules! params {
    ($($t:ty),* $(,)?) => {$(
        impl Param for $t {
            const C_NAME: &'static str = <$t as AbiType>::C_NAME;
            type Arg<'a> = $t;
            type Abi = $t;
            #[inline(always)]
            fn to_abi(arg: $t) -> $t {
                arg
            }
        }
    )*};
}

abi_types! {
    () => "void", (); u8 => "u8", 0; u16 => "u16", 0; u32 => "u32", 0; u64 => "u64", 0;
    i8 => "i8", 0; i16 => "i16", 0; i32 => "i32", 0; i64 => "i64", 0;
    usize => "usize", 0; isize => "isize", 0; f32 => "f32", 0.0; f64 => "f64", 0.0;
}

params!(u8, u16, u32, u64, i8, i16, i32, i64, usize, isize, f32, f64);

impl sealed::Sealed for Str {}
impl Param for Str {
    const C_NAME: &'static str = "str";
    type Arg<'a> = &'a str;
    type Abi = StrView;
    #[inline]
    fn to_abi(arg: &str) -> StrView {
        StrView {
            ptr: arg.as_ptr(),
            len: arg.len(),
        }
    }
}

impl sealed::Sealed for Bytes {}
impl Param for Bytes {
    const C_NAME: &'static str = "bytes";
    type Arg<'a> = &'a [u8];
    type Abi = BytesView;
    #[inline]
    fn to_abi(arg: &[u8]) -> BytesView {
        BytesView::of(arg)
    }
}

impl sealed::Sealed for String {}
impl Ret for String {
    const C_NAME: &'static str = "string";
    type Abi = OwnedBuf;
    type Out = String;
    const ZERO_ABI: OwnedBuf = OwnedBuf::EMPTY;
    unsafe fn from_abi(abi: OwnedBuf) -> Result<String, String> {
        // SAFETY: [R12] forwarded to the caller.
        let bytes = unsafe { take_owned(abi) };
        String::from_utf8(bytes).map_err(|_| "returned a string that is not UTF-8".to_owned())
    }
    fn zero() -> String {
        String::new()
    }
}

impl sealed::Sealed for Vec<u8> {}
impl Ret for Vec<u8> {
    const C_NAME: &'static str = "buf";
    type Abi = OwnedBuf;
    type Out = Vec<u8>;
    const ZERO_ABI: OwnedBuf = OwnedBuf::EMPTY;
    unsafe fn from_abi(abi: OwnedBuf) -> Result<Vec<u8>, String> {
        // SAFETY: [R12] forwarded to the caller.
        Ok(unsafe { take_owned(abi) })
    }
    fn zero() -> Vec<u8> {
        Vec::new()
    }
}

/// Takes over an [`OwnedBuf`] as a `Vec<u8>`, without a copy.
///
/// # Safety
///
/// \[R12\] a non-null `buf.ptr` was allocated by the host allocator with
/// size `buf.len` and alignment 1 (\[R9\]: the global allocator with that
/// layout, which is the layout of a `Vec<u8>` of capacity `len`), and is
/// handed over once.
pub(crate) unsafe fn take_owned(buf: OwnedBuf) -> Vec<u8> {
    if buf.ptr.is_null() || buf.len == 0 {
        return Vec::new();
    }
    // SAFETY: [R12][R9] as the caller promises: global allocator, layout
    // (len, 1) = `Layout::array::<u8>(len)`, length = capacity = len.
    unsafe { Vec::from_raw_parts(buf.ptr, buf.len, buf.len) }
}

/// Hands `bytes` over as an [`OwnedBuf`] in the host allocator's memory
/// (\[R9\], \[R12\]): its receiver frees it with the host's `free(ptr,
/// len, 1)` or takes it back with [`take_owned`].
pub(crate) fn give_owned(bytes: Vec<u8>) -> OwnedBuf {
    if bytes.is_empty() {
        return OwnedBuf::EMPTY;
    }
    // A boxed slice is allocated with exactly `(len, 1)`.
    let boxed: Box<[u8]> = bytes.into_boxed_slice();
    let len = boxed.len();
    OwnedBuf {
        ptr: Box::into_raw(boxed).cast::<u8>(),
        len,
    }
}

/// A function pointer type that a typed entry can be resolved as: an
/// `extern "C" fn` of up to six [`Param`] arguments returning a [`Ret`].
/// With numbers only it is the very type of the function, called as it
/// is; with [`Str`], [`Bytes`], `String` or `Vec<u8>` it names a signature
/// whose views and owned results the call converts (`extern "C" fn(Str) ->
/// String` is the C function `PpOwnedBuf (*)(PpStrView)`, spelled
/// `string(str)`).
///
/// ```
/// use polyplug::{Bytes, Signature, Str};
///
/// type Add = extern "C" fn(u32, u32) -> u32;
/// assert!(Add::matches("u32(u32,u32)"));
/// assert!(!Add::matches("u64(u64,u64)")); // so `typed::<Add>` refuses it
/// assert_eq!(Add::spelling(), "u32(u32,u32)");
/// assert_eq!(<extern "C" fn(Str, Bytes) -> Vec<u8>>::spelling(), "buf(str,bytes)");
/// ```
pub trait Signature: Copy + sealed::Sealed {
    /// Whether `spelling` (whitespace already removed) names this type.
    ///
    /// ```
    /// use polyplug::Signature;
    ///
    /// assert!(<extern "C" fn()>::matches("void()"));
    /// assert!(!<extern "C" fn(u32) -> u32>::matches("u32(u32,u32)"));
    /// ```
    fn matches(spelling: &str) -> bool;

    /// This type's spelling, for error messages and host contracts.
    ///
    /// ```
    /// use polyplug::Signature;
    ///
    /// assert_eq!(<extern "C" fn(i64, f32) -> u8>::spelling(), "u8(i64,f32)");
    /// ```
    fn spelling() -> String;
}

/// A [`Signature`] of numbers only: the type of a real function, which a
/// host contract can publish ([`HostContract::typed`](crate::HostContract::typed)).
///
/// ```
/// use polyplug::RawSignature;
///
/// extern "C" fn inc(x: u32) -> u32 { x + 1 }
/// let erased: polyplug_abi::VoidFn = (inc as extern "C" fn(u32) -> u32).to_void();
/// # let _ = erased;
/// ```
pub trait RawSignature: Signature {
    /// This function as an untyped pointer, for host contracts.
    ///
    /// ```
    /// use polyplug::RawSignature;
    ///
    /// extern "C" fn zero() -> u64 { 0 }
    /// let _erased = (zero as extern "C" fn() -> u64).to_void();
    /// ```
    fn to_void(self) -> VoidFn;

    /// The packed form of every function of this type (`TypedEntry::packed`):
    /// reads the function from the [`TypedEntry`] `ctx` points to, the
    /// arguments from `args`, and writes the result to `out`.
    ///
    /// # Safety
    ///
    /// \[R13\] `ctx` points to a `TypedEntry` whose `func` has this type;
    /// `args` to the packed arguments and `out` to one writable result.
    #[doc(hidden)]
    unsafe extern "C" fn packed(
        ctx: *mut c_void,
        instance: *mut c_void,
        args: *const c_void,
        out: *mut c_void,
        err: *mut AbiError,
    ) -> u32;
}

/// A typed function resolved from a contract, callable while the guard it
/// borrows lives.
///
/// The function pointer never leaves this value: it can be called, not
/// copied out, so no call can outlive the guard that keeps its library
/// loaded (\[R3\]).
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// # use polyplug::{HostContract, Runtime, Version};
/// # extern "C" fn inc(x: u32) -> u32 { x + 1 }
/// # let runtime = Runtime::new()?;
/// # runtime.register_host_contract(
/// #     HostContract::new("demo.inc", Version::new(1, 0, 0))
/// #         .typed("inc", inc as extern "C" fn(u32) -> u32),
/// # )?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let inc = guard
///     .find("demo.inc", Version::new(1, 0, 0))?
///     .typed::<extern "C" fn(u32) -> u32>("inc")?;
/// assert_eq!(inc.call(41), 42); // a plain indirect call
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// It cannot escape its guard:
///
/// ```compile_fail,E0597
/// # use polyplug::{Runtime, Version};
/// # let runtime = Runtime::new().unwrap();
/// let reader = runtime.reader();
/// let escaped = {
///     let guard = reader.pin();
///     let add = guard.find("test.add", Version::new(1, 0, 0)).unwrap();
///     add.typed::<extern "C" fn(u32) -> u32>("inc").unwrap()
/// }; // error[E0597]: `guard` does not live long enough
/// escaped.call(1);
/// ```
pub struct Typed<'g, F> {
    call: Call<'g>,
    signature: PhantomData<F>,
}

impl<F> Clone for Typed<'_, F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<F> Copy for Typed<'_, F> {}

/// What a [`Typed`] calls: a plain function pointer of the registered
/// signature (every native typed function), or a context entry of the
/// guard's table (an engine-run function, \[R11\]), with no lifetime: a
/// [`Binding`](crate::Binding) caches one for the entry it checked
/// (\[R10\]), and a [`Typed<'g, F>`] holds one that `'g` keeps callable.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    Raw(VoidFn),
    /// The table's address and the entry's index in its typed functions.
    Context(NonNull<Table>, usize),
}

// SAFETY: a `Target` is a function pointer or the address of a `Table`,
// which is `Send` and `Sync` (asserted below): moving or sharing the
// address moves or shares nothing else, and it is dereferenced only where
// a guard or an instance keeps the table alive ([R10], [R11]).
unsafe impl Send for Target {}
// SAFETY: as for `Send`.
unsafe impl Sync for Target {}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Table>();
};

/// A [`Target`] kept callable for `'g`: its table, if any, lives for `'g`.
#[derive(Clone, Copy)]
struct Call<'g> {
    target: Target,
    table: PhantomData<&'g Table>,
}

impl<'g, F: Signature> Typed<'g, F> {
    /// # Safety
    ///
    /// `func` was registered with a signature that spells `F` (\[R6\]) and
    /// stays callable for `'g`: its library is kept loaded by the guard
    /// `'g` borrows (\[R1\], \[R3\]).
    pub(crate) unsafe fn new(func: VoidFn) -> Self {
        // SAFETY: as this function's own contract says.
        unsafe { Self::target(Target::Raw(func)) }
    }

    /// The context entry `index` of `table`.
    ///
    /// # Safety
    ///
    /// \[R6\] `table.typed[index]` is a context entry whose signature
    /// spells `F`; the table lives for `'g` (\[R1\], \[R3\]).
    pub(crate) unsafe fn context(table: &'g Table, index: usize) -> Self {
        // SAFETY: as this function's own contract says; the table is
        // borrowed for 'g.
        unsafe { Self::target(Target::Context(NonNull::from(table), index)) }
    }

    /// `target` as a typed function: no check, one copy.
    ///
    /// # Safety
    ///
    /// As for [`Typed::new`] (a `Target::Raw`) or [`Typed::context`] (a
    /// `Target::Context`, whose table lives for `'g`).
    #[inline(always)]
    pub(crate) unsafe fn target(target: Target) -> Self {
        Typed {
            call: Call {
                target,
                table: PhantomData,
            },
            signature: PhantomData,
        }
    }
}

/// Calls context entry `index` of `table` with the packed `args`.
///
/// # Safety
///
/// `table` is alive for the call (a guard or an instance keeps it,
/// \[R1\], \[R3\]). \[R6\] `args` points to the arguments of the entry's
/// signature laid out as a C struct, and `R` is its return type; `instance`
/// is null or an instance of the table's contract, used by this thread
/// alone.
#[cold]
#[inline(never)]
pub(crate) unsafe fn context_call<R: Ret>(
    table: NonNull<Table>,
    index: usize,
    instance: *mut c_void,
    args: *const c_void,
) -> Result<R::Out, CallError> {
    // SAFETY: [R11][R1][R3] the caller's guard or instance keeps the table
    // alive for the call.
    let table = unsafe { table.as_ref() };
    let failed = |function: &str, message: String| CallError {
        contract: table.name.to_string(),
        function: function.to_owned(),
        code: polyplug_abi::ERR_INTERNAL,
        message: message.into(),
    };
    let Some(slot) = table.typed.get(index) else {
        return Err(failed(
            &format!("#{index}"),
            "no such typed function".to_owned(),
        ));
    };
    let Callee::Context { ctx, func } = slot.callee else {
        return Err(failed(&slot.name, "not a context entry".to_owned()));
    };
    // Every result type is valid with all bits zero, whatever the
    // function writes before it fails.
    let mut out = R::ZERO_ABI;
    let mut err = AbiError::NONE;
    // Its own context, arguments laid out as its checked signature says,
    // and a writable result of its return type.
    // SAFETY: [R11][P1] a registered context entry, called as just said.
    let code = unsafe { func(ctx.0, instance, args, (&raw mut out).cast(), &mut err) };
    if code != OK {
        return Err(crate::read::call_error(table, &slot.name, code, &err));
    }
    // SAFETY: [R12] the function returned OK, so `out` holds its result.
    unsafe { R::from_abi(out) }.map_err(|problem| CallError {
        contract: table.name.to_string(),
        function: slot.name.to_string(),
        code: polyplug_abi::ERR_INVALID,
        message: problem.into(),
    })
}

/// Converts a raw call's result. A number converts as it is; an owned
/// result that is not valid UTF-8 is an error.
#[inline(always)]
fn raw_result<R: Ret>(table: Option<&Table>, abi: R::Abi) -> Result<R::Out, CallError> {
    // SAFETY: [R12] a raw typed function of result type `R` returned it.
    unsafe { R::from_abi(abi) }.map_err(|problem| CallError {
        contract: table.map(|t| t.name.to_string()).unwrap_or_default(),
        function: String::new(),
        code: polyplug_abi::ERR_INVALID,
        message: problem.into(),
    })
}

/// A typed function called on one [`Instance`](crate::Instance) of a
/// stateful contract, from [`Instance::typed`](crate::Instance::typed). It
/// borrows the instance mutably, so one call runs at a time.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// # use polyplug::{HostContract, Runtime, Version};
/// # let runtime = Runtime::new()?;
/// # runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
/// let reader = runtime.reader();
/// let mut instance = reader.pin().find("reload.test", Version::new(1, 0, 0))?.create_instance()?;
/// let mut version = instance.typed::<extern "C" fn() -> u32>("version")?;
/// assert_eq!(version.call()?, 100); // a native typed function ignores the instance
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct InstanceFn<'i, F> {
    call: Call<'i>,
    instance: *mut c_void,
    borrow: PhantomData<(&'i mut (), F)>,
}

impl<'i, F: Signature> InstanceFn<'i, F> {
    /// # Safety
    ///
    /// As for [`Typed::new`] or [`Typed::context`]; `instance` is the
    /// instance borrowed mutably for `'i`.
    pub(crate) unsafe fn new(typed: Typed<'i, F>, instance: *mut c_void) -> Self {
        InstanceFn {
            call: typed.call,
            instance,
            borrow: PhantomData,
        }
    }
}

impl<F> std::fmt::Debug for InstanceFn<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceFn").finish_non_exhaustive()
    }
}

impl<F> std::fmt::Debug for Typed<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Typed").finish_non_exhaustive()
    }
}

/// Writes `err` with a static message, when it is non-null.
fn write_static_error(err: *mut AbiError, code: u32, message: &'static str) {
    if !err.is_null() {
        // SAFETY: [P4] a non-null `err` is writable for one AbiError.
        unsafe { err.write_unaligned(AbiError::new(code, message)) };
    }
}

macro_rules! signatures {
    ($(($packed:ident; $($a:ident $v:ident),*)),* $(,)?) => {$(
        /// The arguments of a packed call, laid out as a C struct.
        #[repr(C)]
        struct $packed<$($a),*>($($a),*);

        impl<R: Ret, $($a: Param),*> sealed::Sealed for extern "C" fn($($a),*) -> R {}

        impl<R: Ret, $($a: Param),*> Signature for extern "C" fn($($a),*) -> R {
            fn matches(spelling: &str) -> bool {
                let Some(rest) = spelling.strip_prefix(R::C_NAME) else { return false };
                let Some(rest) = rest.strip_prefix('(') else { return false };
                let args: &[&str] = &[$(<$a as Param>::C_NAME),*];
                let mut rest = rest;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        let Some(r) = rest.strip_prefix(',') else { return false };
                        rest = r;
                    }
                    let Some(r) = rest.strip_prefix(arg) else { return false };
                    rest = r;
                }
                rest == ")"
            }

            fn spelling() -> String {
                let args: &[&str] = &[$(<$a as Param>::C_NAME),*];
                format!("{}({})", R::C_NAME, args.join(","))
            }
        }

        impl<R: AbiType + Ret<Abi = R>, $($a: AbiType + Param<Abi = $a>),*> RawSignature
            for extern "C" fn($($a),*) -> R
        {
            fn to_void(self) -> VoidFn {
                // SAFETY: [R6] fn pointers of every signature share size and
                // representation; only a matching spelling turns it back.
                unsafe { std::mem::transmute::<Self, VoidFn>(self) }
            }

            unsafe extern "C" fn packed(
                ctx: *mut c_void,
                _instance: *mut c_void,
                args: *const c_void,
                out: *mut c_void,
                err: *mut AbiError,
            ) -> u32 {
                if ctx.is_null() || (size_of::<$packed<$($a),*>>() > 0 && args.is_null()) || out.is_null() {
                    write_static_error(err, polyplug_abi::ERR_BAD_ARGUMENT, "packed call: null ctx, args or out");
                    return polyplug_abi::ERR_BAD_ARGUMENT;
                }
                // SAFETY: [R13] `ctx` points to a TypedEntry of this type.
                let entry = unsafe { ctx.cast::<TypedEntry>().read_unaligned() };
                let Some(func) = entry.func else {
                    write_static_error(err, polyplug_abi::ERR_BAD_ARGUMENT, "packed call: null function");
                    return polyplug_abi::ERR_BAD_ARGUMENT;
                };
                // SAFETY: [R13][R6] the entry's function has type `Self`.
                let func = unsafe { std::mem::transmute::<VoidFn, Self>(func) };
                let $packed($($v),*) = if size_of::<$packed<$($a),*>>() == 0 {
                    // SAFETY: a zero-sized struct is read from any
                    // non-null, aligned pointer.
                    unsafe { std::ptr::NonNull::<$packed<$($a),*>>::dangling().as_ptr().read() }
                } else {
                    // SAFETY: [R13] `args` (non-null, checked) holds the
                    // packed arguments of this signature.
                    unsafe { args.cast::<$packed<$($a),*>>().read_unaligned() }
                };
                let result = func($($v),*);
                // SAFETY: [R13][P4] `out` (non-null, checked) is writable
                // for one `R`.
                unsafe { out.cast::<R>().write_unaligned(result) };
                OK
            }
        }

        impl<R: Ret, $($a: Param),*> Typed<'_, extern "C" fn($($a),*) -> R> {
            /// Calls the function. For a native function of numbers this
            /// is a plain indirect call, the cost of raw FFI by value;
            /// `&str` and `&[u8]` arguments cross as views borrowed for the
            /// call, and a `String` or `Vec<u8>` result takes over the
            /// memory the function returned.
            ///
            /// ```
            /// # if polyplug::MODEL_BUILD { return Ok(()); }
            /// # use polyplug::{HostContract, Runtime, Version};
            /// # extern "C" fn add(a: u32, b: u32) -> u32 { a + b }
            /// # let runtime = Runtime::new()?;
            /// # runtime.register_host_contract(
            /// #     HostContract::new("demo.add", Version::new(1, 0, 0))
            /// #         .typed("add", add as extern "C" fn(u32, u32) -> u32),
            /// # )?;
            /// let reader = runtime.reader();
            /// let guard = reader.pin();
            /// let contract = guard.find("demo.add", Version::new(1, 0, 0))?;
            /// let add = contract.typed::<extern "C" fn(u32, u32) -> u32>("add")?;
            /// assert_eq!(add.call(2, 3), 5);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            ///
            /// A function run by an engine (a WebAssembly module, a script)
            /// can fail: a trap, an exhausted budget. `call` then returns
            /// the zero value of `R` (an empty string or buffer);
            /// [`try_call`](Self::try_call) returns the error.
            #[inline]
            pub fn call(&self, $($v: <$a as Param>::Arg<'_>),*) -> R::Out {
                match self.call.target {
                    Target::Raw(f) => {
                        // SAFETY: [R6] registered with a signature that
                        // spells `F`, whose C type this is.
                        let f = unsafe {
                            std::mem::transmute::<VoidFn, extern "C" fn($(<$a as Param>::Abi),*) -> R::Abi>(f)
                        };
                        raw_result::<R>(None, f($(<$a as Param>::to_abi($v)),*)).unwrap_or_else(|_| R::zero())
                    }
                    Target::Context(table, index) => {
                        let args = $packed($(<$a as Param>::to_abi($v)),*);
                        // The target was made for a signature that spells
                        // `F`, whose arguments `args` lays out; its table
                        // lives for 'g; stateless: no instance.
                        // SAFETY: [R6][R11] as just said.
                        let result = unsafe {
                            context_call::<R>(table, index, std::ptr::null_mut(), (&raw const args).cast())
                        };
                        result.unwrap_or_else(|_| R::zero())
                    }
                }
            }

            /// Calls the function and returns its error, if it fails. A
            /// native typed function of numbers never fails; an engine-run
            /// one fails with a [`CallError`] naming the contract,
            /// function and reason (`ERR_TRAP`, `ERR_BUDGET`, ...), and a
            /// `string` result that is not UTF-8 is `ERR_INVALID`.
            ///
            /// ```
            /// # if polyplug::MODEL_BUILD { return Ok(()); }
            /// # use polyplug::{HostContract, Runtime, Version};
            /// # extern "C" fn add(a: u32, b: u32) -> u32 { a + b }
            /// # let runtime = Runtime::new()?;
            /// # runtime.register_host_contract(
            /// #     HostContract::new("demo.add", Version::new(1, 0, 0))
            /// #         .typed("add", add as extern "C" fn(u32, u32) -> u32),
            /// # )?;
            /// let reader = runtime.reader();
            /// let guard = reader.pin();
            /// let add = guard.find("demo.add", Version::new(1, 0, 0))?.typed::<extern "C" fn(u32, u32) -> u32>("add")?;
            /// assert_eq!(add.try_call(2, 3)?, 5);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            #[inline]
            pub fn try_call(&self, $($v: <$a as Param>::Arg<'_>),*) -> Result<R::Out, CallError> {
                match self.call.target {
                    Target::Raw(f) => {
                        // SAFETY: as in `call`.
                        let f = unsafe {
                            std::mem::transmute::<VoidFn, extern "C" fn($(<$a as Param>::Abi),*) -> R::Abi>(f)
                        };
                        raw_result::<R>(None, f($(<$a as Param>::to_abi($v)),*))
                    }
                    Target::Context(table, index) => {
                        let args = $packed($(<$a as Param>::to_abi($v)),*);
                        // SAFETY: as in `call`.
                        unsafe {
                            context_call::<R>(table, index, std::ptr::null_mut(), (&raw const args).cast())
                        }
                    }
                }
            }
        }

        impl<R: Ret, $($a: Param),*> InstanceFn<'_, extern "C" fn($($a),*) -> R> {
            /// Calls the function on the instance. A native typed function
            /// takes no instance and is called as it is.
            ///
            /// ```
            /// # if polyplug::MODEL_BUILD { return Ok(()); }
            /// # use polyplug::{Runtime, Version};
            /// # let runtime = Runtime::new()?;
            /// # runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
            /// let reader = runtime.reader();
            /// let mut instance = reader.pin().find("reload.test", Version::new(1, 0, 0))?.create_instance()?;
            /// assert_eq!(instance.typed::<extern "C" fn() -> u32>("version")?.call()?, 100);
            /// # Ok::<(), Box<dyn std::error::Error>>(())
            /// ```
            pub fn call(&mut self, $($v: <$a as Param>::Arg<'_>),*) -> Result<R::Out, CallError> {
                match self.call.target {
                    Target::Raw(f) => {
                        // SAFETY: as in `Typed::call`.
                        let f = unsafe {
                            std::mem::transmute::<VoidFn, extern "C" fn($(<$a as Param>::Abi),*) -> R::Abi>(f)
                        };
                        raw_result::<R>(None, f($(<$a as Param>::to_abi($v)),*))
                    }
                    Target::Context(table, index) => {
                        let args = $packed($(<$a as Param>::to_abi($v)),*);
                        // SAFETY: as in `Typed::call`; `instance` is
                        // borrowed mutably for this value's lifetime.
                        unsafe { context_call::<R>(table, index, self.instance, (&raw const args).cast()) }
                    }
                }
            }
        }
    )*};
}

signatures! {
    (Args0;),
    (Args1; A a),
    (Args2; A a, B b),
    (Args3; A a, B b, C c),
    (Args4; A a, B b, C c, D d),
    (Args5; A a, B b, C c, D d, E e),
    (Args6; A a, B b, C c, D d, E e, G g),
}

pub(crate) use polyplug_contract::signature::normalize;

#[cfg(test)]
mod tests {
    use super::*;

    type Add = extern "C" fn(u32, u32) -> u32;
    type Unit = extern "C" fn();

    #[test]
    fn spellings_match_only_their_type() {
        assert!(Add::matches("u32(u32,u32)"));
        assert!(!Add::matches("u32(u32)"));
        assert!(!Add::matches("u32(u32,u32,u32)"));
        assert!(!Add::matches("u64(u32,u32)"));
        assert!(!Add::matches("u32(u32,u16)"));
        assert!(Unit::matches("void()"));
        assert_eq!(Add::spelling(), "u32(u32,u32)");
        assert_eq!(Unit::spelling(), "void()");
        // Named in a turbofish: a type alias of a marker signature would
        // meet `improper_ctypes_definitions`.
        assert!(<extern "C" fn(Str) -> String>::matches("string(str)"));
        assert!(!<extern "C" fn(Str) -> String>::matches("buf(str)"));
        assert!(!<extern "C" fn(Str) -> String>::matches("string(bytes)"));
        assert!(<extern "C" fn(Bytes, u32) -> Vec<u8>>::matches(
            "buf(bytes,u32)"
        ));
    }

    #[test]
    fn owned_buffers_round_trip_through_the_host_allocator() {
        let given = give_owned(b"hello".to_vec());
        assert_eq!(given.len, 5);
        // SAFETY: [R12] made by give_owned just now, taken once.
        assert_eq!(unsafe { take_owned(given) }, b"hello");
        assert_eq!(give_owned(Vec::new()), OwnedBuf::EMPTY);
        // SAFETY: [R12] the empty buffer owns nothing.
        assert!(unsafe { take_owned(OwnedBuf::EMPTY) }.is_empty());
    }
}
