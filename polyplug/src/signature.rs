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
use std::mem::MaybeUninit;

use polyplug_abi::{AbiError, OK, VoidFn};

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

macro_rules! abi_types {
    ($($t:ty => $name:literal, $zero:expr);* $(;)?) => {$(
        impl sealed::Sealed for $t {}
        impl AbiType for $t {
            const C_NAME: &'static str = $name;
            const ZERO: Self = $zero;
        }
    )*};
}

abi_types! {
    () => "void", (); u8 => "u8", 0; u16 => "u16", 0; u32 => "u32", 0; u64 => "u64", 0;
    i8 => "i8", 0; i16 => "i16", 0; i32 => "i32", 0; i64 => "i64", 0;
    usize => "usize", 0; isize => "isize", 0; f32 => "f32", 0.0; f64 => "f64", 0.0;
}

/// A function pointer type that a typed entry can be resolved as: an
/// `extern "C" fn` of up to six [`AbiType`] arguments returning an
/// [`AbiType`].
///
/// ```
/// use polyplug::Signature;
///
/// type Add = extern "C" fn(u32, u32) -> u32;
/// assert!(Add::matches("u32(u32,u32)"));
/// assert!(!Add::matches("u64(u64,u64)")); // so `typed::<Add>` refuses it
/// assert_eq!(Add::spelling(), "u32(u32,u32)");
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

    /// This function as an untyped pointer, for host contracts.
    ///
    /// ```
    /// use polyplug::Signature;
    ///
    /// extern "C" fn inc(x: u32) -> u32 { x + 1 }
    /// let erased: polyplug_abi::VoidFn = (inc as extern "C" fn(u32) -> u32).to_void();
    /// # let _ = erased;
    /// ```
    fn to_void(self) -> VoidFn;

    /// Turns an untyped pointer back into this type.
    ///
    /// # Safety
    ///
    /// `f` must have been made from a function of exactly this type
    /// (\[R6\]: its registered spelling [`matches`](Signature::matches)).
    #[doc(hidden)]
    unsafe fn from_void(f: VoidFn) -> Self;
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
#[derive(Clone, Copy)]
pub struct Typed<'g, F> {
    call: Call<'g, F>,
}

/// What a [`Typed`] calls: a plain function pointer (every native typed
/// function), or a context entry of the guard's table (an engine-run
/// function, \[R11\]).
#[derive(Clone, Copy)]
enum Call<'g, F> {
    Raw(F),
    Context(&'g Table, usize),
}

impl<'g, F: Signature> Typed<'g, F> {
    /// # Safety
    ///
    /// `func` must stay callable for `'g`: its library is kept loaded by the
    /// guard `'g` borrows (\[R1\], \[R3\]).
    pub(crate) unsafe fn new(func: F) -> Self {
        Typed {
            call: Call::Raw(func),
        }
    }

    /// The context entry `index` of `table`.
    ///
    /// # Safety
    ///
    /// \[R6\] `table.typed[index]` is a context entry whose signature
    /// spells `F`; the table lives for `'g` (\[R1\], \[R3\]).
    pub(crate) unsafe fn context(table: &'g Table, index: usize) -> Self {
        Typed {
            call: Call::Context(table, index),
        }
    }
}

