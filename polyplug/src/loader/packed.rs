//! Engine functions whose argument and result types are Rust numbers
//! known at compile time ([`PackedFn`]).
//!
//! A [`WordFn`](super::WordFn) is called through one trampoline for every
//! signature: it reads each argument by a width looked up at run time,
//! makes an array of words, and calls through a trait object. A
//! [`PackedFn`] names its types, so its trampoline is made for them:
//! one load per argument at an offset known at compile time, a direct
//! call, one store of the result. The WebAssembly engine calls its typed
//! exports this way.
//!
//! A number stands for an argument of its size, of either sign
//! ([`PackedNumber::holds`]): an `i32` takes a `u32` or an `i32`
//! argument's bits, as a WebAssembly `i32` does. Registration
//! ([`EngineContract::packed_function`](super::EngineContract::packed_function))
//! checks that the signature's arguments are held by the function's
//! types and lie at the offsets its Rust layout gives them (\[P1\]), and
//! refuses the function by name otherwise; an engine asks
//! [`PackedArgs::holds`] and [`PackedRet::holds`] first to choose between
//! this path and another.
//!
//! ```
//! use polyplug::loader::{PackedArgs, PackedRet};
//! use polyplug::loader::ValueType::{I64, U32, U8};
//!
//! assert!(<(i32, i64)>::holds(&[U32, I64]));
//! assert!(!<(i32,)>::holds(&[U8])); // a u8 is not an i32's bits
//! assert!(<i32 as PackedRet>::holds(Some(U32)));
//! assert!(<() as PackedRet>::holds(None));
//! ```

use std::ffi::c_void;
use std::mem::offset_of;

use polyplug_contract::signature::ValueType;

use super::{EngineInstance, Fault};

mod sealed {
    /// Only the numbers and tuples of this module are packed types: their
    /// layouts are the ones registration checks.
    pub trait Sealed {}
}

/// A number a [`PackedFn`] takes or returns: `i32`, `i64`, `f32`, `f64`.
///
/// ```
/// use polyplug::loader::PackedNumber;
/// use polyplug::loader::ValueType::{F32, I32, U32, U64};
///
/// assert!(i32::holds(U32) && i32::holds(I32));
/// assert!(!i32::holds(U64) && !i32::holds(F32));
/// ```
pub trait PackedNumber: sealed::Sealed + Copy + Send + 'static {
    /// Whether a value of type `ty` is this number's bits: the same size
    /// and alignment, of either sign for an integer.
    fn holds(ty: ValueType) -> bool;
}

/// Whether `usize` and `isize` are 64 bits wide here.
const WIDE: bool = size_of::<usize>() == 8;

macro_rules! number {
    ($ty:ty, |$arg:ident| $holds:expr) => {
        impl sealed::Sealed for $ty {}

        impl PackedNumber for $ty {
            fn holds($arg: ValueType) -> bool {
                $holds
            }
        }
    };
}

number!(i32, |ty| matches!(ty, ValueType::U32 | ValueType::I32)
    || (!WIDE && matches!(ty, ValueType::Usize | ValueType::Isize)));
number!(i64, |ty| matches!(ty, ValueType::U64 | ValueType::I64)
    || (WIDE && matches!(ty, ValueType::Usize | ValueType::Isize)));
number!(f32, |ty| ty == ValueType::F32);
number!(f64, |ty| ty == ValueType::F64);

/// The arguments of a [`PackedFn`]: `()` or a tuple of up to four
/// [`PackedNumber`]s.
pub trait PackedArgs: sealed::Sealed + Sized + 'static {
    /// How many arguments.
    const COUNT: usize;

    /// Whether arguments of `types` are these numbers' bits, one each.
    fn holds(types: &[ValueType]) -> bool;

    /// Where each number lies in the arguments' C struct.
    fn offsets() -> Vec<usize>;

    /// Reads the arguments from their C struct.
    ///
    /// # Safety
    ///
    /// \[P1\] Unless there are none, `args` points to a C struct of
    /// arguments that these [`holds`](PackedArgs::holds), at the
    /// [`offsets`](PackedArgs::offsets).
    unsafe fn read(args: *const c_void) -> Self;
}

impl sealed::Sealed for () {}

impl PackedArgs for () {
    const COUNT: usize = 0;

    fn holds(types: &[ValueType]) -> bool {
        types.is_empty()
    }

    fn offsets() -> Vec<usize> {
        Vec::new()
    }

    #[inline(always)]
    unsafe fn read(_: *const c_void) {}
}

/// The C layouts of one to four arguments.
#[repr(C)]
struct C1<A>(A);
#[repr(C)]
struct C2<A, B>(A, B);
#[repr(C)]
struct C3<A, B, C>(A, B, C);
#[repr(C)]
struct C4<A, B, C, D>(A, B, C, D);

macro_rules! args {
    ($layout:ty, $count:literal, $($ty:ident $index:tt),+) => {
        impl<$($ty: PackedNumber),+> sealed::Sealed for ($($ty,)+) {}

        impl<$($ty: PackedNumber),+> PackedArgs for ($($ty,)+) {
            const COUNT: usize = $count;

            fn holds(types: &[ValueType]) -> bool {
                types.len() == $count $(&& $ty::holds(types[$index]))+
            }

            fn offsets() -> Vec<usize> {
                vec![$(offset_of!($layout, $index)),+]
            }

            #[inline(always)]
            unsafe fn read(args: *const c_void) -> Self {
                // SAFETY: [P1] the caller's struct holds each number at its
                // offset in this layout; read one by one, its padding is
                // never touched.
                unsafe {
                    ($(args
                        .byte_add(offset_of!($layout, $index))
                        .cast::<$ty>()
                        .read_unaligned(),)+)
                }
            }
        }
    };
}

