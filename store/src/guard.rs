//! The read side: a [`Reader`] per thread, a [`Guard`] per critical section.
//!
//! A guard is what makes a borrowed value safe to use: every `&T` the store
//! hands out borrows the guard it was read under, so the borrow checker
//! refuses any use after the guard is dropped, and the reclaimer destroys
//! nothing a live guard could reach (\[S5\]). Guards are `!Send`: a pin belongs
//! to the thread that made it.
//!
//! A borrowed value cannot outlive its guard:
//!
//! ```compile_fail,E0597
//! use polyplug_store::Store;
//!
//! let store: Store<String> = Store::new();
//! let h = store.insert(1, "v1".to_string()).unwrap();
//! let reader = store.reader();
//! let value: &String;
//! {
//!     let guard = reader.pin();
//!     value = guard.get(h).unwrap();
//! } // guard dropped here while `value` still borrows it
//! println!("{value}");
//! ```
//!
//! A guard cannot move to another thread:
//!
//! ```compile_fail,E0277
//! use polyplug_store::Store;
//!
//! fn send<T: Send>(_: T) {}
//! let store: Store<u32> = Store::new();
//! let reader = store.reader();
//! send(reader.pin());
//! ```
//!
//! Nor can a reader:
//!
//! ```compile_fail,E0277
//! use polyplug_store::Store;
//!
//! fn send<T: Send>(_: T) {}
//! let store: Store<u32> = Store::new();
//! send(store.reader());
//! ```

use core::fmt;
use core::hash::Hash;
use core::marker::PhantomData;

use crate::config::{Config, DefaultConfig};
use crate::error::GetError;
use crate::handle::{Generation, Handle};
use crate::reclaim::{ActiveReclaimer, Reclaim};
use crate::session::Session;
use crate::store::{Revision, Store};
use crate::table::Slot;

/// A thread's registration with a store's reclaimer.
///
/// Make one per reader thread and keep it: registering allocates, pinning
/// does not (an outermost pin may, once every 128 pins, help
/// crossbeam-epoch free its own bookkeeping). `!Send`.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::Store;
///
/// let store: Store<&str> = Store::new();
/// let h = store.insert(7, "hello").unwrap();
/// let reader = store.reader();
/// for _ in 0..3 {
///     let guard = reader.pin();
///     assert_eq!(*guard.get(h).unwrap(), "hello");
/// }
/// ```
pub struct Reader<'s, T, K = u64, C: Config = DefaultConfig> {
    store: &'s Store<T, K, C>,
    participant: <ActiveReclaimer as Reclaim>::Participant,
    not_send: PhantomData<*const ()>,
}

impl<'s, T, K: Eq + Hash + Clone, C: Config> Reader<'s, T, K, C> {
    pub(crate) fn new(store: &'s Store<T, K, C>) -> Self {
        Self::with_participant(store, store.reclaimer().participant())
    }

    /// A reader of `store` that pins with `participant`, a registration with
    /// `store`'s reclaimer.
    pub(crate) fn with_participant(
        store: &'s Store<T, K, C>,
        participant: <ActiveReclaimer as Reclaim>::Participant,
    ) -> Self {
        Self {
            store,
            participant,
            not_send: PhantomData,
        }
    }

    /// The registration, for the store to lend again.
    pub(crate) fn into_participant(self) -> <ActiveReclaimer as Reclaim>::Participant {
        self.participant
    }

