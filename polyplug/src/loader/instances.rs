//! Instances of engine-run stateful contracts: the part every script
//! engine shares.
//!
//! # The problem
//!
//! A script engine (Lua, JavaScript, Python) makes an instance of a
//! stateful contract by calling the script's constructor; the object it
//! gets lives in the engine. Every engine must count its live instances
//! against the bundle's `limits.instances`, refuse a call on an instance
//! made by another load or made unusable by a failure, and keep
//! statistics of instances made, freed and pending. An engine whose state
//! is bound to one thread (a Lua state, a QuickJS runtime) cannot let an
//! instance carry its object either: the instance the runtime holds must
//! be plain data, and a drop on another thread must leave the object for
//! its own thread to free.
//!
//! # The concepts
//!
//! - [`InstanceCounters`]: the statistics, shared by every load of one
//!   loader; [`InstanceTally`]: the live instances of one load, against
//!   its limit; [`ObjectCount`]: one instance's place in the tally, given
//!   back when its object is freed.
//! - [`Standing`]: which load made an instance, and whether a failure has
//!   made it unusable; checked before every call on it.
//! - For engines bound to a thread: [`Objects`], the objects of one
//!   thread's state by key, and [`ThreadInstance`], what the runtime
//!   holds (the owning thread, a key, the state's [`Graves`]). A drop on
//!   the owning thread frees the object at once (through
//!   [`ThreadHome::free`], which finds the state); a drop elsewhere
//!   leaves the key in the graves, *pending*, until the owner's next
//!   [`Objects::sweep`] or until the state goes.
//! - [`handover_given`]: whether a script's stateful contract hands an
//!   instance's state over across a reload (its `save` and `restore`, both
//!   or neither), or what to refuse at load.
//!
//! # Guarantees
//!
//! - The call path takes no lock: [`Objects`] is the thread's own, and
//!   the graves are looked at under their lock only when a key waits.
//! - A key is never reused, so a stale key never names another object.
//! - Nothing here is `unsafe`; objects never leave their thread
//!   ([`Objects`] is `!Send` when its objects are).
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use polyplug::loader::instances::{
//!     Graves, InstanceCounters, InstanceTally, Objects, ThreadHome, ThreadInstance,
//! };
//!
//! thread_local! {
//!     static STATE: Objects<String> = Objects::new(Arc::new(InstanceCounters::default()));
//! }
//!
//! struct Home;
//! impl ThreadHome for Home {
//!     const LANGUAGE: &'static str = "Demo";
//!     const STATE: &'static str = "demo state";
//!     fn free(_generation: u64, graves: &Arc<Graves>, key: u64) -> bool {
//!         STATE.with(|objects| objects.owns(graves) && objects.remove(key))
//!     }
//! }
//!
//! let counters = Arc::new(InstanceCounters::default());
//! let tally = Arc::new(InstanceTally::new(Arc::clone(&counters)));
//! let instance: ThreadInstance<Home> = STATE.with(|objects| {
//!     let count = tally.admit(8)?;
//!     objects.insert("the object".to_owned(), count, 1)
//! })?;
//! assert!(instance.check(1).is_ok());
//! assert_eq!(STATE.with(|objects| objects.get(instance.key())).as_deref(), Some("the object"));
//! drop(instance); // on its own thread: the object is freed at once
//! assert!(STATE.with(|objects| objects.is_empty()));
//! assert_eq!((counters.made(), counters.dropped()), (1, 1));
//! # Ok::<(), polyplug::loader::Fault>(())
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

use polyplug_abi::{ERR_BAD_ARGUMENT, ERR_BUDGET, ERR_INTERNAL, ERR_TRAP};

use super::Fault;

/// Keys of instances: never reused, so a key names one object for good.
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

fn bump(counter: &AtomicU64) {
    // Relaxed: a statistic.
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The instance statistics of one loader, every load's. Relaxed
/// throughout: statistics, publishing no memory.
///
/// ```
/// let counters = polyplug::loader::instances::InstanceCounters::default();
/// assert_eq!((counters.made(), counters.dropped(), counters.pending()), (0, 0, 0));
/// ```
#[derive(Debug, Default)]
pub struct InstanceCounters {
    made: AtomicU64,
    dropped: AtomicU64,
    pending: AtomicU64,
}

impl InstanceCounters {
    /// Instances made (admitted by a tally).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use polyplug::loader::instances::{InstanceCounters, InstanceTally};
    /// let counters = Arc::new(InstanceCounters::default());
    /// let _count = Arc::new(InstanceTally::new(Arc::clone(&counters))).admit(1)?;
    /// assert_eq!(counters.made(), 1);
    /// # Ok::<(), polyplug::loader::Fault>(())
    /// ```
    pub fn made(&self) -> u64 {
        // Relaxed: a statistic.
        self.made.load(Ordering::Relaxed)
    }

    /// Instance objects freed (their [`ObjectCount`] dropped).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use polyplug::loader::instances::{InstanceCounters, InstanceTally};
    /// let counters = Arc::new(InstanceCounters::default());
    /// drop(Arc::new(InstanceTally::new(Arc::clone(&counters))).admit(1)?);
    /// assert_eq!(counters.dropped(), 1);
    /// # Ok::<(), polyplug::loader::Fault>(())
    /// ```
    pub fn dropped(&self) -> u64 {
        // Relaxed: a statistic.
        self.dropped.load(Ordering::Relaxed)
    }

    /// Instances dropped away from their thread whose objects wait for it.
    ///
    /// ```
    /// let counters = polyplug::loader::instances::InstanceCounters::default();
    /// assert_eq!(counters.pending(), 0);
    /// ```
    pub fn pending(&self) -> u64 {
        // Relaxed: a statistic.
        self.pending.load(Ordering::Relaxed)
    }
}

/// The live instances of one load, against `limits.instances`.
///
/// ```
/// use std::sync::Arc;
/// use polyplug::loader::instances::{InstanceCounters, InstanceTally};
///
/// let tally = Arc::new(InstanceTally::new(Arc::new(InstanceCounters::default())));
/// let first = tally.admit(1)?;
/// assert_eq!(tally.admit(1).err().map(|f| f.code), Some(polyplug_abi::ERR_BUDGET));
/// drop(first);
/// assert!(tally.admit(1).is_ok());
/// # Ok::<(), polyplug::loader::Fault>(())
/// ```
#[derive(Debug)]
pub struct InstanceTally {
    live: AtomicU64,
    counters: Arc<InstanceCounters>,
}

impl InstanceTally {
    /// An empty tally counting into `counters`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use polyplug::loader::instances::{InstanceCounters, InstanceTally};
    /// let tally = InstanceTally::new(Arc::new(InstanceCounters::default()));
    /// # drop(tally);
    /// ```
    pub fn new(counters: Arc<InstanceCounters>) -> InstanceTally {
        InstanceTally {
            live: AtomicU64::new(0),
            counters,
        }
    }

    /// Counts a new instance, or refuses it past `limit` live ones.
    ///
    /// # Errors
    ///
    /// `ERR_BUDGET` when `limit` instances of this load are live.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use polyplug::loader::instances::{InstanceCounters, InstanceTally};
    /// let tally = Arc::new(InstanceTally::new(Arc::new(InstanceCounters::default())));
    /// assert!(tally.admit(0).is_err());
    /// ```
    pub fn admit(self: &Arc<InstanceTally>, limit: u64) -> Result<ObjectCount, Fault> {
        // Relaxed: a count checked against a limit; it orders no memory.
        let admitted = self
            .live
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| {
                (live < limit).then_some(live + 1)
            });
        if let Err(live) = admitted {
            return Err(Fault::new(
                ERR_BUDGET,
                format!("{live} instances are live, the bundle's limit (limits.instances)"),
            ));
        }
        bump(&self.counters.made);
        Ok(ObjectCount(Arc::clone(self)))
    }
}

/// One instance's place in its load's tally, given back when dropped: keep
/// it with the instance's object, and drop it when the object is freed.
///
/// ```
/// # use std::sync::Arc;
/// use polyplug::loader::instances::{InstanceCounters, InstanceTally};
/// let tally = Arc::new(InstanceTally::new(Arc::new(InstanceCounters::default())));
/// let count = tally.admit(1)?;
/// drop(count); // the place is free again
/// assert!(tally.admit(1).is_ok());
/// # Ok::<(), polyplug::loader::Fault>(())
/// ```
#[derive(Debug)]
pub struct ObjectCount(Arc<InstanceTally>);

impl Drop for ObjectCount {
    fn drop(&mut self) {
        // Relaxed: a count and a statistic.
        self.0.live.fetch_sub(1, Ordering::Relaxed);
        bump(&self.0.counters.dropped);
    }
}

/// Whether a stateful contract hands its state over, from which of its
/// two handover functions its script gives: `save` (the state of an
/// instance, as bytes) and `restore` (a new instance from such bytes).
/// Both make a handover; neither, none.
///
/// # Errors
///
/// One without the other: what to say at load, naming the field given
/// and the one missing, for the engine to put after the bundle, file and
/// contract.
///
/// ```
/// use polyplug::loader::instances::handover_given;
///
/// assert_eq!(handover_given(true, true), Ok(true));
/// assert_eq!(handover_given(false, false), Ok(false));
/// let why = handover_given(true, false).unwrap_err();
/// assert!(why.contains("`save`") && why.contains("no `restore`"), "{why}");
/// ```
pub fn handover_given(save: bool, restore: bool) -> Result<bool, String> {
    let (given, missing) = match (save, restore) {
        (true, true) => return Ok(true),
        (false, false) => return Ok(false),
        (true, false) => ("save", "restore"),
        (false, true) => ("restore", "save"),
    };
    Err(format!(
        "function {given}: the contract gives `{given}` but no `{missing}`: an instance's state is handed over by both (`save` writes it, `restore` makes an instance from it), or by neither"
    ))
}

/// Which load made an instance, and why it is unusable if a failure made
/// it so. Checked before every call on the instance.
///
/// ```
/// use polyplug::loader::instances::Standing;
///
/// let mut standing = Standing::new(7);
/// assert!(standing.check(7).is_ok());
/// assert_eq!(standing.check(8).map_err(|f| f.code), Err(polyplug_abi::ERR_BAD_ARGUMENT));
/// standing.poison("out of fuel".to_owned());
/// assert_eq!(standing.check(7).map_err(|f| f.code), Err(polyplug_abi::ERR_TRAP));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    generation: u64,
    poisoned: Option<String>,
}

