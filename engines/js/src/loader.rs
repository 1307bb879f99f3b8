//! [`JsLoader`]: turns a JavaScript bundle into contracts, and runs calls
//! in per-thread QuickJS states under the bundle's budget.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use polyplug::LogLevel;
use polyplug::loader::instances::InstanceTally;
use polyplug::loader::{
    CodeError, CodeSource, EngineContract, EngineFn, EngineInstance, EngineInstances, Fault,
    LoadedCode, Loader, Registrar, TypedSignature, Value,
};
use polyplug_abi::{ERR_BAD_ARGUMENT, ERR_INTERNAL, ERR_UNSUPPORTED};

use crate::budget::{Budget, JsConfig};
use crate::instance::JsInstance;
use crate::state::{self, CONTRACTS_EXPORT, Counters, Engine, Failure, Load, Mark, bump};

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
    /// Instances of stateful contracts made (the class constructed and
    /// the object kept).
    pub instances_made: u64,
    /// Instance objects freed: when the host dropped the instance on the
    /// thread that made it, at that thread's next call into the engine
    /// after a drop on another thread, after a failed call on it, or
    /// with their state.
    pub instances_dropped: u64,
    /// Instances the host dropped on another thread than their own,
    /// whose objects wait for that thread's next call into the engine
    /// (or for their state to go).
    pub instances_pending: u64,
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

    /// Instance objects made and not yet freed, pending ones included.
    ///
    /// ```
    /// let stats = polyplug_js::JsStats { instances_made: 2, instances_dropped: 1, ..Default::default() };
    /// assert_eq!(stats.instances_alive(), 1);
    /// ```
    pub fn instances_alive(&self) -> u64 {
        self.instances_made.saturating_sub(self.instances_dropped)
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
            instances_made: c.instances.made(),
            instances_dropped: c.instances.dropped(),
            instances_pending: c.instances.pending(),
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
    /// Held, not weak: the runtime drops the function with the table it
    /// belongs to, on the writer side (after the owner), and a call then
    /// reads the load without a shared atomic write (no cache line bounced
    /// between calling threads).
    load: Arc<Load>,
    index: usize,
    contract: String,
    name: String,
    signature: TypedSignature,
    /// A method of the contract's class, called on an instance.
    method: bool,
}

impl JsFn {
    /// `failure` as a fault naming bundle, contract and function, logged.
    fn fault(&self, load: &Load, failure: &Failure) -> Fault {
        let message = format!(
            "bundle {}: contract {}: function {}: {}",
            load.bundle, self.contract, self.name, failure.what
        );
        load.logger.log(LogLevel::Warn, &message);
        Fault::new(failure.code, message)
    }
}

impl EngineFn for JsFn {
    fn call(
        &self,
        instance: Option<&mut EngineInstance>,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        let load = &self.load;
        let refused = |code: u32, what: &str| Err(self.fault(load, &Failure::new(code, what)));
        let Some(instance) = instance else {
            if self.method {
                return refused(
                    ERR_BAD_ARGUMENT,
                    "the contract is stateful: call its functions on an instance (create_instance)",
                );
            }
            return state::call_on_thread(load, self.index, &self.signature, args)
                .map_err(|failure| self.fault(load, &failure));
        };
        let Some(instance) = instance.downcast_mut::<JsInstance>() else {
            return refused(ERR_BAD_ARGUMENT, "not an instance of a JavaScript contract");
        };
        if let Err(fault) = instance.check(load.generation) {
            return Err(self.fault(load, &Failure::from(fault)));
        }
        state::with_engine(load, |engine| {
            engine.call_method(instance, &self.name, &self.signature, args)
        })
        .map_err(|failure| self.fault(load, &failure))
    }
}

/// Makes the instances of one stateful contract.
struct JsInstances {
    load: Weak<Load>,
    /// The contract's index among the load's stateful contracts.
    stateful: usize,
    contract: String,
    /// The contract's entry gives `save` and `restore`.
    handover: bool,
}

