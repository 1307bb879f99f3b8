//! Black-box tests of `NativeLibrary`: verification before `dlopen`, the
//! ABI checks, private copies, and what `close` reports. The plugins are
//! tiny C libraries built here with the system C compiler.
#![cfg(not(any(loom, shuttle)))]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TempDir, native_manifest, within_30s};
use polyplug_abi::{ABI_VERSION, ABI_VERSION_SYMBOL, ENTRY_SYMBOL};
use polyplug_loader::{
    Bundle, CloseReport, NativeError, NativeLibrary, ScratchDir, Unmapped, image_mapped,
};
use sha2::{Digest, Sha256};

/// The fixture plugin. `VERSION` sets `polyplug_abi_version` (by default
/// `CURRENT_ABI`, which `build_plugin` sets to [`ABI_VERSION`]), `START` the
/// first value the entry returns minus one; `NO_ENTRY` and `NO_VERSION`
/// leave a symbol out. The entry ignores its pointers and returns an
/// incremented counter, so each image's own state is visible.
const PLUGIN_C: &str = r#"
#include <stdint.h>
#ifndef VERSION
#define VERSION CURRENT_ABI
#endif
#ifndef START
#define START 0
#endif
#ifndef NO_VERSION
const uint32_t polyplug_abi_version = VERSION;
#endif
static uint32_t counter = START;
#ifndef NO_ENTRY
uint32_t polyplug_entry(const void *host, const void *bundle, void *err) {
    (void)host; (void)bundle; (void)err;
    return ++counter;
}
#endif
"#;

const LIBRARY: &str = "libfixture.so";

/// Compiles `PLUGIN_C` with `flags` into `out`.
#[expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a helper of the tests: a fixture that does not build fails the test"
)]
fn build_plugin(out: &Path, flags: &[&str]) {
    let source = out.with_extension("c");
    std::fs::write(&source, PLUGIN_C).unwrap();
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let output = Command::new(&compiler)
        .args(["-shared", "-fPIC", "-O0", "-o"])
        .arg(out)
        .arg(&source)
        .arg(format!("-DCURRENT_ABI={ABI_VERSION}"))
        .args(flags)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {compiler:?}: {e}"));
    assert!(
        output.status.success(),
        "{compiler} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A bundle directory `name` in `tmp` holding the fixture built with
/// `flags`.
#[expect(
    clippy::unwrap_used,
    reason = "a helper of the tests: setup failures fail the test"
)]
fn plugin_bundle(tmp: &TempDir, name: &str, flags: &[&str]) -> PathBuf {
    let dir = tmp.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    build_plugin(&dir.join(LIBRARY), flags);
    tmp.write(
        &format!("{name}/manifest.toml"),
        native_manifest(name, LIBRARY, None),
    );
    dir
}

/// A bundle whose library file holds `bytes`, with an optional digest.
#[expect(
    clippy::unwrap_used,
    reason = "a helper of the tests: setup failures fail the test"
)]
fn bytes_bundle(tmp: &TempDir, bytes: &[u8], sha256: Option<&str>) -> Bundle {
    tmp.write("b/manifest.toml", native_manifest("demo", LIBRARY, sha256));
    tmp.write(&format!("b/{LIBRARY}"), bytes);
    Bundle::open(&tmp.path().join("b")).unwrap()
}

#[expect(
    clippy::unwrap_used,
    reason = "a helper of the tests: the bundles are valid"
)]
fn open(dir: &Path, scratch: &ScratchDir) -> Result<NativeLibrary, NativeError> {
    NativeLibrary::open(&Bundle::open(dir).unwrap(), scratch)
}

fn call_entry(library: &NativeLibrary) -> u32 {
    let mut err = polyplug_abi::AbiError::NONE;
    // SAFETY: [L3] `library` is borrowed, so it is open; [L2] the fixture's entry reads
    // none of its pointers, so null ones are valid for it.
    unsafe {
        library
            .entry()
            .call(std::ptr::null(), std::ptr::null(), &mut err)
    }
}

