//! The library file: outside the bundle (`..`, absolute, an escaping
//! symlink), missing, a directory, a FIFO, a socket, a link to a device,
//! not a shared object, truncated, for another machine, a digest mismatch
//! or a malformed digest.

use std::path::{Path, PathBuf};

use polyplug::LoadError;
use polyplug_fixtures::{library, library_file};
use polyplug_loader::{BundleError, FileKind, ManifestErrorKind, NativeError};

use super::{
    TempDir, broken_v2, bundle_error, manifest_error, mkfifo, names, native_error, promptly,
    refused_both, refused_load, replace_once, v2_library, v2_manifest,
};

/// The error of a library path the bundle must refuse as outside itself.
fn assert_outside(error: &LoadError, file: &Path) {
    assert!(
        matches!(
            bundle_error(error),
            BundleError::LibraryOutsideBundle { bundle, file: f, field }
                if bundle == "reload-test" && f == file && *field == "library.linux"
        ),
        "{error}"
    );
    names(
        error,
        &["reload-test", "library.linux", &file.display().to_string()],
    );
}

/// A real library outside the bundle copy, in `dir/outside/`.
fn outside_library(dir: &TempDir) -> PathBuf {
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let file = outside.join(library_file("reload-v2"));
    std::fs::copy(library("reload-v2"), &file).unwrap();
    file
}

#[test]
fn library_outside_the_bundle_through_dot_dot() {
    let dir = TempDir::new("dot-dot");
    outside_library(&dir);
    let file = format!("../outside/{}", library_file("reload-v2"));
    let v2 = v2_manifest(&dir, |text| {
        replace_once(
            &text,
            &format!("linux = \"{}\"", library_file("reload-v2")),
            &format!("linux = \"{file}\""),
        )
    });
    for error in refused_both("library path with ..", &v2, 0) {
        assert_outside(&error, Path::new(&file));
    }
}

#[test]
fn library_at_an_absolute_path() {
    let dir = TempDir::new("absolute");
    let file = outside_library(&dir);
    let v2 = v2_manifest(&dir, |text| {
        replace_once(
            &text,
            &format!("linux = \"{}\"", library_file("reload-v2")),
            &format!("linux = \"{}\"", file.display()),
        )
    });
    for error in refused_both("absolute library path", &v2, 0) {
        assert_outside(&error, &file);
    }
}

#[test]
fn library_symlink_escaping_the_bundle() {
    let dir = TempDir::new("symlink");
    let target = outside_library(&dir);
    let v2 = broken_v2(&dir, |p| {
        std::fs::remove_file(v2_library(p)).unwrap();
        std::os::unix::fs::symlink(&target, v2_library(p)).unwrap();
    });
    for error in refused_both("library symlink escaping the bundle", &v2, 0) {
        assert_outside(&error, Path::new(library_file("reload-v2")));
    }
}

#[test]
fn library_missing() {
    let dir = TempDir::new("library-missing");
    let v2 = broken_v2(&dir, |p| std::fs::remove_file(v2_library(p)).unwrap());
    let expected = v2_library(&v2);
    let error = refused_load("library missing", &v2, 0);
    assert!(
        matches!(bundle_error(&error), BundleError::LibraryMissing { bundle, path }
            if bundle == "reload-test" && *path == expected),
        "{error}"
    );
    names(&error, &["reload-test", &expected.display().to_string()]);
}

#[test]
fn library_is_a_directory() {
    let dir = TempDir::new("library-dir");
    let v2 = broken_v2(&dir, |p| {
        std::fs::remove_file(v2_library(p)).unwrap();
        std::fs::create_dir(v2_library(p)).unwrap();
    });
    let expected = v2_library(&v2);
    for error in refused_both("library is a directory", &v2, 0) {
        assert_not_a_file(&error, &expected, FileKind::Directory);
    }
}

/// The error of a library that is not a regular file.
fn assert_not_a_file(error: &LoadError, expected: &Path, kind: FileKind) {
    assert!(
        matches!(bundle_error(error), BundleError::LibraryNotAFile { bundle, path, kind: k }
            if bundle == "reload-test" && path == expected && *k == kind),
        "{error}"
    );
    names(
        error,
        &[
            "reload-test",
            &expected.display().to_string(),
            &kind.to_string(),
        ],
    );
}

#[test]
fn library_is_a_fifo() {
    let dir = TempDir::new("library-fifo");
    let v2 = broken_v2(&dir, |p| {
        std::fs::remove_file(v2_library(p)).unwrap();
        mkfifo(&v2_library(p));
    });
    let expected = v2_library(&v2);
    for error in promptly("library is a FIFO", &v2) {
        assert_not_a_file(&error, &expected, FileKind::Fifo);
    }
}

#[test]
fn library_is_a_socket() {
    let dir = TempDir::new("library-socket");
    let v2 = broken_v2(&dir, |p| std::fs::remove_file(v2_library(p)).unwrap());
    let expected = v2_library(&v2);
    let _listener = std::os::unix::net::UnixListener::bind(&expected).unwrap();
    for error in promptly("library is a socket", &v2) {
        assert_not_a_file(&error, &expected, FileKind::Socket);
    }
}

/// The error of a library file that is not a loadable shared object.
fn assert_not_elf(error: &LoadError, path: &Path) {
    assert!(
        matches!(native_error(error), NativeError::NotASharedObject { bundle, path: p }
            if bundle == "reload-test" && p == path),
        "{error}"
    );
    names(error, &["reload-test", &path.display().to_string()]);
}

