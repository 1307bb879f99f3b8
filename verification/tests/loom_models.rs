//! Loom models of every pair of concurrent store operations, with the loom
//! reclaimer (`--cfg loom`). Two-thread models are exhaustive at 3
//! preemptions, three-thread models at 2 (`LOOM_MAX_PREEMPTIONS` overrides).
//! Every model has planted-bug twins that must fail.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release -p polyplug-verification --test loom_models -- --nocapture
//! ```
#![cfg(all(loom, not(crossbeam_loom)))]

use polyplug_store::Bug;
use polyplug_verification::payload::check;
use polyplug_verification::scenarios as sc;

macro_rules! model {
    ($name:ident, $bound:expr, $body:expr) => {
        #[test]
        fn $name() {
            check(stringify!($name), $bound, || $body(Bug::None));
        }
    };
}

macro_rules! twin {
    ($name:ident, $bound:expr, $body:expr, $bug:expr) => {
        #[test]
        #[should_panic]
        fn $name() {
            check(stringify!($name), $bound, || $body($bug));
        }
    };
}

// get vs replace
model!(get_vs_replace, 3, |bug| sc::get_vs_replace(bug, 1));
model!(get_vs_replace_two_readers, 2, |bug| sc::get_vs_replace(
    bug, 2
));
twin!(
    twin_get_vs_replace_relaxed_publish,
    3,
    |bug| sc::get_vs_replace(bug, 1),
    Bug::RelaxedPublish
);
twin!(
    twin_get_vs_replace_relaxed_read,
    3,
    |bug| sc::get_vs_replace(bug, 1),
    Bug::RelaxedRead
);
twin!(
    twin_get_vs_replace_two_readers_relaxed_read,
    2,
    |bug| sc::get_vs_replace(bug, 2),
    Bug::RelaxedRead
);

// get vs remove
model!(get_vs_remove, 3, sc::get_vs_remove);
twin!(
    twin_get_vs_remove_eager_reclaim,
    3,
    sc::get_vs_remove,
    Bug::EagerReclaim
);

// get vs remove-then-reinsert (ABA)
model!(get_vs_remove_reinsert_aba, 3, sc::get_vs_remove_reinsert);
twin!(
    twin_get_vs_remove_reinsert_aba_no_generation_check,
    3,
    sc::get_vs_remove_reinsert,
    Bug::NoGenerationCheck
);
twin!(
    twin_get_vs_remove_reinsert_aba_no_generation_bump,
    3,
    sc::get_vs_remove_reinsert,
    Bug::NoGenerationBump
);

// replace vs replace
model!(replace_vs_replace, 3, sc::replace_vs_replace);
twin!(
    twin_replace_vs_replace_retire_before_unpublish,
    3,
    sc::replace_vs_replace,
    Bug::RetireBeforeUnpublish
);

// find vs insert and remove
model!(find_vs_insert_remove, 3, |bug| sc::find_vs_insert_remove(
    bug, false
));
model!(find_vs_txn_insert_remove, 3, |bug| {
    sc::find_vs_insert_remove(bug, true)
});
twin!(
    twin_find_vs_insert_remove_no_find_retry,
    3,
    |bug| sc::find_vs_insert_remove(bug, false),
    Bug::NoFindRetry
);
twin!(
    twin_find_vs_txn_insert_remove_unindex_after_empty,
    3,
    |bug| sc::find_vs_insert_remove(bug, true),
    Bug::UnindexAfterEmpty
);

// revision vs publish
model!(revision_vs_publish, 3, sc::revision_vs_publish);
twin!(
    twin_revision_vs_publish_revision_before_publish,
    3,
    sc::revision_vs_publish,
    Bug::RevisionBeforePublish
);
twin!(
    twin_revision_vs_publish_relaxed_revision,
    3,
    sc::revision_vs_publish,
    Bug::RelaxedRevision
);

// reclaim vs a pinned reader
model!(reclaim_vs_pinned_reader, 3, sc::reclaim_vs_pinned_reader);
twin!(
    twin_reclaim_vs_pinned_reader_eager_reclaim,
    3,
    sc::reclaim_vs_pinned_reader,
    Bug::EagerReclaim
);
twin!(
    twin_reclaim_vs_pinned_reader_retire_before_unpublish,
    3,
    sc::reclaim_vs_pinned_reader,
    Bug::RetireBeforeUnpublish
);
