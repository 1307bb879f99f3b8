//! The writer lock, and which thread holds it for what (\[R11\]).
//!
//! Every write of a [`Runtime`](crate::Runtime) holds the runtime's writer
//! lock from its first check to its last event, and while it does, it runs
//! plugin code on its own thread: the entry point of the bundle it loads or
//! reloads, and the ELF finalisers that `dlclose` runs when the write ends
//! by closing libraries nothing uses any more. That code may call a host
//! contract, and the host's callback may call the runtime again. A
//! `std::sync::Mutex` is not re-entrant: that thread would wait for itself
//! for ever.
//!
//! So a write marks its thread for as long as it holds the lock: "this
//! thread holds the writer lock of runtime R, for operation O on bundle B,
//! in phase P", keyed by R's serial so that two runtimes stay independent.
//! Every write checks the mark before it locks, and a write that finds its
//! own runtime's mark is refused with [`LoadError::Reentrant`], which names
//! both operations, the bundle and the phase ([`InProgress`]). A write from
//! any other thread waits for the lock, as it always did.
//!
//! A thread the plugin starts during its entry point is another thread, and
//! an entry point that waits for it while it waits for the lock would never
//! finish. Such a thread is recognised when it uses the bundle's host table
//! (`find_contract`, `resolve_contract`) while the entry point runs, which
//! is how a plugin reaches a host contract: that marks the thread for this
//! entry point, and a write from it is refused until the entry point
//! returns ([`CalledFrom::PluginThread`]). A thread that reaches host code
//! without going through the host table during the entry point (a function
//! pointer resolved by another thread and handed over) cannot be told from
//! a host thread: its write waits, and an entry point that waits for it
//! deadlocks. `SAFETY.md` \[R11\] and \[P7\] state this limit.
//!
//! Queries never take the writer lock: [`Runtime::bundles`] and
//! [`Runtime::bundle_id`] read a snapshot that every write publishes after
//! each change, [`Runtime::library_stats`] and [`Runtime::revision`] read
//! atomics.
//!
//! [`Runtime::bundles`]: crate::Runtime::bundles
//! [`Runtime::bundle_id`]: crate::Runtime::bundle_id
//! [`Runtime::library_stats`]: crate::Runtime::library_stats
//! [`Runtime::revision`]: crate::Runtime::revision

use std::cell::RefCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::LoadError;

/// A write of a [`Runtime`](crate::Runtime), named as its method.
///
/// ```
/// use polyplug::Operation;
///
/// assert_eq!(Operation::UnloadBundle.to_string(), "unload_bundle");
/// assert_eq!(Operation::LoadDir.activity(), "directory load");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// [`Runtime::load_bundle`](crate::Runtime::load_bundle).
    LoadBundle,
    /// [`Runtime::load_dir`](crate::Runtime::load_dir).
    LoadDir,
    /// [`Runtime::reload_bundle`](crate::Runtime::reload_bundle).
    ReloadBundle,
    /// [`Runtime::unload_bundle`](crate::Runtime::unload_bundle).
    UnloadBundle,
    /// [`Runtime::unload_cascade`](crate::Runtime::unload_cascade).
    UnloadCascade,
    /// [`Runtime::register_host_contract`](crate::Runtime::register_host_contract).
    RegisterHostContract,
    /// [`Runtime::reclaim`](crate::Runtime::reclaim).
    Reclaim,
    /// [`Runtime::drain`](crate::Runtime::drain).
    Drain,
}

impl Operation {
    /// The method's name.
    ///
    /// ```
    /// assert_eq!(polyplug::Operation::Reclaim.method(), "reclaim");
    /// ```
    pub fn method(self) -> &'static str {
        match self {
            Operation::LoadBundle => "load_bundle",
            Operation::LoadDir => "load_dir",
            Operation::ReloadBundle => "reload_bundle",
            Operation::UnloadBundle => "unload_bundle",
            Operation::UnloadCascade => "unload_cascade",
            Operation::RegisterHostContract => "register_host_contract",
            Operation::Reclaim => "reclaim",
            Operation::Drain => "drain",
        }
    }

    /// What the write is doing, as a noun: "load", "reload", ...
    ///
    /// ```
    /// assert_eq!(polyplug::Operation::ReloadBundle.activity(), "reload");
    /// ```
    pub fn activity(self) -> &'static str {
        match self {
            Operation::LoadBundle => "load",
            Operation::LoadDir => "directory load",
            Operation::ReloadBundle => "reload",
            Operation::UnloadBundle => "unload",
            Operation::UnloadCascade => "cascade unload",
            Operation::RegisterHostContract => "host contract registration",
            Operation::Reclaim => "reclaim",
            Operation::Drain => "drain",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.method())
    }
}

