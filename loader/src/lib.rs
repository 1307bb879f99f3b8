//! Bundle manifests and native plugin libraries for polyplug: parse,
//! verify, `dlopen`, and report honestly on `dlclose`.
//!
//! # The problem
//!
//! A plugin arrives as a directory, a *bundle*, that names itself, the
//! contracts it provides and requires, and (for native code) a shared
//! library per platform. Before any plugin code runs, the host has to know
//! that the manifest means exactly one thing, that the library file is the
//! one the manifest describes and lies inside the bundle, and that it was
//! built for this ABI. After it runs, a function pointer into the library
//! must never be used once the library is closed, and the host must be
//! able to tell whether closing really unloaded the code.
//!
//! # The concepts
//!
//! - [`parse_manifest`]: a pure parser from the bytes of `manifest.toml`
//!   to a typed [`Manifest`] ([`BundleName`], [`Version`](polyplug_abi::Version),
//!   [`LoaderKind`], [`LibrarySpec`], [`ContractDecl`]), or a
//!   [`ManifestError`] with file, line, column and field. The small
//!   parsers [`parse_version`], [`parse_version_req`] and
//!   [`parse_contract_key`] are pure too.
//! - [`Bundle`]: an opened bundle directory, with its library path checked
//!   to stay inside the directory and its files read. Every file of a
//!   bundle is opened by [`open_regular`]'s rules, which refuse a FIFO, a
//!   socket, a device or a directory ([`FileKind`]) without reading it.
//! - [`ScratchDir`]: a private directory for the copies handed to
//!   `dlopen`.
//! - [`NativeLibrary`]: a loaded library; its [`Entry`] point can only be
//!   borrowed, and [`NativeLibrary::close`] returns a [`CloseReport`] that
//!   says whether the image left memory ([`Unmapped`]).
//! - [`Escaped`]: how every error shows text that came from a file or a
//!   plugin, with control characters escaped.
//!
//! # Guarantees
//!
//! An id names the invariant in `SAFETY.md` that states and argues the
//! guarantee.
//!
//! - **Parsers never panic and never do IO.** Every input gives a value or
//!   a typed error; `fuzz/` feeds the manifest parser arbitrary bytes.
//! - **Opening a bundle never blocks, and is all its IO.** Its files are
//!   checked to be regular before and after they are opened (with
//!   `O_NONBLOCK`), and [`Bundle::open`] reads them whole: nothing later
//!   reads the bundle again.
//! - **Messages are one line of printable text.** Paths, names and
//!   messages from files are shown through [`Escaped`]; the error fields
//!   keep them raw.
//! - **A library path never leaves its bundle directory.** Absolute paths,
//!   `..` components and symlinks that escape are refused, after the
//!   directory is canonicalized (\[L1\]).
//! - **The bytes that are loaded are the bytes that were checked.** Each
//!   load writes a fresh private copy of the bytes that passed the size,
//!   ELF and digest checks, and opens that, so a rebuilt file is never
//!   served from a cached image (\[L1\]).
//! - **A signed bundle loads only as signed.** Under a required [`Trust`]
//!   policy, [`Bundle::verified`] checks a minisign signature (prehashed
//!   Ed25519) over a SHA-256 list of every file of the bundle, over the
//!   bytes that then load, and keeps those bytes for a loader's later reads
//!   ([`Bundle::file`]) (\[L4\]; [`seal_bundle`] signs).
//! - **No plugin code runs before the ABI version is checked**, except the
//!   library's own initialisers, which `dlopen` runs (\[L1\], \[L2\]; see
//!   the *Trust* section of [`NativeLibrary::open`]).
//! - **A function pointer cannot outlive its library.** [`Entry`] borrows
//!   the [`NativeLibrary`], so the library cannot be closed while an entry
//!   point exists (\[L3\], a `compile_fail` doctest).
//! - **Closing says what happened.** [`NativeLibrary::close`] reports
//!   whether the image really left memory, as the Linux kernel tells it
//!   (one `PROCMAP_QUERY`, or a scan of `/proc/self/maps` before 6.11),
//!   instead of trusting `dlclose` (`SAFETY.md`, *Library
//!   unmapping*).
//!
//! # Example
//!
//! ```
//! use std::path::Path;
//! use polyplug_abi::ContractId;
//! use polyplug_loader::{LoaderKind, parse_manifest};
//!
//! let text = br#"
//! [bundle]
//! name = "test-add"
//! version = "1.0.0"
//! loader = "native"
//!
//! [library]
//! linux = "libtest_add.so"
//!
//! [[provides]]
//! name = "test.add"
//! version = "1.0.0"
//! "#;
//! let manifest = parse_manifest(text, Path::new("test-add/manifest.toml"))?;
//! assert_eq!(manifest.loader, LoaderKind::Native);
//! assert_eq!(manifest.provides[0].id(), ContractId::of("test.add", 1));
//! # Ok::<(), polyplug_loader::ManifestError>(())
//! ```
#![deny(unsafe_code)]

mod bundle;
mod code;
mod elf;
mod error;
mod escape;
mod file;
mod image;
mod location;
mod manifest;
mod name;
mod native;
#[cfg(target_os = "linux")]
mod procmap;
mod scratch;
mod seal;
mod version;

pub use bundle::{Bundle, MANIFEST_FILE};
pub use code::{CodeFile, CodeFileError, MAX_CODE_BYTES, read_code_file};
pub use error::{BundleError, ManifestError, ManifestErrorKind, NativeError};
pub use escape::{Escaped, is_unsafe_char};
pub use file::{FileKind, OpenError, open_regular};
pub use image::{CloseReport, Unmapped, image_mapped};
pub use manifest::{
    ContractDecl, LibrarySpec, Limits, LoaderKind, MAX_MANIFEST_BYTES, Manifest, parse_manifest,
    platform_key,
};
pub use name::{
    BundleName, ContractKeyError, ContractName, MAX_BUNDLE_NAME, MAX_CONTRACT_NAME, NameError,
    NameKind, parse_contract_key,
};
pub use native::{Entry, NativeLibrary};
pub use scratch::ScratchDir;
pub use seal::{
    BundleFiles, FormatError, MAX_SEALED_DEPTH, MAX_SEALED_FILES, MAX_SIG_BYTES, MinisignSignature,
    PublicKey, SIG_FILE, SUMS_FILE, SealError, SecretKey, SumList, Trust, format_sums,
    parse_signature, parse_sums, seal_bundle,
};
pub use version::{VersionError, VersionShape, parse_version, parse_version_req};
