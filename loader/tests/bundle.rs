//! Black-box tests of `Bundle::open`: directories, manifests and library
//! paths that must stay inside the bundle.
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::path::Path;

use common::{TempDir, native_manifest, within_30s};
use polyplug_loader::{
    Bundle, BundleError, FileKind, LoaderKind, MAX_MANIFEST_BYTES, ManifestErrorKind, platform_key,
};

/// The manifest field for this platform's library.
fn field() -> String {
    format!("library.{}", platform_key())
}

#[expect(
    clippy::panic,
    reason = "a helper of the tests: panicking fails the test"
)]
fn open_err(dir: &Path) -> BundleError {
    match Bundle::open(dir) {
        Ok(bundle) => panic!("expected an error, opened {bundle:?}"),
        Err(e) => e,
    }
}

#[test]
fn a_native_bundle_opens_with_canonical_paths() {
    let tmp = TempDir::new("ok");
    tmp.write(
        "b/manifest.toml",
        native_manifest("demo", "lib/libdemo.so", None),
    );
    let library = tmp.write("b/lib/libdemo.so", b"not loaded here");
    // Open through a non-canonical spelling of the directory.
    let bundle = Bundle::open(&tmp.path().join("b/./lib/..")).unwrap();
    assert_eq!(bundle.dir(), tmp.path().join("b"));
    assert_eq!(bundle.manifest_path(), tmp.path().join("b/manifest.toml"));
    assert_eq!(bundle.name().as_str(), "demo");
    assert_eq!(bundle.manifest().loader, LoaderKind::Native);
    assert_eq!(bundle.library_path(), Some(library.as_path()));
}

#[test]
fn a_script_bundle_has_no_library_path() {
    let tmp = TempDir::new("lua");
    tmp.write(
        "manifest.toml",
        "[bundle]\nname = \"s\"\nversion = \"1.0.0\"\nloader = \"lua\"\n",
    );
    let bundle = Bundle::open(tmp.path()).unwrap();
    assert_eq!(bundle.library_path(), None);
}

#[test]
fn a_missing_directory_is_named() {
    let tmp = TempDir::new("nodir");
    let dir = tmp.path().join("absent");
    let err = open_err(&dir);
    let BundleError::Dir { dir: named, io } = &err else {
        panic!("expected Dir, found {err}");
    };
    assert_eq!(named, &dir);
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert!(
        err.to_string().contains(&dir.display().to_string()),
        "{err}"
    );
}

#[test]
fn a_file_is_not_a_bundle_directory() {
    let tmp = TempDir::new("file");
    let file = tmp.write("plain", "x");
    assert!(matches!(open_err(&file), BundleError::NotADirectory { dir } if dir == file));
}

#[test]
fn a_missing_manifest_is_named() {
    let tmp = TempDir::new("nomanifest");
    let err = open_err(tmp.path());
    let BundleError::ManifestMissing { path } = &err else {
        panic!("expected ManifestMissing, found {err}");
    };
    assert_eq!(path, &tmp.path().join("manifest.toml"));
}

#[test]
fn a_manifest_directory_is_refused_naming_it() {
    let tmp = TempDir::new("manifestdir");
    std::fs::create_dir(tmp.path().join("manifest.toml")).unwrap();
    let err = open_err(tmp.path());
    assert!(
        matches!(&err, BundleError::ManifestNotAFile { path, kind: FileKind::Directory }
            if *path == tmp.path().join("manifest.toml")),
        "{err}"
    );
    assert!(err.to_string().ends_with("found a directory"), "{err}");
}

/// Opens the bundle in `dir` on another thread and returns its error,
/// failing the test if opening blocks.
#[cfg(unix)]
fn open_err_promptly(dir: &Path) -> BundleError {
    let dir = dir.to_owned();
    within_30s(move || open_err(&dir))
}