impl JsInstances {
    /// The load, or a fault if it is gone.
    fn load(&self) -> Result<Arc<Load>, Fault> {
        self.load
            .upgrade()
            .ok_or_else(|| Fault::new(ERR_INTERNAL, "the module was unloaded"))
    }

    /// `failure` while `doing` as a fault naming bundle and contract,
    /// logged.
    fn fault(&self, load: &Load, doing: &str, failure: &Failure) -> Fault {
        let message = format!(
            "bundle {}: contract {}: {doing}: {}",
            load.bundle, self.contract, failure.what
        );
        load.logger.log(LogLevel::Warn, &message);
        Fault::new(failure.code, message)
    }

    /// The fault for a handover step the contract does not give.
    fn not_given(&self, load: &Load, doing: &str) -> Fault {
        let failure = Failure::new(
            ERR_UNSUPPORTED,
            "the contract gives no `save` and `restore`",
        );
        self.fault(load, doing, &failure)
    }
}

impl EngineInstances for JsInstances {
    fn create(&self) -> Result<EngineInstance, Fault> {
        let load = self.load()?;
        let made = state::with_engine(&load, |engine| {
            let count = load.instances.admit(load.budget.instances)?;
            engine.construct(self.stateful, count, load.generation)
        });
        match made {
            Ok(instance) => Ok(Box::new(instance)),
            Err(failure) => Err(self.fault(&load, "making an instance", &failure)),
        }
    }

    fn handover(&self) -> bool {
        self.handover
    }

    fn save(&self, instance: &mut EngineInstance) -> Result<Vec<u8>, Fault> {
        let load = self.load()?;
        let doing = "function save";
        if !self.handover {
            return Err(self.not_given(&load, doing));
        }
        let Some(instance) = instance.downcast_mut::<JsInstance>() else {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                "not an instance of a JavaScript contract",
            ));
        };
        instance
            .check(load.generation)
            .map_err(Failure::from)
            .and_then(|()| state::with_engine(&load, |engine| engine.save(self.stateful, instance)))
            .map_err(|failure| self.fault(&load, doing, &failure))
    }

    fn restore(&self, state: &[u8]) -> Result<EngineInstance, Fault> {
        let load = self.load()?;
        let doing = "function restore";
        if !self.handover {
            return Err(self.not_given(&load, doing));
        }
        let made = state::with_engine(&load, |engine| {
            let count = load.instances.admit(load.budget.instances)?;
            engine.restore(self.stateful, count, load.generation, state)
        });
        match made {
            Ok(instance) => Ok(Box::new(instance)),
            Err(failure) => Err(self.fault(&load, doing, &failure)),
        }
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
            source: code.shared_bytes(),
            budget,
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            functions: Vec::new(),
            stateful: Vec::new(),
            instances: Arc::new(InstanceTally::new(Arc::clone(&self.counters.instances))),
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
            declared.push((
                contract.name.clone(),
                version,
                functions,
                contract.stateful,
                contract.handover,
            ));
        }
        for (contract, _, functions, stateful, _) in &declared {
            if *stateful {
                load.stateful.push(contract.clone());
            }
            for (name, _, signature) in functions {
                load.functions
                    .push((contract.clone(), name.clone(), signature.clone()));
            }
        }
        let load = Arc::new(load);
        let mut index = 0;
        let mut stateful_index = 0;
        for (contract, version, functions, stateful, handover) in declared {
            let mut engine_contract = EngineContract::new(contract.clone(), version);
            if stateful {
                engine_contract = engine_contract.stateful(Arc::new(JsInstances {
                    load: Arc::downgrade(&load),
                    stateful: stateful_index,
                    contract: contract.clone(),
                    handover,
                }));
                stateful_index += 1;
            }
            for (name, spelling, signature) in functions {
                let func = JsFn {
                    load: Arc::clone(&load),
                    index,
                    contract: contract.clone(),
                    name: name.clone(),
                    signature,
                    method: stateful,
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
