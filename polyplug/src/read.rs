//! The read side: readers, guards, and everything borrowed from a guard.
//!
//! Every contract, native function and typed function a host gets borrows
//! the [`Guard`] it came from, so it cannot be used after the guard is
//! dropped, and while the guard lives the store keeps the contract's table
//! (and through it the library) alive (\[R3\], built on the store's \[S5\]).
//! Nothing here locks, allocates, or runs a destructor, except the error
//! paths, which copy the plugin's message into a `String`.

use std::cell::Cell;
use std::ffi::c_void;
use std::marker::PhantomData;
use std::sync::Arc;

use polyplug_abi::{AbiError, BytesView, ContractId, NativeFn, OK, OwnedBuf, Version};
use polyplug_store::{Handle, Revision};

use crate::entry::{ContractHandle, Entry, Provider};
use crate::error::{CallError, FindError, HandoverError, HandoverStep};
use crate::interface::{Callee, Ctx, Handover, Instances, Table};
use crate::library::LoadedLibrary;
use crate::signature::{InstanceFn, Signature, Typed};

pub(crate) type StoreGuard<'r> = polyplug_store::Guard<'r, Entry, ContractId>;

/// One thread's registration with a runtime. Make one per thread and keep
/// it; [`Reader::pin`] is then cheap. Not `Send`.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{Runtime, Version};
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// let reader = runtime.reader(); // register once, keep
/// for x in 0..3 {
///     let guard = reader.pin(); // then pin per call, or per batch of calls
///     let add = guard.find("test.add", Version::new(1, 0, 0))?;
///     assert_eq!(add.typed::<extern "C" fn(u32) -> u32>("inc")?.call(x), x + 1);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Reader<'rt> {
    pub(crate) inner: polyplug_store::Reader<'rt, Entry, ContractId>,
}

impl Reader<'_> {
    /// Pins the runtime: until the guard drops, nothing it can reach is
    /// destroyed or unloaded. Keep guards short, or call
    /// [`Guard::repin`] now and then: a guard held for ever keeps every
    /// retired library loaded.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// assert_eq!(add.typed::<extern "C" fn(u32, u32) -> u32>("add")?.call(2, 3), 5);
    /// drop(guard); // what it protected may now be reclaimed
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn pin(&self) -> Guard<'_> {
        Guard {
            inner: self.inner.pin(),
        }
    }
}

impl<'rt> Reader<'rt> {
    /// A [`Session`]: this reader stays pinned between calls, so that
    /// [`Session::pin`] costs no fence. Keep it while the thread calls; drop
    /// it when the thread goes idle, because an idle session keeps every
    /// library retired since its last pin loaded (\[S11\]).
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return; }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new().unwrap();
    /// let reader = runtime.reader();
    /// let session = reader.session();
    /// for _ in 0..3 {
    ///     let guard = session.pin(); // pin per call, no fence
    ///     assert!(guard.find("no.such", Version::new(1, 0, 0)).is_err());
    /// }
    /// ```
    pub fn session(&self) -> Session<'_> {
        Session {
            inner: self.inner.session(),
        }
    }
}

/// A reader pinned between calls: each [`pin`](Session::pin) is a nested
/// pin with no fence, and a quiescent point at which libraries retired
/// since the last pin may be reclaimed. Not `Send`.
///
/// A guard from a session cannot outlive it:
///
/// ```compile_fail,E0597
/// # use polyplug::Runtime;
/// # let runtime = Runtime::new().unwrap();
/// let reader = runtime.reader();
/// let guard = {
///     let session = reader.session();
///     session.pin()
/// }; // error[E0597]: `session` does not live long enough
/// let _ = guard.revision();
/// ```
pub struct Session<'r> {
    inner: polyplug_store::Session<'r, Entry, ContractId>,
}

impl Session<'_> {
    /// Pins for one call (or a few): the hot-reload-safe per-call path.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return; }
    /// # use polyplug::Runtime;
    /// # let runtime = Runtime::new().unwrap();
    /// let reader = runtime.reader();
    /// let session = reader.session();
    /// let before = session.pin().revision();
    /// assert_eq!(session.pin().revision(), before);
    /// ```
    #[inline]
    pub fn pin(&self) -> Guard<'_> {
        Guard {
            inner: self.inner.pin(),
        }
    }
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

/// A pinned view of the runtime. Not `Send`.
///
/// ```compile_fail,E0597
/// # use polyplug::{Runtime, Version};
/// # let runtime = Runtime::new().unwrap();
/// let reader = runtime.reader();
/// let contract = {
///     let guard = reader.pin();
///     guard.find("test.add", Version::new(1, 0, 0)).unwrap()
/// }; // error[E0597]: `guard` does not live long enough
/// let _ = contract.version();
/// ```
pub struct Guard<'r> {
    pub(crate) inner: StoreGuard<'r>,
}

