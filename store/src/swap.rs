//! The write protocol: insert, replace and remove, alone or as one
//! transaction.
//!
//! # Case analysis
//!
//! Writers are serialized by the writer lock; readers never take it. A
//! reader's `get` is: load the slot's node pointer (Acquire), compare the
//! node's generation with the handle's, return `&node.value`. Its `find` is:
//! load the index snapshot (Acquire), `get` each listed handle, retry on a
//! dead one if the snapshot changed. Every case below is a reader racing one
//! step of a commit; the claim in each is what the reader can observe.
//!
//! 1. **Insert, slot published.** The writer builds the node (generation
//!    `g`, value) completely, stores `g` in the slot's generation word, then
//!    stores the node pointer with Release. A reader either loads null (the
//!    slot looks empty or stale: an error, and the handle has not been
//!    handed to it yet anyway) or loads the node with Acquire and sees its
//!    initialized fields (\[S2\]). No torn node is observable.
//! 2. **Insert, index published.** The new snapshot, listing the handle, is
//!    published with Release *after* case 1's store. A reader that finds the
//!    handle in the snapshot (Acquire) therefore also sees the slot's node
//!    (\[S8\]): `find` never returns a listed handle that does not resolve
//!    because it was not yet published.
//! 3. **Replace.** The new node carries the *same* generation and is stored
//!    with Release over the old one. A reader loads either pointer; each is
//!    a whole node with matching generation, so it gets the complete old
//!    value or the complete new one (\[S2\]), never a mix. The old node is
//!    retired only after the store (\[S5\]), so a reader that loaded it keeps
//!    it until its pin ends.
//! 4. **Remove, index unpublished.** The snapshot without the handle is
//!    published with Release *before* the slot is emptied. Hence a reader
//!    that sees the slot empty (or reused) has the newer snapshot available
//!    to its next Acquire load of the index, which is why `find` retries on a
//!    dead handle and stops when the snapshot did not change (\[S8\]).
//! 5. **Remove, slot emptied.** The slot's pointer is stored null with
//!    Release; the old node is retired after that store (\[S5\]). A reader
//!    loads the old node (fine: it is pinned, the node lives until it
//!    unpins) or null (`Removed`).
//! 6. **Reuse (ABA).** A slot emptied in case 5 is pushed on the free list
//!    only if its generation can still grow. The next insert into it takes
//!    generation `g + 1` (case 1). A reader holding the old handle with
//!    generation `g` either loads the old node (still pinned: correct old
//!    value, it was live when the reader pinned) or the new node, whose
//!    generation differs, and gets `Stale` (\[S3\]). Generations never wrap: a
//!    slot at the maximum generation is retired for good (\[S4\]).
//! 7. **Revision.** After all publishes of a commit, the revision is bumped
//!    with Release. A reader that loads the new revision with Acquire sees
//!    every publish of that commit (\[S10\]).
//! 8. **Retire and reclaim.** Each replaced or removed node, and each
//!    superseded snapshot, is deferred through the reclaimer after it was
//!    unpublished. The deferred step only pushes it onto a reclaim queue; the
//!    writer side destroys what the queue holds after releasing the lock
//!    (\[S5\], \[S6\]).
//! 9. **Abort.** A transaction dropped without commit empties the slots it
//!    inserted (case 5 without an index change: they were never indexed)
//!    and drops the values it staged for replace (never published). The
//!    index and revision are untouched.
//!
//! Every transition above is modeled in `verification/`: cases 1 and 3 by
//! the get-vs-replace models, 5 by get-vs-remove, 6 by the ABA model, 2 and 4
//! by find-vs-insert-remove, 7 by revision-vs-publish, 8 by
//! reclaim-vs-pinned-reader; each with a planted-bug twin that must fail.

use core::fmt;
use core::hash::Hash;
use core::ptr;

