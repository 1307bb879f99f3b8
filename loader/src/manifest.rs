//! `manifest.toml`: the typed description of a bundle, and its parser.
//!
//! [`parse_manifest`] is a pure function from bytes to a [`Manifest`] or a
//! [`ManifestError`] that points at the offending line, column and field.
//! It never panics and never touches the file system; the path it takes is
//! only used in errors.

use core::fmt;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polyplug_abi::{ContractId, Version};
use serde::Deserialize;
use toml::Spanned;

use crate::error::{ManifestError, ManifestErrorKind};
use crate::location::{field_at, line_column};
use crate::name::{BundleName, ContractName};
use crate::version::{parse_version, parse_version_req};

/// The largest manifest accepted, in bytes.
///
/// ```
/// use std::path::Path;
/// use polyplug_loader::{MAX_MANIFEST_BYTES, ManifestErrorKind, parse_manifest};
///
/// let huge = vec![b'#'; MAX_MANIFEST_BYTES + 1];
/// let err = parse_manifest(&huge, Path::new("manifest.toml")).unwrap_err();
/// assert!(matches!(err.kind, ManifestErrorKind::TooLarge { limit: MAX_MANIFEST_BYTES, .. }));
/// assert_eq!(
///     err.to_string(),
///     "manifest.toml:1:1: expected a manifest of at most 65536 bytes, found 65537 bytes"
/// );
/// ```
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;

/// A parsed and validated `manifest.toml`.
///
/// ```
/// use std::path::Path;
/// use polyplug_abi::Version;
/// use polyplug_loader::{LoaderKind, parse_manifest};
///
/// let text = br#"
/// [bundle]
/// name = "test-add"
/// version = "1.0.0"
/// loader = "native"
///
/// [library]
/// linux = "libtest_add.so"
///
/// [[provides]]
/// name = "test.add"
/// version = "1.2.0"
///
/// [[requires]]
/// name = "test.host"
/// version = "1"
/// "#;
/// let manifest = parse_manifest(text, Path::new("manifest.toml"))?;
/// assert_eq!(manifest.name.as_str(), "test-add");
/// assert_eq!(manifest.loader, LoaderKind::Native);
/// assert_eq!(manifest.provides[0].version, Version::new(1, 2, 0));
/// assert_eq!(manifest.requires[0].version, Version::new(1, 0, 0));
/// # Ok::<(), polyplug_loader::ManifestError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// `bundle.name`.
    pub name: BundleName,
    /// `bundle.version`.
    pub version: Version,
    /// `bundle.loader`.
    pub loader: LoaderKind,
    /// `[library]`; always present, with at least one platform, when
    /// `loader` is [`LoaderKind::Native`].
    pub library: Option<LibrarySpec>,
    /// `[[provides]]`: the contracts the bundle registers, each
    /// `name@major` at most once.
    pub provides: Vec<ContractDecl>,
    /// `[[requires]]`: the contracts the bundle needs, with minimum
    /// versions.
    pub requires: Vec<ContractDecl>,
    /// `[limits]`: the budgets an engine-run bundle asks for; every field
    /// is optional, and a loader applies its own defaults and ceilings.
    pub limits: Limits,
    /// `[[provides]] definition`: the provided contracts that ship a
    /// definition file, each with its path relative to the bundle
    /// directory. The runtime checks the registration against it at load.
    pub definitions: Vec<(ContractDecl, PathBuf)>,
}