/// The best loaded entry for `name` satisfying `min`: the highest version.
#[inline]
pub(crate) fn best<'g>(
    guard: &'g StoreGuard<'_>,
    name: &str,
    min: Version,
) -> Option<(Handle, &'g Entry)> {
    best_with_id(guard, ContractId::of(name, min.major), name, min)
}

/// [`best`], with `id` already hashed from `name` and `min.major`.
#[inline]
fn best_with_id<'g>(
    guard: &'g StoreGuard<'_>,
    id: ContractId,
    name: &str,
    min: Version,
) -> Option<(Handle, &'g Entry)> {
    let matches = |entry: &Entry| &*entry.table.name == name && entry.table.version.satisfies(min);
    let mut best: Option<(Handle, &'g Entry)> = None;
    for (handle, entry) in guard.find_all(&id) {
        if matches(entry) && best.is_none_or(|(_, b)| entry.table.version > b.table.version) {
            best = Some((handle, entry));
        }
    }
    // `find` re-reads the key index when it meets a retired handle, so it
    // never misses a contract that stays loaded.
    best.or_else(|| guard.find(&id, |entry| matches(entry)))
}

/// A contract name and least version, hashed once, for
/// [`Guard::find_key`]: a host that looks the same contract up again and
/// again (every frame, every request) makes the key once and skips
/// hashing the name on each find.
///
/// A key is a question, not an answer: each find with it picks among the
/// contracts loaded at that moment, exactly as [`Guard::find`] does with the
/// same name and version. (A [`ContractHandle`] is the answer kept: it
/// reaches one contract, and [`Guard::get`] is cheaper still.)
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{ContractKey, Runtime, Version};
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// let key = ContractKey::new("test.add", Version::new(1, 0, 0)); // hashed here, once
/// let reader = runtime.reader();
/// for _ in 0..3 {
///     let guard = reader.pin();
///     assert_eq!(guard.find_key(&key)?.name(), "test.add");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContractKey {
    id: ContractId,
    name: Box<str>,
    min_version: Version,
}

impl ContractKey {
    /// The key of contract `name` at `min_version` or a later minor of the
    /// same major.
    pub fn new(name: &str, min_version: Version) -> Self {
        Self {
            id: ContractId::of(name, min_version.major),
            name: name.into(),
            min_version,
        }
    }

    /// The contract name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The least version a found contract has.
    pub fn min_version(&self) -> Version {
        self.min_version
    }

    /// The id the runtime indexes the contract by: `name` and the major
    /// version, hashed.
    pub fn id(&self) -> ContractId {
        self.id
    }
}

