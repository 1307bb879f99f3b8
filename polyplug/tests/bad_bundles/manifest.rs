//! The manifest: missing, a FIFO, a device, empty, not UTF-8, not TOML,
//! too large, an unknown or unsupported loader, each missing required
//! field, bad versions.

use std::sync::Arc;

use polyplug::{LoadError, Runtime};
use polyplug_fixtures::bundle;
use polyplug_loader::{BundleError, FileKind, MAX_MANIFEST_BYTES, ManifestErrorKind, VersionError};

use super::{
    TempDir, broken_v2, bundle_error, finished, manifest_error, mkfifo, names, promptly,
    refused_both, refused_load, replace_once, start, v2_manifest,
};

#[test]
fn manifest_missing() {
    let dir = TempDir::new("manifest-missing");
    let v2 = broken_v2(&dir, |p| {
        std::fs::remove_file(p.join("manifest.toml")).unwrap()
    });
    let expected = v2.join("manifest.toml");
    for error in refused_both("manifest missing", &v2, 0) {
        assert!(
            matches!(bundle_error(&error), BundleError::ManifestMissing { path } if *path == expected),
            "{error}"
        );
        names(&error, &[&expected.display().to_string()]);
    }
}

/// A copy of `reload-v2` whose `manifest.toml` is a FIFO with no writer:
/// reading it would wait forever.
fn fifo_manifest(dir: &TempDir) -> std::path::PathBuf {
    broken_v2(dir, |p| {
        std::fs::remove_file(p.join("manifest.toml")).unwrap();
        mkfifo(&p.join("manifest.toml"));
    })
}

#[test]
fn manifest_is_a_fifo() {
    let dir = TempDir::new("manifest-fifo");
    let v2 = fifo_manifest(&dir);
    let expected = v2.join("manifest.toml");
    for error in promptly("manifest is a FIFO", &v2) {
        assert!(
            matches!(bundle_error(&error), BundleError::ManifestNotAFile { path, kind: FileKind::Fifo }
                if *path == expected),
            "{error}"
        );
        names(
            &error,
            &[&expected.display().to_string(), "a FIFO (named pipe)"],
        );
    }
}

#[test]
fn manifest_fifo_blocks_no_other_writer() {
    // One thread loads and reloads from the FIFO bundle while another loads
    // and reloads good ones, on the same runtime: neither waits.
    let dir = TempDir::new("manifest-fifo-writers");
    let v2 = fifo_manifest(&dir);
    let runtime = Arc::new(Runtime::new().unwrap());
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let fifo = {
        let runtime = Arc::clone(&runtime);
        start(move || {
            let load = runtime.load_bundle(&v2).map(drop);
            let reload = runtime.reload_bundle(id, Some(&v2));
            (load, reload)
        })
    };
    let good = {
        let runtime = Arc::clone(&runtime);
        start(move || {
            runtime.load_bundle(bundle("test-add")).unwrap();
            runtime
                .reload_bundle(id, Some(&bundle("reload-v2")))
                .unwrap();
        })
    };
    finished("writers beside a FIFO manifest", &good);
    let (load, reload) = finished("writes from a FIFO manifest", &fifo);
    for result in [load, reload] {
        let error = result.unwrap_err();
        assert!(
            matches!(
                bundle_error(&error),
                BundleError::ManifestNotAFile {
                    kind: FileKind::Fifo,
                    ..
                }
            ),
            "{error}"
        );
    }
    assert_eq!(runtime.bundles().len(), 2, "both good writes happened");
}

