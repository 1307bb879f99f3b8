//! The typed signature grammar: `ret(arg,arg)`, as a plugin registers a
//! typed function (`u32(u32,u64)`, `string(str)`), a script declares one
//! (`sig = "u32(u32)"`) and a contract definition spells one. The runtime,
//! the engines and the definitions share this one parser.

use std::fmt;

/// The argument types a signature may name: the numbers and the views.
pub const ARG_NAMES: [&str; 14] = [
    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "isize", "f32", "f64", "str",
    "bytes",
];

/// The result types a signature may name: `void`, the numbers, and the
/// owned `string` and `buf`.
pub const RET_NAMES: [&str; 15] = [
    "void", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "isize", "f32", "f64",
    "string", "buf",
];

/// Removes whitespace from a signature spelling and checks its grammar:
/// `ret(arg,arg)` with argument names from [`ARG_NAMES`] (numbers, `str`,
/// `bytes`) and a result from [`RET_NAMES`] (`void`, numbers, `string`,
/// `buf`).
///
/// # Errors
///
/// What is wrong with the spelling, naming it.
///
/// ```
/// use polyplug_contract::signature::normalize;
///
/// assert_eq!(normalize(" u32 ( u32, u32 ) ").as_deref(), Ok("u32(u32,u32)"));
/// assert!(normalize("str(u32)").is_err());
/// ```
pub fn normalize(spelling: &str) -> Result<String, String> {
    let compact: String = spelling.chars().filter(|c| !c.is_whitespace()).collect();
    let Some((ret, rest)) = compact.split_once('(') else {
        return Err(format!("expected `ret(args)`, found {spelling:?}"));
    };
    let Some(args) = rest.strip_suffix(')') else {
        return Err(format!("expected `)` at the end of {spelling:?}"));
    };
    if !RET_NAMES.contains(&ret) {
        let hint = if ARG_NAMES.contains(&ret) {
            " (`str` and `bytes` are arguments; a function returns `string` or `buf`)"
        } else {
            ""
        };
        return Err(format!("unknown return type {ret:?} in {spelling:?}{hint}"));
    }
    if !args.is_empty() {
        for arg in args.split(',') {
            if !ARG_NAMES.contains(&arg) {
                let hint = if RET_NAMES.contains(&arg) && arg != "void" {
                    " (`string` and `buf` are results; an argument is `str` or `bytes`)"
                } else {
                    ""
                };
                return Err(format!(
                    "unknown argument type {arg:?} in {spelling:?}{hint}"
                ));
            }
        }
    }
    Ok(compact)
}

/// The type of a `Value`, as a signature names it.
///
/// ```
/// use polyplug_contract::signature::ValueType;
///
/// assert_eq!(ValueType::from_name("u64"), Some(ValueType::U64));
/// assert_eq!(ValueType::U64.name(), "u64");
/// assert_eq!(ValueType::from_name("string"), Some(ValueType::String));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `i8`.
    I8,
    /// `i16`.
    I16,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `usize`.
    Usize,
    /// `isize`.
    Isize,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `str`, an argument: a [`StrView`](polyplug_abi::StrView).
    Str,
    /// `bytes`, an argument: a [`BytesView`](polyplug_abi::BytesView).
    Bytes,
    /// `string`, a result: an [`OwnedBuf`](polyplug_abi::OwnedBuf) of UTF-8.
    String,
    /// `buf`, a result: an [`OwnedBuf`](polyplug_abi::OwnedBuf).
    Buf,
}

impl ValueType {
    const ALL: [ValueType; 16] = [
        ValueType::U8,
        ValueType::U16,
        ValueType::U32,
        ValueType::U64,
        ValueType::I8,
        ValueType::I16,
        ValueType::I32,
        ValueType::I64,
        ValueType::Usize,
        ValueType::Isize,
        ValueType::F32,
        ValueType::F64,
        ValueType::Str,
        ValueType::Bytes,
        ValueType::String,
        ValueType::Buf,
    ];