#[test]
fn library_is_a_text_file() {
    let dir = TempDir::new("text");
    let v2 = broken_v2(&dir, |p| {
        let text = "This is not a shared object, only some text that is long enough.\n";
        std::fs::write(v2_library(p), text.repeat(4)).unwrap();
    });
    let path = v2_library(&v2);
    for error in refused_both("library is a text file", &v2, 0) {
        assert_not_elf(&error, &path);
    }
}

#[test]
fn library_is_empty() {
    let dir = TempDir::new("empty");
    let v2 = broken_v2(&dir, |p| std::fs::write(v2_library(p), b"").unwrap());
    let path = v2_library(&v2);
    for error in refused_both("library is empty", &v2, 0) {
        assert_not_elf(&error, &path);
    }
}

/// A copy of `reload-v2` whose library keeps only its first `len(full)`
/// bytes.
fn truncated(dir: &TempDir, len: impl FnOnce(usize) -> usize) -> PathBuf {
    broken_v2(dir, |p| {
        let bytes = std::fs::read(v2_library(p)).unwrap();
        let keep = len(bytes.len());
        std::fs::write(v2_library(p), &bytes[..keep]).unwrap();
    })
}

/// The error of a library shorter than its ELF headers say.
fn assert_truncated(error: &LoadError, path: &Path, len: u64) {
    assert!(
        matches!(native_error(error), NativeError::Truncated { bundle, path: p, expected, found }
            if bundle == "reload-test" && p == path && *found == len && *expected > len),
        "{error}"
    );
    names(
        error,
        &["reload-test", &path.display().to_string(), "truncated"],
    );
}

#[test]
fn library_truncated_to_its_elf_header() {
    let dir = TempDir::new("truncated-64");
    let v2 = truncated(&dir, |_| 64);
    let path = v2_library(&v2);
    for error in refused_both("library truncated to 64 bytes", &v2, 0) {
        assert_truncated(&error, &path, 64);
    }
}

#[test]
fn library_truncated_inside_its_code() {
    // Headers whole, loadable segments cut: dlopen would map the missing
    // pages and die of SIGBUS while relocating, taking the host with it.
    let dir = TempDir::new("truncated-4096");
    let v2 = truncated(&dir, |_| 4096);
    let path = v2_library(&v2);
    for error in refused_both("library truncated to 4096 bytes", &v2, 0) {
        assert_truncated(&error, &path, 4096);
    }
}

#[test]
fn library_truncated_to_half() {
    let dir = TempDir::new("truncated-half");
    let full = std::fs::metadata(library("reload-v2")).unwrap().len();
    let v2 = truncated(&dir, |len| len / 2);
    let path = v2_library(&v2);
    for error in refused_both("library truncated to half its size", &v2, 0) {
        assert_truncated(&error, &path, full / 2);
    }
}

#[test]
fn library_for_another_machine() {
    // e_machine (offset 18, little-endian u16) set to AArch64 (183) on
    // x86-64, or to x86-64 (62) elsewhere: a whole file dlopen refuses.
    let dir = TempDir::new("machine");
    let v2 = broken_v2(&dir, |p| {
        let mut bytes = std::fs::read(v2_library(p)).unwrap();
        let machine: u16 = if cfg!(target_arch = "aarch64") {
            62
        } else {
            183
        };
        bytes[18..20].copy_from_slice(&machine.to_le_bytes());
        std::fs::write(v2_library(p), bytes).unwrap();
    });
    let path = v2_library(&v2);
    for error in refused_both("library for another machine", &v2, 0) {
        assert!(
            matches!(native_error(&error), NativeError::Dlopen { bundle, path: p, .. }
                if bundle == "reload-test" && *p == path),
            "{error}"
        );
        // glibc's own reason follows ("cannot open shared object file"
        // for a foreign machine: it treats the file as not found).
        names(
            &error,
            &[
                "reload-test",
                &path.display().to_string(),
                "dlopen failed: ",
            ],
        );
    }
}

#[test]
fn library_digest_mismatch() {
    let dir = TempDir::new("digest");
    let digest = "ab".repeat(32);
    let v2 = v2_manifest(&dir, |text| {
        replace_once(
            &text,
            "[library]\n",
            &format!("[library]\nsha256 = \"{digest}\"\n"),
        )
    });
    let path = v2_library(&v2);
    let error = refused_load("library sha256 mismatch", &v2, 0);
    assert!(
        matches!(native_error(&error), NativeError::DigestMismatch { bundle, path: p, expected, .. }
            if bundle == "reload-test" && *p == path && *expected == digest),
        "{error}"
    );
    names(
        &error,
        &["reload-test", &path.display().to_string(), "library.sha256"],
    );
}

#[test]
fn library_digest_not_hexadecimal() {
    let dir = TempDir::new("digest-syntax");
    let v2 = v2_manifest(&dir, |text| {
        replace_once(&text, "[library]\n", "[library]\nsha256 = \"xyz\"\n")
    });
    for error in refused_both("library.sha256 not 64 hex digits", &v2, 0) {
        let e = manifest_error(&error);
        assert_eq!(
            e.kind,
            ManifestErrorKind::Digest {
                found: "xyz".to_owned()
            },
            "{error}"
        );
        names(&error, &["manifest.toml:", "library.sha256", "xyz"]);
    }
}