#[test]
fn manifest_links_to_a_device() {
    let dir = TempDir::new("manifest-device");
    let v2 = broken_v2(&dir, |p| {
        std::fs::remove_file(p.join("manifest.toml")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", p.join("manifest.toml")).unwrap();
    });
    let expected = v2.join("manifest.toml");
    for error in promptly("manifest links to /dev/zero", &v2) {
        assert!(
            matches!(bundle_error(&error), BundleError::ManifestNotAFile { path, kind: FileKind::CharDevice }
                if *path == expected),
            "{error}"
        );
        names(
            &error,
            &[&expected.display().to_string(), "a character device"],
        );
    }
}

#[test]
fn manifest_empty() {
    let dir = TempDir::new("manifest-empty");
    let v2 = v2_manifest(&dir, |_| String::new());
    for error in refused_both("manifest empty", &v2, 0) {
        let e = manifest_error(&error);
        assert!(
            matches!(e.kind, ManifestErrorKind::Schema { .. }),
            "{error}"
        );
        assert_eq!((e.line, e.column), (1, 1));
        names(&error, &["manifest.toml:1:1", "bundle"]);
    }
}

#[test]
fn manifest_not_utf8() {
    let dir = TempDir::new("manifest-utf8");
    let v2 = broken_v2(&dir, |p| {
        let mut bytes = b"[bundle]\nname = \"reload-test\"\n# caf".to_vec();
        bytes.extend_from_slice(&[0xC3, 0x28]);
        bytes.extend_from_slice(b"\n");
        std::fs::write(p.join("manifest.toml"), bytes).unwrap();
    });
    for error in refused_both("manifest not UTF-8", &v2, 0) {
        let e = manifest_error(&error);
        assert_eq!(e.kind, ManifestErrorKind::NotUtf8, "{error}");
        assert_eq!((e.line, e.column), (3, 6), "the first bad byte");
        names(&error, &["manifest.toml:3:6", "UTF-8"]);
    }
}

#[test]
fn manifest_not_toml() {
    let dir = TempDir::new("manifest-toml");
    let v2 = v2_manifest(&dir, |text| replace_once(&text, "[library]", "[library"));
    let error = refused_load("manifest not TOML", &v2, 0);
    let e = manifest_error(&error);
    assert!(
        matches!(e.kind, ManifestErrorKind::Syntax { .. }),
        "{error}"
    );
    assert_eq!(e.line, 8, "{error}");
    names(&error, &["manifest.toml:8:", "invalid TOML"]);
}

#[test]
fn manifest_larger_than_the_limit() {
    // Padded with a comment to exactly the limit, the manifest is fine.
    let dir = TempDir::new("manifest-large");
    let pad = |text: String, len: usize| {
        let fill = len - text.len() - 3;
        format!("{text}\n#{}\n", "x".repeat(fill))
    };
    let at_limit = v2_manifest(&dir, |text| pad(text, MAX_MANIFEST_BYTES));
    assert_eq!(
        std::fs::metadata(at_limit.join("manifest.toml"))
            .unwrap()
            .len(),
        u64::try_from(MAX_MANIFEST_BYTES).unwrap()
    );
    Runtime::new().unwrap().load_bundle(&at_limit).unwrap();

    let dir = TempDir::new("manifest-too-large");
    let v2 = v2_manifest(&dir, |text| pad(text, MAX_MANIFEST_BYTES + 1));
    let expected = v2.join("manifest.toml");
    for error in refused_both("manifest larger than MAX_MANIFEST_BYTES", &v2, 0) {
        assert!(
            matches!(
                bundle_error(&error),
                BundleError::ManifestTooLarge { path, limit }
                    if *path == expected && *limit == MAX_MANIFEST_BYTES
            ),
            "{error}"
        );
        names(
            &error,
            &[
                &expected.display().to_string(),
                &MAX_MANIFEST_BYTES.to_string(),
            ],
        );
    }
}

#[test]
fn manifest_unknown_loader_kind() {
    let dir = TempDir::new("loader-unknown");
    let v2 = v2_manifest(&dir, |text| {
        replace_once(&text, "loader = \"native\"", "loader = \"cobol\"")
    });
    for error in refused_both("unknown loader kind", &v2, 0) {
        let e = manifest_error(&error);
        assert_eq!(
            e.kind,
            ManifestErrorKind::UnknownLoader {
                found: "cobol".to_owned()
            },
            "{error}"
        );
        assert_eq!(e.field.as_deref(), Some("bundle.loader"));
        names(&error, &["manifest.toml:6:", "bundle.loader", "cobol"]);
    }
}

#[test]
fn manifest_loader_kind_this_runtime_lacks() {
    let dir = TempDir::new("loader-lua");
    let v2 = v2_manifest(&dir, |text| {
        replace_once(&text, "loader = \"native\"", "loader = \"lua\"")
    });
    for error in refused_both("loader kind not supported", &v2, 0) {
        assert!(
            matches!(&error, LoadError::UnsupportedLoader { bundle, kind }
                if bundle == "reload-test" && kind == "lua"),
            "{error}"
        );
        names(&error, &["reload-test", "lua"]);
    }
}

/// A copy of `reload-v2` whose manifest lacks a field; the error must be a
/// manifest error whose message names `field`.
fn missing_field(case: &str, edit: impl FnOnce(String) -> String, field: &str) {
    let dir = TempDir::new("missing-field");
    let v2 = v2_manifest(&dir, edit);
    for error in refused_both(case, &v2, 0) {
        let e = manifest_error(&error);
        assert!(
            matches!(&e.kind, ManifestErrorKind::Schema { message } if message.contains("missing field")),
            "{error}"
        );
        names(&error, &["manifest.toml:", field]);
    }
}

/// Removes the line of `text` that starts with `start`.
fn without_line(text: &str, start: &str) -> String {
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with(start)).collect();
    assert_eq!(kept.len() + 1, text.lines().count(), "one {start:?} line");
    kept.join("\n") + "\n"
}

#[test]
fn manifest_missing_bundle_table() {
    missing_field(
        "missing [bundle]",
        |text| {
            let text = replace_once(&text, "[bundle]\n", "");
            let text = without_line(&text, "name = \"reload-test\"");
            let text = without_line(&text, "version = \"2.0.0\"");
            without_line(&text, "loader = ")
        },
        "`bundle`",
    );
}

#[test]
fn manifest_missing_bundle_name() {
    missing_field(
        "missing bundle.name",
        |text| without_line(&text, "name = \"reload-test\""),
        "`name`",
    );
}

#[test]
fn manifest_missing_bundle_version() {
    missing_field(
        "missing bundle.version",
        |text| without_line(&text, "version = \"2.0.0\""),
        "`version`",
    );
}

