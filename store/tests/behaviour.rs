//! Black-box behaviour of the store with real threads. Small enough for Miri.
#![cfg(not(any(loom, shuttle)))]

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, ThreadId};

use polyplug_store::{DrainTicket, GetError, QUIESCENT_EVERY, Store, WriteError};

/// Counts its drops and records the thread each ran on.
#[derive(Debug)]
struct Probe {
    id: u32,
    drops: Arc<Mutex<Vec<(u32, ThreadId)>>>,
}

impl Drop for Probe {
    #[expect(
        clippy::unwrap_used,
        reason = "a poisoned probe log should fail the test"
    )]
    fn drop(&mut self) {
        self.drops
            .lock()
            .unwrap()
            .push((self.id, thread::current().id()));
    }
}

fn probe(id: u32, drops: &Arc<Mutex<Vec<(u32, ThreadId)>>>) -> Probe {
    Probe {
        id,
        drops: Arc::clone(drops),
    }
}

polyplug_store::config! {
    Tiny { index: 2, generation: 2, first_segment: 0 }
}

#[test]
fn lifecycle_and_error_kinds() {
    let store: Store<&str> = Store::new();
    let h = store.insert(1, "v1").unwrap();
    let reader = store.reader();
    assert_eq!(*reader.pin().get(h).unwrap(), "v1");
    store.replace(h, "v2").unwrap();
    assert_eq!(*reader.pin().get(h).unwrap(), "v2");
    store.remove(h).unwrap();
    assert_eq!(reader.pin().get(h), Err(GetError::Removed { handle: h }));
    let h2 = store.insert(1, "v3").unwrap();
    assert_eq!(h2.index(), h.index(), "a freed slot is reused");
    assert_eq!(
        h2.generation().get(),
        h.generation().get() + 1,
        "with a bumped generation"
    );
    assert_eq!(
        reader.pin().get(h),
        Err(GetError::Stale {
            handle: h,
            current: h2.generation()
        })
    );
    let never = polyplug_store::Handle::new(polyplug_store::Index::new(5), h.generation()).unwrap();
    assert_eq!(
        reader.pin().get(never),
        Err(GetError::OutOfRange { handle: never })
    );
    let err = store.replace(h, "x").unwrap_err();
    assert_eq!(err.value, Some("x"));
    assert!(matches!(
        err.error,
        WriteError::Handle(GetError::Stale { .. })
    ));
    assert!(err.to_string().contains("stale handle"), "{err}");
}

#[test]
fn old_values_live_until_their_guard_drops() {
    let drops = Arc::new(Mutex::new(Vec::new()));
    let store: Store<Probe> = Store::new();
    let h = store.insert(1, probe(1, &drops)).unwrap();
    let reader = store.reader();
    let guard = reader.pin();
    let old = guard.get(h).unwrap();
    let ticket = store.replace(h, probe(2, &drops)).unwrap();
    store.reclaim();
    assert!(
        drops.lock().unwrap().is_empty(),
        "v1 is borrowed under a live guard"
    );
    assert_eq!(old.id, 1);
    assert_eq!(store.pending(), 1);
    assert!(!store.is_drained(ticket));
    drop(guard);
    assert!(store.is_drained(ticket));
    assert_eq!(store.pending(), 0);
    assert_eq!(
        drops
            .lock()
            .unwrap()
            .iter()
            .map(|d| d.0)
            .collect::<Vec<_>>(),
        [1]
    );
    drop(reader);
    drop(store);
    let ids: Vec<u32> = drops.lock().unwrap().iter().map(|d| d.0).collect();
    assert_eq!(ids, [1, 2], "every value dropped exactly once");
}