impl Guard<'_> {
    /// [`Guard::find`] with a key made once: the loaded contract
    /// `key.name()` with the highest version that satisfies
    /// `key.min_version()`, without hashing the name again.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{ContractKey, Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let add = ContractKey::new("test.add", Version::new(1, 0, 0));
    /// let newer = ContractKey::new("test.add", Version::new(1, 1, 0));
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// assert_eq!(guard.find_key(&add)?.version(), Version::new(1, 0, 0));
    /// assert!(guard.find_key(&newer).is_err()); // needs a newer minor
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn find_key(&self, key: &ContractKey) -> Result<ContractRef<'_>, FindError> {
        best_with_id(&self.inner, key.id, &key.name, key.min_version)
            .map(|(handle, entry)| ContractRef {
                handle: ContractHandle(handle),
                entry,
            })
            .ok_or_else(|| FindError::NotFound {
                contract: key.name.to_string(),
                min_version: key.min_version,
            })
    }

    /// The loaded contract `name` with the highest version that satisfies
    /// `min_version` (same major, minor at least the one asked for).
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// assert_eq!(guard.find("test.add", Version::new(1, 0, 0))?.version(), Version::new(1, 0, 0));
    /// assert!(guard.find("test.add", Version::new(1, 1, 0)).is_err()); // needs a newer minor
    /// assert!(guard.find("test.add", Version::new(2, 0, 0)).is_err()); // another major
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn find(&self, name: &str, min_version: Version) -> Result<ContractRef<'_>, FindError> {
        best(&self.inner, name, min_version)
            .map(|(handle, entry)| ContractRef {
                handle: ContractHandle(handle),
                entry,
            })
            .ok_or_else(|| FindError::NotFound {
                contract: name.to_owned(),
                min_version,
            })
    }

    /// Every loaded contract `name` that satisfies `min_version`, from any
    /// bundle or the host.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{Runtime, Version};
    /// use polyplug_fixtures::bundle;
    ///
    /// let runtime = Runtime::new()?;
    /// runtime.load_bundle(bundle("test-add"))?; // Rust
    /// runtime.load_bundle(bundle("test-add-cpp"))?; // C++, the same contract
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let mut sum = 0;
    /// for add in guard.find_all("test.add", Version::new(1, 0, 0)) {
    ///     sum += add.typed::<extern "C" fn(u32) -> u32>("inc")?.call(1);
    /// }
    /// assert_eq!(sum, 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn find_all<'g>(
        &'g self,
        name: &'g str,
        min_version: Version,
    ) -> impl Iterator<Item = ContractRef<'g>> + 'g {
        let id = ContractId::of(name, min_version.major);
        self.inner
            .find_all(&id)
            .filter(move |(_, e)| &*e.table.name == name && e.table.version.satisfies(min_version))
            .map(|(handle, entry)| ContractRef {
                handle: ContractHandle(handle),
                entry,
            })
    }

    /// The contract behind a handle kept from an earlier
    /// [`ContractRef::handle`]; after a reload it is the new version.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{FindError, Runtime, Version};
    ///
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let handle = reader.pin().find("test.add", Version::new(1, 0, 0))?.handle(); // keep this
    /// assert_eq!(reader.pin().get(handle)?.name(), "test.add"); // later: one check, no lookup
    /// runtime.unload_bundle(id)?;
    /// assert!(matches!(reader.pin().get(handle), Err(FindError::Stale { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn get(&self, handle: ContractHandle) -> Result<ContractRef<'_>, FindError> {
        match self.inner.get(handle.0) {
            Ok(entry) => Ok(ContractRef { handle, entry }),
            Err(_) => Err(FindError::Stale { handle }),
        }
    }

    /// The runtime's revision: it changes after every load, reload and
    /// unload, so a host that caches lookups checks it with one load.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let seen = reader.pin().revision(); // cache lookups made under this revision
    /// assert_eq!(reader.pin().revision(), seen); // nothing changed: the cache holds
    /// runtime.load_bundle(polyplug_fixtures::bundle("c-mul"))?;
    /// assert_ne!(reader.pin().revision(), seen); // look up again
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn revision(&self) -> Revision {
        self.inner.revision()
    }

    /// Lets go of everything this guard protected and pins again. Borrows
    /// taken from the guard end here, so the compiler makes you drop them.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let mut guard = reader.pin(); // one guard for a long batch
    /// for x in 0..3 {
    ///     let add = guard.find("test.add", Version::new(1, 0, 0))?;
    ///     assert_eq!(add.typed::<extern "C" fn(u32) -> u32>("inc")?.call(x), x + 1);
    ///     guard.repin(); // a quiescent point: retired tables may go now
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn repin(&mut self) {
        self.inner.repin();
    }
}

impl std::fmt::Debug for Guard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

/// A loaded contract, borrowed from a guard.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// # use polyplug::{Runtime, Version};
/// # let runtime = Runtime::new()?;
/// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let add = guard.find("test.add", Version::new(1, 0, 0))?;
/// println!("{} {} from {:?}", add.name(), add.version(), add.provider());
/// for (name, signature) in add.typed_signatures() {
///     println!("  typed {name}: {signature}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct ContractRef<'g> {
    handle: ContractHandle,
    entry: &'g Entry,
}

