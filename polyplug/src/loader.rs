//! Loaders beyond `dlopen`: the seam where an engine (a WebAssembly
//! interpreter, a script runtime) turns a bundle's code file into
//! contracts.
//!
//! # The problem
//!
//! A bundle whose manifest says `loader = "wasm"` (or `lua`, `python`,
//! `javascript`) has no library to `dlopen` and no entry point to call.
//! Its functions run inside an engine that the host chose to link. The
//! runtime must still give such a bundle everything a native one gets:
//! the same checks of what it registers, the same transactional publish,
//! reload that keeps handles, unload with stale handles, events, drain, and
//! a call path that readers use without locks.
//!
//! # The design
//!
//! - A host opts in per kind: `Runtime::builder().loader(my_loader).build()`
//!   ([`crate::RuntimeBuilder`]). A [`Loader`] says which manifest kind it
//!   serves ([`Loader::kind`]).
//! - To load, the runtime reads the bundle's code file (the `[library]`
//!   entry for this platform, bounded, checked against `library.sha256`)
//!   and hands it to the loader as a [`CodeSource`], with a [`Registrar`].
//! - The loader registers [`EngineContract`]s through the registrar. Each
//!   becomes the same registration a native plugin's entry point makes:
//!   its functions are ABI [`ContextEntry`](polyplug_abi::ContextEntry)s
//!   whose context points to the engine's [`EngineFn`], and it goes
//!   through the very checks a native registration goes through
//!   (validation, declared in the manifest, no duplicate). Everything
//!   after that (declared-vs-registered, publish, reload, unload, drain)
//!   is the runtime's one code path for every kind.
//! - The loader returns a [`LoadedCode`]: the owner of its engine objects.
//!   The runtime keeps it exactly as it keeps a native library (\[R1\]):
//!   every table, record and instance of the load holds it, and it is
//!   dropped on the writer side once nothing can reach it (\[R2\]),
//!   counted in [`Runtime::code_stats`](crate::Runtime::code_stats).
//! - A typed call ([`crate::Typed::call`], [`crate::Binding`]) into an engine
//!   function is one call of the entry's [`ContextFn`]
//!   with its context: the arguments are packed as a C struct, the
//!   trampoline here unpacks them into [`Value`]s (through one made for
//!   the signature's shape when it has up to two numbers and a number
//!   result or none), catches panics, and
//!   turns a [`Fault`] into a [`CallError`](crate::CallError). A function
//!   of numbers only may instead be registered as a [`WordFn`]
//!   ([`EngineContract::word_function`]): its trampoline hands it one
//!   `u64` per argument and writes back the result's bytes, no [`Value`]
//!   made. One whose types are known to the engine in Rust may be a
//!   [`PackedFn`] ([`EngineContract::packed_function`]): its trampoline is
//!   made for those types, reads each argument at its offset and calls it
//!   directly (the WebAssembly engine calls its typed exports this way). A native
//!   plugin that resolves the contract through the host table sees the
//!   same context entries and calls them the same way (\[R11\]).
//!
//! The runtime itself holds no engine-specific code: an engine lives in a
//! crate of its own (`engines/wasm` for WebAssembly). What every script
//! engine needs for the instances of stateful contracts (counting them
//! against `limits.instances`, refusing a stale or failed instance, keeping
//! the objects of an engine bound to one thread) is in [`instances`].
//!
//! # Example
//!
//! A loader for the `lua` kind whose "engine" is a Rust closure:
//!
//! ```
//! # if polyplug::MODEL_BUILD { return Ok(()); }
//! use std::sync::Arc;
//! use polyplug::loader::{
//!     CodeError, CodeSource, EngineContract, EngineFn, EngineInstance, Fault, LoadedCode, Loader,
//!     Registrar, Value,
//! };
//! use polyplug::{Runtime, Version};
//!
//! struct Double;
//! impl EngineFn for Double {
//!     fn call(&self, _: Option<&mut EngineInstance>, args: &[Value<'_>]) -> Result<Value<'static>, Fault> {
//!         match args {
//!             [Value::U32(x)] => Ok(Value::U32(x.wrapping_mul(2))),
//!             _ => Err(Fault::new(polyplug_abi::ERR_BAD_ARGUMENT, "expected one u32")),
//!         }
//!     }
//! }
//!
//! #[derive(Debug)]
//! struct Nothing;
//! impl LoadedCode for Nothing {}
//!
//! struct Closures;
//! impl Loader for Closures {
//!     fn kind(&self) -> &'static str {
//!         "lua"
//!     }
//!     fn load(&self, _: &CodeSource<'_>, registrar: &mut Registrar<'_>) -> Result<Box<dyn LoadedCode>, CodeError> {
//!         let contract = EngineContract::new("demo.double", Version::new(1, 0, 0))
//!             .function("double", "u32(u32)", Arc::new(Double));
//!         registrar.register(contract).map_err(|refused| refused.into_code_error())?;
//!         Ok(Box::new(Nothing))
//!     }
//! }
//!
//! let dir = std::env::temp_dir().join(format!("polyplug-doc-loader-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! std::fs::write(dir.join("double.lua"), "return x * 2")?;
//! std::fs::write(
//!     dir.join("manifest.toml"),
//!     format!(
//!         "[bundle]\nname = \"double\"\nversion = \"1.0.0\"\nloader = \"lua\"\n\
//!          [library]\n{} = \"double.lua\"\n[[provides]]\nname = \"demo.double\"\nversion = \"1.0.0\"\n",
//!         polyplug_loader::platform_key()
//!     ),
//! )?;
//! let runtime = Runtime::builder().loader(Closures).build()?;
//! runtime.load_bundle(&dir)?;
//! let reader = runtime.reader();
//! let guard = reader.pin();
//! let double = guard.find("demo.double", Version::new(1, 0, 0))?.typed::<extern "C" fn(u32) -> u32>("double")?;
//! assert_eq!(double.call(21), 42);
//! # drop(guard);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod instances;
mod packed;
pub use packed::{PackedArgs, PackedFn, PackedNumber, PackedRet};

use std::any::Any;
use std::ffi::c_void;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use polyplug_abi::{
    AbiError, ContextFn, ContractId, ERR_BAD_ARGUMENT, ERR_INTERNAL, ERR_PANIC, ERR_UNSUPPORTED,
    ERROR_FLAG_HOST_ALLOCATED, OK, StrView, Version,
};
pub use polyplug_loader::BundleFiles;
use polyplug_loader::{Bundle, CodeFile, Manifest};

pub use crate::contracts::Contracts;
use crate::event::{Event, LogLevel};
use crate::host::{HostContext, RegistrationError, refusal_text};
use crate::interface::{InvalidContract, PlainInterface};
use crate::runtime::Shared;
pub use polyplug_contract::signature::{TypedSignature, ValueType};

/// An engine that runs bundles of one manifest loader kind.
///
/// See the [module documentation](self) for a whole example.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// # use polyplug::loader::{CodeError, CodeSource, LoadedCode, Loader, Registrar};
/// struct Refuses;
/// impl Loader for Refuses {
///     fn kind(&self) -> &'static str { "python" }
///     fn load(&self, code: &CodeSource<'_>, _: &mut Registrar<'_>) -> Result<Box<dyn LoadedCode>, CodeError> {
///         Err(CodeError::new(code.path(), "library", "this loader refuses everything"))
///     }
/// }
/// let runtime = polyplug::Runtime::builder().loader(Refuses).build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait Loader: Send + Sync + 'static {
    /// The manifest's `bundle.loader` value this loader serves: `wasm`,
    /// `lua`, `python` or `javascript`. A loader for `native` is never
    /// consulted: native bundles are always loaded with `dlopen`.
    fn kind(&self) -> &'static str;

    /// Loads `code` and registers its contracts through `registrar`. Runs
    /// on the writer thread, under the writer lock. Whatever it returns is
    /// kept while anything of the load can be reached, and dropped on the
    /// writer side after that. On error, nothing it registered is
    /// published.
    ///
    /// # Errors
    ///
    /// A [`CodeError`] naming the file, the contract and the field at
    /// fault; a refused registration is reported as itself when the
    /// loader passes it on ([`Refused::into_code_error`]).
    fn load(
        &self,
        code: &CodeSource<'_>,
        registrar: &mut Registrar<'_>,
    ) -> Result<Box<dyn LoadedCode>, CodeError>;
}

/// What a loader made for one load: its engine objects (a compiled
/// module, per-thread instances). Dropping it releases them; the runtime
/// drops it on the writer side only, after no guard can reach the load
/// (\[R1\], \[R2\]).
///
/// ```
/// #[derive(Debug)]
/// struct Module { bytes: Vec<u8> }
/// impl polyplug::loader::LoadedCode for Module {}
/// ```
pub trait LoadedCode: Send + Sync + fmt::Debug + 'static {}

/// The bundle a loader loads: its manifest, directory and code file.
///
/// ```
/// # use polyplug::loader::CodeSource;
/// fn describe(code: &CodeSource<'_>) -> String {
///     format!("{} {}: {} bytes from {}", code.name(), code.manifest().version, code.bytes().len(), code.path().display())
/// }
/// # let _ = describe;
/// ```
#[derive(Debug)]
pub struct CodeSource<'a> {
    bundle: &'a Bundle,
    file: CodeFile,
}

