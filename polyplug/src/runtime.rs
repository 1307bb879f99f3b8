//! The [`Runtime`]: the write side (load, reload, unload) and maintenance.
//!
//! All writes take one writer lock; readers never touch it. A load or
//! reload reads the bundle's files ([`Bundle::open`]) before it takes the
//! lock, so no file can stall other writers. A write does its fallible work
//! first (open the library, run the
//! entry point, check what was registered, check dependents) and publishes
//! only when all of it succeeded, in one store transaction, so a failed
//! write leaves the runtime exactly as it was (\[R8\]). After every write
//! the writer reclaims retired tables, closes libraries with no users left,
//! and reports drained versions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use polyplug_abi::{AbiError, BundleContext, ContractId, OK, StrView, Version};
use polyplug_contract::Definition;
use polyplug_loader::{Bundle, BundleError, LoaderKind, NativeLibrary, ScratchDir, Trust};
use polyplug_store::{DrainTicket, Handle, Revision, Store};

use crate::LoadError;
use crate::entry::{BundleId, ContractHandle, Entry, Provider};
use crate::error::ContractMismatch;
use crate::event::{Event, Events};
use crate::graph::{self, Node};
use crate::host::{Declared, HostContext, RegistrationError};
use crate::interface::{PlainInterface, Table};
use crate::library::{Code, CodeStats, Graveyard, LibraryStats, LoadedLibrary};
use crate::loader::Loader;
use crate::read::Reader;
use crate::signature::RawSignature;
use crate::writer::{Operation, Writer};

/// State shared with the host table's callbacks.
pub(crate) struct Shared {
    /// This runtime's identity, unique in the process; every [`BundleId`]
    /// it issues carries it.
    serial: u64,
    // Field order is drop order: the store's entries release their
    // libraries into the graveyard, which closes them when it drops.
    pub(crate) store: Store<Entry, ContractId>,
    /// The writer lock around the registry; it knows which thread holds
    /// it, for what (\[R11\]).
    writer: Writer<Registry>,
    /// What the registry held after the last change, for queries: they
    /// never take the writer lock, so they answer from inside a write too
    /// (\[R11\]). Locked only to clone or replace the `Arc`.
    published: Mutex<Arc<[BundleInfo]>>,
    pub(crate) events: Events,
    graveyard: Arc<Graveyard>,
    scratch: ScratchDir,
    /// The loaders for kinds other than native ([`crate::loader`]).
    loaders: Vec<Box<dyn Loader>>,
    /// Whether bundles must be signed, and by which keys.
    trust: Trust,
    /// The host's copies of contract definitions that every registration
    /// of their contracts must match ([`crate::RuntimeBuilder::definition`]).
    definitions: Vec<Definition>,
}

impl Shared {
    /// A plugin of `bundle` used its host table on this thread while its
    /// entry point may be running: see [`Writer::note_host_call`] (\[R11\]).
    pub(crate) fn note_host_call(&self, bundle: &str) {
        self.writer.note_host_call(bundle);
    }

    /// Whether the calling thread is inside a write of this runtime, where
    /// waiting for another writer would deadlock (\[R12\]).
    #[cfg(feature = "watch")]
    pub(crate) fn in_write(&self) -> bool {
        self.writer.check(Operation::ReloadBundle).is_err()
    }
}

/// A contract a bundle or the host has published.
#[derive(Debug, Clone)]
struct Published {
    handle: Handle,
    id: ContractId,
    name: String,
    version: Version,
}

#[derive(Debug)]
struct BundleRecord {
    name: String,
    version: Version,
    /// The canonical directory it was (re)loaded from.
    dir: PathBuf,
    /// The path the host gave for it, made absolute but not resolved:
    /// `reload_bundle(id, None)` opens this again, so a symlink flipped
    /// since (`current -> v2`) is followed.
    source: PathBuf,
    /// What was opened, without the bundle's other files: its manifest,
    /// and the bytes a reload compares what it reads with
    /// (`Bundle::open_known`).
    opened: Bundle,
    contracts: Vec<Published>,
    /// Keeps the library loaded while the bundle is, even with no contracts.
    _library: Arc<LoadedLibrary>,
}

#[derive(Debug)]
struct PendingDrain {
    ticket: DrainTicket,
    bundle: BundleId,
    name: String,
    version: Version,
}

/// The writer's state, behind the writer lock.
#[derive(Debug, Default)]
struct Registry {
    next_bundle: u64,
    bundles: BTreeMap<BundleId, BundleRecord>,
    host: Vec<Published>,
    drains: Vec<PendingDrain>,
}

impl Registry {
    fn by_name(&self, name: &str) -> Option<(BundleId, &BundleRecord)> {
        self.bundles
            .iter()
            .find(|(_, r)| r.name == name)
            .map(|(id, r)| (*id, r))
    }

    /// Whether something other than the bundles in `except` provides
    /// `contract` at a version satisfying `version`.
    fn provided(&self, contract: &str, version: Version, except: &[BundleId]) -> bool {
        let satisfies = |p: &Published| p.name == contract && p.version.satisfies(version);
        self.host.iter().any(satisfies)
            || self
                .bundles
                .iter()
                .any(|(id, r)| !except.contains(id) && r.contracts.iter().any(satisfies))
    }

    /// Loaded bundles (other than those in `except`) with a requirement
    /// that only the bundles in `except` meet.
    fn dependents(&self, except: &[BundleId]) -> Vec<BundleId> {
        self.bundles
            .iter()
            .filter(|(id, _)| !except.contains(id))
            .filter(|(_, r)| {
                r.opened
                    .manifest()
                    .requires
                    .iter()
                    .any(|req| !self.provided(req.name.as_str(), req.version, except))
            })
            .map(|(id, _)| *id)
            .collect()
    }
}

/// Information about one loaded bundle.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{Runtime, Version};
/// use polyplug_fixtures::bundle;
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(bundle("test-add"))?;
/// runtime.load_bundle(bundle("consumer"))?;
/// let info = runtime.bundles().into_iter().find(|b| b.name == "consumer").unwrap();
/// assert_eq!(info.contracts, [("consumer.calc".to_owned(), Version::new(1, 0, 0))]);
/// assert_eq!(info.requires, [("test.add".to_owned(), Version::new(1, 0, 0))]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleInfo {
    /// Its id.
    pub id: BundleId,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: Version,
    /// The directory it was (re)loaded from.
    pub dir: PathBuf,
    /// The path the host gave for it, made absolute but not resolved:
    /// what [`Runtime::reload_bundle`] without a path opens again (a
    /// symlink there is followed afresh at each reload).
    pub source: PathBuf,
    /// The contracts it provides, `(name, version)`.
    pub contracts: Vec<(String, Version)>,
    /// The contracts it requires, `(name, minimum version)`.
    pub requires: Vec<(String, Version)>,
}