impl Standing {
    /// An instance made by load `generation`, usable.
    ///
    /// ```
    /// assert_eq!(polyplug::loader::instances::Standing::new(3).generation(), 3);
    /// ```
    pub fn new(generation: u64) -> Standing {
        Standing {
            generation,
            poisoned: None,
        }
    }

    /// The load that made the instance.
    ///
    /// ```
    /// assert_eq!(polyplug::loader::instances::Standing::new(3).generation(), 3);
    /// ```
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Why the instance is unusable, if it is.
    ///
    /// ```
    /// let mut standing = polyplug::loader::instances::Standing::new(1);
    /// standing.poison("raised".to_owned());
    /// assert_eq!(standing.poisoned(), Some("raised"));
    /// ```
    pub fn poisoned(&self) -> Option<&str> {
        self.poisoned.as_deref()
    }

    /// Marks the instance unusable: a call on it failed, `why`, and its
    /// object may be half-updated (the engine frees it).
    ///
    /// ```
    /// let mut standing = polyplug::loader::instances::Standing::new(1);
    /// standing.poison("raised".to_owned());
    /// assert!(standing.check(1).is_err());
    /// ```
    pub fn poison(&mut self, why: String) {
        self.poisoned = Some(why);
    }

    /// Whether a call of load `generation` may run on the instance.
    ///
    /// # Errors
    ///
    /// `ERR_BAD_ARGUMENT` if another load made the instance; `ERR_TRAP`
    /// if a failure made it unusable.
    ///
    /// ```
    /// assert!(polyplug::loader::instances::Standing::new(1).check(1).is_ok());
    /// ```
    pub fn check(&self, generation: u64) -> Result<(), Fault> {
        if self.generation != generation {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                "the instance was made by another load of the bundle",
            ));
        }
        if let Some(why) = &self.poisoned {
            return Err(Fault::new(
                ERR_TRAP,
                format!(
                    "the instance is unusable after an earlier failure ({why}); create a new instance"
                ),
            ));
        }
        Ok(())
    }
}