impl CodeSource<'_> {
    /// The bundle's name.
    ///
    /// ```
    /// # fn f(code: &polyplug::loader::CodeSource<'_>) { let _ =
    /// code.name()
    /// # ; }
    /// ```
    pub fn name(&self) -> &str {
        self.bundle.name().as_str()
    }

    /// The bundle's parsed manifest, with its `[limits]`.
    ///
    /// ```
    /// # fn f(code: &polyplug::loader::CodeSource<'_>) {
    /// let pages = code.manifest().limits.memory_pages.unwrap_or(16);
    /// # let _ = pages; }
    /// ```
    pub fn manifest(&self) -> &Manifest {
        self.bundle.manifest()
    }

    /// The canonical bundle directory.
    ///
    /// ```
    /// # fn f(code: &polyplug::loader::CodeSource<'_>) {
    /// assert!(code.path().starts_with(code.dir()));
    /// # }
    /// ```
    pub fn dir(&self) -> &Path {
        self.bundle.dir()
    }

    /// The code file's canonical path, inside [`dir`](Self::dir).
    ///
    /// ```
    /// # fn f(code: &polyplug::loader::CodeSource<'_>) {
    /// println!("{}", code.path().display());
    /// # }
    /// ```
    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// The code file's bytes, as read and checked against the digest.
    ///
    /// ```
    /// # fn f(code: &polyplug::loader::CodeSource<'_>) {
    /// let is_wasm = code.bytes().starts_with(b"\0asm");
    /// # let _ = is_wasm; }
    /// ```
    pub fn bytes(&self) -> &[u8] {
        &self.file.bytes
    }

    /// The same bytes, shared: a loader that keeps the code (to compile
    /// it again, or to load it into each thread's state) keeps this, not a
    /// copy.
    ///
    /// ```
    /// # fn f(code: &polyplug::loader::CodeSource<'_>) {
    /// let kept: std::sync::Arc<[u8]> = code.shared_bytes();
    /// assert_eq!(&*kept, code.bytes());
    /// # }
    /// ```
    pub fn shared_bytes(&self) -> Arc<[u8]> {
        Arc::clone(&self.file.bytes)
    }

    /// Another file of the bundle (`/`-separated, relative to
    /// [`dir`](Self::dir)), as the signature check read and checked it,
    /// when the runtime requires signed bundles
    /// ([`RuntimeBuilder::trust`](crate::RuntimeBuilder::trust)); `None`
    /// when the bundle has no such file, or was not checked
    /// ([`is_verified`](Self::is_verified)). A loader that reads more
    /// files than its code file reads them here when the bundle is
    /// verified, so a file swapped after the check is never run.
    ///
    /// ```
    /// # fn f(code: &polyplug::loader::CodeSource<'_>) {
    /// if code.is_verified() {
    ///     let util = code.file("util.lua"); // the checked bytes, or None
    /// #   let _ = util;
    /// }
    /// # }
    /// ```
    pub fn file(&self, relative: &str) -> Option<&[u8]> {
        self.bundle.file(relative)
    }

    /// Every file of the bundle as the signature check read it, shared,
    /// for a loader that keeps reading files after the load (a `require`
    /// on a calling thread); `None` when it was not checked.
    ///
    /// ```
    /// # fn f(code: &polyplug::loader::CodeSource<'_>) {
    /// let files = code.files().cloned(); // keep for later reads
    /// # let _ = files; }
    /// ```
    pub fn files(&self) -> Option<&Arc<BundleFiles>> {
        self.bundle.files()
    }

    /// Whether the bundle's signature was checked, so
    /// [`file`](Self::file) holds every file it has.
    ///
    /// ```
    /// # fn f(code: &polyplug::loader::CodeSource<'_>) {
    /// let checked = code.is_verified();
    /// # let _ = checked; }
    /// ```
    pub fn is_verified(&self) -> bool {
        self.bundle.is_verified()
    }
}

/// A loader's refusal of a bundle's code: the file, contract and field at
/// fault, and what was wrong.
///
/// ```
/// use polyplug::loader::CodeError;
///
/// let err = CodeError::new("demo.wasm", "export test.add@1.0.0/add:u32(u32)", "expected (i32) -> i32, found (i64) -> i64")
///     .in_contract("test.add");
/// assert_eq!(
///     err.to_string(),
///     "demo.wasm: contract test.add: export test.add@1.0.0/add:u32(u32): expected (i32) -> i32, found (i64) -> i64"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}{field}: {problem}", file.display(), contract.as_ref().map(|c| format!("contract {c}: ")).unwrap_or_default())]
pub struct CodeError {
    /// The file at fault.
    pub file: PathBuf,
    /// The contract, when the fault is in one.
    pub contract: Option<String>,
    /// The field: an export, an import, a section, a limit.
    pub field: String,
    /// An ABI code classifying it (`ERR_INVALID`, `ERR_TRAP`,
    /// `ERR_BUDGET`, ...).
    pub code: u32,
    /// What was wrong, and what was expected.
    pub problem: String,
}

impl CodeError {
    /// An error about `field` of `file`, code `ERR_INVALID`.
    ///
    /// ```
    /// let err = polyplug::loader::CodeError::new("a.wasm", "magic", "not a WebAssembly module");
    /// assert_eq!(err.code, polyplug_abi::ERR_INVALID);
    /// ```
    pub fn new(
        file: impl Into<PathBuf>,
        field: impl Into<String>,
        problem: impl Into<String>,
    ) -> CodeError {
        CodeError {
            file: file.into(),
            contract: None,
            field: field.into(),
            code: polyplug_abi::ERR_INVALID,
            problem: problem.into(),
        }
    }

    /// The same error, in `contract`.
    ///
    /// ```
    /// let err = polyplug::loader::CodeError::new("a.wasm", "f", "bad").in_contract("demo.x");
    /// assert_eq!(err.contract.as_deref(), Some("demo.x"));
    /// ```
    #[must_use]
    pub fn in_contract(mut self, contract: impl Into<String>) -> CodeError {
        self.contract = Some(contract.into());
        self
    }

    /// The same error, with ABI code `code`.
    ///
    /// ```
    /// let err = polyplug::loader::CodeError::new("a.wasm", "start", "trapped").with_code(polyplug_abi::ERR_TRAP);
    /// assert_eq!(err.code, polyplug_abi::ERR_TRAP);
    /// ```
    #[must_use]
    pub fn with_code(mut self, code: u32) -> CodeError {
        self.code = code;
        self
    }
}

/// A value crossing into or out of an engine function: one of the types a
/// typed signature may name. `Str` and `Bytes` borrow the caller's memory
/// for the call (arguments only); `String` and `Buf` own theirs (results
/// only).
///
/// ```
/// use polyplug::loader::{Value, ValueType};
///
/// assert_eq!(Value::U32(7).value_type(), Some(ValueType::U32));
/// assert_eq!(Value::Str("abc").value_type(), Some(ValueType::Str));
/// assert_eq!(Value::Void.value_type(), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// No value: the result of a `void` function.
    Void,
    /// `u8`.
    U8(u8),
    /// `u16`.
    U16(u16),
    /// `u32`.
    U32(u32),
    /// `u64`.
    U64(u64),
    /// `i8`.
    I8(i8),
    /// `i16`.
    I16(i16),
    /// `i32`.
    I32(i32),
    /// `i64`.
    I64(i64),
    /// `usize`.
    Usize(usize),
    /// `isize`.
    Isize(isize),
    /// `f32`.
    F32(f32),
    /// `f64`.
    F64(f64),
    /// `str`: UTF-8 borrowed for the call (an argument).
    Str(&'a str),
    /// `bytes`: bytes borrowed for the call (an argument).
    Bytes(&'a [u8]),
    /// `string`: owned UTF-8 (a result).
    String(String),
    /// `buf`: owned bytes (a result).
    Buf(Vec<u8>),
}

impl Value<'_> {
    /// The value's type; `None` for [`Value::Void`].
    ///
    /// ```
    /// assert_eq!(polyplug::loader::Value::F64(1.0).value_type(), Some(polyplug::loader::ValueType::F64));
    /// ```
    pub fn value_type(&self) -> Option<ValueType> {
        Some(match self {
            Value::Void => return None,
            Value::U8(_) => ValueType::U8,
            Value::U16(_) => ValueType::U16,
            Value::U32(_) => ValueType::U32,
            Value::U64(_) => ValueType::U64,
            Value::I8(_) => ValueType::I8,
            Value::I16(_) => ValueType::I16,
            Value::I32(_) => ValueType::I32,
            Value::I64(_) => ValueType::I64,
            Value::Usize(_) => ValueType::Usize,
            Value::Isize(_) => ValueType::Isize,
            Value::F32(_) => ValueType::F32,
            Value::F64(_) => ValueType::F64,
            Value::Str(_) => ValueType::Str,
            Value::Bytes(_) => ValueType::Bytes,
            Value::String(_) => ValueType::String,
            Value::Buf(_) => ValueType::Buf,
        })
    }
}

