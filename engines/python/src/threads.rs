//! Thread states and the watchdog.
//!
//! CPython runs Python code only in a thread that has a *thread state*
//! and holds the GIL. pyo3's `Python::attach` gets both with
//! `PyGILState_Ensure` and gives them back with `PyGILState_Release`,
//! which frees the thread state when its count falls to zero: on a thread
//! with no other hold, every call would make and free one (microseconds).
//! So each calling thread keeps a [`Pin`]: one `PyGILState_Ensure` held
//! for the thread's life, the GIL released at once (`PyEval_SaveThread`).
//! A call's `attach` then only takes and releases the GIL on the
//! thread's own state. The pin is released when the thread exits.
//!
//! The watchdog enforces the time limit: each pinned thread has a
//! [`Slot`] with the deadline of its running call, set and cleared while
//! the thread holds the GIL; while some call is timed, a watchdog thread
//! looks at the slots every [`TICK`] and, holding the GIL, raises
//! `polyplug.BudgetExceeded` in a thread past its deadline
//! (`PyThreadState_SetAsyncExc`). When no call is timed it parks, and the
//! next call to set a deadline unparks it ([`rest`], [`arm`]): an idle
//! process has no thread waking every few milliseconds. The call path
//! takes no lock: the slot list's lock is taken when a thread is pinned
//! and by the watchdog.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use pyo3::ffi;
use pyo3::prelude::*;

use crate::loader::{THREAD_STATES_DROPPED, THREAD_STATES_MADE, WATCHDOG_RESTS, bump};

/// How often the watchdog looks at the calls running.
pub(crate) const TICK: Duration = Duration::from_millis(2);

/// One pinned thread's running call, as the watchdog sees it.
#[derive(Debug)]
pub(crate) struct Slot {
    /// The thread's `threading.get_ident()`, which
    /// `PyThreadState_SetAsyncExc` takes.
    ident: u64,
    /// The deadline of the outermost running call, in nanoseconds since
    /// [`epoch`] (never 0); 0 when no call runs. Written by its thread
    /// holding the GIL.
    deadline: AtomicU64,
    /// The watchdog raised in the running call: the call's end clears a
    /// pending exception (which may not have fired yet). Written and read
    /// holding the GIL, which orders it: Relaxed.
    raised: AtomicBool,
}

/// The time deadlines count from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_nanos() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The watchdog thread, to unpark; set once it is spawned.
static WATCHDOG: OnceLock<std::thread::Thread> = OnceLock::new();

/// The watchdog is parked, or about to park: a thread that sets a
/// deadline unparks it. Every access is SeqCst: see [`rest`].
static RESTING: AtomicBool = AtomicBool::new(false);

/// Every pinned thread's slot.
fn slots() -> &'static Mutex<Vec<Weak<Slot>>> {
    static SLOTS: OnceLock<Mutex<Vec<Weak<Slot>>>> = OnceLock::new();
    SLOTS.get_or_init(|| {
        // The watchdog runs for the process's life once a thread pinned.
        let spawned = std::thread::Builder::new()
            .name("polyplug-python-watchdog".to_owned())
            .spawn(watchdog);
        if let Ok(handle) = spawned {
            let _ = WATCHDOG.set(handle.thread().clone());
        }
        Mutex::new(Vec::new())
    })
}

/// Whether some pinned thread's call is timed.
fn any_armed() -> bool {
    let mut slots = slots().lock().unwrap_or_else(PoisonError::into_inner);
    slots.retain(|slot| slot.strong_count() > 0);
    slots.iter().filter_map(Weak::upgrade).any(|slot| {
        // SeqCst: the load of the store/load pair in `rest`.
        slot.deadline.load(Ordering::SeqCst) != 0
    })
}

/// Parks the watchdog until some call is timed.
///
/// No wakeup is lost. The watchdog stores `RESTING` then loads every
/// deadline; a calling thread ([`arm`]) stores its deadline then loads
/// `RESTING`; all four are SeqCst, so in their single total order one
/// store comes first, and the other side's load sees it:
///
/// 1. The deadline's store first: the watchdog's scan sees it and does
///    not park.
/// 2. `RESTING`'s store first: the caller sees `RESTING`, takes it
///    (`swap`, so only one caller unparks) and unparks the watchdog; an
///    unpark before the park leaves a token, and the park returns at
///    once.
///
/// A spurious or stale wake (a token left by a call that has ended) only
/// loops: the watchdog stores `RESTING` again and scans again before it
/// parks, so a caller that saw `RESTING` false (case 2 of an earlier
/// round, taken by another caller) is never left unseen: its deadline's
/// store came before its load of `RESTING`, so before this round's store
/// of it, so this round's scan sees the deadline (case 1).
fn rest() {
    let mut parked = false;
    loop {
        // SeqCst: the store of the pair; see above.
        RESTING.store(true, Ordering::SeqCst);
        if any_armed() {
            break;
        }
        if !parked {
            bump(&WATCHDOG_RESTS);
            parked = true;
        }
        std::thread::park();
    }
    // SeqCst: as above. A caller that took `RESTING` meanwhile left a
    // token, which only makes a later park loop once.
    RESTING.store(false, Ordering::SeqCst);
}

