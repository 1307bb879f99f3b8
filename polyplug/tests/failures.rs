//! Every way a reload can fail leaves v1 serving and untouched; a failed
//! load leaves what was loaded before.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    reason = "test support: a failed step fails the test"
)]

mod common;

use std::path::{Path, PathBuf};

use common::{TempDir, V1, drain, drain_events, handle_of, version_of};
use polyplug::{Event, LoadError, Runtime};
use polyplug_fixtures::{bundle, copy_bundle};
use polyplug_loader::{BundleError, NativeError};

/// A copy of reload-v2 in a fresh directory, changed by `edit`.
fn broken_v2(dir: &TempDir, edit: impl FnOnce(&Path)) -> PathBuf {
    let path = copy_bundle("reload-v2", dir.path()).unwrap();
    edit(&path);
    path
}

fn manifest(path: &Path) -> String {
    std::fs::read_to_string(path.join("manifest.toml")).unwrap()
}

fn library_file(path: &Path) -> PathBuf {
    let text = manifest(path);
    let file = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("linux = \"")
                .and_then(|r| r.strip_suffix('"'))
        })
        .unwrap();
    path.join(file)
}

/// Reloads reload-test from `from`, expects failure, checks that v1 still
/// answers through the kept handle and nothing changed, and returns the error.
fn failed_reload(from: &Path) -> LoadError {
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    let handle = handle_of(&runtime);
    let before = (runtime.revision(), runtime.bundles());
    let events = runtime.subscribe();
    let error = runtime.reload_bundle(id, Some(from)).unwrap_err();
    assert_eq!(
        version_of(&runtime, handle),
        100,
        "v1 still answers after: {error}"
    );
    assert_eq!(
        (runtime.revision(), runtime.bundles()),
        before,
        "nothing changed after: {error}"
    );
    let failed = drain_events(&events)
        .into_iter()
        .any(|e| matches!(e, Event::ReloadFailed { name, .. } if name == "reload-test"));
    assert!(failed, "a reload-failed event was sent for: {error}");
    // The v2 library opened for the attempt (if any) is closed again.
    drain(&runtime);
    let stats = runtime.library_stats();
    assert_eq!(
        stats.opened - stats.closed,
        1,
        "only v1 stays open after: {error}"
    );
    error
}

#[test]
fn missing_library_file() {
    let dir = TempDir::new("missing-file");
    let v2 = broken_v2(&dir, |p| std::fs::remove_file(library_file(p)).unwrap());
    let error = failed_reload(&v2);
    assert!(
        matches!(&error, LoadError::Bundle(e) if matches!(**e, BundleError::LibraryMissing { .. })),
        "{error}"
    );
}

#[test]
fn bad_manifest() {
    let dir = TempDir::new("bad-manifest");
    let v2 = broken_v2(&dir, |p| {
        polyplug_fixtures::write_manifest(p, "[bundle\nname = 1\n")
    });
    let error = failed_reload(&v2);
    assert!(
        matches!(&error, LoadError::Bundle(e) if matches!(**e, BundleError::Manifest(_))),
        "{error}"
    );
    assert!(
        error.to_string().contains("manifest.toml:1:"),
        "the error names the file and line: {error}"
    );
}

#[test]
fn digest_mismatch() {
    let dir = TempDir::new("digest");
    let v2 = broken_v2(&dir, |p| {
        let text = manifest(p).replace(
            "[library]\n",
            &format!("[library]\nsha256 = \"{}\"\n", "ab".repeat(32)),
        );
        polyplug_fixtures::write_manifest(p, &text);
    });
    let error = failed_reload(&v2);
    assert!(
        matches!(&error, LoadError::Native(e) if matches!(**e, NativeError::DigestMismatch { .. })),
        "{error}"
    );
}

#[test]
fn abi_mismatch() {
    let error = failed_reload(&bundle("bad-abi"));
    assert!(
        matches!(&error, LoadError::Native(e) if matches!(**e, NativeError::AbiMismatch { found: 999, .. })),
        "{error}"
    );
}

#[test]
fn missing_entry_point() {
    let error = failed_reload(&bundle("bad-no-entry"));
    assert!(
        matches!(&error, LoadError::Native(e) if matches!(**e, NativeError::MissingSymbol { .. })),
        "{error}"
    );
    assert!(error.to_string().contains("polyplug_entry"), "{error}");
}

#[test]
fn init_error() {
    match failed_reload(&bundle("bad-init-error")) {
        LoadError::InitFailed {
            bundle,
            code,
            message,
        } => {
            assert_eq!((bundle.as_str(), code), ("reload-test", 1007));
            assert_eq!(message, "bad-init-error: refused on purpose");
        }
        other => panic!("expected an init failure, got {other}"),
    }
}

#[test]
fn init_panic() {
    match failed_reload(&bundle("bad-init-panic")) {
        LoadError::InitFailed { code, message, .. } => {
            assert_eq!(code, polyplug_abi::ERR_PANIC);
            assert!(
                message
                    .as_str()
                    .contains("bad-init-panic: panicked on purpose"),
                "{message}"
            );
        }
        other => panic!("expected an init failure, got {other}"),
    }
}

