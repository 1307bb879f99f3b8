//! The runtime's errors. Each names the bundle, file, contract or field.

use std::path::PathBuf;

use polyplug_abi::Version;
use polyplug_loader::{BundleError, NativeError};

use crate::interface::InvalidContract;

/// A load, reload or unload that did not happen. The runtime is exactly as
/// it was before the call.
///
/// ```
/// use polyplug::{LoadError, Runtime};
/// use polyplug_fixtures::bundle;
///
/// let runtime = Runtime::new()?;
/// // `consumer` requires `test.add`, which nothing provides yet.
/// let err = runtime.load_bundle(bundle("consumer")).unwrap_err();
/// assert!(matches!(err, LoadError::MissingProvider { .. }));
/// assert!(err.to_string().contains("requires contract test.add"));
/// runtime.load_bundle(bundle("test-add"))?;
/// let again = runtime.load_bundle(bundle("test-add"));
/// assert!(matches!(again, Err(LoadError::AlreadyLoaded { .. })));
/// assert_eq!(runtime.bundles().len(), 1); // failed loads changed nothing
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bundle directory or its manifest is unusable.
    #[error(transparent)]
    Bundle(Box<BundleError>),
    /// The library could not be opened or is not a polyplug plugin.
    #[error(transparent)]
    Native(Box<NativeError>),
    /// The manifest names a loader this runtime does not have yet.
    #[error("bundle {bundle}: loader kind {kind} is not supported by this runtime (only native)")]
    UnsupportedLoader {
        /// The bundle.
        bundle: String,
        /// The loader kind it asks for.
        kind: String,
    },
    /// A bundle of that name is already loaded.
    #[error("bundle {bundle} is already loaded (from {dir})")]
    AlreadyLoaded {
        /// The bundle.
        bundle: String,
        /// Where the loaded one came from.
        dir: PathBuf,
    },
    /// A contract the bundle requires is not provided by anything loaded.
    #[error(
        "bundle {bundle} requires contract {contract} {version}, which nothing loaded provides"
    )]
    MissingProvider {
        /// The bundle.
        bundle: String,
        /// The contract it requires.
        contract: String,
        /// The minimum version it requires.
        version: Version,
    },
    /// The bundles of a directory require each other in a cycle.
    #[error("dependency cycle: {}", cycle.join(" -> "))]
    DependencyCycle {
        /// The bundles in the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// The entry point returned an error (or panicked, code `ERR_PANIC`).
    #[error("bundle {bundle}: entry point failed with code {code}: {message}")]
    InitFailed {
        /// The bundle.
        bundle: String,
        /// The code it returned.
        code: u32,
        /// Its message.
        message: String,
    },
    /// A registered interface failed validation.
    #[error("bundle {bundle}: {error}")]
    InvalidContract {
        /// The bundle.
        bundle: String,
        /// What was wrong.
        error: InvalidContract,
    },
    /// The plugin registered a contract its manifest does not declare.
    #[error(
        "bundle {bundle}: registered contract {contract} {version}, which its manifest does not declare"
    )]
    Undeclared {
        /// The bundle.
        bundle: String,
        /// The contract.
        contract: String,
        /// Its registered version.
        version: Version,
    },
    /// The plugin registered one contract twice.
    #[error("bundle {bundle}: registered contract {contract} twice")]
    DuplicateContract {
        /// The bundle.
        bundle: String,
        /// The contract.
        contract: String,
    },
    /// The manifest declares a contract the plugin did not register.
    #[error(
        "bundle {bundle}: manifest declares contract {contract} {version}, which the plugin did not register"
    )]
    NotRegistered {
        /// The bundle.
        bundle: String,
        /// The contract.
        contract: String,
        /// The declared version.
        version: Version,
    },
    /// A reload's new version does not provide a contract the old one did.
    #[error(
        "bundle {bundle}: the new version does not provide contract {contract} {version}, which the serving version does"
    )]
    ReloadLacksContract {
        /// The bundle.
        bundle: String,
        /// The contract.
        contract: String,
        /// The serving version of it.
        version: Version,
    },
    /// A reload's new version would break a bundle that depends on it.
    #[error(
        "bundle {bundle}: the new version provides {contract} {provided}, but bundle {dependent} requires {required}"
    )]
    BreaksDependent {
        /// The bundle being reloaded.
        bundle: String,
        /// The dependent bundle.
        dependent: String,
        /// The contract.
        contract: String,
        /// What the new version provides.
        provided: Version,
        /// What the dependent requires.
        required: Version,
    },
    /// A reload from a directory whose manifest names another bundle.
    #[error("cannot reload bundle {bundle} from {dir}: its manifest names bundle {found}")]
    NameMismatch {
        /// The bundle being reloaded.
        bundle: String,
        /// The directory.
        dir: PathBuf,
        /// The name its manifest gives.
        found: String,
    },
    /// No bundle with that id is loaded.
    #[error("no bundle {0} is loaded")]
    UnknownBundle(crate::BundleId),
    /// A bundle id issued by another runtime: it names nothing here.
    #[error(
        "bundle id {bundle} was issued by another runtime (runtime {}), not by this one (runtime {runtime})",
        .bundle.runtime
    )]
    ForeignBundle {
        /// The id.
        bundle: crate::BundleId,
        /// This runtime's serial (the issuing runtime's is in the id).
        runtime: u64,
    },
    /// Unload refused: other bundles depend on this one.
    #[error("bundle {bundle} is required by {}; unload them first or ask for a cascade", dependents.join(", "))]
    HasDependents {
        /// The bundle.
        bundle: String,
        /// The bundles that require its contracts.
        dependents: Vec<String>,
    },
    /// The store is full (no free handle left).
    #[error("bundle {bundle}: the contract store is full")]
    StoreFull {
        /// The bundle.
        bundle: String,
    },
    /// Reading a directory of bundles failed.
    #[error("cannot read bundle directory {dir}: {error}")]
    ReadDir {
        /// The directory.
        dir: PathBuf,
        /// The IO error.
        error: std::io::Error,
    },
    /// A host contract name or function was refused.
    #[error("host contract: {0}")]
    HostContract(InvalidContract),
    /// A write called from plugin code that a write of the same runtime
    /// runs (an entry point, a thread it waits for, a library finaliser):
    /// refused, because that write holds the writer lock (`SAFETY.md`
    /// \[R11\]). Call it after the write in progress returns.
    #[error("{operation} called re-entrantly during {during}")]
    Reentrant {
        /// The write that was called.
        operation: crate::Operation,
        /// The write in progress, its bundle, and the code that called.
        during: crate::InProgress,
    },
    /// Retired tables still had readers when a drain's timeout ran out.
    #[error(transparent)]
    DrainTimeout(polyplug_store::DrainTimeout),
}

