//! [`JsLoader`]: turns a JavaScript bundle into contracts, and runs calls
//! in per-thread QuickJS states under the bundle's budget.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use polyplug::LogLevel;
use polyplug::loader::{
    CodeError, CodeSource, EngineContract, EngineFn, EngineInstance, Fault, LoadedCode, Loader,
    Registrar, TypedSignature, Value,
};
use polyplug_abi::{ERR_BAD_ARGUMENT, ERR_INTERNAL};

use crate::budget::{Budget, JsConfig};
use crate::state::{self, CONTRACTS_EXPORT, Counters, Engine, Load, Mark, bump};

/// Counts of the loads and JavaScript states a [`JsLoader`] made and
/// freed.
///
/// ```
/// let loader = polyplug_js::JsLoader::new(polyplug_js::JsConfig::default());
/// let stats = loader.stats();
/// assert_eq!((stats.loads_alive(), stats.states_alive(), stats.states_pending), (0, 0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsStats {
    /// Loads made (one per load or reload).
    pub loads: u64,
    /// Loads dropped (by the runtime, on the writer side).
    pub loads_dropped: u64,
    /// QuickJS states made: one per calling thread per load, and one at
    /// load to read the registration.
    pub states_made: u64,
    /// States freed.
    pub states_freed: u64,
    /// Live states of loads that are gone: each waits for its thread's next
    /// call into the engine, or its exit.
    pub states_pending: u64,
}

impl JsStats {
    /// Loads made and not dropped.
    ///
    /// ```
    /// let stats = polyplug_js::JsStats { loads: 2, loads_dropped: 1, ..Default::default() };
    /// assert_eq!(stats.loads_alive(), 1);
    /// ```
    pub fn loads_alive(&self) -> u64 {
        self.loads.saturating_sub(self.loads_dropped)
    }

    /// States made and not freed (pending ones included).
    ///
    /// ```
    /// let stats = polyplug_js::JsStats { states_made: 3, states_freed: 3, ..Default::default() };
    /// assert_eq!(stats.states_alive(), 0);
    /// ```
    pub fn states_alive(&self) -> u64 {
        self.states_made.saturating_sub(self.states_freed)
    }
}

/// Reads a [`JsLoader`]'s counters after the loader moved into a runtime.
///
/// ```
/// let loader = polyplug_js::JsLoader::new(polyplug_js::JsConfig::default());
/// let handle = loader.stats_handle();
/// assert_eq!(handle.get(), loader.stats());
/// ```
#[derive(Debug, Clone)]
pub struct JsStatsHandle(Arc<Counters>);

impl JsStatsHandle {
    /// The counters now.
    ///
    /// ```
    /// # let handle = polyplug_js::JsLoader::new(Default::default()).stats_handle();
    /// assert_eq!(handle.get().states_alive(), 0);
    /// ```
    pub fn get(&self) -> JsStats {
        // Relaxed: statistics.
        let c = &self.0;
        JsStats {
            loads: c.loads.load(Ordering::Relaxed),
            loads_dropped: c.loads_dropped.load(Ordering::Relaxed),
            states_made: c.states_made.load(Ordering::Relaxed),
            states_freed: c.states_freed.load(Ordering::Relaxed),
            states_pending: c.states_pending.load(Ordering::Relaxed),
        }
    }
}

/// The loader for bundles with `loader = "javascript"`: one ES module run
/// by QuickJS. Add it with `Runtime::builder().loader(JsLoader::new(..))`.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::Runtime;
/// use polyplug_js::{JsConfig, JsLoader};
///
/// let loader = JsLoader::new(JsConfig::default());
/// let stats = loader.stats_handle(); // keep to read the counters later
/// let runtime = Runtime::builder().loader(loader).build()?;
/// assert_eq!(stats.get().loads, 0);
/// # let _ = runtime;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JsLoader {
    config: JsConfig,
    counters: Arc<Counters>,
}

impl JsLoader {
    /// A loader with the host's `config` (defaults and ceilings of the
    /// budgets).
    ///
    /// ```
    /// let loader = polyplug_js::JsLoader::new(polyplug_js::JsConfig::default());
    /// # let _ = loader;
    /// ```
    pub fn new(config: JsConfig) -> JsLoader {
        JsLoader {
            config,
            counters: Arc::default(),
        }
    }

    /// The loads and states made and freed so far.
    ///
    /// ```
    /// let loader = polyplug_js::JsLoader::new(polyplug_js::JsConfig::default());
    /// assert_eq!(loader.stats().states_made, 0);
    /// ```
    pub fn stats(&self) -> JsStats {
        self.stats_handle().get()
    }

    /// A handle on the counters that outlives moving the loader into a
    /// runtime.
    ///
    /// ```
    /// let loader = polyplug_js::JsLoader::new(polyplug_js::JsConfig::default());
    /// let handle = loader.stats_handle();
    /// # let _ = handle;
    /// ```
    pub fn stats_handle(&self) -> JsStatsHandle {
        JsStatsHandle(Arc::clone(&self.counters))
    }
}