#[test]
fn destructors_never_run_on_reader_threads() {
    let drops = Arc::new(Mutex::new(Vec::new()));
    let store: Store<Probe> = Store::new();
    let h = store.insert(1, probe(0, &drops)).unwrap();
    let stop = AtomicBool::new(false);
    let rounds: u32 = if cfg!(miri) { 10 } else { 300 };
    let reader_ids: Vec<ThreadId> = thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let reader = store.reader();
                    while !stop.load(Ordering::Relaxed) {
                        let guard = reader.pin();
                        assert!(guard.get(h).unwrap().id <= rounds);
                    }
                    thread::current().id()
                })
            })
            .collect();
        for id in 1..=rounds {
            store.replace(h, probe(id, &drops)).unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert!(store.is_drained(store.drain_ticket()));
    let drops = drops.lock().unwrap();
    assert_eq!(drops.len(), rounds as usize, "all retired values reclaimed");
    for (id, tid) in drops.iter() {
        assert!(
            !reader_ids.contains(tid),
            "value {id} was dropped on a reader thread"
        );
    }
}

#[test]
fn find_in_insertion_order_and_transactions() {
    let store: Store<u32> = Store::new();
    let a = store.insert(7, 1).unwrap();
    let b = store.insert(7, 2).unwrap();
    store.insert(8, 3).unwrap();
    let reader = store.reader();
    {
        let guard = reader.pin();
        assert_eq!(guard.find(&7, |_| true).map(|(h, _)| h), Some(a));
        assert_eq!(guard.find(&7, |v| *v == 2).map(|(h, _)| h), Some(b));
        assert_eq!(
            guard.find_all(&7).map(|(h, _)| h).collect::<Vec<_>>(),
            [a, b]
        );
    }
    let rev = store.revision();
    {
        let mut txn = store.write();
        let c = txn.insert(9, 4).unwrap();
        txn.remove(a).unwrap();
        assert!(
            matches!(txn.remove(a), Err(e) if e.error == WriteError::AlreadyStaged { handle: a })
        );
        assert_eq!(
            *reader.pin().get(c).unwrap(),
            4,
            "inserted value resolves at once"
        );
        // dropped: abort
    }
    assert_eq!(store.revision(), rev, "abort changes nothing visible");
    let guard = reader.pin();
    assert!(guard.find(&9, |_| true).is_none());
    assert_eq!(*guard.get(a).unwrap(), 1, "staged remove was discarded");
    drop(guard);
    let ticket: DrainTicket = store.remove(a).unwrap();
    assert!(store.is_drained(ticket));
    assert_eq!(
        reader
            .pin()
            .find_all(&7)
            .map(|(h, _)| h)
            .collect::<Vec<_>>(),
        [b]
    );
    assert!(store.revision() > rev);
}

#[test]
fn exhausted_slots_retire_and_the_store_fills() {
    let store: Store<u32, u64, Tiny> = Store::new();
    // 4 slots x 3 generations: 12 inserts in all, then full.
    let mut inserted = 0;
    loop {
        match store.insert(1, inserted) {
            Ok(h) => {
                inserted += 1;
                store.remove(h).unwrap();
            }
            Err(e) => {
                assert_eq!(e.error, WriteError::Full { capacity: 4 });
                assert_eq!(e.value, Some(inserted));
                break;
            }
        }
    }
    assert_eq!(inserted, 12);
}