/// A contract the host implements and plugins call, built with
/// [`HostContract::new`] and published with
/// [`Runtime::register_host_contract`].
///
/// ```
/// use polyplug::{HostContract, Version};
///
/// extern "C" fn double(x: u32) -> u32 {
///     x.wrapping_mul(2)
/// }
/// let contract = HostContract::new("test.host", Version::new(1, 0, 0))
///     .typed("double", double as extern "C" fn(u32) -> u32);
/// # let _ = contract;
/// ```
#[derive(Debug)]
pub struct HostContract {
    /// Built as a plugin's registration would be, and checked by the same
    /// validation ([R4]).
    pub(crate) plain: PlainInterface,
}

impl HostContract {
    /// A contract `name` at `version` with no functions yet.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{HostContract, LoadError, Runtime, Version};
    ///
    /// extern "C" fn f() {}
    /// let runtime = Runtime::new()?;
    /// let twice = HostContract::new("demo.twice", Version::new(1, 0, 0))
    ///     .typed("f", f as extern "C" fn())
    ///     .typed("f", f as extern "C" fn());
    /// let err = runtime.register_host_contract(twice).unwrap_err(); // checked as a plugin's would be
    /// assert!(matches!(err, LoadError::HostContract(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(name: &str, version: Version) -> HostContract {
        HostContract {
            plain: PlainInterface {
                id: ContractId::of(name, version.major),
                name: name.as_bytes().to_vec(),
                version,
                native: Vec::new(),
                typed: Vec::new(),
                typed_packed: Vec::new(),
                create_instance: None,
                destroy_instance: None,
                context: Vec::new(),
                instance_ctx: std::ptr::null_mut(),
                create_context_instance: None,
                destroy_context_instance: None,
                save_instance: None,
                restore_instance: None,
                save_context_instance: None,
                restore_context_instance: None,
            },
        }
    }

    /// Adds a native function with the fixed calling convention.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use std::ffi::c_void;
    /// use polyplug::{HostContract, Runtime, Version};
    /// use polyplug_abi::{AbiError, OK};
    ///
    /// /// `answer`: reads no arguments, writes a `u32`.
    /// unsafe extern "C" fn answer(_: *mut c_void, _: *const c_void, out: *mut c_void, _: *mut AbiError) -> u32 {
    ///     // SAFETY: [P4] the contract documents `out` as one writable `u32`.
    ///     unsafe { out.cast::<u32>().write_unaligned(42) };
    ///     OK
    /// }
    ///
    /// let runtime = Runtime::new()?;
    /// let contract = HostContract::new("demo.answer", Version::new(1, 0, 0)).native("answer", answer);
    /// runtime.register_host_contract(contract)?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let answer = guard.find("demo.answer", Version::new(1, 0, 0))?.native("answer")?;
    /// let mut out = 0u32;
    /// // SAFETY: [P1] `answer` reads nothing and writes a `u32`.
    /// unsafe { answer.call(&(), &mut out) }?;
    /// assert_eq!(out, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn native(mut self, name: &str, func: polyplug_abi::NativeFn) -> HostContract {
        self.plain
            .native
            .push((name.as_bytes().to_vec(), Some(func)));
        self
    }

    /// Adds a typed function; its signature is spelled from `F`. It gets
    /// a packed form too, so callers that marshal at run time (a
    /// WebAssembly guest) reach it as well.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{HostContract, Runtime, Version};
    ///
    /// extern "C" fn add(a: u32, b: u32) -> u32 { a.wrapping_add(b) }
    /// let runtime = Runtime::new()?;
    /// runtime.register_host_contract(
    ///     HostContract::new("demo.math", Version::new(1, 0, 0))
    ///         .typed("add", add as extern "C" fn(u32, u32) -> u32),
    /// )?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let math = guard.find("demo.math", Version::new(1, 0, 0))?;
    /// assert_eq!(math.typed_signatures().collect::<Vec<_>>(), [("add", "u32(u32,u32)")]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn typed<F: RawSignature>(mut self, name: &str, func: F) -> HostContract {
        let spelling = F::spelling().into_bytes();
        self.plain.typed_packed.resize(self.plain.typed.len(), None);
        self.plain
            .typed
            .push((name.as_bytes().to_vec(), spelling, Some(func.to_void())));
        self.plain
            .typed_packed
            .push(Some(F::packed as polyplug_abi::ContextFn));
        self
    }
}

/// The plugin runtime a host embeds.
///
/// Writes (load, reload, unload) take `&self` and serialise on an internal
/// writer lock; reads go through a per-thread [`Reader`] and never lock.
/// Share a runtime between threads with `&Runtime` (scoped threads) or an
/// `Arc`. There is no global state: runtimes in one process are
/// independent, and each has an identity of its own, which the
/// [`BundleId`]s it issues carry: another runtime refuses them
/// ([`LoadError::ForeignBundle`]).
///
/// # Re-entrancy
///
/// A write runs plugin code on its own thread while it holds the writer
/// lock: the entry point of the bundle it loads or reloads, and the
/// finalisers that `dlclose` runs as it closes unused libraries. When that
/// code calls a host contract (see [`Runtime::register_host_contract`])
/// whose callback calls this runtime again:
///
/// - queries answer: [`Runtime::bundles`] and [`Runtime::bundle_id`] read
///   the state the last completed write published (a bundle whose entry
///   point is running is not listed yet); [`Runtime::library_stats`] and
///   [`Runtime::revision`] read counters;
/// - writes ([`Runtime::load_bundle`], [`Runtime::load_dir`],
///   [`Runtime::reload_bundle`], [`Runtime::unload_bundle`],
///   [`Runtime::unload_cascade`], [`Runtime::register_host_contract`],
///   [`Runtime::reclaim`], [`Runtime::drain`]) are refused at once with
///   [`LoadError::Reentrant`], which names the write called and the write in
///   progress ([`InProgress`](crate::InProgress): its operation, its bundle,
///   and whether the call came from the entry point, from a plugin thread,
///   or from a library finaliser), and change nothing; the write in
///   progress goes on and completes or fails as it would have.
///
/// The same holds for a thread the plugin starts during its entry point
/// once it has used the bundle's host table there (which is how a plugin
/// reaches a host contract), so an entry point that waits for such a thread
/// finishes. Any other thread's write waits for the lock, as does one from
/// another runtime's callbacks; event subscribers are channels, so they are
/// always other threads. A write from a thread the runtime cannot tell from
/// a host thread, which the entry point waits for, deadlocks: `SAFETY.md`
/// \[R11\] and \[P7\].
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use std::sync::{Arc, Mutex};
/// use polyplug::{HostContract, LoadError, Operation, Runtime, Version};
///
/// // The `reentrant` fixture's entry point calls the host's `test.reenter` `enter(0)`.
/// static RUNTIME: Mutex<Option<Arc<Runtime>>> = Mutex::new(None);
/// static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// extern "C" fn enter(_from: u32) -> u32 {
///     let runtime = RUNTIME.lock().unwrap().clone().unwrap();
///     let refused = runtime.unload_bundle(runtime.bundle_id("test-add").unwrap()).unwrap_err();
///     assert!(matches!(refused, LoadError::Reentrant { operation: Operation::UnloadBundle, .. }));
///     SEEN.lock().unwrap().push(refused.to_string());
///     0
/// }
///
/// let runtime = Arc::new(Runtime::new()?);
/// *RUNTIME.lock().unwrap() = Some(Arc::clone(&runtime));
/// runtime.register_host_contract(
///     HostContract::new("test.reenter", Version::new(1, 0, 0))
///         .typed("enter", enter as extern "C" fn(u32) -> u32),
/// )?;
/// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// runtime.load_bundle(polyplug_fixtures::bundle("reentrant"))?; // completes
/// assert_eq!(
///     SEEN.lock().unwrap()[..],
///     ["unload_bundle called re-entrantly during load of bundle reentrant \
///       (from a host contract called by its entry point)"]
/// );
/// assert_eq!(runtime.bundles().len(), 2); // test-add was not unloaded
/// # RUNTIME.lock().unwrap().take();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{Runtime, Version};
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let add = guard.find("test.add", Version::new(1, 0, 0))?;
/// let inc = add.typed::<extern "C" fn(u32) -> u32>("inc")?;
/// assert_eq!(inc.call(41), 42);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Runtime {
    shared: Arc<Shared>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The path to remember for a bundle: as the host gave it, made absolute
