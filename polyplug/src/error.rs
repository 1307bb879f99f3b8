//! The runtime's errors. Each names the bundle, file, contract or field.
//!
//! Names, paths and messages that a plugin or a file supplied are kept raw
//! in the fields, for a host that wants the exact text, and shown through
//! [`Escaped`] by `Display`: a message holds no control character, so it
//! is one line that cannot forge log lines or drive a terminal.

use core::fmt;
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
/// # if polyplug::MODEL_BUILD { return Ok(()); }
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
    /// The manifest names a loader this runtime was not built with
    /// ([`Runtime::builder`](crate::Runtime::builder)).
    #[error(
        "bundle {}: loader kind {} is not supported by this runtime (add a loader for it with Runtime::builder)",
        Escaped(bundle),
        Escaped(kind)
    )]
    UnsupportedLoader {
        /// The bundle.
        bundle: String,
        /// The loader kind it asks for.
        kind: String,
    },
    /// A loader refused the bundle's code ([`crate::loader`]).
    #[error("bundle {bundle}: {error}")]
    Code {
        /// The bundle.
        bundle: String,
        /// The file, contract and field at fault.
        error: Box<crate::loader::CodeError>,
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
    /// The plugin registered a contract its manifest does not declare at
    /// that version. The message names what the manifest declares instead:
    /// the same contract at another version, or (when it declares no
    /// version of it) the contracts it does declare, at most eight of them
    /// and a count of the rest.
    ///
    /// ```
    /// use polyplug::{LoadError, Version};
    ///
    /// let error = LoadError::Undeclared {
    ///     bundle: "demo".into(),
    ///     contract: "demo.calc".into(),
    ///     version: Version::new(1, 1, 0),
    ///     declared: vec![("demo.calc".into(), Version::new(1, 2, 0))],
    /// };
    /// assert_eq!(
    ///     error.to_string(),
    ///     "bundle demo: registered contract demo.calc 1.1.0, but its manifest declares demo.calc 1.2.0"
    /// );
    /// ```
    #[error(
        "bundle {}: registered contract {} {version}, {}",
        Escaped(bundle),
        Escaped(contract),
        Declarations { contract, declared }
    )]
    Undeclared {
        /// The bundle.
        bundle: String,
        /// The contract.
        contract: String,
        /// Its registered version.
        version: Version,
        /// Every contract the manifest declares (`[[provides]]`), `(name,
        /// version)`, in manifest order.
        declared: Vec<(String, Version)>,
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
    /// A definition file the manifest names for a provided contract could
    /// not be read or parsed.
    #[error("bundle {}: {error}", Escaped(bundle))]
    Definition {
        /// The bundle.
        bundle: String,
        /// Why the definition was refused: its file, line and column.
        error: Box<polyplug_contract::DefinitionError>,
    },
    /// The plugin's registration of a contract differs from the definition
    /// the bundle ships: a function missing, extra, or with another
    /// signature; or another name or version.
    #[error(transparent)]
    ContractMismatch(Box<ContractMismatch>),
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

/// How many declared contracts the message of [`LoadError::Undeclared`]
/// lists at most when the manifest declares no version of the registered
/// contract; it counts the rest.
const MAX_LISTED: usize = 8;

/// The end of [`LoadError::Undeclared`]'s message: what the manifest
/// declares instead of what was registered.
struct Declarations<'a> {
    contract: &'a str,
    declared: &'a [(String, Version)],
}

impl fmt::Display for Declarations<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut same = self
            .declared
            .iter()
            .filter(|(name, _)| name == self.contract)
            .peekable();
        if same.peek().is_some() {
            f.write_str("but its manifest declares ")?;
            for (i, (name, version)) in same.enumerate() {
                let and = if i == 0 { "" } else { " and " };
                write!(f, "{and}{} {version}", Escaped(name))?;
            }
            return Ok(());
        }
        f.write_str("which its manifest does not declare at any version; ")?;
        if self.declared.is_empty() {
            return f.write_str("it declares no contracts");
        }
        f.write_str("it declares ")?;
        for (i, (name, version)) in self.declared.iter().take(MAX_LISTED).enumerate() {
            let comma = if i == 0 { "" } else { ", " };
            write!(f, "{comma}{} {version}", Escaped(name))?;
        }
        match self.declared.len().saturating_sub(MAX_LISTED) {
            0 => Ok(()),
            more => write!(f, " and {more} more"),
        }
    }
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
/// # if polyplug::MODEL_BUILD { return Ok(()); }
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
/// # if polyplug::MODEL_BUILD { return Ok(()); }
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
/// # if polyplug::MODEL_BUILD { return Ok(()); }
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

/// The step of a state handover ([`Instance::upgrade`](crate::Instance::upgrade)).
///
/// ```
/// assert_eq!(polyplug::HandoverStep::Save.to_string(), "save");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandoverStep {
    /// Finding the version to hand over to.
    Find,
    /// The old version's `save`: the instance's state as bytes.
    Save,
    /// The new version's `restore`: a new instance from those bytes.
    Restore,
}

impl fmt::Display for HandoverStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandoverStep::Find => "find",
            HandoverStep::Save => "save",
            HandoverStep::Restore => "restore",
        })
    }
}

