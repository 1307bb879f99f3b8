//! The [`Store`]: slots, the key index, the revision, and the read path.
//!
//! The write protocol lives in [`crate::swap`]; reclamation in
//! [`crate::reclaim`]. This module holds the state they share and the read
//! operations, which never lock, allocate, or run a destructor.

use core::fmt;
use core::hash::Hash;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr;
use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::config::{Config, DefaultConfig, Layout};
use crate::error::GetError;
use crate::guard::{Guard, Reader};
use crate::handle::Handle;
use crate::index::{IndexMap, IndexNode};
use crate::lend::Lent;
use crate::reclaim::{ActiveReclaimer, Reclaim, ReclaimQueue};
use crate::sync::{AtomicPtr, AtomicU64, Mutex, Ordering, lock};
use crate::table::{Node, Table};

use crate::planted::Bug;

/// A lock-free store of values behind generational handles, with a key
/// index, hot swap in place, and epoch reclamation off the read path.
///
/// - `T`: the stored value (for polyplug, a contract's function table).
/// - `K`: the index key (for polyplug, a contract id).
/// - `C`: bit widths of handles; see [`Config`].
///
/// See the [crate docs](crate) for the guarantees.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::Store;
///
/// let store: Store<&str> = Store::new();
/// let h = store.insert(42, "v1").unwrap();
///
/// let reader = store.reader();
/// assert_eq!(*reader.pin().get(h).unwrap(), "v1");
///
/// let ticket = store.replace(h, "v2").unwrap(); // same handle, new value
/// assert_eq!(*reader.pin().get(h).unwrap(), "v2");
/// assert!(store.is_drained(ticket)); // no reader holds "v1" any more
/// ```
pub struct Store<T, K = u64, C: Config = DefaultConfig> {
    pub(crate) table: Table<T, C>,
    /// The published index snapshot; never null.
    pub(crate) index: AtomicPtr<IndexNode<K, C>>,
    /// Bumped with Release after every commit that published anything.
    pub(crate) revision: AtomicU64,
    pub(crate) writer: Mutex<Writer<K>>,
    /// Boxed so that deferred pushes may point at it while the store moves.
    pub(crate) queues: Box<Queues<T, K, C>>,
    /// Registrations lent to readers without a [`Reader`]; emptied in
    /// `Drop` before the reclaimer.
    lent: Lent,
    /// Dropped first in `Drop`, which runs every deferred push.
    reclaimer: ManuallyDrop<ActiveReclaimer>,
    #[cfg(any(loom, shuttle))]
    pub(crate) bug: Bug,
    #[cfg(loom)]
    graveyard: Mutex<Vec<Grave<T>>>,
    owns: PhantomData<(Box<T>, K)>,
}

// SAFETY: [S9] readers on other threads get `&T` (needs `T: Sync`) and
// writers on any thread drop retired values (needs `T: Send`); keys are
// cloned and dropped on any thread (`K: Send + Sync`).
unsafe impl<T: Send + Sync, K: Send + Sync, C: Config> Sync for Store<T, K, C> {}
// SAFETY: [S9] moving the store moves ownership of every value and key.
unsafe impl<T: Send, K: Send, C: Config> Send for Store<T, K, C> {}

/// The writer side's bookkeeping, behind the writer lock.
pub(crate) struct Writer<K> {
    /// Emptied slots that may be reused, oldest first.
    pub(crate) free: VecDeque<u32>,
    /// The key each live slot is indexed under.
    pub(crate) keys: HashMap<u32, K>,
    /// The last retirement sequence number issued.
    pub(crate) last_seq: u64,
    /// Retired values not yet destroyed, by sequence number.
    pub(crate) outstanding: BTreeSet<u64>,
    /// The writer side's one registration with the reclaimer, used only
    /// under the writer lock; taken out in `Store::drop`.
    pub(crate) participant: Option<WriterParticipant>,
}

/// The writer side's reclaimer registration.
pub(crate) struct WriterParticipant(pub(crate) <ActiveReclaimer as Reclaim>::Participant);