/// Calls context entry `index` of `table` with the packed `args`.
///
/// # Safety
///
/// \[R6\] `args` points to the arguments of the entry's signature laid
/// out as a C struct, and `R` is its return type; `instance` is null or an
/// instance of the table's contract, used by this thread alone.
#[cold]
#[inline(never)]
pub(crate) unsafe fn context_call<R: AbiType>(
    table: &Table,
    index: usize,
    instance: *mut c_void,
    args: *const c_void,
) -> Result<R, CallError> {
    let Some(slot) = table.typed.get(index) else {
        return Err(CallError {
            contract: table.name.to_string(),
            function: format!("#{index}"),
            code: polyplug_abi::ERR_INTERNAL,
            message: "no such typed function".into(),
        });
    };
    let Callee::Context { ctx, func } = slot.callee else {
        return Err(CallError {
            contract: table.name.to_string(),
            function: slot.name.to_string(),
            code: polyplug_abi::ERR_INTERNAL,
            message: "not a context entry".into(),
        });
    };
    // Zeroed: every `AbiType` is valid with any bits, including all zero,
    // so the value is initialised whatever the function writes.
    let mut out = MaybeUninit::<R>::zeroed();
    let mut err = AbiError::NONE;
    // SAFETY: [R11][P1] a registered context entry called with its own
    // context, arguments laid out as its checked signature says, and a
    // writable `R`.
    let code = unsafe { func(ctx.0, instance, args, out.as_mut_ptr().cast(), &mut err) };
    if code == OK {
        // SAFETY: zero-initialised above; any bits are a valid `R`.
        Ok(unsafe { out.assume_init() })
    } else {
        Err(crate::read::call_error(table, &slot.name, code, &err))
    }
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
    call: Call<'i, F>,
    instance: *mut c_void,
    borrow: PhantomData<&'i mut ()>,
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

macro_rules! signatures {
    ($(($packed:ident; $($a:ident $v:ident),*)),* $(,)?) => {$(
        /// The arguments of a context call, laid out as a C struct.
        #[repr(C)]
        struct $packed<$($a),*>($($a),*);

        impl<R: AbiType, $($a: AbiType),*> sealed::Sealed for extern "C" fn($($a),*) -> R {}

        impl<R: AbiType, $($a: AbiType),*> Signature for extern "C" fn($($a),*) -> R {
            fn matches(spelling: &str) -> bool {
                let Some(rest) = spelling.strip_prefix(R::C_NAME) else { return false };
                let Some(rest) = rest.strip_prefix('(') else { return false };
                let args: &[&str] = &[$($a::C_NAME),*];
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
                let args: &[&str] = &[$($a::C_NAME),*];
                format!("{}({})", R::C_NAME, args.join(","))
            }

            fn to_void(self) -> VoidFn {
                // SAFETY: [R6] fn pointers of every signature share size and
                // representation; only a matching spelling turns it back.
                unsafe { std::mem::transmute::<Self, VoidFn>(self) }
            }

            unsafe fn from_void(f: VoidFn) -> Self {
                // SAFETY: [R6] the caller guarantees `f` was made from a
                // function of type `Self`.
                unsafe { std::mem::transmute::<VoidFn, Self>(f) }
            }
        }

        impl<R: AbiType, $($a: AbiType),*> Typed<'_, extern "C" fn($($a),*) -> R> {
            /// Calls the function. This is a plain indirect call, the cost
            /// of raw FFI by value.
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
            /// the zero value of `R`; [`try_call`](Self::try_call) returns
            /// the error.
            #[inline]
            pub fn call(&self, $($v: $a),*) -> R {
                match self.call {
                    Call::Raw(f) => f($($v),*),
                    Call::Context(table, index) => {
                        let args = $packed($($v),*);
                        // SAFETY: [R6] `Typed::context` was made for a
                        // signature that spells `F`, whose arguments `args`
                        // lays out; stateless: no instance.
                        let result = unsafe {
                            context_call::<R>(table, index, std::ptr::null_mut(), (&raw const args).cast())
                        };
                        result.unwrap_or(R::ZERO)
                    }
                }
            }

            /// Calls the function and returns its error, if it fails. A
            /// native typed function never fails; an engine-run one fails
            /// with a [`CallError`] naming the contract, function and
            /// reason (`ERR_TRAP`, `ERR_BUDGET`, ...).
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
            pub fn try_call(&self, $($v: $a),*) -> Result<R, CallError> {
                match self.call {
                    Call::Raw(f) => Ok(f($($v),*)),
                    Call::Context(table, index) => {
                        let args = $packed($($v),*);
                        // SAFETY: as in `call`.
                        unsafe {
                            context_call::<R>(table, index, std::ptr::null_mut(), (&raw const args).cast())
                        }
                    }
                }
            }
        }

        impl<R: AbiType, $($a: AbiType),*> InstanceFn<'_, extern "C" fn($($a),*) -> R> {
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
            pub fn call(&mut self, $($v: $a),*) -> Result<R, CallError> {
                match self.call {
                    Call::Raw(f) => Ok(f($($v),*)),
                    Call::Context(table, index) => {
                        let args = $packed($($v),*);
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

/// Removes whitespace from a signature spelling and checks its grammar:
/// `ret(arg,arg)` with names from [`AbiType::C_NAME`]; `void` only as the
/// return type.
pub(crate) fn normalize(spelling: &str) -> Result<String, String> {
    const NAMES: [&str; 12] = [
        "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "isize", "f32", "f64",
    ];
    let compact: String = spelling.chars().filter(|c| !c.is_whitespace()).collect();
    let Some((ret, rest)) = compact.split_once('(') else {
        return Err(format!("expected `ret(args)`, found {spelling:?}"));
    };
    let Some(args) = rest.strip_suffix(')') else {
        return Err(format!("expected `)` at the end of {spelling:?}"));
    };
    if ret != "void" && !NAMES.contains(&ret) {
        return Err(format!("unknown return type {ret:?} in {spelling:?}"));
    }
    if !args.is_empty() {
        for arg in args.split(',') {
            if !NAMES.contains(&arg) {
                return Err(format!("unknown argument type {arg:?} in {spelling:?}"));
            }
        }
    }
    Ok(compact)
}

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
    }

    #[test]
    fn normalize_checks_the_grammar() {
        assert_eq!(
            normalize(" u32 ( u32, u32 ) ").as_deref(),
            Ok("u32(u32,u32)")
        );
        assert_eq!(normalize("void()").as_deref(), Ok("void()"));
        assert!(normalize("u32(void)").is_err());
        assert!(normalize("u32(u32,)").is_err());
        assert!(normalize("string(u32)").is_err());
        assert!(normalize("u32 u32").is_err());
        assert!(normalize("u32(u32").is_err());
    }
}
