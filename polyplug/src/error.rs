//! The runtime's errors. Each names the bundle, file, contract or field.
//!
//! Names, paths and messages that a plugin or a file supplied are kept raw
//! in the fields, for a host that wants the exact text, and shown through
//! [`Escaped`] by `Display`: a message holds no control character, so it
//! is one line that cannot forge log lines or drive a terminal.

use std::path::PathBuf;

use polyplug_abi::Version;
use polyplug_loader::{BundleError, Escaped, NativeError};

use crate::PluginMessage;
use crate::interface::InvalidContract;

/// A load, reload or unload that did not happen. The runtime is exactly as
/// it was before the call.
///
/// Every `String` and `PathBuf` field holds the raw text (a plugin's
/// message, a contract name as registered, a directory); `Display` shows it
/// through [`Escaped`].
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
    #[error(
        "bundle {}: loader kind {} is not supported by this runtime (only native)",
        Escaped(bundle),
        Escaped(kind)
    )]
    UnsupportedLoader {
        /// The bundle.
        bundle: String,
        /// The loader kind it asks for.
        kind: String,
    },
    /// A bundle of that name is already loaded.
    #[error(
        "bundle {} is already loaded (from {})",
        Escaped(bundle),
        Escaped(dir.display())
    )]
    AlreadyLoaded {
        /// The bundle.
        bundle: String,
        /// Where the loaded one came from.
        dir: PathBuf,
    },
    /// A contract the bundle requires is not provided by anything loaded.
    #[error(
        "bundle {} requires contract {} {version}, which nothing loaded provides",
        Escaped(bundle),
        Escaped(contract)
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
    #[error("dependency cycle: {}", Escaped(cycle.join(" -> ")))]
    DependencyCycle {
        /// The bundles in the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// The entry point returned an error (or panicked, code `ERR_PANIC`).
    #[error(
        "bundle {}: entry point failed with code {code}: {message}",
        Escaped(bundle)
    )]
    InitFailed {
        /// The bundle.
        bundle: String,
        /// The code it returned.
        code: u32,
        /// Its message: the raw text, at most
        /// [`PluginMessage::MAX_BYTES`] of it (`Display` escapes it and
        /// says when it was cut).
        message: PluginMessage,
    },
    /// A registered interface failed validation.
    #[error("bundle {}: {error}", Escaped(bundle))]
    InvalidContract {
        /// The bundle.
        bundle: String,
        /// What was wrong.
        error: InvalidContract,
    },
    /// The plugin registered a contract its manifest does not declare.
    #[error(
        "bundle {}: registered contract {} {version}, which its manifest does not declare",
        Escaped(bundle),
        Escaped(contract)
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
    #[error(
        "bundle {}: registered contract {} twice",
        Escaped(bundle),
        Escaped(contract)
    )]
    DuplicateContract {
        /// The bundle.
        bundle: String,
        /// The contract.
        contract: String,
    },
    /// The manifest declares a contract the plugin did not register.
    #[error(
        "bundle {}: manifest declares contract {} {version}, which the plugin did not register",
        Escaped(bundle),
        Escaped(contract)
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
        "bundle {}: the new version does not provide contract {} {version}, which the serving version does",
        Escaped(bundle),
        Escaped(contract)
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
        "bundle {}: the new version provides {} {provided}, but bundle {} requires {required}",
        Escaped(bundle),
        Escaped(contract),
        Escaped(dependent)
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
    #[error(
        "cannot reload bundle {} from {}: its manifest names bundle {}",
        Escaped(bundle),
        Escaped(dir.display()),
        Escaped(found)
    )]
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
    /// Unload refused: other bundles depend on this one.
    #[error(
        "bundle {} is required by {}; unload them first or ask for a cascade",
        Escaped(bundle),
        Escaped(dependents.join(", "))
    )]
    HasDependents {
        /// The bundle.
        bundle: String,
        /// The bundles that require its contracts.
        dependents: Vec<String>,
    },
    /// The store is full (no free handle left).
    #[error("bundle {}: the contract store is full", Escaped(bundle))]
    StoreFull {
        /// The bundle.
        bundle: String,
    },
    /// Reading a directory of bundles failed.
    #[error("cannot read bundle directory {}: {error}", Escaped(dir.display()))]
    ReadDir {
        /// The directory.
        dir: PathBuf,
        /// The IO error.
        error: std::io::Error,
    },
    /// A host contract name or function was refused.
    #[error("host contract: {0}")]
    HostContract(InvalidContract),
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
    #[error("no loaded contract {} satisfies {min_version}", Escaped(contract))]
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
    #[error(
        "contract {} has no {kind} function {}",
        Escaped(contract),
        Escaped(function)
    )]
    NoFunction {
        /// The contract.
        contract: String,
        /// `native` or `typed`.
        kind: &'static str,
        /// The function asked for.
        function: String,
    },
    /// The typed function has another signature.
    #[error(
        "contract {}: typed function {} is {}, not {}",
        Escaped(contract),
        Escaped(function),
        Escaped(found),
        Escaped(expected)
    )]
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
    #[error(
        "contract {} is stateless: it has no create_instance",
        Escaped(contract)
    )]
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
#[error(
    "{}.{} failed with code {code}: {message}",
    Escaped(contract),
    Escaped(function)
)]
pub struct CallError {
    /// The contract.
    pub contract: String,
    /// The function.
    pub function: String,
    /// The code (`ERR_PANIC` when the plugin panicked).
    pub code: u32,
    /// The plugin's message: the raw text, at most
    /// [`PluginMessage::MAX_BYTES`] of it (`Display` escapes it and says
    /// when it was cut).
    pub message: PluginMessage,
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