// SAFETY: [S9] the participant is only touched by the thread holding the
// writer lock, and the lock orders every use before the next; no pin made
// from it outlives the lock. crossbeam's `LocalHandle` is `!Send` because
// of its unsynchronized counters and bag, which the lock protects; it has no
// tie to the thread that registered it.
unsafe impl Send for WriterParticipant {}

pub(crate) struct Queues<T, K, C> {
    pub(crate) values: ReclaimQueue<Node<T>>,
    pub(crate) index: ReclaimQueue<IndexNode<K, C>>,
}

/// A monotonically increasing count of commits that changed the store.
///
/// Read it with one Acquire load; if it is unchanged since a value was
/// resolved, no insert, replace or remove has been committed since. (A
/// transaction's own inserts resolve through their handles before commit,
/// and vanish without a bump if it aborts; they were never findable.)
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::Store;
///
/// let store: Store<u32> = Store::new();
/// let r0 = store.revision();
/// let h = store.insert(1, 1).unwrap();
/// let r1 = store.revision();
/// assert!(r1 > r0);
/// store.replace(h, 2).unwrap();
/// assert!(store.revision() > r1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Revision(pub u64);

/// A point in the store's retirement history: everything retired up to it.
///
/// Returned by every write; pass it to [`Store::is_drained`] or
/// [`Store::wait_drained`] to learn when no reader can reach those values
/// any more and their destructors have run.
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
/// let guard = reader.pin();
/// let old = guard.get(h).unwrap();
/// let ticket = store.replace(h, 2).unwrap();
/// assert!(!store.is_drained(ticket)); // `old` is still borrowed
/// assert_eq!(*old, 1);
/// drop(guard);
/// assert!(store.is_drained(ticket));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DrainTicket(pub(crate) u64);

impl<T, K: Eq + Hash + Clone, C: Config> Store<T, K, C> {
    /// The number of slots a store with config `C` has: `2^INDEX_BITS`.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// assert_eq!(Store::<u32>::CAPACITY, 1 << 32);
    /// polyplug_store::config! { Small { index: 4, generation: 8, first_segment: 2 } }
    /// assert_eq!(Store::<u32, u64, Small>::CAPACITY, 16);
    /// ```
    pub const CAPACITY: u64 = Layout::<C>::CAPACITY;

    /// An empty store with its own epoch collector.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    /// let store: Store<String> = Store::new();
    /// assert_eq!(store.pending(), 0);
    /// ```
    pub fn new() -> Self {
        let () = Layout::<C>::CHECKED;
        let empty = Box::into_raw(Box::new(IndexNode::new(IndexMap::default())));
        let reclaimer = ActiveReclaimer::new();
        let participant = WriterParticipant(reclaimer.participant());
        Self {
            table: Table::new(),
            index: AtomicPtr::new(empty),
            revision: AtomicU64::new(0),
            writer: Mutex::new(Writer {
                free: VecDeque::new(),
                keys: HashMap::new(),
                last_seq: 0,
                outstanding: BTreeSet::new(),
                participant: Some(participant),
            }),
            queues: Box::new(Queues {
                values: ReclaimQueue::new(),
                index: ReclaimQueue::new(),
            }),
            lent: Lent::new(),
            reclaimer: ManuallyDrop::new(reclaimer),
            #[cfg(any(loom, shuttle))]
            bug: Bug::None,
            #[cfg(loom)]
            graveyard: Mutex::new(Vec::new()),
            owns: PhantomData,
        }
    }

    /// A store with one deliberate defect, for the verification crate's
    /// planted-bug twins. Exists only in model builds.
    #[cfg(any(loom, shuttle))]
    #[doc(hidden)]
    pub fn with_planted_bug(bug: Bug) -> Self {
        let mut store = Self::new();
        store.bug = bug;
        store
    }

    #[cfg(any(loom, shuttle))]
    pub(crate) fn planted(&self, bug: Bug) -> bool {
        self.bug == bug
    }

