//! Randomized and PCT schedules of 6 threads and dozens of operations.
//!
//! Build with `RUSTFLAGS="--cfg shuttle"`: the store's atomics, lock and
//! threads are then shuttle's (`polyplug_store::sync`), and shuttle explores
//! one interleaving of them per iteration. Shuttle is sequentially
//! consistent, so these models check the protocol's *logic* (which step
//! comes first, what a reader may observe between two writer steps), not
//! memory orderings; the loom models check orderings.
//!
//! | scenario | threads | what must hold | planted-bug twin |
//! |---|---|---|---|
//! | (a) get vs replace | 1 writer, 5 readers | a read is a whole value ever written, not older than one already seen, and alive until the guard drops | `EagerReclaim` |
//! | (a') (a) through sessions | 1 writer, 5 readers | as (a), with a nested pin (a quiescent point) under each live guard; everything reclaimed at the end | `EagerReclaim` |
//! | (a'') (a) through lent guards | 1 writer, 5 readers | as (a), with a second lent guard under each live one, half the readers under an outer pin of their own; everything reclaimed at the end | `EagerReclaim`, `LendKeepsPin` |
//! | (b) generation reuse | 1 writer, 5 readers | an old handle never resolves to a newer value, nor at all once removed | `NoGenerationCheck`, `NoGenerationBump` |
//! | (c) find vs insert-then-remove | 1 writer, 5 readers | `find` is never `None` while a value is always live under the key | `NoFindRetry`, `UnindexAfterEmpty` |
//! | (d) revision | 1 writer, 5 readers | a reader that sees revision `r` sees commit `r`'s value | `RevisionBeforePublish` |
//!
//! Each scenario runs under `check_pct` (depth 3) and `check_random` for
//! `SHUTTLE_ITERATIONS` iterations each (default 10,000). Each twin runs the
//! same scenario on a store with one planted bug, with a fixed budget of at
//! most `TWIN_ITERATIONS`, and must panic. Shuttle's default config prints
//! the failing schedule on a panic, for `shuttle::replay`.
//!
//! Why (a)'s twin is `EagerReclaim`: shuttle is sequentially consistent, so
//! the ordering bugs that could tear a value (`RelaxedRead`,
//! `RelaxedPublish`) cannot show here, and the generation and index bugs do
//! not touch a replace. What (a) can see is a value destroyed under a reader:
//! its readers hold each value across a yield, and the value's destructor
//! raises a flag the reader checks, so the twin fails without reading freed
//! memory.
//!
//! Why (a'') has no `SharedLend` twin: two threads pinning one registration
//! at once is a missing happens-before edge, which a sequentially
//! consistent checker cannot see; under it the nested pins keep every value
//! alive. The loom models carry that twin.
#![cfg(shuttle)]

use std::sync::atomic::{AtomicBool as StdAtomicBool, AtomicUsize as StdAtomicUsize};

use polyplug_store::sync::{Arc, Mutex, thread};
use polyplug_store::{Bug, DefaultConfig, GetError, Guard, Handle, Store};

