//! What the store holds for each contract, and the ids a host keeps.

use std::fmt;
use std::sync::Arc;

use polyplug_abi::{HostApi, NativeFn};

use std::sync::atomic::{AtomicU64, Ordering};

use crate::interface::{Callee, Table};
use crate::library::LoadedLibrary;

/// A loaded bundle's id in one runtime. Ids are never reused, and an id
/// names a bundle only in the runtime that issued it: it carries that
/// runtime's identity (two words, `Copy`), and every other runtime refuses
/// it with [`LoadError::ForeignBundle`](crate::LoadError::ForeignBundle).
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::Runtime;
///
/// let runtime = Runtime::new()?;
/// let id = runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
/// assert_eq!(runtime.bundle_id("reload-test"), Some(id)); // the manifest's name
/// assert!(id.to_string().starts_with('#'));
/// runtime.unload_bundle(id)?;
/// let again = runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
/// assert_ne!(again, id); // ids are never reused
///
/// let other = Runtime::new()?;
/// let theirs = other.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
/// assert_ne!(theirs, again); // the same bundle, another runtime: another id
/// assert!(matches!(runtime.unload_bundle(theirs), Err(polyplug::LoadError::ForeignBundle { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BundleId {
    /// The issuing runtime's serial, unique in the process (ordered first,
    /// so one runtime's ids sort by `index`).
    pub(crate) runtime: u64,
    /// The bundle's number in that runtime.
    pub(crate) index: u64,
}

impl fmt::Display for BundleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.index)
    }
}

/// The next runtime serial; process-wide, so no two runtimes of a process
/// share one, and never reused.
static NEXT_RUNTIME: AtomicU64 = AtomicU64::new(1);

/// A fresh runtime serial.
pub(crate) fn next_runtime_serial() -> u64 {
    // Relaxed: only uniqueness matters, which the RMW gives.
    NEXT_RUNTIME.fetch_add(1, Ordering::Relaxed)
}

/// A contract's handle: cheap to copy and keep. It stays valid across
/// reloads of the contract (a reload swaps the table in place) and becomes
/// stale when the contract is unloaded.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{Runtime, Version};
/// use polyplug_fixtures::bundle;
///
/// let runtime = Runtime::new()?;
/// let id = runtime.load_bundle(bundle("reload-v1"))?;
/// let reader = runtime.reader();
/// let handle = reader.pin().find("reload.test", Version::new(1, 0, 0))?.handle();
/// runtime.reload_bundle(id, Some(&bundle("reload-v2")))?;
/// assert_eq!(reader.pin().get(handle)?.version(), Version::new(1, 1, 0)); // same handle, new table
/// runtime.unload_bundle(id)?;
/// assert!(reader.pin().get(handle).is_err()); // stale
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContractHandle(pub(crate) polyplug_store::Handle);

impl ContractHandle {
    /// The handle as the plain `u64` a plugin sees through the host table
    /// (`PpContractHandle`); never 0.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # use polyplug::{ContractHandle, Runtime, Version};
    /// # let runtime = Runtime::new()?;
    /// # runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
    /// let handle = runtime.reader().pin().find("test.add", Version::new(1, 0, 0))?.handle();
    /// assert_eq!(ContractHandle::from_raw(handle.to_raw()), Some(handle));
    /// assert_eq!(ContractHandle::from_raw(0), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_raw(self) -> u64 {
        self.0.to_raw()
    }

    /// The handle whose [`to_raw`](Self::to_raw) is `raw`, if `raw` is
    /// well formed (it may still be stale).
    ///
    /// ```
    /// assert!(polyplug::ContractHandle::from_raw(0).is_none());
    /// ```
    pub fn from_raw(raw: u64) -> Option<ContractHandle> {
        polyplug_store::Handle::from_raw(raw).map(ContractHandle)
    }
}

impl fmt::Display for ContractHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Who provides a contract.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{HostContract, Provider, Runtime, Version};
///
/// let runtime = Runtime::new()?;
/// runtime.register_host_contract(HostContract::new("demo.host", Version::new(1, 0, 0)))?;
/// let id = runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// assert_eq!(guard.find("demo.host", Version::new(1, 0, 0))?.provider(), &Provider::Host);
/// let name = "test-add".to_owned();
/// assert_eq!(guard.find("test.add", Version::new(1, 0, 0))?.provider(), &Provider::Bundle { id, name });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// A loaded bundle.
    Bundle {
        /// Its id.
        id: BundleId,
        /// Its name.
        name: String,
    },
    /// The host, through [`Runtime::register_host_contract`](crate::Runtime::register_host_contract).
    Host,
}

/// The next entry serial. Process-wide so that no two entries of any
/// runtime ever share one: a [`Binding`](crate::Binding) trusts its cache
/// only for the entry whose serial it recorded (\[R10\]).
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

/// A fresh entry serial. Below 2^63, as a binding's cache needs
/// (\[R10\]): at a billion entries a second, the counter would take
/// centuries to get there, and if it ever did, this refuses to go on.
fn next_serial() -> u64 {
    // Relaxed: only uniqueness matters, which the RMW gives; the entry is
    // published to readers by the store's Release [S2].
    let serial = NEXT_SERIAL.fetch_add(1, Ordering::Relaxed);
    assert!(serial < 1 << 63, "entry serials exhausted");
    serial
}

/// One contract as the store holds it.
pub(crate) struct Entry {
    /// Unique to this entry, never reused (\[R10\]).
    pub(crate) serial: u64,
    /// The native functions, copied out of `table` for the call path.
    pub(crate) native: Box<[NativeFn]>,
    /// How each typed function is called, in table order, for the call
    /// path.
    pub(crate) typed: Box<[Callee]>,
    pub(crate) table: Arc<Table>,
    pub(crate) provider: Provider,
    /// Keeps the library loaded while this entry can be reached (\[R1\]);
    /// `None` for host contracts.
    pub(crate) library: Option<Arc<LoadedLibrary>>,
}

impl Entry {
    pub(crate) fn new(
        table: Table,
        provider: Provider,
        library: Option<Arc<LoadedLibrary>>,
    ) -> Entry {
        Entry {
            serial: next_serial(),
            native: table.native.clone(),
            typed: table.typed.iter().map(|t| t.callee).collect(),
            table: Arc::new(table),
            provider,
            library,
        }
    }

    /// The host table of the entry's library, for `create_instance`.
    pub(crate) fn host_api(&self) -> *const HostApi {
        self.library
            .as_ref()
            .and_then(|l| l.host())
            .map_or(std::ptr::null(), |h| h.api())
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("table", &self.table)
            .field("provider", &self.provider)
            .finish()
    }
}
