//! The loom scenarios, shared by the model-reclaimer models
//! (`tests/loom_models.rs`) and the crossbeam-epoch models
//! (`tests/loom_epoch.rs`). Each takes the [`Bug`] to plant (`Bug::None` for
//! the real model) and panics when the store misbehaves.
//!
//! Like [`payload`](crate::payload), this module exists only in loom builds
//! and works only inside a loom model. A scenario becomes a test through
//! [`loom_model!`](crate::loom_model) and its planted-bug twin through
//! [`loom_twin!`](crate::loom_twin):
//!
//! ```text
//! model!(get_vs_remove, None, sc::get_vs_remove);
//! twin!(
//!     twin_get_vs_remove_eager_reclaim,
//!     None,
//!     sc::get_vs_remove,
//!     Bug::EagerReclaim,
//!     "Causality violation"
//! );
//! ```
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release -p polyplug-verification \
//!     --test loom_models -- --nocapture
//! ```

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a model fails by panicking; loom reports the panic with its schedule"
)]

use polyplug_store::sync::{Arc, thread};
use polyplug_store::{Bug, GetError, Guard, Store};

use crate::payload::{Payload, Tiny};

/// The store every scenario uses.
pub type ModelStore = Store<Payload, u64, Tiny>;

/// The key every scenario indexes under.
pub const KEY: u64 = 7;

/// The guard type of [`ModelStore`].
pub type ModelGuard<'r> = Guard<'r, Payload, u64, Tiny>;

fn store(bug: Bug) -> Arc<ModelStore> {
    Arc::new(ModelStore::with_planted_bug(bug))
}