impl<'g> ContractRef<'g> {
    /// The store entry behind this reference.
    pub(crate) fn entry(&self) -> &'g Entry {
        self.entry
    }

    /// The handle to keep and [`Guard::get`] later.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let handle = guard.find("test.add", Version::new(1, 0, 0))?.handle();
    /// assert_eq!(guard.get(handle)?.name(), "test.add");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handle(&self) -> ContractHandle {
        self.handle
    }

    /// The contract's name.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// assert_eq!(guard.find("test.add", Version::new(1, 0, 0))?.name(), "test.add");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> &'g str {
        &self.entry.table.name
    }

    /// The contract's id, `ContractId::of(name, major)`.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// use polyplug::ContractId;
    ///
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// assert_eq!(add.id(), ContractId::of("test.add", 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> ContractId {
        self.entry.table.id
    }

    /// The version serving now.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// // The best match: at least 1.0, here exactly 1.0.0.
    /// assert_eq!(guard.find("test.add", Version::new(1, 0, 0))?.version(), Version::new(1, 0, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn version(&self) -> Version {
        self.entry.table.version
    }

    /// Who provides it.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// use polyplug::Provider;
    ///
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// assert!(matches!(add.provider(), Provider::Bundle { name, .. } if name == "test-add"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn provider(&self) -> &'g Provider {
        &self.entry.provider
    }

    /// Names of the native functions, in table order.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// assert_eq!(add.native_names().collect::<Vec<_>>(), ["add", "panic", "fail"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn native_names(&self) -> impl Iterator<Item = &'g str> + 'g {
        self.entry.table.native_names.iter().map(|n| &**n)
    }

    /// Names and signatures of the typed functions.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// let typed: Vec<_> = add.typed_signatures().collect();
    /// assert_eq!(typed, [("add", "u32(u32,u32)"), ("inc", "u32(u32)")]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn typed_signatures(&self) -> impl Iterator<Item = (&'g str, &'g str)> + 'g {
        self.entry
            .table
            .typed
            .iter()
            .map(|t| (&*t.name, &*t.signature))
    }

    /// Whether the contract makes instances.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// assert!(!guard.find("test.add", Version::new(1, 0, 0))?.is_stateful());
    /// assert!(guard.find("reload.test", Version::new(1, 0, 0))?.is_stateful());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_stateful(&self) -> bool {
        self.entry.table.instances.is_some()
    }

    /// The native function `name`.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// #[repr(C)]
    /// struct AddArgs { a: u32, b: u32 }
    ///
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let contract = guard.find("test.add", Version::new(1, 0, 0))?;
    /// let add = contract.native("add")?;
    /// let mut out = 0u32;
    /// // SAFETY: [P1] test.add documents `add` as reading an `AddArgs` and writing a `u32`.
    /// unsafe { add.call(&AddArgs { a: 2, b: 3 }, &mut out) }?;
    /// assert_eq!(out, 5);
    /// assert!(contract.native("mul").is_err()); // FindError::NoFunction
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn native(&self, name: &str) -> Result<NativeFnRef<'g>, FindError> {
        let index = self
            .entry
            .table
            .native_index(name)
            .ok_or_else(|| FindError::NoFunction {
                contract: self.name().to_owned(),
                kind: "native",
                function: name.to_owned(),
            })?;
        Ok(NativeFnRef {
            func: self.entry.native[index],
            table: &self.entry.table,
            index,
        })
    }

    /// The native function at `index` in table order.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// assert_eq!(add.native_at(0).map(|f| f.name().to_owned()).as_deref(), Some("add"));
    /// assert!(add.native_at(3).is_none()); // three native functions
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn native_at(&self, index: usize) -> Option<NativeFnRef<'g>> {
        let func = *self.entry.native.get(index)?;
        Some(NativeFnRef {
            func,
            table: &self.entry.table,
            index,
        })
    }

    /// The typed function `name` as the Rust type `F`, if its registered
    /// signature is exactly `F`'s.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// let inc = add.typed::<extern "C" fn(u32) -> u32>("inc")?;
    /// assert_eq!(inc.call(41), 42);
    /// assert!(add.typed::<extern "C" fn(u64) -> u64>("inc").is_err()); // SignatureMismatch
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn typed<F: Signature>(&self, name: &str) -> Result<Typed<'g, F>, FindError> {
        // [R1][R3] the entry, and so the library, lives while the guard 'g
        // is pinned.
        typed_in(&self.entry.table, name)
    }

    /// Makes an instance of a stateful contract. The instance keeps this
    /// version's library loaded until it is dropped, and always calls this
    /// version, even after a reload.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
    /// #[repr(C)]
    /// struct AddArgs { a: u32, b: u32 }
    ///
    /// let reader = runtime.reader();
    /// let mut counter = reader.pin().find("reload.test", Version::new(1, 0, 0))?.create_instance()?;
    /// let mut out = 0u32;
    /// for expected in 1..=3 {
    ///     // SAFETY: [P1] reload.test documents `bump` as reading an `AddArgs` and writing a `u32`.
    ///     unsafe { counter.call("bump", &AddArgs { a: 0, b: 0 }, &mut out) }?;
    ///     assert_eq!(out, expected); // the instance's own state
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_instance(&self) -> Result<Instance, crate::InstanceError> {
        let table = &self.entry.table;
        let Some(instances) = table.instances else {
            return Err(FindError::Stateless {
                contract: self.name().to_owned(),
            }
            .into());
        };
        let mut ptr: *mut c_void = std::ptr::null_mut();
        let mut err = AbiError::NONE;
        let (code, destroy) = match instances {
            Instances::Native(create, destroy) => {
                // SAFETY: [P1][P2] a validated create_instance; the out
                // pointers are live locals; the host table lives while the
                // library does.
                let code = unsafe { create(self.entry.host_api(), &mut ptr, &mut err) };
                (code, Destroy::Native(destroy))
            }
            Instances::Context {
                ctx,
                create,
                destroy,
            } => {
                // SAFETY: [R11][P1] a validated create_context_instance
                // with its own context; the out pointers are live locals.
                let code = unsafe { create(ctx.0, &mut ptr, &mut err) };
                (code, Destroy::Context(ctx, destroy))
            }
        };
        if code != OK {
            return Err(call_error(table, "create_instance", code, &err).into());
        }
        Ok(Instance {
            ptr,
            destroy,
            table: Arc::clone(table),
            library: self.entry.library.clone(),
            not_sync: PhantomData,
        })
    }
}

impl std::fmt::Debug for ContractRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContractRef")
            .field("handle", &self.handle)
            .field("name", &self.name())
            .field("version", &self.version())
            .finish()
    }
}