/// `[limits]`: what an engine-run bundle (WebAssembly, a script) may use.
/// Each is a positive integer or absent; the loader that runs the bundle
/// has a finite default for each, and a host may lower them further.
/// Native bundles are not limited: a `[limits]` table there is accepted
/// and ignored.
///
/// ```
/// use std::path::Path;
/// use polyplug_loader::parse_manifest;
///
/// let text = br#"
/// [bundle]
/// name = "demo"
/// version = "1.0.0"
/// loader = "wasm"
///
/// [limits]
/// memory_pages = 16
/// fuel = 1000000
/// "#;
/// let manifest = parse_manifest(text, Path::new("manifest.toml"))?;
/// assert_eq!(manifest.limits.memory_pages, Some(16));
/// assert_eq!(manifest.limits.recursion_depth, None); // the loader's default
/// # Ok::<(), polyplug_loader::ManifestError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// `limits.memory_pages`: linear memory, in pages of 64 KiB.
    pub memory_pages: Option<u64>,
    /// `limits.fuel`: the fuel one call may consume (about one unit per
    /// instruction).
    pub fuel: Option<u64>,
    /// `limits.recursion_depth`: nested guest calls.
    pub recursion_depth: Option<u64>,
    /// `limits.table_elements`: elements across the tables of one
    /// instance.
    pub table_elements: Option<u64>,
    /// `limits.instances`: live engine instances of the bundle (one per
    /// calling thread, plus one per stateful instance).
    pub instances: Option<u64>,
}

/// Which loader runs a bundle.
///
/// ```
/// use polyplug_loader::LoaderKind;
///
/// assert_eq!(LoaderKind::from_name("wasm"), Some(LoaderKind::Wasm));
/// assert_eq!(LoaderKind::from_name("Wasm"), None);
/// assert_eq!(LoaderKind::JavaScript.to_string(), "javascript");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoaderKind {
    /// A shared library loaded with `dlopen` (`native`).
    Native,
    /// A Lua script (`lua`).
    Lua,
    /// A Python module (`python`).
    Python,
    /// A JavaScript module (`javascript`).
    JavaScript,
    /// A WebAssembly module (`wasm`).
    Wasm,
}

impl LoaderKind {
    /// Every loader kind, in manifest order.
    ///
    /// ```
    /// use polyplug_loader::LoaderKind;
    ///
    /// let names = LoaderKind::ALL.map(LoaderKind::name);
    /// assert_eq!(names, ["native", "lua", "python", "javascript", "wasm"]);
    /// ```
    pub const ALL: [LoaderKind; 5] = [
        LoaderKind::Native,
        LoaderKind::Lua,
        LoaderKind::Python,
        LoaderKind::JavaScript,
        LoaderKind::Wasm,
    ];

    /// The kind spelled `name` in a manifest, if any (exact, lowercase).
    ///
    /// ```
    /// use polyplug_loader::LoaderKind;
    ///
    /// assert_eq!(LoaderKind::from_name("native"), Some(LoaderKind::Native));
    /// assert_eq!(LoaderKind::from_name("NATIVE"), None);
    /// assert_eq!(LoaderKind::from_name("js"), None); // no aliases
    /// ```
    pub fn from_name(name: &str) -> Option<LoaderKind> {
        LoaderKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The manifest spelling: `native`, `lua`, `python`, `javascript` or
    /// `wasm`.
    ///
    /// ```
    /// use polyplug_loader::LoaderKind;
    ///
    /// assert_eq!(LoaderKind::JavaScript.name(), "javascript");
    /// for kind in LoaderKind::ALL {
    ///     assert_eq!(LoaderKind::from_name(kind.name()), Some(kind));
    /// }
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            LoaderKind::Native => "native",
            LoaderKind::Lua => "lua",
            LoaderKind::Python => "python",
            LoaderKind::JavaScript => "javascript",
            LoaderKind::Wasm => "wasm",
        }
    }
}

impl fmt::Display for LoaderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `[library]`: the shared library of a native bundle, per platform, as
/// written in the manifest (relative to the bundle directory; the
/// [`Bundle`](crate::Bundle) checks that it stays inside).
///
/// ```
/// use std::path::{Path, PathBuf};
/// use polyplug_loader::{LibrarySpec, platform_key};
///
/// let spec = LibrarySpec {
///     linux: Some(PathBuf::from("libdemo.so")),
///     macos: None,
///     windows: None,
///     sha256: None,
/// };
/// if platform_key() == "linux" {
///     assert_eq!(spec.for_current_platform(), Some(Path::new("libdemo.so")));
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibrarySpec {
    /// `library.linux`.
    pub linux: Option<PathBuf>,
    /// `library.macos`.
    pub macos: Option<PathBuf>,
    /// `library.windows`.
    pub windows: Option<PathBuf>,
    /// `library.sha256`: the expected SHA-256 of the library file.
    pub sha256: Option<[u8; 32]>,
}