    /// Enters a read-side critical section. Nested pins are cheap: only the
    /// outermost pin of a reader publishes its epoch with a fence.
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
    /// let outer = reader.pin();
    /// let inner = reader.pin(); // nested: no fence
    /// assert_eq!(*inner.get(h).unwrap() + 1, 42);
    /// # drop(outer);
    /// ```
    #[inline]
    pub fn pin(&self) -> Guard<'_, T, K, C> {
        Guard {
            store: self.store,
            pin: self.pin_raw(),
            not_send: PhantomData,
        }
    }

    /// The reclaimer's pin alone, for a [`Session`]'s anchor.
    #[inline]
    pub(crate) fn pin_raw(&self) -> <ActiveReclaimer as Reclaim>::Pin<'_> {
        self.store.reclaimer().pin(&self.participant)
    }

    /// A [`Session`]: this reader pinned until the session is dropped, so
    /// that each [`Session::pin`] is a nested pin with no fence (\[S11\]).
    /// Keep it while the thread calls; drop it when the thread goes idle,
    /// since an idle session holds back reclamation.
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
    /// let session = reader.session();
    /// assert_eq!(*session.pin().get(h).unwrap() + 1, 42);
    /// ```
    pub fn session(&self) -> Session<'_, T, K, C> {
        Session::new(self)
    }

    /// The store this reader reads.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<u32> = Store::new();
    /// let reader = store.reader();
    /// assert!(std::ptr::eq(reader.store(), &store));
    /// ```
    pub fn store(&self) -> &'s Store<T, K, C> {
        self.store
    }

    /// The address of `handle`'s slot, for [`Guard::current`]: `None` if no
    /// value was ever placed at that index. A slot never moves while the
    /// store lives (\[S1\]), so the address stays good for `'s`, whatever is
    /// later inserted, replaced or removed there.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Generation, Handle, Index, Store};
    ///
    /// let store: Store<u32> = Store::new();
    /// let h = store.insert(1, 10).unwrap();
    /// let reader = store.reader();
    /// let slot = reader.slot_ref(h).unwrap();
    /// store.replace(h, 11).unwrap();
    /// let guard = reader.pin();
    /// assert_eq!(guard.current(&slot).map(|(_, v)| *v), Some(11));
    /// // An index far past any segment the store has allocated:
    /// let far = Handle::new(Index::new(1 << 30), Generation::FIRST).unwrap();
    /// assert!(reader.slot_ref(far).is_none());
    /// ```
    pub fn slot_ref(&self, handle: Handle<C>) -> Option<SlotRef<'s, T, K, C>> {
        let slot = self.store.table.slot(handle.index())?;
        Some(SlotRef {
            store: self.store,
            slot,
        })
    }
}

/// The address of one slot of a store, from [`Reader::slot_ref`]: what
/// [`Guard::current`] reads instead of looking the index up again. It
/// borrows the store, so it cannot outlive it; it is `Copy`, holds no pin,
/// and reads nothing by itself.
pub struct SlotRef<'s, T, K = u64, C: Config = DefaultConfig> {
    store: &'s Store<T, K, C>,
    slot: &'s Slot<T>,
}

impl<T, K, C: Config> Clone for SlotRef<'_, T, K, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, K, C: Config> Copy for SlotRef<'_, T, K, C> {}

impl<T, K, C: Config> fmt::Debug for SlotRef<'_, T, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlotRef").finish_non_exhaustive()
    }
}

impl<T, K, C: Config> fmt::Debug for Reader<'_, T, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

/// A read-side critical section. Values read under it stay alive, and keep
/// their libraries alive, until it is dropped. `!Send`.
///
/// One guard may span many calls: that is the batch path, with no per-call
/// pin at all. Long-lived guards should [`repin`](Guard::repin) at quiescent
/// points so that retired values can be reclaimed.
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
/// let guard = reader.pin();
/// let inc = guard.get(h).unwrap();
/// let mut counter = 0;
/// for _ in 0..1_000 {
///     counter = inc(counter);
/// }
/// assert_eq!(counter, 1_000);
/// ```
pub struct Guard<'r, T, K = u64, C: Config = DefaultConfig> {
    store: &'r Store<T, K, C>,
    pin: <ActiveReclaimer as Reclaim>::Pin<'r>,
    not_send: PhantomData<*const ()>,
}

impl<'r, T, K: Eq + Hash + Clone, C: Config> Guard<'r, T, K, C> {
    /// A guard holding `pin`, made without a [`Reader`]: only the planted
    /// `Bug::SharedLend` pins that way.
    #[cfg(any(loom, shuttle))]
    pub(crate) fn from_pin(
        store: &'r Store<T, K, C>,
        pin: <ActiveReclaimer as Reclaim>::Pin<'r>,
    ) -> Self {
        Self {
            store,
            pin,
            not_send: PhantomData,
        }
    }

    /// Resolves `handle` to its value.
    ///
    /// # Errors
    ///
    /// [`GetError::Stale`], [`GetError::Removed`] or [`GetError::OutOfRange`]
    /// when `handle` does not name a live value.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<&str> = Store::new();
    /// let h = store.insert(1, "v1").unwrap();
    /// let reader = store.reader();
    /// assert_eq!(*reader.pin().get(h).unwrap(), "v1");
    /// ```
    #[inline]
    pub fn get(&self, handle: Handle<C>) -> Result<&T, GetError<C>> {
        // SAFETY: [S5] this guard pins the store for as long as the returned
        // borrow, which the signature ties to `&self`.
        unsafe { self.store.get_pinned(handle) }
    }