/// The greatest number of arguments a typed function takes.
const MAX_ARGS: usize = polyplug_contract::signature::MAX_ARGS;

/// How a signature's values lie in the C struct a packed call passes.
pub(crate) trait Layout {
    /// Size and alignment in a packed C struct on this target.
    fn size_align(self) -> (usize, usize);
}

impl Layout for ValueType {
    fn size_align(self) -> (usize, usize) {
        match self {
            ValueType::U8 => (size_of::<u8>(), align_of::<u8>()),
            ValueType::U16 => (size_of::<u16>(), align_of::<u16>()),
            ValueType::U32 => (size_of::<u32>(), align_of::<u32>()),
            ValueType::U64 => (size_of::<u64>(), align_of::<u64>()),
            ValueType::I8 => (size_of::<i8>(), align_of::<i8>()),
            ValueType::I16 => (size_of::<i16>(), align_of::<i16>()),
            ValueType::I32 => (size_of::<i32>(), align_of::<i32>()),
            ValueType::I64 => (size_of::<i64>(), align_of::<i64>()),
            ValueType::Usize => (size_of::<usize>(), align_of::<usize>()),
            ValueType::Isize => (size_of::<isize>(), align_of::<isize>()),
            ValueType::F32 => (size_of::<f32>(), align_of::<f32>()),
            ValueType::F64 => (size_of::<f64>(), align_of::<f64>()),
            ValueType::Str => (size_of::<StrView>(), align_of::<StrView>()),
            ValueType::Bytes => (
                size_of::<polyplug_abi::BytesView>(),
                align_of::<polyplug_abi::BytesView>(),
            ),
            ValueType::String | ValueType::Buf => (
                size_of::<polyplug_abi::OwnedBuf>(),
                align_of::<polyplug_abi::OwnedBuf>(),
            ),
        }
    }
}

/// The offset of each argument of `signature` in the C struct a caller
/// packs them in.
pub(crate) fn offsets(signature: &TypedSignature) -> Vec<usize> {
    let mut offset = 0usize;
    signature
        .args
        .iter()
        .map(|t| {
            let (size, align) = t.size_align();
            offset = offset.next_multiple_of(align);
            let at = offset;
            offset += size;
            at
        })
        .collect()
}

/// Why an engine function failed: an ABI code and a message that names
/// what failed and why.
///
/// ```
/// use polyplug::loader::Fault;
///
/// let fault = Fault::new(polyplug_abi::ERR_TRAP, "wasm trap: unreachable");
/// assert_eq!(fault.to_string(), "wasm trap: unreachable (code 12)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (code {code})")]
pub struct Fault {
    /// The code the call returns: `ERR_TRAP`, `ERR_BUDGET`, ...
    pub code: u32,
    /// What happened.
    pub message: String,
}

impl Fault {
    /// A fault with `code` and `message`.
    ///
    /// ```
    /// let fault = polyplug::loader::Fault::new(polyplug_abi::ERR_BUDGET, "out of fuel");
    /// assert_eq!(fault.code, polyplug_abi::ERR_BUDGET);
    /// ```
    pub fn new(code: u32, message: impl Into<String>) -> Fault {
        Fault {
            code,
            message: message.into(),
        }
    }
}

/// The state of one instance of an engine-run stateful contract (for
/// WebAssembly, a wasm instance with its own linear memory). Made by
/// [`EngineInstances::create`], handed back to every call on it, dropped
/// when the host drops its [`Instance`](crate::Instance).
pub type EngineInstance = Box<dyn Any + Send>;

/// One function run by an engine.
///
/// ```
/// use polyplug::loader::{EngineFn, EngineInstance, Fault, Value};
///
/// struct Counter;
/// impl EngineFn for Counter {
///     fn call(&self, instance: Option<&mut EngineInstance>, _: &[Value<'_>]) -> Result<Value<'static>, Fault> {
///         let count = instance
///             .and_then(|i| i.downcast_mut::<u32>())
///             .ok_or_else(|| Fault::new(polyplug_abi::ERR_BAD_ARGUMENT, "needs an instance"))?;
///         *count += 1;
///         Ok(Value::U32(*count))
///     }
/// }
/// let mut state: EngineInstance = Box::new(0u32);
/// assert_eq!(Counter.call(Some(&mut state), &[]), Ok(Value::U32(1)));
/// ```
pub trait EngineFn: Send + Sync + 'static {
    /// Runs the function on `args` (already of its signature's types),
    /// with `instance` for a call on an [`Instance`](crate::Instance), or
    /// `None` for a stateless call. May run on any thread, concurrently
    /// with other calls (each with its own instance, if any).
    ///
    /// # Errors
    ///
    /// A [`Fault`]: the call returns its code and message.
    fn call(
        &self,
        instance: Option<&mut EngineInstance>,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Fault>;
}

/// One function run by an engine whose arguments and result are numbers
/// (no `str`, `bytes`, `string` or `buf`), called with each argument as a
/// *word*: a `u64` holding the argument's bits, an unsigned integer
/// zero-extended, a signed one sign-extended, an `f32` as its bits
/// zero-extended, an `f64` as its bits. The function returns its result
/// the same way, and only the result type's own bytes of the word are
/// kept (the low 4 of a `u32`): an engine checks a result's range before
/// it returns it.
///
/// A typed call of such a function unpacks its arguments into words and
/// packs the result back, with no [`Value`] in between: the path engines
/// take for the common numbers-only function
/// ([`EngineContract::word_function`]). A function registered this way
/// with a signature that has a non-number is refused at registration.
///
/// ```
/// use polyplug::loader::{EngineInstance, Fault, WordFn};
///
/// struct Negate;
/// impl WordFn for Negate {
///     fn call(&self, _: Option<&mut EngineInstance>, args: &[u64]) -> Result<u64, Fault> {
///         // `i32(i32)`: the argument is sign-extended, the low 4 bytes of
///         // the result are kept.
///         let [x] = args else { return Err(Fault::new(polyplug_abi::ERR_BAD_ARGUMENT, "one argument")) };
///         Ok((*x as i64).wrapping_neg() as u64)
///     }
/// }
/// assert_eq!(Negate.call(None, &[(-5i64) as u64]), Ok(5));
/// ```
pub trait WordFn: Send + Sync + 'static {
    /// Runs the function on `args`, one word per argument of its
    /// signature, with `instance` as for [`EngineFn::call`].
    ///
    /// # Errors
    ///
    /// A [`Fault`]: the call returns its code and message.
    fn call(&self, instance: Option<&mut EngineInstance>, args: &[u64]) -> Result<u64, Fault>;
}

/// How an engine function is called: with [`Value`]s, with words, or
/// with its own Rust types.
#[derive(Clone)]
enum EngineCall {
    Values(Arc<dyn EngineFn>),
    Words(Arc<dyn WordFn>),
    Packed(PackedCall),
}

/// A [`PackedFn`] of some type `F`, with the trampoline made for `F` and
/// the check of a signature against `F`'s types.
#[derive(Clone)]
struct PackedCall {
    /// The `F`, which `entry` downcasts.
    func: Arc<dyn Any + Send + Sync>,
    entry: ContextFn,
    fits: fn(&[ValueType], &[usize], Option<ValueType>) -> bool,
    /// `F`'s argument and result types, for a refusal.
    types: fn() -> &'static str,
}

/// Makes the instances of an engine-run stateful contract.
///
/// ```
/// use polyplug::loader::{EngineInstance, EngineInstances, Fault};
///
/// struct Counters;
/// impl EngineInstances for Counters {
///     fn create(&self) -> Result<EngineInstance, Fault> {
///         Ok(Box::new(0u32))
///     }
/// }
/// assert!(Counters.create().is_ok());
/// ```
pub trait EngineInstances: Send + Sync + 'static {
    /// A new instance.
    ///
    /// # Errors
    ///
    /// A [`Fault`]: `create_instance` fails with its code and message.
    fn create(&self) -> Result<EngineInstance, Fault>;

    /// Whether [`save`](EngineInstances::save) and
    /// [`restore`](EngineInstances::restore) hand an instance's state over
    /// to another version of the contract. `false` unless the engine says
    /// so; the contract then offers no handover, and
    /// [`Instance::upgrade`](crate::Instance::upgrade) refuses it by name.
    fn handover(&self) -> bool {
        false
    }

    /// The state of `instance` as bytes in the contract's own format, for
    /// a newer version (of any language) to restore. The instance keeps
    /// serving whatever this returns.
    ///
    /// # Errors
    ///
    /// A [`Fault`]: the handover stops at its save step with this code and
    /// message.
    fn save(&self, instance: &mut EngineInstance) -> Result<Vec<u8>, Fault> {
        let _ = instance;
        Err(Fault::new(
            ERR_UNSUPPORTED,
            "this engine saves no instance state",
        ))
    }

    /// A new instance holding the state that `save` of an older version
    /// wrote.
    ///
    /// # Errors
    ///
    /// A [`Fault`]: the handover stops at its restore step with this code
    /// and message.
    fn restore(&self, state: &[u8]) -> Result<EngineInstance, Fault> {
        let _ = state;
        Err(Fault::new(
            ERR_UNSUPPORTED,
            "this engine restores no instance state",
        ))
    }
}

