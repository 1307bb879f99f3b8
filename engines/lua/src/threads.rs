//! Per-thread Lua states: each calling thread gets its own state of a
//! load, made on its first call, kept in a thread-local list, so threads
//! never share a state and never queue on a lock.
//!
//! A state is `!Send`: only its thread can free it. When a load is
//! dropped (reload, unload), its states on other threads become
//! *pending*; each thread frees its pending states at its next call into
//! any Lua load, or when it exits. [`LuaStats`](crate::LuaStats) counts
//! both.
//!
//! A call looks for pending states only when some load was dropped since
//! this thread last looked: [`Liveness`] counts the drops in one global
//! counter, and a call compares it with the count its thread last swept
//! at, one atomic load, no lock.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use mlua::{Function, Lua};
use polyplug::loader::instances::{Graves, InstanceCounters};

use crate::instance::Objects;
use crate::sandbox::{Failure, Meter};

/// The counters behind [`LuaStats`](crate::LuaStats). Relaxed loads and
/// stores: statistics; the pending count is changed under a load's
/// [`Tally`] lock.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) loads: AtomicU64,
    pub(crate) loads_dropped: AtomicU64,
    pub(crate) states_made: AtomicU64,
    pub(crate) states_dropped: AtomicU64,
    pub(crate) pending: AtomicU64,
    pub(crate) instances: Arc<InstanceCounters>,
}