use crate::config::Config;
use crate::error::{GetError, Refused, WriteError};
use crate::handle::{Generation, Handle, Index};
use crate::index::{self, IndexNode};
use crate::planted::Bug;
use crate::reclaim::{Deferred, Reclaim};
use crate::store::{DrainTicket, Store, Writer};
use crate::sync::{MutexGuard, Ordering, lock};
use crate::table::Node;

/// A change staged for commit.
enum Staged<T, C> {
    Replace { handle: Handle<C>, value: T },
    Remove { handle: Handle<C> },
}

impl<T, C> Staged<T, C> {
    fn handle(&self) -> Handle<C> {
        match self {
            Self::Replace { handle, .. } | Self::Remove { handle } => *handle,
        }
    }
}

/// A write transaction: inserts, replaces and removes that become visible
/// to `find` all at once, with one revision bump.
///
/// - [`insert`](WriteTxn::insert) publishes the value in its slot at once
///   (so the returned handle resolves for whoever holds it) but adds it to
///   the key index only at commit.
/// - [`replace`](WriteTxn::replace) and [`remove`](WriteTxn::remove) are
///   validated at once and applied at commit.
/// - Dropping the transaction without [`commit`](WriteTxn::commit) undoes
///   its inserts and discards its staged changes.
///
/// Holding a transaction holds the writer lock; readers are never blocked.
/// Other writers wait, and so do [`Store::reclaim`], [`Store::pending`] and
/// the drain methods: calling one of them (or a second `write`) on the thread
/// that holds the transaction deadlocks. Commit or drop it first.
///
/// # Example
///
/// ```
/// # if polyplug_store::sync::MODEL_BUILD { return; }
/// use polyplug_store::Store;
///
/// let store: Store<&str> = Store::new();
/// let mut txn = store.write();
/// txn.insert(1, "a").unwrap();
/// txn.insert(2, "b").unwrap();
/// let reader = store.reader();
/// assert!(reader.pin().find(&1, |_| true).is_none()); // not yet visible
/// txn.commit();
/// assert!(reader.pin().find(&1, |_| true).is_some()); // both at once
/// assert!(reader.pin().find(&2, |_| true).is_some());
/// ```
pub struct WriteTxn<'s, T, K: Eq + Hash + Clone, C: Config> {
    store: &'s Store<T, K, C>,
    writer: Option<MutexGuard<'s, Writer<K>>>,
    inserted: Vec<(Handle<C>, K)>,
    staged: Vec<Staged<T, C>>,
}

