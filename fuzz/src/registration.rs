//! What a plugin registers: a [`PlainInterface`] into
//! [`PlainInterface::validate`].
//!
//! The interface is built from structured choices, so that duplicates,
//! wrong ids, null functions, oversized names and tables, non-UTF-8 bytes
//! and half-set instance hooks all come up often. An oracle written here
//! from the documented limits lists every faulty field of the interface.
//! The properties:
//!
//! 1. `validate` never panics.
//! 2. It accepts exactly the interfaces in which the oracle finds no fault:
//!    a contract name of 1 to [`MAX_NAME_BYTES`] bytes of `[a-z0-9_.-]`
//!    starting with a letter (the manifest's rule, checked here with
//!    [`ContractName`]); `id == ContractId::of(name, major)`; at most
//!    [`MAX_FUNCTIONS`] native and typed functions; function names that are
//!    UTF-8, non-empty, at most [`MAX_NAME_BYTES`] bytes and unique within
//!    their list; signatures of at most [`MAX_NAME_BYTES`] bytes in the
//!    grammar `ret(arg,...)`; no null function; `create_instance` and
//!    `destroy_instance` both set or both null.
//! 3. A refusal names one of the faulty fields, and the contract by its
//!    name when the name is readable.
//!
//! The function pointers are real functions defined here, never called:
//! validation only looks at whether they are null.

use std::ffi::c_void;

use arbitrary::Arbitrary;
use polyplug::interface::{MAX_FUNCTIONS, MAX_NAME_BYTES, PlainInterface};
use polyplug_abi::{
    AbiError, ContractId, CreateInstanceFn, DestroyInstanceFn, HostApi, NativeFn, Version, VoidFn,
};
use polyplug_loader::ContractName;

/// Bytes for a name or a signature.
#[derive(Arbitrary, Debug, Clone)]
pub enum Text {
    /// Any bytes at all (often not UTF-8).
    Raw(Vec<u8>),
    /// One of a few plausible names, so that duplicates are common.
    Common(u8),
    /// `byte` repeated `len` times: names around and past the limits.
    Repeat {
        /// The byte.
        byte: u8,
        /// How many times.
        len: u16,
    },
}

const COMMON: [&str; 8] = [
    "test.add",
    "add",
    "inc",
    "a",
    "x-y_z.9",
    "Add",
    "",
    "test.add.v2",
];

impl Text {
    /// The bytes this choice stands for.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Text::Raw(bytes) => bytes.clone(),
            Text::Common(i) => COMMON[usize::from(*i) % COMMON.len()].as_bytes().to_vec(),
            Text::Repeat { byte, len } => vec![*byte; usize::from(*len % 512)],
        }
    }
}

/// A signature spelling.
#[derive(Arbitrary, Debug, Clone)]
pub enum Sig {
    /// Built from the grammar's type names, with whitespace sprinkled in.
    Built {
        /// Index into the return types (`void` and the 12 value types).
        ret: u8,
        /// Indices into the argument types; an index past them is `void`.
        args: Vec<u8>,
        /// Where to put spaces, tabs and newlines.
        spaces: Vec<u8>,
    },
    /// Anything else.
    Text(Text),
}

/// The 12 number types of the signature grammar.
pub const VALUE_TYPES: [&str; 12] = [
    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "isize", "f32", "f64",
];

/// What may stand as an argument besides the numbers: borrowed views.
pub const VIEW_TYPES: [&str; 2] = ["str", "bytes"];

/// What may stand as a result besides `void` and the numbers: owned
/// buffers the host frees.
pub const OWNED_TYPES: [&str; 2] = ["string", "buf"];

/// Every type name of the grammar, in the order [`Sig::Built`] indexes
/// them; an index past them is `void`. Each name is misplaced half the
/// time (a view as a result, an owned buffer or `void` as an argument).
const ALL_TYPES: [&str; 16] = [
    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "isize", "f32", "f64", "str",
    "bytes", "string", "buf",
];

impl Sig {
    /// The bytes this choice stands for.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Sig::Built { ret, args, spaces } => {
                let name = |i: u8| ALL_TYPES.get(usize::from(i)).copied().unwrap_or("void");
                let args: Vec<&str> = args.iter().map(|&a| name(a % 18)).collect();
                let plain = format!("{}({})", name(ret % 17), args.join(","));
                let mut spelled = String::new();
                for (i, c) in plain.chars().enumerate() {
                    if let Some(&s) = spaces.get(i) {
                        spelled.push_str(match s % 8 {
                            0 => " ",
                            1 => "\t",
                            2 => "\n",
                            _ => "",
                        });
                    }
                    spelled.push(c);
                }
                spelled.into_bytes()
            }
            Sig::Text(text) => text.bytes(),
        }
    }
}

