//! Signed bundles, in a runtime whose trust policy requires them: every way
//! a signature can fail to hold is a [`SealError`] naming the bundle and
//! the file, as a load and as a reload, with no library opened and the
//! runtime unchanged (v1 keeps serving). The bundle under test is a copy
//! of `reload-v2` (bundle `reload-test` 2.0.0), signed by the trusted key
//! and then broken.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use polyplug::loader::{CodeError, CodeSource, LoadedCode, Loader, Registrar};
use polyplug::{LoadError, Runtime, SealError, SecretKey, Trust};
use polyplug_fixtures::{bundle, copy_bundle, library_file};
use polyplug_loader::{
    Bundle, BundleError, NativeLibrary, SIG_FILE, SUMS_FILE, ScratchDir, format_sums, parse_sums,
    seal_bundle,
};

use super::{
    TempDir, add_answers, handle_of, names, refused_load_in, refused_reload_in, version_of,
};

/// The trusted key (`1`), or another (`2`).
fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed([seed; 32])
}

/// A runtime that requires bundles signed by [`key`] `1`.
fn trusting() -> Runtime {
    Runtime::builder()
        .trust(Trust::required([key(1).public()]))
        .build()
        .unwrap()
}

/// A copy of fixture bundle `name` in `dir`, signed by `signer`.
fn signed(dir: &TempDir, name: &str, signer: &SecretKey) -> PathBuf {
    let path = copy_bundle(name, dir.path()).unwrap();
    seal_bundle(&path, signer).unwrap();
    std::fs::canonicalize(path).unwrap()
}

/// A copy of `reload-v2` signed by the trusted key, changed by `edit`.
fn broken(dir: &TempDir, edit: impl FnOnce(&Path)) -> PathBuf {
    let path = signed(dir, "reload-v2", &key(1));
    edit(&path);
    path
}

/// Loads `dir` into a trusting runtime serving a signed `test-add`, and
/// reloads a trusting runtime's signed `reload-v1` from it: both refused,
/// no library opened, each runtime unchanged.
fn refused_signed(case: &str, dir: &Path) -> [SealError; 2] {
    let serving = TempDir::new("seal-serving");
    let runtime = trusting();
    runtime
        .load_bundle(signed(&serving, "test-add", &key(1)))
        .unwrap();
    let load = refused_load_in(&runtime, case, dir, 0);
    let runtime = trusting();
    let id = runtime
        .load_bundle(signed(&serving, "reload-v1", &key(1)))
        .unwrap();
    let reload = refused_reload_in(&runtime, id, case, dir, 0);
    [load, reload].map(|error| {
        names(&error, &["reload-test"]);
        match error {
            LoadError::Bundle(boxed) => match *boxed {
                BundleError::Seal(seal) => seal,
                other => panic!("{case}: expected a signature error, got {other:?}"),
            },
            other => panic!("{case}: expected a bundle error, got {other:?}"),
        }
    })
}

#[test]
fn a_signed_bundle_loads_and_reloads_under_a_required_policy() {
    let dir = TempDir::new("seal-ok");
    let runtime = trusting();
    let id = runtime
        .load_bundle(signed(&dir, "reload-v1", &key(1)))
        .unwrap();
    let handle = handle_of(&runtime);
    assert_eq!(version_of(&runtime, handle), 100);
    runtime
        .reload_bundle(id, Some(&signed(&dir, "reload-v2", &key(1))))
        .unwrap();
    assert_eq!(version_of(&runtime, handle), 200);
    // The policy off (the default) loads a bundle whatever its signature.
    let other = TempDir::new("seal-off");
    let runtime = Runtime::new().unwrap();
    runtime
        .load_bundle(signed(&other, "test-add", &key(2)))
        .unwrap();
    runtime.load_bundle(bundle("reload-v1")).unwrap();
    add_answers(&runtime);
}

#[test]
fn an_unsigned_bundle() {
    let dir = TempDir::new("seal-unsigned");
    let path = copy_bundle("reload-v2", dir.path()).unwrap();
    for error in refused_signed("unsigned", &path) {
        assert!(
            matches!(&error, SealError::Unsigned { bundle, missing }
                if bundle == "reload-test" && *missing == SUMS_FILE),
            "{error}"
        );
    }
    // The list without its signature is unsigned too.
    let dir = TempDir::new("seal-no-sig");
    let path = broken(&dir, |path| {
        std::fs::remove_file(path.join(SIG_FILE)).unwrap()
    });
    for error in refused_signed("no signature", &path) {
        assert!(
            matches!(&error, SealError::Unsigned { missing, .. } if *missing == SIG_FILE),
            "{error}"
        );
        names(&error, &[SIG_FILE]);
    }
}

#[test]
fn a_bundle_signed_by_an_untrusted_key() {
    let dir = TempDir::new("seal-untrusted");
    let path = signed(&dir, "reload-v2", &key(2));
    for error in refused_signed("untrusted key", &path) {
        assert!(
            matches!(&error, SealError::UntrustedKey { key_id, .. } if *key_id == key(2).public().id()),
            "{error}"
        );
        names(&error, &[&key(2).public().id()]);
    }
}

