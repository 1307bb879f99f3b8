//! The typed call path both engines share: an export of a common shape
//! (up to four parameters, each `i32` or `i64`, and no
//! result or one `i32` or `i64`) is resolved once per instance into the
//! engine's `TypedFunc`, whose call skips the dynamic type checks and
//! value slices of `Func::call`. Other shapes keep the dynamic call.
//!
//! [`Args`] and [`Ret`] move [`WasmValue`]s into and out of the Rust types
//! a shape is made of; `by_shape!` picks the shape's
//! types from a function type.

use polyplug_abi::ERR_INVALID;

use crate::backend::{Failure, WasmValue};

/// One parameter of a typed shape: `i32` or `i64`.
pub(crate) trait Arg: Sized {
    fn from_value(value: WasmValue) -> Option<Self>;
    /// The parameter from a word (`polyplug::loader::WordFn`): its low
    /// bytes, which is what a `u32` or `i32` argument's word holds.
    fn from_word(word: u64) -> Self;
}

impl Arg for i32 {
    fn from_value(value: WasmValue) -> Option<i32> {
        match value {
            WasmValue::I32(v) => Some(v),
            _ => None,
        }
    }

    #[inline(always)]
    #[expect(
        clippy::cast_possible_truncation,
        reason = "an i32 argument's word holds it in its low bytes"
    )]
    fn from_word(word: u64) -> i32 {
        (word as u32).cast_signed()
    }
}

impl Arg for i64 {
    fn from_value(value: WasmValue) -> Option<i64> {
        match value {
            WasmValue::I64(v) => Some(v),
            _ => None,
        }
    }

    #[inline(always)]
    fn from_word(word: u64) -> i64 {
        word.cast_signed()
    }
}

/// The parameters of a typed shape, as a tuple; `None` when `args` are not
/// exactly of its types.
pub(crate) trait Args: Sized {
    fn from_args(args: &[WasmValue]) -> Option<Self>;
    /// The parameters from one word each; `None` when there are not
    /// exactly as many words as parameters.
    fn from_words(words: &[u64]) -> Option<Self>;
}

impl Args for () {
    fn from_args(args: &[WasmValue]) -> Option<()> {
        args.is_empty().then_some(())
    }

    #[inline(always)]
    fn from_words(words: &[u64]) -> Option<()> {
        words.is_empty().then_some(())
    }
}

macro_rules! args_tuple {
    ($($ty:ident $value:ident),+) => {
        impl<$($ty: Arg),+> Args for ($($ty,)+) {
            fn from_args(args: &[WasmValue]) -> Option<Self> {
                let [$($value),+] = args else {
                    return None;
                };
                Some(($($ty::from_value(*$value)?,)+))
            }

            #[inline(always)]
            fn from_words(words: &[u64]) -> Option<Self> {
                let [$($value),+] = words else {
                    return None;
                };
                Some(($($ty::from_word(*$value),)+))
            }
        }
    };
}

args_tuple!(A a);
args_tuple!(A a, B b);
args_tuple!(A a, B b, C c);
args_tuple!(A a, B b, C c, D d);

/// The result of a typed shape: none, `i32` or `i64`.
pub(crate) trait Ret {
    fn into_value(self) -> Option<WasmValue>;
    /// The result as a word: its bits in the low bytes (0 for none).
    fn into_word(self) -> u64;
}

impl Ret for () {
    fn into_value(self) -> Option<WasmValue> {
        None
    }

    #[inline(always)]
    fn into_word(self) -> u64 {
        0
    }
}

impl Ret for i32 {
    fn into_value(self) -> Option<WasmValue> {
        Some(WasmValue::I32(self))
    }

    #[inline(always)]
    fn into_word(self) -> u64 {
        u64::from(self.cast_unsigned())
    }
}

impl Ret for i64 {
    fn into_value(self) -> Option<WasmValue> {
        Some(WasmValue::I64(self))
    }

    #[inline(always)]
    fn into_word(self) -> u64 {
        self.cast_unsigned()
    }
}

/// `call` with the parameters `P` made from `args`, its result as a
/// value; an error when `args` are not exactly of `P`'s types.
pub(crate) fn with_args<P: Args, R: Ret>(
    args: &[WasmValue],
    call: impl FnOnce(P) -> Result<R, Failure>,
) -> Result<Option<WasmValue>, Failure> {
    let Some(params) = P::from_args(args) else {
        return Err(Failure {
            code: ERR_INVALID,
            what: format!("arguments {args:?} do not fit the function's parameters"),
        });
    };
    call(params).map(Ret::into_value)
}

/// `call` with the parameters `P` made from one word each, its result as
/// a word; an error when there are not exactly as many words.
#[inline(always)]
pub(crate) fn with_words<P: Args, R: Ret>(
    words: &[u64],
    call: impl FnOnce(P) -> Result<R, Failure>,
) -> Result<u64, Failure> {
    let Some(params) = P::from_words(words) else {
        return Err(Failure {
            code: ERR_INVALID,
            what: format!(
                "{} arguments do not fit the function's parameters",
                words.len()
            ),
        });
    };
    call(params).map(Ret::into_word)
}

