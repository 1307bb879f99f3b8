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
//! It can starve (readers that never all leave at once), which is fine for
//! bounded models and is why production uses crossbeam-epoch.

use crate::sync::{AtomicUsize, Mutex, Ordering, fence, lock};

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

/// A pin: one count in `active` until dropped.
pub(crate) struct ModelPin<'p> {
    active: &'p AtomicUsize,
}

impl Drop for ModelPin<'_> {
    fn drop(&mut self) {
        // Release: orders every read made under this pin before the writer's
        // Acquire load in `advance` that sees the count drop.
        self.active.fetch_sub(1, Ordering::Release);
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
    type Participant<'d> = ();
    type Pin<'p> = ModelPin<'p>;

    fn new() -> Self {
        Self {
            active: AtomicUsize::new(0),
            limbo: Mutex::new(Vec::new()),
        }
    }

    fn participant(&self) {}

    fn pin<'p>(&'p self, _participant: &'p ()) -> ModelPin<'p> {
        // Relaxed: the SeqCst fence below orders it before our later loads.
        self.active.fetch_add(1, Ordering::Relaxed);
        // SeqCst fence: pairs with the fence in `advance` (Dekker handshake).
        fence(Ordering::SeqCst);
        ModelPin {
            active: &self.active,
        }
    }

    fn defer(&self, _participant: &(), deferred: Deferred) {
        lock(&self.limbo).push(deferred);
    }

    fn repin(pin: &mut ModelPin<'_>) {
        // Release: as in `ModelPin::drop`, ends the old section.
        pin.active.fetch_sub(1, Ordering::Release);
        // Relaxed + SeqCst fence: as in `pin`, starts the new one.
        pin.active.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }

    fn advance(&self, _participant: &()) {
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