#[test]
fn a_file_changed_after_signing() {
    let library = library_file("reload-v2");
    let dir = TempDir::new("seal-changed-lib");
    let path = broken(&dir, |path| {
        let mut bytes = std::fs::read(path.join(library)).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(path.join(library), bytes).unwrap();
    });
    for error in refused_signed("library changed", &path) {
        assert!(
            matches!(&error, SealError::FileChanged { path, expected, found, .. }
                if path == library && expected != found),
            "{error}"
        );
        names(&error, &[library]);
    }
    let dir = TempDir::new("seal-changed-manifest");
    let path = broken(&dir, |path| {
        let text = std::fs::read_to_string(path.join("manifest.toml")).unwrap();
        std::fs::write(path.join("manifest.toml"), format!("{text}# edited\n")).unwrap();
    });
    for error in refused_signed("manifest changed", &path) {
        assert!(
            matches!(&error, SealError::FileChanged { path, .. } if path == "manifest.toml"),
            "{error}"
        );
    }
}

#[test]
fn a_file_added_or_removed_after_signing() {
    let dir = TempDir::new("seal-added");
    let path = broken(&dir, |path| {
        std::fs::create_dir(path.join("lib")).unwrap();
        std::fs::write(path.join("lib/extra.lua"), "return 1").unwrap();
    });
    for error in refused_signed("file added", &path) {
        assert!(
            matches!(&error, SealError::FileAdded { path, .. } if path == "lib/extra.lua"),
            "{error}"
        );
        names(&error, &["lib/extra.lua"]);
    }
    let dir = TempDir::new("seal-removed");
    let path = copy_bundle("reload-v2", dir.path()).unwrap();
    std::fs::write(path.join("README"), "signed, then removed").unwrap();
    seal_bundle(&path, &key(1)).unwrap();
    std::fs::remove_file(path.join("README")).unwrap();
    for error in refused_signed("file removed", &path) {
        assert!(
            matches!(&error, SealError::FileRemoved { path, .. } if path == "README"),
            "{error}"
        );
    }
}

#[test]
fn a_truncated_or_garbage_signature() {
    let cut = |path: &Path| {
        let text = std::fs::read(path.join(SIG_FILE)).unwrap();
        std::fs::write(path.join(SIG_FILE), &text[..text.len() / 2]).unwrap();
    };
    let garbage =
        |path: &Path| std::fs::write(path.join(SIG_FILE), b"\x00\xffnot a signature").unwrap();
    let empty = |path: &Path| std::fs::write(path.join(SIG_FILE), b"").unwrap();
    for (case, edit) in [
        ("truncated signature", &cut as &dyn Fn(&Path)),
        ("garbage signature", &garbage),
        ("empty signature", &empty),
    ] {
        let dir = TempDir::new("seal-garbage");
        let path = broken(&dir, edit);
        for error in refused_signed(case, &path) {
            assert!(
                matches!(&error, SealError::MalformedSignature { .. }),
                "{case}: {error}"
            );
            names(&error, &[SIG_FILE, "line "]);
        }
    }
}

#[test]
fn a_list_changed_after_signing_does_not_verify() {
    // Someone adds a file and lists it, but cannot sign the new list.
    let dir = TempDir::new("seal-list");
    let path = broken(&dir, |path| {
        std::fs::write(path.join("extra.lua"), "return 1").unwrap();
        let mut list = parse_sums(&std::fs::read(path.join(SUMS_FILE)).unwrap()).unwrap();
        list.insert("extra.lua".into(), [0xab; 32]);
        std::fs::write(path.join(SUMS_FILE), format_sums(&list)).unwrap();
    });
    for error in refused_signed("list changed", &path) {
        assert!(
            matches!(&error, SealError::BadSignature { what, .. } if *what == "signature"),
            "{error}"
        );
    }
}

#[test]
fn a_signature_for_another_bundle() {
    let others = TempDir::new("seal-others");
    for (other, signed_for) in [
        ("test-add", "test-add 1.0.0"),
        ("reload-v1", "reload-test 1.0.0"),
    ] {
        let from = signed(&others, other, &key(1));
        let dir = TempDir::new("seal-other");
        let path = broken(&dir, |path| {
            for file in [SUMS_FILE, SIG_FILE] {
                std::fs::copy(from.join(file), path.join(file)).unwrap();
            }
        });
        for error in refused_signed(&format!("signature of {other}"), &path) {
            assert!(
                matches!(&error, SealError::OtherBundle { signed_for: s, .. } if s == signed_for),
                "{error}"
            );
            names(&error, &[signed_for]);
        }
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_bundle() {
    let outside = TempDir::new("seal-outside");
    std::fs::write(outside.path().join("secret"), "outside").unwrap();
    let dir = TempDir::new("seal-symlink");
    let path = copy_bundle("reload-v2", dir.path()).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), path.join("link")).unwrap();
    // Signing refuses it, and so does the check, whoever signed.
    assert!(matches!(
        seal_bundle(&path, &key(1)),
        Err(BundleError::Seal(SealError::Symlink { .. }))
    ));
    std::fs::remove_file(path.join("link")).unwrap();
    seal_bundle(&path, &key(1)).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), path.join("link")).unwrap();
    for error in refused_signed("symlink out", &path) {
        assert!(
            matches!(&error, SealError::Symlink { path, .. } if path == "link"),
            "{error}"
        );
    }
}

