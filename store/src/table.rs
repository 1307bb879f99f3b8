//! The slot table: segments that double in size, so the table grows without
//! ever moving a live slot.
//!
//! Segment `s` holds `first << s` slots, where `first = 1 << FIRST_SEGMENT_BITS`.
//! A segment is allocated by the writer the first time an index in it is
//! used, published with Release, and freed only when the store is dropped. A
//! reader therefore never sees a reallocation: a slot's address is fixed for
//! the store's lifetime (\[S1\]).

use core::marker::PhantomData;
use core::ptr;

use crate::config::{Config, Layout};
use crate::handle::{Generation, Index};
use crate::reclaim::{Link, Linked};
use crate::sync::{AtomicPtr, AtomicU32, AtomicU64, Ordering};

/// A value together with the generation it was published under.
///
/// Nodes are immutable once published (the link is touched only after
/// retirement), so a reader that loaded the pointer sees one consistent
/// `(generation, value)` pair: never a torn one (\[S2\]).
pub(crate) struct Node<T> {
    pub(crate) generation: Generation,
    pub(crate) value: T,
    link: Link<Node<T>>,
}

impl<T> Node<T> {
    pub(crate) fn new(generation: Generation, value: T) -> Self {
        Self {
            generation,
            value,
            link: Link::new(),
        }
    }
}

impl<T> Node<T> {
    /// Records the retirement sequence number.
    ///
    /// # Safety
    ///
    /// As [`Link::set_seq`]: writer lock held, node retired, once.
    pub(crate) unsafe fn set_link_seq(&self, seq: u64) {
        // SAFETY: [S6] forwarded from our caller.
        unsafe { self.link.set_seq(seq) }
    }

    /// The retirement sequence number.
    ///
    /// # Safety
    ///
    /// As [`Link::seq`]: the node came off a reclaim queue.
    pub(crate) unsafe fn link_seq(&self) -> u64 {
        // SAFETY: [S6] forwarded from our caller.
        unsafe { self.link.seq() }
    }
}

impl<T> Linked for Node<T> {
    fn link(&self) -> &Link<Self> {
        &self.link
    }
}

/// One slot: the published node, if any, and the generation of the last value
/// placed here (0 if none ever was).
pub(crate) struct Slot<T> {
    pub(crate) node: AtomicPtr<Node<T>>,
    pub(crate) generation: AtomicU32,
}

impl<T> Slot<T> {
    fn empty() -> Self {
        Self {
            node: AtomicPtr::new(ptr::null_mut()),
            generation: AtomicU32::new(0),
        }
    }
}

/// The segmented array of slots.
pub(crate) struct Table<T, C: Config> {
    /// Segment `s` points at `first << s` slots, or is null until first used.
    segments: Box<[AtomicPtr<Slot<T>>]>,
    /// Slots handed out so far: every index below `len` has been used at
    /// least once; every index at or above it never has.
    len: AtomicU64,
    config: PhantomData<fn() -> C>,
}

/// Where an index lives: its segment and its offset in that segment.
fn locate<C: Config>(index: Index) -> (usize, usize) {
    let first = 1u64 << C::FIRST_SEGMENT_BITS;
    // Index < 2^32 and first <= 2^16, so no overflow.
    let shifted = u64::from(index.get()) + first;
    // floor(log2(shifted)) >= FIRST_SEGMENT_BITS because shifted >= first.
    let top = 63 - shifted.leading_zeros();
    let segment = top - C::FIRST_SEGMENT_BITS;
    let offset = shifted - (1u64 << top);
    (segment as usize, to_usize(offset))
}

/// Offsets are below 2^32; the store targets 64-bit platforms (a segment of
/// 2^31 slots could not be allocated on a 32-bit one anyway).
#[expect(
    clippy::cast_possible_truncation,
    reason = "offsets are below 2^32 on 64-bit targets"
)]
const fn to_usize(offset: u64) -> usize {
    offset as usize
}

