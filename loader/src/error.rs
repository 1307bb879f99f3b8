//! The loader's errors: manifest, bundle and native-library problems.
//!
//! Every error names the thing it is about (manifest file and position,
//! bundle, library path, symbol, field) and what was expected, in one line.
//! The enums are plain and exhaustive, so callers can match them.
//!
//! Paths and text that came from a file are shown through [`Escaped`], so a
//! message holds no control character whatever a bundle holds; the fields
//! keep the raw values.

use core::fmt;
use std::io;
use std::path::PathBuf;

use crate::escape::Escaped;
use crate::file::FileKind;
use crate::manifest::LoaderKind;
use crate::name::NameError;
use crate::version::VersionError;

/// A manifest that does not parse, with its position, like a compiler
/// error: `path/manifest.toml:3:11: bundle.version: expected
/// major.minor.patch, found "1.x"`.
///
/// ```
/// use std::path::Path;
/// use polyplug_loader::{ManifestErrorKind, parse_manifest};
///
/// let text = br#"[bundle]
/// name = "demo"
/// version = "1.x"
/// loader = "lua"
/// "#;
/// let err = parse_manifest(text, Path::new("demo/manifest.toml")).unwrap_err();
/// assert_eq!((err.line, err.column), (3, 11));
/// assert_eq!(err.field.as_deref(), Some("bundle.version"));
/// assert!(matches!(err.kind, ManifestErrorKind::Version(_)));
/// assert_eq!(
///     err.to_string(),
///     r#"demo/manifest.toml:3:11: bundle.version: expected major.minor.patch, found "1.x""#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// The manifest file, as the caller named it (raw; `Display` escapes
    /// it).
    pub file: PathBuf,
    /// 1-based line of the offending text.
    pub line: usize,
    /// 1-based column of the offending text, in characters.
    pub column: usize,
    /// Dotted path of the offending field (`bundle.version`,
    /// `provides[1].name`, with 0-based indices), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub kind: ManifestErrorKind,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: ",
            Escaped(self.file.display()),
            self.line,
            self.column
        )?;
        if let Some(field) = &self.field {
            write!(f, "{}: ", Escaped(field))?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for ManifestError {}

/// What is wrong with a manifest; see [`ManifestError`] for where.
///
/// Its `Display` is the message without the position.
///
/// ```
/// use std::path::Path;
/// use polyplug_loader::{ManifestErrorKind, parse_manifest};
///
/// let text = br#"
/// [bundle]
/// name = "demo"
/// version = "1.0.0"
/// loader = "native"
/// "#;
/// let err = parse_manifest(text, Path::new("manifest.toml")).unwrap_err();
/// assert_eq!(err.kind, ManifestErrorKind::NoLibrary);
/// assert_eq!(
///     err.kind.to_string(),
///     r#"expected a [library] table for loader "native", found none"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManifestErrorKind {
    /// The bytes are not UTF-8; the position is the first bad byte.
    #[error("expected UTF-8 text, found a byte sequence that is not UTF-8")]
    NotUtf8,
    /// The manifest is longer than
    /// [`MAX_MANIFEST_BYTES`](crate::MAX_MANIFEST_BYTES).
    #[error("expected a manifest of at most {limit} bytes, found {found} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
        /// The length found.
        found: usize,
    },
    /// Not valid TOML; the message is toml's.
    #[error("invalid TOML: {}", Escaped(message))]
    Syntax {
        /// What the TOML parser expected; it may quote the manifest, so it
        /// is raw here and escaped by `Display`.
        message: String,
    },
    /// Valid TOML that does not fit the manifest schema: an unknown or
    /// missing field, a wrong type. The message is serde's.
    #[error("{}", Escaped(message))]
    Schema {
        /// What the schema expected; it may quote the manifest (an unknown
        /// key), so it is raw here and escaped by `Display`.
        message: String,
    },
    /// A bundle or contract name is invalid.
    #[error(transparent)]
    Name(NameError),
    /// A version or minimum version is invalid.
    #[error(transparent)]
    Version(VersionError),
    /// `bundle.loader` names no known loader.
    #[error(
        "expected a loader kind, one of \"native\", \"lua\", \"python\", \"javascript\", \
         \"wasm\", found {found:?}"
    )]
    UnknownLoader {
        /// The loader kind found.
        found: String,
    },
    /// Two `[[provides]]` entries declare the same contract `name@major`.
    #[error(
        "expected each provided contract once, found {}@{major} again (first at line {first_line})",
        Escaped(name)
    )]
    DuplicateContract {
        /// The contract name.
        name: String,
        /// The major version both entries share.
        major: u32,
        /// The line of the first declaration.
        first_line: usize,
    },
    /// `loader = "native"` without a `[library]` table.
    #[error("expected a [library] table for loader \"native\", found none")]
    NoLibrary,
    /// A `[library]` table naming no file for any platform.
    #[error("expected at least one of library.linux, library.macos, library.windows, found none")]
    NoPlatform,
    /// A library path that is the empty string.
    #[error("expected a file name relative to the bundle directory, found an empty string")]
    EmptyPath,
    /// A `[[provides]] definition` path that leaves the bundle directory.
    #[error("expected a definition file path inside the bundle directory, found {found:?}")]
    DefinitionPath {
        /// The path as written.
        found: String,
    },
    /// A `definition` on a `[[requires]]` entry.
    #[error("a required contract has no definition here; only [[provides]] entries ship one")]
    DefinitionOnRequires,
    /// A `[limits]` value that is not a positive integer.
    #[error("expected a positive integer, found {found}")]
    Limit {
        /// The value found.
        found: i64,
    },
    /// `library.sha256` is not 64 hexadecimal digits.
    #[error("expected 64 hexadecimal digits, found {found:?}")]
    Digest {
        /// The text found.
        found: String,
    },
}