    /// Outside model builds no bug can be planted; this folds to `false`.
    #[cfg(not(any(loom, shuttle)))]
    #[inline(always)]
    pub(crate) const fn planted(&self, _bug: Bug) -> bool {
        false
    }

    /// `order`, or Relaxed when `bug` is planted: the one switch for the
    /// planted ordering bugs. Outside model builds it is always `order`.
    #[inline(always)]
    pub(crate) fn ordering(&self, order: Ordering, bug: Bug) -> Ordering {
        if self.planted(bug) {
            Ordering::Relaxed
        } else {
            order
        }
    }

    pub(crate) fn reclaimer(&self) -> &ActiveReclaimer {
        &self.reclaimer
    }

    pub(crate) fn lent(&self) -> &Lent {
        &self.lent
    }

    /// Registers the calling thread as a reader. Keep the reader for as long
    /// as the thread reads: registering allocates, pinning does not.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<u32> = Store::new();
    /// let h = store.insert(1, 5).unwrap();
    /// std::thread::scope(|s| {
    ///     for _ in 0..2 {
    ///         s.spawn(|| {
    ///             let reader = store.reader();
    ///             assert_eq!(*reader.pin().get(h).unwrap(), 5);
    ///         });
    ///     }
    /// });
    /// ```
    pub fn reader(&self) -> Reader<'_, T, K, C> {
        Reader::new(self)
    }

    /// Resolves `handle` under `guard`; the same as [`Guard::get`] after
    /// checking that `guard` was pinned on this store.
    ///
    /// # Errors
    ///
    /// [`GetError::ForeignGuard`] if `guard` belongs to another store, else
    /// as [`Guard::get`].
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{GetError, Store};
    ///
    /// let a: Store<u32> = Store::new();
    /// let b: Store<u32> = Store::new();
    /// let h = a.insert(1, 10).unwrap();
    /// let reader = a.reader();
    /// let guard = reader.pin();
    /// assert_eq!(a.get(h, &guard), Ok(&10));
    /// assert!(matches!(b.get(h, &guard), Err(GetError::ForeignGuard { .. })));
    /// ```
    #[inline]
    pub fn get<'g>(
        &self,
        handle: Handle<C>,
        guard: &'g Guard<'_, T, K, C>,
    ) -> Result<&'g T, GetError<C>> {
        if !ptr::eq(guard.store(), self) {
            return Err(GetError::ForeignGuard { handle });
        }
        guard.get(handle)
    }

    /// The current [`Revision`]. One Acquire load; no guard needed.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::{Revision, Store};
    /// let store: Store<u32> = Store::new();
    /// assert_eq!(store.revision(), Revision(0));
    /// ```
    #[inline]
    pub fn revision(&self) -> Revision {
        // Acquire: pairs with the Release bump at the end of `commit`, so a
        // caller that sees revision r also sees every publish before it.
        let order = self.ordering(Ordering::Acquire, Bug::RelaxedRevision);
        Revision(self.revision.load(order))
    }

    /// The read path. No lock, no allocation, no destructor.
    ///
    /// # Safety
    ///
    /// The caller holds a pin on this store's reclaimer for as long as it
    /// uses the returned borrow (callers narrow it to their guard's).
    #[inline]
    pub(crate) unsafe fn get_pinned(&self, handle: Handle<C>) -> Result<&T, GetError<C>> {
        let Some(slot) = self.table.slot(handle.index()) else {
            return Err(GetError::OutOfRange { handle });
        };
        // Acquire: pairs with the Release store that published the node in
        // `commit`/`insert`, so the node's generation and value are visible.
        let node = slot
            .node
            .load(self.ordering(Ordering::Acquire, Bug::RelaxedRead));
        if !node.is_null() {
            // SAFETY: [S2][S5] a non-null slot pointer is a whole node (Release
            // publish, Acquire load); the caller's pin keeps it alive.
            let node = unsafe { &*node };
            if node.generation == handle.generation() || self.planted(Bug::NoGenerationCheck) {
                return Ok(&node.value);
            }
        }
        Err(self.classify(handle, slot, node.is_null()))
    }

    /// What `slot` holds now, under a pin; see [`Guard::current`].
    ///
    /// # Safety
    ///
    /// `slot` is one of this store's slots, and the caller holds a pin on
    /// this store's reclaimer for as long as it uses the returned borrow.
    #[inline]
    pub(crate) unsafe fn current_pinned(
        &self,
        slot: &crate::table::Slot<T>,
    ) -> Option<(crate::handle::Generation, &T)> {
        // Acquire: pairs with the Release store that published the node in
        // `commit`/`insert`, as in `get_pinned`.
        let node = slot
            .node
            .load(self.ordering(Ordering::Acquire, Bug::RelaxedRead));
        if node.is_null() {
            return None;
        }
        // SAFETY: [S2][S5] a non-null slot pointer is a whole node (Release
        // publish, Acquire load); the caller's pin keeps it alive.
        let node = unsafe { &*node };
        Some((node.generation, &node.value))
    }

    /// Tells stale, removed and out-of-range apart. Error path only.
    #[cold]
    fn classify(
        &self,
        handle: Handle<C>,
        slot: &crate::table::Slot<T>,
        empty: bool,
    ) -> GetError<C> {
        // Acquire: pairs with the Release in `Table::set_len`.
        if u64::from(handle.index().get()) >= self.table.len(Ordering::Acquire) {
            return GetError::OutOfRange { handle };
        }
        // Acquire: pairs with the writer's Release generation store; an
        // error report needs no more than a recent value.
        let current = crate::handle::Generation::new(slot.generation.load(Ordering::Acquire));
        if empty && current == handle.generation() {
            GetError::Removed { handle }
        } else {
            GetError::Stale { handle, current }
        }
    }

    /// `find` under a pin; see [`Guard::find`].
    ///
    /// # Safety
    ///
    /// The caller holds a pin on this store's reclaimer for all of `'g`.
    pub(crate) unsafe fn find_pinned<'g>(
        &'g self,
        key: &K,
        mut predicate: impl FnMut(&T) -> bool,
    ) -> Option<(Handle<C>, &'g T)> {
        loop {
            // Acquire: pairs with the Release swap that published the
            // snapshot in `commit`, so its map is fully built.
            let snapshot = self.index.load(Ordering::Acquire);
            // SAFETY: [S8][S5] the index is never null, and a snapshot is
            // destroyed only after deferral, which the caller's pin holds off.
            let snapshot_ref = unsafe { &*snapshot };
            let mut saw_dead = false;
            for &handle in snapshot_ref.handles(key) {
                // SAFETY: [S5] our caller's pin covers 'g.
                match unsafe { self.get_pinned(handle) } {
                    Ok(value) if predicate(value) => return Some((handle, value)),
                    Ok(_) => {}
                    Err(_) => saw_dead = true,
                }
            }
            if !saw_dead || self.planted(Bug::NoFindRetry) {
                return None;
            }
            // A dead handle means its removal already published a newer
            // snapshot ([S8]: unindex before empty); look again. Acquire:
            // as above. If nothing changed, a retry cannot help.
            if self.index.load(Ordering::Acquire) == snapshot {
                return None;
            }
        }
    }

    /// The handles under `key` in the current snapshot.
    ///
    /// # Safety
    ///
    /// The caller holds a pin on this store's reclaimer for all of `'g`.
    pub(crate) unsafe fn handles_pinned<'g>(&'g self, key: &K) -> &'g [Handle<C>] {
        // Acquire: pairs with the Release swap in `commit`.
        let snapshot = self.index.load(Ordering::Acquire);
        // SAFETY: [S8][S5] never null; kept alive by the caller's pin.
        unsafe { &*snapshot }.handles(key)
    }

    /// Destroys every retired value that no reader can reach any more, on
    /// this thread, and returns how many values it destroyed. Every write
    /// ends with one pass of the same work; call this to reclaim sooner.
    ///
    /// Must not be called while this thread holds a [`Guard`] of this store
    /// if you expect progress: the guard would hold its own epoch back (it
    /// is still safe, just less effective).
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<Vec<u8>> = Store::new();
    /// let h = store.insert(1, vec![1]).unwrap();
    /// store.replace(h, vec![2]).unwrap(); // reclaims at once: no readers
    /// assert_eq!(store.pending(), 0);
    /// assert_eq!(store.reclaim(), 0); // nothing left to do
    /// ```
    pub fn reclaim(&self) -> usize {
        let mut values = 0;
        // Each pass collects a bounded number of crossbeam bags; keep going
        // while passes make progress, and make at least two (a pass may pop
        // bags that held only crossbeam's own garbage).
        for pass in 0.. {
            self.advance(&lock(&self.writer));
            let (v, snapshots) = self.drain_queues();
            values += v;
            if v == 0 && snapshots == 0 && pass >= 1 {
                break;
            }
        }
        values
    }

    /// Pushes deferred steps along through the writer's participant.
    pub(crate) fn advance(&self, writer: &Writer<K>) {
        if let Some(participant) = &writer.participant {
            self.reclaimer.advance(&participant.0);
        }
    }

    /// Destroys what the reclaim queues hold, on this thread, without the
    /// writer lock (so destructors may not deadlock on it). Returns how many
    /// values and how many index snapshots it destroyed.
    pub(crate) fn drain_queues(&self) -> (usize, usize) {
        let mut destroyed = Vec::new();
        for node in self.queues.values.take_all() {
            // SAFETY: [S6] the node came off the queue.
            destroyed.push(unsafe { node.link_seq() });
            self.dispose(node);
        }
        let snapshots = self.queues.index.take_all().count();
        if !destroyed.is_empty() {
            let mut writer = lock(&self.writer);
            for seq in &destroyed {
                writer.outstanding.remove(seq);
            }
        }
        (destroyed.len(), snapshots)
    }

    /// Destroys a reclaimed node. In loom builds the memory is kept until
    /// the store drops, so a planted use-after-reclaim bug shows up as a
    /// causality violation on the payload rather than as a real dangling read.
    fn dispose(&self, node: Box<Node<T>>) {
        #[cfg(not(loom))]
        drop(node);
        #[cfg(loom)]
        {
            let raw = Box::into_raw(node);
            // `raw` came off the reclaim queue; the grave frees its memory
            // later without dropping the value again.
            // SAFETY: [S6] `raw` is exclusively ours and still allocated.
            let value = unsafe { &raw mut (*raw).value };
            // SAFETY: [S6] as above: the value is dropped once, here.
            unsafe { ptr::drop_in_place(value) };
            lock(&self.graveyard).push(Grave(raw));
        }
    }

    /// Retired values whose destructors have not run yet.
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
    /// let guard = reader.pin();
    /// let _old = guard.get(h).unwrap();
    /// store.replace(h, 2).unwrap();
    /// assert_eq!(store.pending(), 1);
    /// drop(guard);
    /// store.reclaim();
    /// assert_eq!(store.pending(), 0);
    /// ```
    pub fn pending(&self) -> usize {
        lock(&self.writer).outstanding.len()
    }

    /// A ticket covering everything retired so far.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    /// let store: Store<u32> = Store::new();
    /// assert!(store.is_drained(store.drain_ticket()));
    /// ```
    pub fn drain_ticket(&self) -> DrainTicket {
        DrainTicket(lock(&self.writer).last_seq)
    }

    /// Reclaims what it can, then reports whether every value retired up to
    /// `ticket` has been destroyed.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<String> = Store::new();
    /// let h = store.insert(1, "v1".to_string()).unwrap();
    /// let reader = store.reader();
    /// let guard = reader.pin();
    /// let ticket = store.remove(h).unwrap();
    /// assert!(!store.is_drained(ticket)); // the guard may still reach "v1"
    /// drop(guard);
    /// assert!(store.is_drained(ticket)); // "v1" has been dropped
    /// ```
    pub fn is_drained(&self, ticket: DrainTicket) -> bool {
        self.reclaim();
        lock(&self.writer)
            .outstanding
            .first()
            .is_none_or(|&oldest| oldest > ticket.0)
    }

    /// Waits until every value retired up to `ticket` has been destroyed,
    /// reclaiming as it goes, or until `timeout` passes.
    ///
    /// Do not call it while this thread holds a guard of this store: that
    /// guard would keep the values alive until the timeout.
    ///
    /// # Errors
    ///
    /// [`DrainTimeout`](crate::DrainTimeout) with the count still pending.
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
    /// let ticket = store.replace(h, 2).unwrap();
    /// store.wait_drained(ticket, Duration::from_secs(1)).unwrap();
    /// ```
    pub fn wait_drained(
        &self,
        ticket: DrainTicket,
        timeout: std::time::Duration,
    ) -> Result<(), crate::DrainTimeout> {
        let start = std::time::Instant::now();
        let mut backoff = std::time::Duration::from_micros(50);
        loop {
            if self.is_drained(ticket) {
                return Ok(());
            }
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                let writer = lock(&self.writer);
                let pending = writer.outstanding.range(..=ticket.0).count();
                return Err(crate::DrainTimeout { pending });
            }
            crate::sync::park_timeout(backoff.min(timeout.saturating_sub(elapsed)));
            backoff = backoff
                .saturating_mul(2)
                .min(std::time::Duration::from_millis(5));
        }
    }
}

