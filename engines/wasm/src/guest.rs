//! The guest ABI: how a module's export names declare its contracts.
//! `docs/wasm-plugins.md` is the guide; this is the parser.
//!
//! - `<contract>@<version>/<function>:<signature>`: a typed function, for
//!   example `test.add@1.0.0/add:u32(u32,u32)`.
//! - `<contract>@<version>/+instance`: the contract is stateful; this
//!   function, of type `() -> i32`, runs on every new instance's own wasm
//!   instance and returns 0 or an error code.
//! - `<contract>@<version>/+save` (`() -> i64`) and
//!   `<contract>@<version>/+restore` (`(i32, i32) -> i32`): a stateful
//!   contract's state handover, both or neither. `+save` returns the
//!   instance's state as `ptr | (len << 32)`; `+restore` runs on a fresh
//!   wasm instance in place of `+instance`, with the state copied in, and
//!   returns 0 or an error code.
//! - `polyplug_init`: optional, `() -> i32`, runs on every new wasm
//!   instance after its start function; 0 or an error code.
//! - `polyplug_alloc` (`(size: i32, align: i32) -> i32`) and
//!   `polyplug_free` (`(ptr: i32, size: i32, align: i32) -> ()`): the
//!   guest's allocator, for bytes the host copies in (`str`/`bytes`
//!   arguments, a handover state) and out (`string`/`buf` results, a saved
//!   state).
//!
//! Every other export (a memory, a helper without `@`) is ignored.

use polyplug::Version;
use polyplug::loader::{TypedSignature, ValueType};

/// The export that runs on every new wasm instance.
pub(crate) const INIT_EXPORT: &str = "polyplug_init";
/// The guest's allocator, `(size, align) -> ptr`, for what the host
/// copies into its memory.
pub(crate) const ALLOC_EXPORT: &str = "polyplug_alloc";
/// The guest's deallocator, `(ptr, size, align) -> ()`, for what the
/// host copied in or out; optional.
pub(crate) const FREE_EXPORT: &str = "polyplug_free";
/// The function name of the instance constructor.
pub(crate) const INSTANCE_FUNCTION: &str = "+instance";
/// The function name of the state handover's save.
pub(crate) const SAVE_FUNCTION: &str = "+save";
/// The function name of the state handover's restore.
pub(crate) const RESTORE_FUNCTION: &str = "+restore";

/// A wasm value type, as the loader sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WasmType {
    I32,
    I64,
    F32,
    F64,
    /// Anything else (a reference, a vector).
    Other,
}

impl WasmType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            WasmType::I32 => "i32",
            WasmType::I64 => "i64",
            WasmType::F32 => "f32",
            WasmType::F64 => "f64",
            WasmType::Other => "a non-number",
        }
    }
}

/// The wasm type a signature's number type travels as; `None` for types
/// the wasm loader does not carry as one number (`u8`, `u16`, `i8`,
/// `i16`, `usize`, `isize`, and the byte types).
pub(crate) fn wasm_type(ty: ValueType) -> Option<WasmType> {
    match ty {
        ValueType::U32 | ValueType::I32 => Some(WasmType::I32),
        ValueType::U64 | ValueType::I64 => Some(WasmType::I64),
        ValueType::F32 => Some(WasmType::F32),
        ValueType::F64 => Some(WasmType::F64),
        _ => None,
    }
}

/// The wasm parameters an argument type travels as: one number, or a
/// `(ptr, len)` pair for `str` and `bytes`; `None` for types the wasm
/// loader does not carry.
pub(crate) fn wasm_params(ty: ValueType) -> Option<&'static [WasmType]> {
    match ty {
        ValueType::Str | ValueType::Bytes => Some(&[WasmType::I32, WasmType::I32]),
        ValueType::U32 | ValueType::I32 => Some(&[WasmType::I32]),
        ValueType::U64 | ValueType::I64 => Some(&[WasmType::I64]),
        ValueType::F32 => Some(&[WasmType::F32]),
        ValueType::F64 => Some(&[WasmType::F64]),
        _ => None,
    }
}

/// The wasm result a return type travels as: one number, or one `i64`
/// `ptr | (len << 32)` for `string` and `buf`.
pub(crate) fn wasm_result(ty: ValueType) -> Option<WasmType> {
    match ty {
        ValueType::String | ValueType::Buf => Some(WasmType::I64),
        other => wasm_type(other),
    }
}

/// Whether values of this type are bytes in the guest's memory.
pub(crate) fn is_bytes(ty: ValueType) -> bool {
    matches!(
        ty,
        ValueType::Str | ValueType::Bytes | ValueType::String | ValueType::Buf
    )
}

/// The most wasm parameters an export may take.
pub(crate) const MAX_WASM_PARAMS: usize = 6;