#[test]
fn manifest_missing_bundle_loader() {
    missing_field(
        "missing bundle.loader",
        |text| without_line(&text, "loader = "),
        "`loader`",
    );
}

#[test]
fn manifest_missing_provides_name() {
    missing_field(
        "missing provides[0].name",
        |text| without_line(&text, "name = \"reload.test\""),
        "`name`",
    );
}

#[test]
fn manifest_missing_provides_version() {
    missing_field(
        "missing provides[0].version",
        |text| without_line(&text, "version = \"1.1.0\""),
        "`version`",
    );
}

#[test]
fn manifest_missing_requires_name() {
    missing_field(
        "missing requires[0].name",
        |text| text + "\n[[requires]]\nversion = \"1.0\"\n",
        "`name`",
    );
}

#[test]
fn manifest_missing_requires_version() {
    missing_field(
        "missing requires[0].version",
        |text| text + "\n[[requires]]\nname = \"test.add\"\n",
        "`version`",
    );
}

#[test]
fn manifest_missing_library_table() {
    let dir = TempDir::new("missing-library");
    let v2 = v2_manifest(&dir, |text| {
        let text = replace_once(&text, "[library]\n", "");
        let text = without_line(&text, "linux = ");
        let text = without_line(&text, "macos = ");
        without_line(&text, "windows = ")
    });
    for error in refused_both("missing [library]", &v2, 0) {
        let e = manifest_error(&error);
        assert_eq!(e.kind, ManifestErrorKind::NoLibrary, "{error}");
        assert_eq!(e.field.as_deref(), Some("library"));
        names(&error, &["manifest.toml:", "[library]"]);
    }
}

#[test]
fn manifest_missing_library_for_this_platform() {
    let dir = TempDir::new("missing-linux");
    let v2 = v2_manifest(&dir, |text| without_line(&text, "linux = "));
    for error in refused_both("missing library.linux", &v2, 0) {
        assert!(
            matches!(
                bundle_error(&error),
                BundleError::NoLibraryForPlatform { bundle, platform }
                    if bundle == "reload-test" && *platform == "linux"
            ),
            "{error}"
        );
        names(&error, &["reload-test", "library.linux"]);
    }
}

/// A copy of `reload-v2` with `from` replaced by `to` in its manifest; the
/// error must be a version error at `field`.
fn bad_version(case: &str, from: &str, to: &str, field: &str) -> Vec<VersionError> {
    let dir = TempDir::new("bad-version");
    let v2 = v2_manifest(&dir, |text| {
        let text = text + "\n[[requires]]\nname = \"test.add\"\nversion = \"1.0\"\n";
        replace_once(&text, from, to)
    });
    refused_both(case, &v2, 0)
        .iter()
        .map(|error| {
            let e = manifest_error(error);
            assert_eq!(e.field.as_deref(), Some(field), "{error}");
            names(error, &["manifest.toml:", field]);
            match &e.kind {
                ManifestErrorKind::Version(v) => v.clone(),
                other => panic!("expected a version error, got {other:?}"),
            }
        })
        .collect()
}

#[test]
fn manifest_bundle_version_not_major_minor_patch() {
    for e in bad_version(
        "bundle.version 2.x",
        "version = \"2.0.0\"",
        "version = \"2.x\"",
        "bundle.version",
    ) {
        assert!(matches!(e, VersionError::Shape { input, .. } if input == "2.x"));
    }
}

#[test]
fn manifest_bundle_version_with_a_leading_zero() {
    for e in bad_version(
        "bundle.version 02.0.0",
        "version = \"2.0.0\"",
        "version = \"02.0.0\"",
        "bundle.version",
    ) {
        assert!(matches!(e, VersionError::LeadingZero { input, .. } if input == "02.0.0"));
    }
}

#[test]
fn manifest_provided_version_not_exact() {
    for e in bad_version(
        "provides[0].version 1.1",
        "version = \"1.1.0\"",
        "version = \"1.1\"",
        "provides[0].version",
    ) {
        assert!(matches!(e, VersionError::Shape { input, .. } if input == "1.1"));
    }
}

#[test]
fn manifest_provided_version_overflows() {
    for e in bad_version(
        "provides[0].version 4294967296.0.0",
        "version = \"1.1.0\"",
        "version = \"4294967296.0.0\"",
        "provides[0].version",
    ) {
        assert!(matches!(e, VersionError::Overflow { input } if input == "4294967296.0.0"));
    }
}

#[test]
fn manifest_required_version_with_four_parts() {
    for e in bad_version(
        "requires[0].version 1.0.0.0",
        "version = \"1.0\"",
        "version = \"1.0.0.0\"",
        "requires[0].version",
    ) {
        assert!(matches!(e, VersionError::Shape { input, .. } if input == "1.0.0.0"));
    }
}

#[test]
fn manifest_required_version_negative() {
    for e in bad_version(
        "requires[0].version -1",
        "version = \"1.0\"",
        "version = \"-1\"",
        "requires[0].version",
    ) {
        assert!(matches!(e, VersionError::Shape { input, .. } if input == "-1"));
    }
}
