//! Values across the boundary: the seam's [`Value`]s as Python objects
//! for arguments, Python objects back into the declared type for
//! results, checked for range, never wrapped.

use polyplug::loader::{Value, ValueType};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyFloat, PyInt, PyString};

/// A seam value as a Python object: integers as `int`, floats as
/// `float`, `str` and `string` as `str`, `bytes` and `buf` as `bytes`,
/// `void` as `None`.
pub(crate) fn to_py<'py>(py: Python<'py>, value: &Value<'_>) -> Bound<'py, PyAny> {
    match *value {
        Value::Void => py.None().into_bound(py),
        Value::U8(v) => PyInt::new(py, v).into_any(),
        Value::U16(v) => PyInt::new(py, v).into_any(),
        Value::U32(v) => PyInt::new(py, v).into_any(),
        Value::U64(v) => PyInt::new(py, v).into_any(),
        Value::Usize(v) => PyInt::new(py, v).into_any(),
        Value::I8(v) => PyInt::new(py, v).into_any(),
        Value::I16(v) => PyInt::new(py, v).into_any(),
        Value::I32(v) => PyInt::new(py, v).into_any(),
        Value::I64(v) => PyInt::new(py, v).into_any(),
        Value::Isize(v) => PyInt::new(py, v).into_any(),
        Value::F32(v) => PyFloat::new(py, f64::from(v)).into_any(),
        Value::F64(v) => PyFloat::new(py, v).into_any(),
        Value::Str(text) => PyString::new(py, text).into_any(),
        Value::String(ref text) => PyString::new(py, text).into_any(),
        Value::Bytes(bytes) => PyBytes::new(py, bytes).into_any(),
        Value::Buf(ref bytes) => PyBytes::new(py, bytes).into_any(),
    }
}

/// What a Python object is, for messages.
fn kind(value: &Bound<'_, PyAny>) -> String {
    let ty = value
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string());
    match value.repr() {
        Ok(repr) if repr.len().unwrap_or(usize::MAX) <= 40 => format!("{ty} {repr}"),
        _ => format!("a {ty}"),
    }
}

/// A Python object as a value of type `ty` (`None`: `void`, which takes
/// anything and gives [`Value::Void`]). `str` and `bytes` give the owned
/// `string` and `buf`, for callers that borrow them next.
///
/// # Errors
///
/// An object of another kind, an integer out of range, a float with a
/// fraction where an integer is declared: a message naming the object.
pub(crate) fn from_py(
    value: &Bound<'_, PyAny>,
    ty: Option<ValueType>,
) -> Result<Value<'static>, String> {
    let Some(ty) = ty else {
        return Ok(Value::Void);
    };
    let misfit = || format!("{} does not fit {}", kind(value), ty.name());
    let int =
        || -> Result<&Bound<'_, PyInt>, String> { value.cast::<PyInt>().map_err(|_| misfit()) };
    Ok(match ty {
        ValueType::U8 => Value::U8(int()?.extract().map_err(|_| misfit())?),
        ValueType::U16 => Value::U16(int()?.extract().map_err(|_| misfit())?),
        ValueType::U32 => Value::U32(int()?.extract().map_err(|_| misfit())?),
        ValueType::U64 => Value::U64(int()?.extract().map_err(|_| misfit())?),
        ValueType::Usize => Value::Usize(int()?.extract().map_err(|_| misfit())?),
        ValueType::I8 => Value::I8(int()?.extract().map_err(|_| misfit())?),
        ValueType::I16 => Value::I16(int()?.extract().map_err(|_| misfit())?),
        ValueType::I32 => Value::I32(int()?.extract().map_err(|_| misfit())?),
        ValueType::I64 => Value::I64(int()?.extract().map_err(|_| misfit())?),
        ValueType::Isize => Value::Isize(int()?.extract().map_err(|_| misfit())?),
        ValueType::F32 | ValueType::F64 => {
            if value.cast::<PyFloat>().is_err() && value.cast::<PyInt>().is_err() {
                return Err(misfit());
            }
            let v: f64 = value.extract().map_err(|_| misfit())?;
            if ty == ValueType::F32 {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "f32 results round, as a C float does"
                )]
                Value::F32(v as f32)
            } else {
                Value::F64(v)
            }
        }
        ValueType::Str | ValueType::String => {
            let text = value.cast::<PyString>().map_err(|_| misfit())?;
            Value::String(text.to_str().map_err(|e| e.to_string())?.to_owned())
        }
        ValueType::Bytes | ValueType::Buf => {
            if let Ok(bytes) = value.cast::<PyBytes>() {
                Value::Buf(bytes.as_bytes().to_vec())
            } else if let Ok(array) = value.cast::<PyByteArray>() {
                Value::Buf(array.to_vec())
            } else {
                return Err(misfit());
            }
        }
    })
}
