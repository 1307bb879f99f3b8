//! The hot-reload scenarios of the earlier design's
//! `concurrent_reload_test.rs`, restated against this store with real OS
//! threads:
//!
//! 1. eight readers each resolve a contract's function table and call
//!    through it 10,000 times while the main thread swaps the table once,
//!    mid-flight; afterwards the contract resolves to v2;
//! 2. eight readers hammer `find` + `get` + call while a writer performs 60
//!    swaps alternating v1 and v2; afterwards everything retired is drained.
//!
//! Every call must return 100 (v1) or 200 (v2), and the value must agree
//! with the table's version field, so a torn or freed table would show. The
//! threads are sequenced with atomics and barriers only: no sleeps, and no
//! assertion depends on timing.
//!
//! Unlike the earlier design, readers never pin by hand around a raw
//! pointer: every `&Table` borrows the guard it was read under.
#![cfg(not(any(loom, shuttle)))]

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use polyplug_store::Store;

/// A contract's function table, as a plugin would export it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct Table {
    version: u32,
    call: extern "C" fn() -> u32,
}

extern "C" fn version_v1() -> u32 {
    100
}

extern "C" fn version_v2() -> u32 {
    200
}

const V1: Table = Table {
    version: 1,
    call: version_v1,
};

const V2: Table = Table {
    version: 2,
    call: version_v2,
};

const CONTRACT: u64 = 0xCAFE_F00D_0000_0001;
const READERS: usize = 8;

/// Calls through `table` and checks the answer against its version: a torn
/// table (one version's field with the other's function) would disagree.
fn call(table: &Table) -> u32 {
    let result = (table.call)();
    assert!(
        result == 100 || result == 200,
        "call returned {result}, not 100 or 200"
    );
    assert_eq!(
        result,
        table.version * 100,
        "table version {} returned {result}",
        table.version
    );
    result
}

/// Scenario 1: one swap while eight readers are mid-flight.
#[test]
fn dispatch_concurrent_with_reload() {
    const ITERATIONS: usize = 10_000;
    const SWAP_AFTER_CALLS: usize = 1_000;

    let store: Store<Table> = Store::new();
    let h = store.insert(CONTRACT, V1).expect("insert v1");
    let calls = AtomicUsize::new(0);
    let v1_calls = AtomicUsize::new(0);
    let v2_calls = AtomicUsize::new(0);

    thread::scope(|s| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                s.spawn(|| {
                    let reader = store.reader();
                    let mut completed = 0;
                    let mut saw_v2 = false;
                    for _ in 0..ITERATIONS {
                        let guard = reader.pin();
                        let table = guard.get(h).expect("the contract resolves during reload");
                        let result = call(table);
                        // One swap, so once v2 is seen v1 never comes back
                        // (read-read coherence on the slot's pointer).
                        assert!(!(saw_v2 && result == 100), "v1 seen after v2");
                        saw_v2 |= result == 200;
                        if result == 100 {
                            v1_calls.fetch_add(1, Ordering::Relaxed);
                        } else {
                            v2_calls.fetch_add(1, Ordering::Relaxed);
                        }
                        completed += 1;
                        // Release: the main thread's Acquire load of the count
                        // orders these calls before its swap.
                        calls.fetch_add(1, Ordering::Release);
                    }
                    completed
                })
            })
            .collect();

        // Swap only once readers are calling, so the swap races them. If a
        // reader died early, stop waiting; its join below reports why.
        while calls.load(Ordering::Acquire) < SWAP_AFTER_CALLS
            && !readers.iter().any(|r| r.is_finished())
        {
            std::hint::spin_loop();
        }
        store.replace(h, V2).expect("swap to v2");

        for reader in readers {
            let completed = reader.join().expect("reader thread must not panic");
            assert_eq!(completed, ITERATIONS, "every reader completes every call");
        }
    });

    let (v1, v2) = (
        v1_calls.load(Ordering::Relaxed),
        v2_calls.load(Ordering::Relaxed),
    );
    eprintln!("calls through v1: {v1}, through v2: {v2}");
    assert_eq!(v1 + v2, READERS * ITERATIONS);
    // The first SWAP_AFTER_CALLS calls happened before the swap.
    assert!(v1 >= SWAP_AFTER_CALLS, "only {v1} calls before the swap");

    let reader = store.reader();
    let guard = reader.pin();
    let after = guard.get(h).expect("the contract resolves after reload");
    assert_eq!(after.version, 2);
    // Calls, not function addresses: Rust does not promise that a function
    // has one address (sanitizer builds, for one, give it two).
    assert_eq!((after.call)(), 200);
    let (found, table) = guard.find(&CONTRACT, |_| true).expect("find after reload");
    assert_eq!(found, h);
    assert_eq!(call(table), 200);
    drop(guard);
    assert!(store.is_drained(store.drain_ticket()));
    assert_eq!(store.pending(), 0);
}

/// Scenario 2: sixty swaps under eight hammering readers.
#[test]
fn swaps_under_concurrent_reader_load() {
    const SWAPS: usize = 60;

    let store: Store<Table> = Store::new();
    let h = store.insert(CONTRACT, V1).expect("insert v1");
    let stop = AtomicBool::new(false);
    let calls = AtomicUsize::new(0);
    let start = Barrier::new(READERS + 1);

    thread::scope(|s| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                s.spawn(|| {
                    let reader = store.reader();
                    let mut completed = 0usize;
                    start.wait();
                    // At least one call per reader, then until stopped.
                    loop {
                        let guard = reader.pin();
                        let (found, table) = guard
                            .find(&CONTRACT, |_| true)
                            .expect("the contract is found during swaps");
                        assert_eq!(found, h, "a swap keeps the handle");
                        call(table);
                        let table = guard.get(found).expect("the found handle resolves");
                        call(table);
                        drop(guard);
                        completed += 1;
                        calls.fetch_add(1, Ordering::Release);
                        // Acquire: pairs with the Release store of `stop`.
                        if stop.load(Ordering::Acquire) {
                            break;
                        }
                    }
                    completed
                })
            })
            .collect();

        start.wait();
        for round in 0..SWAPS {
            let next = if round % 2 == 0 { V2 } else { V1 };
            // Acquire: pairs with the readers' Release increments.
            let before = calls.load(Ordering::Acquire);
            store
                .replace(h, next)
                .unwrap_or_else(|e| panic!("swap failed at round {round}: {e}"));
            // Let the readers make progress between swaps, so each swap
            // races reads instead of running back to back.
            while calls.load(Ordering::Acquire) < before + READERS
                && !readers.iter().any(|r| r.is_finished())
            {
                std::hint::spin_loop();
            }
        }
        stop.store(true, Ordering::Release);

        for reader in readers {
            let completed = reader.join().expect("reader thread must not panic");
            assert!(completed > 0, "every reader called at least once");
        }
    });

    eprintln!("calls during swaps: {}", calls.load(Ordering::Relaxed));
    // 60 swaps alternating from v1: the last one (round 59) put v1 back.
    let reader = store.reader();
    let guard = reader.pin();
    assert_eq!(guard.get(h).expect("resolves after swaps").version, 1);
    drop(guard);
    drop(reader);
    assert!(store.is_drained(store.drain_ticket()));
    assert_eq!(store.pending(), 0);
}