args!(C1<A>, 1, A 0);
args!(C2<A, B>, 2, A 0, B 1);
args!(C3<A, B, C>, 3, A 0, B 1, C 2);
args!(C4<A, B, C, D>, 4, A 0, B 1, C 2, D 3);

/// The result of a [`PackedFn`]: `()` or a [`PackedNumber`].
pub trait PackedRet: sealed::Sealed + Sized + 'static {
    /// Whether a result of type `ty` (`None` for none) is this one's bits.
    fn holds(ty: Option<ValueType>) -> bool;

    /// Writes the result.
    ///
    /// # Safety
    ///
    /// \[P4\] For a number, `out` is writable for one result of a type it
    /// [`holds`](PackedRet::holds).
    unsafe fn write(self, out: *mut c_void);
}

impl PackedRet for () {
    fn holds(ty: Option<ValueType>) -> bool {
        ty.is_none()
    }

    #[inline(always)]
    unsafe fn write(self, _: *mut c_void) {}
}

macro_rules! ret {
    ($($ty:ty),+) => {$(
        impl PackedRet for $ty {
            fn holds(ty: Option<ValueType>) -> bool {
                ty.is_some_and(<$ty as PackedNumber>::holds)
            }

            #[inline(always)]
            unsafe fn write(self, out: *mut c_void) {
                // SAFETY: [P4] the caller's `out` is writable for a value
                // of this size.
                unsafe { out.cast::<$ty>().write_unaligned(self) };
            }
        }
    )+};
}

ret!(i32, i64, f32, f64);

/// One function run by an engine, called with its arguments as Rust
/// numbers read straight from the caller's struct, its result written
/// straight back ([`EngineContract::packed_function`](super::EngineContract::packed_function)).
///
/// ```
/// use polyplug::loader::{EngineInstance, Fault, PackedFn};
///
/// struct Add;
/// impl PackedFn for Add {
///     type Args = (i32, i64);
///     type Ret = i64;
///     fn call(&self, _: Option<&mut EngineInstance>, (a, b): (i32, i64)) -> Result<i64, Fault> {
///         Ok(i64::from(a).wrapping_add(b))
///     }
/// }
/// assert_eq!(Add.call(None, (2, 40)), Ok(42));
/// ```
pub trait PackedFn: Send + Sync + 'static {
    /// The arguments.
    type Args: PackedArgs;
    /// The result.
    type Ret: PackedRet;

    /// Runs the function, with `instance` as for
    /// [`EngineFn::call`](super::EngineFn::call).
    ///
    /// # Errors
    ///
    /// A [`Fault`]: the call returns its code and message.
    fn call(
        &self,
        instance: Option<&mut EngineInstance>,
        args: Self::Args,
    ) -> Result<Self::Ret, Fault>;
}

/// Whether `F` may serve a function whose arguments of `types` lie at
/// `offsets` and whose result is of type `ret`.
pub(super) fn fits<F: PackedFn>(
    types: &[ValueType],
    offsets: &[usize],
    ret: Option<ValueType>,
) -> bool {
    F::Args::holds(types) && F::Args::offsets() == offsets && F::Ret::holds(ret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValueType::{F32, F64, I32, I64, U8, U32, U64};

    #[test]
    fn numbers_hold_their_size_of_either_sign() {
        assert!(<(i32, i64, i32)>::holds(&[I32, U64, U32]));
        assert!(!<(i32, i64)>::holds(&[I64, I32]));
        assert!(!<(i32,)>::holds(&[I32, I32]));
        assert!(!<(i32,)>::holds(&[U8]));
        assert!(<(f32, f64)>::holds(&[F32, F64]));
        assert!(!<(f32,)>::holds(&[I32]));
        assert!(<i64 as PackedRet>::holds(Some(U64)));
        assert!(!<i64 as PackedRet>::holds(None));
        assert!(!<() as PackedRet>::holds(Some(I32)));
    }

    #[test]
    fn offsets_are_the_c_layout() {
        assert_eq!(<(i32, i64, i32, i64)>::offsets(), [0, 8, 16, 24]);
        assert_eq!(<(i64, i32, i32)>::offsets(), [0, 8, 12]);
        assert_eq!(<(i32, f32)>::offsets(), [0, 4]);
        assert!(<()>::offsets().is_empty());
    }

    #[test]
    fn read_takes_each_argument_at_its_offset() {
        #[repr(C)]
        struct Args {
            a: i32,
            b: i64,
            c: i32,
        }
        let args = Args {
            a: -1,
            b: 1 << 40,
            c: 7,
        };
        // SAFETY: [P1] `args` is the C struct of (i32, i64, i32).
        let read = unsafe { <(i32, i64, i32)>::read((&raw const args).cast()) };
        assert_eq!(read, (-1, 1 << 40, 7));
        let mut out = 0u32;
        // SAFETY: [P4] `out` holds one u32, which an i32 holds.
        unsafe { (-2i32).write((&raw mut out).cast()) };
        assert_eq!(out, u32::MAX - 1);
    }
}