impl LibrarySpec {
    /// The library for the platform this program runs on
    /// ([`platform_key`]), if the manifest names one.
    ///
    /// ```
    /// use std::path::{Path, PathBuf};
    /// use polyplug_loader::{LibrarySpec, platform_key};
    ///
    /// let linux_only = LibrarySpec {
    ///     linux: Some(PathBuf::from("libdemo.so")),
    ///     macos: None,
    ///     windows: None,
    ///     sha256: None,
    /// };
    /// let expected = (platform_key() == "linux").then(|| Path::new("libdemo.so"));
    /// assert_eq!(linux_only.for_current_platform(), expected);
    /// ```
    pub fn for_current_platform(&self) -> Option<&Path> {
        let path = match platform_key() {
            "linux" => &self.linux,
            "macos" => &self.macos,
            "windows" => &self.windows,
            _ => &None,
        };
        path.as_deref()
    }
}

/// The `[library]` key of the platform this program runs on: `linux`,
/// `macos` or `windows` (another OS gets its `std::env::consts::OS` name,
/// which no manifest key matches).
///
/// ```
/// assert_eq!(polyplug_loader::platform_key(), std::env::consts::OS);
/// ```
pub fn platform_key() -> &'static str {
    std::env::consts::OS
}

/// One `[[provides]]` or `[[requires]]` entry: a contract name and a
/// version (exact for provides, a minimum for requires).
///
/// ```
/// use polyplug_abi::{ContractId, Version};
/// use polyplug_loader::{ContractDecl, ContractName};
///
/// let decl = ContractDecl { name: ContractName::parse("test.add")?, version: Version::new(1, 2, 0) };
/// assert_eq!(decl.id(), ContractId::of("test.add", 1));
/// assert_eq!(decl.key(), "test.add@1");
/// # Ok::<(), polyplug_loader::NameError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContractDecl {
    /// The contract name.
    pub name: ContractName,
    /// The version.
    pub version: Version,
}

impl ContractDecl {
    /// The contract's id, `ContractId::of(name, version.major)`: minor and
    /// patch do not change it.
    ///
    /// ```
    /// use polyplug_abi::{ContractId, Version};
    /// use polyplug_loader::{ContractDecl, ContractName};
    ///
    /// let name = ContractName::parse("test.add")?;
    /// let v1_2 = ContractDecl { name: name.clone(), version: Version::new(1, 2, 0) };
    /// let v1_9 = ContractDecl { name, version: Version::new(1, 9, 3) };
    /// assert_eq!(v1_2.id(), ContractId::of("test.add", 1));
    /// assert_eq!(v1_2.id(), v1_9.id());
    /// # Ok::<(), polyplug_loader::NameError>(())
    /// ```
    pub fn id(&self) -> ContractId {
        ContractId::of(self.name.as_str(), self.version.major)
    }