/// Iterations per scheduler for the models: `SHUTTLE_ITERATIONS`, default
/// 10,000.
fn iterations() -> usize {
    std::env::var("SHUTTLE_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

/// The most iterations a twin gets; it stops at its first failure.
const TWIN_ITERATIONS: usize = 10_000;

/// PCT bug depth.
const PCT_DEPTH: usize = 3;

/// Reader threads per scenario; the model's own thread is the writer.
const READERS: usize = 5;

/// Which scheduler runs a model.
#[derive(Debug, Clone, Copy)]
enum Sched {
    Pct,
    Random,
}

/// Runs `model` under `sched` for `iterations`, passing each iteration its
/// number (so that a twin's panic says how far it got), and checks that
/// every iteration ran.
fn run(
    sched: Sched,
    iterations: usize,
    counter: &'static StdAtomicUsize,
    model: impl Fn(usize) + Send + Sync + 'static,
) {
    let body = move || {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        model(n);
    };
    match sched {
        Sched::Pct => shuttle::check_pct(body, iterations, PCT_DEPTH),
        Sched::Random => shuttle::check_random(body, iterations),
    }
    // Reached only when no iteration failed: every one of them ran.
    assert_eq!(
        counter.load(std::sync::atomic::Ordering::Relaxed),
        iterations,
        "iterations run"
    );
}

/// A model run under both schedulers, `SHUTTLE_ITERATIONS` iterations each.
macro_rules! model {
    ($pct:ident, $random:ident, $model:ident) => {
        #[test]
        fn $pct() {
            static COUNT: StdAtomicUsize = StdAtomicUsize::new(0);
            run(Sched::Pct, iterations(), &COUNT, |i| $model(Bug::None, i));
        }

        #[test]
        fn $random() {
            static COUNT: StdAtomicUsize = StdAtomicUsize::new(0);
            run(Sched::Random, iterations(), &COUNT, |i| {
                $model(Bug::None, i)
            });
        }
    };
}

/// A planted-bug twin: the same model on a store with `$bug`, which must
/// panic with `$expected` within `TWIN_ITERATIONS` random schedules.
macro_rules! twin {
    ($name:ident, $model:ident, $bug:expr, $expected:literal) => {
        #[test]
        #[should_panic(expected = $expected)]
        fn $name() {
            static COUNT: StdAtomicUsize = StdAtomicUsize::new(0);
            run(Sched::Random, TWIN_ITERATIONS, &COUNT, |i| $model($bug, i));
        }
    };
}

// ---------------------------------------------------------------------------
// (a) get vs replace
// ---------------------------------------------------------------------------

/// A value whose four words are always equal; its destructor raises a flag
/// that readers holding it check.
#[derive(Debug)]
struct Words {
    words: [u64; 4],
    destroyed: std::sync::Arc<StdAtomicBool>,
}

impl Words {
    fn new(n: u64) -> Self {
        Self {
            words: [n; 4],
            destroyed: std::sync::Arc::new(StdAtomicBool::new(false)),
        }
    }
}

impl Drop for Words {
    fn drop(&mut self) {
        self.destroyed
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

const A_REPLACES: u64 = 24;
const A_READS: usize = 12;

fn model_get_vs_replace(bug: Bug, iteration: usize) {
    get_vs_replace(bug, iteration, Pinning::Reader);
}

/// (a) with every reader pinning per read through a [`Session`]: nested
/// pins under an anchor, a quiescent point at each pin, and a second pin
/// taken while the first guard still holds its value (\[S11\]).
///
/// [`Session`]: polyplug_store::Session
fn model_session_get_vs_replace(bug: Bug, iteration: usize) {
    get_vs_replace(bug, iteration, Pinning::Session);
}

/// (a) with every read through [`Store::with_lent_guard`], as plugin
/// lookups read (\[S9\]): registrations pass between the readers through
/// the store's pool, a second lent guard is taken while the first holds its
/// value, and half the readers read under an outer pin of their own reader,
/// as a lookup runs under the guard of the host call that reached it.
fn model_lent_get_vs_replace(bug: Bug, iteration: usize) {
    get_vs_replace(bug, iteration, Pinning::Lent);
}

/// How the readers of (a) pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pinning {
    /// `Reader::pin` per read.
    Reader,
    /// `Session::pin` per read, with a nested one while the value is held.
    Session,
    /// `Store::with_lent_guard` per read, with a nested one while the value
    /// is held.
    Lent,
}

/// Reads `h` under `guard`, holds the value across `pause` (a scheduling
/// point, with whatever nested pin the caller takes there), and checks it
/// is whole, alive, ever written and not older than `last`.
#[expect(
    clippy::expect_used,
    reason = "a failed store operation fails the model"
)]
fn hold(
    guard: &Guard<'_, Words>,
    h: Handle,
    last: &mut u64,
    iteration: usize,
    pause: impl FnOnce(),
) {
    let value = guard.get(h).expect("a replaced handle stays live");
    let destroyed = std::sync::Arc::clone(&value.destroyed);
    let first = value.words[0];
    pause();
    assert!(
        !destroyed.load(std::sync::atomic::Ordering::Relaxed),
        "value {first} destroyed while a guard holds it (iteration {iteration})"
    );
    assert_eq!(value.words, [first; 4], "torn value");
    assert!(first <= A_REPLACES, "{first} was never written");
    assert!(first >= *last, "read {first} after {last}");
    *last = first;
}

#[expect(
    clippy::expect_used,
    reason = "a failed store operation or a dead thread fails the model"
)]
fn get_vs_replace(bug: Bug, iteration: usize, pinning: Pinning) {
    let store: Arc<Store<Words>> = Arc::new(Store::with_planted_bug(bug));
    let h = store.insert(1, Words::new(0)).expect("insert");
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let reader = store.reader();
                let mut last = 0;
                match pinning {
                    // Hold the value across a scheduling point, as a caller
                    // does while it calls through a table.
                    Pinning::Reader => {
                        for _ in 0..A_READS {
                            hold(&reader.pin(), h, &mut last, iteration, thread::yield_now);
                        }
                    }
                    // A quiescent point under a live guard must not end it.
                    Pinning::Session => {
                        let session = reader.session();
                        for _ in 0..A_READS {
                            hold(&session.pin(), h, &mut last, iteration, || {
                                let nested = session.pin();
                                thread::yield_now();
                                drop(nested);
                            });
                        }
                    }
                    // A lent guard lives while another one is lent.
                    Pinning::Lent => {
                        for _ in 0..A_READS {
                            let outer = (r % 2 == 1).then(|| reader.pin());
                            store.with_lent_guard(|guard| {
                                hold(guard, h, &mut last, iteration, || {
                                    store.with_lent_guard(|_nested| thread::yield_now());
                                });
                            });
                            drop(outer);
                        }
                    }
                }
            })
        })
        .collect();
    for n in 1..=A_REPLACES {
        store.replace(h, Words::new(n)).expect("replace");
    }
    for r in readers {
        r.join().expect("reader");
    }
    let reader = store.reader();
    let guard = reader.pin();
    let value = guard.get(h).expect("get after the writes");
    assert_eq!(value.words, [A_REPLACES; 4]);
    drop(guard);
    store.reclaim();
    assert_eq!(store.pending(), 0, "every replaced value reclaimed");
}