pub(crate) fn bump(counter: &AtomicU64) {
    // Relaxed: a statistic.
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The live states of one load, and whether the load is gone.
#[derive(Debug, Default)]
struct TallyInner {
    live: u64,
    gone: bool,
}

/// The states of one load, counted under a lock taken only when a state
/// is made or freed and when the load is dropped: never on a call.
#[derive(Debug)]
pub(crate) struct Tally {
    inner: Mutex<TallyInner>,
    pub(crate) counters: Arc<Counters>,
}

impl Tally {
    pub(crate) fn new(counters: Arc<Counters>) -> Tally {
        Tally {
            inner: Mutex::new(TallyInner::default()),
            counters,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TallyInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a new state, or refuses it past `limit` live states.
    pub(crate) fn admit(self: &Arc<Tally>, limit: u64) -> Result<Counted, Failure> {
        let mut inner = self.lock();
        if inner.live >= limit {
            return Err(Failure {
                code: polyplug_abi::ERR_BUDGET,
                what: format!(
                    "{} Lua states are live, the bundle's limit (limits.instances)",
                    inner.live
                ),
            });
        }
        inner.live += 1;
        bump(&self.counters.states_made);
        Ok(Counted(Arc::clone(self)))
    }

    /// The load is dropped: its live states become pending.
    pub(crate) fn load_gone(&self) {
        let mut inner = self.lock();
        inner.gone = true;
        // Relaxed: a statistic, changed under the tally lock.
        self.counters
            .pending
            .fetch_add(inner.live, Ordering::Relaxed);
        bump(&self.counters.loads_dropped);
    }
}

/// One state's place in its load's tally, given back on drop.
#[derive(Debug)]
pub(crate) struct Counted(Arc<Tally>);

impl Drop for Counted {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.live = inner.live.saturating_sub(1);
        bump(&self.0.counters.states_dropped);
        if inner.gone {
            // Relaxed: a statistic, changed under the tally lock.
            self.0.counters.pending.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// One thread's state of one load. Fields drop in order: the instance
/// objects, the functions, then the state, then its count.
pub(crate) struct ThreadState {
    pub(crate) objects: Objects,
    /// By the index calls use; `None` for the methods of a stateful
    /// contract, which are called on an instance's object.
    pub(crate) functions: Vec<Option<Function>>,
    /// The `new` of each stateful contract, by the index its instance
    /// maker uses.
    pub(crate) constructors: Vec<Function>,
    /// The `save` and `restore` of each stateful contract that gives
    /// them, by the same index.
    pub(crate) handovers: Vec<Option<crate::loader::Handover>>,
    pub(crate) lua: Lua,
    pub(crate) meter: Rc<Meter>,
    pub(crate) _counted: Counted,
}

struct Entry {
    generation: u64,
    /// The load's liveness: dead once the load is dropped.
    alive: Weak<()>,
    state: Rc<ThreadState>,
}

/// Loads dropped so far, by every Lua loader of the process: bumped once
/// a load's liveness is gone, so a thread that sees a new count finds
/// that load's states dead.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// A load's liveness: its states are held with a [`Weak`] of it, dead
/// once this drops; the drop is then counted in [`DROPPED`].
#[derive(Debug)]
pub(crate) struct Liveness(Option<Arc<()>>);

impl Liveness {
    pub(crate) fn new() -> Liveness {
        Liveness(Some(Arc::new(())))
    }

    /// What a state of the load holds.
    pub(crate) fn weak(&self) -> Weak<()> {
        self.0.as_ref().map_or_else(Weak::new, Arc::downgrade)
    }
}

impl Drop for Liveness {
    fn drop(&mut self) {
        drop(self.0.take());
        // Release: publishes the dropped liveness (strong count 0) to a
        // thread whose Acquire load in `find_quiet` or `free_pending`
        // reads this count; it then finds the load's states dead.
        DROPPED.fetch_add(1, Ordering::Release);
    }
}

/// One thread's states, and the [`DROPPED`] count it last swept at.
struct Local {
    states: RefCell<Vec<Entry>>,
    swept: Cell<u64>,
}

thread_local! {
    /// This thread's states, of every load of every Lua loader. Dropped
    /// at thread exit, which frees the states still here.
    static LOCAL: Local = const {
        Local {
            states: RefCell::new(Vec::new()),
            swept: Cell::new(0),
        }
    };
}

/// This thread's state of load `generation`, if it has one and nothing
/// waits to be freed on this thread: no load dropped since its last
/// sweep, no instance dropped elsewhere. The call path: one thread-local
/// access, one atomic load, no lock, no allocation. `None` sends the
/// caller to [`free_pending`] and [`find`].
pub(crate) fn find_quiet(generation: u64) -> Option<Rc<ThreadState>> {
    LOCAL
        .try_with(|local| {
            // Acquire: pairs with the Release bump in `Liveness::drop`.
            if DROPPED.load(Ordering::Acquire) != local.swept.get() {
                return None;
            }
            let states = local.states.try_borrow().ok()?;
            let mut found = None;
            for e in states.iter() {
                if e.state.objects.has_graves() {
                    return None;
                }
                if e.generation == generation {
                    found = Some(&e.state);
                }
            }
            found.map(Rc::clone)
        })
        .ok()
        .flatten()
}

/// Frees this thread's states of dropped loads, and the objects of its
/// instances dropped on other threads. Called by every call into the
/// engine that [`find_quiet`] did not serve. Both are dropped after the
/// list is released: their finalizers may run Lua code that calls back
/// in.
pub(crate) fn free_pending() {
    let (dead, graves): (Vec<Entry>, Vec<Rc<ThreadState>>) = LOCAL.with(|local| {
        let Ok(mut states) = local.states.try_borrow_mut() else {
            return (Vec::new(), Vec::new());
        };
        // Acquire: pairs with the Release bump in `Liveness::drop`: every
        // load counted here is seen dead below. Read before the scan, so
        // a load dropped during it is looked at again at the next call.
        local.swept.set(DROPPED.load(Ordering::Acquire));
        let graves = states
            .iter()
            .filter(|e| e.state.objects.has_graves())
            .map(|e| Rc::clone(&e.state))
            .collect();
        if states.iter().all(|e| e.alive.strong_count() > 0) {
            return (Vec::new(), graves);
        }
        let (dead, live) = std::mem::take(&mut *states)
            .into_iter()
            .partition(|e| e.alive.strong_count() == 0);
        *states = live;
        (dead, graves)
    });
    drop(dead);
    for state in graves {
        state.objects.sweep();
    }
}

/// Frees instance `key` of this thread's state of load `generation`, the
/// state whose graves are `graves`; false if that state is not here or
/// busy (the caller leaves the key in `graves`).
pub(crate) fn free_instance(generation: u64, graves: &Arc<Graves>, key: u64) -> bool {
    let state = LOCAL
        .try_with(|local| {
            let states = local.states.try_borrow().ok()?;
            states
                .iter()
                .find(|e| e.generation == generation && e.state.objects.owns(graves))
                .map(|e| Rc::clone(&e.state))
        })
        .ok()
        .flatten();
    let Some(state) = state else {
        return false;
    };
    state.objects.remove(key)
}

/// This thread's state of load `generation`, if it has one.
pub(crate) fn find(generation: u64) -> Option<Rc<ThreadState>> {
    LOCAL.with(|local| {
        local.states.try_borrow().ok().and_then(|states| {
            states
                .iter()
                .find(|e| e.generation == generation)
                .map(|e| Rc::clone(&e.state))
        })
    })
}

/// Keeps `state` as this thread's state of load `generation`.
pub(crate) fn keep(generation: u64, alive: Weak<()>, state: Rc<ThreadState>) {
    LOCAL.with(|local| {
        if let Ok(mut states) = local.states.try_borrow_mut() {
            states.push(Entry {
                generation,
                alive,
                state,
            });
        }
    });
}

/// Forgets this thread's state of load `generation` (after a failure, so
/// the next call gets a fresh one); it is freed when the last call using
/// it returns.
pub(crate) fn forget(generation: u64) {
    let gone: Vec<Entry> = LOCAL.with(|local| {
        let Ok(mut states) = local.states.try_borrow_mut() else {
            return Vec::new();
        };
        let (gone, kept) = std::mem::take(&mut *states)
            .into_iter()
            .partition(|e| e.generation == generation);
        *states = kept;
        gone
    });
    drop(gone);
}