    /// The contract's key, `name@major`, as
    /// [`parse_contract_key`](crate::parse_contract_key) reads it back.
    ///
    /// ```
    /// use polyplug_abi::Version;
    /// use polyplug_loader::{ContractDecl, ContractName, parse_contract_key};
    ///
    /// let name = ContractName::parse("test.add")?;
    /// let decl = ContractDecl { name: name.clone(), version: Version::new(2, 1, 0) };
    /// assert_eq!(decl.key(), "test.add@2");
    /// assert_eq!(parse_contract_key(&decl.key())?, (name, 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn key(&self) -> String {
        format!("{}@{}", self.name, self.version.major)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    bundle: RawBundle,
    library: Option<Spanned<RawLibrary>>,
    #[serde(default)]
    provides: Vec<RawContract>,
    #[serde(default)]
    requires: Vec<RawContract>,
    limits: Option<RawLimits>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    memory_pages: Option<Spanned<i64>>,
    fuel: Option<Spanned<i64>>,
    recursion_depth: Option<Spanned<i64>>,
    table_elements: Option<Spanned<i64>>,
    instances: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBundle {
    name: Spanned<String>,
    version: Spanned<String>,
    loader: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLibrary {
    linux: Option<Spanned<String>>,
    macos: Option<Spanned<String>>,
    windows: Option<Spanned<String>>,
    sha256: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContract {
    name: Spanned<String>,
    version: Spanned<String>,
    definition: Option<Spanned<String>>,
}

/// Parses the bytes of a `manifest.toml`. `file` is used only to name the
/// file in errors.
///
/// Checks, in order: the length ([`MAX_MANIFEST_BYTES`]), UTF-8, TOML
/// syntax, the schema (unknown fields are refused), then every value:
/// names, versions (`provides` exact, `requires` a minimum of 1 to 3
/// parts), the loader kind, the library table of a native bundle, and that
/// no contract `name@major` is provided twice.
///
/// ```
/// use std::path::Path;
/// use polyplug_loader::{ManifestErrorKind, parse_manifest};
///
/// let err = parse_manifest(b"[bundle]\nname = \"x\"\ncolour = 1\n", Path::new("m.toml"))
///     .unwrap_err();
/// assert!(matches!(err.kind, ManifestErrorKind::Schema { .. }));
/// assert_eq!((err.line, err.column, err.field.as_deref()), (3, 1, Some("bundle.colour")));
/// ```
pub fn parse_manifest(text_bytes: &[u8], file: &Path) -> Result<Manifest, ManifestError> {
    let at = Source {
        bytes: text_bytes,
        file,
    };
    if text_bytes.len() > MAX_MANIFEST_BYTES {
        return Err(at.error(
            0,
            None,
            ManifestErrorKind::TooLarge {
                limit: MAX_MANIFEST_BYTES,
                found: text_bytes.len(),
            },
        ));
    }
    let text = core::str::from_utf8(text_bytes)
        .map_err(|e| at.error(e.valid_up_to(), None, ManifestErrorKind::NotUtf8))?;
    let document = toml::de::Deserializer::parse(text).map_err(|e| {
        let offset = e.span().map_or(0, |span| span.start);
        let message = e.message().to_owned();
        at.error(offset, None, ManifestErrorKind::Syntax { message })
    })?;
    let raw = RawManifest::deserialize(document).map_err(|e| {
        let offset = e.span().map_or(0, |span| span.start);
        let field = e.span().and_then(|_| field_at(text, offset));
        let message = e.message().to_owned();
        at.error(offset, field, ManifestErrorKind::Schema { message })
    })?;
    at.validate(raw)
}

/// The manifest being checked: its bytes, for positions, and its name.
struct Source<'a> {
    bytes: &'a [u8],
    file: &'a Path,
}

impl Source<'_> {
    fn error(
        &self,
        offset: usize,
        field: Option<String>,
        kind: ManifestErrorKind,
    ) -> ManifestError {
        let (line, column) = line_column(self.bytes, offset);
        ManifestError {
            file: self.file.to_owned(),
            line,
            column,
            field,
            kind,
        }
    }

    /// An error about the value `spanned` of `field`.
    fn at<T>(&self, spanned: &Spanned<T>, field: &str, kind: ManifestErrorKind) -> ManifestError {
        self.error(spanned.span().start, Some(field.to_owned()), kind)
    }

    fn validate(&self, raw: RawManifest) -> Result<Manifest, ManifestError> {
        let bundle = &raw.bundle;
        let name = BundleName::parse(bundle.name.get_ref())
            .map_err(|e| self.at(&bundle.name, "bundle.name", ManifestErrorKind::Name(e)))?;
        let version = parse_version(bundle.version.get_ref()).map_err(|e| {
            self.at(
                &bundle.version,
                "bundle.version",
                ManifestErrorKind::Version(e),
            )
        })?;
        let loader = LoaderKind::from_name(bundle.loader.get_ref()).ok_or_else(|| {
            let found = bundle.loader.get_ref().clone();
            self.at(
                &bundle.loader,
                "bundle.loader",
                ManifestErrorKind::UnknownLoader { found },
            )
        })?;
        let library = raw.library.as_ref().map(|l| self.library(l)).transpose()?;
        if loader == LoaderKind::Native && library.is_none() {
            return Err(self.at(&bundle.loader, "library", ManifestErrorKind::NoLibrary));
        }
        let provides = self.contracts(&raw.provides, "provides", parse_version)?;
        self.refuse_duplicates(&raw.provides, &provides)?;
        let requires = self.contracts(&raw.requires, "requires", parse_version_req)?;
        let definitions = self.definitions(&raw.provides, &provides)?;
        if let Some((index, entry)) = raw
            .requires
            .iter()
            .enumerate()
            .find(|(_, entry)| entry.definition.is_some())
            && let Some(text) = &entry.definition
        {
            return Err(self.at(
                text,
                &format!("requires[{index}].definition"),
                ManifestErrorKind::DefinitionOnRequires,
            ));
        }
        let limits = raw
            .limits
            .as_ref()
            .map(|l| self.limits(l))
            .transpose()?
            .unwrap_or_default();
        Ok(Manifest {
            name,
            version,
            loader,
            library,
            provides,
            requires,
            limits,
            definitions,
        })
    }

    /// The `definition` paths of `[[provides]]`: relative, inside the
    /// bundle directory (no `..`, not absolute), not empty.
    fn definitions(
        &self,
        raw: &[RawContract],
        decls: &[ContractDecl],
    ) -> Result<Vec<(ContractDecl, PathBuf)>, ManifestError> {
        let mut out = Vec::new();
        for (index, (entry, decl)) in raw.iter().zip(decls).enumerate() {
            let Some(text) = &entry.definition else {
                continue;
            };
            let field = format!("provides[{index}].definition");
            let path = PathBuf::from(text.get_ref());
            if text.get_ref().is_empty() {
                return Err(self.at(text, &field, ManifestErrorKind::EmptyPath));
            }
            let inside = path.components().all(|c| {
                matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            });
            if !inside {
                return Err(self.at(
                    text,
                    &field,
                    ManifestErrorKind::DefinitionPath {
                        found: text.get_ref().clone(),
                    },
                ));
            }
            out.push((decl.clone(), path));
        }
        Ok(out)
    }

    fn limits(&self, raw: &RawLimits) -> Result<Limits, ManifestError> {
        let positive = |value: &Option<Spanned<i64>>, field: &str| match value {
            Some(n) => match u64::try_from(*n.get_ref()) {
                Ok(v) if v > 0 => Ok(Some(v)),
                _ => Err(self.at(
                    n,
                    field,
                    ManifestErrorKind::Limit {
                        found: *n.get_ref(),
                    },
                )),
            },
            None => Ok(None),
        };
        Ok(Limits {
            memory_pages: positive(&raw.memory_pages, "limits.memory_pages")?,
            fuel: positive(&raw.fuel, "limits.fuel")?,
            recursion_depth: positive(&raw.recursion_depth, "limits.recursion_depth")?,
            table_elements: positive(&raw.table_elements, "limits.table_elements")?,
            instances: positive(&raw.instances, "limits.instances")?,
        })
    }

    fn library(&self, raw: &Spanned<RawLibrary>) -> Result<LibrarySpec, ManifestError> {
        let table = raw.get_ref();
        let path = |value: &Option<Spanned<String>>, field: &str| match value {
            Some(text) if text.get_ref().is_empty() => {
                Err(self.at(text, field, ManifestErrorKind::EmptyPath))
            }
            Some(text) => Ok(Some(PathBuf::from(text.get_ref()))),
            None => Ok(None),
        };
        let linux = path(&table.linux, "library.linux")?;
        let macos = path(&table.macos, "library.macos")?;
        let windows = path(&table.windows, "library.windows")?;
        if linux.is_none() && macos.is_none() && windows.is_none() {
            return Err(self.at(raw, "library", ManifestErrorKind::NoPlatform));
        }
        let sha256 = match &table.sha256 {
            Some(text) => Some(parse_sha256(text.get_ref()).ok_or_else(|| {
                let found = text.get_ref().clone();
                self.at(text, "library.sha256", ManifestErrorKind::Digest { found })
            })?),
            None => None,
        };
        Ok(LibrarySpec {
            linux,
            macos,
            windows,
            sha256,
        })
    }

    fn contracts(
        &self,
        raw: &[RawContract],
        table: &str,
        version: fn(&str) -> Result<Version, crate::VersionError>,
    ) -> Result<Vec<ContractDecl>, ManifestError> {
        let mut decls = Vec::with_capacity(raw.len());
        for (index, entry) in raw.iter().enumerate() {
            let name = ContractName::parse(entry.name.get_ref()).map_err(|e| {
                let field = format!("{table}[{index}].name");
                self.at(&entry.name, &field, ManifestErrorKind::Name(e))
            })?;
            let version = version(entry.version.get_ref()).map_err(|e| {
                let field = format!("{table}[{index}].version");
                self.at(&entry.version, &field, ManifestErrorKind::Version(e))
            })?;
            decls.push(ContractDecl { name, version });
        }
        Ok(decls)
    }

    /// Refuses a second `[[provides]]` entry with the same `name@major`,
    /// pointing at its name and naming the line of the first.
    fn refuse_duplicates(
        &self,
        raw: &[RawContract],
        decls: &[ContractDecl],
    ) -> Result<(), ManifestError> {
        let mut first_lines: HashMap<(&str, u32), usize> = HashMap::new();
        for (index, (entry, decl)) in raw.iter().zip(decls).enumerate() {
            let line = line_column(self.bytes, entry.name.span().start).0;
            let key = (decl.name.as_str(), decl.version.major);
            if let Some(&first_line) = first_lines.get(&key) {
                let kind = ManifestErrorKind::DuplicateContract {
                    name: decl.name.as_str().to_owned(),
                    major: decl.version.major,
                    first_line,
                };
                return Err(self.at(&entry.name, &format!("provides[{index}].name"), kind));
            }
            first_lines.insert(key, line);
        }
        Ok(())
    }
}

/// Parses 64 hexadecimal digits (either case) into 32 bytes.
fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (out, pair) in digest.iter_mut().zip(bytes.chunks_exact(2)) {
        let [high, low] = pair else { return None };
        *out = (hex_value(*high)? << 4) | hex_value(*low)?;
    }
    Some(digest)
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_in_either_case() {
        let lower = "00ff".repeat(16);
        let upper = "00FF".repeat(16);
        let expected: [u8; 32] = core::array::from_fn(|i| if i % 2 == 0 { 0 } else { 0xff });
        assert_eq!(parse_sha256(&lower), Some(expected));
        assert_eq!(parse_sha256(&upper), Some(expected));
        assert_eq!(parse_sha256(&lower[..62]), None);
        assert_eq!(parse_sha256(&format!("{}g0", &lower[..62])), None);
        // 64 bytes but not 64 ASCII digits.
        assert_eq!(parse_sha256(&format!("{}\u{e9}", &lower[..62])), None);
    }

    #[test]
    fn loader_names_round_trip() {
        for kind in LoaderKind::ALL {
            assert_eq!(LoaderKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(LoaderKind::from_name(""), None);
        assert_eq!(LoaderKind::from_name("native "), None);
    }
}