/// Which code, running for a write, called back into the runtime.
///
/// ```
/// use polyplug::{CalledFrom, InProgress, Operation};
///
/// let during = InProgress {
///     operation: Operation::LoadBundle,
///     bundle: Some("audio".to_owned()),
///     from: CalledFrom::EntryPoint,
/// };
/// assert_eq!(during.to_string(), "load of bundle audio (from a host contract called by its entry point)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalledFrom {
    /// The bundle's entry point, on the writer's thread: a host contract
    /// it called, directly or through a plugin it called.
    EntryPoint,
    /// A thread the bundle's plugin runs, which used the bundle's host
    /// table while the entry point ran; the entry point may be waiting for
    /// it.
    PluginThread,
    /// A library finaliser, which `dlclose` runs on the writer's thread
    /// when the write closes libraries nothing uses any more.
    LibraryClose,
    /// The write's own host code, outside any plugin code.
    Writer,
}

impl fmt::Display for CalledFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CalledFrom::EntryPoint => "from a host contract called by its entry point",
            CalledFrom::PluginThread => {
                "from a thread of its plugin that used the host table while its entry point ran"
            }
            CalledFrom::LibraryClose => "from a library finaliser run by dlclose",
            CalledFrom::Writer => "from the writer's own code",
        })
    }
}

/// The write in progress when a write was called re-entrantly: what it
/// was doing, on which bundle, and which code called back.
///
/// ```
/// use polyplug::{CalledFrom, InProgress, Operation};
///
/// let during = InProgress { operation: Operation::Drain, bundle: None, from: CalledFrom::LibraryClose };
/// assert_eq!(during.to_string(), "drain (from a library finaliser run by dlclose)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InProgress {
    /// The write holding the lock.
    pub operation: Operation,
    /// The bundle it was working on, if it works on one.
    pub bundle: Option<String>,
    /// The code that called back.
    pub from: CalledFrom,
}

impl fmt::Display for InProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.operation.activity())?;
        if let Some(bundle) = &self.bundle {
            write!(f, " of bundle {bundle}")?;
        }
        write!(f, " ({})", self.from)
    }
}

/// This thread holds the writer lock of runtime `runtime`, for `during`.
struct Held {
    runtime: u64,
    during: InProgress,
}

/// This thread used the host table of the bundle whose entry point
/// `entry` of runtime `runtime` was running.
struct Mark {
    runtime: u64,
    entry: u64,
    during: InProgress,
}

thread_local! {
    /// The writes this thread is inside, at most one per runtime (a second
    /// is refused), innermost last.
    static HELD: RefCell<Vec<Held>> = const { RefCell::new(Vec::new()) };
    /// The entry points whose host table this thread, not their writer,
    /// used; at most one per runtime, the latest.
    static MARKS: RefCell<Vec<Mark>> = const { RefCell::new(Vec::new()) };
}

/// The entry point a writer is running, for [`Writer::note_host_call`].
#[derive(Default)]
struct Running {
    /// Counts entry points; the current one's number, never reused.
    serial: u64,
    /// Set while an entry point runs (its `from` is `PluginThread`).
    during: Option<InProgress>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A runtime's writer lock around the writer's state `T`.
pub(crate) struct Writer<T> {
    /// The runtime's serial: the key of the marks.
    runtime: u64,
    state: Mutex<T>,
    /// Held only to read or replace the record, never across other code.
    running: Mutex<Running>,
}

impl<T> Writer<T> {
    pub(crate) fn new(runtime: u64, state: T) -> Writer<T> {
        Writer {
            runtime,
            state: Mutex::new(state),
            running: Mutex::new(Running::default()),
        }
    }

    /// Refuses `operation` when this thread is inside a write of this
    /// runtime, or is a plugin's thread of the entry point it runs.
    pub(crate) fn check(&self, operation: Operation) -> Result<(), LoadError> {
        // `try_with`: on a thread whose thread-locals are being destroyed
        // there is no mark, so nothing is held there.
        let held = HELD
            .try_with(|held| {
                held.borrow()
                    .iter()
                    .rev()
                    .find(|h| h.runtime == self.runtime)
                    .map(|h| h.during.clone())
            })
            .ok()
            .flatten();
        if let Some(during) = held {
            return Err(LoadError::Reentrant { operation, during });
        }
        let mark = MARKS
            .try_with(|marks| {
                let mut marks = marks.borrow_mut();
                let at = marks.iter().position(|m| m.runtime == self.runtime)?;
                let mark = marks.swap_remove(at);
                let still_running = {
                    let running = lock(&self.running);
                    running.during.is_some() && running.serial == mark.entry
                };
                // A mark of an entry point that has returned is stale: it
                // stays removed.
                still_running.then(|| {
                    let during = mark.during.clone();
                    marks.push(mark);
                    during
                })
            })
            .ok()
            .flatten();
        match mark {
            Some(during) => Err(LoadError::Reentrant { operation, during }),
            None => Ok(()),
        }
    }