/// The typed function `name` of `table` as `F`, if its registered signature
/// spells `F`: a plain pointer for a typed entry, the entry itself for a
/// context entry. The caller keeps `table` (and its library) alive for
/// `'t` (\[R1\], \[R3\]).
pub(crate) fn typed_in<'t, F: Signature>(
    table: &'t Table,
    name: &str,
) -> Result<Typed<'t, F>, FindError> {
    let Some(index) = table.typed.iter().position(|t| &*t.name == name) else {
        return Err(FindError::NoFunction {
            contract: table.name.to_string(),
            kind: "typed",
            function: name.to_owned(),
        });
    };
    let slot = &table.typed[index];
    if !F::matches(&slot.signature) {
        return Err(FindError::SignatureMismatch {
            contract: table.name.to_string(),
            function: name.to_owned(),
            found: slot.signature.to_string(),
            expected: F::spelling(),
        });
    }
    match slot.callee {
        // SAFETY: [R6] the registered spelling matches `F` (checked);
        // [R1][R3] the caller keeps the table for 't.
        Callee::Raw(func) => Ok(unsafe { Typed::new(func) }),
        // SAFETY: [R6][R11] a context entry whose spelling matches `F`
        // (checked); the caller keeps the table for 't.
        Callee::Context { .. } => Ok(unsafe { Typed::context(table, index) }),
    }
}

pub(crate) fn call_error(table: &Table, function: &str, code: u32, err: &AbiError) -> CallError {
    // SAFETY: [P6] the plugin filled `err` by the ABI's rules, or left it
    // as AbiError::NONE.
    let message = unsafe { crate::host::take_message(err) };
    CallError {
        contract: table.name.to_string(),
        function: function.to_owned(),
        code,
        message,
    }
}

/// Calls `func` with the fixed native convention.
///
/// # Safety
///
/// \[P1\] `args` and `out` point to the types the function documents, and
/// `instance` is null or an instance of the function's contract.
#[inline]
unsafe fn invoke(
    func: NativeFn,
    table: &Table,
    index: usize,
    instance: *mut c_void,
    args: *const c_void,
    out: *mut c_void,
) -> Result<(), CallError> {
    let mut err = AbiError::NONE;
    // SAFETY: [P1] by this function's contract; [R1] the library is loaded.
    let code = unsafe { func(instance, args, out, &mut err) };
    if code == OK {
        Ok(())
    } else {
        let name = table.native_names.get(index).map_or("?", |n| &**n);
        Err(call_error(table, name, code, &err))
    }
}

/// A native function, borrowed from a guard.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// # use polyplug::{Runtime, Version};
/// # let runtime = Runtime::new()?;
/// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// #[repr(C)]
/// struct AddArgs { a: u32, b: u32 }
///
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let add = guard.find("test.add", Version::new(1, 0, 0))?.native("add")?;
/// let mut out = 0u32;
/// // SAFETY: [P1] test.add documents `add` as reading an `AddArgs` and writing a `u32`.
/// unsafe { add.call(&AddArgs { a: 40, b: 2 }, &mut out) }?;
/// assert_eq!(out, 42);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct NativeFnRef<'g> {
    func: NativeFn,
    table: &'g Table,
    index: usize,
}

impl NativeFnRef<'_> {
    /// Calls the function with no instance: `fn(null, args, out, err)`.
    ///
    /// # Safety
    ///
    /// `A` and `O` must be the argument and result types the contract
    /// documents for this function (the ABI cannot check them), and the
    /// plugin must follow the rules of `SAFETY.md` (\[P1\]–\[P6\]).
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// #[repr(C)]
    /// struct AddArgs { a: u32, b: u32 }
    ///
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let panics = guard.find("test.add", Version::new(1, 0, 0))?.native("panic")?;
    /// let mut out = 0u32;
    /// // SAFETY: [P1] test.add documents `panic` as reading an `AddArgs` and writing a `u32`.
    /// let err = unsafe { panics.call(&AddArgs { a: 0, b: 0 }, &mut out) }.unwrap_err();
    /// assert_eq!(err.code, polyplug_abi::ERR_PANIC); // caught in the plugin, returned as a code
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub unsafe fn call<A, O>(&self, args: &A, out: &mut O) -> Result<(), CallError> {
        let args: *const A = args;
        let out: *mut O = out;
        // SAFETY: [P1] forwarded to the caller.
        unsafe { self.call_raw(args.cast(), out.cast()) }
    }

    /// Calls the function with raw `args` and `out` pointers, passed to the
    /// plugin as they are (null included): for hosts that are not written
    /// in Rust.
    ///
    /// # Safety
    ///
    /// As for [`NativeFnRef::call`]: `args` and `out` are what the contract
    /// documents for this function, or null where it allows null.
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("c-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?.native("add")?;
    /// let mut out = 0u32;
    /// // SAFETY: [P1] the C `add` checks for null and refuses it with a code.
    /// let err = unsafe { add.call_raw(std::ptr::null(), (&raw mut out).cast()) }.unwrap_err();
    /// assert_eq!(err.code, polyplug_abi::ERR_BAD_ARGUMENT);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub unsafe fn call_raw(&self, args: *const c_void, out: *mut c_void) -> Result<(), CallError> {
        // SAFETY: [P1] forwarded to the caller.
        unsafe {
            invoke(
                self.func,
                self.table,
                self.index,
                std::ptr::null_mut(),
                args,
                out,
            )
        }
    }

    /// The function's name.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let reader = runtime.reader();
    /// let guard = reader.pin();
    /// let add = guard.find("test.add", Version::new(1, 0, 0))?;
    /// assert_eq!(add.native("fail")?.name(), "fail");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> &str {
        self.table.native_names.get(self.index).map_or("", |n| &**n)
    }
}

