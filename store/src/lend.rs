//! Guards for code that reads now and then, on threads that keep no
//! [`Reader`]: reclaimer registrations that the store owns and lends out.
//!
//! A [`Reader`] registers its thread with the reclaimer, and registering
//! allocates. crossbeam-epoch frees a registration, and the bag it hands in
//! when it is dropped, only after the global epoch has advanced twice, which
//! cannot happen while any thread stays pinned. So a reader made per read,
//! by code that runs under a pin held elsewhere (a callback from inside a
//! call the host made under its guard), keeps every registration it made
//! until that outer pin ends: memory that grows with the number of reads.
//! [`Store::with_lent_guard`] takes a registration from the store's pool
//! instead, and gives it back after the read. The pool holds as many
//! registrations as were ever lent at once; after that, a lent read
//! registers nothing, allocates nothing and leaves nothing behind.

use core::hash::Hash;

use crate::config::Config;
use crate::guard::{Guard, Reader};
use crate::planted::Bug;
use crate::reclaim::{ActiveReclaimer, Reclaim};
use crate::store::Store;
use crate::sync::{Mutex, lock};

/// The registrations not lent out at the moment.
pub(crate) struct Lent {
    idle: Mutex<Vec<LentParticipant>>,
}

/// A registration of the pool.
struct LentParticipant(<ActiveReclaimer as Reclaim>::Participant);

// SAFETY: [S9] a lent participant is used only by the thread that took it
// out of the pool, inside one `with_lent_guard` call, and every pin made
// from it ends before that call puts it back; the pool's lock orders each
// use before the next. crossbeam's `LocalHandle` is `!Send` because of its
// unsynchronized counters and bag, which that order protects; it has no tie
// to the thread that registered it (as for `WriterParticipant`).
unsafe impl Send for LentParticipant {}

impl Lent {
    pub(crate) fn new() -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Drops every idle registration; `Drop for Store` calls it before it
    /// drops the reclaimer ([S7]).
    pub(crate) fn clear(&self) {
        lock(&self.idle).clear();
    }
}

impl<T, K: Eq + Hash + Clone, C: Config> Store<T, K, C> {
    /// Runs `f` under a guard pinned with a registration lent by the store,
    /// for code that reads too rarely, or on too many threads, to keep a
    /// [`Reader`].
    ///
    /// A fresh [`Reader`] per read allocates a registration that the
    /// reclaimer frees only once no thread is pinned; a lent one is taken
    /// from the store's pool and put back, so reads under a pin held
    /// elsewhere on the thread keep nothing. The pool grows to the largest
    /// number of lent guards alive at once and is freed with the store. The
    /// guard cannot leave `f`. A thread that reads often should keep a
    /// [`Reader`]: a lent read locks the pool twice.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<u32> = Store::new();
    /// let h = store.insert(1, 41).unwrap();
    /// let reader = store.reader();
    /// let outer = reader.pin(); // held across many lent reads
    /// for _ in 0..1_000 {
    ///     assert_eq!(store.with_lent_guard(|guard| *guard.get(h).unwrap()), 41);
    /// }
    /// # drop(outer);
    /// ```
    pub fn with_lent_guard<R>(&self, f: impl FnOnce(&Guard<'_, T, K, C>) -> R) -> R {
        #[cfg(any(loom, shuttle))]
        if self.planted(Bug::SharedLend) {
            return self.with_shared_registration(f);
        }
        let taken = lock(&self.lent().idle).pop();
        let participant = match taken {
            Some(LentParticipant(participant)) => participant,
            None => self.reclaimer().participant(),
        };
        let reader = Reader::with_participant(self, participant);
        let guard = reader.pin();
        let result = f(&guard);
        if self.planted(Bug::LendKeepsPin) {
            core::mem::forget(guard);
        } else {
            drop(guard);
        }
        // A panic in `f` drops the registration instead: it is not reused.
        lock(&self.lent().idle).push(LentParticipant(reader.into_participant()));
        result
    }

    /// The planted `Bug::SharedLend`: pins the pool's first registration in
    /// place, so every lent guard of the store pins the same registration,
    /// on whichever thread, while other pins of it may be live.
    #[cfg(any(loom, shuttle))]
    fn with_shared_registration<R>(&self, f: impl FnOnce(&Guard<'_, T, K, C>) -> R) -> R {
        let shared = {
            let mut idle = lock(&self.lent().idle);
            if idle.is_empty() {
                idle.push(LentParticipant(self.reclaimer().participant()));
            }
            match idle.first() {
                Some(LentParticipant(participant)) => core::ptr::from_ref(participant),
                None => unreachable!("a registration was just pushed"),
            }
        };
        // The planted bug breaks [S9] on purpose: once a store carries it,
        // only this function touches the pool until the store drops, so the
        // registration stays where it is and the pointer stays valid, but
        // several threads may use it at once. Model builds only.
        // SAFETY: none; see above. Production builds never execute this.
        let participant = unsafe { &*shared };
        let guard = Guard::from_pin(self, self.reclaimer().pin(participant));
        f(&guard)
    }
}
