//! Reclamation: when a retired value may be destroyed, and where.
//!
//! Two steps separate "unpublished" from "destroyed":
//!
//! 1. **Deferral** ([`Reclaim::defer`]). The writer hands the reclaimer a
//!    [`Deferred`] push. The reclaimer runs it only once no read pin that
//!    began before the `defer` call remains, so no reader can still reach the
//!    value (\[S5\]). The deferred step may run on any thread, a reader's
//!    included, so it only pushes the node onto a [`ReclaimQueue`]: one CAS, no
//!    lock, no allocation, no destructor.
//! 2. **Destruction**. The writer side swaps the queue empty and drops what it
//!    took (\[S6\]): on the next write, on an explicit `reclaim()`, and on drop.
//!
//! The reclaimer is chosen by cfg. Production builds, shuttle models and
//! `--cfg loom --cfg crossbeam_loom` models use crossbeam-epoch
//! ([`epoch::EpochReclaimer`]) with a collector the store owns. Plain
//! `--cfg loom` models, where crossbeam-epoch's own atomics would be invisible
//! to loom, use [`model::ModelReclaimer`], a small reclaimer built only from
//! loom primitives that implements the same contract.

use core::marker::PhantomData;
use core::ptr;

use crate::sync::{AtomicPtr, Ordering, UnsafeCell};

#[cfg(any(not(loom), crossbeam_loom))]
pub(crate) mod epoch;
#[cfg(all(loom, not(crossbeam_loom)))]
pub(crate) mod model;

#[cfg(any(not(loom), crossbeam_loom))]
pub(crate) type ActiveReclaimer = epoch::EpochReclaimer;
#[cfg(all(loom, not(crossbeam_loom)))]
pub(crate) type ActiveReclaimer = model::ModelReclaimer;

/// The contract every reclaimer implements.
///
/// - A *participant* is per thread and is not shared; readers keep one for
///   as long as they read; the writer side keeps one for the store's
///   lifetime and uses it only under the writer lock.
/// - A *pin* marks a read-side critical section: every pointer loaded from a
///   published location while pinned stays valid until the pin is dropped.
///   Pins of one participant nest: only the outermost pays for entering the
///   section, and the section lasts until the last of them is dropped.
/// - [`Reclaim::defer`] runs its [`Deferred`] only after every pin that
///   existed when `defer` was called has been dropped.
/// - [`Reclaim::advance`] is called by writers, outside any pin of their own,
///   to push deferred steps along; it never blocks on readers.
pub(crate) trait Reclaim: Send + Sync + Sized {
    /// A thread's registration with the reclaimer.
    type Participant;
    /// A read-side critical section.
    type Pin<'p>
    where
        Self: 'p;

    fn new() -> Self;
    fn participant(&self) -> Self::Participant;
    fn pin<'p>(&'p self, participant: &'p Self::Participant) -> Self::Pin<'p>;
    /// Runs `deferred` once no pin older than this call remains. The caller
    /// has already made the node unreachable from every published location.
    fn defer(&self, participant: &Self::Participant, deferred: Deferred);
    /// Helps deferred steps whose pins are gone to run.
    fn advance(&self, participant: &Self::Participant);
    /// Ends `pin`'s critical section and starts a new one in place, if it
    /// is its participant's only live pin; otherwise does nothing, so a
    /// repin never ends the section of a sibling pin (\[S11\]).
    fn repin(pin: &mut Self::Pin<'_>);
    /// The planted `Bug::RepinUnderGuard`: repins even under sibling pins.
    /// Only the model reclaimer can do this; the others just [`Reclaim::repin`].
    fn repin_ignoring_nesting(pin: &mut Self::Pin<'_>) {
        Self::repin(pin);
    }
    /// The planted `Bug::RepinWithoutFence`: a re-pin with no fence after
    /// it. Only crossbeam-epoch's re-pin has that fence to leave out.
    fn repin_without_fence(pin: &mut Self::Pin<'_>) {
        Self::repin(pin);
    }
}

/// A type-erased "push this node onto that queue", small enough (three
/// words) that crossbeam-epoch stores it inline without allocating.
pub(crate) struct Deferred {
    push: unsafe fn(*mut (), *const ()),
    node: *mut (),
    queue: *const (),
}

impl Deferred {
    /// Builds the deferred push of `node` onto `queue`.
    ///
    /// # Safety
    ///
    /// `node` comes from `Box::into_raw`, is unreachable from every published
    /// location, and is pushed by no one else; `queue` outlives every call of
    /// the returned value (\[S7\]: the queue lives in the store's heap and is
    /// dropped only after the reclaimer has run every deferred step).
    pub(crate) unsafe fn push_later<N: Linked>(node: *mut N, queue: &ReclaimQueue<N>) -> Self {
        Self {
            push: push_erased::<N>,
            node: node.cast(),
            queue: ptr::from_ref(queue).cast(),
        }
    }

