//! The bad-bundle corpus: one test per way a bundle, its library, its
//! plugin or its place among other bundles can be wrong, and the faults a
//! plugin can cause at run time.
//!
//! Every refused write is checked the same way ([`refused`]): the error has
//! the expected type and its message names the culprit (file, field,
//! bundle or contract); the runtime is exactly as before (revision, bundle
//! list, and library counters, except that a library opened for the
//! attempt was closed again and left memory); and what was serving before
//! still answers. A load is tried in a runtime serving `test-add`
//! ([`refused_load`]); a reload of `reload-test` in a runtime serving
//! `reload-v1`, which must still answer 100 through a kept handle
//! ([`refused_reload`]). Broken bundles are copies of `reload-v2` (bundle
//! `reload-test`) changed in a temporary directory, or the `bad-*`
//! fixtures.
//!
//! `failures.rs` already reloads from a missing library, a manifest that is
//! not TOML, a digest mismatch, `bad-abi`, `bad-no-entry`,
//! `bad-init-error`, `bad-init-panic`, `bad-lacks-contract`,
//! `bad-undeclared`, `bad-unregistered`, `bad-null-fn` and another bundle's
//! directory; for those cases this file tries the load only. Every other
//! case is tried as a load and as a reload.
//!
//! A bundle file that could block (a FIFO) is tried on a thread of its own
//! ([`promptly`]), so a write that blocks fails its test after 30 s instead
//! of hanging the run.
//!
//! The cases, by module: [`manifest`], [`library`], [`plugin`] (with the
//! run-time faults), [`between`] bundles, [`message`]s that show what a
//! plugin or a file wrote, and [`seal`]: signed bundles under a runtime
//! that requires them. Run with `--nocapture` to see
//! each case and the message it produced.
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a failed step fails the test"
)]

#[path = "bad_bundles/between.rs"]
mod between;
mod common;
#[path = "bad_bundles/library.rs"]
mod library;
#[path = "bad_bundles/manifest.rs"]
mod manifest;
#[path = "bad_bundles/message.rs"]
mod message;
#[path = "bad_bundles/plugin.rs"]
mod plugin;
#[path = "bad_bundles/seal.rs"]
mod seal;

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use common::{TempDir, V1, call, drain, drain_events, handle_of, version_of};
use polyplug::{BundleId, Event, LibraryStats, LoadError, Runtime};
use polyplug_fixtures::{bundle, copy_bundle, library_file, write_manifest};
use polyplug_loader::{BundleError, ManifestError, NativeError};

// ---------------------------------------------------------------------------
// The checks every case shares.
// ---------------------------------------------------------------------------

/// Runs `write`, which must fail, and checks that it changed nothing:
/// `serves` passes before and after, the revision and bundle list are
/// unchanged, and the library counters are unchanged except that `opens`
/// libraries were opened, closed and unmapped again. Prints the case and
/// its error, and returns the error.
fn refused(
    runtime: &Runtime,
    case: &str,
    opens: u64,
    write: impl FnOnce() -> Result<(), LoadError>,
    serves: impl Fn(),
) -> LoadError {
    serves();
    drain(runtime);
    let revision = runtime.revision();
    let bundles = runtime.bundles();
    let stats = runtime.library_stats();
    let error = match write() {
        Ok(()) => panic!("{case}: expected a refusal, but the write succeeded"),
        Err(error) => error,
    };
    println!("{case}: {error}");
    serves();
    assert_eq!(runtime.revision(), revision, "{case}: revision unchanged");
    assert_eq!(runtime.bundles(), bundles, "{case}: bundles unchanged");
    drain(runtime);
    assert_eq!(
        runtime.library_stats(),
        LibraryStats {
            opened: stats.opened + opens,
            closed: stats.closed + opens,
            unmapped: stats.unmapped + opens,
            still_mapped: stats.still_mapped,
        },
        "{case}: {opens} library opened for the attempt, closed and unmapped again"
    );
    error
}

/// `test.add`'s typed `add(2, 3)`.
fn add_answers(runtime: &Runtime) {
    let reader = runtime.reader();
    let guard = reader.pin();
    let add = guard
        .find("test.add", V1)
        .unwrap()
        .typed::<extern "C" fn(u32, u32) -> u32>("add")
        .unwrap();
    assert_eq!(add.call(2, 3), 5, "test.add still answers");
}

/// Loads `dir` into a runtime serving `test-add`; see [`refused`].
fn refused_load(case: &str, dir: &Path, opens: u64) -> LoadError {
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(bundle("test-add")).unwrap();
    refused_load_in(&runtime, case, dir, opens)
}

/// Loads `dir` into `runtime`, which serves `test-add`; see [`refused`].
fn refused_load_in(runtime: &Runtime, case: &str, dir: &Path, opens: u64) -> LoadError {
    let events = runtime.subscribe();
    let error = refused(
        runtime,
        &format!("{case} (load)"),
        opens,
        || runtime.load_bundle(dir).map(drop),
        || add_answers(runtime),
    );
    let text = error.to_string();
    assert!(
        drain_events(&events)
            .iter()
            .any(|e| matches!(e, Event::LoadFailed { error, .. } if *error == text)),
        "{case}: a load-failed event carries the error"
    );
    error
}