/// A contract an engine registers: name, version, functions and, for a
/// stateful contract, its instance maker.
///
/// ```
/// use std::sync::Arc;
/// use polyplug::loader::{EngineContract, EngineFn, EngineInstance, Fault, Value};
/// use polyplug::Version;
///
/// struct Zero;
/// impl EngineFn for Zero {
///     fn call(&self, _: Option<&mut EngineInstance>, _: &[Value<'_>]) -> Result<Value<'static>, Fault> { Ok(Value::U32(0)) }
/// }
/// let contract = EngineContract::new("demo.zero", Version::new(1, 0, 0)).function("zero", "u32()", Arc::new(Zero));
/// assert_eq!(contract.name(), "demo.zero");
/// ```
pub struct EngineContract {
    name: String,
    version: Version,
    functions: Vec<(String, String, EngineCall)>,
    instances: Option<Arc<dyn EngineInstances>>,
}

impl EngineContract {
    /// A contract `name` at `version` with no functions yet.
    ///
    /// ```
    /// let c = polyplug::loader::EngineContract::new("demo.x", polyplug::Version::new(1, 2, 0));
    /// assert_eq!(c.version(), polyplug::Version::new(1, 2, 0));
    /// ```
    pub fn new(name: impl Into<String>, version: Version) -> EngineContract {
        EngineContract {
            name: name.into(),
            version,
            functions: Vec::new(),
            instances: None,
        }
    }

    /// Adds a typed function `name` with `signature` (spelled as a typed
    /// entry's: `u32(u32,u32)`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use polyplug::loader::{EngineContract, EngineFn, EngineInstance, Fault, Value};
    /// # struct Id;
    /// # impl EngineFn for Id {
    /// #     fn call(&self, _: Option<&mut EngineInstance>, a: &[Value<'_>]) -> Result<Value<'static>, Fault> {
    /// #         match a { [Value::U64(x)] => Ok(Value::U64(*x)), _ => Ok(Value::Void) }
    /// #     }
    /// # }
    /// let c = EngineContract::new("demo.id", polyplug::Version::new(1, 0, 0)).function("id", "u64(u64)", Arc::new(Id));
    /// # let _ = c;
    /// ```
    #[must_use]
    pub fn function(
        self,
        name: impl Into<String>,
        signature: impl Into<String>,
        func: Arc<dyn EngineFn>,
    ) -> EngineContract {
        self.with(name.into(), signature.into(), EngineCall::Values(func))
    }

    /// Adds a typed function `name` with `signature`, numbers only, called
    /// with words ([`WordFn`]): no [`Value`] is made per call. A signature
    /// with a `str`, `bytes`, `string` or `buf` is refused at
    /// registration, naming the function.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use polyplug::loader::{EngineContract, EngineInstance, Fault, WordFn};
    /// # struct Inc;
    /// # impl WordFn for Inc {
    /// #     fn call(&self, _: Option<&mut EngineInstance>, a: &[u64]) -> Result<u64, Fault> {
    /// #         Ok(a.first().map_or(0, |x| x.wrapping_add(1)))
    /// #     }
    /// # }
    /// let c = EngineContract::new("demo.inc", polyplug::Version::new(1, 0, 0)).word_function("inc", "u32(u32)", Arc::new(Inc));
    /// # let _ = c;
    /// ```
    #[must_use]
    pub fn word_function(
        self,
        name: impl Into<String>,
        signature: impl Into<String>,
        func: Arc<dyn WordFn>,
    ) -> EngineContract {
        self.with(name.into(), signature.into(), EngineCall::Words(func))
    }

    /// Adds a typed function `name` with `signature`, called with its
    /// arguments as `F`'s Rust numbers ([`PackedFn`]): read straight from
    /// the caller's struct by a trampoline made for `F`, the result
    /// written straight back. A signature whose arguments and result are
    /// not `F`'s types (of either sign), at the offsets of their Rust
    /// layout, is refused at registration, naming the function.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use polyplug::loader::{EngineContract, EngineInstance, Fault, PackedFn};
    /// struct Inc;
    /// impl PackedFn for Inc {
    ///     type Args = (i32,);
    ///     type Ret = i32;
    ///     fn call(&self, _: Option<&mut EngineInstance>, (x,): (i32,)) -> Result<i32, Fault> {
    ///         Ok(x.wrapping_add(1))
    ///     }
    /// }
    /// let c = EngineContract::new("demo.inc", polyplug::Version::new(1, 0, 0)).packed_function("inc", "u32(u32)", Arc::new(Inc));
    /// # let _ = c;
    /// ```
    #[must_use]
    pub fn packed_function<F: PackedFn>(
        self,
        name: impl Into<String>,
        signature: impl Into<String>,
        func: Arc<F>,
    ) -> EngineContract {
        let call = PackedCall {
            func,
            entry: packed_slot::<F>,
            fits: packed::fits::<F>,
            types: std::any::type_name::<(F::Args, F::Ret)>,
        };
        self.with(name.into(), signature.into(), EngineCall::Packed(call))
    }

    fn with(mut self, name: String, signature: String, call: EngineCall) -> EngineContract {
        self.functions.push((name, signature, call));
        self
    }

    /// Makes the contract stateful: [`ContractRef::create_instance`](crate::ContractRef::create_instance)
    /// calls `instances`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use polyplug::loader::{EngineContract, EngineInstance, EngineInstances, Fault};
    /// # struct Counters;
    /// # impl EngineInstances for Counters { fn create(&self) -> Result<EngineInstance, Fault> { Ok(Box::new(0u32)) } }
    /// let c = EngineContract::new("demo.c", polyplug::Version::new(1, 0, 0)).stateful(Arc::new(Counters));
    /// # let _ = c;
    /// ```
    #[must_use]
    pub fn stateful(mut self, instances: Arc<dyn EngineInstances>) -> EngineContract {
        self.instances = Some(instances);
        self
    }

    /// The contract's name.
    ///
    /// ```
    /// assert_eq!(polyplug::loader::EngineContract::new("a.b", polyplug::Version::new(1, 0, 0)).name(), "a.b");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The contract's version.
    ///
    /// ```
    /// let v = polyplug::Version::new(3, 0, 0);
    /// assert_eq!(polyplug::loader::EngineContract::new("a.b", v).version(), v);
    /// ```
    pub fn version(&self) -> Version {
        self.version
    }
}

impl fmt::Debug for EngineContract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineContract")
            .field("name", &self.name)
            .field("version", &self.version)
            .field(
                "functions",
                &self
                    .functions
                    .iter()
                    .map(|(n, s, _)| format!("{n}: {s}"))
                    .collect::<Vec<_>>(),
            )
            .field("stateful", &self.instances.is_some())
            .finish()
    }
}

/// A registration the runtime refused, with the message a native plugin
/// would read from `last_error`.
///
/// ```
/// let refused = polyplug::loader::Refused { code: polyplug_abi::ERR_UNDECLARED, message: "not declared".into(), file: "a.wasm".into() };
/// assert_eq!(refused.into_code_error().code, polyplug_abi::ERR_UNDECLARED);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (code {code})")]
pub struct Refused {
    /// The code (`ERR_INVALID`, `ERR_UNDECLARED`, `ERR_DUPLICATE`, ...).
    pub code: u32,
    /// The message.
    pub message: String,
    /// The code file of the load.
    pub file: PathBuf,
}

impl Refused {
    /// As a [`CodeError`] for [`Loader::load`] to return. The runtime
    /// reports the refusal itself (the same error a native plugin's
    /// refused registration gives), not this.
    ///
    /// ```
    /// # let refused = polyplug::loader::Refused { code: 7, message: "m".into(), file: "a.wasm".into() };
    /// let err = refused.into_code_error();
    /// assert_eq!(err.field, "registration");
    /// ```
    pub fn into_code_error(self) -> CodeError {
        CodeError::new(self.file, "registration", self.message).with_code(self.code)
    }
}

/// How a loader registers contracts and logs, during [`Loader::load`].
pub struct Registrar<'a> {
    host: &'a HostContext,
    bundle: &'a str,
    file: PathBuf,
    logger: Logger,
}

impl fmt::Debug for Registrar<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registrar")
            .field("bundle", &self.bundle)
            .finish_non_exhaustive()
    }
}

/// What one engine function's context entry points to (\[R11\]).
struct ContextSlot {
    func: EngineCall,
    signature: TypedSignature,
    offsets: Vec<usize>,
    /// The size of the packed argument struct, in bytes.
    size: usize,
    /// For a word function: how each argument is read as a word
    /// (`call_words_slot`), and the result's width (`None` for void).
    words: Option<Box<[WordArg]>>,
    ret: Option<Width>,
}

/// The width and signedness of a number, as a word is read or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Width {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
}

