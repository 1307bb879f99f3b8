//! The production reclaimer: crossbeam-epoch with a collector the store owns.
//!
//! The store never touches crossbeam's global collector, so stores do not
//! share epochs (a reader pinned in one store never delays another) and
//! several runtimes can live in one process.
//!
//! Pinning is crossbeam's: the outermost pin of a participant publishes its
//! epoch with a full fence; a nested pin under an existing one only bumps a
//! counter. The writer side keeps one participant for the store's lifetime
//! and touches it only under the writer lock (`store::WriterParticipant`).

use crossbeam_epoch::{Collector, Guard, LocalHandle};

use super::{Deferred, Reclaim};
use crate::sync::{Ordering, fence};

/// crossbeam-epoch behind the [`Reclaim`] contract.
pub(crate) struct EpochReclaimer {
    collector: Collector,
}

/// How many times `advance` flushes. A bag sealed in epoch `e` is collected
/// once the global epoch reaches `e + 2`, and each flush tries one advance
/// and collects at most 8 bags; `Store::reclaim` repeats `advance` while it
/// makes progress.
const ADVANCE_FLUSHES: usize = 3;

impl Reclaim for EpochReclaimer {
    type Participant = LocalHandle;
    type Pin<'p> = Guard;

    fn new() -> Self {
        Self {
            collector: Collector::new(),
        }
    }

    fn participant(&self) -> LocalHandle {
        self.collector.register()
    }

    #[inline]
    fn pin<'p>(&'p self, participant: &'p LocalHandle) -> Guard {
        participant.pin()
    }

    fn defer(&self, participant: &LocalHandle, deferred: Deferred) {
        let guard = participant.pin();
        // The caller unpublished the node before calling `defer`; crossbeam
        // calls the closure once, after every pin older than `guard` ends.
        // SAFETY: [S5] so when it runs, no reader can reach the node.
        let push = move || unsafe { deferred.run() };
        // The closure only pushes (one CAS; no lock, allocation or destructor).
        // SAFETY: [S5][S7] so it may run on any thread, later; its pointers outlive it.
        unsafe { guard.defer_unchecked(push) };
    }

    fn repin(pin: &mut Guard) {
        pin.repin();
        // SeqCst fence: crossbeam's `repin` loads the global epoch Relaxed
        // and stores the new local epoch with no fence, so a load after it
        // could still read a pointer unpublished before the epoch it moved
        // to, and that node's bag can be freed once the epoch advances past
        // the new local one (loom found this schedule). The fence makes a
        // re-pin what an outermost pin is, a local epoch store followed by
        // F_R, so steps 3 to 5 of the reclamation argument apply (\[S11\]).
        fence(Ordering::SeqCst);
    }

    fn repin_without_fence(pin: &mut Guard) {
        pin.repin();
    }

    fn advance(&self, participant: &LocalHandle) {
        for _ in 0..ADVANCE_FLUSHES {
            participant.pin().flush();
        }
    }
}