/// Whether any mapping of this process lies in `dir`.
#[expect(
    clippy::unwrap_used,
    reason = "a helper of the Linux tests: /proc is mounted"
)]
fn anything_mapped_under(dir: &Path) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.contains(&format!("{}/", dir.display()))
}

fn fake_elf() -> Vec<u8> {
    let mut bytes = b"\x7fELF".to_vec();
    bytes.resize(256, 0);
    bytes
}

#[test]
fn native_library_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<NativeLibrary>();
    assert_send_sync::<polyplug_loader::Entry<'static>>();
}

#[test]
fn a_script_bundle_is_not_native() {
    let tmp = TempDir::new("native-lua");
    tmp.write(
        "manifest.toml",
        "[bundle]\nname = \"s\"\nversion = \"1.0.0\"\nloader = \"lua\"\n",
    );
    let scratch = ScratchDir::new().unwrap();
    let err = open(tmp.path(), &scratch).unwrap_err();
    assert!(
        matches!(err, NativeError::NotNative { ref bundle, .. } if bundle == "s"),
        "{err}"
    );
}

#[test]
fn a_file_shorter_than_an_elf_header_is_refused() {
    let tmp = TempDir::new("native-short");
    let bundle = bytes_bundle(&tmp, &fake_elf()[..63], None);
    let scratch = ScratchDir::new().unwrap();
    let err = NativeLibrary::open(&bundle, &scratch).unwrap_err();
    let NativeError::NotASharedObject { bundle: name, path } = &err else {
        panic!("expected NotASharedObject, found {err}");
    };
    assert_eq!(name, "demo");
    assert_eq!(Some(path.as_path()), bundle.library_path());
}

