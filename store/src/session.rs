//! Sessions: a reader that stays pinned between calls, so that pinning per
//! call costs no fence.
//!
//! # The problem
//!
//! A [`Guard`] held across many calls is the cheapest way to read, but it
//! holds back reclamation for as long as it lives, and a host that
//! re-resolves a handle on every call wants one guard per call. An
//! outermost pin publishes the reader's epoch and then needs a full fence
//! (`lock cmpxchg` on x86), which costs several times a plain function call.
//!
//! # The design (\[S11\])
//!
//! A [`Session`] pins its reader once, when it is made: the *anchor*. Every
//! [`Session::pin`] after that is a *nested* pin under the anchor, which
//! only bumps a per-thread counter: no fence, no shared write. Every
//! [`QUIESCENT_EVERY`]th `Session::pin` is also a *quiescent point*: before
//! nesting the new guard, it re-pins the anchor to the current epoch and
//! issues a SeqCst fence, as an outermost pin does; the countdown spreads
//! that fence over many calls. The
//! re-pin is skipped while any other guard of the same reader is live,
//! because ending the anchor's critical section then would end theirs too:
//! the reclaimer checks the nesting depth itself, so no call order can make
//! a live guard lose its protection.
//!
//! The price: an idle session holds back reclamation from its last pin
//! until it is dropped. Keep a session while a thread calls; drop it when
//! the thread goes idle (or use [`Reader::pin`], which holds nothing between
//! guards).
//!
//! A guard from a session cannot outlive it:
//!
//! ```compile_fail,E0597
//! use polyplug_store::Store;
//!
//! let store: Store<u32> = Store::new();
//! let h = store.insert(1, 1).unwrap();
//! let reader = store.reader();
//! let guard;
//! {
//!     let session = reader.session();
//!     guard = session.pin();
//! } // session dropped here while `guard` still borrows it
//! let _ = guard.get(h);
//! ```

use core::cell::Cell;
use core::fmt;
use core::hash::Hash;

use crate::config::{Config, DefaultConfig};
use crate::guard::{Guard, Reader};
use crate::planted::Bug;
use crate::reclaim::{ActiveReclaimer, Reclaim};

/// How many [`Session::pin`]s pass between two quiescent points. A
/// quiescent point costs a fence, so this amortizes it; model builds make
/// every pin one, so the models see each.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::{QUIESCENT_EVERY, Store};
///
/// let store: Store<u32> = Store::new();
/// let h = store.insert(1, 1).unwrap();
/// let reader = store.reader();
/// let session = reader.session();
/// let ticket = store.replace(h, 2).unwrap();
/// assert!(!store.is_drained(ticket)); // the anchor may still reach 1
/// // Quiescent points let the old value go while the session lives.
/// let drained = (0..4 * QUIESCENT_EVERY).any(|_| {
///     drop(session.pin());
///     store.is_drained(ticket)
/// });
/// assert!(drained);
/// ```
pub const QUIESCENT_EVERY: u32 = if cfg!(any(loom, shuttle)) { 1 } else { 64 };

/// A reader pinned between calls, whose [`pin`](Session::pin) is a cheap
/// nested pin, and every [`QUIESCENT_EVERY`]th of them a quiescent point.
/// `!Send`, like its reader.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::Store;
///
/// let store: Store<fn(u32) -> u32> = Store::new();
/// let h = store.insert(1, |x| x + 1).unwrap();
/// let reader = store.reader();
/// let session = reader.session();
/// let mut counter = 0;
/// for _ in 0..1_000 {
///     let guard = session.pin(); // no fence: nested under the anchor
///     counter = guard.get(h).unwrap()(counter);
/// }
/// assert_eq!(counter, 1_000);
/// ```
pub struct Session<'r, T, K = u64, C: Config = DefaultConfig> {
    reader: &'r Reader<'r, T, K, C>,
    /// The outermost pin. Always `Some` outside `pin`, which moves it out
    /// for the moment of its re-pin.
    anchor: Cell<Option<<ActiveReclaimer as Reclaim>::Pin<'r>>>,
    /// Pins until the next quiescent point.
    countdown: Cell<u32>,
}

impl<'r, T, K: Eq + Hash + Clone, C: Config> Session<'r, T, K, C> {
    pub(crate) fn new(reader: &'r Reader<'r, T, K, C>) -> Self {
        Self {
            reader,
            anchor: Cell::new(Some(reader.pin_raw())),
            countdown: Cell::new(QUIESCENT_EVERY),
        }
    }

    /// A guard nested under the session's anchor, after a quiescent point.
    ///
    /// Every [`QUIESCENT_EVERY`]th call is a quiescent point: it moves the
    /// anchor to the current epoch so that values retired before it can be
    /// reclaimed; while another guard of this reader is live it does
    /// nothing (\[S11\]).
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<u32> = Store::new();
    /// let h = store.insert(1, 1).unwrap();
    /// let reader = store.reader();
    /// let session = reader.session();
    /// assert_eq!(*session.pin().get(h).unwrap(), 1);
    /// store.replace(h, 2).unwrap();
    /// assert_eq!(*session.pin().get(h).unwrap(), 2);
    /// drop(session);
    /// store.reclaim();
    /// assert_eq!(store.pending(), 0);
    /// ```
    #[inline]
    pub fn pin(&self) -> Guard<'_, T, K, C> {
        let countdown = self.countdown.get() - 1;
        if countdown == 0 {
            self.quiesce();
            self.countdown.set(QUIESCENT_EVERY);
        } else {
            self.countdown.set(countdown);
        }
        self.reader.pin()
    }

    /// The quiescent point: re-pins the anchor, if no other guard of this
    /// reader is live (the reclaimer checks, \[S11\]).
    #[cold]
    fn quiesce(&self) {
        let mut anchor = self.anchor.take();
        if let Some(pin) = anchor.as_mut() {
            let store = self.reader.store();
            if store.planted(Bug::RepinUnderGuard) {
                ActiveReclaimer::repin_ignoring_nesting(pin);
            } else if store.planted(Bug::RepinWithoutFence) {
                ActiveReclaimer::repin_without_fence(pin);
            } else {
                ActiveReclaimer::repin(pin);
            }
        }
        self.anchor.set(anchor);
    }

    /// The reader this session pins.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<u32> = Store::new();
    /// let reader = store.reader();
    /// let session = reader.session();
    /// assert!(std::ptr::eq(session.reader(), &reader));
    /// ```
    pub fn reader(&self) -> &'r Reader<'r, T, K, C> {
        self.reader
    }
}

impl<T, K, C: Config> fmt::Debug for Session<'_, T, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}