/// How the `id` field is chosen.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Id {
    /// `ContractId::of(name, major)`, as a correct plugin computes it.
    Matching,
    /// The id of the same name at another major.
    OtherMajor(u32),
    /// Any 64 bits.
    Raw(u64),
}

/// One native entry.
#[derive(Arbitrary, Debug, Clone)]
pub struct Native {
    /// Its name.
    pub name: Text,
    /// Whether its function is non-null.
    pub func: bool,
}

/// One typed entry.
#[derive(Arbitrary, Debug, Clone)]
pub struct Typed {
    /// Its name.
    pub name: Text,
    /// Its signature.
    pub signature: Sig,
    /// Whether its function is non-null.
    pub func: bool,
}

/// One fuzz input: everything a registration holds.
#[derive(Arbitrary, Debug, Clone)]
pub struct Registration {
    /// The contract name.
    pub name: Text,
    /// The id.
    pub id: Id,
    /// The version (`major`, `minor`, `patch`).
    pub version: (u32, u32, u32),
    /// The native entries.
    pub native: Vec<Native>,
    /// The typed entries.
    pub typed: Vec<Typed>,
    /// Extra copies of the last native and typed entry, with numbered
    /// names, to reach and pass [`MAX_FUNCTIONS`].
    pub pad: (u16, u16),
    /// Whether `create_instance` is set.
    pub create: bool,
    /// Whether `destroy_instance` is set.
    pub destroy: bool,
}

extern "C" fn native_fn(_: *mut c_void, _: *const c_void, _: *mut c_void, _: *mut AbiError) -> u32 {
    0
}

extern "C" fn void_fn() {}

extern "C" fn create_fn(_: *const HostApi, _: *mut *mut c_void, _: *mut AbiError) -> u32 {
    0
}

extern "C" fn destroy_fn(_: *mut c_void) {}

/// Builds the interface `input` describes.
pub fn build(input: &Registration) -> PlainInterface {
    let name = input.name.bytes();
    let (major, minor, patch) = input.version;
    let id = match input.id {
        Id::Matching => ContractId::of(&String::from_utf8_lossy(&name), major),
        Id::OtherMajor(other) => ContractId::of(&String::from_utf8_lossy(&name), other),
        Id::Raw(raw) => ContractId(raw),
    };
    let mut native: Vec<(Vec<u8>, Option<NativeFn>)> = input
        .native
        .iter()
        .map(|n| (n.name.bytes(), n.func.then_some(native_fn as NativeFn)))
        .collect();
    let mut typed: Vec<(Vec<u8>, Vec<u8>, Option<VoidFn>)> = input
        .typed
        .iter()
        .map(|t| {
            let func = t.func.then_some(void_fn as VoidFn);
            (t.name.bytes(), t.signature.bytes(), func)
        })
        .collect();
    let (pad_native, pad_typed) = input.pad;
    if let Some((_, func)) = native.last().cloned() {
        for i in 0..pad_native % 300 {
            native.push((format!("pad{i}").into_bytes(), func));
        }
    }
    if let Some((_, sig, func)) = typed.last().cloned() {
        for i in 0..pad_typed % 300 {
            typed.push((format!("pad{i}").into_bytes(), sig.clone(), func));
        }
    }
    PlainInterface {
        id,
        name,
        version: Version::new(major, minor, patch),
        native,
        typed,
        typed_packed: Vec::new(),
        create_instance: input.create.then_some(create_fn as CreateInstanceFn),
        destroy_instance: input.destroy.then_some(destroy_fn as DestroyInstanceFn),
        context: Vec::new(),
        instance_ctx: std::ptr::null_mut(),
        create_context_instance: None,
        destroy_context_instance: None,
        save_instance: None,
        restore_instance: None,
        save_context_instance: None,
        restore_context_instance: None,
    }
}

/// Validates the interface `input` describes and checks the properties
/// above.
///
/// ```
/// use polyplug_fuzz::registration::{Id, Registration, Text, check};
///
/// check(&Registration {
///     name: Text::Common(0),
///     id: Id::Matching,
///     version: (1, 0, 0),
///     native: Vec::new(),
///     typed: Vec::new(),
///     pad: (0, 0),
///     create: true,
///     destroy: false,
/// });
/// ```
pub fn check(input: &Registration) {
    let plain = build(input);
    let faults = faults(&plain);
    let name = String::from_utf8(plain.name.clone()).ok();
    match plain.validate() {
        Ok(table) => assert!(
            faults.is_empty(),
            "accepted with faults {faults:?}: {table:?}"
        ),
        Err(error) => {
            assert!(
                faults.contains(&error.field),
                "refused for {:?}, which the oracle finds sound (faults {faults:?}): {error}",
                error.field
            );
            assert!(!error.problem.is_empty(), "no problem stated: {error}");
            let shown = error.to_string();
            assert!(
                !shown.chars().any(polyplug_loader::is_unsafe_char),
                "a control character in the message: {shown:?}"
            );
            if let Some(name) = name.filter(|_| error.field != "name") {
                assert_eq!(error.contract, name, "{error}");
            }
        }
    }
}