/// `$make::<P, R>($arg, ..)` with the Rust types `P` (a tuple of
/// parameters) and `R` of the typed shape of `($params, $results)` (slices
/// of [`WasmType`](crate::guest::WasmType)), or `None` for a shape with no
/// typed path.
macro_rules! by_shape {
    ($params:expr, $results:expr, $make:ident($($arg:expr),*)) => {{
        use $crate::guest::WasmType::{I32, I64};
        match $results {
            [] => $crate::typed::by_shape!(@params $params, (), $make($($arg),*)),
            [I32] => $crate::typed::by_shape!(@params $params, i32, $make($($arg),*)),
            [I64] => $crate::typed::by_shape!(@params $params, i64, $make($($arg),*)),
            _ => None,
        }
    }};
    (@params $params:expr, $r:ty, $make:ident($($arg:expr),*)) => {
        match $params {
            [] => $make::<(), $r>($($arg),*),
            [I32] => $make::<(i32,), $r>($($arg),*),
            [I64] => $make::<(i64,), $r>($($arg),*),
            [I32, I32] => $make::<(i32, i32), $r>($($arg),*),
            [I32, I64] => $make::<(i32, i64), $r>($($arg),*),
            [I64, I32] => $make::<(i64, i32), $r>($($arg),*),
            [I64, I64] => $make::<(i64, i64), $r>($($arg),*),
            [I32, I32, I32] => $make::<(i32, i32, i32), $r>($($arg),*),
            [I32, I32, I64] => $make::<(i32, i32, i64), $r>($($arg),*),
            [I32, I64, I32] => $make::<(i32, i64, i32), $r>($($arg),*),
            [I32, I64, I64] => $make::<(i32, i64, i64), $r>($($arg),*),
            [I64, I32, I32] => $make::<(i64, i32, i32), $r>($($arg),*),
            [I64, I32, I64] => $make::<(i64, i32, i64), $r>($($arg),*),
            [I64, I64, I32] => $make::<(i64, i64, i32), $r>($($arg),*),
            [I64, I64, I64] => $make::<(i64, i64, i64), $r>($($arg),*),
            [I32, I32, I32, I32] => $make::<(i32, i32, i32, i32), $r>($($arg),*),
            [I32, I32, I32, I64] => $make::<(i32, i32, i32, i64), $r>($($arg),*),
            [I32, I32, I64, I32] => $make::<(i32, i32, i64, i32), $r>($($arg),*),
            [I32, I32, I64, I64] => $make::<(i32, i32, i64, i64), $r>($($arg),*),
            [I32, I64, I32, I32] => $make::<(i32, i64, i32, i32), $r>($($arg),*),
            [I32, I64, I32, I64] => $make::<(i32, i64, i32, i64), $r>($($arg),*),
            [I32, I64, I64, I32] => $make::<(i32, i64, i64, i32), $r>($($arg),*),
            [I32, I64, I64, I64] => $make::<(i32, i64, i64, i64), $r>($($arg),*),
            [I64, I32, I32, I32] => $make::<(i64, i32, i32, i32), $r>($($arg),*),
            [I64, I32, I32, I64] => $make::<(i64, i32, i32, i64), $r>($($arg),*),
            [I64, I32, I64, I32] => $make::<(i64, i32, i64, i32), $r>($($arg),*),
            [I64, I32, I64, I64] => $make::<(i64, i32, i64, i64), $r>($($arg),*),
            [I64, I64, I32, I32] => $make::<(i64, i64, i32, i32), $r>($($arg),*),
            [I64, I64, I32, I64] => $make::<(i64, i64, i32, i64), $r>($($arg),*),
            [I64, I64, I64, I32] => $make::<(i64, i64, i64, i32), $r>($($arg),*),
            [I64, I64, I64, I64] => $make::<(i64, i64, i64, i64), $r>($($arg),*),
            _ => None,
        }
    };
}
pub(crate) use by_shape;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guest::WasmType;

    #[test]
    fn args_take_exactly_their_types() {
        let args = [WasmValue::I32(1), WasmValue::I64(2)];
        assert_eq!(<(i32, i64)>::from_args(&args), Some((1, 2)));
        assert_eq!(<(i64, i32)>::from_args(&args), None);
        assert_eq!(<(i32,)>::from_args(&args), None);
        assert_eq!(<()>::from_args(&[]), Some(()));
        assert_eq!(<()>::from_args(&args[..1]), None);
    }

    #[test]
    fn words_become_parameters_and_results_words() {
        let minus_one = u64::from(u32::MAX);
        assert_eq!(<(i32, i64)>::from_words(&[minus_one, 7]), Some((-1, 7)));
        // A sign-extended i32 word keeps its low bytes.
        assert_eq!(
            <(i32,)>::from_words(&[(-2i64).cast_unsigned()]),
            Some((-2,))
        );
        assert_eq!(<(i32,)>::from_words(&[1, 2]), None);
        assert_eq!(<()>::from_words(&[]), Some(()));
        assert_eq!((-1i32).into_word(), minus_one);
        assert_eq!((-1i64).into_word(), u64::MAX);
        assert_eq!(().into_word(), 0);
    }

    fn arity<P: Args, R: Ret>() -> Option<(&'static str, &'static str)> {
        Some((std::any::type_name::<P>(), std::any::type_name::<R>()))
    }

    #[test]
    fn every_shape_up_to_four_integers_is_typed() {
        const I32: WasmType = WasmType::I32;
        const I64: WasmType = WasmType::I64;
        let mixed = [I32, I64];
        let wide = [I64, I64, I64, I32];
        let none: [WasmType; 0] = [];
        assert_eq!(
            by_shape!(&mixed[..], &[I32][..], arity()),
            Some(("(i32, i64)", "i32"))
        );
        assert_eq!(
            by_shape!(&wide[..], &none[..], arity()),
            Some(("(i64, i64, i64, i32)", "()"))
        );
        assert_eq!(by_shape!(&[WasmType::F32][..], &[I32][..], arity()), None);
        assert_eq!(by_shape!(&[I32; 5][..], &[I32][..], arity()), None);
        assert_eq!(by_shape!(&none[..], &[I32, I32][..], arity()), None);
    }
}
