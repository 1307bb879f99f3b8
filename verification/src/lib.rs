//! Models and property tests for `polyplug-store`: the evidence that the
//! store keeps the invariants `SAFETY.md` states.
//!
//! # The problem
//!
//! The store's guarantees (a reader sees a whole value, a handle resolves
//! only to its own value, nothing is destroyed while a guard can reach it)
//! are claims about every interleaving of readers and writers, and about
//! every sequence of inserts, replaces and removes. A unit test sees one
//! interleaving and a few sequences. So this crate checks the claims three
//! ways: loom explores every interleaving of small scenarios, shuttle runs
//! larger ones under random and PCT schedules, and proptest drives long
//! operation sequences against a plain reference model.
//!
//! # The concepts
//!
//! - [`reference::Reference`]: what a single-threaded store should answer,
//!   written as plainly as possible. The property tests and the differential
//!   fuzz target demand that the store agree with it after every operation.
//! - Scenarios (`scenarios`, loom builds only): small concurrent programs over
//!   a tiny config, each taking the bug to plant.
//! - Payloads (`payload`, loom builds only): numbers in loom-checked cells,
//!   so a missing Acquire/Release or a use after reclaim is a reported
//!   causality violation, and a leak a reported leak.
//! - Planted-bug twins: every model runs again on a store built with
//!   `Store::with_planted_bug`, and must fail, so each model is shown to
//!   catch the bug it is there for.
//!
//! The tests live in `tests/`, one file per tool, each switched by the cfg
//! its tool needs:
//!
//! | file | runs under | what |
//! |---|---|---|
//! | `tests/loom_models.rs` | `--cfg loom` | every pair of concurrent operations, exhaustively, with the loom reclaimer |
//! | `tests/loom_epoch.rs` | `--cfg loom --cfg crossbeam_loom` | the 2-thread models again, and lent guards with 3, with the real crossbeam-epoch |
//! | `tests/shuttle_models.rs` | `--cfg shuttle` | 4–8 threads, dozens of operations, randomized and PCT schedules |
//! | `tests/lifecycle_proptest.rs` | no cfg | a state machine of handle lifecycles against [`reference`](mod@reference) |
//! | `tests/handle_proptest.rs` | no cfg | handle packing round trips at production widths |
//! | `tests/seed_scenarios.rs` | no cfg | the reference hot-reload scenarios with real threads |
//!
//! ```text
//! cargo test -p polyplug-verification                      # proptest, seed scenarios
//! RUSTFLAGS="--cfg loom" cargo test --release               # loom (from the workspace root)
//! RUSTFLAGS="--cfg shuttle" cargo test --release -p polyplug-verification --test shuttle_models
//! ```
//!
//! # Guarantees
//!
//! - A plain `cargo test --workspace` runs the property tests and the seed
//!   scenarios; the models run only when their cfg is given, as compiler
//!   flags, so no Cargo feature can switch one on by accident.
//! - Each model names the `SAFETY.md` invariants it checks, and has a
//!   planted-bug twin marked `should_panic` with the expected message.
//! - The reference model never touches the store: a bug in the store
//!   cannot leak into the answer it is compared with.
//!
//! # Example
//!
//! The comparison every property test makes, one operation at a time:
//!
//! ```
//! # if polyplug_store::sync::MODEL_BUILD { return Ok(()); }
//! use polyplug_store::Store;
//! use polyplug_verification::reference::Reference;
//!
//! let store: Store<u32> = Store::new();
//! let mut model: Reference<u32> = Reference::new();
//! let h = store.insert(7, 1)?;
//! assert_eq!(model.insert(7, 1), Ok(h));
//! store.replace(h, 2)?;
//! model.replace(h, 2)?;
//! let reader = store.reader();
//! assert_eq!(reader.pin().find(&7, |_| true), model.find(&7, |_| true));
//! assert_eq!(store.revision().0, model.revision());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod reference;

#[cfg(loom)]
pub mod payload;
#[cfg(loom)]
pub mod scenarios;
