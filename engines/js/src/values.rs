//! Values crossing between polyplug's typed signatures and JavaScript.
//!
//! - `u8`..`u32`, `i8`..`i32`, `f32`, `f64`: numbers. An integer result
//!   must be an integral number in the type's range.
//! - `u64`, `i64`, `usize`, `isize`: `BigInt` arguments; a result may be a
//!   `BigInt` or an integral number, in the type's range.
//! - `str`: a string; `bytes`: a fresh `Uint8Array` holding a copy.
//! - `string` result: a string; `buf` result: a `Uint8Array` or an
//!   `ArrayBuffer`.
//! - `void` result: whatever the function returns is ignored.
//!
//! A result that does not fit is refused with the value and the type named,
//! never wrapped or truncated.

use polyplug::loader::{Value, ValueType};
use rquickjs::convert::Coerced;
use rquickjs::{ArrayBuffer, BigInt, Ctx, TypedArray};

/// `value` as JavaScript.
pub(crate) fn to_js<'js>(
    ctx: &Ctx<'js>,
    value: &Value<'_>,
) -> rquickjs::Result<rquickjs::Value<'js>> {
    let number = |n: f64| rquickjs::Value::new_number(ctx.clone(), n);
    // What `new_number` makes of an integer that fits `i32`, without the
    // round trip through `f64`.
    let int = |n: i32| rquickjs::Value::new_int(ctx.clone(), n);
    let big = |n: i128| -> rquickjs::Result<rquickjs::Value<'js>> {
        let big = match i64::try_from(n) {
            Ok(v) => BigInt::from_i64(ctx.clone(), v)?,
            Err(_) => BigInt::from_u64(ctx.clone(), u64::try_from(n).unwrap_or(u64::MAX))?,
        };
        Ok(big.into_value())
    };
    Ok(match *value {
        Value::Void => rquickjs::Value::new_undefined(ctx.clone()),
        Value::U8(v) => int(i32::from(v)),
        Value::U16(v) => int(i32::from(v)),
        Value::U32(v) => match i32::try_from(v) {
            Ok(v) => int(v),
            Err(_) => number(f64::from(v)),
        },
        Value::I8(v) => int(i32::from(v)),
        Value::I16(v) => int(i32::from(v)),
        Value::I32(v) => int(v),
        Value::F32(v) => number(f64::from(v)),
        Value::F64(v) => number(v),
        Value::U64(v) => big(i128::from(v))?,
        Value::I64(v) => big(i128::from(v))?,
        Value::Usize(v) => big(i128::try_from(v).unwrap_or(i128::MAX))?,
        Value::Isize(v) => big(i128::try_from(v).unwrap_or(i128::MAX))?,
        Value::Str(text) => rquickjs::String::from_str(ctx.clone(), text)?.into_value(),
        Value::String(ref text) => rquickjs::String::from_str(ctx.clone(), text)?.into_value(),
        Value::Bytes(bytes) => TypedArray::<u8>::new_copy(ctx.clone(), bytes)?.into_value(),
        Value::Buf(ref bytes) => TypedArray::<u8>::new_copy(ctx.clone(), bytes)?.into_value(),
    })
}

/// A short description of `value` for an error message.
fn describe(value: &rquickjs::Value<'_>) -> String {
    if let Some(text) = value.as_string().and_then(|s| s.to_string().ok()) {
        let short: String = text.chars().take(40).collect();
        return format!("the string {short:?}");
    }
    match value.get::<Coerced<String>>() {
        Ok(Coerced(text)) if !value.is_object() => {
            format!("{} {}", value.type_of().as_str(), text)
        }
        _ => format!("a value of type {}", value.type_of().as_str()),
    }
}

/// `n` as an integer, when it is integral and within ±2^64.
pub(crate) fn integral(n: f64) -> Option<i128> {
    // Within ±2^63 an `i64` conversion is exact and one instruction; the
    // `i128` one is a library call.
    if n.fract() == 0.0 && n.abs() < 9.2e18 {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "integral and within i64, checked"
        )]
        return Some(i128::from(n as i64));
    }
    if n.is_finite() && n.fract() == 0.0 && n.abs() <= 1.9e19 {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "integral and within i128, checked"
        )]
        return Some(n as i128);
    }
    None
}

/// An integer result: an integral number or a `BigInt`, exactly.
fn integer(value: &rquickjs::Value<'_>) -> Option<i128> {
    // QuickJS tags small integers as ints: exact as they are, no float.
    if let Some(i) = value.as_int() {
        return Some(i128::from(i));
    }
    if let Some(n) = value.as_number() {
        return integral(n);
    }
    if value.is_big_int() {
        let Coerced(text) = value.get::<Coerced<String>>().ok()?;
        return text.parse::<i128>().ok();
    }
    None
}

/// `i` as a value of integer type `ty`, if it fits; `None` for a value
/// out of range or a type that is not an integer.
fn exact_integer(i: i32, ty: ValueType) -> Option<Value<'static>> {
    Some(match ty {
        ValueType::U8 => Value::U8(u8::try_from(i).ok()?),
        ValueType::U16 => Value::U16(u16::try_from(i).ok()?),
        ValueType::U32 => Value::U32(u32::try_from(i).ok()?),
        ValueType::U64 => Value::U64(u64::try_from(i).ok()?),
        ValueType::Usize => Value::Usize(usize::try_from(i).ok()?),
        ValueType::I8 => Value::I8(i8::try_from(i).ok()?),
        ValueType::I16 => Value::I16(i16::try_from(i).ok()?),
        ValueType::I32 => Value::I32(i),
        ValueType::I64 => Value::I64(i64::from(i)),
        ValueType::Isize => Value::Isize(isize::try_from(i).ok()?),
        _ => return None,
    })
}

