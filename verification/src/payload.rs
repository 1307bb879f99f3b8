//! Loom-tracked payloads and the model harness.
//!
//! A [`Payload`] keeps its number in a loom-checked cell. Creating it counts
//! as a write, reading it is checked against the last write, and dropping it
//! writes a poison value. So loom reports a causality violation when a
//! reader reads a payload whose publication it did not synchronize with
//! (a missing Acquire/Release), and when a payload is destroyed while a
//! reader could still read it (a use after reclaim). Its [`Track`] makes
//! loom report a payload that is never dropped (a leak).
//!
//! This module exists only in loom builds, and its items work only inside a
//! loom model, so its examples are text, written the way
//! `tests/loom_models.rs` uses these items. Run the models with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release -p polyplug-verification \
//!     --test loom_models -- --nocapture
//! ```

use std::time::Instant;

pub use polyplug_store::Bug;
use polyplug_store::sync::{Track, UnsafeCell};

/// The value written over a payload when it is dropped.
pub const POISON: u64 = 0xDEAD_DEAD_DEAD_DEAD;

/// A number in loom-tracked memory.
///
/// # Example
///
/// Inside a loom model (see the [module docs](self) for how to run one):
///
/// ```text
/// let store = ModelStore::new();
/// let h = store.insert(KEY, Payload::new(1)).unwrap();
/// let reader = store.reader();
/// assert_eq!(reader.pin().get(h).unwrap().read(), 1); // checked by loom
/// ```
#[derive(Debug)]
pub struct Payload {
    cell: UnsafeCell<u64>,
    _track: Track<()>,
}

// SAFETY: [S2] the cell is written only while the payload is exclusively
// owned (construction, drop); shared access only reads it through `with`,
// which loom checks for a happens-before edge with those writes.
unsafe impl Sync for Payload {}

impl Payload {
    /// A payload holding `value`.
    pub fn new(value: u64) -> Self {
        Self {
            cell: UnsafeCell::new(value),
            _track: Track::new(()),
        }
    }

    /// Reads the number; loom checks this read against every write.
    pub fn read(&self) -> u64 {
        // SAFETY: [S2] shared reads only; writes happen with exclusive access
        // and loom checks the ordering of this read against them.
        self.cell.with(|p| unsafe { *p })
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        // SAFETY: [S6] `&mut self`: no other reference exists, unless the
        // store has a planted bug, which loom then reports right here.
        self.cell.with_mut(|p| unsafe { *p = POISON });
    }
}

polyplug_store::config! {
    /// The tiny config of every loom model: 4 slots, generations 1 to 3, first
    /// segment of one slot, so reuse and growth happen in a few operations.
    pub Tiny { index: 2, generation: 2, first_segment: 0 }
}

/// Branches one execution may take (loom's default is 1,000).
pub const MAX_BRANCHES: usize = 20_000;

/// Runs `model` under loom, exhaustively up to `bound` preemptions (`None`:
/// no bound, every interleaving), or `LOOM_MAX_PREEMPTIONS` when set, and
/// prints the executions explored and the time taken.
///
/// # Example
///
/// In a `--cfg loom` test:
///
/// ```text
/// #[test]
/// fn get_vs_remove() {
///     check("get_vs_remove", None, || scenarios::get_vs_remove(Bug::None));
/// }
/// ```
///
/// The execution counter lives outside the model on purpose: it is a
/// plain `std` atomic because loom's own primitives are reset for every
/// execution.
pub fn check(name: &str, bound: Option<usize>, model: impl Fn() + Sync + Send + 'static) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let mut builder = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
        builder.preemption_bound = bound;
    }
    // An execution through crossbeam-epoch's pin, flush and collection is
    // long; loom's default of 1,000 branches per execution cuts some short.
    if std::env::var_os("LOOM_MAX_BRANCHES").is_none() {
        builder.max_branches = MAX_BRANCHES;
    }
    let executions = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&executions);
    let start = Instant::now();
    builder.check(move || {
        // Relaxed: a statistic, read after the model has finished.
        counter.fetch_add(1, Ordering::Relaxed);
        model();
    });
    eprintln!(
        "loom model {name}: {} executions, preemption bound {}, {:.2?}",
        // Relaxed: the model has finished; no other thread touches it.
        executions.load(Ordering::Relaxed),
        builder
            .preemption_bound
            .map_or_else(|| "none".to_string(), |b| b.to_string()),
        start.elapsed()
    );
}

/// Declares a loom model test: `$body(Bug::None)` under [`check`] with
/// preemption bound `$bound`.
///
/// # Example
///
/// From `tests/loom_models.rs` (`--cfg loom`):
///
/// ```text
/// use polyplug_verification::{loom_model as model, scenarios as sc};
///
/// model!(get_vs_replace, None, |bug| sc::get_vs_replace(bug, 1));
/// ```
#[macro_export]
macro_rules! loom_model {
    ($name:ident, $bound:expr, $body:expr) => {
        #[test]
        fn $name() {
            $crate::payload::check(stringify!($name), $bound, || {
                $body($crate::payload::Bug::None)
            });
        }
    };
}

/// Declares a planted-bug twin: `$body($bug)` under [`check`], which must
/// panic with a message containing `$expected`.
///
/// # Example
///
/// From `tests/loom_models.rs` (`--cfg loom`):
///
/// ```text
/// use polyplug_verification::{loom_twin as twin, scenarios as sc};
///
/// twin!(
///     twin_get_vs_replace_relaxed_read,
///     None,
///     |bug| sc::get_vs_replace(bug, 1),
///     Bug::RelaxedRead,
///     "Causality violation"
/// );
/// ```
#[macro_export]
macro_rules! loom_twin {
    ($name:ident, $bound:expr, $body:expr, $bug:expr, $expected:literal) => {
        #[test]
        #[should_panic(expected = $expected)]
        fn $name() {
            $crate::payload::check(stringify!($name), $bound, || $body($bug));
        }
    };
}