#[cfg(target_os = "linux")]
#[test]
fn a_library_swapped_for_a_fifo_after_the_bundle_opened_is_not_read() {
    // `Bundle::open` read the library; loading verifies those bytes and
    // never opens the path again, so a FIFO put there since cannot block.
    let tmp = TempDir::new("native-fifo");
    let text = "#!/bin/sh\n".repeat(20);
    let bundle = bytes_bundle(&tmp, text.as_bytes(), None);
    let path = bundle.library_path().unwrap().to_owned();
    std::fs::remove_file(&path).unwrap();
    common::mkfifo(&path);
    let err = within_30s(move || {
        let scratch = ScratchDir::new().unwrap();
        NativeLibrary::open(&bundle, &scratch).unwrap_err()
    });
    assert!(
        matches!(&err, NativeError::NotASharedObject { path: p, .. } if *p == path),
        "{err}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_text_file_is_not_a_shared_object() {
    let tmp = TempDir::new("native-text");
    let text = "#!/bin/sh\n".repeat(20);
    let bundle = bytes_bundle(&tmp, text.as_bytes(), None);
    let scratch = ScratchDir::new().unwrap();
    let err = NativeLibrary::open(&bundle, &scratch).unwrap_err();
    assert!(matches!(err, NativeError::NotASharedObject { .. }), "{err}");
    // Refused before any copy was made.
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn a_digest_mismatch_is_refused_before_loading() {
    let tmp = TempDir::new("native-digest");
    let bytes = fake_elf();
    let wrong = "ab".repeat(32);
    let bundle = bytes_bundle(&tmp, &bytes, Some(&wrong));
    let scratch = ScratchDir::new().unwrap();
    let err = NativeLibrary::open(&bundle, &scratch).unwrap_err();
    let NativeError::DigestMismatch {
        bundle: name,
        path,
        expected,
        found,
    } = &err
    else {
        panic!("expected DigestMismatch, found {err}");
    };
    assert_eq!(name, "demo");
    assert_eq!(Some(path.as_path()), bundle.library_path());
    assert_eq!(expected, &wrong);
    let actual: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(found, &actual);
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore)]
#[test]
fn a_truncated_elf_is_refused_before_dlopen_and_leaves_nothing_behind() {
    let tmp = TempDir::new("native-truncated");
    let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    // Cut inside the header tables, and inside the mapped segments: the
    // second would make dlopen fault with SIGBUS if it were let through.
    for len in [100, 8192] {
        let bundle = bytes_bundle(&tmp, &exe[..len], None);
        let scratch = ScratchDir::new().unwrap();
        let err = NativeLibrary::open(&bundle, &scratch).unwrap_err();
        let NativeError::Truncated {
            bundle: name,
            path,
            expected,
            found,
        } = &err
        else {
            panic!("expected Truncated, found {err}");
        };
        assert_eq!(name, "demo");
        assert_eq!(Some(path.as_path()), bundle.library_path());
        assert_eq!(*found, u64::try_from(len).unwrap());
        assert!(*expected > *found, "{err}");
        assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
    }
}

#[cfg_attr(miri, ignore)]
#[test]
fn a_matching_digest_in_either_case_is_accepted() {
    let tmp = TempDir::new("native-digest-ok");
    let dir = plugin_bundle(&tmp, "digest", &[]);
    let bytes = std::fs::read(dir.join(LIBRARY)).unwrap();
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    tmp.write(
        "digest/manifest.toml",
        native_manifest("digest", LIBRARY, Some(&digest)),
    );
    let scratch = ScratchDir::new().unwrap();
    let library = open(&dir, &scratch).unwrap();
    assert_eq!(call_entry(&library), 1);
}

#[cfg_attr(miri, ignore)]
#[test]
fn a_good_plugin_opens_from_a_private_copy_that_is_then_deleted() {
    let tmp = TempDir::new("native-ok");
    let dir = plugin_bundle(&tmp, "good", &[]);
    let scratch = ScratchDir::new().unwrap();
    let library = open(&dir, &scratch).unwrap();
    assert_eq!(library.bundle_name(), "good");
    assert_eq!(library.source_path(), dir.join(LIBRARY));
    assert!(library.private_path().starts_with(scratch.path()));
    assert!(
        !library.private_path().exists(),
        "the private copy must be removed after dlopen"
    );
    assert!(dir.join(LIBRARY).exists(), "the bundle's file stays");
    if cfg!(target_os = "linux") {
        assert_eq!(image_mapped(library.private_path()), Some(true));
        assert_eq!(image_mapped(library.source_path()), Some(false));
    }
    assert_eq!(call_entry(&library), 1);
    assert_eq!(call_entry(&library), 2);
}

#[cfg_attr(miri, ignore)]
#[test]
fn two_opens_of_one_path_are_two_independent_images() {
    let tmp = TempDir::new("native-twice");
    let dir = plugin_bundle(&tmp, "twice", &[]);
    let scratch = ScratchDir::new().unwrap();
    let first = open(&dir, &scratch).unwrap();
    let second = open(&dir, &scratch).unwrap();
    assert_ne!(first.private_path(), second.private_path());
    assert_eq!(call_entry(&first), 1);
    assert_eq!(call_entry(&first), 2);
    assert_eq!(
        call_entry(&second),
        1,
        "the second image has its own counter"
    );
    assert_eq!(call_entry(&first), 3);
    assert_eq!(first.close().unmapped, expected_unmapped());
    assert_eq!(call_entry(&second), 2, "closing one image leaves the other");
}

#[cfg_attr(miri, ignore)]
#[test]
fn a_rebuilt_library_at_the_same_path_is_loaded_fresh() {
    let tmp = TempDir::new("native-rebuild");
    let dir = plugin_bundle(&tmp, "rebuild", &[]);
    let scratch = ScratchDir::new().unwrap();
    let old = open(&dir, &scratch).unwrap();
    assert_eq!(call_entry(&old), 1);
    // Rebuild in place while the old image is still open.
    build_plugin(&dir.join(LIBRARY), &["-DSTART=100"]);
    let new = open(&dir, &scratch).unwrap();
    assert_eq!(call_entry(&new), 101);
    assert_eq!(call_entry(&old), 2);
}

/// A plugin built against ABI version 1 (before context entries) is
/// refused, and the message says which version to rebuild against.
#[cfg_attr(miri, ignore)]
#[test]
fn a_plugin_built_against_an_older_abi_is_refused_naming_the_version_it_needs() {
    let tmp = TempDir::new("native-abi-1");
    let dir = plugin_bundle(&tmp, "old", &["-DVERSION=1"]);
    let scratch = ScratchDir::new().unwrap();
    let err = open(&dir, &scratch).unwrap_err();
    assert!(
        matches!(
            err,
            NativeError::AbiMismatch {
                found: 1,
                expected: ABI_VERSION,
                ..
            }
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("found 1")
            && text.contains(&format!(
                "rebuild the plugin against ABI version {ABI_VERSION}"
            )),
        "{text}"
    );
}

#[cfg_attr(miri, ignore)]
#[test]
fn a_wrong_abi_version_is_refused_and_the_library_closed() {
    let tmp = TempDir::new("native-abi");
    let dir = plugin_bundle(&tmp, "abi", &["-DVERSION=999"]);
    let scratch = ScratchDir::new().unwrap();
    let err = open(&dir, &scratch).unwrap_err();
    let NativeError::AbiMismatch {
        bundle,
        found,
        expected,
    } = &err
    else {
        panic!("expected AbiMismatch, found {err}");
    };
    assert_eq!(
        (bundle.as_str(), *found, *expected),
        ("abi", 999, ABI_VERSION)
    );
    assert_eq!(
        err.to_string(),
        format!(
            "bundle \"abi\": expected polyplug_abi_version {ABI_VERSION}, found 999: \
             rebuild the plugin against ABI version {ABI_VERSION} (PP_ABI_VERSION in polyplug.h, \
             ABI_VERSION in polyplug-abi)"
        )
    );
    if cfg!(target_os = "linux") {
        assert!(
            !anything_mapped_under(scratch.path()),
            "closed before returning"
        );
    }
}

#[cfg_attr(miri, ignore)]
#[test]
fn a_missing_abi_version_is_a_missing_symbol() {
    let tmp = TempDir::new("native-noversion");
    let dir = plugin_bundle(&tmp, "noversion", &["-DNO_VERSION"]);
    let scratch = ScratchDir::new().unwrap();
    let err = open(&dir, &scratch).unwrap_err();
    assert!(
        matches!(&err, NativeError::MissingSymbol { bundle, symbol }
            if bundle == "noversion" && *symbol == ABI_VERSION_SYMBOL),
        "{err}"
    );
}

#[cfg_attr(miri, ignore)]
#[test]
fn a_missing_entry_is_a_missing_symbol_and_the_library_closed() {
    let tmp = TempDir::new("native-noentry");
    let dir = plugin_bundle(&tmp, "noentry", &["-DNO_ENTRY"]);
    let scratch = ScratchDir::new().unwrap();
    let err = open(&dir, &scratch).unwrap_err();
    assert!(
        matches!(&err, NativeError::MissingSymbol { bundle, symbol }
            if bundle == "noentry" && *symbol == ENTRY_SYMBOL),
        "{err}"
    );
    if cfg!(target_os = "linux") {
        assert!(
            !anything_mapped_under(scratch.path()),
            "closed before returning"
        );
    }
}

fn expected_unmapped() -> Unmapped {
    if cfg!(target_os = "linux") {
        Unmapped::Yes
    } else {
        Unmapped::Unknown
    }
}

#[cfg_attr(miri, ignore)]
#[test]
fn closing_a_trivial_library_unmaps_it() {
    let tmp = TempDir::new("native-close");
    let dir = plugin_bundle(&tmp, "close", &[]);
    let scratch = ScratchDir::new().unwrap();
    let library = open(&dir, &scratch).unwrap();
    let private = library.private_path().to_owned();
    let report = library.close();
    assert_eq!(
        report,
        CloseReport {
            private_path: private.clone(),
            unmapped: expected_unmapped(),
            close_error: None,
        }
    );
    if cfg!(target_os = "linux") {
        assert!(report.is_clean());
        assert_eq!(image_mapped(&private), Some(false));
    }
}

#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore)]
#[test]
fn a_nodelete_library_stays_mapped_and_close_says_so() {
    let tmp = TempDir::new("native-nodelete");
    let dir = plugin_bundle(&tmp, "nodelete", &["-Wl,-z,nodelete"]);
    let scratch = ScratchDir::new().unwrap();
    let library = open(&dir, &scratch).unwrap();
    let report = library.close();
    assert_eq!(report.unmapped, Unmapped::No);
    assert_eq!(report.close_error, None);
    assert!(!report.is_clean());
    assert_eq!(image_mapped(&report.private_path), Some(true));
}

/// A library closed with its image gone is opened again from the same
/// private copy when its bytes are loaded again, and runs from fresh
/// static state: the copy's file is reused, never its image.
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore)]
#[test]
fn the_same_bytes_after_a_clean_close_reopen_the_closed_copy_with_fresh_state() {
    let tmp = TempDir::new("native-shelf");
    let dir = plugin_bundle(&tmp, "shelf", &[]);
    let scratch = ScratchDir::new().unwrap();
    let first = open(&dir, &scratch).unwrap();
    assert_eq!(call_entry(&first), 1);
    assert_eq!(call_entry(&first), 2);
    let path = first.private_path().to_owned();
    assert!(first.close().is_clean());

    let again = open(&dir, &scratch).unwrap();
    assert_eq!(
        again.private_path(),
        path,
        "the closed copy is opened again"
    );
    assert_eq!(call_entry(&again), 1, "its static state starts afresh");
    assert_eq!(image_mapped(&path), Some(true));
    // While it is open, the same bytes get a copy of their own.
    let beside = open(&dir, &scratch).unwrap();
    assert_ne!(beside.private_path(), path);
    assert_eq!(call_entry(&beside), 1);
    assert_eq!(call_entry(&again), 2);
    assert!(again.close().is_clean());
    assert_eq!(image_mapped(&path), Some(false));
    assert!(beside.close().is_clean());
}