/// A bundle directory that cannot be opened.
///
/// Paths and names are kept raw in the fields; `Display` shows them
/// through [`Escaped`].
///
/// ```
/// use std::path::Path;
/// use polyplug_loader::{Bundle, BundleError};
///
/// let err = Bundle::open(Path::new("/no/such/bundle")).unwrap_err();
/// assert!(matches!(err, BundleError::Dir { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The bundle directory is missing or cannot be resolved.
    #[error("cannot open bundle directory {}: {io}", Escaped(dir.display()))]
    Dir {
        /// The directory as given.
        dir: PathBuf,
        /// The error from the file system.
        io: io::Error,
    },
    /// The path is not a directory.
    #[error(
        "expected a bundle directory, found a file that is not a directory: {}",
        Escaped(dir.display())
    )]
    NotADirectory {
        /// The path, canonicalized.
        dir: PathBuf,
    },
    /// The bundle directory holds no `manifest.toml`.
    #[error("expected a manifest at {}, found none", Escaped(path.display()))]
    ManifestMissing {
        /// The manifest path that does not exist.
        path: PathBuf,
    },
    /// `manifest.toml` exists but cannot be read.
    #[error("cannot read manifest {}: {io}", Escaped(path.display()))]
    ManifestRead {
        /// The manifest path.
        path: PathBuf,
        /// The error from the file system.
        io: io::Error,
    },
    /// `manifest.toml` (or what it links to) is a FIFO, a device, a
    /// directory or a socket; it was not read, so it could not block.
    #[error("expected manifest {} to be a regular file, found {kind}", Escaped(path.display()))]
    ManifestNotAFile {
        /// The manifest path.
        path: PathBuf,
        /// What it is.
        kind: FileKind,
    },
    /// `manifest.toml` is larger than the limit; it was not read whole.
    #[error(
        "expected manifest {} to be at most {limit} bytes, found more",
        Escaped(path.display())
    )]
    ManifestTooLarge {
        /// The manifest path.
        path: PathBuf,
        /// The limit, [`MAX_MANIFEST_BYTES`](crate::MAX_MANIFEST_BYTES).
        limit: usize,
    },
    /// The manifest does not parse.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A native bundle names no library for this platform.
    #[error("bundle {bundle:?}: expected library.{platform} in the manifest, found none")]
    NoLibraryForPlatform {
        /// The bundle name.
        bundle: String,
        /// The platform key: `linux`, `macos` or `windows`.
        platform: &'static str,
    },
    /// The library path is absolute, has a `..` component, or resolves
    /// (through a symlink) outside the bundle directory.
    #[error(
        "bundle {bundle:?}: {field} = {:?} must name a file inside the bundle directory",
        Escaped(file.display()).to_string()
    )]
    LibraryOutsideBundle {
        /// The bundle name.
        bundle: String,
        /// The path as written in the manifest.
        file: PathBuf,
        /// The manifest field, for example `library.linux`.
        field: &'static str,
    },
    /// The library file does not exist.
    #[error("bundle {bundle:?}: expected library {}, found none", Escaped(path.display()))]
    LibraryMissing {
        /// The bundle name.
        bundle: String,
        /// The library path, joined to the bundle directory.
        path: PathBuf,
    },
    /// The library path cannot be resolved, opened or read.
    #[error(
        "bundle {bundle:?}: expected library {} to be a readable file: {}",
        Escaped(path.display()),
        Escaped(message)
    )]
    LibraryAccess {
        /// The bundle name.
        bundle: String,
        /// The library path, joined to the bundle directory.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The library (or what it links to, inside the bundle) is a FIFO, a
    /// device, a directory or a socket; it was not read, so it could not
    /// block.
    #[error(
        "bundle {bundle:?}: expected library {} to be a regular file, found {kind}",
        Escaped(path.display())
    )]
    LibraryNotAFile {
        /// The bundle name.
        bundle: String,
        /// The library path, joined to the bundle directory.
        path: PathBuf,
        /// What it is.
        kind: FileKind,
    },
    /// The runtime requires signed bundles, and this bundle's signature
    /// does not hold ([`Bundle::verified`](crate::Bundle::verified)).
    #[error(transparent)]
    Seal(#[from] crate::seal::SealError),
}

