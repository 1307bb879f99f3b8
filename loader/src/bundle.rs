//! Bundle directories: a `manifest.toml` and, for native bundles, a
//! library file that stays inside the directory.
//!
//! Opening a bundle does all of its file IO: the manifest and the library
//! are read here, each through [`open`](crate::file::open), so nothing
//! that comes later (checking, copying, `dlopen`) reads the bundle again,
//! and a caller can open bundles before it takes any lock.

use core::fmt;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::error::BundleError;
use crate::file::{self, Follow, OpenError};
use crate::manifest::{LoaderKind, MAX_MANIFEST_BYTES, Manifest, parse_manifest, platform_key};
use crate::name::BundleName;

/// The file name of a bundle's manifest.
///
/// ```
/// assert_eq!(polyplug_loader::MANIFEST_FILE, "manifest.toml");
/// ```
pub const MANIFEST_FILE: &str = "manifest.toml";

/// An opened bundle directory: its canonical path, its parsed manifest and,
/// for a native bundle, the canonical path and the bytes of its library for
/// this platform.
///
/// Opening reads every file of the bundle and checks everything that can be
/// checked without loading code; the library bytes are verified and loaded
/// by [`NativeLibrary::open`](crate::NativeLibrary::open), which reads no
/// file. Cloning shares the library bytes.
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
#[derive(Clone)]
pub struct Bundle {
    dir: PathBuf,
    manifest_path: PathBuf,
    manifest: Manifest,
    manifest_bytes: Arc<[u8]>,
    library: Option<LibraryFile>,
    /// Every file's bytes, once [`Bundle::verified`] checked them.
    pub(crate) files: Option<Arc<crate::seal::BundleFiles>>,
}

/// A library as [`Bundle::open`] read it.
#[derive(Clone)]
struct LibraryFile {
    /// Canonical, inside the bundle directory.
    path: PathBuf,
    bytes: Arc<[u8]>,
}

