//! Bundle directories: a `manifest.toml` and, for native bundles, a
//! library file that stays inside the directory.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use crate::error::BundleError;
use crate::manifest::{LoaderKind, MAX_MANIFEST_BYTES, Manifest, parse_manifest, platform_key};
use crate::name::BundleName;

/// The file name of a bundle's manifest.
///
/// ```
/// assert_eq!(polyplug_loader::MANIFEST_FILE, "manifest.toml");
/// ```
pub const MANIFEST_FILE: &str = "manifest.toml";

/// An opened bundle directory: its canonical path, its parsed manifest and,
/// for a native bundle, the canonical path of its library for this
/// platform.
///
/// Opening checks everything that can be checked without loading code; the
/// library itself is read and verified by
/// [`NativeLibrary::open`](crate::NativeLibrary::open).
///
/// ```
/// use std::path::Path;
/// use polyplug_loader::{Bundle, BundleError};
///
/// match Bundle::open(Path::new("plugins/test-add")) {
///     Ok(bundle) => println!("{} from {}", bundle.name(), bundle.dir().display()),
///     Err(BundleError::Dir { dir, .. }) => println!("no bundle at {}", dir.display()),
///     Err(other) => println!("{other}"),
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Bundle {
    dir: PathBuf,
    manifest_path: PathBuf,
    manifest: Manifest,
    library_path: Option<PathBuf>,
}

impl Bundle {
    /// Opens the bundle in `dir`.
    ///
    /// 1. Canonicalizes `dir`; it must exist and be a directory.
    /// 2. Reads `manifest.toml`, at most [`MAX_MANIFEST_BYTES`] + 1 bytes
    ///    of it, so a huge file is refused without reading it all.
    /// 3. Parses the manifest ([`parse_manifest`]).
    /// 4. For a native bundle, and for any bundle with a `[library]`
    ///    table: takes the library (or code file) for this platform
    ///    ([`LibrarySpec::for_current_platform`](crate::LibrarySpec::for_current_platform)),
    ///    refuses an absolute path or one with a `..` component, resolves
    ///    symlinks and refuses a result outside the canonical bundle
    ///    directory, and checks that it is a regular file.
    ///
    /// ```
    /// use std::path::Path;
    /// use polyplug_loader::{Bundle, BundleError};
    ///
    /// let err = Bundle::open(Path::new("/no/such/bundle")).unwrap_err();
    /// assert!(matches!(err, BundleError::Dir { .. }));
    /// assert!(err.to_string().starts_with("cannot open bundle directory /no/such/bundle: "));
    /// ```
    pub fn open(dir: &Path) -> Result<Bundle, BundleError> {
        let canonical = fs::canonicalize(dir).map_err(|io| BundleError::Dir {
            dir: dir.to_owned(),
            io,
        })?;
        if !canonical.is_dir() {
            return Err(BundleError::NotADirectory { dir: canonical });
        }
        let manifest_path = canonical.join(MANIFEST_FILE);
        let bytes = read_manifest(&manifest_path)?;
        let manifest = parse_manifest(&bytes, &manifest_path)?;
        // A native bundle must name a library; another kind names its code
        // file (a `.wasm` module, a script) in the same table, checked the
        // same way, when it has one.
        let library_path = match manifest.loader {
            LoaderKind::Native => Some(resolve_library(&canonical, &manifest)?),
            LoaderKind::Lua | LoaderKind::Python | LoaderKind::JavaScript | LoaderKind::Wasm => {
                match manifest.library {
                    Some(_) => Some(resolve_library(&canonical, &manifest)?),
                    None => None,
                }
            }
        };
        Ok(Bundle {
            dir: canonical,
            manifest_path,
            manifest,
            library_path,
        })
    }