#[test]
fn wait_drained_times_out_while_another_thread_holds_a_guard() {
    let store: Store<u32> = Store::new();
    let h = store.insert(1, 1).unwrap();
    let (pinned_tx, pinned_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let store = &store;
    thread::scope(|s| {
        s.spawn(move || {
            let reader = store.reader();
            let guard = reader.pin();
            let _v = guard.get(h).unwrap();
            pinned_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
        pinned_rx.recv().unwrap();
        let ticket = store.replace(h, 2).unwrap();
        let err = store
            .wait_drained(ticket, std::time::Duration::from_millis(20))
            .unwrap_err();
        assert_eq!(err.pending, 1);
        release_tx.send(()).unwrap();
    });
    store
        .wait_drained(store.drain_ticket(), std::time::Duration::from_secs(10))
        .unwrap();
}

#[test]
fn many_stores_do_not_share_epochs() {
    let a: Store<u32> = Store::new();
    let b: Store<u32> = Store::new();
    let ha = a.insert(1, 1).unwrap();
    let hb = b.insert(1, 1).unwrap();
    let reader_a = a.reader();
    let _held = reader_a.pin();
    let ticket = b.replace(hb, 2).unwrap();
    assert!(
        b.is_drained(ticket),
        "a pin on store a does not hold back store b"
    );
    let ta = a.replace(ha, 2).unwrap();
    assert!(!a.is_drained(ta));
}

#[test]
fn concurrent_readers_see_whole_values() {
    let store: Store<[u64; 4]> = Store::new();
    let h = store.insert(1, [0; 4]).unwrap();
    let done = AtomicUsize::new(0);
    let rounds: u64 = if cfg!(miri) { 8 } else { 500 };
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let reader = store.reader();
                while done.load(Ordering::Relaxed) == 0 {
                    let guard = reader.pin();
                    let v = guard.get(h).unwrap();
                    assert!(v.iter().all(|x| *x == v[0]), "torn value {v:?}");
                }
            });
        }
        for i in 1..=rounds {
            store.replace(h, [i; 4]).unwrap();
        }
        done.store(1, Ordering::Relaxed);
    });
}

#[test]
fn session_pins_reclaim_at_quiescent_points() {
    let drops = Arc::new(Mutex::new(Vec::new()));
    let dropped = |drops: &Arc<Mutex<Vec<(u32, ThreadId)>>>| -> Vec<u32> {
        drops.lock().unwrap().iter().map(|d| d.0).collect()
    };
    let store: Store<Probe> = Store::new();
    let h = store.insert(1, probe(1, &drops)).unwrap();
    let reader = store.reader();
    let session = reader.session();

    // A guard from the session protects what it borrows, even across a
    // quiescent point (a second session pin) taken while it lives.
    let outer = session.pin();
    let old = outer.get(h).unwrap();
    let ticket = store.replace(h, probe(2, &drops)).unwrap();
    let inner = session.pin();
    assert_eq!(inner.get(h).unwrap().id, 2);
    store.reclaim();
    assert!(
        dropped(&drops).is_empty(),
        "v1 is borrowed under a live guard"
    );
    assert_eq!(old.id, 1);
    drop(inner);
    drop(outer);

    // With no guard live, every QUIESCENT_EVERYth session pin is a quiescent
    // point: the anchor follows the epoch and v1 is reclaimed while the
    // session stays open.
    for _ in 0..8 * QUIESCENT_EVERY {
        drop(session.pin());
        store.reclaim();
        if store.is_drained(ticket) {
            break;
        }
    }
    assert!(store.is_drained(ticket), "quiescent points let v1 go");
    assert_eq!(dropped(&drops), [1]);

    // An idle session holds back reclamation until it pins again or drops.
    let ticket = store.replace(h, probe(3, &drops)).unwrap();
    for _ in 0..8 {
        store.reclaim();
    }
    assert!(!store.is_drained(ticket), "an idle session holds v2");
    drop(session);
    store.reclaim();
    assert!(store.is_drained(ticket));
    assert_eq!(dropped(&drops), [1, 2]);
}

