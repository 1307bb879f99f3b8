//! Values across the boundary: the seam's [`Value`]s into Lua values for
//! arguments, Lua values back into the declared type for results, checked
//! for range, never wrapped.

use mlua::{Lua, Value as LuaValue};
use polyplug::loader::{Value, ValueType};

/// A seam value as a Lua value: integers as Lua integers, floats as
/// numbers, `str` and `bytes` as Lua strings.
///
/// # Errors
///
/// A `u64` or `usize` above `i64::MAX` (Lua integers are 64-bit signed),
/// or a Lua allocation failure.
pub(crate) fn to_lua(lua: &Lua, value: &Value<'_>) -> Result<LuaValue, String> {
    let unsigned = |v: u64| {
        i64::try_from(v)
            .map(LuaValue::Integer)
            .map_err(|_| format!("{v} does not fit a Lua integer (at most {})", i64::MAX))
    };
    Ok(match *value {
        Value::Void => LuaValue::Nil,
        Value::U8(v) => LuaValue::Integer(i64::from(v)),
        Value::U16(v) => LuaValue::Integer(i64::from(v)),
        Value::U32(v) => LuaValue::Integer(i64::from(v)),
        Value::U64(v) => unsigned(v)?,
        Value::Usize(v) => unsigned(u64::try_from(v).map_err(|_| format!("{v} is too big"))?)?,
        Value::I8(v) => LuaValue::Integer(i64::from(v)),
        Value::I16(v) => LuaValue::Integer(i64::from(v)),
        Value::I32(v) => LuaValue::Integer(i64::from(v)),
        Value::I64(v) => LuaValue::Integer(v),
        Value::Isize(v) => {
            LuaValue::Integer(i64::try_from(v).map_err(|_| format!("{v} is too big"))?)
        }
        Value::F32(v) => LuaValue::Number(f64::from(v)),
        Value::F64(v) => LuaValue::Number(v),
        Value::Str(text) => LuaValue::String(lua.create_string(text).map_err(|e| e.to_string())?),
        Value::Bytes(bytes) => {
            LuaValue::String(lua.create_string(bytes).map_err(|e| e.to_string())?)
        }
        Value::String(ref text) => {
            LuaValue::String(lua.create_string(text).map_err(|e| e.to_string())?)
        }
        Value::Buf(ref bytes) => {
            LuaValue::String(lua.create_string(bytes).map_err(|e| e.to_string())?)
        }
    })
}

/// An integer argument as the Lua integer it becomes, for calls that push
/// it as one, without a [`LuaValue`]; `None` for every other value (and
/// for a `u64` or `usize` above `i64::MAX`, which [`to_lua`] refuses).
pub(crate) fn integer_arg(value: &Value<'_>) -> Option<i64> {
    match *value {
        Value::U8(v) => Some(i64::from(v)),
        Value::U16(v) => Some(i64::from(v)),
        Value::U32(v) => Some(i64::from(v)),
        Value::I8(v) => Some(i64::from(v)),
        Value::I16(v) => Some(i64::from(v)),
        Value::I32(v) => Some(i64::from(v)),
        Value::I64(v) => Some(v),
        Value::U64(v) => i64::try_from(v).ok(),
        Value::Usize(v) => i64::try_from(v).ok(),
        Value::Isize(v) => i64::try_from(v).ok(),
        _ => None,
    }
}

/// The integer a Lua value holds exactly: a Lua integer, or a float with
/// no fraction within `i64`.
fn integer(value: &LuaValue) -> Option<i64> {
    match *value {
        LuaValue::Integer(i) => Some(i),
        LuaValue::Number(n) if n.fract() == 0.0 && n >= -(2f64.powi(63)) && n < 2f64.powi(63) =>
        {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "integral and within i64 (checked)"
            )]
            Some(n as i64)
        }
        _ => None,
    }
}

/// `i` as a value of integer type `ty`, if it fits; `None` for a value
/// out of range or a type that is not an integer.
fn exact_integer(i: i64, ty: ValueType) -> Option<Value<'static>> {
    Some(match ty {
        ValueType::U8 => Value::U8(u8::try_from(i).ok()?),
        ValueType::U16 => Value::U16(u16::try_from(i).ok()?),
        ValueType::U32 => Value::U32(u32::try_from(i).ok()?),
        ValueType::U64 => Value::U64(u64::try_from(i).ok()?),
        ValueType::Usize => Value::Usize(usize::try_from(i).ok()?),
        ValueType::I8 => Value::I8(i8::try_from(i).ok()?),
        ValueType::I16 => Value::I16(i16::try_from(i).ok()?),
        ValueType::I32 => Value::I32(i32::try_from(i).ok()?),
        ValueType::I64 => Value::I64(i),
        ValueType::Isize => Value::Isize(isize::try_from(i).ok()?),
        _ => return None,
    })
}

/// What a Lua value is, for messages.
pub(crate) fn kind(value: &LuaValue) -> String {
    match value {
        LuaValue::Integer(i) => format!("the integer {i}"),
        LuaValue::Number(n) => format!("the number {n}"),
        other => format!("a {}", other.type_name()),
    }
}