/// Keys of instances dropped away from their thread, waiting for it.
#[derive(Debug, Default)]
struct GravesInner {
    keys: Vec<u64>,
    /// The state is gone, and its objects with it: nothing waits any more.
    closed: bool,
}

/// The instances of one thread's state that were dropped on another
/// thread: their keys, waiting for the owner's next
/// [`Objects::sweep`]. Made by [`Objects::new`]; an engine only passes it
/// around.
#[derive(Debug)]
pub struct Graves {
    inner: Mutex<GravesInner>,
    /// Some key waits: read on every call, so the owner looks under the
    /// lock only when there is something to free.
    waiting: AtomicBool,
    counters: Arc<InstanceCounters>,
}

impl Graves {
    fn lock(&self) -> MutexGuard<'_, GravesInner> {
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
        self.counters.pending.fetch_add(1, Ordering::Relaxed);
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
            .pending
            .fetch_sub(keys.len() as u64, Ordering::Relaxed);
        keys
    }
}

/// An instance's object and its count.
struct Slot<T> {
    object: T,
    _count: ObjectCount,
}

/// The instance objects of one thread's state of one load, by key. Keep
/// it in the state, dropped (or [`close`](Objects::close)d) before the
/// engine the objects point into.
///
/// ```
/// use std::sync::Arc;
/// use polyplug::loader::instances::{InstanceCounters, Objects};
///
/// let objects: Objects<u32> = Objects::new(Arc::new(InstanceCounters::default()));
/// assert!(objects.is_empty());
/// ```
pub struct Objects<T> {
    slots: RefCell<HashMap<u64, Slot<T>>>,
    graves: Arc<Graves>,
}