fn segment_len<C: Config>(segment: usize) -> usize {
    1usize << (C::FIRST_SEGMENT_BITS as usize + segment)
}

impl<T, C: Config> Table<T, C> {
    pub(crate) fn new() -> Self {
        let segments = (0..Layout::<C>::SEGMENTS)
            .map(|_| AtomicPtr::new(ptr::null_mut()))
            .collect();
        Self {
            segments,
            len: AtomicU64::new(0),
            config: PhantomData,
        }
    }

    /// The slot at `index`, if its segment exists. Read side: no lock, no
    /// allocation.
    #[inline]
    pub(crate) fn slot(&self, index: Index) -> Option<&Slot<T>> {
        let (segment, offset) = locate::<C>(index);
        // Acquire: pairs with the Release store in `slot_or_grow`, so the
        // segment's initialized slots are visible before we touch them.
        let base = self.segments.get(segment)?.load(Ordering::Acquire);
        if base.is_null() {
            return None;
        }
        // SAFETY: [S1] a non-null segment pointer addresses `segment_len`
        // slots, and `locate` returns an offset below `segment_len(segment)`.
        let slot = unsafe { base.add(offset) };
        // SAFETY: [S1] those slots were initialized before the segment was
        // published and stay allocated until the table is dropped.
        Some(unsafe { &*slot })
    }

    /// The slot at `index`, allocating its segment if needed. Writer side
    /// only (callers hold the writer lock), and `index < CAPACITY`.
    pub(crate) fn slot_or_grow(&self, index: Index) -> &Slot<T> {
        let (segment, offset) = locate::<C>(index);
        let cell = &self.segments[segment];
        // Relaxed: only writers store segment pointers and they hold the lock.
        let mut base = cell.load(Ordering::Relaxed);
        if base.is_null() {
            let slots: Box<[Slot<T>]> = (0..segment_len::<C>(segment))
                .map(|_| Slot::empty())
                .collect();
            base = Box::into_raw(slots).cast::<Slot<T>>();
            // Release: publishes the initialized slots; pairs with the
            // Acquire load in `slot`.
            cell.store(base, Ordering::Release);
        }
        // SAFETY: [S1] `base` addresses `segment_len(segment)` slots and
        // `offset` is below that.
        let slot = unsafe { base.add(offset) };
        // SAFETY: [S1] the slots were initialized before publication and live
        // as long as the table.
        unsafe { &*slot }
    }

    /// How many slots have been handed out (the high-water mark).
    pub(crate) fn len(&self, order: Ordering) -> u64 {
        self.len.load(order)
    }

    /// Raises the high-water mark. Writer side only.
    pub(crate) fn set_len(&self, len: u64) {
        // Release: a reader that sees the new length (Acquire, on its error
        // path) also sees the slot the writer just initialized.
        self.len.store(len, Ordering::Release);
    }

    /// Every used slot, for the store's `Drop`. Exclusive access only.
    pub(crate) fn used_slots(&mut self) -> impl Iterator<Item = &Slot<T>> + '_ {
        let this: &Self = self;
        // Relaxed: `&mut self` proves no other thread can write.
        let len = this.len.load(Ordering::Relaxed);
        (0..len)
            .filter_map(|i| u32::try_from(i).ok())
            .filter_map(move |i| this.slot(Index::new(i)))
    }
}

impl<T, C: Config> Drop for Table<T, C> {
    fn drop(&mut self) {
        for (segment, cell) in self.segments.iter().enumerate() {
            // Relaxed: `&mut self`; no other thread can touch the table.
            let base = cell.load(Ordering::Relaxed);
            if base.is_null() {
                continue;
            }
            let slice = ptr::slice_from_raw_parts_mut(base, segment_len::<C>(segment));
            // SAFETY: [S1] `base` is `Box::into_raw` of exactly this many slots
            // (`slot_or_grow`), freed once, here.
            drop(unsafe { Box::from_raw(slice) });
        }
    }
}