impl std::fmt::Debug for NativeFnRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeFnRef")
            .field("contract", &self.table.name)
            .field("function", &self.name())
            .finish()
    }
}

/// An instance of a stateful contract. It calls the version that made it,
/// keeps that version's library loaded, and destroys itself on drop.
/// `Send`, not `Sync`: calls take `&mut self`.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{Runtime, Version};
/// use polyplug_fixtures::bundle;
///
/// #[repr(C)]
/// struct AddArgs { a: u32, b: u32 }
///
/// let runtime = Runtime::new()?;
/// let id = runtime.load_bundle(bundle("reload-v1"))?;
/// let reader = runtime.reader();
/// let mut v1 = reader.pin().find("reload.test", Version::new(1, 0, 0))?.create_instance()?;
/// runtime.reload_bundle(id, Some(&bundle("reload-v2")))?;
/// let mut out = 0u32;
/// // SAFETY: [P1] reload.test documents `tag` as reading an `AddArgs` and writing a `u32`.
/// unsafe { v1.call("tag", &AddArgs { a: 0, b: 0 }, &mut out) }?;
/// assert_eq!(out, 100); // still v1's code: the instance keeps v1 loaded
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Instance {
    ptr: *mut c_void,
    destroy: Destroy,
    table: Arc<Table>,
    library: Option<Arc<LoadedLibrary>>,
    not_sync: PhantomData<Cell<()>>,
}

/// How an instance is destroyed: the kind of its contract's instances.
#[derive(Clone, Copy)]
enum Destroy {
    Native(polyplug_abi::DestroyInstanceFn),
    Context(Ctx, polyplug_abi::ContextDestroyFn),
}

// SAFETY: [P2] plugin functions and instances may be used from any thread,
// one at a time; `&mut self` on every call keeps it one at a time.
unsafe impl Send for Instance {}

impl Instance {
    /// The contract's name.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
    /// let reader = runtime.reader();
    /// let instance = reader.pin().find("reload.test", Version::new(1, 0, 0))?.create_instance()?;
    /// assert_eq!(instance.contract(), "reload.test");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contract(&self) -> &str {
        &self.table.name
    }

    /// The version that made this instance.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
    /// let reader = runtime.reader();
    /// let instance = reader.pin().find("reload.test", Version::new(1, 0, 0))?.create_instance()?;
    /// assert_eq!(instance.version(), Version::new(1, 0, 0)); // the version that made it, for good
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn version(&self) -> Version {
        self.table.version
    }

    /// Calls native function `function` on this instance.
    ///
    /// # Safety
    ///
    /// As for [`NativeFnRef::call`].
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
    /// #[repr(C)]
    /// struct AddArgs { a: u32, b: u32 }
    ///
    /// let reader = runtime.reader();
    /// let mut instance = reader.pin().find("reload.test", Version::new(1, 0, 0))?.create_instance()?;
    /// let mut out = 0u32;
    /// // SAFETY: [P1] reload.test documents `bump` as reading an `AddArgs` and writing a `u32`.
    /// unsafe { instance.call("bump", &AddArgs { a: 0, b: 0 }, &mut out) }?;
    /// assert_eq!(out, 1);
    /// // SAFETY: as above; an unknown name is refused before any call.
    /// assert!(unsafe { instance.call("nope", &AddArgs { a: 0, b: 0 }, &mut out) }.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn call<A, O>(
        &mut self,
        function: &str,
        args: &A,
        out: &mut O,
    ) -> Result<(), crate::InstanceError> {
        let args: *const A = args;
        let out: *mut O = out;
        // SAFETY: forwarded to the caller.
        unsafe { self.call_raw(function, args.cast(), out.cast()) }
    }

    /// Calls native function `function` on this instance with raw `args`
    /// and `out` pointers, passed to the plugin as they are: for hosts that
    /// are not written in Rust.
    ///
    /// # Safety
    ///
    /// As for [`NativeFnRef::call_raw`].
    ///
    /// # Example
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
    /// #[repr(C)]
    /// struct AddArgs { a: u32, b: u32 }
    ///
    /// let reader = runtime.reader();
    /// let mut instance = reader.pin().find("reload.test", Version::new(1, 0, 0))?.create_instance()?;
    /// let (args, mut out) = (AddArgs { a: 0, b: 0 }, 0u32);
    /// // SAFETY: [P1] reload.test documents `bump` as reading an `AddArgs` and writing a `u32`.
    /// unsafe { instance.call_raw("bump", (&raw const args).cast(), (&raw mut out).cast()) }?;
    /// assert_eq!(out, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn call_raw(
        &mut self,
        function: &str,
        args: *const c_void,
        out: *mut c_void,
    ) -> Result<(), crate::InstanceError> {
        let index = self
            .table
            .native_index(function)
            .ok_or_else(|| FindError::NoFunction {
                contract: self.table.name.to_string(),
                kind: "native",
                function: function.to_owned(),
            })?;
        let func = self.table.native[index];
        // SAFETY: forwarded to the caller; [R1] `self.library` keeps the
        // code loaded.
        unsafe { invoke(func, &self.table, index, self.ptr, args, out) }.map_err(Into::into)
    }
}