#[test]
fn v2_lacks_a_contract() {
    match failed_reload(&bundle("bad-lacks-contract")) {
        LoadError::ReloadLacksContract { contract, .. } => assert_eq!(contract, "reload.test"),
        other => panic!("expected a missing contract, got {other}"),
    }
}

#[test]
fn v2_registers_an_undeclared_contract() {
    match failed_reload(&bundle("bad-undeclared")) {
        LoadError::Undeclared { contract, .. } => assert_eq!(contract, "undeclared.extra"),
        other => panic!("expected an undeclared contract, got {other}"),
    }
}

#[test]
fn v2_declares_a_contract_it_does_not_register() {
    match failed_reload(&bundle("bad-unregistered")) {
        LoadError::NotRegistered { contract, .. } => assert_eq!(contract, "declared.missing"),
        other => panic!("expected an unregistered contract, got {other}"),
    }
}

#[test]
fn v2_registers_a_null_function_pointer() {
    match failed_reload(&bundle("bad-null-fn")) {
        LoadError::InvalidContract { error, .. } => {
            assert_eq!(error.field, "native[0].func");
            assert_eq!(error.contract, "reload.test");
        }
        other => panic!("expected an invalid contract, got {other}"),
    }
}

#[test]
fn reload_from_another_bundle() {
    match failed_reload(&bundle("test-add")) {
        LoadError::NameMismatch { bundle, found, .. } => assert_eq!(
            (bundle.as_str(), found.as_str()),
            ("reload-test", "test-add")
        ),
        other => panic!("expected a name mismatch, got {other}"),
    }
}

#[test]
fn a_failed_load_keeps_what_was_loaded() {
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("test-add")).unwrap();
    let before = (runtime.revision(), runtime.bundles());
    for bad in [
        "bad-abi",
        "bad-no-entry",
        "bad-init-error",
        "bad-init-panic",
        "bad-undeclared",
        "bad-unregistered",
        "bad-null-fn",
    ] {
        let error = runtime.load_bundle(bundle(bad)).unwrap_err();
        assert_eq!(
            (runtime.revision(), runtime.bundles()),
            before,
            "{bad}: {error}"
        );
        let reader = runtime.reader();
        let guard = reader.pin();
        let add = guard
            .find("test.add", V1)
            .unwrap()
            .typed::<extern "C" fn(u32, u32) -> u32>("add")
            .unwrap();
        assert_eq!(add.call(2, 2), 4, "{bad}: test.add still answers");
    }
    drain(&runtime);
    let stats = runtime.library_stats();
    assert_eq!(
        stats.opened - stats.closed,
        1,
        "every refused library was closed again"
    );
    let error = runtime.load_bundle(bundle("test-add")).unwrap_err();
    assert!(matches!(error, LoadError::AlreadyLoaded { .. }), "{error}");
}

#[test]
fn a_bundle_id_from_another_runtime_is_refused_and_changes_nothing() {
    let (a, b) = (Runtime::new().unwrap(), Runtime::new().unwrap());
    let in_a = a.load_bundle(bundle("reload-v1")).unwrap();
    let in_b = b.load_bundle(bundle("reload-v1")).unwrap();
    assert_ne!(in_a, in_b, "ids of two runtimes never compare equal");
    let (handle_a, handle_b) = (handle_of(&a), handle_of(&b));
    let before = |r: &Runtime| (r.revision(), r.bundles());
    let (was_a, was_b) = (before(&a), before(&b));
    let v2 = bundle("reload-v2");

    let foreign = |error: LoadError, which: &str| {
        assert!(
            matches!(&error, LoadError::ForeignBundle { bundle, .. } if *bundle == in_b),
            "{which}: {error:?}"
        );
        let text = error.to_string();
        assert!(
            text.contains(&in_b.to_string()) && text.contains("another runtime"),
            "{which} names the id and says it is foreign: {text}"
        );
    };
    foreign(a.reload_bundle(in_b, Some(&v2)).unwrap_err(), "reload");
    foreign(a.reload_bundle(in_b, None).unwrap_err(), "reload in place");
    foreign(a.unload_bundle(in_b).unwrap_err(), "unload");
    foreign(a.unload_cascade(in_b).unwrap_err(), "cascade");

    assert_eq!(before(&a), was_a, "nothing changed in the runtime asked");
    assert_eq!(
        before(&b),
        was_b,
        "nothing changed in the runtime that issued the id"
    );
    assert_eq!(
        (version_of(&a, handle_a), version_of(&b, handle_b)),
        (100, 100)
    );
    // Each runtime still takes its own id.
    a.reload_bundle(in_a, Some(&v2)).unwrap();
    assert_eq!(
        (version_of(&a, handle_a), version_of(&b, handle_b)),
        (200, 100)
    );
    b.unload_bundle(in_b).unwrap();
    assert_eq!(a.bundles().len(), 1);
}