    /// Runs the push.
    ///
    /// # Safety
    ///
    /// Called at most once, when no reader can reach the node any more.
    pub(crate) unsafe fn run(self) {
        // SAFETY: [S5][S7] `push_later`'s caller guaranteed the node and
        // queue; our caller guarantees this runs once, after every old pin.
        unsafe { (self.push)(self.node, self.queue) }
    }
}

/// # Safety
///
/// `node` is a `*mut N` and `queue` a `*const ReclaimQueue<N>`, as built by
/// [`Deferred::push_later`].
unsafe fn push_erased<N: Linked>(node: *mut (), queue: *const ()) {
    let queue = queue.cast::<ReclaimQueue<N>>();
    // SAFETY: [S7] the queue outlives every deferred step.
    let queue = unsafe { &*queue };
    // SAFETY: [S7] the node is retired, exclusively ours to push.
    unsafe { queue.push(node.cast::<N>()) }
}

/// The intrusive link a retired node carries: the next node in the reclaim
/// queue, and the retirement sequence number the drain counts by.
pub(crate) struct Link<N> {
    next: UnsafeCell<*mut N>,
    seq: UnsafeCell<u64>,
}

impl<N> Link<N> {
    pub(crate) fn new() -> Self {
        Self {
            next: UnsafeCell::new(ptr::null_mut()),
            seq: UnsafeCell::new(0),
        }
    }

    /// Records the retirement sequence number; 0 means "not counted".
    ///
    /// # Safety
    ///
    /// Only the writer holding the writer lock calls this, once per node,
    /// before the node is deferred. Readers never touch a link.
    pub(crate) unsafe fn set_seq(&self, seq: u64) {
        // SAFETY: [S6] only the locked writer writes `seq`, and nobody reads
        // it until the node has passed through deferral and the queue.
        self.seq.with_mut(|p| unsafe { *p = seq });
    }

    /// The sequence number recorded by [`Link::set_seq`].
    ///
    /// # Safety
    ///
    /// The node has been taken off a [`ReclaimQueue`] by the caller.
    pub(crate) unsafe fn seq(&self) -> u64 {
        // SAFETY: [S6] the node came off the queue with Acquire, which orders
        // the writer's `set_seq` before this read; no one writes it again.
        self.seq.with(|p| unsafe { *p })
    }
}

/// Something that can wait in a [`ReclaimQueue`].
pub(crate) trait Linked {
    fn link(&self) -> &Link<Self>
    where
        Self: Sized;
}

/// A lock-free stack of retired nodes waiting to be destroyed on the writer
/// side: any thread pushes, the writer side swaps the whole stack out.
///
/// Push-only plus take-all has no ABA problem: a push's CAS compares against
/// the head it linked to, and nodes leave only by a swap of the whole list.
pub(crate) struct ReclaimQueue<N> {
    head: AtomicPtr<N>,
    owns: PhantomData<Box<N>>,
}

impl<N: Linked> ReclaimQueue<N> {
    pub(crate) fn new() -> Self {
        Self {
            head: AtomicPtr::new(ptr::null_mut()),
            owns: PhantomData,
        }
    }

    /// Pushes a retired node.
    ///
    /// # Safety
    ///
    /// `node` comes from `Box::into_raw`, no reader can reach it, and it is
    /// pushed once.
    pub(crate) unsafe fn push(&self, node: *mut N) {
        // Relaxed: only the CAS below publishes; a stale head makes it retry.
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // SAFETY: [S7] `node` is exclusively ours until the CAS publishes it.
            let link = unsafe { (*node).link() };
            // SAFETY: [S7] no other thread can see `node` yet, so this write
            // cannot race.
            link.next.with_mut(|p| unsafe { *p = head });
            // Release: publishes `next` and the writer's earlier `set_seq`
            // (which happens-before this deferred step) to `take_all`'s
            // Acquire swap. Relaxed on failure: we only retry.
            match self
                .head
                .compare_exchange_weak(head, node, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => head = actual,
            }
        }
    }

    /// Takes every node pushed so far, newest first.
    pub(crate) fn take_all(&self) -> Taken<N> {
        // Acquire: pairs with the Release CAS in `push`, so each node's link
        // and everything written before its push are visible to us.
        Taken {
            next: self.head.swap(ptr::null_mut(), Ordering::Acquire),
        }
    }
}

impl<N> Drop for ReclaimQueue<N> {
    fn drop(&mut self) {
        debug_assert!(
            // Relaxed: we have `&mut self`; no other thread can push.
            self.head.load(Ordering::Relaxed).is_null(),
            "the store drains its reclaim queues before dropping them"
        );
    }
}

/// Nodes taken off a [`ReclaimQueue`], handed out as owned boxes.
pub(crate) struct Taken<N: Linked> {
    next: *mut N,
}

impl<N: Linked> Iterator for Taken<N> {
    type Item = Box<N>;

    fn next(&mut self) -> Option<Box<N>> {
        if self.next.is_null() {
            return None;
        }
        let node = self.next;
        // SAFETY: [S7] nodes in a taken list are exclusively ours.
        let link = unsafe { (*node).link() };
        // SAFETY: [S7] `next` was published by the Release CAS in `push` that
        // `take_all`'s Acquire swap synchronized with.
        self.next = link.next.with(|p| unsafe { *p });
        // SAFETY: [S7] every queued node came from `Box::into_raw` and is
        // handed out exactly once.
        Some(unsafe { Box::from_raw(node) })
    }
}

impl<N: Linked> Drop for Taken<N> {
    fn drop(&mut self) {
        // A caller that stops early (or unwinds) must not leak the rest.
        for node in self.by_ref() {
            drop(node);
        }
    }
}
