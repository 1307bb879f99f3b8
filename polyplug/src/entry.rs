//! What the store holds for each contract, and the ids a host keeps.

use std::fmt;
use std::sync::Arc;

use polyplug_abi::{HostApi, NativeFn};

use crate::interface::Table;
use crate::library::LoadedLibrary;

/// A loaded bundle's id in one runtime. Ids are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BundleId(pub(crate) u64);

impl fmt::Display for BundleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A contract's handle: cheap to copy and keep. It stays valid across
/// reloads of the contract (a reload swaps the table in place) and becomes
/// stale when the contract is unloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContractHandle(pub(crate) polyplug_store::Handle);

impl fmt::Display for ContractHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Who provides a contract.
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

/// One contract as the store holds it.
pub(crate) struct Entry {
    /// The native functions, copied out of `table` for the call path.
    pub(crate) native: Box<[NativeFn]>,
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
            native: table.native.clone(),
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