/// Spawns a reader thread that registers, pins once, and runs `read` under
/// that guard.
fn spawn_pinned(
    store: &Arc<ModelStore>,
    read: impl FnOnce(&ModelGuard<'_>) + Send + 'static,
) -> thread::JoinHandle<()> {
    let store = Arc::clone(store);
    thread::spawn(move || {
        let reader = store.reader();
        let guard = reader.pin();
        read(&guard);
    })
}

/// A reader gets and reads the value while the writer replaces it (cases 1
/// and 3 of the write protocol): the reader sees v1 or v2, whole.
pub fn get_vs_replace(bug: Bug, readers: usize) {
    let store = store(bug);
    let h = store.insert(KEY, Payload::new(1)).unwrap();
    let threads: Vec<_> = (0..readers)
        .map(|_| {
            spawn_pinned(&store, move |guard| {
                let v = guard.get(h).unwrap().read();
                assert!(v == 1 || v == 2, "read {v:#x}");
            })
        })
        .collect();
    store.replace(h, Payload::new(2)).unwrap();
    for t in threads {
        t.join().unwrap();
    }
    let reader = store.reader();
    assert_eq!(reader.pin().get(h).unwrap().read(), 2);
}

/// A reader gets the value while the writer removes it (case 5): the reader
/// sees v1 whole, or `Removed`.
pub fn get_vs_remove(bug: Bug) {
    let store = store(bug);
    let h = store.insert(KEY, Payload::new(1)).unwrap();
    let t = spawn_pinned(&store, move |guard| match guard.get(h) {
        Ok(v) => assert_eq!(v.read(), 1),
        Err(e) => assert_eq!(e, GetError::Removed { handle: h }),
    });
    store.remove(h).unwrap();
    t.join().unwrap();
    assert!(store.reader().pin().get(h).is_err());
}

/// A reader holding an old handle races remove-then-reinsert into the same
/// slot (case 6, ABA): the old handle gives v1 or an error, never v2.
pub fn get_vs_remove_reinsert(bug: Bug) {
    let store = store(bug);
    let h = store.insert(KEY, Payload::new(1)).unwrap();
    let t = spawn_pinned(&store, move |guard| match guard.get(h) {
        Ok(v) => assert_eq!(v.read(), 1, "a stale handle resolved to the new value"),
        Err(GetError::Removed { .. } | GetError::Stale { .. }) => {}
        Err(e) => panic!("unexpected {e}"),
    });
    store.remove(h).unwrap();
    let h2 = store.insert(KEY, Payload::new(2)).unwrap();
    assert_eq!(h2.index(), h.index(), "the freed slot is reused");
    t.join().unwrap();
    let reader = store.reader();
    let guard = reader.pin();
    assert_eq!(guard.get(h2).unwrap().read(), 2);
    assert!(guard.get(h).is_err());
}

/// A reader that kept the slot's address (`Reader::slot_ref`) reads what
/// the slot holds now (`Guard::current`) while the writer replaces the
/// value: it sees v1 or v2, whole, each under the handle's generation.
pub fn current_vs_replace(bug: Bug) {
    let store = store(bug);
    let h = store.insert(KEY, Payload::new(1)).unwrap();
    let t = {
        let store = Arc::clone(&store);
        thread::spawn(move || {
            let reader = store.reader();
            let slot = reader.slot_ref(h).unwrap();
            let guard = reader.pin();
            let (generation, v) = guard.current(&slot).unwrap();
            let v = v.read();
            assert!(v == 1 || v == 2, "read {v:#x}");
            assert_eq!(generation, h.generation());
        })
    };
    store.replace(h, Payload::new(2)).unwrap();
    t.join().unwrap();
    let reader = store.reader();
    let slot = reader.slot_ref(h).unwrap();
    assert_eq!(reader.pin().current(&slot).unwrap().1.read(), 2);
}

/// A reader that kept the slot's address reads it while the writer
/// removes the value: v1 whole, or an empty slot. It reads through a
/// `PinnedSlot` (`Guard::pinned`), the batch path's read.
pub fn current_vs_remove(bug: Bug) {
    let store = store(bug);
    let h = store.insert(KEY, Payload::new(1)).unwrap();
    let t = {
        let store = Arc::clone(&store);
        thread::spawn(move || {
            let reader = store.reader();
            let slot = reader.slot_ref(h).unwrap();
            let guard = reader.pin();
            let pinned = guard.pinned(&slot).unwrap();
            if let Some((_, v)) = pinned.current() {
                assert_eq!(v.read(), 1);
            }
        })
    };
    store.remove(h).unwrap();
    t.join().unwrap();
    let reader = store.reader();
    let slot = reader.slot_ref(h).unwrap();
    assert!(reader.pin().current(&slot).is_none());
}

/// Two writers replace the same handle; one of them reads back under a pin
/// (cases 3 and 8 with writer contention): every value read is whole, the
/// final value is one of the two, and every old value is reclaimed once.
pub fn replace_vs_replace(bug: Bug) {
    let store = store(bug);
    let h = store.insert(KEY, Payload::new(1)).unwrap();
    let s = Arc::clone(&store);
    let t = thread::spawn(move || {
        s.replace(h, Payload::new(3)).unwrap();
        let reader = s.reader();
        let guard = reader.pin();
        let v = guard.get(h).unwrap().read();
        assert!(v == 2 || v == 3, "read {v:#x}");
    });
    store.replace(h, Payload::new(2)).unwrap();
    t.join().unwrap();
    let v = store.reader().pin().get(h).unwrap().read();
    assert!(v == 2 || v == 3);
    store.reclaim();
    assert_eq!(store.pending(), 0, "both old values reclaimed");
}

/// `find` races an insert of a second value under the key followed by the
/// removal of the first, as two commits (`txn == false`) or one
/// transaction (cases 2 and 4): since a value is live under the key at every
/// instant, `find` must always return one.
pub fn find_vs_insert_remove(bug: Bug, txn: bool) {
    let store = store(bug);
    let h1 = store.insert(KEY, Payload::new(1)).unwrap();
    let t = spawn_pinned(&store, move |guard| {
        let (_, v) = guard
            .find(&KEY, |_| true)
            .expect("a value is live at every instant");
        let v = v.read();
        assert!(v == 1 || v == 2, "read {v:#x}");
    });
    if txn {
        let mut w = store.write();
        w.insert(KEY, Payload::new(2)).unwrap();
        w.remove(h1).unwrap();
        w.commit();
    } else {
        store.insert(KEY, Payload::new(2)).unwrap();
        store.remove(h1).unwrap();
    }
    t.join().unwrap();
    let reader = store.reader();
    let guard = reader.pin();
    let all: Vec<u64> = guard.find_all(&KEY).map(|(_, v)| v.read()).collect();
    assert_eq!(all, [2]);
}

/// A reader that observes the revision of a replace also observes the
/// replaced value (case 7).
pub fn revision_vs_publish(bug: Bug) {
    let store = store(bug);
    let h = store.insert(KEY, Payload::new(1)).unwrap();
    let before = store.revision();
    // The reader pins first: the pin's fence must not stand between the
    // revision load and the get, or it would hide a weak revision ordering.
    let t = spawn_pinned(&store, move |guard| {
        let seen = guard.revision();
        let v = guard.get(h).unwrap().read();
        if seen > before {
            assert_eq!(v, 2, "revision announced a publish the reader cannot see");
        }
    });
    store.replace(h, Payload::new(2)).unwrap();
    t.join().unwrap();
}

/// A reader keeps a borrowed value across the writer's replace and explicit
/// reclaim (case 8): the old value is destroyed only after the guard ends.
pub fn reclaim_vs_pinned_reader(bug: Bug) {
    let store = store(bug);
    let h = store.insert(KEY, Payload::new(1)).unwrap();
    let t = spawn_pinned(&store, move |guard| {
        let v = guard.get(h).unwrap();
        thread::yield_now();
        let first = v.read();
        thread::yield_now();
        assert_eq!(v.read(), first, "a borrowed value changed under its guard");
        assert!(first == 1 || first == 2);
    });
    store.replace(h, Payload::new(2)).unwrap();
    store.reclaim();
    t.join().unwrap();
    store.reclaim();
    assert_eq!(
        store.pending(),
        0,
        "the old value is reclaimed once the guard is gone"
    );
}

/// A session reader calls twice, pinning per call, while the writer replaces
/// and reclaims (\[S11\]): each call sees v1 or v2 whole, the second call's
/// quiescent point lets v1 be reclaimed, and nothing is reclaimed under a
/// live guard.
pub fn session_quiescent_points(bug: Bug) {
    let store = store(bug);
    let h = store.insert(KEY, Payload::new(1)).unwrap();
    let s = Arc::clone(&store);
    let t = thread::spawn(move || {
        let reader = s.reader();
        let session = reader.session();
        let mut last = 0;
        for _ in 0..2 {
            let guard = session.pin();
            let v = guard.get(h).unwrap().read();
            assert!(v == 1 || v == 2, "read {v:#x}");
            assert!(v >= last, "went back from v{last} to v{v}");
            last = v;
        }
    });
    store.replace(h, Payload::new(2)).unwrap();
    store.reclaim();
    t.join().unwrap();
    store.reclaim();
    assert_eq!(
        store.pending(),
        0,
        "v1 is reclaimed once the session is gone"
    );
}

/// A session reader borrows a value, then pins again while the first guard
/// lives (\[S11\]): that quiescent point must not end the first guard's
/// protection, so the borrowed value stays whole through the writer's
/// replace and reclaim.
pub fn session_nested_pin_keeps_borrow(bug: Bug) {
    let store = store(bug);
    let h = store.insert(KEY, Payload::new(1)).unwrap();
    let s = Arc::clone(&store);
    let t = thread::spawn(move || {
        let reader = s.reader();
        let session = reader.session();
        let outer = session.pin();
        let v = outer.get(h).unwrap();
        let first = v.read();
        let inner = session.pin();
        let again = inner.get(h).unwrap().read();
        assert!(again >= first);
        assert_eq!(v.read(), first, "a borrowed value changed under its guard");
    });
    store.replace(h, Payload::new(2)).unwrap();
    store.reclaim();
    t.join().unwrap();
    store.reclaim();
    assert_eq!(store.pending(), 0);
}

/// Reads through lent guards while the writer replaces and reclaims
/// (\[S9\], \[S5\]): `readers` threads each read once through
/// [`Store::with_lent_guard`], and the model's own thread, after a lent read
/// of its own when `writer_reads`, replaces the value and reclaims. The
/// threads start with an empty pool, so whether a registration passes from
/// one thread to another, and which way, is decided by the schedule, through
/// the pool's lock alone. Every read is v1 or v2, whole and alive; after the
/// joins a lent read gives v2, and once reclaimed nothing is held back (no
/// registration went back to the pool pinned) or leaked (loom's leak check
/// of every payload).
pub fn lent_get_vs_replace(bug: Bug, readers: usize, writer_reads: bool) {
    let store = store(bug);
    let h = store.insert(KEY, Payload::new(1)).unwrap();
    let lent_read = move |store: &ModelStore| {
        store.with_lent_guard(|guard| {
            let v = guard.get(h).unwrap().read();
            assert!(v == 1 || v == 2, "read {v:#x} under a lent guard");
        });
    };
    let threads: Vec<_> = (0..readers)
        .map(|_| {
            let s = Arc::clone(&store);
            thread::spawn(move || lent_read(&s))
        })
        .collect();
    if writer_reads {
        lent_read(&store);
    }
    store.replace(h, Payload::new(2)).unwrap();
    store.reclaim();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.with_lent_guard(|g| g.get(h).unwrap().read()), 2);
    store.reclaim();
    assert_eq!(
        store.pending(),
        0,
        "v1 is reclaimed once every lent guard has ended"
    );
}
