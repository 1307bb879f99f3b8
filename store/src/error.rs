//! Typed errors. Each names the handle it is about.
//!
//! The store depends on nothing but crossbeam-epoch, so these implement
//! `Display` and `Error` by hand.

use core::fmt;

use crate::config::Config;
use crate::handle::{Generation, Handle};

/// Why a handle did not resolve.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::{GetError, Store};
///
/// let store: Store<&str> = Store::new();
/// let h = store.insert(1, "v1").unwrap();
/// store.remove(h).unwrap();
/// let reader = store.reader();
/// let guard = reader.pin();
/// assert!(matches!(store.get(h, &guard), Err(GetError::Removed { .. })));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetError<C: Config> {
    /// The slot holds, or last held, a different generation: the value this
    /// handle named was removed and the slot reused (or the handle was forged).
    Stale {
        /// The handle that was looked up.
        handle: Handle<C>,
        /// The slot's current generation.
        current: Generation,
    },
    /// The value this handle named was removed and the slot is empty.
    Removed {
        /// The handle that was looked up.
        handle: Handle<C>,
    },
    /// No value was ever stored at this handle's index.
    OutOfRange {
        /// The handle that was looked up.
        handle: Handle<C>,
    },
    /// The guard was pinned on a different store, so it protects nothing here.
    ForeignGuard {
        /// The handle that was looked up.
        handle: Handle<C>,
    },
}

impl<C: Config> fmt::Display for GetError<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stale { handle, current } => write!(
                f,
                "stale handle ({handle}): the slot now holds generation {}",
                current.get()
            ),
            Self::Removed { handle } => write!(f, "handle ({handle}) names a removed value"),
            Self::OutOfRange { handle } => {
                write!(
                    f,
                    "handle ({handle}) is out of range: that slot was never used"
                )
            }
            Self::ForeignGuard { handle } => {
                write!(f, "guard belongs to another store (looking up {handle})")
            }
        }
    }
}

impl<C: Config> std::error::Error for GetError<C> {}

/// Why a write was refused. The store is unchanged.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::{Store, WriteError};
///
/// let store: Store<&str> = Store::new();
/// let h = store.insert(1, "v1").unwrap();
/// store.remove(h).unwrap();
/// let err = store.replace(h, "v2").unwrap_err();
/// assert!(matches!(err.error, WriteError::Handle(_)));
/// assert_eq!(err.value, Some("v2")); // the value comes back
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError<C: Config> {
    /// The handle does not name a live value.
    Handle(GetError<C>),
    /// Every slot is in use or retired (its generations are exhausted).
    Full {
        /// How many slots a store with this config has.
        capacity: u64,
    },
    /// The handle was already changed earlier in the same transaction.
    AlreadyStaged {
        /// The handle.
        handle: Handle<C>,
    },
}

impl<C: Config> fmt::Display for WriteError<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Handle(e) => e.fmt(f),
            Self::Full { capacity } => {
                write!(
                    f,
                    "store is full: all {capacity} slots are in use or retired"
                )
            }
            Self::AlreadyStaged { handle } => {
                write!(
                    f,
                    "handle ({handle}) was already replaced or removed in this transaction"
                )
            }
        }
    }
}

impl<C: Config> std::error::Error for WriteError<C> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Handle(e) => Some(e),
            _ => None,
        }
    }
}

/// A refused write, carrying back the value it did not store.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::{Store, WriteError};
///
/// polyplug_store::config! { TwoSlots { index: 1, generation: 1, first_segment: 0 } }
/// let store: Store<String, u64, TwoSlots> = Store::new();
/// store.insert(1, "a".to_string()).unwrap();
/// store.insert(2, "b".to_string()).unwrap();
/// let refused = store.insert(3, "c".to_string()).unwrap_err();
/// assert_eq!(refused.error, WriteError::Full { capacity: 2 });
/// assert_eq!(refused.value.as_deref(), Some("c")); // nothing is lost
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused<T, C: Config> {
    /// Why.
    pub error: WriteError<C>,
    /// The value the write would have stored, returned to the caller
    /// (`None` for `remove`, which stores nothing).
    pub value: Option<T>,
}

impl<T, C: Config> fmt::Display for Refused<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl<T: fmt::Debug, C: Config> std::error::Error for Refused<T, C> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// [`Store::wait_drained`](crate::Store::wait_drained) timed out.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use std::time::Duration;
/// use polyplug_store::Store;
///
/// let store: Store<u32> = Store::new();
/// let h = store.insert(1, 1).unwrap();
/// let reader = store.reader();
/// let guard = reader.pin(); // keeps the old value reachable
/// let ticket = store.replace(h, 2).unwrap();
/// let err = store.wait_drained(ticket, Duration::from_millis(1)).unwrap_err();
/// assert_eq!(err.pending, 1);
/// drop(guard);
/// store.wait_drained(ticket, Duration::from_secs(5)).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainTimeout {
    /// Values retired up to the ticket that still await reclamation.
    pub pending: usize,
}

impl fmt::Display for DrainTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed out waiting for retired values to drain: {} still referenced by readers",
            self.pending
        )
    }
}

impl std::error::Error for DrainTimeout {}