model!(
    get_vs_replace_pct,
    get_vs_replace_random,
    model_get_vs_replace
);
twin!(
    get_vs_replace_twin_eager_reclaim,
    model_get_vs_replace,
    Bug::EagerReclaim,
    "destroyed while a guard holds it"
);

model!(
    session_get_vs_replace_pct,
    session_get_vs_replace_random,
    model_session_get_vs_replace
);
twin!(
    session_get_vs_replace_twin_eager_reclaim,
    model_session_get_vs_replace,
    Bug::EagerReclaim,
    "destroyed while a guard holds it"
);

model!(
    lent_get_vs_replace_pct,
    lent_get_vs_replace_random,
    model_lent_get_vs_replace
);
twin!(
    lent_get_vs_replace_twin_eager_reclaim,
    model_lent_get_vs_replace,
    Bug::EagerReclaim,
    "destroyed while a guard holds it"
);
twin!(
    lent_get_vs_replace_twin_lend_keeps_pin,
    model_lent_get_vs_replace,
    Bug::LendKeepsPin,
    "every replaced value reclaimed"
);

// ---------------------------------------------------------------------------
// (b) generation reuse
// ---------------------------------------------------------------------------

polyplug_store::config! {
    /// 4 slots of 7 generations: the writer's cycles reuse every slot, retire
    /// some, and grow the table.
    Tiny { index: 2, generation: 3, first_segment: 0 }
}

