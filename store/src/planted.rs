//! Planted bugs, for model builds only.
//!
//! Every model in `verification/` has a twin that runs the same scenario with
//! one of these switched on and must fail, which shows the model can see
//! that class of bug. The switch exists only under `--cfg loom` or
//! `--cfg shuttle` (`Store::with_planted_bug`); in production builds the type
//! exists but no store can carry a bug, and every check folds to `false`.

/// One deliberate defect in the store's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bug {
    /// No defect.
    #[default]
    None,
    /// `get` loads the slot's node pointer with Relaxed instead of Acquire.
    RelaxedRead,
    /// Writers publish a node with Relaxed instead of Release.
    RelaxedPublish,
    /// `get` skips the generation check and returns whatever the slot holds.
    NoGenerationCheck,
    /// A reused slot keeps its old generation instead of bumping it.
    NoGenerationBump,
    /// Retired nodes skip deferral and go straight to the reclaim queue.
    EagerReclaim,
    /// Writers defer (and advance) the old node before unpublishing it.
    RetireBeforeUnpublish,
    /// The revision is bumped before the publish it announces.
    RevisionBeforePublish,
    /// The revision is bumped and read with Relaxed.
    RelaxedRevision,
    /// `find` gives up on the first dead handle instead of reloading the index.
    NoFindRetry,
    /// `remove` empties the slot before publishing the index without it.
    UnindexAfterEmpty,
    /// A [`Session`](crate::Session)'s quiescent point re-pins its anchor
    /// even while a guard made under it is still live.
    RepinUnderGuard,
    /// A re-pin of crossbeam-epoch's guard skips the SeqCst fence after it.
    RepinWithoutFence,
    /// [`Store::with_lent_guard`](crate::Store::with_lent_guard) pins a
    /// registration where it lies in the pool instead of taking it out, so
    /// two threads can pin one registration at once: what a pool would do
    /// that took a registration back before the pin made from it ended, or
    /// that handed registrations out without its lock.
    SharedLend,
    /// [`Store::with_lent_guard`](crate::Store::with_lent_guard) forgets its
    /// guard instead of dropping it, so the registration goes back to the
    /// pool still pinned.
    LendKeepsPin,
}