impl std::fmt::Debug for JsLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsLoader")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The next load's generation: never reused, so a thread's state of a
/// dropped load is never matched again.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// What the runtime keeps for one load.
#[derive(Debug)]
struct LoadedScript {
    _load: Arc<Load>,
}

impl LoadedCode for LoadedScript {}

/// One exported function of a contract.
struct JsFn {
    /// Weak: only the runtime's owner keeps the load, so it is dropped
    /// where the runtime drops the owner, on the writer side.
    load: Weak<Load>,
    index: usize,
    contract: String,
    name: String,
    signature: TypedSignature,
}

impl EngineFn for JsFn {
    fn call(
        &self,
        instance: Option<&mut EngineInstance>,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        let Some(load) = self.load.upgrade() else {
            return Err(Fault::new(ERR_INTERNAL, "the module was unloaded"));
        };
        if instance.is_some() {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                "JavaScript contracts are stateless: call them without an instance",
            ));
        }
        state::call_on_thread(&load, self.index, &self.signature, args).map_err(|failure| {
            let message = format!(
                "bundle {}: contract {}: function {}: {}",
                load.bundle, self.contract, self.name, failure.what
            );
            load.logger.log(LogLevel::Warn, &message);
            Fault::new(failure.code, message)
        })
    }
}

impl Loader for JsLoader {
    fn kind(&self) -> &'static str {
        "javascript"
    }

    fn load(
        &self,
        code: &CodeSource<'_>,
        registrar: &mut Registrar<'_>,
    ) -> Result<Box<dyn LoadedCode>, CodeError> {
        let file = code.path().to_owned();
        let budget = Budget::of(code, &self.config.defaults, &self.config.ceiling);
        bump(&self.counters.loads);
        let mut load = Load {
            bundle: code.name().to_owned(),
            file: file.clone(),
            source: code.bytes().to_vec(),
            budget,
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            functions: Vec::new(),
            mark: Arc::new(Mark::default()),
            counters: Arc::clone(&self.counters),
            logger: registrar.logger(),
            contracts: registrar.contracts(),
        };
        if std::str::from_utf8(&load.source).is_err() {
            return Err(CodeError::new(&file, "source", "not UTF-8 text"));
        }
        // Evaluate once here, on the writer thread, to read the
        // registration; this state is freed before the load is published.
        let exports = match Engine::make(&load) {
            Ok((engine, exports)) => {
                drop(engine);
                exports
            }
            Err(failure) => {
                return Err(
                    CodeError::new(&file, "evaluation", failure.what).with_code(failure.code)
                );
            }
        };
        let mut declared = Vec::new();
        for (index, contract) in exports.iter().enumerate() {
            let field = |f: &str| format!("{CONTRACTS_EXPORT}: {f}");
            // One entry per contract: functions are resolved by contract
            // name, so a second entry (another version) would call the
            // first one's functions.
            if exports[..index].iter().any(|c| c.name == contract.name) {
                return Err(CodeError::new(
                    &file,
                    field("name"),
                    "the contract is exported twice; a bundle offers one version of it",
                )
                .in_contract(&contract.name));
            }
            let version = polyplug_loader::parse_version(&contract.version).map_err(|e| {
                CodeError::new(&file, field("version"), e.to_string()).in_contract(&contract.name)
            })?;
            let mut functions = Vec::new();
            for (name, spelling, length) in &contract.functions {
                let field = field(&format!("function {name}"));
                let signature = TypedSignature::parse(spelling).map_err(|problem| {
                    CodeError::new(&file, &field, problem).in_contract(&contract.name)
                })?;
                if *length != signature.args.len() {
                    return Err(CodeError::new(
                        &file,
                        &field,
                        format!(
                            "the signature {spelling} takes {} arguments, the function declares {length} parameters",
                            signature.args.len()
                        ),
                    )
                    .in_contract(&contract.name));
                }
                functions.push((name.clone(), spelling.clone(), signature));
            }
            declared.push((contract.name.clone(), version, functions));
        }
        for (contract, _, functions) in &declared {
            for (name, _, signature) in functions {
                load.functions
                    .push((contract.clone(), name.clone(), signature.clone()));
            }
        }
        let load = Arc::new(load);
        let mut index = 0;
        for (contract, version, functions) in declared {
            let mut engine_contract = EngineContract::new(contract.clone(), version);
            for (name, spelling, signature) in functions {
                let func = JsFn {
                    load: Arc::downgrade(&load),
                    index,
                    contract: contract.clone(),
                    name: name.clone(),
                    signature,
                };
                index += 1;
                engine_contract = engine_contract.function(name, spelling, Arc::new(func));
            }
            registrar
                .register(engine_contract)
                .map_err(|refused| refused.into_code_error().in_contract(&contract))?;
        }
        Ok(Box::new(LoadedScript { _load: load }))
    }
}