impl fmt::Debug for Bundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bundle")
            .field("dir", &self.dir)
            .field("manifest_path", &self.manifest_path)
            .field("manifest", &self.manifest)
            .field("library_path", &self.library_path())
            .field("library_len", &self.library_bytes().map(<[u8]>::len))
            .field("files", &self.files.as_ref().map(|files| files.len()))
            .finish()
    }
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
    ///    directory, and reads the file whole.
    ///
    /// Both files are opened by [`open_regular`](crate::open_regular)'s
    /// rules: a FIFO, a socket, a device or a directory is refused, naming
    /// what it is ([`BundleError::ManifestNotAFile`],
    /// [`BundleError::LibraryNotAFile`]), without being read, so opening a
    /// bundle never blocks on one. The library is opened without following
    /// a final symlink, since its resolved path was checked to hold none.
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
        Bundle::open_from(dir, None)
    }

    /// Opens the bundle at `dir` again, as [`Bundle::open`] does, reading
    /// every file afresh; `known` is what an earlier open read (of this
    /// or any directory). Where a file read now holds exactly the bytes
    /// `known` holds for it, `known`'s share of them and what was parsed
    /// from them are taken instead of new ones: an unchanged manifest is
    /// not parsed again, and an unchanged library is compared piece by
    /// piece as it is read, not copied into new memory. The result is the
    /// bundle [`Bundle::open`] would give.
    ///
    /// ```
    /// # use polyplug_loader::{Bundle, ScratchDir, platform_key};
    /// # let tmp = ScratchDir::new()?; // a temporary directory, removed on drop
    /// # let manifest = format!(
    /// #     "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"native\"\n\
    /// #      [library]\n{} = \"libdemo.so\"\n",
    /// #     platform_key(),
    /// # );
    /// # std::fs::write(tmp.path().join("manifest.toml"), manifest)?;
    /// std::fs::write(tmp.path().join("libdemo.so"), b"first")?;
    /// let first = Bundle::open(tmp.path())?;
    /// let again = Bundle::open_known(tmp.path(), &first)?;
    /// assert_eq!(again.library_bytes(), Some(&b"first"[..]));
    /// std::fs::write(tmp.path().join("libdemo.so"), b"later")?;
    /// let changed = Bundle::open_known(tmp.path(), &first)?;
    /// assert_eq!(changed.library_bytes(), Some(&b"later"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`Bundle::open`].
    pub fn open_known(dir: &Path, known: &Bundle) -> Result<Bundle, BundleError> {
        Bundle::open_from(dir, Some(known))
    }

    /// This bundle without the bytes of its other files
    /// ([`Bundle::verified`] keeps them): what [`Bundle::open_known`]
    /// needs, for a caller that keeps it while the bundle is loaded.
    ///
    /// ```
    /// # use polyplug_loader::{Bundle, ScratchDir};
    /// # let tmp = ScratchDir::new()?; // a temporary directory, removed on drop
    /// # let manifest = b"[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"lua\"\n";
    /// # std::fs::write(tmp.path().join("manifest.toml"), manifest)?;
    /// let bundle = Bundle::open(tmp.path())?;
    /// let kept = bundle.without_other_files();
    /// assert_eq!(kept.manifest(), bundle.manifest());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn without_other_files(&self) -> Bundle {
        Bundle {
            files: None,
            ..self.clone()
        }
    }

    fn open_from(dir: &Path, known: Option<&Bundle>) -> Result<Bundle, BundleError> {
        let (canonical, is_dir) = canonical_dir(dir).map_err(|io| BundleError::Dir {
            dir: dir.to_owned(),
            io,
        })?;
        if !is_dir {
            return Err(BundleError::NotADirectory { dir: canonical });
        }
        let manifest_path = canonical.join(MANIFEST_FILE);
        let mut bytes = read_manifest(&manifest_path)?;
        // Parsing is a function of the bytes and the path alone.
        let manifest = match known {
            Some(known)
                if known.manifest_path == manifest_path && *known.manifest_bytes == *bytes =>
            {
                bytes = Arc::clone(&known.manifest_bytes);
                known.manifest.clone()
            }
            _ => parse_manifest(&bytes, &manifest_path)?,
        };
        // A native bundle must name a library; another kind names its code
        // file (a `.wasm` module, a script) in the same table, checked the
        // same way, when it has one. Either is read here, through the same
        // non-blocking open, before any writer's lock is taken.
        let library = match (manifest.loader, &manifest.library) {
            (LoaderKind::Native, _) | (_, Some(_)) => {
                let (joined, path) = resolve_library(&canonical, &manifest)?;
                let known = known.and_then(|k| k.library.as_ref()).map(|l| &l.bytes);
                let bytes = read_library(&joined, &path, &manifest, known)?;
                Some(LibraryFile { path, bytes })
            }
            (
                LoaderKind::Lua | LoaderKind::Python | LoaderKind::JavaScript | LoaderKind::Wasm,
                None,
            ) => None,
        };
        Ok(Bundle {
            dir: canonical,
            manifest_path,
            manifest,
            manifest_bytes: bytes,
            library,
            files: None,
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
        self.library.as_ref().map(|library| library.path.as_path())
    }

    /// The bytes of the library, as read when the bundle was opened;
    /// `None` unless the loader is [`LoaderKind::Native`]. A file changed
    /// since is not read again: open the bundle again to see it.
    ///
    /// ```
    /// # use polyplug_loader::{Bundle, ScratchDir, platform_key};
    /// # let tmp = ScratchDir::new()?; // a temporary directory, removed on drop
    /// # let manifest = format!(
    /// #     "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"native\"\n\
    /// #      [library]\n{} = \"libdemo.so\"\n",
    /// #     platform_key(),
    /// # );
    /// # std::fs::write(tmp.path().join("manifest.toml"), manifest)?;
    /// std::fs::write(tmp.path().join("libdemo.so"), b"first")?;
    /// let bundle = Bundle::open(tmp.path())?;
    /// std::fs::write(tmp.path().join("libdemo.so"), b"second")?;
    /// assert_eq!(bundle.library_bytes(), Some(&b"first"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn library_bytes(&self) -> Option<&[u8]> {
        self.library.as_ref().map(|library| &*library.bytes)
    }

    /// The library's bytes, shared.
    pub(crate) fn library_arc(&self) -> Option<&Arc<[u8]>> {
        self.library.as_ref().map(|library| &library.bytes)
    }

    /// The bytes of `manifest.toml`, as read and parsed.
    pub(crate) fn manifest_bytes(&self) -> &Arc<[u8]> {
        &self.manifest_bytes
    }

    /// The bytes of the file at `relative` (`/`-separated, relative to the
    /// bundle directory) as the signature check read and checked them;
    /// `None` when that file is not in the bundle, or when the bundle was
    /// not checked ([`Bundle::verified`] under a required
    /// [`Trust`](crate::Trust)). A loader that reads more files than its
    /// code file (a script's `require`) reads them here when it can, so
    /// what runs is what was checked.
    ///
    /// ```
    /// # use polyplug_loader::{Bundle, ScratchDir, SecretKey, Trust, seal_bundle};
    /// # let tmp = ScratchDir::new()?;
    /// # std::fs::write(tmp.path().join("manifest.toml"), "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"lua\"\n")?;
    /// std::fs::create_dir(tmp.path().join("lib"))?;
    /// std::fs::write(tmp.path().join("lib/util.lua"), "return 1")?;
    /// let key = SecretKey::from_seed([7; 32]);
    /// seal_bundle(tmp.path(), &key)?;
    /// let bundle = Bundle::open(tmp.path())?;
    /// assert!(bundle.file("lib/util.lua").is_none()); // not checked
    /// let bundle = bundle.verified(&Trust::required([key.public()]))?;
    /// assert_eq!(bundle.file("lib/util.lua"), Some(&b"return 1"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file(&self, relative: &str) -> Option<&[u8]> {
        self.files.as_ref()?.get(relative).map(|bytes| &**bytes)
    }

    /// Every file's bytes, by relative path, as [`Bundle::verified`]
    /// checked them; `None` when it did not. Shared: a loader may keep it
    /// for files it reads later (a `require` on another thread).
    ///
    /// ```
    /// # use polyplug_loader::{Bundle, ScratchDir};
    /// # let tmp = ScratchDir::new()?;
    /// # std::fs::write(tmp.path().join("manifest.toml"), "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"lua\"\n")?;
    /// assert!(Bundle::open(tmp.path())?.files().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn files(&self) -> Option<&Arc<crate::seal::BundleFiles>> {
        self.files.as_ref()
    }

    /// Whether [`Bundle::verified`] checked this bundle's signature, so
    /// [`Bundle::file`] holds every file.
    ///
    /// ```
    /// # use polyplug_loader::{Bundle, ScratchDir};
    /// # let tmp = ScratchDir::new()?;
    /// # std::fs::write(tmp.path().join("manifest.toml"), "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"lua\"\n")?;
    /// assert!(!Bundle::open(tmp.path())?.is_verified());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_verified(&self) -> bool {
        self.files.is_some()
    }
}