    /// The first live value under `key`, in insertion order, for which
    /// `predicate` holds.
    ///
    /// If a value under `key` is live for the whole call and matches, `find`
    /// returns a match: a handle found dead makes it reload the index, so a
    /// concurrent remove-and-reinsert cannot make it miss.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<u32> = Store::new();
    /// store.insert(9, 1).unwrap();
    /// let two = store.insert(9, 2).unwrap();
    /// let reader = store.reader();
    /// let guard = reader.pin();
    /// let (h, v) = guard.find(&9, |v| *v >= 2).unwrap();
    /// assert_eq!((h, *v), (two, 2));
    /// assert!(guard.find(&8, |_| true).is_none());
    /// ```
    pub fn find(&self, key: &K, predicate: impl FnMut(&T) -> bool) -> Option<(Handle<C>, &T)> {
        // SAFETY: [S5] this guard pins the store for as long as the returned
        // borrow, which the signature ties to `&self`.
        unsafe { self.store.find_pinned(key, predicate) }
    }

    /// Every live value under `key`, oldest first, from one index snapshot.
    /// Values inserted or removed during the call may or may not appear.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<u32> = Store::new();
    /// for v in [1, 2, 3] {
    ///     store.insert(5, v).unwrap();
    /// }
    /// let reader = store.reader();
    /// let guard = reader.pin();
    /// let values: Vec<u32> = guard.find_all(&5).map(|(_, v)| *v).collect();
    /// assert_eq!(values, [1, 2, 3]);
    /// ```
    pub fn find_all(&self, key: &K) -> FindAll<'_, T, K, C> {
        // SAFETY: [S5] this guard pins the store for as long as the iterator,
        // which the signature ties to `&self`.
        let handles = unsafe { self.store.handles_pinned(key) };
        FindAll {
            store: self.store,
            handles: handles.iter(),
        }
    }

    /// The store's revision; see [`Store::revision`].
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<u32> = Store::new();
    /// let reader = store.reader();
    /// let before = reader.pin().revision();
    /// store.insert(1, 1).unwrap();
    /// assert!(reader.pin().revision() > before);
    /// ```
    pub fn revision(&self) -> Revision {
        self.store.revision()
    }

    /// Leaves and re-enters the critical section, so values retired since
    /// the pin can be reclaimed. Taking `&mut self` proves no value read
    /// under this guard is still borrowed.
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
    /// let mut guard = reader.pin();
    /// for round in 0..3 {
    ///     assert!(guard.get(h).is_ok());
    ///     guard.repin(); // quiescent point
    /// #   let _ = round;
    /// }
    /// ```
    pub fn repin(&mut self) {
        ActiveReclaimer::repin(&mut self.pin);
    }

    /// The store this guard reads.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<u32> = Store::new();
    /// let reader = store.reader();
    /// let guard = reader.pin();
    /// assert!(std::ptr::eq(guard.store(), &store));
    /// ```
    pub fn store(&self) -> &'r Store<T, K, C> {
        self.store
    }

    /// What the slot `at` holds now, with the generation it was placed
    /// under: `None` if the slot is empty, or if `at` is a slot of another
    /// store than this guard's.
    ///
    /// [`Guard::get`] without the segment lookup and without the generation
    /// check: whatever value the slot holds, under any generation, so the
    /// caller decides whether it is the one it wants (compare the
    /// generation, or something in the value that no other value has).
    /// The same read as `get`: one Acquire load of the slot's node, under
    /// this guard's pin (\[S2\], \[S5\]).
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<u32> = Store::new();
    /// let h = store.insert(1, 10).unwrap();
    /// let reader = store.reader();
    /// let slot = reader.slot_ref(h).unwrap();
    /// let guard = reader.pin();
    /// assert_eq!(guard.current(&slot), Some((h.generation(), &10)));
    ///
    /// let other: Store<u32> = Store::new();
    /// let other_reader = other.reader();
    /// assert_eq!(other_reader.pin().current(&slot), None); // not its store
    /// ```
    #[inline]
    pub fn current<'g>(&'g self, at: &SlotRef<'g, T, K, C>) -> Option<(Generation, &'g T)> {
        self.pinned(at)?.current()
    }

    /// `at`, checked once to be a slot of this guard's store, for reading
    /// many times under this guard: [`PinnedSlot::current`] is
    /// [`Guard::current`] without the store check. `None` if `at` is a slot
    /// of another store. The result borrows this guard, so it cannot
    /// outlive the pin.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<u32> = Store::new();
    /// let h = store.insert(1, 10).unwrap();
    /// let reader = store.reader();
    /// let slot = reader.slot_ref(h).unwrap();
    /// let guard = reader.pin();
    /// let pinned = guard.pinned(&slot).unwrap();
    /// assert_eq!(pinned.current(), Some((h.generation(), &10)));
    /// store.replace(h, 11).unwrap();
    /// assert_eq!(pinned.current(), Some((h.generation(), &11)));
    ///
    /// let other: Store<u32> = Store::new();
    /// let other_reader = other.reader();
    /// assert!(other_reader.pin().pinned(&slot).is_none()); // not its store
    /// ```
    #[inline]
    pub fn pinned<'g>(&'g self, at: &SlotRef<'g, T, K, C>) -> Option<PinnedSlot<'g, T, K, C>> {
        core::ptr::eq(self.store, at.store).then_some(PinnedSlot {
            store: self.store,
            slot: at.slot,
            guard: PhantomData,
        })
    }
}