/// Sets `slot`'s deadline and wakes the watchdog if it rests; the half of
/// the pair in [`rest`] on the calling side.
fn arm(slot: &Slot, deadline: u64) {
    // SeqCst: the store of the pair; see `rest`.
    slot.deadline.store(deadline, Ordering::SeqCst);
    // SeqCst: the load of the pair. The load first, so a call while the
    // watchdog is awake writes no shared line.
    if RESTING.load(Ordering::SeqCst)
        && RESTING.swap(false, Ordering::SeqCst)
        && let Some(watchdog) = WATCHDOG.get()
    {
        watchdog.unpark();
    }
}

/// The `polyplug.BudgetExceeded` class, raised by the watchdog.
pub(crate) static BUDGET_EXCEEDED: OnceLock<Py<PyAny>> = OnceLock::new();

fn watchdog() {
    loop {
        rest();
        std::thread::sleep(TICK);
        let now = now_nanos();
        let late: Vec<Arc<Slot>> = {
            let mut slots = slots().lock().unwrap_or_else(PoisonError::into_inner);
            slots.retain(|slot| slot.strong_count() > 0);
            slots
                .iter()
                .filter_map(Weak::upgrade)
                .filter(|slot| {
                    // Relaxed: a hint; checked again holding the GIL.
                    let deadline = slot.deadline.load(Ordering::Relaxed);
                    deadline != 0 && deadline <= now
                })
                .collect()
        };
        if late.is_empty() {
            continue;
        }
        let Some(class) = BUDGET_EXCEEDED.get() else {
            continue;
        };
        with_pin(|| {
            Python::attach(|py| {
                for slot in &late {
                    // Holding the GIL: the slot's thread is not between
                    // its check of the deadline and the call (it sets and
                    // clears the deadline holding the GIL), so a call
                    // still past its deadline is the one that ran late.
                    let deadline = slot.deadline.load(Ordering::Relaxed);
                    if deadline == 0 || deadline > now_nanos() {
                        continue;
                    }
                    let Ok(ident) = std::ffi::c_long::try_from(slot.ident) else {
                        continue;
                    };
                    let class = class.bind(py).as_ptr();
                    // Relaxed: under the GIL, see `Slot::raised`.
                    slot.raised.store(true, Ordering::Relaxed);
                    // SAFETY: [Y1] the GIL is held (inside `attach`); `class`
                    // is a live exception class kept by `BUDGET_EXCEEDED`;
                    // CPython takes its own reference. An ident with no
                    // thread state is ignored by CPython (returns 0).
                    let _ = unsafe { ffi::PyThreadState_SetAsyncExc(ident, class) };
                }
            });
        });
    }
}

/// Whether the interpreter is this crate's own: started here by the first
/// load, not found running. Decided once, by the first load.
///
/// A process whose interpreter someone else started (a Python program
/// that loaded polyplug through ctypes, a host that embeds CPython) owns
/// that interpreter's thread states: it frees a thread's state when the
/// thread ends, and finalizes the interpreter before the process's
/// thread-local destructors run, which would leave a [`Pin`] holding
/// freed states. So Python bundles load only where this crate started the
/// interpreter.
pub(crate) fn interpreter_is_ours() -> bool {
    static OURS: OnceLock<bool> = OnceLock::new();
    *OURS.get_or_init(|| {
        // SAFETY: [Y1] `Py_IsInitialized` may be called before the
        // interpreter is initialized and without the GIL.
        let running = unsafe { ffi::Py_IsInitialized() } != 0;
        if !running {
            Python::initialize();
        }
        !running
    })
}

/// This thread's hold on its thread state; released at thread exit.
struct Pin {
    /// What `PyGILState_Ensure` returned, given back at drop; `None` when
    /// the thread already held the GIL when pinned (then nothing is held).
    state: Option<ffi::PyGILState_STATE>,
    /// The thread state, saved while the thread is outside Python.
    saved: *mut ffi::PyThreadState,
    slot: Arc<Slot>,
}