impl<T, K: Eq + Hash + Clone, C: Config> Store<T, K, C> {
    /// Starts a transaction, taking the writer lock.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<&str> = Store::new();
    /// let old = store.insert(1, "v1").unwrap();
    /// let mut txn = store.write();
    /// txn.insert(1, "v2").unwrap();
    /// txn.remove(old).unwrap();
    /// txn.commit(); // key 1 moves from "v1" to "v2" in one step
    /// let reader = store.reader();
    /// assert_eq!(*reader.pin().find(&1, |_| true).unwrap().1, "v2");
    /// ```
    pub fn write(&self) -> WriteTxn<'_, T, K, C> {
        WriteTxn {
            store: self,
            writer: Some(lock(&self.writer)),
            inserted: Vec::new(),
            staged: Vec::new(),
        }
    }

    /// Inserts `value` under `key` and returns its handle.
    ///
    /// # Errors
    ///
    /// [`WriteError::Full`] when no slot is free, with the value returned.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<&str> = Store::new();
    /// let h = store.insert(1, "one").unwrap();
    /// assert_eq!(*store.reader().pin().get(h).unwrap(), "one");
    /// ```
    pub fn insert(&self, key: K, value: T) -> Result<Handle<C>, Refused<T, C>> {
        let mut txn = self.write();
        let handle = txn.insert(key, value)?;
        txn.commit();
        Ok(handle)
    }

    /// Swaps the value behind `handle` in place; `handle` stays valid. The
    /// old value is destroyed once no reader can reach it.
    ///
    /// # Errors
    ///
    /// [`WriteError::Handle`] when `handle` is not live, with the value
    /// returned.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<&str> = Store::new();
    /// let h = store.insert(1, "v1").unwrap();
    /// store.replace(h, "v2").unwrap();
    /// assert_eq!(*store.reader().pin().get(h).unwrap(), "v2");
    /// ```
    pub fn replace(&self, handle: Handle<C>, value: T) -> Result<DrainTicket, Refused<T, C>> {
        let mut txn = self.write();
        txn.replace(handle, value)?;
        Ok(txn.commit())
    }

    /// Removes the value behind `handle`. Later lookups of `handle` give
    /// [`GetError::Removed`], or [`GetError::Stale`] once the slot is reused.
    ///
    /// # Errors
    ///
    /// [`WriteError::Handle`] when `handle` is not live.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<&str> = Store::new();
    /// let h = store.insert(1, "v1").unwrap();
    /// store.remove(h).unwrap();
    /// assert!(store.reader().pin().get(h).is_err());
    /// ```
    pub fn remove(&self, handle: Handle<C>) -> Result<DrainTicket, Refused<T, C>> {
        let mut txn = self.write();
        txn.remove(handle)?;
        Ok(txn.commit())
    }

    /// Why `handle` is not live, from the writer's side (lock held).
    fn check_live(&self, handle: Handle<C>) -> Result<(), GetError<C>> {
        let index = handle.index();
        // Relaxed: every writer store happened under the lock we hold.
        if u64::from(index.get()) >= self.table.len(Ordering::Relaxed) {
            return Err(GetError::OutOfRange { handle });
        }
        let Some(slot) = self.table.slot(index) else {
            return Err(GetError::OutOfRange { handle });
        };
        // Relaxed: as above.
        let current = Generation::new(slot.generation.load(Ordering::Relaxed));
        // Relaxed: as above.
        let empty = slot.node.load(Ordering::Relaxed).is_null();
        match (current == handle.generation(), empty) {
            (true, false) => Ok(()),
            (true, true) => Err(GetError::Removed { handle }),
            (false, _) => Err(GetError::Stale { handle, current }),
        }
    }

    /// The order for publishing a node (Release, or the planted bug's).
    fn publish_order(&self) -> Ordering {
        self.ordering(Ordering::Release, Bug::RelaxedPublish)
    }

    /// Case 8: retires an unpublished node through the reclaimer.
    fn retire_value(&self, writer: &mut Writer<K>, node: *mut Node<T>) {
        // The sequence counter cannot overflow in practice (2^64 retirements);
        // saturate rather than wrap so drain tickets stay ordered.
        writer.last_seq = writer.last_seq.saturating_add(1);
        let seq = writer.last_seq;
        // SAFETY: [S5] `node` was published, so it is a live allocation, and
        // it is not destroyed before the deferral below.
        let node_ref = unsafe { &*node };
        // SAFETY: [S6] we hold the writer lock; readers never touch a link,
        // and it is ours until deferral.
        unsafe { node_ref.set_link_seq(seq) };
        writer.outstanding.insert(seq);
        // `node` came from `Box::into_raw`, was unpublished by our caller and
        // is retired once; the queue is boxed and outlives the reclaimer.
        // SAFETY: [S5][S7] these are exactly `push_later`'s requirements.
        let deferred = unsafe { Deferred::push_later(node, &self.queues.values) };
        self.defer(writer, deferred);
    }

    /// Case 8 for a superseded index snapshot (not counted by drains).
    fn retire_snapshot(&self, writer: &Writer<K>, node: *mut IndexNode<K, C>) {
        // SAFETY: [S5][S7] as in `retire_value`.
        let deferred = unsafe { Deferred::push_later(node, &self.queues.index) };
        self.defer(writer, deferred);
    }

    fn defer(&self, writer: &Writer<K>, deferred: Deferred) {
        if self.planted(Bug::EagerReclaim) {
            // The planted use-after-reclaim bug: unsound on purpose, and
            // reachable only from model builds' twins (`planted` is false otherwise).
            // SAFETY: none; see above. Production builds never execute this.
            unsafe { deferred.run() };
        } else if let Some(participant) = &writer.participant {
            self.reclaimer().defer(&participant.0, deferred);
        }
    }
}