impl Width {
    /// The width of a number type (an `f32` or `f64` as its bits);
    /// `None` for a view or an owned buffer.
    fn of(ty: ValueType) -> Option<Width> {
        const WIDE: bool = size_of::<usize>() == 8;
        Some(match ty {
            ValueType::U8 => Width::U8,
            ValueType::U16 => Width::U16,
            ValueType::U32 | ValueType::F32 => Width::U32,
            ValueType::U64 | ValueType::F64 => Width::U64,
            ValueType::I8 => Width::I8,
            ValueType::I16 => Width::I16,
            ValueType::I32 => Width::I32,
            ValueType::I64 => Width::I64,
            ValueType::Usize if WIDE => Width::U64,
            ValueType::Usize => Width::U32,
            ValueType::Isize if WIDE => Width::I64,
            ValueType::Isize => Width::I32,
            ValueType::Str | ValueType::Bytes | ValueType::String | ValueType::Buf => {
                return None;
            }
        })
    }
}

/// The low bytes of `word` that an `N`-byte result keeps ([`WordFn`]).
#[inline(always)]
fn low<N: TryFrom<u64> + Default>(word: u64) -> N {
    let bits = size_of::<N>() * 8;
    N::try_from(word & (u64::MAX >> (64 - bits))).unwrap_or_default()
}

/// Where one argument of a word function lies in the packed arguments.
#[derive(Clone, Copy, Debug)]
struct WordArg {
    offset: usize,
    width: Width,
}

/// The `N` bytes at `offset` of `args`; zeros if they are not all in it.
#[inline(always)]
fn take<const N: usize>(args: &[u8], offset: usize) -> [u8; N] {
    let mut bytes = [0u8; N];
    if let Some(src) = args.get(offset..offset + N) {
        bytes.copy_from_slice(src);
    }
    bytes
}

impl WordArg {
    /// The argument as a word, read from the packed arguments.
    #[inline(always)]
    fn read(self, packed: &[u8]) -> u64 {
        let at = self.offset;
        match self.width {
            Width::U8 => u64::from(u8::from_ne_bytes(take(packed, at))),
            Width::U16 => u64::from(u16::from_ne_bytes(take(packed, at))),
            Width::U32 => u64::from(u32::from_ne_bytes(take(packed, at))),
            Width::U64 | Width::I64 => u64::from_ne_bytes(take(packed, at)),
            Width::I8 => i64::from(i8::from_ne_bytes(take(packed, at))).cast_unsigned(),
            Width::I16 => i64::from(i16::from_ne_bytes(take(packed, at))).cast_unsigned(),
            Width::I32 => i64::from(i32::from_ne_bytes(take(packed, at))).cast_unsigned(),
        }
    }
}

/// Writes the bytes of `word` a result of `width` keeps ([`WordFn`]: the
/// low ones) to `out`, one fixed-size store.
///
/// # Safety
///
/// \[P4\] `out` is writable for one value of that width.
#[inline(always)]
unsafe fn write_word(word: u64, width: Width, out: *mut c_void) {
    fn put<const N: usize>(out: *mut c_void, bytes: [u8; N]) {
        // SAFETY: [P4] the caller's `out` holds N bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.cast::<u8>(), N) };
    }
    match width {
        Width::U8 | Width::I8 => put(out, low::<u8>(word).to_ne_bytes()),
        Width::U16 | Width::I16 => put(out, low::<u16>(word).to_ne_bytes()),
        Width::U32 | Width::I32 => put(out, low::<u32>(word).to_ne_bytes()),
        Width::U64 | Width::I64 => put(out, word.to_ne_bytes()),
    }
}

/// What a stateful engine contract's instance context points to.
struct InstancesSlot {
    instances: Arc<dyn EngineInstances>,
}

/// Owned by the table the registration became: every context pointer of
/// the table points into it (\[R11\]).
struct Owned {
    _slots: Box<[ContextSlot]>,
    _instances: Option<Box<InstancesSlot>>,
}

impl Registrar<'_> {
    /// Registers `contract` as a native plugin's entry point would: it is
    /// checked (names, signatures, declared in the manifest, not twice)
    /// and, if the load succeeds, published with the bundle's other
    /// contracts.
    ///
    /// # Errors
    ///
    /// [`Refused`], with the code and message a native plugin gets. The
    /// load then fails with the refusal, whatever the loader returns.
    ///
    /// ```
    /// # use polyplug::loader::{EngineContract, Registrar};
    /// fn register(registrar: &mut Registrar<'_>) {
    ///     let empty = EngineContract::new("demo.undeclared", polyplug::Version::new(1, 0, 0));
    ///     assert!(registrar.register(empty).is_err()); // not in the manifest's [[provides]]
    /// }
    /// # let _ = register;
    /// ```
    pub fn register(&mut self, contract: EngineContract) -> Result<(), Refused> {
        let EngineContract {
            name,
            version,
            functions,
            instances,
        } = contract;
        let mut slots = Vec::with_capacity(functions.len());
        let mut names = Vec::with_capacity(functions.len());
        for (i, (fname, spelling, func)) in functions.into_iter().enumerate() {
            let parsed = TypedSignature::parse(&spelling);
            let signature = parsed.clone().unwrap_or(TypedSignature {
                ret: None,
                args: Vec::new(),
            });
            let offsets = offsets(&signature);
            let size = signature
                .args
                .iter()
                .zip(&offsets)
                .map(|(t, o)| o + t.size_align().0)
                .max()
                .unwrap_or(0);
            let words: Option<Box<[WordArg]>> = signature
                .args
                .iter()
                .zip(&offsets)
                .map(|(ty, offset)| {
                    Width::of(*ty).map(|width| WordArg {
                        offset: *offset,
                        width,
                    })
                })
                .collect();
            let ret = signature.ret.map(Width::of);
            // A word function's arguments and result must all be numbers.
            let numbers = words.zip(ret.map_or(Some(None), |r| r.map(Some)));
            let problem = match (&func, &numbers) {
                (EngineCall::Words(_), None) => Some(format!(
                    "function {fname}: `{spelling}` is registered as a word function, which takes and returns numbers only"
                )),
                // An unparsable spelling is left to validation, below.
                (EngineCall::Packed(packed), _)
                    if parsed.is_ok()
                        && !(packed.fits)(&signature.args, &offsets, signature.ret) =>
                {
                    Some(format!(
                        "function {fname}: `{spelling}` does not take and return the packed function's {}",
                        (packed.types)()
                    ))
                }
                _ => None,
            };
            if let Some(problem) = problem {
                let refusal = RegistrationError::Invalid(InvalidContract {
                    contract: name.clone(),
                    field: format!("context[{i}].signature"),
                    problem,
                });
                let message = refusal_text(self.bundle, &refusal);
                self.refuse(refusal);
                return Err(Refused {
                    code: polyplug_abi::ERR_INVALID,
                    message,
                    file: self.file.clone(),
                });
            }
            let (words, ret) = match (&func, numbers) {
                (EngineCall::Words(_), Some((words, ret))) => (Some(words), ret),
                _ => (None, None),
            };
            slots.push(ContextSlot {
                func,
                signature,
                offsets,
                size,
                words,
                ret,
            });
            // An unparsable spelling is passed on as it is, so validation
            // refuses it with the field named.
            names.push((fname, spelling));
        }
        let slots: Box<[ContextSlot]> = slots.into_boxed_slice();
        let instances = instances.map(|instances| Box::new(InstancesSlot { instances }));
        let context = slots
            .iter()
            .zip(names)
            .map(|(slot, (fname, spelling))| {
                let ctx: *const ContextSlot = slot;
                let call: ContextFn = match slot.func {
                    EngineCall::Values(_) => packed::values_entry(
                        &slot.signature.args,
                        slot.signature.ret,
                        &slot.offsets,
                    )
                    .unwrap_or(call_slot),
                    EngineCall::Words(_) => call_words_slot,
                    EngineCall::Packed(ref packed) => packed.entry,
                };
                (
                    fname.into_bytes(),
                    spelling.into_bytes(),
                    ctx.cast_mut().cast::<c_void>(),
                    Some(call),
                )
            })
            .collect();
        let instance_ctx = instances.as_deref().map_or(std::ptr::null_mut(), |slot| {
            let ctx: *const InstancesSlot = slot;
            ctx.cast_mut().cast::<c_void>()
        });
        let stateful = instances.is_some();
        let handover = instances
            .as_deref()
            .is_some_and(|slot| slot.instances.handover());
        let plain = PlainInterface {
            id: ContractId::of(&name, version.major),
            name: name.into_bytes(),
            version,
            native: Vec::new(),
            typed: Vec::new(),
            typed_packed: Vec::new(),
            create_instance: None,
            destroy_instance: None,
            context,
            instance_ctx,
            create_context_instance: stateful
                .then_some(create_slot as polyplug_abi::ContextCreateFn),
            destroy_context_instance: stateful
                .then_some(destroy_slot as polyplug_abi::ContextDestroyFn),
            save_instance: None,
            restore_instance: None,
            save_context_instance: handover.then_some(save_slot as polyplug_abi::ContextSaveFn),
            restore_context_instance: handover
                .then_some(restore_slot as polyplug_abi::ContextRestoreFn),
        };
        let owned = Owned {
            _slots: slots,
            _instances: instances,
        };
        match self.host.register_plain(plain, Some(Box::new(owned))) {
            Ok(()) => Ok(()),
            Err((code, refusal)) => {
                let message = refusal_text(self.bundle, &refusal);
                self.refuse(refusal);
                Err(Refused {
                    code,
                    message,
                    file: self.file.clone(),
                })
            }
        }
    }

    fn refuse(&self, refusal: RegistrationError) {
        self.host.refuse(refusal);
    }

    /// The loaded contracts, for the engine's guest code to find and call
    /// (a WebAssembly guest through its host imports): any contract of
    /// any language, for as long as the runtime lives.
    ///
    /// ```
    /// # fn f(registrar: &polyplug::loader::Registrar<'_>) {
    /// let contracts = registrar.contracts(); // keep it in the engine's host state
    /// # let _ = contracts; }
    /// ```
    pub fn contracts(&self) -> Contracts {
        Contracts {
            shared: self.logger.shared.clone(),
        }
    }

    /// A logger for the bundle: its messages become
    /// [`Event::Log`]s, from any thread, for as long as
    /// the runtime lives.
    ///
    /// ```
    /// # fn f(registrar: &polyplug::loader::Registrar<'_>) {
    /// registrar.logger().log(polyplug::LogLevel::Info, "module compiled");
    /// # }
    /// ```
    pub fn logger(&self) -> Logger {
        self.logger.clone()
    }
}