impl<T, K: Eq + Hash + Clone, C: Config> Default for Store<T, K, C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, K, C: Config> fmt::Debug for Store<T, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("slots", &self.table.len(Ordering::Relaxed))
            // Relaxed: a diagnostic snapshot.
            .field("revision", &self.revision.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<T, K, C: Config> Drop for Store<T, K, C> {
    fn drop(&mut self) {
        // 0. The writer's and the lent registrations, so the collector can
        //    shut down.
        lock(&self.writer).participant = None;
        self.lent.clear();
        // 1. The reclaimer first: dropping it runs every deferred push still
        //    waiting (no reader or writer participant can outlive `&mut self`),
        //    so every retired node lands in a queue ([S6]).
        // SAFETY: [S7] dropped exactly once, here, never used again, and
        // before the queues its remaining deferred pushes point at.
        unsafe { ManuallyDrop::drop(&mut self.reclaimer) };
        // 2. Retired values and snapshots.
        for node in self.queues.values.take_all() {
            drop(node);
        }
        for snapshot in self.queues.index.take_all() {
            drop(snapshot);
        }
        // 3. Live values.
        for slot in self.table.used_slots() {
            // Relaxed: `&mut self`; no other thread exists.
            let node = slot.node.swap(ptr::null_mut(), Ordering::Relaxed);
            if !node.is_null() {
                // Only unpublished nodes are retired, so a slot's node is in
                // no queue; it came from `Box::into_raw` and we took it out.
                // SAFETY: [S5][S6] so it is ours alone to free, once.
                drop(unsafe { Box::from_raw(node) });
            }
        }
        // 4. The current index snapshot.
        // Relaxed: `&mut self`.
        let snapshot = self.index.swap(ptr::null_mut(), Ordering::Relaxed);
        // SAFETY: [S8] the published snapshot came from `Box::into_raw`.
        drop(unsafe { Box::from_raw(snapshot) });
        // 5. (loom) The memory of values destroyed earlier.
        #[cfg(loom)]
        for grave in lock(&self.graveyard).drain(..) {
            grave.free();
        }
    }
}

/// A reclaimed node whose value was dropped but whose memory is kept (loom
/// builds only; see `Store::dispose`).
#[cfg(loom)]
struct Grave<T>(*mut Node<T>);

#[cfg(loom)]
impl<T> Grave<T> {
    fn free(self) {
        let layout = std::alloc::Layout::new::<Node<T>>();
        // `dispose` already dropped the value in place; the other fields
        // have no destructor, so only the memory is left.
        // SAFETY: [S6] the node came from `Box::into_raw` with this layout.
        unsafe { std::alloc::dealloc(self.0.cast(), layout) };
    }
}