impl<'s, T, K: Eq + Hash + Clone, C: Config> WriteTxn<'s, T, K, C> {
    fn writer(&mut self) -> &mut Writer<K> {
        // The guard is taken only by `commit`, which consumes the txn, and by
        // `Drop`; neither can be followed by a call to this method.
        match self.writer.as_mut() {
            Some(guard) => guard,
            None => unreachable!("writer lock released before the transaction ended"),
        }
    }

    /// Inserts `value` under `key`; see [`Store::insert`]. The value is
    /// resolvable through the handle at once and findable after commit.
    ///
    /// # Errors
    ///
    /// [`WriteError::Full`] when no slot is free, with the value returned.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<&str> = Store::new();
    /// let reader = store.reader();
    /// let mut txn = store.write();
    /// let h = txn.insert(7, "new").unwrap();
    /// assert_eq!(*reader.pin().get(h).unwrap(), "new"); // resolvable at once
    /// assert!(reader.pin().find(&7, |_| true).is_none()); // findable after commit
    /// drop(txn); // abort: the insert is undone
    /// assert!(reader.pin().get(h).is_err());
    /// ```
    pub fn insert(&mut self, key: K, value: T) -> Result<Handle<C>, Refused<T, C>> {
        let store = self.store;
        let no_bump = store.planted(Bug::NoGenerationBump);
        let writer = self.writer();
        let (index, fresh) = match writer.free.pop_front() {
            Some(index) => (Index::new(index), false),
            None => {
                let len = store.table.len(Ordering::Relaxed);
                match u32::try_from(len) {
                    Ok(index) if len < Store::<T, K, C>::CAPACITY => (Index::new(index), true),
                    _ => {
                        return Err(Refused {
                            error: WriteError::Full {
                                capacity: Store::<T, K, C>::CAPACITY,
                            },
                            value: Some(value),
                        });
                    }
                }
            }
        };
        let slot = store.table.slot_or_grow(index);
        // Relaxed: only writers store generations, under the lock we hold.
        let previous = Generation::new(slot.generation.load(Ordering::Relaxed));
        let generation = if fresh {
            Generation::FIRST
        } else if no_bump {
            previous
        } else {
            // Slots enter the free list only while their generation can grow ([S4]).
            match previous.next::<C>() {
                Some(next) => next,
                None => unreachable!("an exhausted slot was on the free list"),
            }
        };
        let Some(handle) = Handle::new(index, generation) else {
            unreachable!("index < CAPACITY and 1 <= generation <= MAX_GENERATION")
        };
        let node = Box::into_raw(Box::new(Node::new(generation, value)));
        // Release: readers classifying an error (Acquire) see a generation at
        // least as new as any node they could have loaded.
        slot.generation.store(generation.get(), Ordering::Release);
        // Case 1. Release: publishes the fully built node; pairs with the
        // Acquire load in `get_pinned`.
        slot.node.store(node, store.publish_order());
        if fresh {
            // Index < CAPACITY <= 2^32, so + 1 fits in u64.
            store.table.set_len(u64::from(index.get()) + 1);
        }
        self.inserted.push((handle, key));
        Ok(handle)
    }