/// Emits a bundle's log messages as [`Event::Log`].
/// Cheap to clone; `Send` and `Sync`; does nothing once the runtime is
/// gone.
///
/// ```
/// # fn f(logger: polyplug::loader::Logger) {
/// let for_a_thread = logger.clone();
/// std::thread::spawn(move || for_a_thread.log(polyplug::LogLevel::Warn, "from a thread"));
/// # }
/// ```
#[derive(Clone)]
pub struct Logger {
    shared: Weak<Shared>,
    bundle: Arc<str>,
}

impl Logger {
    /// Logs `message` at `level` for the bundle.
    ///
    /// ```
    /// # fn f(logger: &polyplug::loader::Logger) {
    /// logger.log(polyplug::LogLevel::Error, "guest trapped");
    /// # }
    /// ```
    pub fn log(&self, level: LogLevel, message: &str) {
        if let Some(shared) = self.shared.upgrade() {
            shared.events.emit(Event::Log {
                bundle: self.bundle.to_string(),
                level,
                message: message.to_owned(),
            });
        }
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("bundle", &self.bundle)
            .finish()
    }
}

/// Runs the loader for `bundle`'s kind: reads the code file and calls
/// [`Loader::load`] with a registrar over `host`. Called by the runtime in
/// place of opening a library and calling its entry point.
pub(crate) fn load(
    shared: &Arc<Shared>,
    loaders: &[Box<dyn Loader>],
    bundle: &Bundle,
    host: &HostContext,
) -> Result<Box<dyn LoadedCode>, crate::LoadError> {
    let name = bundle.name().as_str();
    let kind = bundle.manifest().loader.name();
    let Some(loader) = loaders.iter().find(|l| l.kind() == kind) else {
        return Err(crate::LoadError::UnsupportedLoader {
            bundle: name.to_owned(),
            kind: kind.to_owned(),
        });
    };
    let file = polyplug_loader::read_code_file(bundle).map_err(|error| {
        let path = bundle
            .library_path()
            .map_or_else(|| bundle.manifest_path().to_owned(), Path::to_owned);
        crate::LoadError::Code {
            bundle: name.to_owned(),
            error: Box::new(CodeError::new(path, "library", error.to_string())),
        }
    })?;
    let code = CodeSource { bundle, file };
    let mut registrar = Registrar {
        host,
        bundle: name,
        file: code.path().to_owned(),
        logger: Logger {
            shared: Arc::downgrade(shared),
            bundle: Arc::from(name),
        },
    };
    let loaded = catch_unwind(AssertUnwindSafe(|| loader.load(&code, &mut registrar)))
        .unwrap_or_else(|_| {
            Err(CodeError::new(code.path(), "loader", "the loader panicked").with_code(ERR_PANIC))
        });
    loaded.map_err(|error| crate::LoadError::Code {
        bundle: name.to_owned(),
        error: Box::new(error),
    })
}

/// Writes `code` and `message` to a non-null `err`, the message allocated
/// from the host allocator (\[R9\]) and flagged so.
fn write_error(err: *mut AbiError, code: u32, message: &str) {
    if err.is_null() {
        return;
    }
    let view = host_text(message);
    let flags = if view.len == 0 {
        0
    } else {
        ERROR_FLAG_HOST_ALLOCATED
    };
    // SAFETY: [P4] a non-null `err` is writable for one AbiError.
    unsafe {
        err.write_unaligned(AbiError {
            code,
            flags,
            message: view,
        })
    };
}

/// `text` copied into a fresh allocation of exactly its length, alignment
/// 1 (\[R9\]); empty on failure.
fn host_text(text: &str) -> StrView {
    let Ok(layout) = std::alloc::Layout::from_size_align(text.len(), 1) else {
        return StrView::EMPTY;
    };
    if text.is_empty() {
        return StrView::EMPTY;
    }
    // SAFETY: [R9] the layout has a non-zero size (checked).
    let ptr = unsafe { std::alloc::alloc(layout) };
    if ptr.is_null() {
        return StrView::EMPTY;
    }
    // SAFETY: [R9] `ptr` is a fresh allocation of `text.len()` bytes.
    unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), ptr, text.len()) };
    StrView {
        ptr,
        len: text.len(),
    }
}

/// Reads the argument of type `ty` at `offset` of the packed arguments
/// `args` (`packed` is the same memory as bytes).
///
/// # Safety
///
/// \[R11\]\[P1\] `args` points to the packed arguments of a signature with
/// an argument of type `ty` at `offset`, within `packed`; a view argument
/// points to memory readable for the call.
unsafe fn read_arg<'a>(
    args: *const u8,
    packed: &[u8],
    ty: ValueType,
    offset: usize,
) -> Result<Value<'a>, Fault> {
    let view = |what: &str| -> Result<&'a [u8], Fault> {
        if packed.len() < offset + size_of::<StrView>() {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                format!("{what} argument out of bounds"),
            ));
        }
        // SAFETY: [R11] within the packed arguments (checked); a StrView
        // and a BytesView have one layout.
        let view = unsafe { args.wrapping_add(offset).cast::<StrView>().read_unaligned() };
        if view.len == 0 {
            return Ok(&[]);
        }
        if view.ptr.is_null() {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                format!("{what} argument: null pointer with length {}", view.len),
            ));
        }
        // SAFETY: [P1] the caller's view is readable for the call.
        Ok(unsafe { std::slice::from_raw_parts(view.ptr, view.len) })
    };
    Ok(match ty {
        ValueType::U8 => Value::U8(u8::from_ne_bytes(take(packed, offset))),
        ValueType::U16 => Value::U16(u16::from_ne_bytes(take(packed, offset))),
        ValueType::U32 => Value::U32(u32::from_ne_bytes(take(packed, offset))),
        ValueType::U64 => Value::U64(u64::from_ne_bytes(take(packed, offset))),
        ValueType::I8 => Value::I8(i8::from_ne_bytes(take(packed, offset))),
        ValueType::I16 => Value::I16(i16::from_ne_bytes(take(packed, offset))),
        ValueType::I32 => Value::I32(i32::from_ne_bytes(take(packed, offset))),
        ValueType::I64 => Value::I64(i64::from_ne_bytes(take(packed, offset))),
        ValueType::Usize => Value::Usize(usize::from_ne_bytes(take(packed, offset))),
        ValueType::Isize => Value::Isize(isize::from_ne_bytes(take(packed, offset))),
        ValueType::F32 => Value::F32(f32::from_ne_bytes(take(packed, offset))),
        ValueType::F64 => Value::F64(f64::from_ne_bytes(take(packed, offset))),
        ValueType::Str => Value::Str(
            std::str::from_utf8(view("str")?)
                .map_err(|_| Fault::new(ERR_BAD_ARGUMENT, "str argument is not UTF-8"))?,
        ),
        ValueType::Bytes => Value::Bytes(view("bytes")?),
        ValueType::String | ValueType::Buf => {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                format!("{} is a result type", ty.name()),
            ));
        }
    })
}