/// A wasm function type, spelled for messages: `(i32, i32) -> i32`.
pub(crate) fn spell(params: &[WasmType], results: &[WasmType]) -> String {
    let list = |types: &[WasmType]| {
        types
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(params), list(results))
}

/// One export that names a contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContractExport {
    pub(crate) contract: String,
    pub(crate) version: Version,
    pub(crate) kind: ExportKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExportKind {
    /// A typed function.
    Function {
        name: String,
        signature: TypedSignature,
    },
    /// The instance constructor.
    Instance,
    /// The state handover's save.
    Save,
    /// The state handover's restore.
    Restore,
}

/// Parses an export name: `None` when it names no contract (no `@`),
/// `Some(Err(problem))` when it tries to and is malformed.
pub(crate) fn parse_export(name: &str) -> Option<Result<ContractExport, String>> {
    let (contract, rest) = name.split_once('@')?;
    Some(parse_contract_export(contract, rest))
}

fn parse_contract_export(contract: &str, rest: &str) -> Result<ContractExport, String> {
    let Some((version, function)) = rest.split_once('/') else {
        return Err("expected <contract>@<version>/<function>:<signature>".to_owned());
    };
    let version = parse_version(version)
        .ok_or_else(|| format!("expected a version major.minor.patch, found {version:?}"))?;
    if contract.is_empty() {
        return Err("empty contract name".to_owned());
    }
    let special = match function {
        INSTANCE_FUNCTION => Some(ExportKind::Instance),
        SAVE_FUNCTION => Some(ExportKind::Save),
        RESTORE_FUNCTION => Some(ExportKind::Restore),
        _ => None,
    };
    if let Some(kind) = special {
        return Ok(ContractExport {
            contract: contract.to_owned(),
            version,
            kind,
        });
    }
    let Some((fname, spelling)) = function.split_once(':') else {
        return Err(format!(
            "expected {function}:<signature>, such as {function}:u32(u32)"
        ));
    };
    if fname.is_empty() {
        return Err("empty function name".to_owned());
    }
    let signature = TypedSignature::parse(spelling)?;
    let carried = signature.args.iter().all(|ty| wasm_params(*ty).is_some())
        && signature.ret.is_none_or(|ty| wasm_result(ty).is_some());
    if !carried {
        let ty = signature
            .args
            .iter()
            .find(|ty| wasm_params(**ty).is_none())
            .or(signature.ret.as_ref())
            .map_or("?", |ty| ty.name());
        return Err(format!(
            "type {ty} cannot cross into WebAssembly; use u32, i32, u64, i64, f32, f64, str or bytes (arguments), string or buf (results)"
        ));
    }
    Ok(ContractExport {
        contract: contract.to_owned(),
        version,
        kind: ExportKind::Function {
            name: fname.to_owned(),
            signature,
        },
    })
}

fn parse_version(text: &str) -> Option<Version> {
    let mut parts = text.split('.').map(|p| p.parse::<u32>().ok());
    let version = Version::new(parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names_parse() {
        let add = parse_export("test.add@1.2.0/add:u32(u32,u32)");
        let Some(Ok(add)) = add else {
            unreachable!("{add:?}")
        };
        assert_eq!(
            (add.contract.as_str(), add.version),
            ("test.add", Version::new(1, 2, 0))
        );
        assert!(matches!(add.kind, ExportKind::Function { ref name, .. } if name == "add"));
        assert!(matches!(
            parse_export("c@1.0.0/+instance"),
            Some(Ok(ContractExport {
                kind: ExportKind::Instance,
                ..
            }))
        ));
        assert_eq!(parse_export("memory"), None);
        assert!(matches!(
            parse_export("c@1.0.0/+save"),
            Some(Ok(ContractExport {
                kind: ExportKind::Save,
                ..
            }))
        ));
        assert!(matches!(
            parse_export("c@1.0.0/+restore"),
            Some(Ok(ContractExport {
                kind: ExportKind::Restore,
                ..
            }))
        ));
        for good in [
            "c@1.0.0/upper:string(str)",
            "c@1.0.0/sum:u64(bytes)",
            "c@1.0.0/copy:buf(bytes,u32)",
        ] {
            assert!(matches!(parse_export(good), Some(Ok(_))), "{good}");
        }
        for bad in [
            "c@1.0/f:u32()",
            "c@1.0.0/f:str()",
            "c@1.0.0/f:u32(string)",
            "c@1.0.0",
            "c@1.0.0/f",
            "c@1.0.0/f:u8()",
            "@1.0.0/f:u32()",
            "c@1.0.0/f:u32(usize)",
        ] {
            assert!(matches!(parse_export(bad), Some(Err(_))), "{bad}");
        }
    }
}
