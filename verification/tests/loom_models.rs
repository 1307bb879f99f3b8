//! Loom models of every pair of concurrent store operations, with the loom
//! reclaimer (`--cfg loom`). Two-thread models run with no preemption bound,
//! so they explore every interleaving; the three-thread models run at 5
//! preemptions (`LOOM_MAX_PREEMPTIONS` overrides both). Every model has
//! planted-bug twins that must fail.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release -p polyplug-verification --test loom_models -- --nocapture
//! ```
#![cfg(all(loom, not(crossbeam_loom)))]

use polyplug_store::Bug;
use polyplug_verification::scenarios as sc;
use polyplug_verification::{loom_model as model, loom_twin as twin};

/// Two threads: no bound, every interleaving.
const ALL: Option<usize> = None;
/// Three threads: five preemptions.
const THREE_THREADS: Option<usize> = Some(5);

// get vs replace
model!(get_vs_replace, ALL, |bug| sc::get_vs_replace(bug, 1));
model!(get_vs_replace_two_readers, THREE_THREADS, |bug| {
    sc::get_vs_replace(bug, 2)
});
twin!(
    twin_get_vs_replace_relaxed_publish,
    ALL,
    |bug| sc::get_vs_replace(bug, 1),
    Bug::RelaxedPublish,
    "Causality violation"
);
twin!(
    twin_get_vs_replace_relaxed_read,
    ALL,
    |bug| sc::get_vs_replace(bug, 1),
    Bug::RelaxedRead,
    "Causality violation"
);
twin!(
    twin_get_vs_replace_two_readers_relaxed_read,
    THREE_THREADS,
    |bug| sc::get_vs_replace(bug, 2),
    Bug::RelaxedRead,
    "Causality violation"
);

// current (a kept slot address) vs replace and remove
model!(current_vs_replace, ALL, sc::current_vs_replace);
twin!(
    twin_current_vs_replace_relaxed_read,
    ALL,
    sc::current_vs_replace,
    Bug::RelaxedRead,
    "Causality violation"
);
twin!(
    twin_current_vs_replace_relaxed_publish,
    ALL,
    sc::current_vs_replace,
    Bug::RelaxedPublish,
    "Causality violation"
);
model!(current_vs_remove, ALL, sc::current_vs_remove);
twin!(
    twin_current_vs_remove_eager_reclaim,
    ALL,
    sc::current_vs_remove,
    Bug::EagerReclaim,
    "Causality violation"
);

// get vs remove
model!(get_vs_remove, ALL, sc::get_vs_remove);
twin!(
    twin_get_vs_remove_eager_reclaim,
    ALL,
    sc::get_vs_remove,
    Bug::EagerReclaim,
    "Causality violation"
);

// get vs remove-then-reinsert (ABA)
model!(get_vs_remove_reinsert_aba, ALL, sc::get_vs_remove_reinsert);
twin!(
    twin_get_vs_remove_reinsert_aba_no_generation_check,
    ALL,
    sc::get_vs_remove_reinsert,
    Bug::NoGenerationCheck,
    "a stale handle resolved to the new value"
);
twin!(
    twin_get_vs_remove_reinsert_aba_no_generation_bump,
    ALL,
    sc::get_vs_remove_reinsert,
    Bug::NoGenerationBump,
    "a stale handle resolved to the new value"
);

// replace vs replace
model!(replace_vs_replace, ALL, sc::replace_vs_replace);
twin!(
    twin_replace_vs_replace_retire_before_unpublish,
    ALL,
    sc::replace_vs_replace,
    Bug::RetireBeforeUnpublish,
    "Causality violation"
);

// find vs insert and remove
model!(find_vs_insert_remove, ALL, |bug| sc::find_vs_insert_remove(
    bug, false
));
model!(find_vs_txn_insert_remove, ALL, |bug| {
    sc::find_vs_insert_remove(bug, true)
});
twin!(
    twin_find_vs_insert_remove_no_find_retry,
    ALL,
    |bug| sc::find_vs_insert_remove(bug, false),
    Bug::NoFindRetry,
    "a value is live at every instant"
);
twin!(
    twin_find_vs_txn_insert_remove_unindex_after_empty,
    ALL,
    |bug| sc::find_vs_insert_remove(bug, true),
    Bug::UnindexAfterEmpty,
    "a value is live at every instant"
);

// revision vs publish
model!(revision_vs_publish, ALL, sc::revision_vs_publish);
twin!(
    twin_revision_vs_publish_revision_before_publish,
    ALL,
    sc::revision_vs_publish,
    Bug::RevisionBeforePublish,
    "revision announced a publish"
);
twin!(
    twin_revision_vs_publish_relaxed_revision,
    ALL,
    sc::revision_vs_publish,
    Bug::RelaxedRevision,
    "revision announced a publish"
);

// reclaim vs a pinned reader
model!(reclaim_vs_pinned_reader, ALL, sc::reclaim_vs_pinned_reader);
twin!(
    twin_reclaim_vs_pinned_reader_eager_reclaim,
    ALL,
    sc::reclaim_vs_pinned_reader,
    Bug::EagerReclaim,
    "Causality violation"
);
twin!(
    twin_reclaim_vs_pinned_reader_retire_before_unpublish,
    ALL,
    sc::reclaim_vs_pinned_reader,
    Bug::RetireBeforeUnpublish,
    "Causality violation"
);

// session: nested pins under an anchor, re-pinned at quiescent points
model!(session_quiescent_points, ALL, sc::session_quiescent_points);
model!(
    session_nested_pin_keeps_borrow,
    ALL,
    sc::session_nested_pin_keeps_borrow
);
twin!(
    twin_session_nested_pin_repin_under_guard,
    ALL,
    sc::session_nested_pin_keeps_borrow,
    Bug::RepinUnderGuard,
    "a borrowed value changed under its guard"
);
twin!(
    twin_session_quiescent_points_eager_reclaim,
    ALL,
    sc::session_quiescent_points,
    Bug::EagerReclaim,
    "Causality violation"
);

// lent guards: registrations passed between threads through the store's pool
model!(lent_get_vs_replace, ALL, |bug| sc::lent_get_vs_replace(
    bug, 1, true
));
model!(lent_get_vs_replace_two_readers, THREE_THREADS, |bug| {
    sc::lent_get_vs_replace(bug, 2, false)
});
twin!(
    twin_lent_get_vs_replace_shared_lend,
    ALL,
    |bug| sc::lent_get_vs_replace(bug, 1, true),
    Bug::SharedLend,
    "Causality violation"
);
twin!(
    twin_lent_get_vs_replace_lend_keeps_pin,
    ALL,
    |bug| sc::lent_get_vs_replace(bug, 1, true),
    Bug::LendKeepsPin,
    "v1 is reclaimed once every lent guard has ended"
);
twin!(
    twin_lent_get_vs_replace_two_readers_shared_lend,
    THREE_THREADS,
    |bug| sc::lent_get_vs_replace(bug, 2, false),
    Bug::SharedLend,
    "Causality violation"
);