/// A Lua value as a value of type `ty` (`None`: `void`, which takes
/// anything and gives [`Value::Void`]). `str` and `bytes` give the owned
/// `string` and `buf`, for callers that borrow them next.
///
/// # Errors
///
/// What does not fit, and why: an integer out of the type's range, a
/// fraction for an integer type, a string that is not UTF-8 for `string`,
/// a value of another kind.
pub(crate) fn from_lua(value: &LuaValue, ty: Option<ValueType>) -> Result<Value<'static>, String> {
    let Some(ty) = ty else {
        return Ok(Value::Void);
    };
    // The common case first: a Lua integer in range of an integer type.
    // Anything else takes the path below, which also says why a value
    // does not fit.
    if let LuaValue::Integer(i) = *value
        && let Some(exact) = exact_integer(i, ty)
    {
        return Ok(exact);
    }
    let int = |value: &LuaValue| {
        integer(value)
            .ok_or_else(|| format!("expected an integer for {}, got {}", ty.name(), kind(value)))
    };
    let range = |v: i64| format!("{v} does not fit {}", ty.name());
    let number = |value: &LuaValue| match *value {
        LuaValue::Integer(i) =>
        {
            #[expect(
                clippy::cast_precision_loss,
                reason = "Lua's own integer-to-float conversion"
            )]
            Ok(i as f64)
        }
        LuaValue::Number(n) => Ok(n),
        _ => Err(format!(
            "expected a number for {}, got {}",
            ty.name(),
            kind(value)
        )),
    };
    let bytes = |value: &LuaValue| match value {
        LuaValue::String(s) => Ok(s.as_bytes().to_vec()),
        _ => Err(format!(
            "expected a string for {}, got {}",
            ty.name(),
            kind(value)
        )),
    };
    Ok(match ty {
        ValueType::U8 => Value::U8(int(value).and_then(|v| u8::try_from(v).map_err(|_| range(v)))?),
        ValueType::U16 => {
            Value::U16(int(value).and_then(|v| u16::try_from(v).map_err(|_| range(v)))?)
        }
        ValueType::U32 => {
            Value::U32(int(value).and_then(|v| u32::try_from(v).map_err(|_| range(v)))?)
        }
        ValueType::U64 => {
            Value::U64(int(value).and_then(|v| u64::try_from(v).map_err(|_| range(v)))?)
        }
        ValueType::Usize => {
            Value::Usize(int(value).and_then(|v| usize::try_from(v).map_err(|_| range(v)))?)
        }
        ValueType::I8 => Value::I8(int(value).and_then(|v| i8::try_from(v).map_err(|_| range(v)))?),
        ValueType::I16 => {
            Value::I16(int(value).and_then(|v| i16::try_from(v).map_err(|_| range(v)))?)
        }
        ValueType::I32 => {
            Value::I32(int(value).and_then(|v| i32::try_from(v).map_err(|_| range(v)))?)
        }
        ValueType::I64 => Value::I64(int(value)?),
        ValueType::Isize => {
            Value::Isize(int(value).and_then(|v| isize::try_from(v).map_err(|_| range(v)))?)
        }
        ValueType::F32 =>
        {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "f32 results round as a C cast does"
            )]
            Value::F32(number(value)? as f32)
        }
        ValueType::F64 => Value::F64(number(value)?),
        ValueType::Str | ValueType::String => Value::String(
            String::from_utf8(bytes(value)?).map_err(|_| "the string is not UTF-8".to_owned())?,
        ),
        ValueType::Bytes | ValueType::Buf => Value::Buf(bytes(value)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_arguments_are_pushed_as_the_lua_integer_to_lua_makes() {
        let lua = Lua::new();
        for value in [
            Value::U8(7),
            Value::U32(u32::MAX),
            Value::I32(-5),
            Value::I64(i64::MIN),
            Value::U64(1 << 40),
            Value::Usize(3),
            Value::Isize(-3),
        ] {
            let pushed = integer_arg(&value).map(LuaValue::Integer);
            assert_eq!(pushed, to_lua(&lua, &value).ok(), "{value:?}");
        }
        assert_eq!(integer_arg(&Value::U64(u64::MAX)), None);
        assert_eq!(integer_arg(&Value::F64(1.0)), None);
        assert_eq!(integer_arg(&Value::Str("1")), None);
    }

    #[test]
    fn results_out_of_range_are_refused_not_wrapped() {
        assert_eq!(
            from_lua(&LuaValue::Integer(7), Some(ValueType::U32)),
            Ok(Value::U32(7))
        );
        assert_eq!(
            from_lua(&LuaValue::Number(7.0), Some(ValueType::U8)),
            Ok(Value::U8(7))
        );
        assert!(from_lua(&LuaValue::Integer(-1), Some(ValueType::U32)).is_err());
        assert!(from_lua(&LuaValue::Integer(256), Some(ValueType::U8)).is_err());
        assert!(from_lua(&LuaValue::Integer(1 << 40), Some(ValueType::I32)).is_err());
        assert!(from_lua(&LuaValue::Number(1.5), Some(ValueType::I64)).is_err());
        assert!(from_lua(&LuaValue::Nil, Some(ValueType::F64)).is_err());
        assert_eq!(
            from_lua(&LuaValue::Integer(2), Some(ValueType::F64)),
            Ok(Value::F64(2.0))
        );
    }
}
