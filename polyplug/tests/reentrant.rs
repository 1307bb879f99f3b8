//! Plugin code that calls back into its runtime while a write runs: from an
//! entry point, from a thread the entry point starts and waits for, and
//! from a library finaliser that `dlclose` runs. Queries answer, writes are
//! refused with `LoadError::Reentrant` naming both operations, and nothing
//! hangs. Each scenario runs on a thread of its own, and the test process
//! fails (aborts, naming the scenario) if it has not finished within
//! [`HANG`].
#![cfg(not(any(loom, shuttle, miri)))]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a failed step fails the test"
)]

#[expect(dead_code, reason = "this file needs only some of the shared helpers")]
mod common;

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use common::{TempDir, V1, call};
use polyplug::{
    BundleId, CalledFrom, HostContract, InProgress, LoadError, Operation, Runtime, Version,
};
use polyplug_fixtures::{bundle, copy_bundle};

/// Long enough for any honest run on a loaded machine; a scenario still
/// running then has deadlocked.
const HANG: Duration = Duration::from_secs(30);

/// What the host contract's `enter` runs, given the fixture's argument:
/// 0 from an entry point, 1 from a thread the entry point started, 2 from
/// a plugin call, 3 from a library finaliser.
type Hook = Arc<dyn Fn(u32) -> u32 + Send + Sync>;

/// One hook per test (tests run in parallel), picked by `enter::<N>`.
static HOOKS: [Mutex<Option<Hook>>; 6] = [const { Mutex::new(None) }; 6];

/// `test.reenter`'s typed `enter`: runs hook `N`. A panic in the hook is
/// caught (it must not unwind into the plugin) and the hook's records then
/// miss a step, which the test reports.
extern "C" fn enter<const N: usize>(from: u32) -> u32 {
    let hook = HOOKS[N]
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    match hook {
        Some(hook) => catch_unwind(AssertUnwindSafe(|| hook(from))).unwrap_or(0),
        None => 0,
    }
}

/// Installs hook `N` and registers `test.reenter` with `enter::<N>`.
fn install<const N: usize>(runtime: &Runtime, hook: impl Fn(u32) -> u32 + Send + Sync + 'static) {
    *HOOKS[N].lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(hook));
    runtime
        .register_host_contract(
            HostContract::new("test.reenter", V1)
                .typed("enter", enter::<N> as extern "C" fn(u32) -> u32),
        )
        .unwrap();
}

fn uninstall<const N: usize>() {
    *HOOKS[N].lock().unwrap_or_else(PoisonError::into_inner) = None;
}

/// Runs `scenario` on a thread of its own and returns its result. If it
/// has not finished within [`HANG`], reports which scenario hung and aborts
/// the test process: a thread deadlocked inside `dlclose` holds the dynamic
/// loader's lock, so every later `dlopen`, and a panic's backtrace, would
/// wait for ever too.
fn within<T: Send + 'static>(what: &str, scenario: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = channel();
    std::thread::spawn(move || {
        let _ = done.send(scenario());
    });
    match result.recv_timeout(HANG) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => {
            // Straight to the process's stderr: the harness's capture of
            // `eprintln!` would be lost in the abort.
            let _ = writeln!(
                std::io::stderr(),
                "{what}: still running after {HANG:?}: a re-entrant call deadlocked; aborting"
            );
            std::process::abort()
        }
        Err(RecvTimeoutError::Disconnected) => panic!("{what}: the scenario panicked"),
    }
}

fn names(runtime: &Runtime) -> Vec<String> {
    runtime.bundles().into_iter().map(|b| b.name).collect()
}

/// What a hook saw.
#[derive(Debug, Default)]
struct Seen {
    /// Each write tried, and what it returned.
    writes: Vec<(Operation, Result<(), LoadError>)>,
    /// The loaded bundles' names, from `bundles()`.
    names: Vec<Vec<String>>,
    /// Other answers, as text.
    notes: Vec<String>,
}

type Record = Arc<Mutex<Seen>>;

fn record() -> Record {
    Arc::new(Mutex::new(Seen::default()))
}

fn lock_seen(record: &Record) -> std::sync::MutexGuard<'_, Seen> {
    record.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Tries every write of `runtime` and records what each returned. `add` is