/// Writes `value` to `out` as its type lays it out: a number's bytes, or
/// an [`OwnedBuf`](polyplug_abi::OwnedBuf) in the host allocator's memory
/// for `string` and `buf` (\[R12\]).
///
/// # Safety
///
/// \[P4\] `out` is writable for one value of `value`'s type.
pub(crate) unsafe fn write_value(value: Value<'static>, out: *mut c_void) {
    fn put<const N: usize>(out: *mut c_void, bytes: [u8; N]) {
        // SAFETY: [P4] the caller's `out` holds N bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.cast::<u8>(), N) };
    }
    let owned = |bytes: Vec<u8>| {
        let buf = crate::signature::give_owned(bytes);
        // SAFETY: [P4] the caller's `out` holds one OwnedBuf.
        unsafe { out.cast::<polyplug_abi::OwnedBuf>().write_unaligned(buf) };
    };
    match value {
        Value::Void | Value::Str(_) | Value::Bytes(_) => {}
        Value::U8(v) => put(out, v.to_ne_bytes()),
        Value::U16(v) => put(out, v.to_ne_bytes()),
        Value::U32(v) => put(out, v.to_ne_bytes()),
        Value::U64(v) => put(out, v.to_ne_bytes()),
        Value::I8(v) => put(out, v.to_ne_bytes()),
        Value::I16(v) => put(out, v.to_ne_bytes()),
        Value::I32(v) => put(out, v.to_ne_bytes()),
        Value::I64(v) => put(out, v.to_ne_bytes()),
        Value::Usize(v) => put(out, v.to_ne_bytes()),
        Value::Isize(v) => put(out, v.to_ne_bytes()),
        Value::F32(v) => put(out, v.to_ne_bytes()),
        Value::F64(v) => put(out, v.to_ne_bytes()),
        Value::String(text) => owned(text.into_bytes()),
        Value::Buf(bytes) => owned(bytes),
    }
}

/// What every trampoline shares: the panic boundary, the context and the
/// instance, and a fault written to `err`.
///
/// # Safety
///
/// \[R11\] `ctx` is null or the [`ContextSlot`] of an engine entry, owned
/// by the table the caller reached it through; `instance` is null or made
/// by `create_slot` and used by one call at a time.
#[inline(always)]
unsafe fn trampoline(
    ctx: *mut c_void,
    instance: *mut c_void,
    err: *mut AbiError,
    body: impl FnOnce(&ContextSlot, Option<&mut EngineInstance>) -> Result<(), Fault>,
) -> u32 {
    let result = catch_unwind(AssertUnwindSafe(|| {
        if ctx.is_null() {
            return Err(Fault::new(ERR_BAD_ARGUMENT, "null context"));
        }
        // SAFETY: [R11] the context of an engine entry is its ContextSlot,
        // owned by the table the caller reached it through.
        let slot: &ContextSlot = unsafe { &*ctx.cast::<ContextSlot>() };
        let instance = if instance.is_null() {
            None
        } else {
            // SAFETY: [R11] a non-null instance was made by `create_slot`
            // (a boxed EngineInstance) and is used by one call at a time.
            Some(unsafe { &mut *instance.cast::<EngineInstance>() })
        };
        body(slot, instance)
    }));
    match result {
        Ok(Ok(())) => OK,
        Ok(Err(fault)) => failed(err, &fault),
        Err(_) => failed(err, &Fault::new(ERR_PANIC, "the engine panicked")),
    }
}

/// Writes `fault` to `err` and returns its code: the trampolines' error
/// path, kept out of their successful one.
#[cold]
#[inline(never)]
fn failed(err: *mut AbiError, fault: &Fault) -> u32 {
    write_error(err, fault.code, &fault.message);
    fault.code
}

/// The [`ContextFn`] of every engine function called with [`Value`]s:
/// unpacks the arguments, calls the [`EngineFn`], packs the result or the
/// fault. Catches panics.
unsafe extern "C" fn call_slot(
    ctx: *mut c_void,
    instance: *mut c_void,
    args: *const c_void,
    out: *mut c_void,
    err: *mut AbiError,
) -> u32 {
    let body = |slot: &ContextSlot, instance: Option<&mut EngineInstance>| {
        let EngineCall::Values(func) = &slot.func else {
            return Err(Fault::new(ERR_INTERNAL, "not a function of values"));
        };
        let count = slot.signature.args.len();
        if count > 0 && args.is_null() {
            return Err(Fault::new(ERR_BAD_ARGUMENT, "null arguments"));
        }
        let packed: &[u8] = if slot.size == 0 {
            &[]
        } else {
            // SAFETY: [R11][P1] `args` (non-null, checked) points to
            // the signature's arguments as a C struct of `size` bytes.
            unsafe { std::slice::from_raw_parts(args.cast::<u8>(), slot.size) }
        };
        let read = |i: usize| -> Result<Value<'_>, Fault> {
            let (Some(ty), Some(offset)) = (slot.signature.args.get(i), slot.offsets.get(i)) else {
                return Err(Fault::new(ERR_INTERNAL, format!("no argument {i}")));
            };
            // SAFETY: [R11][P1] `args` holds this signature's arguments.
            unsafe { read_arg(args.cast::<u8>(), packed, *ty, *offset) }
        };
        let call = |values: &[Value<'_>]| func.call(instance, values);
        // One array of exactly the arguments: nothing to fill or drop
        // beyond them.
        let value = match count {
            0 => call(&[]),
            1 => call(&[read(0)?]),
            2 => call(&[read(0)?, read(1)?]),
            3 => call(&[read(0)?, read(1)?, read(2)?]),
            4 => call(&[read(0)?, read(1)?, read(2)?, read(3)?]),
            5 => call(&[read(0)?, read(1)?, read(2)?, read(3)?, read(4)?]),
            MAX_ARGS => call(&[read(0)?, read(1)?, read(2)?, read(3)?, read(4)?, read(5)?]),
            more => return Err(too_many(more)),
        }?;
        if value.value_type() != slot.signature.ret {
            return Err(wrong_result(&value, &slot.signature));
        }
        if slot.signature.ret.is_some() {
            if out.is_null() {
                return Err(Fault::new(ERR_BAD_ARGUMENT, "null `out`"));
            }
            // SAFETY: [P4] `out` is writable for one value of the
            // return type, which `value` has (checked).
            unsafe { write_value(value, out) };
        }
        Ok(())
    };
    // SAFETY: [R11] this is an engine entry's function, called with its
    // own context and an instance of its contract (or null).
    unsafe { trampoline(ctx, instance, err, body) }
}

/// The [`ContextFn`] of every engine function called with words
/// ([`WordFn`]): reads each argument as a word, calls, writes the
/// result's bytes. Catches panics.
unsafe extern "C" fn call_words_slot(
    ctx: *mut c_void,
    instance: *mut c_void,
    args: *const c_void,
    out: *mut c_void,
    err: *mut AbiError,
) -> u32 {
    let body = |slot: &ContextSlot, instance: Option<&mut EngineInstance>| {
        let (EngineCall::Words(func), Some(words)) = (&slot.func, slot.words.as_deref()) else {
            return Err(Fault::new(ERR_INTERNAL, "not a word function"));
        };
        if !words.is_empty() && args.is_null() {
            return Err(Fault::new(ERR_BAD_ARGUMENT, "null arguments"));
        }
        let packed: &[u8] = if slot.size == 0 {
            &[]
        } else {
            // SAFETY: [R11][P1] `args` (non-null, checked) points to
            // the signature's arguments as a C struct of `size` bytes.
            unsafe { std::slice::from_raw_parts(args.cast::<u8>(), slot.size) }
        };
        let word = |i: usize| words[i].read(packed);
        let call = |args: &[u64]| func.call(instance, args);
        let result = match words.len() {
            0 => call(&[]),
            1 => call(&[word(0)]),
            2 => call(&[word(0), word(1)]),
            3 => call(&[word(0), word(1), word(2)]),
            4 => call(&[word(0), word(1), word(2), word(3)]),
            5 => call(&[word(0), word(1), word(2), word(3), word(4)]),
            MAX_ARGS => call(&[word(0), word(1), word(2), word(3), word(4), word(5)]),
            more => return Err(too_many(more)),
        }?;
        if let Some(width) = slot.ret {
            if out.is_null() {
                return Err(Fault::new(ERR_BAD_ARGUMENT, "null `out`"));
            }
            // SAFETY: [P4] `out` (non-null, checked) is writable for
            // one value of the return type, whose width this is.
            unsafe { write_word(result, width, out) };
        }
        Ok(())
    };
    // SAFETY: [R11] this is an engine entry's function, called with its
    // own context and an instance of its contract (or null).
    unsafe { trampoline(ctx, instance, err, body) }
}

/// The [`ContextFn`] of every engine function of type `F` called with its
/// own Rust types ([`PackedFn`]): reads each argument at its offset,
/// calls `F` directly, writes the result. Catches panics.
unsafe extern "C" fn packed_slot<F: PackedFn>(
    ctx: *mut c_void,
    instance: *mut c_void,
    args: *const c_void,
    out: *mut c_void,
    err: *mut AbiError,
) -> u32 {
    let body = |slot: &ContextSlot, instance: Option<&mut EngineInstance>| {
        let EngineCall::Packed(packed) = &slot.func else {
            return Err(Fault::new(ERR_INTERNAL, "not a packed function"));
        };
        let Some(func) = packed.func.downcast_ref::<F>() else {
            return Err(Fault::new(ERR_INTERNAL, "not this packed function"));
        };
        // SAFETY: [R11][P1] registration checked that `F::Args` holds the
        // signature's arguments at these offsets (`packed::fits`).
        let args = unsafe { read_packed::<F::Args>(args) }?;
        let result = func.call(instance, args)?;
        // SAFETY: [P4] `out` is for the signature's result, which `F::Ret`
        // holds (`packed::fits`).
        unsafe { write_packed(result, out) }
    };
    // SAFETY: [R11] this is an engine entry's function, called with its
    // own context and an instance of its contract (or null).
    unsafe { trampoline(ctx, instance, err, body) }
}