/// Reads at most `MAX_MANIFEST_BYTES + 1` bytes of the manifest.
fn read_manifest(path: &Path) -> Result<Arc<[u8]>, BundleError> {
    let read_error = |io: io::Error| match io.kind() {
        io::ErrorKind::NotFound => BundleError::ManifestMissing {
            path: path.to_owned(),
        },
        _ => BundleError::ManifestRead {
            path: path.to_owned(),
            io,
        },
    };
    let file = file::open(path, Follow::Yes).map_err(|error| match error {
        OpenError::NotRegular(kind) => BundleError::ManifestNotAFile {
            path: path.to_owned(),
            kind,
        },
        OpenError::Io(io) => read_error(io),
    })?;
    let limit = u64::try_from(MAX_MANIFEST_BYTES + 1).unwrap_or(u64::MAX);
    let bytes = file::read_shared(file, limit).map_err(read_error)?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(BundleError::ManifestTooLarge {
            path: path.to_owned(),
            limit: MAX_MANIFEST_BYTES,
        });
    }
    Ok(bytes)
}

/// The canonical path of `dir`, and whether it is a directory.
///
/// On Linux a directory is opened once (`O_PATH | O_DIRECTORY`, following
/// symlinks) and the kernel names what was opened (`/proc/self/fd`): one
/// walk of the path, where `realpath` makes one `readlink` per component,
/// each walking the path from the root again. Anything else (not a
/// directory, `/proc` not answering, or answering with a name that is not
/// a plain absolute path: a directory deleted since, or one outside the
/// process's root) is `fs::canonicalize`, as elsewhere.
fn canonical_dir(dir: &Path) -> io::Result<(PathBuf, bool)> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::io::AsRawFd;

        let opened = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(dir);
        match opened {
            Ok(opened) => {
                let named = fs::read_link(format!("/proc/self/fd/{}", opened.as_raw_fd()));
                if let Ok(named) = named
                    && named.is_absolute()
                    && !named
                        .as_os_str()
                        .as_encoded_bytes()
                        .ends_with(b" (deleted)")
                {
                    return Ok((named, true));
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {}
            Err(e) => return Err(e),
        }
    }
    let canonical = fs::canonicalize(dir)?;
    let is_dir = canonical.is_dir();
    Ok((canonical, is_dir))
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
/// (which is canonical). Returns its path joined to `dir`, for messages,
/// and its canonical path.
fn resolve_library(dir: &Path, manifest: &Manifest) -> Result<(PathBuf, PathBuf), BundleError> {
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
    let resolved = resolve_under(dir, file).map_err(|io| match io.kind() {
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
    Ok((joined, resolved))
}

/// `dir` (canonical) joined with `file` (only normal and `.` components),
/// canonical. When no component of `file` is a symlink, the joined path,
/// without its `.`s, already is: one `lstat` per component of `file`,
/// where `realpath` reads every component of the whole path again. A
/// symlink anywhere in `file` is resolved by `fs::canonicalize`, and the
/// caller checks that its target stays inside `dir` (\[L1\]).
fn resolve_under(dir: &Path, file: &Path) -> io::Result<PathBuf> {
    let mut path = dir.to_path_buf();
    for component in file.components() {
        let Component::Normal(name) = component else {
            continue;
        };
        path.push(name);
        if fs::symlink_metadata(&path)?.file_type().is_symlink() {
            return fs::canonicalize(dir.join(file));
        }
    }
    Ok(path)
}

/// Reads the library at `resolved` (canonical, inside the bundle) whole;
/// errors name it as `path`, joined to the bundle directory.
fn read_library(
    path: &Path,
    resolved: &Path,
    manifest: &Manifest,
    known: Option<&Arc<[u8]>>,
) -> Result<Arc<[u8]>, BundleError> {
    let bundle = manifest.name.as_str();
    let access = |io: io::Error| match io.kind() {
        io::ErrorKind::NotFound => BundleError::LibraryMissing {
            bundle: bundle.to_owned(),
            path: path.to_owned(),
        },
        _ => BundleError::LibraryAccess {
            bundle: bundle.to_owned(),
            path: path.to_owned(),
            message: io.to_string(),
        },
    };
    let file = file::open(resolved, Follow::No).map_err(|error| match error {
        OpenError::NotRegular(kind) => BundleError::LibraryNotAFile {
            bundle: bundle.to_owned(),
            path: path.to_owned(),
            kind,
        },
        OpenError::Io(io) => access(io),
    })?;
    match known {
        Some(known) => file::read_shared_known(file, u64::MAX, known),
        None => file::read_shared(file, u64::MAX),
    }
    .map_err(access)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unchanged manifest and library are taken from the known bundle;
    /// a changed one is read and parsed afresh.
    #[test]
    fn open_known_takes_only_what_did_not_change() {
        let dir = std::env::temp_dir().join(format!("polyplug-reopen-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let manifest = |version: &str| {
            format!(
                "[bundle]\nname = \"demo\"\nversion = \"{version}\"\nloader = \"native\"\n\
                 [library]\n{} = \"libdemo.so\"\n",
                crate::platform_key()
            )
        };
        fs::write(dir.join(MANIFEST_FILE), manifest("1.0.0")).unwrap();
        fs::write(dir.join("libdemo.so"), b"library one").unwrap();
        let first = Bundle::open(&dir).unwrap();
        let same = Bundle::open_known(&dir, &first).unwrap();
        assert!(Arc::ptr_eq(same.manifest_bytes(), first.manifest_bytes()));
        assert!(Arc::ptr_eq(
            same.library_arc().unwrap(),
            first.library_arc().unwrap()
        ));
        fs::write(dir.join(MANIFEST_FILE), manifest("1.0.1")).unwrap();
        fs::write(dir.join("libdemo.so"), b"library two").unwrap();
        let changed = Bundle::open_known(&dir, &first).unwrap();
        assert_eq!(changed.manifest().version.to_string(), "1.0.1");
        assert_eq!(changed.library_bytes(), Some(&b"library two"[..]));
        assert_eq!(changed.manifest(), Bundle::open(&dir).unwrap().manifest());
        // A bad manifest is refused as `open` refuses it.
        fs::write(dir.join(MANIFEST_FILE), "[bundle\n").unwrap();
        assert_eq!(
            Bundle::open_known(&dir, &first).unwrap_err().to_string(),
            Bundle::open(&dir).unwrap_err().to_string()
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    /// `canonical_dir` names a directory as `fs::canonicalize` does, `.`
    /// and symlinks resolved; a file is named and is not a directory; a
    /// missing path is an error.
    #[test]
    fn canonical_dir_agrees_with_canonicalize() {
        let root = std::env::temp_dir().join(format!("polyplug-canon-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let real = root.join("real");
        fs::create_dir_all(real.join("inner")).unwrap();
        fs::write(real.join("file"), b"x").unwrap();
        let canonical = |path: &Path| canonical_dir(path).unwrap();
        let expected = fs::canonicalize(real.join("inner")).unwrap();
        assert_eq!(canonical(&real.join("inner/.")), (expected.clone(), true));
        assert_eq!(
            canonical(&real.join("inner/../inner")),
            (expected.clone(), true)
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&real, root.join("link")).unwrap();
            assert_eq!(canonical(&root.join("link/inner")), (expected, true));
        }
        let file = fs::canonicalize(real.join("file")).unwrap();
        assert_eq!(canonical(&real.join("file")), (file, false));
        let missing = canonical_dir(&real.join("missing")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        fs::remove_dir_all(&root).unwrap();
    }
}