impl<T> fmt::Debug for Objects<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Objects")
            .field("graves", &self.graves)
            .finish_non_exhaustive()
    }
}

impl<T> Objects<T> {
    /// No objects yet; pending drops count into `counters`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use polyplug::loader::instances::{InstanceCounters, Objects};
    /// let objects: Objects<()> = Objects::new(Arc::new(InstanceCounters::default()));
    /// assert!(!objects.has_graves());
    /// ```
    pub fn new(counters: Arc<InstanceCounters>) -> Objects<T> {
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
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use polyplug::loader::instances::{InstanceCounters, Objects};
    /// let objects: Objects<()> = Objects::new(Arc::new(InstanceCounters::default()));
    /// assert!(objects.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.slots.try_borrow().is_ok_and(|slots| slots.is_empty())
    }

    /// Keeps `object` as a new instance of load `generation`, owned by
    /// this thread.
    ///
    /// # Errors
    ///
    /// `ERR_INTERNAL` if the objects are in use (a call into the engine
    /// from inside [`Objects::remove`]'s drop).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use polyplug::loader::instances::{InstanceCounters, InstanceTally, Objects, ThreadHome, Graves, ThreadInstance};
    /// # struct Home;
    /// # impl ThreadHome for Home {
    /// #     const LANGUAGE: &'static str = "Demo";
    /// #     const STATE: &'static str = "demo state";
    /// #     fn free(_: u64, _: &Arc<Graves>, _: u64) -> bool { false }
    /// # }
    /// let counters = Arc::new(InstanceCounters::default());
    /// let objects = Objects::new(Arc::clone(&counters));
    /// let count = Arc::new(InstanceTally::new(counters)).admit(1)?;
    /// let instance: ThreadInstance<Home> = objects.insert(5u32, count, 1)?;
    /// assert_eq!(objects.get(instance.key()), Some(5));
    /// # Ok::<(), polyplug::loader::Fault>(())
    /// ```
    pub fn insert<H: ThreadHome>(
        &self,
        object: T,
        count: ObjectCount,
        generation: u64,
    ) -> Result<ThreadInstance<H>, Fault> {
        // Relaxed: a unique number; it orders no memory.
        let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        let mut slots = self
            .slots
            .try_borrow_mut()
            .map_err(|_| Fault::new(ERR_INTERNAL, "the instances of this state are in use"))?;
        slots.insert(
            key,
            Slot {
                object,
                _count: count,
            },
        );
        Ok(ThreadInstance {
            owner: std::thread::current().id(),
            key,
            graves: Arc::clone(&self.graves),
            standing: Standing::new(generation),
            home: PhantomData,
        })
    }