#[cfg(unix)]
#[test]
fn a_fifo_manifest_is_refused_without_blocking() {
    let tmp = TempDir::new("manifestfifo");
    let path = tmp.path().join("manifest.toml");
    common::mkfifo(&path);
    let err = open_err_promptly(tmp.path());
    assert!(
        matches!(&err, BundleError::ManifestNotAFile { path: p, kind: FileKind::Fifo } if *p == path),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "expected manifest {} to be a regular file, found a FIFO (named pipe)",
            path.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn a_manifest_linked_to_a_device_is_refused() {
    let tmp = TempDir::new("manifestdev");
    std::os::unix::fs::symlink("/dev/zero", tmp.path().join("manifest.toml")).unwrap();
    let err = open_err_promptly(tmp.path());
    assert!(
        matches!(
            &err,
            BundleError::ManifestNotAFile {
                kind: FileKind::CharDevice,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().ends_with("found a character device"),
        "{err}"
    );
}

#[test]
fn a_too_large_manifest_is_refused() {
    let tmp = TempDir::new("large");
    // Far over the limit: the error must come from the bounded read.
    tmp.write("manifest.toml", vec![b'#'; 4 * MAX_MANIFEST_BYTES]);
    let err = open_err(tmp.path());
    let BundleError::ManifestTooLarge { path, limit } = &err else {
        panic!("expected ManifestTooLarge, found {err}");
    };
    assert_eq!(path, &tmp.path().join("manifest.toml"));
    assert_eq!(*limit, MAX_MANIFEST_BYTES);

    // One byte over is refused too.
    tmp.write("manifest.toml", vec![b'#'; MAX_MANIFEST_BYTES + 1]);
    assert!(matches!(
        open_err(tmp.path()),
        BundleError::ManifestTooLarge { .. }
    ));
}

#[test]
fn manifest_errors_name_the_canonical_manifest_path() {
    let tmp = TempDir::new("badmanifest");
    tmp.write(
        "manifest.toml",
        "[bundle]\nname = \"x\"\nversion = \"1.x\"\nloader = \"lua\"\n",
    );
    let err = open_err(tmp.path());
    let BundleError::Manifest(inner) = &err else {
        panic!("expected Manifest, found {err}");
    };
    assert_eq!(inner.file, tmp.path().join("manifest.toml"));
    assert!(matches!(inner.kind, ManifestErrorKind::Version(_)));
    assert_eq!((inner.line, inner.column), (3, 11));
    assert!(
        err.to_string()
            .starts_with(&format!("{}:3:11: ", inner.file.display()))
    );
}

#[expect(
    clippy::panic,
    reason = "a helper of the tests: panicking fails the test"
)]
fn assert_outside(err: &BundleError, file: &str) {
    match err {
        BundleError::LibraryOutsideBundle {
            bundle,
            file: named,
            field: named_field,
        } => {
            assert_eq!(bundle, "demo");
            assert_eq!(named, Path::new(file));
            assert_eq!(*named_field, field());
        }
        other => panic!("expected LibraryOutsideBundle, found {other}"),
    }
}

#[test]
fn a_parent_component_is_refused() {
    let tmp = TempDir::new("dotdot");
    tmp.write("x.so", "outside");
    tmp.write("b/manifest.toml", native_manifest("demo", "../x.so", None));
    assert_outside(&open_err(&tmp.path().join("b")), "../x.so");

    // Even one that would come back inside.
    tmp.write("b/x.so", "inside");
    tmp.write(
        "b/manifest.toml",
        native_manifest("demo", "sub/../x.so", None),
    );
    std::fs::create_dir_all(tmp.path().join("b/sub")).unwrap();
    assert_outside(&open_err(&tmp.path().join("b")), "sub/../x.so");
}

#[test]
fn an_absolute_path_is_refused() {
    let tmp = TempDir::new("absolute");
    let library = tmp.write("b/x.so", "inside, but absolute");
    let absolute = library.display().to_string();
    tmp.write(
        "b/manifest.toml",
        native_manifest("demo", &absolute.replace('\\', "\\\\"), None),
    );
    assert_outside(&open_err(&tmp.path().join("b")), &absolute);
}

#[cfg(unix)]
#[test]
fn a_symlink_that_escapes_is_refused_and_one_inside_is_followed() {
    use std::os::unix::fs::symlink;
    let tmp = TempDir::new("symlink");
    let outside = tmp.write("outside.so", "outside");
    tmp.write("b/manifest.toml", native_manifest("demo", "x.so", None));
    symlink(&outside, tmp.path().join("b/x.so")).unwrap();
    assert_outside(&open_err(&tmp.path().join("b")), "x.so");

    // A directory symlink that escapes is caught the same way.
    std::fs::create_dir(tmp.path().join("elsewhere")).unwrap();
    tmp.write("elsewhere/y.so", "outside");
    symlink(tmp.path().join("elsewhere"), tmp.path().join("b/lib")).unwrap();
    tmp.write("b/manifest.toml", native_manifest("demo", "lib/y.so", None));
    assert_outside(&open_err(&tmp.path().join("b")), "lib/y.so");

    // A sibling whose name extends the bundle's is still outside.
    let sibling = tmp.write("b-evil/z.so", "outside");
    std::fs::remove_file(tmp.path().join("b/x.so")).unwrap();
    symlink(&sibling, tmp.path().join("b/x.so")).unwrap();
    tmp.write("b/manifest.toml", native_manifest("demo", "x.so", None));
    assert_outside(&open_err(&tmp.path().join("b")), "x.so");

    // A symlink that stays inside resolves to its target.
    let real = tmp.write("b/real/libdemo.so", "inside");
    symlink("real/libdemo.so", tmp.path().join("b/link.so")).unwrap();
    tmp.write("b/manifest.toml", native_manifest("demo", "link.so", None));
    let bundle = Bundle::open(&tmp.path().join("b")).unwrap();
    assert_eq!(bundle.library_path(), Some(real.as_path()));
}

#[test]
fn a_missing_library_is_named() {
    let tmp = TempDir::new("nolib");
    tmp.write("manifest.toml", native_manifest("demo", "libdemo.so", None));
    let err = open_err(tmp.path());
    let BundleError::LibraryMissing { bundle, path } = &err else {
        panic!("expected LibraryMissing, found {err}");
    };
    assert_eq!(bundle, "demo");
    assert_eq!(path, &tmp.path().join("libdemo.so"));
}

#[test]
fn a_library_that_is_a_directory_is_refused() {
    let tmp = TempDir::new("libdir");
    tmp.write("manifest.toml", native_manifest("demo", "libdemo.so", None));
    std::fs::create_dir(tmp.path().join("libdemo.so")).unwrap();
    let err = open_err(tmp.path());
    assert!(
        matches!(&err, BundleError::LibraryNotAFile { bundle, path, kind: FileKind::Directory }
            if bundle == "demo" && *path == tmp.path().join("libdemo.so")),
        "{err}"
    );
    assert!(err.to_string().ends_with("found a directory"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_fifo_library_is_refused_without_blocking() {
    let tmp = TempDir::new("libfifo");
    tmp.write("manifest.toml", native_manifest("demo", "libdemo.so", None));
    let path = tmp.path().join("libdemo.so");
    common::mkfifo(&path);
    let err = open_err_promptly(tmp.path());
    assert!(
        matches!(&err, BundleError::LibraryNotAFile { bundle, path: p, kind: FileKind::Fifo }
            if bundle == "demo" && *p == path),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "bundle \"demo\": expected library {} to be a regular file, found a FIFO (named pipe)",
            path.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn a_socket_library_is_refused() {
    let tmp = TempDir::new("libsock");
    tmp.write("manifest.toml", native_manifest("demo", "libdemo.so", None));
    let _listener = std::os::unix::net::UnixListener::bind(tmp.path().join("libdemo.so")).unwrap();
    let err = open_err_promptly(tmp.path());
    assert!(
        matches!(
            &err,
            BundleError::LibraryNotAFile {
                kind: FileKind::Socket,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn the_library_is_read_when_the_bundle_opens() {
    let tmp = TempDir::new("libbytes");
    tmp.write("manifest.toml", native_manifest("demo", "libdemo.so", None));
    let path = tmp.write("libdemo.so", b"the bytes at open");
    let bundle = Bundle::open(tmp.path()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(bundle.library_bytes(), Some(&b"the bytes at open"[..]));
}

#[test]
fn a_bundle_without_a_library_for_this_platform_is_refused() {
    let tmp = TempDir::new("noplatform");
    let other = if platform_key() == "windows" {
        "linux"
    } else {
        "windows"
    };
    tmp.write(
        "manifest.toml",
        format!(
            "[bundle]\nname = \"demo\"\nversion = \"1.0.0\"\nloader = \"native\"\n\
             [library]\n{other} = \"x\"\n"
        ),
    );
    let err = open_err(tmp.path());
    let BundleError::NoLibraryForPlatform { bundle, platform } = &err else {
        panic!("expected NoLibraryForPlatform, found {err}");
    };
    assert_eq!((bundle.as_str(), *platform), ("demo", platform_key()));
    assert_eq!(
        err.to_string(),
        format!(
            "bundle \"demo\": expected library.{} in the manifest, found none",
            platform_key()
        )
    );
}