impl Instance {
    /// The typed function `name` of this instance's contract as `F`, called
    /// on this instance: an engine-run contract's function runs in this
    /// instance's own state (for WebAssembly, its own linear memory).
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
    /// let reader = runtime.reader();
    /// let mut instance = reader.pin().find("reload.test", Version::new(1, 0, 0))?.create_instance()?;
    /// assert!(instance.typed::<extern "C" fn() -> u64>("version").is_err()); // SignatureMismatch
    /// assert_eq!(instance.typed::<extern "C" fn() -> u32>("version")?.call()?, 100);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn typed<F: Signature>(&mut self, name: &str) -> Result<InstanceFn<'_, F>, FindError> {
        let typed = typed_in::<F>(&self.table, name)?;
        // SAFETY: [R1][R3] `self` keeps the table and library for the
        // borrow; [P2] `&mut self` makes this the instance's one user.
        Ok(unsafe { InstanceFn::new(typed, self.ptr) })
    }
}

impl Instance {
    /// Hands this instance's state over to the version of its contract
    /// that serves now: the newest loaded one of the same name and major
    /// (as [`Guard::find`] with minor 0 finds it), in any language. The
    /// old version's `save` writes the state as bytes, the new version's
    /// `restore` makes a new instance from them, and this instance becomes
    /// that one; the old one is destroyed here, on the calling thread,
    /// after the new one exists. Returns `Ok(false)` when the instance
    /// already runs the serving version's code, `Ok(true)` after a
    /// handover.
    ///
    /// # Errors
    ///
    /// A [`HandoverError`] naming the step (find, save or restore), the
    /// contract and both bundles: no version to move to, a side without a
    /// handover ([`HandoverError::NotSupported`]), or the plugin's error.
    /// On any error nothing changed: the instance is the old version's,
    /// with its state, and keeps serving.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::{Runtime, Version};
    /// use polyplug_fixtures::bundle;
    ///
    /// #[repr(C)]
    /// struct AddArgs { a: u32, b: u32 }
    ///
    /// let runtime = Runtime::new()?;
    /// let id = runtime.load_bundle(bundle("handover-v1"))?;
    /// let reader = runtime.reader();
    /// let mut counter = reader.pin().find("handover.counter", Version::new(1, 0, 0))?.create_instance()?;
    /// let (args, mut out) = (AddArgs { a: 0, b: 0 }, 0u32);
    /// for _ in 0..3 {
    ///     // SAFETY: [P1] handover.counter documents `step` as reading an `AddArgs` and writing a `u32`.
    ///     unsafe { counter.call("step", &args, &mut out) }?; // v1 steps by 1
    /// }
    /// runtime.reload_bundle(id, Some(&bundle("handover-v2")))?;
    /// assert!(counter.upgrade(&reader.pin())?); // saved by v1, restored by v2
    /// // SAFETY: as above.
    /// unsafe { counter.call("step", &args, &mut out) }?;
    /// assert_eq!(out, 13); // v1's count of 3, then v2's step of 10
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upgrade(&mut self, guard: &Guard<'_>) -> Result<bool, HandoverError> {
        let from = self.table.version;
        let from_bundle = self
            .library
            .as_deref()
            .map_or("host", LoadedLibrary::bundle);
        let Some((_, entry)) = best(
            &guard.inner,
            &self.table.name,
            Version::new(from.major, 0, 0),
        ) else {
            return Err(HandoverError::NotFound {
                contract: self.table.name.to_string(),
                from,
                from_bundle: from_bundle.to_owned(),
                source: Box::new(FindError::NotFound {
                    contract: self.table.name.to_string(),
                    min_version: Version::new(from.major, 0, 0),
                }),
            });
        };
        if Arc::ptr_eq(&entry.table, &self.table) {
            return Ok(false);
        }
        let to_table = &entry.table;
        let to_bundle = match &entry.provider {
            Provider::Bundle { name, .. } => name.as_str(),
            Provider::Host => "host",
        };
        let fail = |step: HandoverStep, source: Option<CallError>| {
            let (contract, from_bundle, to, to_bundle) = (
                self.table.name.to_string(),
                from_bundle.to_owned(),
                to_table.version,
                to_bundle.to_owned(),
            );
            match source {
                None => HandoverError::NotSupported {
                    step,
                    contract,
                    from,
                    from_bundle,
                    to,
                    to_bundle,
                },
                Some(source) => HandoverError::Failed {
                    step,
                    contract,
                    from,
                    from_bundle,
                    to,
                    to_bundle,
                    source: Box::new(source),
                },
            }
        };
        let Some(save) = self.table.handover else {
            return Err(fail(HandoverStep::Save, None));
        };
        let (Some(restore), Some(instances)) = (to_table.handover, to_table.instances) else {
            return Err(fail(HandoverStep::Restore, None));
        };
        let state = self
            .save_state(save)
            .map_err(|e| fail(HandoverStep::Save, Some(e)))?;
        let made = restore_state(entry, restore, instances, &state)
            .map_err(|e| fail(HandoverStep::Restore, Some(e)))?;
        // The new instance exists: swap it in, then destroy the old one
        // on this thread, its owner's ([R15]).
        let old = std::mem::replace(self, made);
        drop(old);
        Ok(true)
    }