impl Drop for Pin {
    fn drop(&mut self) {
        // Relaxed: the watchdog stops looking at a dropped slot.
        self.slot.deadline.store(0, Ordering::Relaxed);
        if let Some(state) = self.state {
            if !self.saved.is_null() {
                // SAFETY: [Y1] `saved` is this thread's state, saved by
                // `PyEval_SaveThread` in `Pin::new` and not restored
                // since (every `attach` in between was balanced).
                unsafe { ffi::PyEval_RestoreThread(self.saved) };
            }
            // SAFETY: [Y1] balances the `PyGILState_Ensure` of `Pin::new`, on
            // the same thread, holding the GIL; the count falls to zero
            // and CPython frees the thread state.
            unsafe { ffi::PyGILState_Release(state) };
        }
        bump(&THREAD_STATES_DROPPED);
    }
}

thread_local! {
    static PIN: std::cell::OnceCell<Pin> = const { std::cell::OnceCell::new() };
    /// Nesting of calls into Python on this thread.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

impl Pin {
    fn new() -> Pin {
        Python::initialize();
        // SAFETY: [Y1] the interpreter is initialized; balanced in `drop`.
        let state = unsafe { ffi::PyGILState_Ensure() };
        let ident = Python::attach(|py| {
            py.import("threading")
                .and_then(|t| t.call_method0("get_ident"))
                .and_then(|i| i.extract::<u64>())
                .unwrap_or(0)
        });
        let slot = Arc::new(Slot {
            ident,
            deadline: AtomicU64::new(0),
            raised: AtomicBool::new(false),
        });
        slots()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::downgrade(&slot));
        bump(&THREAD_STATES_MADE);
        if state == ffi::PyGILState_STATE::PyGILState_UNLOCKED {
            // SAFETY: [Y1] this thread holds the GIL, taken by the
            // `PyGILState_Ensure` above; saved, restored in `drop`.
            let saved = unsafe { ffi::PyEval_SaveThread() };
            Pin {
                state: Some(state),
                saved,
                slot,
            }
        } else {
            // The thread held the GIL already (pinned from inside another
            // embedder's `attach`): give the count back, hold nothing.
            // SAFETY: [Y1] balances the `PyGILState_Ensure` above.
            unsafe { ffi::PyGILState_Release(state) };
            Pin {
                state: None,
                saved: std::ptr::null_mut(),
                slot,
            }
        }
    }
}

/// Runs `f` with this thread pinned (its thread state kept).
pub(crate) fn with_pin<R>(f: impl FnOnce() -> R) -> R {
    PIN.with(|pin| {
        pin.get_or_init(Pin::new);
    });
    f()
}

/// Whether this thread is inside a call into Python.
pub(crate) fn in_call() -> bool {
    DEPTH.with(Cell::get) > 0
}

/// Runs `f` (holding the GIL) as a call limited to `time`: the outermost
/// call on this thread arms the watchdog, nested ones run under the
/// outer deadline.
pub(crate) fn timed<R>(time: Duration, f: impl FnOnce() -> R) -> R {
    let depth = DEPTH.with(Cell::get);
    let slot = PIN.with(|pin| pin.get().map(|p| Arc::clone(&p.slot)));
    if depth == 0
        && let Some(slot) = &slot
    {
        let nanos = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
        arm(slot, now_nanos().saturating_add(nanos));
    }
    DEPTH.with(|d| d.set(depth + 1));
    let result = f();
    DEPTH.with(|d| d.set(depth));
    if depth == 0
        && let Some(slot) = &slot
    {
        // Relaxed: the watchdog reads it holding the GIL, which this
        // thread holds now.
        slot.deadline.store(0, Ordering::Relaxed);
        // Relaxed: under the GIL, see `Slot::raised`. A flag, not a
        // second look at the clock: a call pays one clock read.
        if slot.raised.swap(false, Ordering::Relaxed)
            && let Ok(ident) = std::ffi::c_long::try_from(slot.ident)
        {
            // The watchdog raised in this thread, maybe as the call
            // returned: the exception must not fire in the next call.
            // SAFETY: [Y1] this thread holds the GIL (`timed` runs inside
            // `attach`); a null exception clears the pending one.
            let _ = unsafe { ffi::PyThreadState_SetAsyncExc(ident, std::ptr::null_mut()) };
        }
    }
    result
}