/// One issued handle, as the writer announces it to readers.
#[derive(Debug, Clone, Copy)]
struct Issued {
    handle: Handle<Tiny>,
    value: u64,
    /// The writer is about to remove it (set before `remove` starts).
    removing: bool,
    /// The writer removed it (set after `remove` returned).
    removed: bool,
}

/// Remove/insert cycles; two values live at a time.
const B_CYCLES: u64 = 24;
const B_READS: usize = 16;

#[expect(
    clippy::expect_used,
    reason = "a failed store operation or a dead thread fails the model"
)]
fn model_generation_reuse(bug: Bug, iteration: usize) {
    let store: Arc<Store<u64, u64, Tiny>> = Arc::new(Store::with_planted_bug(bug));
    let log: Arc<Mutex<Vec<Issued>>> = Arc::new(Mutex::new(Vec::new()));
    let announce = |log: &Mutex<Vec<Issued>>, handle, value| {
        log.lock().expect("log").push(Issued {
            handle,
            value,
            removing: false,
            removed: false,
        });
    };
    for value in 0..2 {
        let h = store.insert(value, value).expect("insert");
        announce(&log, h, value);
    }
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let store = Arc::clone(&store);
            let log = Arc::clone(&log);
            thread::spawn(move || {
                let reader = store.reader();
                for step in 0..B_READS {
                    // Oldest handles first for some readers, newest for
                    // others: both stale and live handles get looked up.
                    let (position, issued) = {
                        let log = log.lock().expect("log");
                        let position = if r % 2 == 0 {
                            (step * (r + 1)) % log.len()
                        } else {
                            log.len() - 1 - (step % log.len())
                        };
                        (position, log[position])
                    };
                    let got = reader.pin().get(issued.handle).copied();
                    let removing_after = log.lock().expect("log")[position].removing;
                    match got {
                        Ok(v) => {
                            assert_eq!(
                                v, issued.value,
                                "{:?} resolved to another value (iteration {iteration})",
                                issued.handle
                            );
                            assert!(
                                !issued.removed,
                                "{:?} resolved after it was removed (iteration {iteration})",
                                issued.handle
                            );
                        }
                        Err(e) => {
                            assert!(
                                removing_after,
                                "{:?} failed while live: {e:?} (iteration {iteration})",
                                issued.handle
                            );
                            assert!(
                                matches!(e, GetError::Removed { .. } | GetError::Stale { .. }),
                                "{e:?}"
                            );
                        }
                    }
                }
            })
        })
        .collect();
    for cycle in 0..B_CYCLES {
        let value = cycle + 2;
        let oldest = {
            let mut log = log.lock().expect("log");
            let Some(entry) = log.iter_mut().find(|e| !e.removing) else {
                unreachable!("two values are always live")
            };
            entry.removing = true;
            entry.handle
        };
        store.remove(oldest).expect("remove");
        {
            let mut log = log.lock().expect("log");
            for entry in log.iter_mut().filter(|e| e.handle == oldest) {
                entry.removed = true;
            }
        }
        let h = store.insert(value, value).expect("insert");
        announce(&log, h, value);
    }
    for r in readers {
        r.join().expect("reader");
    }
}

model!(
    generation_reuse_pct,
    generation_reuse_random,
    model_generation_reuse
);
twin!(
    generation_reuse_twin_no_generation_check,
    model_generation_reuse,
    Bug::NoGenerationCheck,
    "resolved"
);
twin!(
    generation_reuse_twin_no_generation_bump,
    model_generation_reuse,
    Bug::NoGenerationBump,
    "resolved"
);

// ---------------------------------------------------------------------------
// (c) find vs insert-then-remove under one key
// ---------------------------------------------------------------------------

const KEY: u64 = 0xC0FFEE;
const C_CYCLES: u64 = 20;
const C_FINDS: usize = 12;