    /// This instance's state as bytes, from its contract's `save`.
    fn save_state(&self, save: Handover) -> Result<Vec<u8>, CallError> {
        let mut buf = OwnedBuf::EMPTY;
        let mut err = AbiError::NONE;
        let code = match save {
            // SAFETY: [P1][P2] a validated save_instance on an instance of
            // its contract, which the caller's `&mut self` makes this call's alone; the
            // out pointers are live locals; [R1] `self.library` is held.
            Handover::Native { save, .. } => unsafe { save(self.ptr, &mut buf, &mut err) },
            // SAFETY: [R11][P1] as above, with the contract's instance
            // context.
            Handover::Context { ctx, save, .. } => unsafe {
                save(ctx.0, self.ptr, &mut buf, &mut err)
            },
        };
        if code != OK {
            return Err(call_error(&self.table, "save", code, &err));
        }
        // SAFETY: [R15][R12] on OK the plugin handed over `buf`, allocated
        // with the host's alloc(len, 1); it is taken once.
        Ok(unsafe { crate::signature::take_owned(buf) })
    }
}

/// A new instance of `entry`'s contract made by its `restore` from
/// `state`; destroyed as its `instances` destroy theirs.
fn restore_state(
    entry: &Entry,
    restore: Handover,
    instances: Instances,
    state: &[u8],
) -> Result<Instance, CallError> {
    let table = &entry.table;
    let mut ptr: *mut c_void = std::ptr::null_mut();
    let mut err = AbiError::NONE;
    let view = BytesView::of(state);
    let code = match restore {
        // SAFETY: [P1][P3] a validated restore_instance; `view` borrows
        // `state`, live for the call; the out pointers are live locals;
        // the host table lives while the library does.
        Handover::Native { restore, .. } => unsafe {
            restore(entry.host_api(), view, &mut ptr, &mut err)
        },
        // SAFETY: [R11][P1][P3] as above, with the instance context.
        Handover::Context { ctx, restore, .. } => unsafe {
            restore(ctx.0, view, &mut ptr, &mut err)
        },
    };
    if code != OK {
        return Err(call_error(table, "restore", code, &err));
    }
    let destroy = match instances {
        Instances::Native(_, destroy) => Destroy::Native(destroy),
        Instances::Context { ctx, destroy, .. } => Destroy::Context(ctx, destroy),
    };
    Ok(Instance {
        ptr,
        destroy,
        table: Arc::clone(table),
        library: entry.library.clone(),
        not_sync: PhantomData,
    })
}

impl Drop for Instance {
    fn drop(&mut self) {
        match self.destroy {
            // SAFETY: [P1] `ptr` came from this contract's create_instance
            // and is destroyed once; [R1] `self.library` is still held.
            Destroy::Native(destroy) => unsafe { destroy(self.ptr) },
            // SAFETY: [R11][P1] as above, for create_context_instance, with
            // the same context.
            Destroy::Context(ctx, destroy) => unsafe { destroy(ctx.0, self.ptr) },
        }
        // The library reference drops after the destructor ran; if it was
        // the last, the library goes to the graveyard, not to dlclose.
        drop(self.library.take());
    }
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("contract", &self.table.name)
            .field("version", &self.table.version)
            .finish()
    }
}