/// `value`, returned by a function whose result type is `ty` (`None`:
/// `void`), as a polyplug value; `Err` describes why it does not fit.
pub(crate) fn from_js(
    value: &rquickjs::Value<'_>,
    ty: Option<ValueType>,
) -> Result<Value<'static>, String> {
    let Some(ty) = ty else {
        return Ok(Value::Void);
    };
    // The common case first: an integer QuickJS tags int, in range of an
    // integer type. Anything else takes the path below, which also says
    // why a value does not fit.
    if let Some(i) = value.as_int()
        && let Some(exact) = exact_integer(i, ty)
    {
        return Ok(exact);
    }
    let misfit = || format!("returned {}, which is not a {}", describe(value), ty.name());
    let range = || {
        format!(
            "returned {}, out of the range of {}",
            describe(value),
            ty.name()
        )
    };
    // The wide integer types take a BigInt or a number; the narrow ones a
    // number only.
    let wide = || integer(value).ok_or_else(misfit);
    let narrow = || {
        if value.is_big_int() {
            Err(misfit())
        } else {
            wide()
        }
    };
    Ok(match ty {
        ValueType::U8 => Value::U8(u8::try_from(narrow()?).map_err(|_| range())?),
        ValueType::U16 => Value::U16(u16::try_from(narrow()?).map_err(|_| range())?),
        ValueType::U32 => Value::U32(u32::try_from(narrow()?).map_err(|_| range())?),
        ValueType::I8 => Value::I8(i8::try_from(narrow()?).map_err(|_| range())?),
        ValueType::I16 => Value::I16(i16::try_from(narrow()?).map_err(|_| range())?),
        ValueType::I32 => Value::I32(i32::try_from(narrow()?).map_err(|_| range())?),
        ValueType::U64 => Value::U64(u64::try_from(wide()?).map_err(|_| range())?),
        ValueType::I64 => Value::I64(i64::try_from(wide()?).map_err(|_| range())?),
        ValueType::Usize => Value::Usize(usize::try_from(wide()?).map_err(|_| range())?),
        ValueType::Isize => Value::Isize(isize::try_from(wide()?).map_err(|_| range())?),
        ValueType::F64 => Value::F64(value.as_number().ok_or_else(misfit)?),
        ValueType::F32 => {
            let n = value.as_number().ok_or_else(misfit)?;
            #[expect(
                clippy::cast_possible_truncation,
                reason = "f64 to f32 rounds to nearest, as Math.fround does"
            )]
            let narrowed = n as f32;
            if n.is_finite() && !narrowed.is_finite() {
                return Err(range());
            }
            Value::F32(narrowed)
        }
        ValueType::String => Value::String(
            value
                .as_string()
                .and_then(|s| s.to_string().ok())
                .ok_or_else(misfit)?,
        ),
        ValueType::Buf => Value::Buf(bytes_of(value).ok_or_else(misfit)?),
        ValueType::Str | ValueType::Bytes => {
            return Err(format!(
                "{} is an argument type, not a result type",
                ty.name()
            ));
        }
    })
}

/// The bytes of a `Uint8Array` or an `ArrayBuffer`, copied.
pub(crate) fn bytes_of(value: &rquickjs::Value<'_>) -> Option<Vec<u8>> {
    let object = value.as_object()?;
    if let Some(array) = object.as_typed_array::<u8>() {
        let raw = array.as_raw()?;
        // SAFETY: [J1] the pointer is the array's live backing store (not
        // detached: `as_raw` returned it); it is copied at once, before any
        // JavaScript runs on this state again.
        return Some(unsafe { raw.as_ref() }.to_vec());
    }
    let buffer = ArrayBuffer::from_object(object.clone())?;
    let raw = buffer.as_raw()?;
    // SAFETY: [J1] as above: the buffer's live store, copied at once.
    Some(unsafe { raw.as_ref() }.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every integer result converts as the general path converts it:
    /// in range it is the same value, out of range it is refused.
    #[test]
    fn int_results_convert_exactly_or_are_refused() {
        let runtime = rquickjs::Runtime::new().unwrap_or_else(|e| unreachable!("{e}"));
        let context = rquickjs::Context::full(&runtime).unwrap_or_else(|e| unreachable!("{e}"));
        context.with(|ctx| {
            let int = |i: i32| rquickjs::Value::new_int(ctx.clone(), i);
            let float = |n: f64| rquickjs::Value::new_float(ctx.clone(), n);
            assert_eq!(from_js(&int(7), Some(ValueType::U32)), Ok(Value::U32(7)));
            assert_eq!(from_js(&int(-7), Some(ValueType::I64)), Ok(Value::I64(-7)));
            assert_eq!(from_js(&int(255), Some(ValueType::U8)), Ok(Value::U8(255)));
            assert!(from_js(&int(256), Some(ValueType::U8)).is_err());
            assert!(from_js(&int(-1), Some(ValueType::U32)).is_err());
            assert!(from_js(&int(-1), Some(ValueType::U64)).is_err());
            assert_eq!(from_js(&int(2), Some(ValueType::F64)), Ok(Value::F64(2.0)));
            assert_eq!(
                from_js(&float(7.0), Some(ValueType::U32)),
                Ok(Value::U32(7))
            );
            assert!(from_js(&float(7.5), Some(ValueType::U32)).is_err());
            for v in [
                Value::U8(200),
                Value::U32(u32::MAX),
                Value::I32(i32::MIN),
                Value::I16(-3),
            ] {
                let js = to_js(&ctx, &v).unwrap_or_else(|e| unreachable!("{e}"));
                let ty = v.value_type();
                assert_eq!(from_js(&js, ty), Ok(v));
            }
        });
    }
}