    /// The type a signature spells `name`.
    ///
    /// ```
    /// assert_eq!(polyplug_contract::signature::ValueType::from_name("void"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<ValueType> {
        ValueType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The type's name in a signature.
    ///
    /// ```
    /// assert_eq!(polyplug_contract::signature::ValueType::F32.name(), "f32");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            ValueType::U8 => "u8",
            ValueType::U16 => "u16",
            ValueType::U32 => "u32",
            ValueType::U64 => "u64",
            ValueType::I8 => "i8",
            ValueType::I16 => "i16",
            ValueType::I32 => "i32",
            ValueType::I64 => "i64",
            ValueType::Usize => "usize",
            ValueType::Isize => "isize",
            ValueType::F32 => "f32",
            ValueType::F64 => "f64",
            ValueType::Str => "str",
            ValueType::Bytes => "bytes",
            ValueType::String => "string",
            ValueType::Buf => "buf",
        }
    }
}

/// A typed signature, parsed: `u32(u32,u64)` is `ret: Some(U32)`,
/// `args: [U32, U64]`.
///
/// ```
/// use polyplug_contract::signature::{TypedSignature, ValueType};
///
/// let sig = TypedSignature::parse("void ( u32, f64 )")?;
/// assert_eq!((sig.ret, sig.args.as_slice()), (None, [ValueType::U32, ValueType::F64].as_slice()));
/// assert_eq!(sig.to_string(), "void(u32,f64)");
/// assert!(TypedSignature::parse("str()").is_err()); // `str` is an argument type
/// assert_eq!(TypedSignature::parse("string(str)")?.ret, Some(ValueType::String));
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedSignature {
    /// The return type; `None` for `void`.
    pub ret: Option<ValueType>,
    /// The argument types, in order (at most six).
    pub args: Vec<ValueType>,
}

/// Most arguments a typed function may take.
pub const MAX_ARGS: usize = 6;

impl TypedSignature {
    /// Parses a signature spelling, whitespace allowed.
    ///
    /// # Errors
    ///
    /// The grammar's error, or more than six arguments.
    ///
    /// ```
    /// assert!(polyplug_contract::signature::TypedSignature::parse("u32(u32,u32,u32,u32,u32,u32,u32)").is_err());
    /// ```
    pub fn parse(spelling: &str) -> Result<TypedSignature, String> {
        let compact = normalize(spelling)?;
        let (ret, rest) = compact.split_once('(').unwrap_or((compact.as_str(), ")"));
        let args_text = rest.strip_suffix(')').unwrap_or(rest);
        let ret = ValueType::from_name(ret);
        let args: Vec<ValueType> = if args_text.is_empty() {
            Vec::new()
        } else {
            args_text
                .split(',')
                .filter_map(ValueType::from_name)
                .collect()
        };
        if args.len() > MAX_ARGS {
            return Err(format!(
                "{} arguments in {spelling:?}; a typed function takes at most {MAX_ARGS}",
                args.len()
            ));
        }
        Ok(TypedSignature { ret, args })
    }
}

impl fmt::Display for TypedSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<&str> = self.args.iter().map(|t| t.name()).collect();
        write!(
            f,
            "{}({})",
            self.ret.map_or("void", ValueType::name),
            args.join(",")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_checks_the_grammar() {
        assert_eq!(
            normalize(" u32 ( u32, u32 ) ").as_deref(),
            Ok("u32(u32,u32)")
        );
        assert_eq!(normalize("void()").as_deref(), Ok("void()"));
        assert!(normalize("u32(void)").is_err());
        assert!(normalize("u32(u32,)").is_err());
        assert_eq!(normalize("string(str)").as_deref(), Ok("string(str)"));
        assert_eq!(normalize("buf(bytes,u32)").as_deref(), Ok("buf(bytes,u32)"));
        assert!(normalize("str(u32)").is_err());
        assert!(normalize("u32(string)").is_err());
        assert!(normalize("u32(buf)").is_err());
        assert!(normalize("bytes()").is_err());
        assert!(normalize("u32 u32").is_err());
        assert!(normalize("u32(u32").is_err());
    }
}
