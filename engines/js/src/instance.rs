//! Instances of stateful contracts: JavaScript objects kept in the
//! QuickJS state of the thread that made them.
//!
//! A QuickJS runtime is single-threaded, so an instance cannot carry its
//! object. The [`JsInstance`] the runtime holds is plain data: the owning
//! thread, the load's generation, and a key into that state's
//! [`Objects`]. A call on another thread finds the owner wrong and fails
//! with a typed fault. A drop on another thread cannot touch the state
//! either: it leaves the key in the state's [`Graves`] and counts the
//! instance *pending*; the owner frees it at its next call into the
//! engine, or when the state goes.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::ThreadId;

use rquickjs::{Object, Persistent};

use crate::state::{Counters, Failure, bump};

/// Keys of instances: never reused, so a key names one object for good.
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

/// The live instances of one load, against `limits.instances`.
#[derive(Debug)]
pub(crate) struct InstanceTally {
    live: AtomicU64,
    counters: Arc<Counters>,
}

impl InstanceTally {
    pub(crate) fn new(counters: Arc<Counters>) -> InstanceTally {
        InstanceTally {
            live: AtomicU64::new(0),
            counters,
        }
    }

    /// Counts a new instance, or refuses it past `limit` live ones.
    pub(crate) fn admit(self: &Arc<InstanceTally>, limit: u64) -> Result<ObjectCount, Failure> {
        // Relaxed: a count checked against a limit; it orders no memory.
        let admitted = self
            .live
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| {
                (live < limit).then_some(live + 1)
            });
        if let Err(live) = admitted {
            return Err(Failure {
                code: polyplug_abi::ERR_BUDGET,
                what: format!("{live} instances are live, the bundle's limit (limits.instances)"),
            });
        }
        bump(&self.counters.instances_made);
        Ok(ObjectCount(Arc::clone(self)))
    }
}

/// One instance's place in its load's tally, given back when its object is
/// freed.
#[derive(Debug)]
pub(crate) struct ObjectCount(Arc<InstanceTally>);

impl Drop for ObjectCount {
    fn drop(&mut self) {
        // Relaxed: a count and a statistic.
        self.0.live.fetch_sub(1, Ordering::Relaxed);
        bump(&self.0.counters.instances_dropped);
    }
}

/// Keys of instances dropped away from their thread, waiting for it.
#[derive(Debug, Default)]
struct GravesInner {
    keys: Vec<u64>,
    /// The state is gone, and its objects with it: nothing waits any more.
    closed: bool,
}

/// The instances of one state that were dropped on another thread.
#[derive(Debug)]
pub(crate) struct Graves {
    inner: Mutex<GravesInner>,
    /// Some key waits: read on every call, so the owner looks under the
    /// lock only when there is something to free.
    waiting: AtomicBool,
    counters: Arc<Counters>,
}

impl Graves {
    fn lock(&self) -> std::sync::MutexGuard<'_, GravesInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Leaves `key` for the owner, counted pending; nothing if the state
    /// is gone (its objects were freed with it).
    fn bury(&self, key: u64) {
        let mut inner = self.lock();
        if inner.closed {
            return;
        }
        inner.keys.push(key);
        // Relaxed: a statistic, changed under the graves lock.
        self.counters
            .instances_pending
            .fetch_add(1, Ordering::Relaxed);
        // Relaxed: a hint; the keys themselves are read under the lock.
        self.waiting.store(true, Ordering::Relaxed);
    }

    /// The keys waiting, taken; each is no longer pending once its object
    /// is dropped, which the caller does.
    fn take(&self) -> Vec<u64> {
        // Relaxed: a hint, see `bury`.
        if !self.waiting.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let mut inner = self.lock();
        self.waiting.store(false, Ordering::Relaxed);
        let keys = std::mem::take(&mut inner.keys);
        // Relaxed: a statistic, changed under the graves lock.
        self.counters
            .instances_pending
            .fetch_sub(keys.len() as u64, Ordering::Relaxed);
        keys
    }
}