    /// Stages a replace of `handle`'s value; see [`Store::replace`].
    ///
    /// # Errors
    ///
    /// [`WriteError::Handle`] when `handle` is not live, or
    /// [`WriteError::AlreadyStaged`] when this transaction already changes
    /// it; the value is returned.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<&str> = Store::new();
    /// let a = store.insert(1, "a1").unwrap();
    /// let b = store.insert(2, "b1").unwrap();
    /// let mut txn = store.write();
    /// txn.replace(a, "a2").unwrap();
    /// txn.replace(b, "b2").unwrap();
    /// txn.commit();
    /// let reader = store.reader();
    /// let guard = reader.pin();
    /// assert_eq!((*guard.get(a).unwrap(), *guard.get(b).unwrap()), ("a2", "b2"));
    /// ```
    pub fn replace(&mut self, handle: Handle<C>, value: T) -> Result<(), Refused<T, C>> {
        if let Err(error) = self.check_stageable(handle) {
            return Err(Refused {
                error,
                value: Some(value),
            });
        }
        self.staged.push(Staged::Replace { handle, value });
        Ok(())
    }

    /// Stages a remove of `handle`; see [`Store::remove`].
    ///
    /// # Errors
    ///
    /// As [`WriteTxn::replace`].
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
    /// let mut txn = store.write();
    /// txn.remove(a).unwrap();
    /// txn.remove(b).unwrap();
    /// txn.commit();
    /// assert!(store.reader().pin().find(&1, |_| true).is_none());
    /// ```
    pub fn remove(&mut self, handle: Handle<C>) -> Result<(), Refused<T, C>> {
        if let Err(error) = self.check_stageable(handle) {
            return Err(Refused { error, value: None });
        }
        self.staged.push(Staged::Remove { handle });
        Ok(())
    }

    fn check_stageable(&self, handle: Handle<C>) -> Result<(), WriteError<C>> {
        self.store.check_live(handle).map_err(WriteError::Handle)?;
        if self.staged.iter().any(|s| s.handle() == handle) {
            return Err(WriteError::AlreadyStaged { handle });
        }
        Ok(())
    }

    /// Applies everything staged, publishes the index once, bumps the
    /// revision once, and returns a ticket covering what it retired.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug_store::sync::MODEL_BUILD { return; }
    /// use polyplug_store::Store;
    ///
    /// let store: Store<&str> = Store::new();
    /// let a = store.insert(1, "a1").unwrap();
    /// let before = store.revision();
    /// let mut txn = store.write();
    /// txn.replace(a, "a2").unwrap();
    /// txn.insert(2, "b1").unwrap();
    /// let ticket = txn.commit();
    /// assert_eq!(store.revision().0, before.0 + 1); // one bump for the batch
    /// assert!(store.is_drained(ticket)); // "a1" is gone: no reader held it
    /// ```
    pub fn commit(mut self) -> DrainTicket {
        let store = self.store;
        let mut writer = match self.writer.take() {
            Some(guard) => guard,
            None => unreachable!("writer lock released before the transaction ended"),
        };
        let inserted = core::mem::take(&mut self.inserted);
        let staged = core::mem::take(&mut self.staged);
        let changed = !inserted.is_empty() || !staged.is_empty();
        if changed && store.planted(Bug::RevisionBeforePublish) {
            store.bump_revision();
        }
        // Case 3: replaces.
        let mut removed = Vec::new();
        for change in staged {
            match change {
                Staged::Replace { handle, value } => {
                    let Some(slot) = store.table.slot(handle.index()) else {
                        unreachable!("a staged handle was checked live")
                    };
                    let new = Box::into_raw(Box::new(Node::new(handle.generation(), value)));
                    // Relaxed: only writers store node pointers, under our lock.
                    let old = slot.node.load(Ordering::Relaxed);
                    if store.planted(Bug::RetireBeforeUnpublish) {
                        store.retire_value(&mut writer, old);
                        store.advance(&writer);
                    }
                    // Release: publishes the new node; pairs with the
                    // Acquire load in `get_pinned`.
                    slot.node.store(new, store.publish_order());
                    if !store.planted(Bug::RetireBeforeUnpublish) {
                        store.retire_value(&mut writer, old);
                    }
                }
                Staged::Remove { handle } => removed.push(handle),
            }
        }
        if store.planted(Bug::UnindexAfterEmpty) {
            store.empty_slots(&mut writer, &removed);
        }
        // Cases 2 and 4: one new index snapshot for every insert and remove.
        if !inserted.is_empty() || !removed.is_empty() {
            // Relaxed: only writers store the index pointer, under our lock.
            let old = store.index.load(Ordering::Relaxed);
            // SAFETY: [S8] the published snapshot is never null and only
            // writers retire it, under the lock we hold.
            let mut map = unsafe { &*old }.map.clone();
            for (handle, key) in inserted {
                writer.keys.insert(handle.index().get(), key.clone());
                index::add(&mut map, key, handle);
            }
            for handle in &removed {
                if let Some(key) = writer.keys.remove(&handle.index().get()) {
                    index::remove(&mut map, &key, *handle);
                }
            }
            let new = Box::into_raw(Box::new(IndexNode::new(map)));
            // Release: publishes the new snapshot after the slots it lists
            // (case 2); pairs with the Acquire loads in `find_pinned` and
            // `handles_pinned`.
            store.index.store(new, Ordering::Release);
            store.retire_snapshot(&writer, old);
        }
        // Case 5: empty removed slots, after unindexing them.
        if !store.planted(Bug::UnindexAfterEmpty) {
            store.empty_slots(&mut writer, &removed);
        }
        // Case 7.
        if changed && !store.planted(Bug::RevisionBeforePublish) {
            store.bump_revision();
        }
        let ticket = DrainTicket(writer.last_seq);
        store.advance(&writer);
        drop(writer);
        // Case 8, destruction: after the lock is released.
        store.drain_queues();
        ticket
    }
}