/// The library swapped on disk after the check: what loads is the bytes
/// the check read. Garbage on disk would not even open as a library.
#[test]
fn a_library_swapped_after_the_check_is_not_what_loads() {
    let dir = TempDir::new("seal-swap-native");
    let path = signed(&dir, "reload-v2", &key(1));
    let checked = Bundle::open(&path)
        .unwrap()
        .verified(&Trust::required([key(1).public()]))
        .unwrap();
    let library = path.join(library_file("reload-v2"));
    std::fs::write(&library, vec![0x5a; 4096]).unwrap();
    let scratch = ScratchDir::new().unwrap();
    let opened = NativeLibrary::open(&checked, &scratch).unwrap();
    drop(opened);
    // Opened afresh, the swapped file is caught.
    let error = Bundle::open(&path)
        .unwrap()
        .verified(&Trust::required([key(1).public()]))
        .unwrap_err();
    assert!(matches!(error, SealError::FileChanged { .. }), "{error}");
}

/// What a loader sees in its `load`, which runs after the check.
#[derive(Default)]
struct Seen {
    code: Vec<u8>,
    util: Option<Vec<u8>>,
    verified: bool,
}

/// A loader that swaps the bundle's files on disk as its load begins, and
/// records what the runtime hands it.
struct Swapping(Arc<Mutex<Seen>>);

impl Loader for Swapping {
    fn kind(&self) -> &'static str {
        "lua"
    }

    fn load(
        &self,
        code: &CodeSource<'_>,
        _: &mut Registrar<'_>,
    ) -> Result<Box<dyn LoadedCode>, CodeError> {
        std::fs::write(code.path(), "swapped").unwrap();
        std::fs::write(code.dir().join("util.lua"), "swapped").unwrap();
        *self.0.lock().unwrap() = Seen {
            code: code.bytes().to_vec(),
            util: code.file("util.lua").map(<[u8]>::to_vec),
            verified: code.is_verified(),
        };
        Err(CodeError::new(code.path(), "script", "recorded"))
    }
}

#[test]
fn files_swapped_between_the_check_and_the_load_are_not_what_loads() {
    let dir = TempDir::new("seal-swap-code");
    let path = dir.path().join("swap");
    std::fs::create_dir(&path).unwrap();
    let manifest = format!(
        "[bundle]\nname = \"swap\"\nversion = \"1.0.0\"\nloader = \"lua\"\n[library]\n{} = \"main.lua\"\n",
        polyplug_loader::platform_key()
    );
    std::fs::write(path.join("manifest.toml"), manifest).unwrap();
    std::fs::write(path.join("main.lua"), "checked main").unwrap();
    std::fs::write(path.join("util.lua"), "checked util").unwrap();
    seal_bundle(&path, &key(1)).unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let runtime = Runtime::builder()
        .loader(Swapping(Arc::clone(&seen)))
        .trust(Trust::required([key(1).public()]))
        .build()
        .unwrap();
    let error = runtime.load_bundle(&path).unwrap_err();
    assert!(matches!(error, LoadError::Code { .. }), "{error}");
    let seen = seen.lock().unwrap();
    assert!(seen.verified);
    assert_eq!(seen.code, b"checked main");
    assert_eq!(seen.util.as_deref(), Some(&b"checked util"[..]));
    // The next load reads the swapped files, and refuses them.
    let error = runtime.load_bundle(&path).unwrap_err();
    assert!(
        matches!(&error, LoadError::Bundle(e) if matches!(**e, BundleError::Seal(SealError::FileChanged { .. }))),
        "{error}"
    );
}

/// The other way round: a tampered library read by the open, and the
/// signed one put back before the check reads the directory. The check
/// hashes the bytes the open read, which are the bytes that would load,
/// and refuses them; so for the manifest.
#[test]
fn the_check_hashes_the_bytes_the_open_read_not_a_second_read() {
    let trust = Trust::required([key(1).public()]);
    let dir = TempDir::new("seal-restored");
    let path = signed(&dir, "reload-v2", &key(1));
    for file in [library_file("reload-v2"), "manifest.toml"] {
        let signed = std::fs::read(path.join(file)).unwrap();
        let mut tampered = signed.clone();
        tampered.extend_from_slice(b"\n# tampered\n");
        std::fs::write(path.join(file), &tampered).unwrap();
        let opened = Bundle::open(&path).unwrap();
        std::fs::write(path.join(file), &signed).unwrap();
        let error = opened.verified(&trust).unwrap_err();
        assert!(
            matches!(&error, SealError::FileChanged { path, .. } if path == file),
            "{file}: {error}"
        );
        // As signed, it verifies.
        Bundle::open(&path).unwrap().verified(&trust).unwrap();
    }
}