/// A slot of a guard's store, read under that guard: from
/// [`Guard::pinned`], which made the store check once. It borrows the
/// guard, so every read is under its pin; `!Send`, like the guard.
///
/// It cannot outlive its guard:
///
/// ```compile_fail,E0597
/// use polyplug_store::Store;
///
/// let store: Store<u32> = Store::new();
/// let h = store.insert(1, 10).unwrap();
/// let reader = store.reader();
/// let slot = reader.slot_ref(h).unwrap();
/// let pinned = {
///     let guard = reader.pin();
///     guard.pinned(&slot).unwrap()
/// }; // the guard is gone, and its pin with it
/// let _ = pinned.current();
/// ```
pub struct PinnedSlot<'g, T, K = u64, C: Config = DefaultConfig> {
    store: &'g Store<T, K, C>,
    slot: &'g Slot<T>,
    guard: PhantomData<&'g Guard<'g, T, K, C>>,
}

impl<'g, T, K: Eq + Hash + Clone, C: Config> PinnedSlot<'g, T, K, C> {
    /// What the slot holds now, with the generation it was placed under;
    /// `None` if it is empty. As [`Guard::current`], whose store check
    /// [`Guard::pinned`] made.
    #[inline]
    pub fn current(&self) -> Option<(Generation, &'g T)> {
        // `slot` is a slot of `store` (checked in `Guard::pinned`), whose
        // guard this borrows for 'g: its pin outlives every borrow.
        // SAFETY: [S1][S5][S12] as just said.
        unsafe { self.store.current_pinned(self.slot) }
    }
}

impl<T, K, C: Config> fmt::Debug for PinnedSlot<'_, T, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedSlot").finish_non_exhaustive()
    }
}

impl<T, K, C: Config> fmt::Debug for Guard<'_, T, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

/// Iterator returned by [`Guard::find_all`]: `(handle, &value)` for each
/// live value under a key. Allocates nothing.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::Store;
///
/// let store: Store<&str> = Store::new();
/// let a = store.insert(1, "a").unwrap();
/// let b = store.insert(1, "b").unwrap();
/// store.remove(a).unwrap();
/// let reader = store.reader();
/// let guard = reader.pin();
/// let mut all = guard.find_all(&1);
/// assert_eq!(all.next(), Some((b, &"b"))); // the removed value is gone
/// assert_eq!(all.next(), None);
/// ```
pub struct FindAll<'g, T, K, C: Config> {
    store: &'g Store<T, K, C>,
    handles: core::slice::Iter<'g, Handle<C>>,
}

impl<'g, T, K: Eq + Hash + Clone, C: Config> Iterator for FindAll<'g, T, K, C> {
    type Item = (Handle<C>, &'g T);

    fn next(&mut self) -> Option<Self::Item> {
        let store = self.store;
        let handles = self.handles.by_ref();
        // SAFETY: [S5] a `FindAll<'g>` comes only from `Guard::find_all` on a
        // guard borrowed for 'g, so the store stays pinned for 'g.
        handles.find_map(|&h| unsafe { store.get_pinned(h) }.ok().map(|v| (h, v)))
    }
}

impl<T, K, C: Config> fmt::Debug for FindAll<'_, T, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FindAll")
            .field("remaining", &self.handles.len())
            .finish()
    }
}