    /// The object of instance `key`, if it lives here.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use polyplug::loader::instances::{InstanceCounters, Objects};
    /// let objects: Objects<u32> = Objects::new(Arc::new(InstanceCounters::default()));
    /// assert_eq!(objects.get(1), None);
    /// ```
    pub fn get(&self, key: u64) -> Option<T>
    where
        T: Clone,
    {
        let slots = self.slots.try_borrow().ok()?;
        slots.get(&key).map(|slot| slot.object.clone())
    }

    /// Frees instance `key`'s object; false if the objects are in use
    /// (the key was not looked at).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use polyplug::loader::instances::{InstanceCounters, Objects};
    /// let objects: Objects<u32> = Objects::new(Arc::new(InstanceCounters::default()));
    /// assert!(objects.remove(1)); // nothing to free, but looked at
    /// ```
    pub fn remove(&self, key: u64) -> bool {
        let Ok(mut slots) = self.slots.try_borrow_mut() else {
            return false;
        };
        let slot = slots.remove(&key);
        // The object is dropped after the borrow ends: its finalizer may
        // call into the engine, and so back here.
        drop(slots);
        drop(slot);
        true
    }

    /// Frees the objects of instances dropped on other threads. Call it
    /// on every call into the engine on this thread, when
    /// [`has_graves`](Objects::has_graves) says something waits.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use polyplug::loader::instances::{InstanceCounters, Objects};
    /// let objects: Objects<u32> = Objects::new(Arc::new(InstanceCounters::default()));
    /// objects.sweep();
    /// assert!(objects.is_empty());
    /// ```
    pub fn sweep(&self) {
        for key in self.graves.take() {
            self.remove(key);
        }
    }

    /// Whether an instance dropped elsewhere waits to be freed here.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use polyplug::loader::instances::{InstanceCounters, Objects};
    /// let objects: Objects<u32> = Objects::new(Arc::new(InstanceCounters::default()));
    /// assert!(!objects.has_graves());
    /// ```
    pub fn has_graves(&self) -> bool {
        // Relaxed: a hint, see `Graves::bury`.
        self.graves.waiting.load(Ordering::Relaxed)
    }

    /// Whether `graves` are these objects' (an instance's graves name the
    /// state that keeps its object): what [`ThreadHome::free`] checks.
    ///
    /// See the [module example](self).
    pub fn owns(&self, graves: &Arc<Graves>) -> bool {
        Arc::ptr_eq(&self.graves, graves)
    }

    /// Frees every object: the state is going. Instances dropped
    /// elsewhere stop waiting, and later drops have nothing to free. Also
    /// done on drop; call it first where the objects must go before
    /// something else the state holds.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use polyplug::loader::instances::{InstanceCounters, Objects};
    /// let mut objects: Objects<u32> = Objects::new(Arc::new(InstanceCounters::default()));
    /// objects.close();
    /// assert!(objects.is_empty());
    /// ```
    pub fn close(&mut self) {
        let mut inner = self.graves.lock();
        inner.closed = true;
        // Relaxed: a statistic, changed under the graves lock.
        self.graves
            .counters
            .pending
            .fetch_sub(inner.keys.len() as u64, Ordering::Relaxed);
        inner.keys.clear();
        drop(inner);
        self.slots.get_mut().clear();
    }
}