impl<T, K: Eq + Hash + Clone, C: Config> Store<T, K, C> {
    /// Case 5 (and 6): empties each slot and frees it for reuse if its
    /// generation can still grow.
    fn empty_slots(&self, writer: &mut Writer<K>, handles: &[Handle<C>]) {
        for &handle in handles {
            let Some(slot) = self.table.slot(handle.index()) else {
                unreachable!("a staged handle was checked live")
            };
            // Release: a reader that loads null (Acquire) also sees the index
            // snapshot published before it (case 4).
            let old = slot.node.swap(ptr::null_mut(), Ordering::Release);
            self.retire_value(writer, old);
            if handle.generation().next::<C>().is_some() {
                writer.free.push_back(handle.index().get());
            }
        }
    }

    fn bump_revision(&self) {
        // Release: publishes every store of this commit before it; pairs
        // with the Acquire load in `revision` (case 7).
        let order = self.ordering(Ordering::Release, Bug::RelaxedRevision);
        self.revision.fetch_add(1, order);
    }
}

impl<T, K: Eq + Hash + Clone, C: Config> Drop for WriteTxn<'_, T, K, C> {
    /// Case 9: abort.
    fn drop(&mut self) {
        let Some(mut writer) = self.writer.take() else {
            return; // committed
        };
        let store = self.store;
        let inserted = core::mem::take(&mut self.inserted);
        let handles: Vec<Handle<C>> = inserted.into_iter().map(|(h, _)| h).collect();
        store.empty_slots(&mut writer, &handles);
        store.advance(&writer);
        drop(writer);
        // Staged values were never published: drop them after the lock.
        drop(core::mem::take(&mut self.staged));
        store.drain_queues();
    }
}

impl<T, K: Eq + Hash + Clone, C: Config> fmt::Debug for WriteTxn<'_, T, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteTxn")
            .field("inserted", &self.inserted.len())
            .field("staged", &self.staged.len())
            .finish_non_exhaustive()
    }
}