/// A state handover that did not happen: the instance is exactly as it
/// was, made by its old version and serving. Each variant names the
/// step, the contract, and the bundle and version of each side.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::{HandoverError, HandoverStep, Runtime, Version};
///
/// let runtime = Runtime::new()?;
/// let id = runtime.load_bundle(polyplug_fixtures::bundle("reload-v1"))?;
/// let reader = runtime.reader();
/// let mut instance = reader.pin().find("reload.test", Version::new(1, 0, 0))?.create_instance()?;
/// runtime.reload_bundle(id, Some(&polyplug_fixtures::bundle("reload-v2")))?;
/// let err = instance.upgrade(&reader.pin()).unwrap_err(); // reload.test offers no save
/// assert!(matches!(err, HandoverError::NotSupported { step: HandoverStep::Save, .. }));
/// assert_eq!(instance.version(), Version::new(1, 0, 0)); // still v1, still serving
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoverError {
    /// No loaded contract of the instance's name and major to hand over
    /// to.
    #[error(
        "state handover of {} {from} (bundle {}) failed at find: {source}",
        Escaped(contract),
        Escaped(from_bundle)
    )]
    NotFound {
        /// The contract.
        contract: String,
        /// The instance's version.
        from: Version,
        /// The bundle that made the instance.
        from_bundle: String,
        /// What the lookup said.
        #[source]
        source: Box<FindError>,
    },
    /// One side offers no handover: the old version no `save`, or the new
    /// one no `restore`.
    #[error(
        "state handover of {} from {from} (bundle {}) to {to} (bundle {}) failed at {step}: \
         the {} version offers no {step} (a contract opts in with save and restore)",
        Escaped(contract),
        Escaped(from_bundle),
        Escaped(to_bundle),
        if matches!(step, HandoverStep::Save) { "old" } else { "new" }
    )]
    NotSupported {
        /// The step that is missing.
        step: HandoverStep,
        /// The contract.
        contract: String,
        /// The instance's version.
        from: Version,
        /// The bundle that made the instance.
        from_bundle: String,
        /// The version it was to move to.
        to: Version,
        /// The bundle of that version.
        to_bundle: String,
    },
    /// The plugin's `save` or `restore` returned an error.
    #[error(
        "state handover of {} from {from} (bundle {}) to {to} (bundle {}) failed at {step}: {source}",
        Escaped(contract),
        Escaped(from_bundle),
        Escaped(to_bundle)
    )]
    Failed {
        /// The step that failed.
        step: HandoverStep,
        /// The contract.
        contract: String,
        /// The instance's version.
        from: Version,
        /// The bundle that made the instance.
        from_bundle: String,
        /// The version it was to move to.
        to: Version,
        /// The bundle of that version.
        to_bundle: String,
        /// The plugin's code and message.
        #[source]
        source: Box<CallError>,
    },
}

impl HandoverError {
    /// The step that failed.
    ///
    /// ```
    /// use polyplug::{FindError, HandoverError, HandoverStep, Version};
    ///
    /// let err = HandoverError::NotFound {
    ///     contract: "demo.counter".to_owned(),
    ///     from: Version::new(1, 0, 0),
    ///     from_bundle: "counter".to_owned(),
    ///     source: Box::new(FindError::NotFound {
    ///         contract: "demo.counter".to_owned(),
    ///         min_version: Version::new(1, 0, 0),
    ///     }),
    /// };
    /// assert_eq!(err.step(), HandoverStep::Find);
    /// ```
    pub fn step(&self) -> HandoverStep {
        match self {
            HandoverError::NotFound { .. } => HandoverStep::Find,
            HandoverError::NotSupported { step, .. } | HandoverError::Failed { step, .. } => *step,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn undeclared(contract: &str, declared: &[(&str, Version)]) -> String {
        LoadError::Undeclared {
            bundle: "demo".to_owned(),
            contract: contract.to_owned(),
            version: Version::new(1, 1, 0),
            declared: declared
                .iter()
                .map(|(name, version)| ((*name).to_owned(), *version))
                .collect(),
        }
        .to_string()
    }

    #[test]
    fn undeclared_names_what_the_manifest_declares() {
        let v = Version::new;
        assert_eq!(
            undeclared(
                "x",
                &[("a", v(1, 0, 0)), ("x", v(1, 2, 0)), ("x", v(2, 0, 0))]
            ),
            "bundle demo: registered contract x 1.1.0, but its manifest declares x 1.2.0 and x 2.0.0"
        );
        assert_eq!(
            undeclared("x", &[("a", v(1, 0, 0)), ("b", v(2, 1, 0))]),
            "bundle demo: registered contract x 1.1.0, which its manifest does not declare \
             at any version; it declares a 1.0.0, b 2.1.0"
        );
        assert_eq!(
            undeclared("x", &[]),
            "bundle demo: registered contract x 1.1.0, which its manifest does not declare \
             at any version; it declares no contracts"
        );
    }

    #[test]
    fn undeclared_lists_a_bounded_number_of_declarations() {
        let names: Vec<String> = (0..MAX_LISTED + 3).map(|i| format!("c{i}")).collect();
        let declared: Vec<(&str, Version)> = names
            .iter()
            .map(|name| (name.as_str(), Version::new(1, 0, 0)))
            .collect();
        let text = undeclared("x", &declared);
        assert!(text.ends_with(", c7 1.0.0 and 3 more"), "{text}");
        assert!(!text.contains("c8"), "{text}");
    }
}

/// How a plugin's registration of a contract differs from the contract's
/// definition ([`LoadError::ContractMismatch`]).
#[derive(Debug, thiserror::Error)]
#[error(
    "bundle {}: contract {} function {}: the definition ({}) says {}, the plugin registered {}",
    Escaped(bundle),
    Escaped(contract),
    Escaped(function),
    Escaped(definition.display()),
    Escaped(defined),
    Escaped(registered)
)]
pub struct ContractMismatch {
    /// The bundle.
    pub bundle: String,
    /// The contract.
    pub contract: String,
    /// The function, or `(contract)` when the name or version differs.
    pub function: String,
    /// The definition file.
    pub definition: PathBuf,
    /// What the definition says: a signature, or `none`.
    pub defined: String,
    /// What the plugin registered: a signature, or `none`.
    pub registered: String,
}
