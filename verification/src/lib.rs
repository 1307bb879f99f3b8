//! Models and property tests for `polyplug-store`.
//!
//! The tests live in `tests/`, one file per tool, each switched by the cfg
//! its tool needs:
//!
//! | file | runs under | what |
//! |---|---|---|
//! | `tests/loom_models.rs` | `--cfg loom` | every pair of concurrent operations, exhaustively, with the loom reclaimer |
//! | `tests/loom_epoch.rs` | `--cfg loom --cfg crossbeam_loom` | the 2-thread models again, with the real crossbeam-epoch |
//! | `tests/shuttle_models.rs` | `--cfg shuttle` | 4–8 threads, dozens of operations, randomized and PCT schedules |
//! | `tests/lifecycle_proptest.rs` | no cfg | a state machine of handle lifecycles against [`reference`](mod@reference) |
//! | `tests/handle_proptest.rs` | no cfg | handle packing round trips at production widths |
//! | `tests/seed_scenarios.rs` | no cfg | the reference hot-reload scenarios with real threads |
//!
//! Every model has a planted-bug twin (a store built with
//! `Store::with_planted_bug`) marked `should_panic`.
//!
//! This library holds what the tests share: the reference model the
//! property tests (and the fuzz targets) compare the store against, and the
//! loom-tracked payload.

pub mod reference;

#[cfg(loom)]
pub mod payload;
#[cfg(loom)]
pub mod scenarios;