/// Reloads `reload-test` from `dir` in a runtime serving `reload-v1`,
/// which must keep answering 100 through a handle kept from before; see
/// [`refused`].
fn refused_reload(case: &str, dir: &Path, opens: u64) -> LoadError {
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(bundle("reload-v1")).unwrap();
    refused_reload_in(&runtime, id, case, dir, opens)
}

/// Reloads bundle `id` of `runtime`, which serves `reload-v1`, from `dir`;
/// see [`refused_reload`].
fn refused_reload_in(
    runtime: &Runtime,
    id: BundleId,
    case: &str,
    dir: &Path,
    opens: u64,
) -> LoadError {
    let handle = handle_of(runtime);
    let events = runtime.subscribe();
    let error = refused(
        runtime,
        &format!("{case} (reload)"),
        opens,
        || runtime.reload_bundle(id, Some(dir)),
        || assert_eq!(version_of(runtime, handle), 100, "v1 still answers"),
    );
    let text = error.to_string();
    assert!(
        drain_events(&events)
            .iter()
            .any(|e| matches!(e, Event::ReloadFailed { error, .. } if *error == text)),
        "{case}: a reload-failed event carries the error"
    );
    error
}

/// [`refused_load`] and then [`refused_reload`] of the same directory.
fn refused_both(case: &str, dir: &Path, opens: u64) -> [LoadError; 2] {
    [
        refused_load(case, dir, opens),
        refused_reload(case, dir, opens),
    ]
}

/// Asserts that the message of `error` contains each of `culprits`.
fn names(error: &impl Display, culprits: &[&str]) {
    let text = error.to_string();
    for culprit in culprits {
        assert!(text.contains(culprit), "{text:?} names {culprit:?}");
    }
}

fn bundle_error(error: &LoadError) -> &BundleError {
    match error {
        LoadError::Bundle(e) => e,
        other => panic!("expected a bundle error, got {other:?}"),
    }
}

fn manifest_error(error: &LoadError) -> &ManifestError {
    match bundle_error(error) {
        BundleError::Manifest(e) => e,
        other => panic!("expected a manifest error, got {other:?}"),
    }
}

fn native_error(error: &LoadError) -> &NativeError {
    match error {
        LoadError::Native(e) => e,
        other => panic!("expected a native library error, got {other:?}"),
    }
}

/// Starts `work` on a thread of its own; [`finished`] waits for it.
fn start<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Receiver<T> {
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(work());
    });
    result
}

/// The result of work [`start`]ed, failing the test if it has not returned
/// within 30 seconds: it blocked. The blocked thread is left behind.
fn finished<T>(case: &str, result: &Receiver<T>) -> T {
    result
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{case}: still blocked after 30 s ({e})"))
}

/// [`refused_both`] on a thread of its own, failing the test if it blocks.
fn promptly(case: &str, dir: &Path) -> [LoadError; 2] {
    let (owned_case, dir) = (case.to_owned(), dir.to_owned());
    finished(case, &start(move || refused_both(&owned_case, &dir, 0)))
}

/// Makes a FIFO (named pipe) at `path` with `mkfifo(1)`.
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {} failed", path.display());
}

// ---------------------------------------------------------------------------
// Broken copies.
// ---------------------------------------------------------------------------

/// A copy of `reload-v2` (bundle `reload-test`) in `dir`, changed by `edit`,
/// and its canonical path.
fn broken_v2(dir: &TempDir, edit: impl FnOnce(&Path)) -> PathBuf {
    let path = copy_bundle("reload-v2", dir.path()).unwrap();
    edit(&path);
    std::fs::canonicalize(path).unwrap()
}

/// A copy of `reload-v2` whose manifest text is changed by `edit`.
fn v2_manifest(dir: &TempDir, edit: impl FnOnce(String) -> String) -> PathBuf {
    broken_v2(dir, |path| {
        let text = std::fs::read_to_string(path.join("manifest.toml")).unwrap();
        write_manifest(path, &edit(text));
    })
}

/// `text` with exactly one `from` replaced by `to`.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} in {text}");
    text.replacen(from, to, 1)
}

/// The library of the `reload-v2` copy at `path`.
fn v2_library(path: &Path) -> PathBuf {
    path.join(library_file("reload-v2"))
}

/// A manifest of a native bundle whose library is fixture `fixture`'s.
fn native_manifest(
    name: &str,
    fixture: &str,
    provides: &[(&str, &str)],
    requires: &[(&str, &str)],
) -> String {
    let mut text = format!(
        "[bundle]\nname = \"{name}\"\nversion = \"1.0.0\"\nloader = \"native\"\n\n\
         [library]\nlinux = \"{}\"\n",
        library_file(fixture)
    );
    for (table, entries) in [("provides", provides), ("requires", requires)] {
        for (contract, version) in entries {
            text.push_str(&format!(
                "\n[[{table}]]\nname = \"{contract}\"\nversion = \"{version}\"\n"
            ));
        }
    }
    text
}

/// A copy of fixture `fixture` in `dir` whose manifest is `text`.
fn rewritten(dir: &Path, fixture: &str, text: &str) -> PathBuf {
    let path = copy_bundle(fixture, dir).unwrap();
    write_manifest(&path, text);
    path
}