    /// The canonical bundle directory.
    ///
    /// ```
    /// # use polyplug_loader::{Bundle, ScratchDir};
    /// # let tmp = ScratchDir::new()?; // a temporary directory, removed on drop
    /// # let manifest = b"[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"lua\"\n";
    /// # std::fs::write(tmp.path().join("manifest.toml"), manifest)?;
    /// let bundle = Bundle::open(&tmp.path().join("."))?;
    /// assert_eq!(bundle.dir(), tmp.path()); // `.` resolved away
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of `manifest.toml` in the canonical directory.
    ///
    /// ```
    /// # use polyplug_loader::{Bundle, ScratchDir};
    /// # let tmp = ScratchDir::new()?; // a temporary directory, removed on drop
    /// # let manifest = b"[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"lua\"\n";
    /// # std::fs::write(tmp.path().join("manifest.toml"), manifest)?;
    /// let bundle = Bundle::open(tmp.path())?;
    /// assert_eq!(bundle.manifest_path(), tmp.path().join("manifest.toml"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn manifest_path(&self) -> &Path {
        &self.manifest_path
    }

    /// The parsed manifest.
    ///
    /// ```
    /// # use polyplug_loader::{Bundle, ScratchDir};
    /// # let tmp = ScratchDir::new()?; // a temporary directory, removed on drop
    /// # let manifest = b"[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"lua\"\n";
    /// # std::fs::write(tmp.path().join("manifest.toml"), manifest)?;
    /// use polyplug_loader::LoaderKind;
    ///
    /// let bundle = Bundle::open(tmp.path())?;
    /// assert_eq!(bundle.manifest().loader, LoaderKind::Lua);
    /// assert!(bundle.manifest().provides.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The bundle's name, from its manifest.
    ///
    /// ```
    /// # use polyplug_loader::{Bundle, ScratchDir};
    /// # let tmp = ScratchDir::new()?; // a temporary directory, removed on drop
    /// # let manifest = b"[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"lua\"\n";
    /// # std::fs::write(tmp.path().join("manifest.toml"), manifest)?;
    /// let bundle = Bundle::open(tmp.path())?;
    /// assert_eq!(bundle.name().as_str(), "demo");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> &BundleName {
        &self.manifest.name
    }

    /// The canonical path of the library (or, for an engine-run bundle,
    /// the code file) for this platform, inside [`dir`](Bundle::dir);
    /// `None` for a bundle of another kind than [`LoaderKind::Native`]
    /// without a `[library]` table.
    ///
    /// ```
    /// use polyplug_loader::{Bundle, ScratchDir, platform_key};
    ///
    /// let tmp = ScratchDir::new()?; // a temporary directory, removed on drop
    /// let manifest = format!(
    ///     r#"
    /// [bundle]
    /// name = "demo"
    /// version = "1.0.0"
    /// loader = "native"
    ///
    /// [library]
    /// {} = "lib/libdemo.so"
    /// "#,
    ///     platform_key(),
    /// );
    /// std::fs::write(tmp.path().join("manifest.toml"), manifest)?;
    /// std::fs::create_dir(tmp.path().join("lib"))?;
    /// std::fs::write(tmp.path().join("lib/libdemo.so"), b"not read until NativeLibrary::open")?;
    ///
    /// let bundle = Bundle::open(tmp.path())?;
    /// assert_eq!(bundle.library_path(), Some(tmp.path().join("lib/libdemo.so").as_path()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn library_path(&self) -> Option<&Path> {
        self.library_path.as_deref()
    }
}

/// Reads at most `MAX_MANIFEST_BYTES + 1` bytes of the manifest.
fn read_manifest(path: &Path) -> Result<Vec<u8>, BundleError> {
    let read_error = |io: io::Error| match io.kind() {
        io::ErrorKind::NotFound => BundleError::ManifestMissing {
            path: path.to_owned(),
        },
        _ => BundleError::ManifestRead {
            path: path.to_owned(),
            io,
        },
    };
    let file = File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if !metadata.is_file() {
        return Err(BundleError::ManifestRead {
            path: path.to_owned(),
            io: io::Error::new(io::ErrorKind::InvalidInput, "expected a regular file"),
        });
    }
    let limit = u64::try_from(MAX_MANIFEST_BYTES + 1).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(BundleError::ManifestTooLarge {
            path: path.to_owned(),
            limit: MAX_MANIFEST_BYTES,
        });
    }
    Ok(bytes)
}

/// The manifest field that names the library on this platform.
fn library_field() -> &'static str {
    match platform_key() {
        "linux" => "library.linux",
        "macos" => "library.macos",
        "windows" => "library.windows",
        _ => "library",
    }
}

/// Finds the library of a native bundle and proves it lies inside `dir`
/// (which is canonical).
fn resolve_library(dir: &Path, manifest: &Manifest) -> Result<PathBuf, BundleError> {
    let bundle = manifest.name.as_str();
    let Some(file) = manifest
        .library
        .as_ref()
        .and_then(|spec| spec.for_current_platform())
    else {
        return Err(BundleError::NoLibraryForPlatform {
            bundle: bundle.to_owned(),
            platform: platform_key(),
        });
    };
    let outside = || BundleError::LibraryOutsideBundle {
        bundle: bundle.to_owned(),
        file: file.to_owned(),
        field: library_field(),
    };
    let relative = file
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if file.is_absolute() || !relative {
        return Err(outside());
    }
    let joined = dir.join(file);
    let resolved = fs::canonicalize(&joined).map_err(|io| match io.kind() {
        io::ErrorKind::NotFound => BundleError::LibraryMissing {
            bundle: bundle.to_owned(),
            path: joined.clone(),
        },
        _ => BundleError::LibraryAccess {
            bundle: bundle.to_owned(),
            path: joined.clone(),
            message: io.to_string(),
        },
    })?;
    // `starts_with` compares whole components, so `/b/x-evil` is not under
    // `/b/x`.
    if !resolved.starts_with(dir) {
        return Err(outside());
    }
    if !resolved.is_file() {
        return Err(BundleError::LibraryAccess {
            bundle: bundle.to_owned(),
            path: joined,
            message: "expected a regular file".to_owned(),
        });
    }
    Ok(resolved)
}