impl<T> Drop for Objects<T> {
    fn drop(&mut self) {
        self.close();
    }
}

/// Where an engine bound to a thread keeps its instances: how a drop on
/// the owning thread finds the state, and how errors name the engine.
///
/// ```
/// use std::sync::Arc;
/// use polyplug::loader::instances::{Graves, ThreadHome};
///
/// struct Home;
/// impl ThreadHome for Home {
///     const LANGUAGE: &'static str = "Lua";
///     const STATE: &'static str = "Lua state";
///     fn free(_generation: u64, _graves: &Arc<Graves>, _key: u64) -> bool {
///         false // no state here: the key waits in the graves
///     }
/// }
/// # let _ = Home;
/// ```
pub trait ThreadHome: 'static {
    /// The language, as errors name it ("Lua").
    const LANGUAGE: &'static str;
    /// What holds an instance's object, as errors name it ("Lua state").
    const STATE: &'static str;

    /// Frees instance `key` of this thread's state of load `generation`,
    /// the state whose [`Objects::owns`] `graves`; false if that state is
    /// not here or busy (the key then waits in `graves`).
    fn free(generation: u64, graves: &Arc<Graves>, key: u64) -> bool;
}

/// An instance of a stateful contract run by an engine bound to a thread,
/// as the runtime holds it: which thread's state keeps its object, under
/// which key. `Send`: plain data. Made by [`Objects::insert`].
pub struct ThreadInstance<H: ThreadHome> {
    owner: ThreadId,
    key: u64,
    graves: Arc<Graves>,
    standing: Standing,
    /// `fn() -> H`: the home names code, not data; the instance stays
    /// `Send` whatever `H` is.
    home: PhantomData<fn() -> H>,
}

impl<H: ThreadHome> fmt::Debug for ThreadInstance<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadInstance")
            .field("language", &H::LANGUAGE)
            .field("owner", &self.owner)
            .field("key", &self.key)
            .field("standing", &self.standing)
            .finish_non_exhaustive()
    }
}

impl<H: ThreadHome> ThreadInstance<H> {
    /// The key of the instance's object in its state's [`Objects`].
    ///
    /// See the [module example](self).
    pub fn key(&self) -> u64 {
        self.key
    }

    /// Which load made the instance, and whether it is usable.
    ///
    /// See [`Standing`].
    pub fn standing(&self) -> &Standing {
        &self.standing
    }

    /// Marks the instance unusable after a failed call, `why`; the caller
    /// frees its object ([`Objects::remove`]), and the drop does nothing.
    ///
    /// See [`Standing::poison`].
    pub fn poison(&mut self, why: String) {
        self.standing.poison(why);
    }

    /// Whether a call of load `generation` may run on the instance on
    /// this thread.
    ///
    /// # Errors
    ///
    /// `ERR_BAD_ARGUMENT` on another thread than the owner, or for
    /// another load; `ERR_TRAP` if a failure made the instance unusable.
    ///
    /// See the [module example](self).
    pub fn check(&self, generation: u64) -> Result<(), Fault> {
        if self.owner != std::thread::current().id() {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                format!(
                    "the instance belongs to another thread ({:?}): a {} instance lives in the {} of the thread that created it, and is called on that thread only",
                    self.owner,
                    H::LANGUAGE,
                    H::STATE
                ),
            ));
        }
        self.standing.check(generation)
    }
}

impl<H: ThreadHome> Drop for ThreadInstance<H> {
    fn drop(&mut self) {
        if self.standing.poisoned.is_some() {
            return; // its object was freed when it failed
        }
        if self.owner == std::thread::current().id()
            && H::free(self.standing.generation, &self.graves, self.key)
        {
            return;
        }
        self.graves.bury(self.key);
    }
}