#[test]
fn a_lent_guard_protects_what_it_reads_and_holds_nothing_back_after() {
    let rounds: u32 = if cfg!(miri) { 5 } else { 1_000 };
    let replaces: u32 = if cfg!(miri) { 5 } else { 48 };
    let drops = Arc::new(Mutex::new(Vec::new()));
    let ids = |drops: &Arc<Mutex<Vec<(u32, ThreadId)>>>| -> Vec<u32> {
        drops.lock().unwrap().iter().map(|d| d.0).collect()
    };
    let store: Store<Probe> = Store::new();
    let h = store.insert(1, probe(1, &drops)).unwrap();
    // v1 stays alive while the lent guard that read it lives, even when the
    // writer replaces and reclaims meanwhile.
    let ticket = store.with_lent_guard(|guard| {
        let old = guard.get(h).unwrap();
        let ticket = store.replace(h, probe(2, &drops)).unwrap();
        store.reclaim();
        assert!(ids(&drops).is_empty(), "v1 is borrowed under a lent guard");
        assert_eq!(old.id, 1);
        ticket
    });
    assert!(
        store.is_drained(ticket),
        "the lent guard ended with the call"
    );
    assert_eq!(ids(&drops), [1]);
    // Lent guards nest, run on many threads at once, and under an outer pin
    // of the same thread, without holding back reclamation once they end.
    let reader = store.reader();
    let outer = reader.pin();
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..rounds {
                    store.with_lent_guard(|guard| {
                        let inner = store.with_lent_guard(|g| g.get(h).unwrap().id);
                        assert!(inner >= 2 && guard.get(h).unwrap().id >= 2);
                    });
                }
            });
        }
        for id in 3..=replaces {
            store.replace(h, probe(id, &drops)).unwrap();
        }
    });
    assert_eq!(outer.get(h).unwrap().id, replaces);
    drop(outer);
    let ticket = store.replace(h, probe(replaces + 1, &drops)).unwrap();
    store.reclaim();
    assert!(
        store.is_drained(ticket),
        "no lent registration stays pinned"
    );
    drop(reader);
    drop(store);
    let mut dropped = ids(&drops);
    dropped.sort_unstable();
    assert_eq!(
        dropped,
        (1..=replaces + 1).collect::<Vec<_>>(),
        "every value dropped once"
    );
}

#[test]
fn lent_guards_under_outer_pins_on_many_threads_keep_what_they_read() {
    // What a plugin's lookups do: each thread reads through lent guards
    // while it holds a pin of its own reader (the host call's guard), and
    // registrations pass between the threads through the pool.
    let rounds: u32 = if cfg!(miri) { 3 } else { 300 };
    let lookups: u32 = if cfg!(miri) { 2 } else { 4 };
    let replaces: u32 = if cfg!(miri) { 6 } else { 64 };
    let drops = Arc::new(Mutex::new(Vec::new()));
    let destroyed = |id: u32| drops.lock().unwrap().iter().any(|d: &(u32, _)| d.0 == id);
    let store: Store<Probe> = Store::new();
    let h = store.insert(1, probe(1, &drops)).unwrap();
    let writer = thread::current().id();
    let written = AtomicBool::new(false);
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let reader = store.reader();
                // At least `rounds` rounds, and on until the writer is done.
                let mut round = 0;
                while round < rounds || !written.load(Ordering::Relaxed) {
                    round += 1;
                    let outer = reader.pin();
                    let held = outer.get(h).unwrap();
                    let seen = held.id;
                    for _ in 0..lookups {
                        store.with_lent_guard(|guard| {
                            let value = guard.get(h).unwrap();
                            assert!(value.id >= seen, "{} read after {seen}", value.id);
                            assert!(
                                !destroyed(value.id),
                                "v{} destroyed under a lent guard",
                                value.id
                            );
                            let nested = store.with_lent_guard(|g| g.get(h).unwrap().id);
                            assert!(nested >= value.id);
                            assert!(
                                !destroyed(value.id),
                                "v{} destroyed under a lent guard",
                                value.id
                            );
                        });
                    }
                    assert!(outer.get(h).unwrap().id >= seen);
                    assert!(!destroyed(held.id), "v{seen} destroyed under the outer pin");
                }
            });
        }
        for id in 2..=replaces {
            store.replace(h, probe(id, &drops)).unwrap();
            store.reclaim();
        }
        written.store(true, Ordering::Relaxed);
    });
    store.reclaim();
    assert!(
        store.is_drained(store.drain_ticket()),
        "no lent registration stays pinned once the readers are gone"
    );
    {
        let drops = drops.lock().unwrap();
        let mut ids: Vec<u32> = drops.iter().map(|d| d.0).collect();
        ids.sort_unstable();
        assert_eq!(
            ids,
            (1..replaces).collect::<Vec<_>>(),
            "each replaced value dropped once"
        );
        assert!(
            drops.iter().all(|d| d.1 == writer),
            "destructors run on the writer's thread, never in a lent read"
        );
    }
}