/// The [`ContextFn`] of an engine function called with [`Value`]s whose
/// signature is of the shape `(P, R)` (up to two numbers, a number result
/// or none; `packed::values_entry`): reads each argument at its offset as
/// `P`'s number, makes it the value of its signature type, calls the
/// [`EngineFn`], checks the result's type and writes it as `R`. What
/// `call_slot` does for every signature, without its run-time layout.
/// Catches panics.
unsafe extern "C" fn values_slot<P: PackedArgs, R: PackedRet>(
    ctx: *mut c_void,
    instance: *mut c_void,
    args: *const c_void,
    out: *mut c_void,
    err: *mut AbiError,
) -> u32 {
    let body = |slot: &ContextSlot, instance: Option<&mut EngineInstance>| {
        let EngineCall::Values(func) = &slot.func else {
            return Err(Fault::new(ERR_INTERNAL, "not a function of values"));
        };
        // SAFETY: [R11][P1] `values_entry` chose `P` as the numbers that
        // hold the signature's arguments, at these offsets (checked).
        let packed = unsafe { read_packed::<P>(args) }?;
        let value =
            packed.with_values(&slot.signature.args, |values| func.call(instance, values))?;
        if value.value_type() != slot.signature.ret {
            return Err(wrong_result(&value, &slot.signature));
        }
        let Some(result) = <R as packed::sealed::Result>::from_value(&value) else {
            return Err(wrong_result(&value, &slot.signature));
        };
        // SAFETY: [P4] `out` is for the signature's result, which `R` holds
        // (`values_entry`).
        unsafe { write_packed(result, out) }
    };
    // SAFETY: [R11] this is an engine entry's function, called with its
    // own context and an instance of its contract (or null).
    unsafe { trampoline(ctx, instance, err, body) }
}

/// The arguments of a packed trampoline as `P`'s numbers; a fault for
/// null arguments.
///
/// # Safety
///
/// \[R11\]\[P1\] `args` is null or points to a C struct of arguments that
/// `P` holds, at `P`'s offsets.
#[inline(always)]
unsafe fn read_packed<P: PackedArgs>(args: *const c_void) -> Result<P, Fault> {
    if P::COUNT > 0 && args.is_null() {
        return Err(Fault::new(ERR_BAD_ARGUMENT, "null arguments"));
    }
    // SAFETY: [R11][P1] non-null when there are arguments (checked), and as
    // this function's contract says.
    Ok(unsafe { P::read(args) })
}

/// Writes a packed trampoline's result to `out`; a fault for a null `out`
/// when there is a result.
///
/// # Safety
///
/// \[P4\] `out` is null or writable for one value of a type `R` holds.
#[inline(always)]
unsafe fn write_packed<R: PackedRet>(result: R, out: *mut c_void) -> Result<(), Fault> {
    if size_of::<R>() > 0 {
        if out.is_null() {
            return Err(Fault::new(ERR_BAD_ARGUMENT, "null `out`"));
        }
        // SAFETY: [P4] non-null (checked), and as this function's contract says.
        unsafe { result.write(out) };
    }
    Ok(())
}

/// The engine returned a value of another type than its signature's.
#[cold]
fn wrong_result(value: &Value<'_>, signature: &TypedSignature) -> Fault {
    Fault::new(
        ERR_INTERNAL,
        format!(
            "the engine returned {:?} from a function of signature {}",
            value.value_type().map_or("void", ValueType::name),
            signature
        ),
    )
}

#[cold]
fn too_many(count: usize) -> Fault {
    Fault::new(
        ERR_INTERNAL,
        format!("{count} arguments; a typed function takes at most {MAX_ARGS}"),
    )
}

/// The `create_context_instance` of every stateful engine contract.
unsafe extern "C" fn create_slot(
    ctx: *mut c_void,
    instance: *mut *mut c_void,
    err: *mut AbiError,
) -> u32 {
    let result = catch_unwind(AssertUnwindSafe(|| {
        if ctx.is_null() || instance.is_null() {
            return Err(Fault::new(ERR_BAD_ARGUMENT, "null context or instance"));
        }
        // SAFETY: [R11] the instance context is the InstancesSlot owned by
        // the caller's table.
        let slot: &InstancesSlot = unsafe { &*ctx.cast::<InstancesSlot>() };
        let made: EngineInstance = slot.instances.create()?;
        let boxed: *mut EngineInstance = Box::into_raw(Box::new(made));
        // SAFETY: [P4] `instance` is non-null (checked) and writable.
        unsafe { instance.write(boxed.cast::<c_void>()) };
        Ok(())
    }))
    .unwrap_or_else(|_| Err(Fault::new(ERR_PANIC, "the engine panicked")));
    match result {
        Ok(()) => OK,
        Err(fault) => {
            write_error(err, fault.code, &fault.message);
            fault.code
        }
    }
}

/// The `save_context_instance` of a stateful engine contract whose engine
/// hands state over: [`EngineInstances::save`], its bytes moved into the
/// host allocator's memory for the caller (\[R12\]).
unsafe extern "C" fn save_slot(
    ctx: *mut c_void,
    instance: *mut c_void,
    out: *mut polyplug_abi::OwnedBuf,
    err: *mut AbiError,
) -> u32 {
    let result = catch_unwind(AssertUnwindSafe(|| {
        if ctx.is_null() || instance.is_null() || out.is_null() {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                "null context, instance or out",
            ));
        }
        // SAFETY: [R11] the instance context is the InstancesSlot owned by
        // the caller's table.
        let slot: &InstancesSlot = unsafe { &*ctx.cast::<InstancesSlot>() };
        // SAFETY: [R11][P2] made by `create_slot` or `restore_slot` as a
        // boxed EngineInstance; the caller is its one user for this call.
        let state: &mut EngineInstance = unsafe { &mut *instance.cast::<EngineInstance>() };
        let bytes = slot.instances.save(state)?;
        let buf = crate::signature::give_owned(bytes);
        // SAFETY: [P4] `out` is non-null (checked) and writable for one OwnedBuf.
        unsafe { out.write_unaligned(buf) };
        Ok(())
    }))
    .unwrap_or_else(|_| Err(Fault::new(ERR_PANIC, "the engine panicked")));
    match result {
        Ok(()) => OK,
        Err(fault) => {
            write_error(err, fault.code, &fault.message);
            fault.code
        }
    }
}

/// The `restore_context_instance` of a stateful engine contract whose
/// engine hands state over: [`EngineInstances::restore`], boxed as
/// `create_slot` boxes a new instance.
unsafe extern "C" fn restore_slot(
    ctx: *mut c_void,
    state: polyplug_abi::BytesView,
    instance: *mut *mut c_void,
    err: *mut AbiError,
) -> u32 {
    let result = catch_unwind(AssertUnwindSafe(|| {
        if ctx.is_null() || instance.is_null() || (state.ptr.is_null() && state.len != 0) {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                "null context, state or instance",
            ));
        }
        // SAFETY: [R11] the instance context is the InstancesSlot owned by
        // the caller's table.
        let slot: &InstancesSlot = unsafe { &*ctx.cast::<InstancesSlot>() };
        let bytes: &[u8] = if state.len == 0 {
            &[]
        } else {
            // SAFETY: [P3] the caller's view is readable for the call.
            unsafe { std::slice::from_raw_parts(state.ptr, state.len) }
        };
        let made: EngineInstance = slot.instances.restore(bytes)?;
        let boxed: *mut EngineInstance = Box::into_raw(Box::new(made));
        // SAFETY: [P4] `instance` is non-null (checked) and writable.
        unsafe { instance.write(boxed.cast::<c_void>()) };
        Ok(())
    }))
    .unwrap_or_else(|_| Err(Fault::new(ERR_PANIC, "the engine panicked")));
    match result {
        Ok(()) => OK,
        Err(fault) => {
            write_error(err, fault.code, &fault.message);
            fault.code
        }
    }
}

/// The `destroy_context_instance` of every stateful engine contract.
unsafe extern "C" fn destroy_slot(_ctx: *mut c_void, instance: *mut c_void) {
    if instance.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: [R11] made by `create_slot` as a boxed EngineInstance and
        // destroyed once, after its last call.
        drop(unsafe { Box::from_raw(instance.cast::<EngineInstance>()) });
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_c_struct_layout() {
        let sig = TypedSignature::parse("void(u8,u32,u16,u64,f32)").unwrap_or_else(|e| {
            unreachable!("{e}");
        });
        assert_eq!(offsets(&sig), [0, 4, 8, 16, 24]);
        let none = TypedSignature::parse("u32()").unwrap_or_else(|e| unreachable!("{e}"));
        assert!(offsets(&none).is_empty());
    }
}