/// a loaded bundle, `dir` a directory holding a bundle not loaded.
fn try_every_write(runtime: &Runtime, add: BundleId, dir: &std::path::Path, record: &Record) {
    let writes = vec![
        (
            Operation::LoadBundle,
            runtime.load_bundle(bundle("c-mul")).map(drop),
        ),
        (Operation::LoadDir, runtime.load_dir(dir).map(drop)),
        (Operation::ReloadBundle, runtime.reload_bundle(add, None)),
        (Operation::UnloadBundle, runtime.unload_bundle(add)),
        (
            Operation::UnloadCascade,
            runtime.unload_cascade(add).map(drop),
        ),
        (
            Operation::RegisterHostContract,
            runtime
                .register_host_contract(HostContract::new("test.late", V1))
                .map(drop),
        ),
        (Operation::Reclaim, runtime.reclaim().map(drop)),
        (Operation::Drain, runtime.drain(Duration::from_secs(1))),
    ];
    let mut seen = lock_seen(record);
    seen.writes.extend(writes);
    seen.names.push(names(runtime));
}

/// Every write in `seen` was refused as re-entrant during `during`.
fn all_refused(seen: &Seen, during: &InProgress) {
    let tried: Vec<Operation> = seen.writes.iter().map(|(op, _)| *op).collect();
    assert_eq!(tried.len(), 8, "every write was tried: {tried:?}");
    for (operation, result) in &seen.writes {
        match result {
            Err(LoadError::Reentrant {
                operation: refused,
                during: found,
            }) => {
                assert_eq!(refused, operation);
                assert_eq!(found, during, "{operation} names the write in progress");
                let text = result.as_ref().unwrap_err().to_string();
                assert!(
                    text.starts_with(&format!("{operation} called re-entrantly during ")),
                    "{text}"
                );
                if let Some(bundle) = &during.bundle {
                    assert!(text.contains(&format!("bundle {bundle}")), "{text}");
                }
            }
            other => {
                panic!("{operation} from {during}: expected a re-entrant refusal, got {other:?}")
            }
        }
    }
}

#[test]
fn queries_answer_from_an_entry_point() {
    let (names_seen, names_after) = within("queries from an entry point", || {
        let runtime = Arc::new(Runtime::new().unwrap());
        let add = runtime.load_bundle(bundle("test-add")).unwrap();
        let seen = record();
        let (rt, record) = (Arc::clone(&runtime), Arc::clone(&seen));
        install::<0>(&runtime, move |_| {
            let mut s = record.lock().unwrap_or_else(PoisonError::into_inner);
            s.names.push(names(&rt));
            s.notes.push(format!("{:?}", rt.bundle_id("test-add")));
            s.notes.push(format!("{:?}", rt.bundle_id("reentrant")));
            s.notes
                .push(format!("opened {}", rt.library_stats().opened));
            s.notes.push(format!("{rt:?}"));
            let _ = rt.revision();
            0
        });
        runtime.load_bundle(bundle("reentrant")).unwrap();
        uninstall::<0>();
        let s = lock_seen(&seen);
        assert_eq!(s.notes[0], format!("{:?}", Some(add)));
        assert_eq!(
            s.notes[1], "None",
            "reentrant is not loaded while its init runs"
        );
        assert_eq!(s.notes[2], "opened 2", "test-add's library and reentrant's");
        assert!(s.notes[3].starts_with("Runtime"));
        (s.names.clone(), names(&runtime))
    });
    assert_eq!(names_seen, [vec!["test-add".to_owned()]]);
    assert_eq!(names_after, ["test-add", "reentrant"]);
}

