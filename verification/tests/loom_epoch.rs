//! The two-thread loom models again, with the real crossbeam-epoch
//! collector under loom (`--cfg loom --cfg crossbeam_loom`). Every model has
//! a planted-bug twin that must fail.
//!
//! ```text
//! RUSTFLAGS="--cfg loom --cfg crossbeam_loom" cargo test --release -p polyplug-verification --test loom_epoch -- --nocapture
//! ```
#![cfg(all(loom, crossbeam_loom))]

use polyplug_store::Bug;
use polyplug_verification::payload::check;
use polyplug_verification::scenarios as sc;

/// Preemption bound for the crossbeam-epoch models; see verification/README.md.
const BOUND: Option<usize> = Some(2);

macro_rules! model {
    ($name:ident, $body:expr) => {
        #[test]
        fn $name() {
            check(stringify!($name), BOUND, || $body(Bug::None));
        }
    };
}

macro_rules! twin {
    ($name:ident, $body:expr, $bug:expr, $expected:literal) => {
        #[test]
        #[should_panic(expected = $expected)]
        fn $name() {
            check(stringify!($name), BOUND, || $body($bug));
        }
    };
}

model!(epoch_get_vs_replace, |bug| sc::get_vs_replace(bug, 1));
twin!(
    twin_epoch_get_vs_replace_relaxed_publish,
    |bug| sc::get_vs_replace(bug, 1),
    Bug::RelaxedPublish,
    "Causality violation"
);

model!(epoch_get_vs_remove, sc::get_vs_remove);
twin!(
    twin_epoch_get_vs_remove_eager_reclaim,
    sc::get_vs_remove,
    Bug::EagerReclaim,
    "Causality violation"
);

model!(epoch_aba, sc::get_vs_remove_reinsert);
twin!(
    twin_epoch_aba_no_generation_check,
    sc::get_vs_remove_reinsert,
    Bug::NoGenerationCheck,
    "a stale handle resolved to the new value"
);

model!(epoch_reclaim_vs_pinned_reader, sc::reclaim_vs_pinned_reader);
twin!(
    twin_epoch_reclaim_vs_pinned_reader_retire_before_unpublish,
    sc::reclaim_vs_pinned_reader,
    Bug::RetireBeforeUnpublish,
    "Causality violation"
);