/// against the current directory (so a later `chdir` does not move it) but
/// with no symlink resolved.
fn remembered(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

fn view(text: &str) -> StrView {
    StrView {
        ptr: text.as_ptr(),
        len: text.len(),
    }
}

impl Runtime {
    /// The state a watch thread reaches this runtime through, weakly.
    #[cfg(feature = "watch")]
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Another handle on the runtime `shared` belongs to, for a watch
    /// thread's reloads. `Runtime` has no `Drop` of its own: dropping this
    /// handle only releases its reference.
    #[cfg(feature = "watch")]
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Runtime {
        Runtime { shared }
    }

    /// A runtime with no bundles, with its own private directory for
    /// library copies.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// let runtime = polyplug::Runtime::new()?;
    /// assert!(runtime.bundles().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> std::io::Result<Runtime> {
        Runtime::with_loaders(Vec::new(), Trust::Off, Vec::new())
    }

    /// A runtime whose non-native bundles go to `loaders`.
    pub(crate) fn with_loaders(
        loaders: Vec<Box<dyn Loader>>,
        trust: Trust,
        definitions: Vec<Definition>,
    ) -> std::io::Result<Runtime> {
        let serial = crate::entry::next_runtime_serial();
        Ok(Runtime {
            shared: Arc::new(Shared {
                serial,
                store: Store::new(),
                writer: Writer::new(serial, Registry::default()),
                published: Mutex::new(Arc::from([])),
                events: Events::default(),
                graveyard: Arc::new(Graveyard::default()),
                scratch: ScratchDir::new()?,
                loaders,
                trust,
                definitions,
            }),
        })
    }

    /// Opens the bundle in `dir` and, when the trust policy requires it,
    /// checks its signature over the bytes it read: all of a load's file
    /// IO, before the writer's lock and before any plugin code runs.
    fn open(&self, dir: &Path) -> Result<Bundle, LoadError> {
        self.checked(Bundle::open(dir)?)
    }

    /// [`Runtime::open`] for a reload: what is unchanged since `known` was
    /// opened is not parsed or copied again.
    fn open_known(&self, dir: &Path, known: &Bundle) -> Result<Bundle, LoadError> {
        self.checked(Bundle::open_known(dir, known)?)
    }

    /// `bundle` as the trust policy passes it.
    fn checked(&self, bundle: Bundle) -> Result<Bundle, LoadError> {
        bundle
            .verified(&self.shared.trust)
            .map_err(|error| LoadError::from(BundleError::from(error)))
    }

    /// Registers the calling thread for reads. Keep one per thread.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{Runtime, Version};
    ///
    /// let runtime = Runtime::new()?;
    /// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// std::thread::scope(|s| {
    ///     for _ in 0..2 {
    ///         s.spawn(|| {
    ///             let reader = runtime.reader(); // once per thread
    ///             for x in 0..100 {
    ///                 let guard = reader.pin(); // per call: no lock, no allocation
    ///                 let add = guard.find("test.add", Version::new(1, 0, 0)).unwrap();
    ///                 assert_eq!(add.typed::<extern "C" fn(u32) -> u32>("inc").unwrap().call(x), x + 1);
    ///             }
    ///         });
    ///     }
    /// });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            inner: self.shared.store.reader(),
        }
    }

    /// A receiver of every later [`Event`].
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{Event, Runtime};
    ///
    /// let runtime = Runtime::new()?;
    /// let events = runtime.subscribe();
    /// assert!(runtime.load_bundle("/no/such/bundle").is_err());
    /// assert!(matches!(events.try_recv()?, Event::Loading { .. }));
    /// assert!(matches!(events.try_recv()?, Event::LoadFailed { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe(&self) -> Receiver<Event> {
        self.shared.events.subscribe()
    }

    /// The revision: it changes after every load, reload and unload.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::Runtime;
    /// use polyplug_fixtures::bundle;
    ///
    /// let runtime = Runtime::new()?;
    /// let before = runtime.revision();
    /// runtime.load_bundle(bundle("test-add"))?;
    /// let after = runtime.revision();
    /// assert_ne!(after, before);
    /// assert!(runtime.load_bundle(bundle("test-add")).is_err());
    /// assert_eq!(runtime.revision(), after); // a failed load publishes nothing
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn revision(&self) -> Revision {
        self.shared.store.revision()
    }

    /// Libraries opened and closed so far, and how many really unmapped.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::Runtime;
    ///
    /// let runtime = Runtime::new()?;
    /// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let stats = runtime.library_stats();
    /// assert_eq!((stats.opened, stats.closed), (1, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn library_stats(&self) -> LibraryStats {
        self.shared.graveyard.stats()
    }

    /// Engine-run code ([`crate::loader`]) loaded and released so far: a
    /// load or reload of a bundle with another loader than native loads
    /// one, and it is released on the writer side once nothing reaches it.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// let runtime = polyplug::Runtime::new()?;
    /// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?; // native: not counted here
    /// assert_eq!(runtime.code_stats().loaded, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn code_stats(&self) -> CodeStats {
        self.shared.graveyard.code_stats()
    }

    /// The loaded bundle named `name`.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::Runtime;
    ///
    /// let runtime = Runtime::new()?;
    /// assert_eq!(runtime.bundle_id("reload-test"), None);
    /// let id = runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
    /// assert_eq!(runtime.bundle_id("reload-test"), Some(id)); // the manifest's name
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bundle_id(&self, name: &str) -> Option<BundleId> {
        self.published()
            .iter()
            .find(|b| b.name == name)
            .map(|b| b.id)
    }

    /// Every loaded bundle, by id.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::Runtime;
    /// use polyplug_fixtures::bundle;
    ///
    /// let runtime = Runtime::new()?;
    /// let add = runtime.load_bundle(bundle("test-add"))?;
    /// let mul = runtime.load_bundle(bundle("c-mul"))?;
    /// let ids: Vec<_> = runtime.bundles().iter().map(|b| b.id).collect();
    /// assert_eq!(ids, [add, mul]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bundles(&self) -> Vec<BundleInfo> {
        self.published().to_vec()
    }

    /// The registry as the last write left it.
    fn published(&self) -> Arc<[BundleInfo]> {
        Arc::clone(&lock(&self.shared.published))
    }

    /// Loads the bundle in `dir`: reads and checks its manifest, opens a
    /// private copy of its library, checks the ABI version, runs its entry
    /// point, checks what it registered against what the manifest declares,
    /// and publishes all its contracts at once. On any error nothing
    /// changes.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{Runtime, Version};
    /// use polyplug_fixtures::bundle;
    ///
    /// let runtime = Runtime::new()?;
    /// runtime.load_bundle(bundle("test-add"))?;
    /// let err = runtime.load_bundle(bundle("bad-abi")).unwrap_err();
    /// println!("{err}"); // names the bundle, the library and the ABI versions
    /// assert_eq!(runtime.bundles().len(), 1);
    /// assert!(runtime.reader().pin().find("test.add", Version::new(1, 0, 0)).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_bundle(&self, dir: impl AsRef<Path>) -> Result<BundleId, LoadError> {
        let dir = dir.as_ref();
        // [R14] a re-entrant call is refused before it announces anything.
        self.shared.writer.check(Operation::LoadBundle)?;
        self.shared.events.emit(Event::Loading {
            dir: dir.to_owned(),
        });
        // All of the bundle's file IO, before the writer's lock: a slow or
        // hostile file delays this call only, never another writer.
        let opened = self.open(dir);
        let mut registry = self.shared.writer.lock(Operation::LoadBundle)?;
        let result = opened.and_then(|bundle| self.load_opened(&mut registry, bundle, dir));
        if let Err(error) = &result {
            self.shared.events.emit(Event::LoadFailed {
                dir: dir.to_owned(),
                error: error.to_string(),
            });
        }
        self.maintain(&mut registry);
        result
    }

    /// Loads every bundle in the subdirectories of `dir` (those holding a
    /// `manifest.toml`), providers first. A cycle or a missing provider is
    /// reported before anything loads; if one bundle fails, the bundles
    /// this call loaded are unloaded again and the error is returned.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::Runtime;
    /// use polyplug_fixtures::copy_bundle;
    ///
    /// let dir = std::env::temp_dir().join(format!("polyplug-doc-load-dir-{}", std::process::id()));
    /// copy_bundle("consumer", &dir)?; // requires test.add
    /// copy_bundle("test-add", &dir)?;
    /// let runtime = Runtime::new()?;
    /// let loaded = runtime.load_dir(&dir)?;
    /// let names: Vec<String> = runtime.bundles().into_iter().map(|b| b.name).collect();
    /// assert_eq!(names, ["test-add", "consumer"]); // providers first
    /// assert_eq!(loaded.len(), 2);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_dir(&self, dir: impl AsRef<Path>) -> Result<Vec<BundleId>, LoadError> {
        let dir = dir.as_ref();
        self.shared.writer.check(Operation::LoadDir)?;
        let read_dir = |error| LoadError::ReadDir {
            dir: dir.to_owned(),
            error,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(read_dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("manifest.toml").is_file())
            .collect();
        paths.sort();
        let mut bundles = Vec::with_capacity(paths.len());
        for path in &paths {
            bundles.push((self.open(path)?, path));
        }
        let mut registry = self.shared.writer.lock(Operation::LoadDir)?;
        let nodes: Vec<Node> = bundles
            .iter()
            .map(|(b, _)| Node {
                name: b.manifest().name.as_str().to_owned(),
                provides: b
                    .manifest()
                    .provides
                    .iter()
                    .map(|c| (c.name.as_str().to_owned(), c.version))
                    .collect(),
                requires: b
                    .manifest()
                    .requires
                    .iter()
                    .map(|c| (c.name.as_str().to_owned(), c.version))
                    .collect(),
            })
            .collect();
        let order = graph::load_order(&nodes, |contract, version| {
            registry.provided(contract, version, &[])
        })?;
        let mut slots: Vec<Option<(Bundle, &PathBuf)>> = bundles.into_iter().map(Some).collect();
        let mut loaded = Vec::with_capacity(order.len());
        for index in order {
            let Some((bundle, path)) = slots[index].take() else {
                continue;
            };
            self.shared.events.emit(Event::Loading {
                dir: bundle.dir().to_owned(),
            });
            match self.load_opened(&mut registry, bundle, path) {
                Ok(id) => loaded.push(id),
                Err(error) => {
                    for id in loaded.iter().rev() {
                        self.unload_locked(&mut registry, *id);
                    }
                    self.maintain(&mut registry);
                    return Err(error);
                }
            }
        }
        self.maintain(&mut registry);
        Ok(loaded)
    }

    /// Reloads a bundle: from its own path (a library rebuilt in place), or
    /// from `from`, whose manifest must name the same bundle. Its own path
    /// is the one the host last gave for it (to the load, or as `from` to a
    /// reload), opened afresh: a symlink there that now points elsewhere
    /// (`current -> v2`) is followed, and the bundle it reaches must have
    /// the same name.
    /// The new version's tables replace the old ones in place, so kept
    /// [`ContractHandle`]s now reach the new version; readers switch
    /// without waiting. On any error the old version keeps serving,
    /// untouched.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{Runtime, Version};
    /// use polyplug_fixtures::bundle;
    ///
    /// type VersionFn = extern "C" fn() -> u32;
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(bundle("reload-v1"))?;
    /// let reader = runtime.reader();
    /// let answer = |reader: &polyplug::Reader<'_>| -> Result<u32, polyplug::FindError> {
    ///     let guard = reader.pin();
    ///     let contract = guard.find("reload.test", Version::new(1, 0, 0))?;
    ///     Ok(contract.typed::<VersionFn>("version")?.call())
    /// };
    /// assert_eq!(answer(&reader)?, 100);
    /// runtime.reload_bundle(id, Some(&bundle("reload-v2")))?;
    /// assert_eq!(answer(&reader)?, 200);
    /// assert!(runtime.reload_bundle(id, Some(&bundle("test-add"))).is_err()); // another bundle's name
    /// assert_eq!(answer(&reader)?, 200); // v2 keeps serving
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reload_bundle(&self, bundle: BundleId, from: Option<&Path>) -> Result<(), LoadError> {
        self.own(bundle)?;
        let (name, dir, known) = {
            let registry = self.shared.writer.lock(Operation::ReloadBundle)?;
            let record = registry
                .bundles
                .get(&bundle)
                .ok_or(LoadError::UnknownBundle(bundle))?;
            // Re-resolved at each reload: the host's path, not the
            // directory it pointed to last time.
            let dir = from.map_or_else(|| record.source.clone(), Path::to_path_buf);
            (record.name.clone(), dir, record.opened.clone())
        };
        self.shared.events.emit(Event::Reloading {
            bundle,
            name: name.clone(),
        });
        // All of the bundle's file IO, between two holds of the writer's
        // lock: a slow or hostile file delays this call only.
        let opened = self.open_known(&dir, &known);
        drop(known);
        let mut registry = self.shared.writer.lock(Operation::ReloadBundle)?;
        self.shared.writer.working_on(&name);
        let result =
            opened.and_then(|opened| self.reload_locked(&mut registry, bundle, &dir, opened));
        if let Err(error) = &result {
            self.shared.events.emit(Event::ReloadFailed {
                bundle,
                name,
                error: error.to_string(),
            });
        }
        self.maintain(&mut registry);
        result
    }

    /// Unloads a bundle. Refused, naming them, when other loaded bundles
    /// require its contracts and nothing else provides them; see
    /// [`Runtime::unload_cascade`]. Handles to its contracts become stale;
    /// its library is closed once no guard can reach it.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{LoadError, Runtime};
    /// use polyplug_fixtures::bundle;
    ///
    /// let runtime = Runtime::new()?;
    /// let add = runtime.load_bundle(bundle("test-add"))?;
    /// let consumer = runtime.load_bundle(bundle("consumer"))?; // requires test.add
    /// let refused = runtime.unload_bundle(add);
    /// assert!(matches!(refused, Err(LoadError::HasDependents { .. })));
    /// runtime.unload_bundle(consumer)?;
    /// runtime.unload_bundle(add)?;
    /// assert!(runtime.bundles().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unload_bundle(&self, bundle: BundleId) -> Result<(), LoadError> {
        self.own(bundle)?;
        let mut registry = self.shared.writer.lock(Operation::UnloadBundle)?;
        let record = registry
            .bundles
            .get(&bundle)
            .ok_or(LoadError::UnknownBundle(bundle))?;
        self.shared.writer.working_on(&record.name);
        let dependents = registry.dependents(&[bundle]);
        if !dependents.is_empty() {
            let dependents = dependents
                .iter()
                .filter_map(|id| registry.bundles.get(id))
                .map(|r| r.name.clone())
                .collect();
            return Err(LoadError::HasDependents {
                bundle: record.name.clone(),
                dependents,
            });
        }
        self.unload_locked(&mut registry, bundle);
        self.maintain(&mut registry);
        Ok(())
    }

    /// Unloads a bundle and, first, every bundle that depends on it
    /// (transitively). Returns the unloaded bundles in unload order.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::Runtime;
    /// use polyplug_fixtures::bundle;
    ///
    /// let runtime = Runtime::new()?;
    /// let add = runtime.load_bundle(bundle("test-add"))?;
    /// let consumer = runtime.load_bundle(bundle("consumer"))?; // requires test.add
    /// assert_eq!(runtime.unload_cascade(add)?, [consumer, add]); // dependents first
    /// assert!(runtime.bundles().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unload_cascade(&self, bundle: BundleId) -> Result<Vec<BundleId>, LoadError> {
        self.own(bundle)?;
        let mut registry = self.shared.writer.lock(Operation::UnloadCascade)?;
        let Some(record) = registry.bundles.get(&bundle) else {
            return Err(LoadError::UnknownBundle(bundle));
        };
        self.shared.writer.working_on(&record.name);
        let mut doomed = vec![bundle];
        loop {
            let more: Vec<BundleId> = registry.dependents(&doomed);
            if more.is_empty() {
                break;
            }
            doomed.extend(more);
        }
        // Dependents were found after what they depend on: unload in reverse.
        doomed.reverse();
        for id in &doomed {
            self.unload_locked(&mut registry, *id);
        }
        self.maintain(&mut registry);
        Ok(doomed)
    }

    /// Publishes a contract implemented by the host, for plugins to find.
    ///
    /// The `host-user` fixture calls the host's `test.host` `double`:
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{HostContract, Runtime, Version};
    ///
    /// #[repr(C)]
    /// struct AddArgs { a: u32, b: u32 }
    /// extern "C" fn double(x: u32) -> u32 { x.wrapping_mul(2) }
    ///
    /// let runtime = Runtime::new()?;
    /// runtime.register_host_contract(
    ///     HostContract::new("test.host", Version::new(1, 0, 0))
    ///         .typed("double", double as extern "C" fn(u32) -> u32),
    /// )?;
    /// runtime.load_bundle(polyplug_fixtures::bundle("host-user"))?; // requires test.host
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let f = guard.find("host.user", Version::new(1, 0, 0))?.native("double_plus_one")?;
    /// let mut out = 0u32;
    /// // SAFETY: [P1] host.user documents `double_plus_one` as reading an `AddArgs`, writing a `u32`.
    /// unsafe { f.call(&AddArgs { a: 20, b: 0 }, &mut out) }?;
    /// assert_eq!(out, 41);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register_host_contract(
        &self,
        contract: HostContract,
    ) -> Result<ContractHandle, LoadError> {
        self.shared.writer.check(Operation::RegisterHostContract)?;
        let table = contract.plain.validate().map_err(LoadError::HostContract)?;
        let (name, version) = (table.name.to_string(), table.version);
        let id = table.id;
        let mut registry = self.shared.writer.lock(Operation::RegisterHostContract)?;
        let handle = self
            .shared
            .store
            .insert(id, Entry::new(table, Provider::Host, None))
            .map_err(|_| LoadError::StoreFull {
                bundle: "<host>".to_owned(),
            })?;
        registry.host.push(Published {
            handle,
            id,
            name,
            version,
        });
        self.maintain(&mut registry);
        Ok(ContractHandle(handle))
    }

    /// Reclaims retired tables, closes libraries nothing uses any more, and
    /// reports drained versions. Every write does this too; call it when
    /// writes are rare and you want libraries closed promptly. Returns the
    /// number of libraries closed.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use std::time::Duration;
    /// use polyplug::{Runtime, Version};
    ///
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
    /// let reader = runtime.reader();
    /// let instance = reader.pin().find("reload.test", Version::new(1, 0, 0))?.create_instance()?;
    /// runtime.unload_bundle(id)?;
    /// runtime.drain(Duration::from_secs(5))?; // tables gone; the instance keeps v1 loaded
    /// assert_eq!(runtime.library_stats().closed, 0);
    /// drop(instance); // runs the plugin's destructor; no `dlclose` on this thread
    /// assert_eq!(runtime.reclaim()?, 1); // closed here
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LoadError::Reentrant`] when called from plugin code that a write of
    /// this runtime runs (\[R11\]); that write reclaims when it ends.
    pub fn reclaim(&self) -> Result<usize, LoadError> {
        let mut registry = self.shared.writer.lock(Operation::Reclaim)?;
        Ok(self.maintain(&mut registry))
    }

    /// Waits until every table retired so far has no readers left and is
    /// destroyed, then closes the libraries nothing uses any more.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use std::time::Duration;
    /// use polyplug::{Runtime, Version};
    ///
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let inc = guard.find("test.add", Version::new(1, 0, 0))?.typed::<extern "C" fn(u32) -> u32>("inc")?;
    /// runtime.unload_bundle(id)?; // does not wait for readers
    /// assert_eq!(inc.call(1), 2); // the guard keeps the library loaded...
    /// assert!(runtime.drain(Duration::from_millis(10)).is_err()); // ...so draining times out
    /// drop(guard);
    /// runtime.drain(Duration::from_secs(5))?;
    /// assert_eq!(runtime.library_stats().closed, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LoadError::DrainTimeout`] when a reader still holds a retired table
    /// after `timeout`; [`LoadError::Reentrant`] at once when called from
    /// plugin code that a write of this runtime runs (\[R11\]).
    ///
    /// A thread that holds a guard cannot drain what that guard protects:
    /// a host contract that a plugin call reaches (the call runs under the
    /// caller's guard) and that drains waits for the timeout.
    pub fn drain(&self, timeout: Duration) -> Result<(), LoadError> {
        self.shared.writer.check(Operation::Drain)?;
        let ticket = self.shared.store.drain_ticket();
        self.shared
            .store
            .wait_drained(ticket, timeout)
            .map_err(LoadError::DrainTimeout)?;
        let mut registry = self.shared.writer.lock(Operation::Drain)?;
        self.maintain(&mut registry);
        Ok(())
    }

    fn maintain(&self, registry: &mut Registry) -> usize {
        let shared = &self.shared;
        shared.store.reclaim();
        // [R14] `dlclose` runs the libraries' finalisers on this thread.
        let closed = shared.writer.closing(|| shared.graveyard.close_all());
        let count = closed.len();
        for c in closed {
            shared.events.emit(Event::LibraryClosed {
                name: c.bundle,
                path: c.path,
                unmapped: c.unmapped,
            });
        }
        registry.drains.retain(|d| {
            if shared.store.is_drained(d.ticket) {
                shared.events.emit(Event::Drained {
                    bundle: d.bundle,
                    name: d.name.clone(),
                    version: d.version,
                });
                false
            } else {
                true
            }
        });
        count
    }

    /// Refuses an id issued by another runtime: it would name whatever
    /// bundle this runtime numbered the same.
    fn own(&self, bundle: BundleId) -> Result<(), LoadError> {
        if bundle.runtime == self.shared.serial {
            Ok(())
        } else {
            Err(LoadError::ForeignBundle {
                bundle,
                runtime: self.shared.serial,
            })
        }
    }

    fn check_loader(&self, bundle: &Bundle) -> Result<(), LoadError> {
        let manifest = bundle.manifest();
        let kind = manifest.loader.name();
        if manifest.loader == LoaderKind::Native
            || self.shared.loaders.iter().any(|l| l.kind() == kind)
        {
            Ok(())
        } else {
            Err(LoadError::UnsupportedLoader {
                bundle: manifest.name.as_str().to_owned(),
                kind: manifest.loader.name().to_owned(),
            })
        }
    }

    /// Loads an opened bundle; `source` is the path the host gave for it.
    fn load_opened(
        &self,
        registry: &mut Registry,
        bundle: Bundle,
        source: &Path,
    ) -> Result<BundleId, LoadError> {
        self.check_loader(&bundle)?;
        let manifest = bundle.manifest();
        let name = manifest.name.as_str().to_owned();
        self.shared.writer.working_on(&name);
        if let Some((_, existing)) = registry.by_name(&name) {
            return Err(LoadError::AlreadyLoaded {
                bundle: name,
                dir: existing.dir.clone(),
            });
        }
        for req in &manifest.requires {
            if !registry.provided(req.name.as_str(), req.version, &[]) {
                return Err(LoadError::MissingProvider {
                    bundle: name,
                    contract: req.name.as_str().to_owned(),
                    version: req.version,
                });
            }
        }
        let (library, tables) = self.open_and_init(&bundle)?;
        let id = BundleId {
            runtime: self.shared.serial,
            index: registry.next_bundle,
        };
        // [R8] every check passed: one commit publishes every contract.
        let (contracts, _ticket) = self.publish(id, &name, tables, &library, &[])?;
        registry.next_bundle += 1;
        let event = Event::Loaded {
            bundle: id,
            name: name.clone(),
            version: manifest.version,
            contracts: contracts
                .iter()
                .map(|p| format!("{} {}", p.name, p.version))
                .collect(),
        };
        registry.bundles.insert(
            id,
            BundleRecord {
                name,
                version: manifest.version,
                dir: bundle.dir().to_owned(),
                source: remembered(source),
                opened: bundle.without_other_files(),
                contracts,
                _library: library,
            },
        );
        self.publish_info(registry);
        self.shared.events.emit(event);
        Ok(id)
    }

    /// Opens the bundle's library, runs its entry point, and checks the
    /// registrations. Publishes nothing: on error the library is dropped
    /// into the graveyard and closed by the next `maintain`.
    fn open_and_init(
        &self,
        bundle: &Bundle,
    ) -> Result<(Arc<LoadedLibrary>, Vec<Table>), LoadError> {
        let manifest = bundle.manifest();
        let name = manifest.name.as_str();
        let native = if manifest.loader == LoaderKind::Native {
            let native = NativeLibrary::open(bundle, &self.shared.scratch)?;
            self.shared.graveyard.note_opened();
            Some(native)
        } else {
            None
        };
        let declared: Vec<Declared> = manifest
            .provides
            .iter()
            .map(|c| Declared {
                name: c.name.as_str().to_owned(),
                version: c.version,
            })
            .collect();
        let host = HostContext::new(Arc::downgrade(&self.shared), name, declared.clone());
        let dir_text = bundle.dir().to_str().unwrap_or("");
        let context = BundleContext {
            name: view(name),
            version: manifest.version,
            dir: view(dir_text),
        };
        let mut err = AbiError::NONE;
        // [R7] a guard pinned across the entry point (or the loader)
        // protects what the plugin resolves during init.
        let reader = self.shared.store.reader();
        let guard = reader.pin();
        // [R14] the entry point (or the loader, which runs the guest's
        // init) runs marked as such: what it calls back is refused, not
        // deadlocked.
        let (code, loaded) = match native {
            Some(native) => {
                let code = self.shared.writer.entry_point(name, || {
                    // SAFETY: [L1][P1] the library passed the ABI check; the
                    // host table, context and error live across the call.
                    unsafe { native.entry().call(host.api(), &context, &mut err) }
                });
                (code, Code::Native(native))
            }
            // Another kind: its loader registers through the same host
            // context, so every check below is the one native plugins get.
            None => match self.shared.writer.entry_point(name, || {
                crate::loader::load(&self.shared, &self.shared.loaders, bundle, &host)
            }) {
                Ok(owner) => {
                    self.shared.graveyard.note_code_loaded();
                    (OK, Code::Engine(owner))
                }
                Err(error) => {
                    drop(guard);
                    let (_tables, refused) = host.finish_init();
                    return Err(refused
                        .into_iter()
                        .next()
                        .map_or(error, |refusal| refusal_error(name, &declared, refusal)));
                }
            },
        };
        drop(guard);
        let (tables, refused) = host.finish_init();
        let library = Arc::new(LoadedLibrary::new(
            name,
            loaded,
            host,
            Arc::clone(&self.shared.graveyard),
        ));
        // A refused registration is the more precise error: plugins usually
        // pass its code on as their own.
        if let Some(refusal) = refused.into_iter().next() {
            return Err(refusal_error(name, &declared, refusal));
        }
        if code != OK {
            // SAFETY: [P6] the plugin filled `err` by the ABI's rules; its
            // library is still open (`library` is held).
            let message = unsafe { crate::host::take_message(&err) };
            return Err(LoadError::InitFailed {
                bundle: name.to_owned(),
                code,
                message,
            });
        }
        for d in &declared {
            if !tables
                .iter()
                .any(|t| *t.name == *d.name && t.version.satisfies(d.version))
            {
                return Err(LoadError::NotRegistered {
                    bundle: name.to_owned(),
                    contract: d.name.clone(),
                    version: d.version,
                });
            }
        }
        for (decl, path) in &manifest.definitions {
            let file = bundle.dir().join(path);
            let definition = Definition::load(&file).map_err(|error| LoadError::Definition {
                bundle: name.to_owned(),
                error: Box::new(error),
            })?;
            check_definition(name, decl, &definition, &tables)?;
        }
        for definition in &self.shared.definitions {
            for table in tables.iter().filter(|t| {
                *t.name == *definition.name && t.version.major == definition.version.major
            }) {
                check_host_definition(name, definition, table)?;
            }
        }
        Ok((library, tables))
    }

    /// Reloads bundle `id` from `bundle`, opened from `dir`. The bundle may
    /// have been unloaded since its directory was looked up.
    fn reload_locked(
        &self,
        registry: &mut Registry,
        id: BundleId,
        dir: &Path,
        bundle: Bundle,
    ) -> Result<(), LoadError> {
        let record = registry
            .bundles
            .get(&id)
            .ok_or(LoadError::UnknownBundle(id))?;
        self.check_loader(&bundle)?;
        let manifest = bundle.manifest();
        if manifest.name.as_str() != record.name {
            return Err(LoadError::NameMismatch {
                bundle: record.name.clone(),
                dir: dir.to_owned(),
                found: manifest.name.as_str().to_owned(),
            });
        }
        for req in &manifest.requires {
            if !registry.provided(req.name.as_str(), req.version, &[id]) {
                return Err(LoadError::MissingProvider {
                    bundle: record.name.clone(),
                    contract: req.name.as_str().to_owned(),
                    version: req.version,
                });
            }
        }
        let (library, tables) = self.open_and_init(&bundle)?;
        for old in &record.contracts {
            if !tables
                .iter()
                .any(|t| t.id == old.id && *t.name == *old.name)
            {
                return Err(LoadError::ReloadLacksContract {
                    bundle: record.name.clone(),
                    contract: old.name.clone(),
                    version: old.version,
                });
            }
        }
        // Every requirement of another bundle that only this one meets must
        // still be met by the new tables.
        for (other_id, other) in &registry.bundles {
            if *other_id == id {
                continue;
            }
            for req in &other.opened.manifest().requires {
                let contract = req.name.as_str();
                if registry.provided(contract, req.version, &[id]) {
                    continue;
                }
                let met_now = record
                    .contracts
                    .iter()
                    .any(|p| p.name == contract && p.version.satisfies(req.version));
                let met_after = tables
                    .iter()
                    .any(|t| *t.name == *contract && t.version.satisfies(req.version));
                if met_now && !met_after {
                    let provided = tables
                        .iter()
                        .find(|t| *t.name == *contract)
                        .map_or(Version::new(0, 0, 0), |t| t.version);
                    return Err(LoadError::BreaksDependent {
                        bundle: record.name.clone(),
                        dependent: other.name.clone(),
                        contract: contract.to_owned(),
                        provided,
                        required: req.version,
                    });
                }
            }
        }
        let name = record.name.clone();
        let from_version = record.version;
        // [R8] every check passed: one commit swaps every table in place.
        let (contracts, ticket) = self.publish(id, &name, tables, &library, &record.contracts)?;
        let to_version = manifest.version;
        registry.drains.push(PendingDrain {
            ticket,
            bundle: id,
            name: name.clone(),
            version: from_version,
        });
        if let Some(record) = registry.bundles.get_mut(&id) {
            record.version = to_version;
            record.dir = bundle.dir().to_owned();
            // The path the host gave (or the one kept from before): what
            // the next reload without `from` opens again.
            record.source = remembered(dir);
            record.opened = bundle.without_other_files();
            record.contracts = contracts;
            record._library = library;
        }
        self.publish_info(registry);
        self.shared.events.emit(Event::Reloaded {
            bundle: id,
            name,
            from: from_version,
            to: to_version,
        });
        Ok(())
    }

    /// Publishes a bundle's tables in one transaction: a table whose
    /// contract the bundle already published replaces it in place (its
    /// handle stays valid), any other is inserted.
    fn publish(
        &self,
        id: BundleId,
        name: &str,
        tables: Vec<Table>,
        library: &Arc<LoadedLibrary>,
        serving: &[Published],
    ) -> Result<(Vec<Published>, DrainTicket), LoadError> {
        let provider = Provider::Bundle {
            id,
            name: name.to_owned(),
        };
        let full = |_| LoadError::StoreFull {
            bundle: name.to_owned(),
        };
        let mut txn = self.shared.store.write();
        let mut contracts = Vec::with_capacity(tables.len());
        for table in tables {
            let (cid, cname, version) = (table.id, table.name.to_string(), table.version);
            let entry = Entry::new(table, provider.clone(), Some(Arc::clone(library)));
            let handle = match serving.iter().find(|p| p.id == cid && p.name == cname) {
                Some(old) => txn
                    .replace(old.handle, entry)
                    .map(|()| old.handle)
                    .map_err(full)?,
                None => txn.insert(cid, entry).map_err(full)?,
            };
            contracts.push(Published {
                handle,
                id: cid,
                name: cname,
                version,
            });
        }
        Ok((contracts, txn.commit()))
    }

    fn unload_locked(&self, registry: &mut Registry, id: BundleId) {
        let Some(record) = registry.bundles.remove(&id) else {
            return;
        };
        self.shared.events.emit(Event::Unloading {
            bundle: id,
            name: record.name.clone(),
        });
        let mut txn = self.shared.store.write();
        for published in &record.contracts {
            // A handle the registry holds is live: removal cannot fail.
            let _ = txn.remove(published.handle);
        }
        let ticket = txn.commit();
        registry.drains.push(PendingDrain {
            ticket,
            bundle: id,
            name: record.name.clone(),
            version: record.version,
        });
        self.publish_info(registry);
        self.shared.events.emit(Event::Unloaded {
            bundle: id,
            name: record.name,
        });
    }

    /// Publishes what the registry now holds for queries (\[R11\]): after
    /// every change of `registry.bundles`, before its event.
    fn publish_info(&self, registry: &Registry) {
        let info: Arc<[BundleInfo]> = registry
            .bundles
            .iter()
            .map(|(id, r)| BundleInfo {
                id: *id,
                name: r.name.clone(),
                version: r.version,
                dir: r.dir.clone(),
                source: r.source.clone(),
                contracts: r
                    .contracts
                    .iter()
                    .map(|p| (p.name.clone(), p.version))
                    .collect(),
                requires: r
                    .opened
                    .manifest()
                    .requires
                    .iter()
                    .map(|q| (q.name.as_str().to_owned(), q.version))
                    .collect(),
            })
            .collect();
        *lock(&self.shared.published) = info;
    }
}

