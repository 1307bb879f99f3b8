//! The one place that names `std`, `loom` or `shuttle` primitives.
//!
//! Every other module imports atomics, locks, cells and threads from here, so
//! one cfg switches the whole crate between the real primitives and a model
//! checker's instrumented ones:
//!
//! | cfg | primitives |
//! |---|---|
//! | none | `std` |
//! | `--cfg loom` | `loom` (optionally with `--cfg crossbeam_loom`, which also moves crossbeam-epoch onto loom) |
//! | `--cfg shuttle` | `shuttle` |
//!
//! The cfgs are compiler flags, never Cargo features, so a plain
//! `cargo test --workspace` cannot switch a model on by accident.
//!
//! The module is public but hidden: the verification crate spawns threads and
//! builds payloads from the same primitives the store uses.

#[cfg(all(loom, shuttle))]
compile_error!("--cfg loom and --cfg shuttle are exclusive: pick one model checker");

#[cfg(not(any(loom, shuttle)))]
mod imp {
    pub use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};
    pub use std::sync::{Arc, Mutex, MutexGuard};
    pub use std::thread;
}

#[cfg(loom)]
mod imp {
    pub use loom::alloc::Track;
    pub use loom::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};
    pub use loom::sync::{Arc, Mutex, MutexGuard};
    pub use loom::thread;
}

#[cfg(all(shuttle, not(loom)))]
mod imp {
    pub use shuttle::sync::atomic::{
        AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
    };
    pub use shuttle::sync::{Arc, Mutex, MutexGuard};
    pub use shuttle::thread;
}

pub use imp::*;

/// True when the store was built for a model checker (`--cfg loom` or
/// `--cfg shuttle`). Its primitives then work only inside a model, so the
/// crate's doc examples return early: rustdoc does not see `RUSTFLAGS`,
/// but links the examples against the model build.
pub const MODEL_BUILD: bool = cfg!(any(loom, shuttle));

/// A cell whose every access goes through a closure, so that under loom each
/// read and write is checked for a happens-before edge with the last write.
///
/// Under `std` and shuttle it is a plain [`core::cell::UnsafeCell`].
#[derive(Debug)]
pub struct UnsafeCell<T>(
    #[cfg(loom)] loom::cell::UnsafeCell<T>,
    #[cfg(not(loom))] core::cell::UnsafeCell<T>,
);

impl<T> UnsafeCell<T> {
    /// Wraps `value`. Under loom, creation counts as a write.
    pub fn new(value: T) -> Self {
        #[cfg(loom)]
        return Self(loom::cell::UnsafeCell::new(value));
        #[cfg(not(loom))]
        return Self(core::cell::UnsafeCell::new(value));
    }

    /// Runs `f` with a read pointer to the contents.
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        #[cfg(loom)]
        return self.0.with(f);
        #[cfg(not(loom))]
        return f(self.0.get());
    }

    /// Runs `f` with a write pointer to the contents.
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        #[cfg(loom)]
        return self.0.with_mut(f);
        #[cfg(not(loom))]
        return f(self.0.get());
    }
}

/// Parks the calling OS thread for at most `timeout` (a drain waiting for
/// readers). Always the real `std` park: a drain wait is never modeled.
pub(crate) fn park_timeout(timeout: std::time::Duration) {
    std::thread::park_timeout(timeout);
}

/// Recovers the data of a poisoned lock.
///
/// Under the writer lock the store runs no value destructor (those run after
/// the lock is released); it does run the key type's `Clone`, `Hash` and
/// `Eq`. If one of those panics, the lock is poisoned mid-commit. Recovering
/// is memory-safe: slots and the index are only ever published whole, so
/// the worst outcome is bookkeeping that forgets a free slot or a key.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