    /// Takes the writer lock for `operation`, after [`Writer::check`];
    /// the thread is marked until the guard drops.
    pub(crate) fn lock(&self, operation: Operation) -> Result<WriteGuard<'_, T>, LoadError> {
        self.check(operation)?;
        let state = lock(&self.state);
        // A thread whose thread-locals are being destroyed stays unmarked.
        let _ = HELD.try_with(|held| {
            held.borrow_mut().push(Held {
                runtime: self.runtime,
                during: InProgress {
                    operation,
                    bundle: None,
                    from: CalledFrom::Writer,
                },
            });
        });
        Ok(WriteGuard {
            runtime: self.runtime,
            state,
        })
    }

    /// Changes this thread's mark for this runtime, if it holds the lock.
    fn with_mark<R>(&self, f: impl FnOnce(&mut InProgress) -> R) -> Option<R> {
        HELD.try_with(|held| {
            held.borrow_mut()
                .iter_mut()
                .rev()
                .find(|h| h.runtime == self.runtime)
                .map(|h| f(&mut h.during))
        })
        .ok()
        .flatten()
    }

    /// Names the bundle the write on this thread works on now.
    pub(crate) fn working_on(&self, bundle: &str) {
        self.with_mark(|during| during.bundle = Some(bundle.to_owned()));
    }

    /// Runs `f`, the entry point of `bundle`, marked as such; plugin
    /// threads that use the bundle's host table meanwhile are marked too
    /// ([`Writer::note_host_call`]).
    pub(crate) fn entry_point<R>(&self, bundle: &str, f: impl FnOnce() -> R) -> R {
        let operation = self.with_mark(|during| {
            during.bundle = Some(bundle.to_owned());
            during.from = CalledFrom::EntryPoint;
            during.operation
        });
        if let Some(operation) = operation {
            let mut running = lock(&self.running);
            running.serial = running.serial.wrapping_add(1);
            running.during = Some(InProgress {
                operation,
                bundle: Some(bundle.to_owned()),
                from: CalledFrom::PluginThread,
            });
        }
        let _phase = Phase { writer: self };
        f()
    }

    /// Runs `f`, which closes libraries (and so runs their finalisers),
    /// marked as such.
    pub(crate) fn closing<R>(&self, f: impl FnOnce() -> R) -> R {
        self.with_mark(|during| during.from = CalledFrom::LibraryClose);
        let _phase = Phase { writer: self };
        f()
    }

    /// A plugin of `bundle` used its host table on this thread. If this is
    /// not the writer's thread and `bundle`'s entry point is running, mark
    /// the thread: its writes are refused until the entry point returns.
    pub(crate) fn note_host_call(&self, bundle: &str) {
        if self.with_mark(|_| ()).is_some() {
            return; // the writer's own thread: already marked
        }
        let running = {
            let running = lock(&self.running);
            running
                .during
                .as_ref()
                .filter(|d| d.bundle.as_deref() == Some(bundle))
                .map(|d| (running.serial, d.clone()))
        };
        if let Some((entry, during)) = running {
            let _ = MARKS.try_with(|marks| {
                let mut marks = marks.borrow_mut();
                marks.retain(|m| m.runtime != self.runtime);
                marks.push(Mark {
                    runtime: self.runtime,
                    entry,
                    during,
                });
            });
        }
    }
}

/// Ends a phase of [`Writer::entry_point`] or [`Writer::closing`], also on
/// unwinding: the write's own code runs again.
struct Phase<'w, T> {
    writer: &'w Writer<T>,
}

impl<T> Drop for Phase<'_, T> {
    fn drop(&mut self) {
        let was = self
            .writer
            .with_mark(|during| std::mem::replace(&mut during.from, CalledFrom::Writer));
        if was == Some(CalledFrom::EntryPoint) {
            lock(&self.writer.running).during = None;
        }
    }
}

/// The writer lock, held; derefs to the writer's state. Dropping it
/// removes the thread's mark, then unlocks.
pub(crate) struct WriteGuard<'w, T> {
    runtime: u64,
    state: MutexGuard<'w, T>,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.state
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.state
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        let _ = HELD.try_with(|held| {
            let mut held = held.borrow_mut();
            if let Some(at) = held.iter().rposition(|h| h.runtime == self.runtime) {
                held.remove(at);
            }
        });
    }
}