/// The load error for a refused registration.
fn refusal_error(name: &str, declared: &[Declared], refusal: RegistrationError) -> LoadError {
    let bundle = name.to_owned();
    match refusal {
        RegistrationError::Invalid(error) => LoadError::InvalidContract { bundle, error },
        RegistrationError::Undeclared { contract, version } => LoadError::Undeclared {
            bundle,
            contract,
            version,
            declared: declared
                .iter()
                .map(|d| (d.name.clone(), d.version))
                .collect(),
        },
        RegistrationError::Duplicate { contract } => {
            LoadError::DuplicateContract { bundle, contract }
        }
        RegistrationError::NotInInit => LoadError::InitFailed {
            bundle,
            code: polyplug_abi::ERR_NOT_IN_INIT,
            message: "register_contract outside init".into(),
        },
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("serial", &self.shared.serial)
            .field("bundles", &self.published().len())
            .finish_non_exhaustive()
    }
}

/// Checks the table registered for `decl` against `definition`: the same
/// contract name and version, and exactly the defined typed functions,
/// each with its defined signature.
fn check_definition(
    bundle: &str,
    decl: &polyplug_loader::ContractDecl,
    definition: &Definition,
    tables: &[Table],
) -> Result<(), LoadError> {
    let mismatch = |function: &str, defined: String, registered: String| {
        LoadError::ContractMismatch(Box::new(ContractMismatch {
            bundle: bundle.to_owned(),
            contract: decl.name.as_str().to_owned(),
            function: function.to_owned(),
            definition: definition.file.clone(),
            defined,
            registered,
        }))
    };
    if definition.name != decl.name.as_str() || definition.version != decl.version {
        return Err(mismatch(
            "(contract)",
            format!("{} {}", definition.name, definition.version),
            format!("{} {}", decl.name.as_str(), decl.version),
        ));
    }
    let Some(table) = tables
        .iter()
        .find(|t| *t.name == *decl.name.as_str() && t.version.satisfies(decl.version))
    else {
        return Ok(()); // refused above as NotRegistered
    };
    for f in &definition.functions {
        let defined = f.signature.to_string();
        match table.typed.iter().find(|t| *t.name == *f.name) {
            None => return Err(mismatch(&f.name, defined, "none".to_owned())),
            Some(t) if *t.signature != *defined => {
                return Err(mismatch(&f.name, defined, t.signature.to_string()));
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = table
        .typed
        .iter()
        .find(|t| definition.function(&t.name).is_none())
    {
        return Err(mismatch(
            &extra.name,
            "none".to_owned(),
            extra.signature.to_string(),
        ));
    }
    Ok(())
}

/// Checks `table` against the host's copy of its contract's definition:
/// a version that satisfies the host's, and every defined function
/// registered with its defined signature.
fn check_host_definition(
    bundle: &str,
    definition: &Definition,
    table: &Table,
) -> Result<(), LoadError> {
    let mismatch = |function: &str, defined: String, registered: String| {
        LoadError::ContractMismatch(Box::new(ContractMismatch {
            bundle: bundle.to_owned(),
            contract: definition.name.clone(),
            function: function.to_owned(),
            definition: definition.file.clone(),
            defined,
            registered,
        }))
    };
    if !table.version.satisfies(definition.version) {
        return Err(mismatch(
            "(contract)",
            format!("{} {}", definition.name, definition.version),
            format!("{} {}", table.name, table.version),
        ));
    }
    for f in &definition.functions {
        let defined = f.signature.to_string();
        match table.typed.iter().find(|t| *t.name == *f.name) {
            None => return Err(mismatch(&f.name, defined, "none".to_owned())),
            Some(t) if *t.signature != *defined => {
                return Err(mismatch(&f.name, defined, t.signature.to_string()));
            }
            Some(_) => {}
        }
    }
    Ok(())
}
