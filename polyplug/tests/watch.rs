//! Reload on file change ([`Runtime::watch`]) while dispatcher threads keep
//! calling: a library rebuilt in place, one written in chunks, a garbage
//! write, a manifest edit, a flipped symlink, and the end of a watch.
//!
//! No assertion bounds a duration: each test waits for the runtime's events
//! with a generous deadlock guard.
#![cfg(all(feature = "watch", not(any(loom, shuttle, miri))))]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a failed step fails the test"
)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use common::{TempDir, V1, drain, drain_events, handle_of, version_of};
use polyplug::{ContractHandle, Event, Runtime, Version, WatchOptions};
use polyplug_fixtures::{copy_bundle, library, library_file};

/// How long a test waits for an event before it calls the run deadlocked.
const DEADLOCK_GUARD: Duration = Duration::from_secs(120);

/// The next reload outcome (`Reloaded` or `ReloadFailed`), and every
/// event before it.
fn next_outcome(events: &Receiver<Event>) -> (Event, Vec<Event>) {
    let mut before = Vec::new();
    loop {
        let event = events
            .recv_timeout(DEADLOCK_GUARD)
            .unwrap_or_else(|e| panic!("no reload outcome (seen: {before:?}): {e}"));
        match event {
            Event::Reloaded { .. } | Event::ReloadFailed { .. } => return (event, before),
            other => before.push(other),
        }
    }
}

/// A copy of `reload-v1` in a fresh directory, and the path of its library.
fn bundle_copy(dir: &Path) -> (PathBuf, PathBuf) {
    let bundle = copy_bundle("reload-v1", dir).unwrap();
    let target = bundle.join(library_file("reload-v1"));
    (bundle, target)
}

/// Counts from the dispatcher threads. Relaxed throughout: plain counters,
/// read after `thread::scope` joined the dispatchers.
#[derive(Default)]
struct Tally {
    calls: AtomicU64,
    v1: AtomicU64,
    v2: AtomicU64,
    other: AtomicU64,
    errors: AtomicU64,
    /// Answers other than the one `expect` named, given after it was set.
    unexpected: AtomicU64,
}

/// What every call must answer from now on; 0 for either.
struct Expect(AtomicU64);

impl Expect {
    fn set(&self, answer: u32) {
        // Release: pairs with the Acquire load in `dispatch`. The reload
        // published v2 before its event was sent, and this store follows
        // the receipt of that event: a guard pinned after the load sees it.
        self.0.store(u64::from(answer), Ordering::Release);
    }
}