impl From<BundleError> for LoadError {
    fn from(error: BundleError) -> Self {
        LoadError::Bundle(Box::new(error))
    }
}

impl From<NativeError> for LoadError {
    fn from(error: NativeError) -> Self {
        LoadError::Native(Box::new(error))
    }
}

/// A contract that is not there.
///
/// ```
/// use polyplug::{FindError, Runtime, Version};
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let missing = guard.find("test.mul", Version::new(1, 0, 0));
/// assert!(matches!(missing, Err(FindError::NotFound { .. })));
/// let add = guard.find("test.add", Version::new(1, 0, 0))?;
/// let err = add.typed::<extern "C" fn(u64) -> u64>("inc").unwrap_err();
/// assert_eq!(err.to_string(), "contract test.add: typed function inc is u32(u32), not u64(u64)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindError {
    /// Nothing loaded provides the contract at a compatible version.
    #[error("no loaded contract {contract} satisfies {min_version}")]
    NotFound {
        /// The contract asked for.
        contract: String,
        /// The minimum version asked for.
        min_version: Version,
    },
    /// The handle's contract was unloaded (or the handle is foreign).
    #[error("stale contract handle {handle}: its contract was unloaded")]
    Stale {
        /// The handle.
        handle: crate::ContractHandle,
    },
    /// The contract has no function of that name and kind.
    #[error("contract {contract} has no {kind} function {function}")]
    NoFunction {
        /// The contract.
        contract: String,
        /// `native` or `typed`.
        kind: &'static str,
        /// The function asked for.
        function: String,
    },
    /// The typed function has another signature.
    #[error("contract {contract}: typed function {function} is {found}, not {expected}")]
    SignatureMismatch {
        /// The contract.
        contract: String,
        /// The function.
        function: String,
        /// Its registered signature.
        found: String,
        /// The signature asked for.
        expected: String,
    },
    /// The contract has no instances.
    #[error("contract {contract} is stateless: it has no create_instance")]
    Stateless {
        /// The contract.
        contract: String,
    },
}

/// A plugin function returned an error code.
///
/// ```
/// use polyplug::{Runtime, Version};
///
/// #[repr(C)]
/// struct AddArgs { a: u32, b: u32 }
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let fail = guard.find("test.add", Version::new(1, 0, 0))?.native("fail")?;
/// let mut out = 0u32;
/// // SAFETY: [P1] test.add documents `fail` as reading an `AddArgs` and writing a `u32`.
/// let err = unsafe { fail.call(&AddArgs { a: 1, b: 2 }, &mut out) }.unwrap_err();
/// assert_eq!(err.code, 1001);
/// assert_eq!(err.to_string(), "test.add.fail failed with code 1001: test.add failed on purpose");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{contract}.{function} failed with code {code}: {message}")]
pub struct CallError {
    /// The contract.
    pub contract: String,
    /// The function.
    pub function: String,
    /// The code (`ERR_PANIC` when the plugin panicked).
    pub code: u32,
    /// The plugin's message.
    pub message: String,
}

/// Making or calling an [`Instance`](crate::Instance) failed.
///
/// ```
/// use polyplug::{FindError, InstanceError, Runtime, Version};
///
/// let runtime = Runtime::new()?;
/// runtime.load_bundle(polyplug_fixtures::bundle("test-add"))?;
/// let reader = runtime.reader();
/// let guard = reader.pin();
/// let err = guard.find("test.add", Version::new(1, 0, 0))?.create_instance().unwrap_err();
/// assert!(matches!(err, InstanceError::Find(FindError::Stateless { .. }))); // no state in test.add
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstanceError {
    /// The contract or function is not there.
    #[error(transparent)]
    Find(#[from] FindError),
    /// The plugin returned an error.
    #[error(transparent)]
    Call(#[from] CallError),
}