/// A native library that cannot be loaded.
///
/// Paths and the loader's messages are kept raw in the fields; `Display`
/// shows them through [`Escaped`].
///
/// ```
/// use polyplug_loader::NativeError;
///
/// let err = NativeError::AbiMismatch { bundle: "demo".into(), found: 1, expected: 2 };
/// assert_eq!(
///     err.to_string(),
///     "bundle \"demo\": expected polyplug_abi_version 2, found 1: \
///      rebuild the plugin against ABI version 2 (PP_ABI_VERSION in polyplug.h, \
///      ABI_VERSION in polyplug-abi)"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    /// The bundle's loader is not `native`, so it has no library.
    #[error("bundle {bundle:?}: expected loader \"native\", found {loader:?}")]
    NotNative {
        /// The bundle name.
        bundle: String,
        /// The bundle's loader kind.
        loader: LoaderKind,
    },
    /// The file is too short or lacks the ELF magic (checked on Linux
    /// only).
    #[error(
        "bundle {bundle:?}: expected {} to be a shared library (an ELF file of at least 64 bytes)",
        Escaped(path.display())
    )]
    NotASharedObject {
        /// The bundle name.
        bundle: String,
        /// The library path in the bundle.
        path: PathBuf,
    },
    /// The file is shorter than its ELF headers say: a truncated copy.
    /// `dlopen` would map the missing pages and fault on them (checked on
    /// Linux only).
    #[error(
        "bundle {bundle:?}: expected library {} to hold the {expected} bytes its ELF headers describe, found {found} bytes (truncated)",
        Escaped(path.display())
    )]
    Truncated {
        /// The bundle name.
        bundle: String,
        /// The library path in the bundle.
        path: PathBuf,
        /// The length the headers describe.
        expected: u64,
        /// The file's length.
        found: u64,
    },
    /// The library's SHA-256 differs from `library.sha256`.
    #[error(
        "bundle {bundle:?}: expected library {} to have sha256 {expected} (library.sha256), found {found}",
        Escaped(path.display())
    )]
    DigestMismatch {
        /// The bundle name.
        bundle: String,
        /// The library path in the bundle.
        path: PathBuf,
        /// The digest from the manifest, lowercase hex.
        expected: String,
        /// The digest of the file, lowercase hex.
        found: String,
    },
    /// The private copy cannot be written to the scratch directory.
    #[error(
        "bundle {bundle:?}: cannot write private library copy {}: {io}",
        Escaped(path.display())
    )]
    Scratch {
        /// The bundle name.
        bundle: String,
        /// The private path.
        path: PathBuf,
        /// The error from the file system.
        io: io::Error,
    },
    /// `dlopen` refused the private copy (truncated, wrong architecture,
    /// missing dependency...).
    #[error(
        "bundle {bundle:?}: cannot load library {}: {}",
        Escaped(path.display()),
        Escaped(message)
    )]
    Dlopen {
        /// The bundle name.
        bundle: String,
        /// The library path in the bundle (the private copy is gone).
        path: PathBuf,
        /// The loader's message (raw; it names files, so `Display` escapes
        /// it).
        message: String,
    },
    /// A required symbol is not exported.
    #[error("bundle {bundle:?}: expected the library to export {symbol}, found no such symbol")]
    MissingSymbol {
        /// The bundle name.
        bundle: String,
        /// The symbol name.
        symbol: &'static str,
    },
    /// The library was built for another ABI version.
    #[error(
        "bundle {bundle:?}: expected polyplug_abi_version {expected}, found {found}: \
         rebuild the plugin against ABI version {expected} (PP_ABI_VERSION in polyplug.h, \
         ABI_VERSION in polyplug-abi)"
    )]
    AbiMismatch {
        /// The bundle name.
        bundle: String,
        /// The library's `polyplug_abi_version`.
        found: u32,
        /// [`ABI_VERSION`](polyplug_abi::ABI_VERSION).
        expected: u32,
    },
}