/// Loads `test-add`, installs a hook that tries every write once armed,
/// runs `run` (which arms the hook, then runs `reentrant`'s entry point as
/// part of `outer`), and checks the refusals, the state after, and that
/// the runtime is usable after. `loaded` is what `bundles()` lists while
/// the hook runs; `opened` the libraries `run` opens.
fn every_write_is_refused_during<const N: usize>(
    outer: Operation,
    loaded: &'static [&'static str],
    opened: u64,
    run: impl FnOnce(&Runtime, &std::path::Path, &dyn Fn()) -> Result<(), LoadError> + Send + 'static,
) {
    within(&format!("every write during {outer}"), move || {
        let dir = TempDir::new("reentrant-writes");
        let mul_dir = TempDir::new("reentrant-writes-mul");
        copy_bundle("c-mul", mul_dir.path()).unwrap();
        let runtime = Arc::new(Runtime::new().unwrap());
        let other = Arc::new(Runtime::new().unwrap());
        let add = runtime.load_bundle(bundle("test-add")).unwrap();
        let seen = record();
        let armed = Arc::new(AtomicU32::new(0));
        let (rt, record, on, mul) = (
            Arc::clone(&runtime),
            Arc::clone(&seen),
            Arc::clone(&armed),
            mul_dir.path().to_owned(),
        );
        let elsewhere = Arc::clone(&other);
        install::<N>(&runtime, move |from| {
            // Relaxed: set and read on the scenario's thread, or ordered by
            // the load that runs this hook.
            if on.load(Ordering::Relaxed) == 0 {
                return 0;
            }
            if from == 2 {
                // A plugin call outside any write: a write here is not
                // re-entrant, and runs.
                let result = rt.unload_bundle(rt.bundle_id("c-mul").unwrap());
                lock_seen(&record)
                    .writes
                    .push((Operation::UnloadBundle, result));
                return 0;
            }
            try_every_write(&rt, add, &mul, &record);
            // Another runtime is not locked by this write.
            let result = elsewhere.load_bundle(bundle("c-mul")).map(drop);
            lock_seen(&record)
                .notes
                .push(format!("other runtime: {result:?}"));
            0
        });
        let before = runtime.library_stats().opened;
        run(&runtime, dir.path(), &|| armed.store(1, Ordering::Relaxed)).unwrap();
        armed.store(0, Ordering::Relaxed);

        let during = InProgress {
            operation: outer,
            bundle: Some("reentrant".to_owned()),
            from: CalledFrom::EntryPoint,
        };
        {
            let s = lock_seen(&seen);
            all_refused(&s, &during);
            assert_eq!(s.names, [loaded], "{outer}: what was loaded before");
            assert_eq!(s.notes, ["other runtime: Ok(())"], "{outer}");
        }
        // Nothing the refused writes named changed; the outer write did its work.
        assert_eq!(names(&runtime), ["test-add", "reentrant"], "{outer}");
        assert_eq!(
            runtime.library_stats().opened,
            before + opened,
            "{outer}: no refused write opened a library"
        );
        let reader = runtime.reader();
        {
            let guard = reader.pin();
            let add = guard.find("test.add", Version::new(1, 0, 0)).unwrap();
            assert_eq!(
                add.typed::<extern "C" fn(u32) -> u32>("inc")
                    .unwrap()
                    .call(1),
                2
            );
            assert!(
                guard.find("test.late", V1).is_err(),
                "{outer}: not registered"
            );
            assert!(
                guard.find("test.mul", V1).is_err(),
                "{outer}: c-mul not loaded"
            );
        }

        // Usable after, from this same thread: writes run, and a write from
        // a host contract that a plugin call reaches outside any write runs.
        runtime.load_bundle(bundle("c-mul")).unwrap();
        armed.store(1, Ordering::Relaxed);
        {
            let guard = reader.pin();
            let probe = guard.find("reentrant.probe", V1).unwrap();
            call(&probe, "call_host", 0, 0).unwrap();
        }
        armed.store(0, Ordering::Relaxed);
        let last = lock_seen(&seen).writes.pop().unwrap();
        assert!(
            matches!(last, (Operation::UnloadBundle, Ok(()))),
            "{last:?}"
        );
        assert_eq!(names(&runtime), ["test-add", "reentrant"]);
        runtime
            .unload_bundle(runtime.bundle_id("reentrant").unwrap())
            .unwrap();
        runtime.drain(HANG).unwrap();
        uninstall::<N>();
    });
}

#[test]
fn every_write_from_an_entry_point_during_a_load_is_refused_by_name() {
    every_write_is_refused_during::<1>(
        Operation::LoadBundle,
        &["test-add"],
        1,
        |runtime, _, arm| {
            arm();
            runtime.load_bundle(bundle("reentrant")).map(drop)
        },
    );
}

#[test]
fn every_write_from_an_entry_point_during_a_directory_load_is_refused_by_name() {
    every_write_is_refused_during::<2>(
        Operation::LoadDir,
        &["test-add"],
        1,
        |runtime, dir, arm| {
            copy_bundle("reentrant", dir).unwrap();
            arm();
            runtime.load_dir(dir).map(drop)
        },
    );
}