/// An instance's object and its count.
struct Slot {
    object: Persistent<Object<'static>>,
    _count: ObjectCount,
}

/// The instance objects of one thread's state of one load, by key.
pub(crate) struct Objects {
    slots: RefCell<HashMap<u64, Slot>>,
    graves: Arc<Graves>,
}

impl Objects {
    pub(crate) fn new(counters: Arc<Counters>) -> Objects {
        Objects {
            slots: RefCell::new(HashMap::new()),
            graves: Arc::new(Graves {
                inner: Mutex::new(GravesInner::default()),
                waiting: AtomicBool::new(false),
                counters,
            }),
        }
    }

    /// Whether no instance lives here.
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.try_borrow().is_ok_and(|slots| slots.is_empty())
    }

    /// Keeps `object` as a new instance on this thread.
    pub(crate) fn insert(
        &self,
        object: Persistent<Object<'static>>,
        count: ObjectCount,
        generation: u64,
    ) -> Result<JsInstance, Failure> {
        let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        let mut slots = self.slots.try_borrow_mut().map_err(|_| {
            Failure::new(
                polyplug_abi::ERR_INTERNAL,
                "the instances of this state are in use",
            )
        })?;
        slots.insert(
            key,
            Slot {
                object,
                _count: count,
            },
        );
        Ok(JsInstance {
            owner: std::thread::current().id(),
            generation,
            key,
            graves: Arc::clone(&self.graves),
            poisoned: None,
        })
    }

    /// The object of instance `key`, if it lives here.
    pub(crate) fn get(&self, key: u64) -> Option<Persistent<Object<'static>>> {
        let slots = self.slots.try_borrow().ok()?;
        slots.get(&key).map(|slot| slot.object.clone())
    }

    /// Frees instance `key`'s object; false if the objects are in use
    /// (the key was not looked at).
    pub(crate) fn remove(&self, key: u64) -> bool {
        let Ok(mut slots) = self.slots.try_borrow_mut() else {
            return false;
        };
        let slot = slots.remove(&key);
        drop(slots);
        drop(slot);
        true
    }

    /// Frees the objects of instances dropped on other threads.
    pub(crate) fn sweep(&self) {
        for key in self.graves.take() {
            self.remove(key);
        }
    }

    /// Whether an instance dropped elsewhere waits to be freed here.
    pub(crate) fn has_graves(&self) -> bool {
        // Relaxed: a hint, see `Graves::bury`.
        self.graves.waiting.load(Ordering::Relaxed)
    }

    pub(crate) fn owns(&self, graves: &Arc<Graves>) -> bool {
        Arc::ptr_eq(&self.graves, graves)
    }
}

impl Objects {
    /// Frees every object: the state is going. Instances dropped elsewhere
    /// stop waiting, and later drops have nothing to free. Called before
    /// the QuickJS runtime goes, which the objects point into.
    pub(crate) fn close(&mut self) {
        let mut inner = self.graves.lock();
        inner.closed = true;
        // Relaxed: a statistic, changed under the graves lock.
        self.graves
            .counters
            .instances_pending
            .fetch_sub(inner.keys.len() as u64, Ordering::Relaxed);
        inner.keys.clear();
        drop(inner);
        self.slots.get_mut().clear();
    }
}

impl Drop for Objects {
    fn drop(&mut self) {
        self.close();
    }
}

/// An instance of a stateful JavaScript contract, as the runtime holds it:
/// which thread's state keeps its object, under which key. `Send`: plain
/// data.
pub(crate) struct JsInstance {
    pub(crate) owner: ThreadId,
    pub(crate) generation: u64,
    pub(crate) key: u64,
    pub(crate) graves: Arc<Graves>,
    /// Why the instance is unusable: the failure that freed its object.
    pub(crate) poisoned: Option<String>,
}

impl Drop for JsInstance {
    fn drop(&mut self) {
        if self.poisoned.is_some() {
            return; // its object was freed when it failed
        }
        if self.owner == std::thread::current().id()
            && crate::state::free_instance(self.generation, &self.graves, self.key)
        {
            return;
        }
        self.graves.bury(self.key);
    }
}