/// Other bytes under the same bundle name never reuse a closed copy: a
/// rebuilt library gets a new one.
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore)]
#[test]
fn other_bytes_after_a_clean_close_get_a_new_copy() {
    let tmp = TempDir::new("native-shelf-other");
    let dir = plugin_bundle(&tmp, "other", &[]);
    let scratch = ScratchDir::new().unwrap();
    let first = open(&dir, &scratch).unwrap();
    let path = first.private_path().to_owned();
    assert!(first.close().is_clean());
    build_plugin(&dir.join(LIBRARY), &["-DSTART=100"]);
    let rebuilt = open(&dir, &scratch).unwrap();
    assert_ne!(rebuilt.private_path(), path);
    assert_eq!(call_entry(&rebuilt), 101);
    assert!(rebuilt.close().is_clean());
}

/// A copy whose image stayed mapped (`-z nodelete`) is not reused: glibc
/// would hand back the old image, with its state, for the same file.
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore)]
#[test]
fn a_copy_whose_image_stayed_mapped_is_not_reused() {
    let tmp = TempDir::new("native-shelf-nodelete");
    let dir = plugin_bundle(&tmp, "kept", &["-Wl,-z,nodelete"]);
    let scratch = ScratchDir::new().unwrap();
    let first = open(&dir, &scratch).unwrap();
    assert_eq!(call_entry(&first), 1);
    let report = first.close();
    assert_eq!(report.unmapped, Unmapped::No);
    let again = open(&dir, &scratch).unwrap();
    assert_ne!(again.private_path(), report.private_path);
    assert_eq!(call_entry(&again), 1, "a new image, not the one kept");
}

#[cfg_attr(miri, ignore)]
#[test]
fn a_library_opened_on_one_thread_is_called_and_closed_on_another() {
    let tmp = TempDir::new("native-threads");
    let dir = plugin_bundle(&tmp, "threads", &[]);
    let scratch = ScratchDir::new().unwrap();
    let library = open(&dir, &scratch).unwrap();
    let report = std::thread::spawn(move || {
        assert_eq!(call_entry(&library), 1);
        library.close()
    })
    .join()
    .unwrap();
    assert_eq!(report.unmapped, expected_unmapped());
}