/// Every field of `plain` that breaks a documented limit.
pub fn faults(plain: &PlainInterface) -> Vec<String> {
    let mut faults = Vec::new();
    match core::str::from_utf8(&plain.name) {
        Ok(name) if name.len() <= MAX_NAME_BYTES && ContractName::parse(name).is_ok() => {
            if plain.id != ContractId::of(name, plain.version.major) {
                faults.push("id".to_owned());
            }
        }
        _ => faults.push("name".to_owned()),
    }
    let limit = usize::try_from(MAX_FUNCTIONS).unwrap_or(usize::MAX);
    if plain.native.len() > limit {
        faults.push("native_count".to_owned());
    }
    if plain.typed.len() > limit {
        faults.push("typed_count".to_owned());
    }
    let native_names: Vec<&[u8]> = plain.native.iter().map(|(n, _)| n.as_slice()).collect();
    for (i, (_, func)) in plain.native.iter().enumerate() {
        function_faults(&mut faults, "native", i, &native_names, func.is_some());
    }
    let typed_names: Vec<&[u8]> = plain.typed.iter().map(|(n, _, _)| n.as_slice()).collect();
    for (i, (_, sig, func)) in plain.typed.iter().enumerate() {
        function_faults(&mut faults, "typed", i, &typed_names, func.is_some());
        let sound = sig.len() <= MAX_NAME_BYTES
            && core::str::from_utf8(sig).is_ok_and(|s| signature_grammar(s).is_some());
        if !sound {
            faults.push(format!("typed[{i}].signature"));
        }
    }
    match (
        plain.create_instance.is_some(),
        plain.destroy_instance.is_some(),
    ) {
        (true, false) => faults.push("destroy_instance".to_owned()),
        (false, true) => faults.push("create_instance".to_owned()),
        _ => {}
    }
    faults
}

fn function_faults(faults: &mut Vec<String>, list: &str, i: usize, names: &[&[u8]], func: bool) {
    let name = names.get(i).copied().unwrap_or_default();
    let readable = !name.is_empty() && name.len() <= MAX_NAME_BYTES;
    let duplicate = names.get(..i).is_some_and(|before| before.contains(&name));
    if !readable || core::str::from_utf8(name).is_err() || duplicate {
        faults.push(format!("{list}[{i}].name"));
    }
    if !func {
        faults.push(format!("{list}[{i}].func"));
    }
}

/// The whitespace-free form of `spelling` when it is `ret(arg,...)` with a
/// return type of `void`, a number or an owned buffer, and arguments that
/// are numbers or views.
///
/// ```
/// use polyplug_fuzz::registration::signature_grammar;
///
/// assert_eq!(signature_grammar(" u32 (u8,\tf64) ").as_deref(), Some("u32(u8,f64)"));
/// assert_eq!(signature_grammar("void()").as_deref(), Some("void()"));
/// assert_eq!(signature_grammar("u32(void)"), None);
/// assert_eq!(signature_grammar("u32(u32,)"), None);
/// assert_eq!(signature_grammar("string(str, bytes)").as_deref(), Some("string(str,bytes)"));
/// assert_eq!(signature_grammar("str(u32)"), None);
/// assert_eq!(signature_grammar("u32(buf)"), None);
/// ```
pub fn signature_grammar(spelling: &str) -> Option<String> {
    let compact: String = spelling.chars().filter(|c| !c.is_whitespace()).collect();
    // The longest type name `rest` starts with, from `names`.
    let longest = |rest: &str, names: &[&str]| -> Option<usize> {
        names
            .iter()
            .filter(|t| rest.starts_with(**t))
            .map(|t| t.len())
            .max()
    };
    let arg = |rest: &str| longest(rest, &VALUE_TYPES).max(longest(rest, &VIEW_TYPES));
    let mut rest = compact.as_str();
    let ret = longest(rest, &["void"])
        .max(longest(rest, &VALUE_TYPES))
        .max(longest(rest, &OWNED_TYPES))?;
    rest = rest.get(ret..)?.strip_prefix('(')?;
    if rest != ")" {
        loop {
            rest = rest.get(arg(rest)?..)?;
            match rest.strip_prefix(',') {
                Some(more) => rest = more,
                None => break,
            }
        }
        if rest != ")" {
            return None;
        }
    }
    Some(compact)
}