#[expect(
    clippy::expect_used,
    reason = "a failed store operation or a dead thread fails the model"
)]
fn model_find_vs_reinsert(bug: Bug, iteration: usize) {
    let store: Arc<Store<u64>> = Arc::new(Store::with_planted_bug(bug));
    let mut live = store.insert(KEY, 0).expect("insert");
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let reader = store.reader();
                let mut last = 0;
                for _ in 0..C_FINDS {
                    let guard = reader.pin();
                    let found = guard.find(&KEY, |_| true);
                    assert!(
                        found.is_some(),
                        "find missed a key that always has a live value (iteration {iteration})"
                    );
                    if let Some((h, &v)) = found {
                        assert!(v <= C_CYCLES, "{v} was never written");
                        // Values grow with insertion order and a removed
                        // value never comes back.
                        assert!(v >= last, "found {v} after {last}");
                        last = v;
                        // It may have been removed since, but it never
                        // resolves to another value.
                        match guard.get(h) {
                            Ok(&again) => assert_eq!(again, v, "{h:?} changed value"),
                            Err(e) => assert!(
                                matches!(e, GetError::Removed { .. } | GetError::Stale { .. }),
                                "{e:?}"
                            ),
                        }
                    }
                }
            })
        })
        .collect();
    for value in 1..=C_CYCLES {
        if value % 2 == 0 {
            // Two commits: the new value is findable before the old goes.
            let next = store.insert(KEY, value).expect("insert");
            store.remove(live).expect("remove");
            live = next;
        } else {
            // One commit: the index swaps the old value for the new at once.
            let mut txn = store.write();
            let next = txn.insert(KEY, value).expect("insert");
            txn.remove(live).expect("remove");
            txn.commit();
            live = next;
        }
    }
    for r in readers {
        r.join().expect("reader");
    }
    let reader = store.reader();
    let guard = reader.pin();
    let all: Vec<u64> = guard.find_all(&KEY).map(|(_, &v)| v).collect();
    assert_eq!(all, [C_CYCLES]);
}

model!(
    find_vs_reinsert_pct,
    find_vs_reinsert_random,
    model_find_vs_reinsert
);
twin!(
    find_vs_reinsert_twin_no_find_retry,
    model_find_vs_reinsert,
    Bug::NoFindRetry,
    "find missed a key"
);
twin!(
    find_vs_reinsert_twin_unindex_after_empty,
    model_find_vs_reinsert,
    Bug::UnindexAfterEmpty,
    "find missed a key"
);

// ---------------------------------------------------------------------------
// (d) revision vs publish
// ---------------------------------------------------------------------------

const D_REPLACES: u64 = 24;
const D_READS: usize = 12;

#[expect(
    clippy::expect_used,
    reason = "a failed store operation or a dead thread fails the model"
)]
fn model_revision(bug: Bug, iteration: usize) {
    let store: Arc<Store<u64, u64, DefaultConfig>> = Arc::new(Store::with_planted_bug(bug));
    // Commit 1 is the insert of value 0; commit `1 + n` replaces it with `n`.
    let h = store.insert(KEY, 0).expect("insert");
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let reader = store.reader();
                for _ in 0..D_READS {
                    let guard = reader.pin();
                    let revision = guard.revision().0;
                    let committed = revision.saturating_sub(1);
                    let value = *guard.get(h).expect("get");
                    assert!(
                        value >= committed,
                        "revision {revision} seen but get gave {value} (iteration {iteration})"
                    );
                    let found = guard.find(&KEY, |_| true).map(|(_, &v)| v);
                    assert!(
                        found.is_some_and(|v| v >= committed),
                        "revision {revision} seen but find gave {found:?} (iteration {iteration})"
                    );
                }
            })
        })
        .collect();
    for n in 1..=D_REPLACES {
        store.replace(h, n).expect("replace");
        assert_eq!(store.revision().0, 1 + n);
    }
    for r in readers {
        r.join().expect("reader");
    }
}

model!(revision_pct, revision_random, model_revision);
twin!(
    revision_twin_revision_before_publish,
    model_revision,
    Bug::RevisionBeforePublish,
    "revision"
);
