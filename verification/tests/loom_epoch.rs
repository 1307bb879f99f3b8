//! The two-thread loom models again, with the real crossbeam-epoch
//! collector under loom (`--cfg loom --cfg crossbeam_loom`), and the
//! lent-guard model with three threads as well. Every model has a
//! planted-bug twin that must fail.
//!
//! ```text
//! RUSTFLAGS="--cfg loom --cfg crossbeam_loom" cargo test --release -p polyplug-verification --test loom_epoch -- --nocapture
//! ```
#![cfg(all(loom, crossbeam_loom))]

use polyplug_store::Bug;
use polyplug_verification::scenarios as sc;
use polyplug_verification::{loom_model as model, loom_twin as twin};

/// Preemption bound of the crossbeam-epoch models: crossbeam's pin, flush
/// and collection add dozens of atomic operations per write, so the state
/// space grows steeply with the bound (see verification/README.md).
const BOUND: Option<usize> = Some(3);
/// The ABA model makes two writes where the others make one; at 3 it does
/// not fit the CI budget.
const ABA_BOUND: Option<usize> = Some(2);

model!(epoch_get_vs_replace, BOUND, |bug| sc::get_vs_replace(
    bug, 1
));
twin!(
    twin_epoch_get_vs_replace_relaxed_publish,
    BOUND,
    |bug| sc::get_vs_replace(bug, 1),
    Bug::RelaxedPublish,
    "Causality violation"
);

model!(epoch_get_vs_remove, BOUND, sc::get_vs_remove);
twin!(
    twin_epoch_get_vs_remove_eager_reclaim,
    BOUND,
    sc::get_vs_remove,
    Bug::EagerReclaim,
    "Causality violation"
);

model!(epoch_aba, ABA_BOUND, sc::get_vs_remove_reinsert);
twin!(
    twin_epoch_aba_no_generation_check,
    ABA_BOUND,
    sc::get_vs_remove_reinsert,
    Bug::NoGenerationCheck,
    "a stale handle resolved to the new value"
);

model!(
    epoch_reclaim_vs_pinned_reader,
    BOUND,
    sc::reclaim_vs_pinned_reader
);
twin!(
    twin_epoch_reclaim_vs_pinned_reader_retire_before_unpublish,
    BOUND,
    sc::reclaim_vs_pinned_reader,
    Bug::RetireBeforeUnpublish,
    "Causality violation"
);

/// Sessions register a participant and pin twice under crossbeam's real
/// collector, which multiplies crossbeam's atomics; bound 2 fits the CI
/// budget (see verification/README.md).
const SESSION_BOUND: Option<usize> = Some(2);

model!(
    epoch_session_quiescent_points,
    SESSION_BOUND,
    sc::session_quiescent_points
);
model!(
    epoch_session_nested_pin_keeps_borrow,
    SESSION_BOUND,
    sc::session_nested_pin_keeps_borrow
);
twin!(
    twin_epoch_session_quiescent_points_repin_without_fence,
    SESSION_BOUND,
    sc::session_quiescent_points,
    Bug::RepinWithoutFence,
    "Causality violation"
);
twin!(
    twin_epoch_session_nested_pin_eager_reclaim,
    SESSION_BOUND,
    sc::session_nested_pin_keeps_borrow,
    Bug::EagerReclaim,
    "Causality violation"
);

/// Lent guards: a registration of the store's pool passes between threads
/// through its lock, and crossbeam's `LocalHandle` with it. Two threads run
/// at bound 2; at bound 3 the model takes six minutes (see
/// verification/README.md).
const LEND_BOUND: Option<usize> = Some(2);
/// Two lent readers and the writer: at bound 2 this takes 40 minutes, so
/// it runs at 1, and the two-thread model above goes deeper.
const LEND_THREE_THREADS_BOUND: Option<usize> = Some(1);

model!(epoch_lent_get_vs_replace, LEND_BOUND, |bug| {
    sc::lent_get_vs_replace(bug, 1, true)
});
twin!(
    twin_epoch_lent_get_vs_replace_shared_lend,
    LEND_BOUND,
    |bug| sc::lent_get_vs_replace(bug, 1, true),
    Bug::SharedLend,
    "Causality violation"
);
twin!(
    twin_epoch_lent_get_vs_replace_lend_keeps_pin,
    LEND_BOUND,
    |bug| sc::lent_get_vs_replace(bug, 1, true),
    Bug::LendKeepsPin,
    "v1 is reclaimed once every lent guard has ended"
);
model!(
    epoch_lent_get_vs_replace_two_readers,
    LEND_THREE_THREADS_BOUND,
    |bug| sc::lent_get_vs_replace(bug, 2, false)
);
twin!(
    twin_epoch_lent_get_vs_replace_two_readers_shared_lend,
    LEND_THREE_THREADS_BOUND,
    |bug| sc::lent_get_vs_replace(bug, 2, false),
    Bug::SharedLend,
    "Causality violation"
);
