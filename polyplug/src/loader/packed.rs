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

use super::{EngineInstance, Fault, Value};

pub(super) mod sealed {
    use super::{Value, ValueType};

    /// Only the numbers and tuples of this module are packed types: their
    /// layouts are the ones registration checks.
    pub trait Sealed {}

    /// A number as the [`Value`] of a type it holds, and back: what
    /// `values_slot` hands an [`EngineFn`](crate::loader::EngineFn).
    pub trait Number: Sealed + Sized {
        /// The value of type `ty` (one this number holds) of these bits.
        fn to_value(self, ty: ValueType) -> Value<'static>;
        /// The bits of a value of a type this number holds.
        fn from_value(value: &Value<'_>) -> Option<Self>;
    }

    /// Arguments as [`Value`]s.
    pub trait Values {
        /// `f` of the arguments as values of `types` (ones they hold).
        fn with_values<T>(self, types: &[ValueType], f: impl FnOnce(&[Value<'_>]) -> T) -> T;
    }

    /// A result from its [`Value`].
    pub trait Result: Sized {
        /// The bits of `value`, of a type this result holds.
        fn from_value(value: &Value<'_>) -> Option<Self>;
    }
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
pub trait PackedNumber: sealed::Number + Copy + Send + 'static {
    /// Whether a value of type `ty` is this number's bits: the same size
    /// and alignment, of either sign for an integer.
    fn holds(ty: ValueType) -> bool;
}

/// Whether `usize` and `isize` are 64 bits wide here.
const WIDE: bool = size_of::<usize>() == 8;

macro_rules! number {
    ($ty:ty, |$arg:ident| $holds:expr, |$bits:ident, $of:ident| $to:expr, |$value:ident| $from:expr) => {
        impl sealed::Sealed for $ty {}

        impl sealed::Number for $ty {
            #[inline(always)]
            fn to_value($bits, $of: ValueType) -> Value<'static> {
                $to
            }

            #[inline(always)]
            fn from_value($value: &Value<'_>) -> Option<$ty> {
                $from
            }
        }

        impl PackedNumber for $ty {
            fn holds($arg: ValueType) -> bool {
                $holds
            }
        }
    };
}

number!(
    i32,
    |ty| matches!(ty, ValueType::U32 | ValueType::I32)
        || (!WIDE && matches!(ty, ValueType::Usize | ValueType::Isize)),
    |self, ty| match ty {
        ValueType::U32 => Value::U32(self.cast_unsigned()),
        // A usize or isize only when as wide (`holds`): the conversions
        // cannot fail.
        ValueType::Usize =>
            usize::try_from(self.cast_unsigned()).map_or(Value::I32(self), Value::Usize),
        ValueType::Isize => isize::try_from(self).map_or(Value::I32(self), Value::Isize),
        _ => Value::I32(self),
    },
    |value| match *value {
        Value::U32(v) => Some(v.cast_signed()),
        Value::I32(v) => Some(v),
        Value::Usize(v) if !WIDE => u32::try_from(v).ok().map(u32::cast_signed),
        Value::Isize(v) if !WIDE => i32::try_from(v).ok(),
        _ => None,
    }
);
number!(
    i64,
    |ty| matches!(ty, ValueType::U64 | ValueType::I64)
        || (WIDE && matches!(ty, ValueType::Usize | ValueType::Isize)),
    |self, ty| match ty {
        ValueType::U64 => Value::U64(self.cast_unsigned()),
        ValueType::Usize =>
            usize::try_from(self.cast_unsigned()).map_or(Value::I64(self), Value::Usize),
        ValueType::Isize => isize::try_from(self).map_or(Value::I64(self), Value::Isize),
        _ => Value::I64(self),
    },
    |value| match *value {
        Value::U64(v) => Some(v.cast_signed()),
        Value::I64(v) => Some(v),
        Value::Usize(v) if WIDE => u64::try_from(v).ok().map(u64::cast_signed),
        Value::Isize(v) if WIDE => i64::try_from(v).ok(),
        _ => None,
    }
);
number!(
    f32,
    |ty| ty == ValueType::F32,
    |self, _ty| Value::F32(self),
    |value| match *value {
        Value::F32(v) => Some(v),
        _ => None,
    }
);
number!(
    f64,
    |ty| ty == ValueType::F64,
    |self, _ty| Value::F64(self),
    |value| match *value {
        Value::F64(v) => Some(v),
        _ => None,
    }
);

/// The arguments of a [`PackedFn`]: `()` or a tuple of up to four
/// [`PackedNumber`]s.
pub trait PackedArgs: sealed::Sealed + sealed::Values + Sized + 'static {
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

impl sealed::Values for () {
    #[inline(always)]
    fn with_values<T>(self, _: &[ValueType], f: impl FnOnce(&[Value<'_>]) -> T) -> T {
        f(&[])
    }
}

impl sealed::Result for () {
    #[inline(always)]
    fn from_value(value: &Value<'_>) -> Option<()> {
        matches!(value, Value::Void).then_some(())
    }
}

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

        impl<$($ty: PackedNumber),+> sealed::Values for ($($ty,)+) {
            #[inline(always)]
            fn with_values<T>(self, types: &[ValueType], f: impl FnOnce(&[Value<'_>]) -> T) -> T {
                // A type this argument does not hold (never: registration
                // matched them) reads as its own number's type.
                let ty = |i: usize| types.get(i).copied().unwrap_or(ValueType::I32);
                f(&[$(sealed::Number::to_value(self.$index, ty($index))),+])
            }
        }

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
                // One number at a time, at its offset: the padding is never
                // touched.
                ($({
                    let at = args.wrapping_byte_add(offset_of!($layout, $index));
                    // SAFETY: [P1] the caller's struct holds this number here.
                    unsafe { at.cast::<$ty>().read_unaligned() }
                },)+)
            }
        }
    };
}

args!(C1<A>, 1, A 0);
args!(C2<A, B>, 2, A 0, B 1);
args!(C3<A, B, C>, 3, A 0, B 1, C 2);
args!(C4<A, B, C, D>, 4, A 0, B 1, C 2, D 3);

/// The result of a [`PackedFn`]: `()` or a [`PackedNumber`].
pub trait PackedRet: sealed::Sealed + sealed::Result + Sized + 'static {
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
        impl sealed::Result for $ty {
            #[inline(always)]
            fn from_value(value: &Value<'_>) -> Option<$ty> {
                <$ty as sealed::Number>::from_value(value)
            }
        }

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

/// The number class of a value type: which [`PackedNumber`] holds it.
#[derive(Clone, Copy)]
enum Class {
    I32,
    I64,
    F32,
    F64,
}

fn class(ty: ValueType) -> Option<Class> {
    [
        (
            <i32 as PackedNumber>::holds as fn(ValueType) -> bool,
            Class::I32,
        ),
        (<i64 as PackedNumber>::holds, Class::I64),
        (<f32 as PackedNumber>::holds, Class::F32),
        (<f64 as PackedNumber>::holds, Class::F64),
    ]
    .into_iter()
    .find_map(|(holds, class)| holds(ty).then_some(class))
}

/// The trampoline made for the shape of `signature` (arguments at
/// `offsets`) that calls an [`EngineFn`](super::EngineFn) with
/// [`Value`]s (`values_slot::<P, R>`): for up to two number arguments and
/// a number result or none. `None` for any other shape, which the generic
/// `call_slot` serves.
pub(super) fn values_entry(
    args: &[ValueType],
    ret: Option<ValueType>,
    offsets: &[usize],
) -> Option<super::ContextFn> {
    fn with<P: PackedArgs, R: PackedRet>(offsets: &[usize]) -> Option<super::ContextFn> {
        // Checked, not assumed: the Rust layout is the signature's.
        (P::offsets() == offsets).then_some(super::values_slot::<P, R> as super::ContextFn)
    }
    macro_rules! ret {
        ($p:ty) => {
            match ret.map(class) {
                None => with::<$p, ()>(offsets),
                Some(Some(Class::I32)) => with::<$p, i32>(offsets),
                Some(Some(Class::I64)) => with::<$p, i64>(offsets),
                Some(Some(Class::F32)) => with::<$p, f32>(offsets),
                Some(Some(Class::F64)) => with::<$p, f64>(offsets),
                Some(None) => None,
            }
        };
    }
    macro_rules! second {
        ($a:ty, $b:expr) => {
            match class($b)? {
                Class::I32 => ret!(($a, i32)),
                Class::I64 => ret!(($a, i64)),
                Class::F32 => ret!(($a, f32)),
                Class::F64 => ret!(($a, f64)),
            }
        };
    }
    match *args {
        [] => ret!(()),
        [a] => match class(a)? {
            Class::I32 => ret!((i32,)),
            Class::I64 => ret!((i64,)),
            Class::F32 => ret!((f32,)),
            Class::F64 => ret!((f64,)),
        },
        [a, b] => match class(a)? {
            Class::I32 => second!(i32, b),
            Class::I64 => second!(i64, b),
            Class::F32 => second!(f32, b),
            Class::F64 => second!(f64, b),
        },
        _ => None,
    }
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
    fn numbers_become_values_of_their_signature_types_and_back() {
        use sealed::{Number, Values};
        assert_eq!((-1i32).to_value(U32), Value::U32(u32::MAX));
        assert_eq!((-1i32).to_value(I32), Value::I32(-1));
        assert_eq!((-1i64).to_value(U64), Value::U64(u64::MAX));
        assert_eq!(<i32 as Number>::from_value(&Value::U32(u32::MAX)), Some(-1));
        assert_eq!(<i32 as Number>::from_value(&Value::I64(1)), None);
        assert_eq!(<f32 as Number>::from_value(&Value::F64(1.0)), None);
        if WIDE {
            assert_eq!((-1i64).to_value(ValueType::Usize), Value::Usize(usize::MAX));
            assert_eq!((-1i64).to_value(ValueType::Isize), Value::Isize(-1));
            assert_eq!(
                <i64 as Number>::from_value(&Value::Usize(usize::MAX)),
                Some(-1)
            );
            assert_eq!(<i32 as Number>::from_value(&Value::Usize(1)), None);
        }
        let seen = (-2i32, 7i64).with_values(&[U32, I64], |values| {
            values == [Value::U32(u32::MAX - 1), Value::I64(7)]
        });
        assert!(seen);
    }

    #[test]
    fn values_entries_serve_up_to_two_numbers_and_a_number_or_nothing() {
        let entry = |args: &[ValueType], ret| {
            let offsets = super::super::offsets(&super::super::TypedSignature {
                args: args.to_vec(),
                ret,
            });
            values_entry(args, ret, &offsets).is_some()
        };
        assert!(entry(&[], None));
        assert!(entry(&[U32], Some(U32)));
        assert!(entry(&[F64, I64], Some(F64)));
        assert!(entry(&[I32, F32], Some(U64)));
        assert!(!entry(&[U8], Some(U32)));
        assert!(!entry(&[U32, U32, U32], Some(U32)));
        assert!(!entry(&[U32], Some(ValueType::String)));
        assert!(!entry(&[ValueType::Str], None));
        // Offsets that are not the Rust layout's are refused, not trusted.
        assert!(values_entry(&[U32, I64], None, &[0, 4]).is_none());
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