#[test]
fn every_write_from_an_entry_point_during_a_reload_is_refused_by_name() {
    let loaded = &["test-add", "reentrant"];
    every_write_is_refused_during::<3>(Operation::ReloadBundle, loaded, 2, |runtime, _, arm| {
        let id = runtime.load_bundle(bundle("reentrant"))?; // its init finds the hook disarmed
        arm();
        runtime.reload_bundle(id, None)
    });
}

#[test]
fn a_thread_the_entry_point_starts_and_waits_for_is_refused_not_deadlocked() {
    let seen = within("a write from a thread of the entry point", || {
        let runtime = Arc::new(Runtime::new().unwrap());
        runtime.load_bundle(bundle("test-add")).unwrap();
        let seen = record();
        let (rt, record) = (Arc::clone(&runtime), Arc::clone(&seen));
        install::<4>(&runtime, move |from| {
            if from == 0 {
                return 1; // start a thread and wait for it
            }
            let result = rt.load_bundle(bundle("c-mul")).map(drop);
            let mut s = lock_seen(&record);
            s.writes.push((Operation::LoadBundle, result));
            s.names.push(names(&rt));
            s.notes.push(format!("from {from}"));
            0
        });
        runtime.load_bundle(bundle("reentrant")).unwrap();
        uninstall::<4>();
        assert_eq!(names(&runtime), ["test-add", "reentrant"]);
        // The thread has ended: that runtime takes writes from anywhere.
        runtime.load_bundle(bundle("c-mul")).unwrap();
        Arc::try_unwrap(seen).unwrap().into_inner().unwrap()
    });
    assert_eq!(seen.notes, ["from 1"]);
    assert_eq!(
        seen.names,
        [vec!["test-add".to_owned()]],
        "queries answer there"
    );
    let during = InProgress {
        operation: Operation::LoadBundle,
        bundle: Some("reentrant".to_owned()),
        from: CalledFrom::PluginThread,
    };
    match &seen.writes[..] {
        [
            (
                Operation::LoadBundle,
                Err(LoadError::Reentrant {
                    operation,
                    during: found,
                }),
            ),
        ] => {
            assert_eq!(*operation, Operation::LoadBundle);
            assert_eq!(found, &during);
        }
        other => panic!("expected one re-entrant refusal, got {other:?}"),
    }
}

#[test]
fn a_library_finaliser_run_by_dlclose_is_refused_not_deadlocked() {
    let (seen, closed) = within("a write from a library finaliser", || {
        let runtime = Arc::new(Runtime::new().unwrap());
        let seen = record();
        let (rt, record) = (Arc::clone(&runtime), Arc::clone(&seen));
        install::<5>(&runtime, move |from| {
            let result = rt.load_bundle(bundle("c-mul")).map(drop);
            let mut s = lock_seen(&record);
            s.writes.push((Operation::LoadBundle, result));
            s.names.push(names(&rt));
            s.notes.push(format!("from {from}"));
            0
        });
        let id = runtime.load_bundle(bundle("reenter-fini")).unwrap();
        runtime.unload_bundle(id).unwrap();
        runtime.drain(HANG).unwrap();
        uninstall::<5>();
        assert!(names(&runtime).is_empty());
        runtime.load_bundle(bundle("c-mul")).unwrap();
        let closed = runtime.library_stats().closed;
        (Arc::try_unwrap(seen).unwrap().into_inner().unwrap(), closed)
    });
    assert_eq!(closed, 1, "reenter-fini's library was closed");
    assert_eq!(seen.notes, ["from 3"], "its finaliser called the host once");
    assert_eq!(seen.names, [Vec::<String>::new()], "queries answer there");
    match &seen.writes[..] {
        [(Operation::LoadBundle, Err(error @ LoadError::Reentrant { operation, during }))] => {
            assert_eq!(*operation, Operation::LoadBundle);
            assert_eq!(during.from, CalledFrom::LibraryClose, "{error}");
            // The close happens in the unload's own maintenance or in the
            // drain, whichever reclaims the tables first.
            assert!(
                matches!(
                    (during.operation, during.bundle.as_deref()),
                    (Operation::UnloadBundle, Some("reenter-fini")) | (Operation::Drain, None)
                ),
                "{error}"
            );
        }
        other => panic!("expected one re-entrant refusal, got {other:?}"),
    }
}