/// Calls `reload.test` through a kept handle, natively and typed, until
/// `stop`. Every call must succeed; once `expect` names an answer, every
/// call pinned after must give it.
fn dispatch(
    runtime: &Runtime,
    handle: ContractHandle,
    stop: &AtomicBool,
    expect: &Expect,
    tally: &Tally,
) {
    let reader = runtime.reader();
    // Relaxed: `stop` only ends the loop.
    while !stop.load(Ordering::Relaxed) {
        // Acquire: pairs with the Release store in `Expect::set`.
        let expected = expect.0.load(Ordering::Acquire);
        let guard = reader.pin();
        let answers = guard.get(handle).map_err(|_| ()).and_then(|contract| {
            let native = common::call(&contract, "version", 0, 0).map_err(|_| ())?;
            let typed = contract
                .typed::<extern "C" fn() -> u32>("version")
                .map_err(|_| ())?
                .call();
            Ok([native, typed])
        });
        tally.calls.fetch_add(1, Ordering::Relaxed);
        let Ok(answers) = answers else {
            tally.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        for answer in answers {
            match answer {
                100 => tally.v1.fetch_add(1, Ordering::Relaxed),
                200 => tally.v2.fetch_add(1, Ordering::Relaxed),
                _ => tally.other.fetch_add(1, Ordering::Relaxed),
            };
            if expected != 0 && u64::from(answer) != expected {
                tally.unexpected.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Sets its flag when dropped, on a panic too.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        // Relaxed: see the load in `dispatch`.
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs `dispatchers` calling threads while `changes` runs on this thread.
fn under_load(
    runtime: &Runtime,
    dispatchers: usize,
    changes: impl FnOnce(&Expect, &Tally),
) -> Tally {
    let handle = handle_of(runtime);
    let stop = AtomicBool::new(false);
    let expect = Expect(AtomicU64::new(0));
    let tally = Tally::default();
    std::thread::scope(|s| {
        for _ in 0..dispatchers {
            s.spawn(|| dispatch(runtime, handle, &stop, &expect, &tally));
        }
        // Stops the dispatchers however `changes` ends: a failed assertion
        // in it fails the test instead of leaving the scope waiting.
        let _stop = StopOnDrop(&stop);
        while tally.calls.load(Ordering::Relaxed) < 1000 {
            std::thread::yield_now();
        }
        changes(&expect, &tally);
    });
    assert_eq!(
        tally.errors.load(Ordering::Relaxed),
        0,
        "every call succeeded"
    );
    assert_eq!(tally.other.load(Ordering::Relaxed), 0, "no torn answer");
    assert_eq!(
        tally.unexpected.load(Ordering::Relaxed),
        0,
        "no old answer after the reload was reported"
    );
    tally
}

/// A long quiet period, for the tests whose dispatchers compete with the
/// writing thread for the cores: a copy preempted between its truncation
/// and its write must not look finished.
fn patient() -> WatchOptions {
    WatchOptions {
        quiet: Duration::from_secs(1),
    }
}

/// A short quiet period, for the tests that wait for nothing to happen.
fn fast() -> WatchOptions {
    WatchOptions {
        quiet: Duration::from_millis(100),
    }
}

/// Waits ten quiet periods of [`fast`]: long enough for a live watch to
/// have reloaded. Used only where the right outcome is that nothing happens,
/// so a slow machine cannot make a correct watch fail.
fn ten_quiet_periods() {
    std::thread::sleep(fast().quiet * 10);
}

#[test]
fn a_library_rebuilt_in_place_is_reloaded_while_dispatchers_call_it() {
    let dir = TempDir::new("watch-in-place");
    let (bundle, target) = bundle_copy(dir.path());
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(&bundle).unwrap();
    let events = runtime.subscribe();
    let _watch = runtime.watch_with(dir.path(), patient()).unwrap();
    let (v1, v2) = (library("reload-v1"), library("reload-v2"));
    let tally = under_load(&runtime, 4, |expect, _| {
        for round in 0..4 {
            let (from, answer) = if round % 2 == 0 {
                (&v2, 200)
            } else {
                (&v1, 100)
            };
            expect.set(0); // either, while the change is under way
            // Rebuilt in place: the same path, new bytes.
            std::fs::copy(from, &target).unwrap();
            let (outcome, _) = next_outcome(&events);
            assert!(
                matches!(&outcome, Event::Reloaded { bundle, .. } if *bundle == id),
                "round {round}: {outcome:?}"
            );
            expect.set(answer);
            assert_eq!(version_of(&runtime, handle_of(&runtime)), answer);
        }
    });
    assert!(tally.v1.load(Ordering::Relaxed) > 0 && tally.v2.load(Ordering::Relaxed) > 0);
    drain(&runtime);
    let stats = runtime.library_stats();
    assert_eq!(
        (stats.opened, stats.closed),
        (5, 4),
        "four reloads, each retired library closed"
    );
}

#[test]
fn a_garbage_library_is_a_failed_reload_and_v1_keeps_serving() {
    let dir = TempDir::new("watch-garbage");
    let (bundle, target) = bundle_copy(dir.path());
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(&bundle).unwrap();
    let events = runtime.subscribe();
    let _watch = runtime.watch_with(dir.path(), patient()).unwrap();
    let tally = under_load(&runtime, 4, |expect, _| {
        expect.set(100);
        std::fs::write(&target, b"\x7fELF but not a library at all").unwrap();
        let (outcome, _) = next_outcome(&events);
        assert!(
            matches!(&outcome, Event::ReloadFailed { bundle, .. } if *bundle == id),
            "{outcome:?}"
        );
        assert_eq!(version_of(&runtime, handle_of(&runtime)), 100, "v1 serves");
        // The watch goes on: the fixed file reloads.
        expect.set(0);
        std::fs::copy(library("reload-v2"), &target).unwrap();
        let (outcome, _) = next_outcome(&events);
        assert!(matches!(outcome, Event::Reloaded { .. }), "{outcome:?}");
        expect.set(200);
    });
    assert!(tally.v1.load(Ordering::Relaxed) > 0);
}

#[test]
fn a_library_written_in_chunks_is_read_only_once_whole() {
    let dir = TempDir::new("watch-chunks");
    let (bundle, target) = bundle_copy(dir.path());
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(&bundle).unwrap();
    let events = runtime.subscribe();
    // Pauses between chunks far shorter than the quiet period.
    let options = WatchOptions {
        quiet: Duration::from_secs(2),
    };
    let pause = Duration::from_millis(25);
    let _watch = runtime.watch_with(dir.path(), options).unwrap();
    let bytes = std::fs::read(library("reload-v2")).unwrap();
    let chunks = 8;
    let mut file = std::fs::File::create(&target).unwrap();
    for chunk in bytes.chunks(bytes.len().div_ceil(chunks)) {
        file.write_all(chunk).unwrap();
        file.flush().unwrap();
        std::thread::sleep(pause);
    }
    drop(file);
    let (outcome, before) = next_outcome(&events);
    assert!(
        matches!(&outcome, Event::Reloaded { bundle, .. } if *bundle == id),
        "the first reload read the whole library: {outcome:?}"
    );
    let reloads = before
        .iter()
        .filter(|e| matches!(e, Event::Reloading { .. }))
        .count();
    assert_eq!(reloads, 1, "one reload for the whole write: {before:?}");
    assert_eq!(version_of(&runtime, handle_of(&runtime)), 200);
}

#[test]
fn a_manifest_edit_reloads_the_bundle() {
    let dir = TempDir::new("watch-manifest");
    let (bundle, _) = bundle_copy(dir.path());
    let runtime = Runtime::new().unwrap();
    let id = runtime.load_bundle(&bundle).unwrap();
    let events = runtime.subscribe();
    let _watch = runtime.watch(dir.path()).unwrap();
    let manifest = bundle.join("manifest.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let edited = text.replacen("version = \"1.0.0\"", "version = \"1.1.0\"", 1);
    assert_ne!(edited, text);
    std::fs::write(&manifest, edited).unwrap();
    let (outcome, _) = next_outcome(&events);
    assert_eq!(
        outcome,
        Event::Reloaded {
            bundle: id,
            name: "reload-test".to_owned(),
            from: V1,
            to: Version::new(1, 1, 0),
        }
    );
}

/// Points `link` at `target` in one step, as a deployment flips `current`.
#[cfg(unix)]
fn flip(link: &Path, target: &Path) {
    let next = link.with_extension("next");
    let _ = std::fs::remove_file(&next);
    std::os::unix::fs::symlink(target, &next).unwrap();
    std::fs::rename(&next, link).unwrap();
}

#[cfg(unix)]
#[test]
fn a_flipped_symlink_reloads_the_bundle_it_names() {
    let dir = TempDir::new("watch-flip");
    let v1 = copy_bundle("reload-v1", dir.path()).unwrap();
    let v2 = copy_bundle("reload-v2", dir.path()).unwrap();
    let current = dir.path().join("current");
    flip(&current, &v1);
    let runtime = Runtime::new().unwrap();
    let events = runtime.subscribe();
    let _watch = runtime.watch(dir.path()).unwrap();
    // Loaded after the watch started: watched all the same.
    let id = runtime.load_bundle(&current).unwrap();
    let handle = handle_of(&runtime);
    flip(&current, &v2);
    let (outcome, _) = next_outcome(&events);
    assert!(
        matches!(&outcome, Event::Reloaded { bundle, .. } if *bundle == id),
        "{outcome:?}"
    );
    assert_eq!(version_of(&runtime, handle), 200, "current -> v2 serves v2");
    let info = runtime.bundles().pop().unwrap();
    assert_eq!(info.dir, std::fs::canonicalize(&v2).unwrap());
    flip(&current, &v1);
    let (outcome, _) = next_outcome(&events);
    assert!(matches!(outcome, Event::Reloaded { .. }), "{outcome:?}");
    assert_eq!(version_of(&runtime, handle), 100, "current -> v1 again");
}

#[test]
fn a_reload_reads_the_files_without_counting_that_as_a_change() {
    let dir = TempDir::new("watch-once");
    let (bundle, target) = bundle_copy(dir.path());
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(&bundle).unwrap();
    let events = runtime.subscribe();
    let _watch = runtime.watch_with(dir.path(), fast()).unwrap();
    std::fs::copy(library("reload-v2"), &target).unwrap();
    let (outcome, _) = next_outcome(&events);
    assert!(matches!(outcome, Event::Reloaded { .. }), "{outcome:?}");
    ten_quiet_periods();
    let again: Vec<Event> = events
        .try_iter()
        .filter(|e| matches!(e, Event::Reloading { .. }))
        .collect();
    assert!(again.is_empty(), "one change, one reload: {again:?}");
}

#[test]
fn a_dropped_watch_reloads_nothing_more() {
    let dir = TempDir::new("watch-drop");
    let (bundle, target) = bundle_copy(dir.path());
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(&bundle).unwrap();
    let events = runtime.subscribe();
    let watch = runtime.watch_with(dir.path(), fast()).unwrap();
    drop(watch);
    std::fs::copy(library("reload-v2"), &target).unwrap();
    ten_quiet_periods();
    let seen = drain_events(&events);
    assert!(seen.is_empty(), "no reload after the drop: {seen:?}");
    assert_eq!(version_of(&runtime, handle_of(&runtime)), 100);
}

#[test]
fn a_watch_outliving_its_runtime_ends_quietly() {
    let dir = TempDir::new("watch-outlive");
    let (bundle, target) = bundle_copy(dir.path());
    let runtime = Runtime::new().unwrap();
    runtime.load_bundle(&bundle).unwrap();
    let watch = runtime.watch_with(dir.path(), fast()).unwrap();
    drop(runtime);
    std::fs::copy(library("reload-v2"), &target).unwrap();
    assert!(watch.problems().is_empty());
    drop(watch); // joins a thread that finds no runtime: returns
}
