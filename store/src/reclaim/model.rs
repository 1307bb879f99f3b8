//! The model reclaimer: the [`Reclaim`] contract built from loom primitives
//! only, so that plain `--cfg loom` models see every atomic access.
//!
//! Readers count themselves in and out of one counter. A writer that has
//! unpublished a node runs the deferred steps waiting in limbo only when it
//! observes the counter at zero, after a `SeqCst` fence that pairs with the
//! fence each reader issues after counting itself in (a Dekker handshake):
//!
//! - if the writer's load misses a reader's increment, that reader's fence
//!   comes after the writer's in the single total order of `SeqCst` fences,
//!   so the reader's later load of the published pointer sees the unpublish
//!   and can never reach the retired node;
//! - if the load reads zero because readers left, it acquires their Release
//!   decrements, so all their reads happen before the destruction.
//!
//! Pins nest as crossbeam-epoch's do: each participant counts its own live
//! pins, only its outermost pin touches the shared counter, and a repin
//! while other pins of the same participant live is a no-op. That nesting
//! is what a [`Session`](crate::Session) builds on (\[S11\]).
//!
//! It can starve (readers that never all leave at once), which is fine for
//! bounded models and is why production uses crossbeam-epoch.

use crate::sync::{AtomicUsize, Mutex, Ordering, UnsafeCell, fence, lock};

use super::{Deferred, Reclaim};

/// A reader-counting reclaimer for loom models.
pub(crate) struct ModelReclaimer {
    /// Pins currently held.
    active: AtomicUsize,
    /// Deferred steps waiting for a moment with no pins.
    limbo: Mutex<Vec<Deferred>>,
}

// SAFETY: [S7] a `Deferred` holds pointers to a retired node and to the
// store's reclaim queue; both are safe to hand to whichever thread runs it.
unsafe impl Send for ModelReclaimer {}
// SAFETY: [S7][S9] limbo is behind a mutex and `active` is atomic; the
// mutex makes the limbo `Sync` because a `Deferred` may run on whichever
// thread calls `advance` (it only pushes a retired node onto the store's
// queue, see `Send` above).
unsafe impl Sync for ModelReclaimer {}

/// A thread's registration: how many of its pins are live.
#[derive(Default)]
pub(crate) struct ModelParticipant {
    depth: Depth,
}

/// A participant's pin count: unsynchronized state, like crossbeam's
/// `Local` counters, kept in a loom-checked cell. A participant may move
/// between threads (the writer's, under the writer lock; a lent one, through
/// the store's pool), and loom then checks that each use of it happens
/// before the next (\[S9\]): a registration used by two threads at once is a
/// reported causality violation, not an access loom cannot see.
struct Depth(UnsafeCell<usize>);

impl Default for Depth {
    fn default() -> Self {
        Self(UnsafeCell::new(0))
    }
}

impl Depth {
    fn get(&self) -> usize {
        // SAFETY: [S9] a participant is used by one thread at a time, and
        // loom checks this read against the last write.
        self.0.with(|p| unsafe { *p })
    }

    fn set(&self, depth: usize) {
        // SAFETY: [S9] as in `get`; loom checks this write against every
        // earlier access.
        self.0.with_mut(|p| unsafe { *p = depth });
    }
}

/// A pin. The participant's outermost pin holds one count in `active`;
/// nested pins only count in the participant.
pub(crate) struct ModelPin<'p> {
    active: &'p AtomicUsize,
    depth: &'p Depth,
}

impl ModelPin<'_> {
    /// Leaves and re-enters the shared count.
    fn cycle(&self) {
        // Release: as in `drop`, ends the old section.
        self.active.fetch_sub(1, Ordering::Release);
        // Relaxed + SeqCst fence: as in `pin`, starts the new one.
        self.active.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }
}

impl Drop for ModelPin<'_> {
    fn drop(&mut self) {
        let depth = self.depth.get() - 1;
        self.depth.set(depth);
        if depth == 0 {
            // Release: orders every read made under this pin before the
            // writer's Acquire load in `advance` that sees the count drop.
            self.active.fetch_sub(1, Ordering::Release);
        }
    }
}

impl Drop for ModelReclaimer {
    fn drop(&mut self) {
        // `&mut self`: the store is being dropped, so no pin exists.
        for deferred in lock(&self.limbo).drain(..) {
            // SAFETY: [S5] no pin can exist while the store is dropped, and
            // each step is drained, so runs once.
            unsafe { deferred.run() };
        }
    }
}

impl Reclaim for ModelReclaimer {
    type Participant = ModelParticipant;
    type Pin<'p> = ModelPin<'p>;

    fn new() -> Self {
        Self {
            active: AtomicUsize::new(0),
            limbo: Mutex::new(Vec::new()),
        }
    }

    fn participant(&self) -> ModelParticipant {
        ModelParticipant::default()
    }

    fn pin<'p>(&'p self, participant: &'p ModelParticipant) -> ModelPin<'p> {
        let depth = participant.depth.get();
        if depth == 0 {
            // Relaxed: the SeqCst fence below orders it before our later loads.
            self.active.fetch_add(1, Ordering::Relaxed);
            // SeqCst fence: pairs with the fence in `advance` (Dekker handshake).
            fence(Ordering::SeqCst);
        }
        participant.depth.set(depth + 1);
        ModelPin {
            active: &self.active,
            depth: &participant.depth,
        }
    }

    fn defer(&self, _participant: &ModelParticipant, deferred: Deferred) {
        lock(&self.limbo).push(deferred);
    }

    fn repin(pin: &mut ModelPin<'_>) {
        // Only the participant's only pin may leave the critical section:
        // a nested pin's section must not end under its siblings.
        if pin.depth.get() == 1 {
            pin.cycle();
        }
    }

    fn repin_ignoring_nesting(pin: &mut ModelPin<'_>) {
        pin.cycle();
    }

    fn advance(&self, _participant: &ModelParticipant) {
        let mut limbo = lock(&self.limbo);
        // SeqCst fence: pairs with the fence in `pin`; every unpublish the
        // waiting steps depend on was sequenced before it.
        fence(Ordering::SeqCst);
        // Acquire: synchronizes with the Release decrement of every pin that
        // has ended, so their reads happen before the pushes below.
        if self.active.load(Ordering::Acquire) == 0 {
            for deferred in limbo.drain(..) {
                // No pin is live and every step in limbo was deferred after
                // its node was unpublished; draining runs each step once.
                // SAFETY: [S5] so no reader can reach any of these nodes.
                unsafe { deferred.run() };
            }
        }
    }
}
