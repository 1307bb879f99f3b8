//! [`PythonLoader`]: runs a Python bundle's script once into a module of
//! its own, registers what it declares, and calls its functions on the
//! calling thread's own thread state under the bundle's time limit.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use polyplug::loader::instances::{InstanceCounters, InstanceTally};
use polyplug::loader::{
    CodeError, CodeSource, EngineContract, EngineFn, EngineInstance, EngineInstances, Fault,
    LoadedCode, Loader, Logger, Registrar, TypedSignature, Value,
};
use polyplug::{LogLevel, Version};
use polyplug_abi::{
    ERR_BAD_ARGUMENT, ERR_BUDGET, ERR_INTERNAL, ERR_INVALID, ERR_TRAP, ERR_UNSUPPORTED,
};
use pyo3::exceptions::PyRecursionError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyModule, PyTuple};

use crate::budget::{Budget, PythonConfig};
use crate::convert::{from_py, to_py};
use crate::instance::PyInstance;
use crate::threads::{self, BUDGET_EXCEEDED};

/// Counts of what a [`PythonLoader`] made and freed.
///
/// ```
/// let loader = polyplug_python::PythonLoader::new(polyplug_python::PythonConfig::default());
/// let stats = loader.stats();
/// assert_eq!((stats.loads_alive(), stats.modules_alive()), (0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PythonStats {
    /// Loads made (one per load or reload whose script ran).
    pub loads: u64,
    /// Loads dropped.
    pub loads_dropped: u64,
    /// Modules made: one per script run, a load's own and each module it
    /// imported from its bundle directory.
    pub modules_made: u64,
    /// Modules dropped (their namespaces cleared).
    pub modules_dropped: u64,
    /// Thread states kept for calling threads: one per thread, shared by
    /// every load of every loader, so counted for the whole process.
    pub thread_states_made: u64,
    /// Thread states freed, at their threads' exit.
    pub thread_states_dropped: u64,
    /// Times the watchdog that enforces the time limit parked because no
    /// call was timed (it sleeps until the next call rather than polling):
    /// one watchdog for the process, so counted for the whole process.
    pub watchdog_rests: u64,
    /// Instances of stateful contracts made (`new`, or `restore` in a
    /// state handover, called and its object kept).
    pub instances_made: u64,
    /// Instance objects freed: when the host dropped the instance (on any
    /// thread), or when a call on it failed.
    pub instances_dropped: u64,
}

impl PythonStats {
    /// Loads not yet dropped.
    ///
    /// ```
    /// let stats = polyplug_python::PythonStats { loads: 3, loads_dropped: 2, ..Default::default() };
    /// assert_eq!(stats.loads_alive(), 1);
    /// ```
    pub fn loads_alive(&self) -> u64 {
        self.loads.saturating_sub(self.loads_dropped)
    }

    /// Modules made and not yet dropped.
    ///
    /// ```
    /// let stats = polyplug_python::PythonStats { modules_made: 4, modules_dropped: 4, ..Default::default() };
    /// assert_eq!(stats.modules_alive(), 0);
    /// ```
    pub fn modules_alive(&self) -> u64 {
        self.modules_made.saturating_sub(self.modules_dropped)
    }

    /// Instance objects made and not yet freed.
    ///
    /// ```
    /// let stats = polyplug_python::PythonStats { instances_made: 2, instances_dropped: 1, ..Default::default() };
    /// assert_eq!(stats.instances_alive(), 1);
    /// ```
    pub fn instances_alive(&self) -> u64 {
        self.instances_made.saturating_sub(self.instances_dropped)
    }
}

/// The counters behind [`PythonStats`]. Relaxed: statistics.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    loads: AtomicU64,
    loads_dropped: AtomicU64,
    modules_made: AtomicU64,
    modules_dropped: AtomicU64,
    instances: Arc<InstanceCounters>,
}

/// Thread states kept and freed, by every loader of the process: a thread
/// state is the thread's, shared by every load.
pub(crate) static THREAD_STATES_MADE: AtomicU64 = AtomicU64::new(0);
pub(crate) static THREAD_STATES_DROPPED: AtomicU64 = AtomicU64::new(0);

/// Times the watchdog parked, no call being timed; one watchdog for the
/// process.
pub(crate) static WATCHDOG_RESTS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn bump(counter: &AtomicU64) {
    bump_by(counter, 1);
}

fn bump_by(counter: &AtomicU64, by: u64) {
    // Relaxed: a statistic.
    counter.fetch_add(by, Ordering::Relaxed);
}

/// Reads a [`PythonLoader`]'s counters after the loader moved into a
/// runtime.
///
/// ```
/// let loader = polyplug_python::PythonLoader::new(polyplug_python::PythonConfig::default());
/// let handle = loader.stats_handle();
/// assert_eq!(handle.get(), loader.stats());
/// ```
#[derive(Debug, Clone)]
pub struct StatsHandle(Arc<Counters>);

impl StatsHandle {
    /// The counters now.
    ///
    /// ```
    /// # let handle = polyplug_python::PythonLoader::new(Default::default()).stats_handle();
    /// assert_eq!(handle.get().modules_alive(), 0);
    /// ```
    pub fn get(&self) -> PythonStats {
        // Relaxed: statistics.
        let c = &self.0;
        PythonStats {
            loads: c.loads.load(Ordering::Relaxed),
            loads_dropped: c.loads_dropped.load(Ordering::Relaxed),
            modules_made: c.modules_made.load(Ordering::Relaxed),
            modules_dropped: c.modules_dropped.load(Ordering::Relaxed),
            thread_states_made: THREAD_STATES_MADE.load(Ordering::Relaxed),
            thread_states_dropped: THREAD_STATES_DROPPED.load(Ordering::Relaxed),
            watchdog_rests: WATCHDOG_RESTS.load(Ordering::Relaxed),
            instances_made: c.instances.made(),
            instances_dropped: c.instances.dropped(),
        }
    }
}

/// The loader for bundles with `loader = "python"`, run by the CPython
/// this crate was built against. Add it with
/// `Runtime::builder().loader(PythonLoader::new(..))`; the
/// [crate documentation](crate) describes the scripts it loads.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::Runtime;
/// use polyplug_python::{PythonConfig, PythonLoader};
///
/// let loader = PythonLoader::new(PythonConfig::default());
/// let stats = loader.stats_handle(); // keep to read the counters later
/// let runtime = Runtime::builder().loader(loader).build()?;
/// assert_eq!(stats.get().loads, 0);
/// # let _ = runtime;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct PythonLoader {
    config: PythonConfig,
    counters: Arc<Counters>,
}

impl PythonLoader {
    /// A loader with the host's `config`.
    ///
    /// ```
    /// let loader = polyplug_python::PythonLoader::new(polyplug_python::PythonConfig::default());
    /// # let _ = loader;
    /// ```
    pub fn new(config: PythonConfig) -> PythonLoader {
        PythonLoader {
            config,
            counters: Arc::default(),
        }
    }

    /// What was made and freed so far.
    ///
    /// ```
    /// let loader = polyplug_python::PythonLoader::new(polyplug_python::PythonConfig::default());
    /// assert_eq!(loader.stats().loads, 0);
    /// ```
    pub fn stats(&self) -> PythonStats {
        self.stats_handle().get()
    }

    /// A handle on the counters that outlives moving the loader into a
    /// runtime.
    ///
    /// ```
    /// let loader = polyplug_python::PythonLoader::new(polyplug_python::PythonConfig::default());
    /// let handle = loader.stats_handle();
    /// # let _ = handle;
    /// ```
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle(Arc::clone(&self.counters))
    }
}

/// The engine's Python side (`bootstrap.py`), made once.
fn engine(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static ENGINE: OnceLock<Py<PyAny>> = OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine.bind(py).clone());
    }
    let module = PyModule::from_code(
        py,
        c_str(include_str!("bootstrap.py")).as_c_str(),
        c"polyplug_engine.py",
        c"polyplug_engine",
    )?;
    let class = module.getattr("BudgetExceeded")?.unbind();
    let _ = BUDGET_EXCEEDED.set(class);
    let module = module.into_any();
    let _ = ENGINE.set(module.clone().unbind());
    Ok(module)
}

fn c_str(text: &str) -> std::ffi::CString {
    std::ffi::CString::new(text).unwrap_or_default()
}

/// The next load's generation: never reused, so an instance names the
/// load that made it.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// One load: the module its script ran in, its functions by the index
/// calls use, and the constructors of its stateful contracts.
struct Load {
    bundle: String,
    budget: Budget,
    logger: Logger,
    /// The script's module and the modules it imported from the bundle.
    modules: Vec<Py<PyAny>>,
    /// `None` for a method of a stateful contract, called on an
    /// instance's object.
    functions: Vec<Option<Py<PyAny>>>,
    /// The `new` of each stateful contract, by the index its instance
    /// maker uses.
    constructors: Vec<Py<PyAny>>,
    /// The `save` and `restore` of each stateful contract that hands its
    /// state over, by the same index.
    handovers: Vec<Option<Handover>>,
    generation: u64,
    instances: Arc<InstanceTally>,
    counters: Arc<Counters>,
}

impl Drop for Load {
    fn drop(&mut self) {
        let modules = std::mem::take(&mut self.modules);
        let functions = std::mem::take(&mut self.functions);
        let constructors = std::mem::take(&mut self.constructors);
        let handovers = std::mem::take(&mut self.handovers);
        let count = u64::try_from(modules.len()).unwrap_or(u64::MAX);
        threads::with_pin(|| {
            Python::attach(|py| {
                drop(functions);
                drop(constructors);
                drop(handovers);
                for module in modules {
                    // Clearing the namespace breaks the cycles between a
                    // module's functions and its globals, so they go now.
                    if let Ok(dict) = module.bind(py).getattr("__dict__") {
                        let _ = dict.call_method0("clear");
                    }
                }
            });
        });
        bump_by(&self.counters.modules_dropped, count);
        bump(&self.counters.loads_dropped);
    }
}

impl std::fmt::Debug for Load {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Load")
            .field("bundle", &self.bundle)
            .finish_non_exhaustive()
    }
}

/// What the runtime keeps for one load; functions hold it weakly, so it
/// is dropped where the runtime drops this, on the writer side.
#[derive(Debug)]
struct LoadedScript {
    _load: Arc<Load>,
}

impl LoadedCode for LoadedScript {}

/// A failure with its error code.
struct Failure {
    code: u32,
    what: String,
}

impl From<Fault> for Failure {
    fn from(fault: Fault) -> Failure {
        Failure {
            code: fault.code,
            what: fault.message,
        }
    }
}

/// What a call runs: a function of the script, or a method of an
/// instance's object.
enum Callee<'i> {
    Function(usize),
    Method {
        instance: &'i mut PyInstance,
        name: &'i str,
    },
}

/// A Python exception as a failure: the budget's, or the script's with
/// its `file:line`.
fn failure(py: Python<'_>, error: &PyErr, budget: &Budget) -> Failure {
    let text = engine(py)
        .and_then(|e| e.call_method1("where", (error.value(py), error.traceback(py))))
        .and_then(|t| t.extract::<String>())
        .unwrap_or_else(|_| error.to_string());
    let budget_class = BUDGET_EXCEEDED.get().map(|c| c.bind(py).clone());
    if budget_class.is_some_and(|class| error.is_instance(py, &class)) {
        return Failure {
            code: ERR_BUDGET,
            what: format!(
                "ran past its time limit of {} ms (limits.fuel): {text}",
                budget.time_ms
            ),
        };
    }
    if error.is_instance_of::<PyRecursionError>(py) {
        return Failure {
            code: ERR_BUDGET,
            what: format!("too deep a recursion (the interpreter's recursion limit): {text}"),
        };
    }
    Failure {
        code: ERR_TRAP,
        what: text,
    }
}

/// Calls `callable` with `args` by vectorcall, as a Rust tuple of
/// arguments does: the arguments are passed in place, and no Python tuple
/// is made and freed per call. A typed signature has at most six
/// arguments; more would go through a tuple.
fn call_positional<'py>(
    py: Python<'py>,
    callable: &Bound<'py, PyAny>,
    args: &[Value<'_>],
) -> PyResult<Bound<'py, PyAny>> {
    let v = |value: &Value<'_>| to_py(py, value);
    match args {
        [] => callable.call0(),
        [a] => callable.call1((v(a),)),
        [a, b] => callable.call1((v(a), v(b))),
        [a, b, c] => callable.call1((v(a), v(b), v(c))),
        [a, b, c, d] => callable.call1((v(a), v(b), v(c), v(d))),
        [a, b, c, d, e] => callable.call1((v(a), v(b), v(c), v(d), v(e))),
        [a, b, c, d, e, f] => callable.call1((v(a), v(b), v(c), v(d), v(e), v(f))),
        more => callable.call1(PyTuple::new(py, more.iter().map(v))?),
    }
}

impl Load {
    /// Calls `callee` on this thread, under the load's time limit.
    fn call(
        &self,
        callee: Callee<'_>,
        args: &[Value<'_>],
        ret: &TypedSignature,
    ) -> Result<Value<'static>, Failure> {
        threads::with_pin(|| {
            Python::attach(|py| {
                let time = Duration::from_millis(self.budget.time_ms);
                let value = match callee {
                    Callee::Function(index) => {
                        let function = match self.functions.get(index) {
                            Some(Some(function)) => function,
                            Some(None) => {
                                return Err(Failure {
                                    code: ERR_BAD_ARGUMENT,
                                    what: "the contract is stateful: call its functions on an instance (create_instance)".to_owned(),
                                });
                            }
                            None => {
                                return Err(Failure {
                                    code: ERR_INTERNAL,
                                    what: format!("no function at index {index}"),
                                });
                            }
                        };
                        threads::timed(time, || call_positional(py, function.bind(py), args))
                            .map_err(|error| failure(py, &error, &self.budget))?
                    }
                    Callee::Method { instance, name } => {
                        let Some(object) = instance.object(py) else {
                            return Err(Failure {
                                code: ERR_INTERNAL,
                                what: "the instance's object is gone".to_owned(),
                            });
                        };
                        let result = threads::timed(time, || {
                            engine(py)
                                .and_then(|e| e.call_method1("method", (&object, name)))
                                .and_then(|method| call_positional(py, &method, args))
                        });
                        match result {
                            Ok(value) => value,
                            Err(error) => {
                                // The object may be half-updated: the
                                // instance is unusable from now on, its
                                // object freed.
                                let failure = failure(py, &error, &self.budget);
                                drop(object);
                                instance.fail(py, failure.what.clone());
                                return Err(failure);
                            }
                        }
                    }
                };
                from_py(&value, ret.ret).map_err(|what| Failure {
                    code: ERR_TRAP,
                    what: format!("the result does not fit {ret}: {what}"),
                })
            })
        })
    }

    /// A new instance of stateful contract `stateful`: its `new` called
    /// under the time limit, the object checked to have `methods`.
    fn create(&self, stateful: usize, methods: &[String]) -> Result<PyInstance, Failure> {
        let count = self.instances.admit(self.budget.instances)?;
        threads::with_pin(|| {
            Python::attach(|py| {
                let Some(constructor) = self.constructors.get(stateful) else {
                    return Err(Failure {
                        code: ERR_INTERNAL,
                        what: format!("no constructor at index {stateful}"),
                    });
                };
                let time = Duration::from_millis(self.budget.time_ms);
                let made = threads::timed(time, || constructor.bind(py).call0())
                    .map_err(|error| failure(py, &error, &self.budget))?;
                instance_object(py, &made, "new", methods, &self.budget)?;
                Ok(PyInstance::new(made.unbind(), count, self.generation))
            })
        })
    }

    /// The `save` and `restore` of stateful contract `stateful`.
    fn handover(&self, stateful: usize) -> Result<&Handover, Failure> {
        match self.handovers.get(stateful) {
            Some(Some(handover)) => Ok(handover),
            _ => Err(Failure {
                code: ERR_UNSUPPORTED,
                what: "the contract gives no `save` and `restore`".to_owned(),
            }),
        }
    }

    /// The state of `instance` of stateful contract `stateful`: its
    /// `save` called under the time limit. A failure leaves the instance
    /// as it was, serving: a handover that fails keeps the old instance.
    fn save(&self, stateful: usize, instance: &PyInstance) -> Result<Vec<u8>, Failure> {
        let handover = self.handover(stateful)?;
        instance.check(self.generation)?;
        threads::with_pin(|| {
            Python::attach(|py| {
                let Some(object) = instance.object(py) else {
                    return Err(Failure {
                        code: ERR_INTERNAL,
                        what: "the instance's object is gone".to_owned(),
                    });
                };
                let time = Duration::from_millis(self.budget.time_ms);
                let state = threads::timed(time, || {
                    engine(py)
                        .and_then(|e| e.call_method1("save", (handover.save.bind(py), &object)))
                })
                .map_err(|error| failure(py, &error, &self.budget))?;
                let bytes = state.cast::<PyBytes>().map_err(|_| Failure {
                    code: ERR_INTERNAL,
                    what: "the engine's save gave no bytes".to_owned(),
                })?;
                Ok(bytes.as_bytes().to_vec())
            })
        })
    }

    /// A new instance of stateful contract `stateful` from `state`: its
    /// `restore` called under the time limit, counted against
    /// `limits.instances` and checked as `create` checks `new`'s object.
    fn restore(
        &self,
        stateful: usize,
        methods: &[String],
        state: &[u8],
    ) -> Result<PyInstance, Failure> {
        let handover = self.handover(stateful)?;
        let count = self.instances.admit(self.budget.instances)?;
        threads::with_pin(|| {
            Python::attach(|py| {
                let time = Duration::from_millis(self.budget.time_ms);
                let bytes = PyBytes::new(py, state);
                let made = threads::timed(time, || handover.restore.bind(py).call1((bytes,)))
                    .map_err(|error| failure(py, &error, &self.budget))?;
                instance_object(py, &made, "restore", methods, &self.budget)?;
                Ok(PyInstance::new(made.unbind(), count, self.generation))
            })
        })
    }
}

/// A stateful contract's state handover: the script's `save` and
/// `restore`.
struct Handover {
    save: Py<PyAny>,
    restore: Py<PyAny>,
}

/// Checks that the object `maker` (`new` or `restore`) returned has a
/// method for each of `methods`.
fn instance_object(
    py: Python<'_>,
    made: &Bound<'_, PyAny>,
    maker: &str,
    methods: &[String],
    budget: &Budget,
) -> Result<(), Failure> {
    let engine = engine(py).map_err(|error| failure(py, &error, budget))?;
    for name in methods {
        engine
            .call_method1("method", (made, name, maker))
            .map_err(|error| {
                let failure = failure(py, &error, budget);
                Failure {
                    what: format!("function {name}: {}", failure.what),
                    ..failure
                }
            })?;
    }
    Ok(())
}

/// One function of a script's contract.
struct PyFn {
    load: Weak<Load>,
    index: usize,
    contract: String,
    name: String,
    signature: TypedSignature,
}

impl PyFn {
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

impl EngineFn for PyFn {
    fn call(
        &self,
        instance: Option<&mut EngineInstance>,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        let Some(load) = self.load.upgrade() else {
            return Err(Fault::new(ERR_INTERNAL, "the script was unloaded"));
        };
        let callee = match instance {
            None => Callee::Function(self.index),
            Some(instance) => {
                let Some(instance) = instance.downcast_mut::<PyInstance>() else {
                    return Err(Fault::new(
                        ERR_BAD_ARGUMENT,
                        "not an instance of a Python contract",
                    ));
                };
                if let Err(fault) = instance.check(load.generation) {
                    return Err(self.fault(&load, &Failure::from(fault)));
                }
                Callee::Method {
                    instance,
                    name: &self.name,
                }
            }
        };
        load.call(callee, args, &self.signature)
            .map_err(|failure| self.fault(&load, &failure))
    }
}

/// Makes the instances of one stateful contract.
struct PyInstances {
    load: Weak<Load>,
    /// The contract's index among the load's stateful contracts.
    stateful: usize,
    contract: String,
    methods: Vec<String>,
    /// The contract gives `save` and `restore`.
    handover: bool,
}

impl PyInstances {
    /// `failure` of `step` as a fault naming bundle, contract and step,
    /// logged.
    fn fault(&self, load: &Load, step: &str, failure: &Failure) -> Fault {
        let message = format!(
            "bundle {}: contract {}: {step}: {}",
            load.bundle, self.contract, failure.what
        );
        load.logger.log(LogLevel::Warn, &message);
        Fault::new(failure.code, message)
    }
}

impl EngineInstances for PyInstances {
    fn create(&self) -> Result<EngineInstance, Fault> {
        let Some(load) = self.load.upgrade() else {
            return Err(Fault::new(ERR_INTERNAL, "the script was unloaded"));
        };
        match load.create(self.stateful, &self.methods) {
            Ok(instance) => Ok(Box::new(instance)),
            Err(failure) => Err(self.fault(&load, "making an instance", &failure)),
        }
    }

    fn handover(&self) -> bool {
        self.handover
    }

    fn save(&self, instance: &mut EngineInstance) -> Result<Vec<u8>, Fault> {
        let Some(load) = self.load.upgrade() else {
            return Err(Fault::new(ERR_INTERNAL, "the script was unloaded"));
        };
        let Some(instance) = instance.downcast_mut::<PyInstance>() else {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                "not an instance of a Python contract",
            ));
        };
        load.save(self.stateful, instance)
            .map_err(|failure| self.fault(&load, "function save", &failure))
    }

    fn restore(&self, state: &[u8]) -> Result<EngineInstance, Fault> {
        let Some(load) = self.load.upgrade() else {
            return Err(Fault::new(ERR_INTERNAL, "the script was unloaded"));
        };
        match load.restore(self.stateful, &self.methods, state) {
            Ok(instance) => Ok(Box::new(instance)),
            Err(failure) => Err(self.fault(&load, "function restore", &failure)),
        }
    }
}

fn parse_version(text: &str) -> Option<Version> {
    let parts: Vec<Option<u32>> = text.split('.').map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [Some(a), Some(b), Some(c)] => Some(Version::new(*a, *b, *c)),
        _ => None,
    }
}

/// A contract as the script registers it: its version, its functions
/// sorted by name, and its constructor if it is stateful.
struct Contract {
    version: Version,
    /// (name, signature, function); the function is `None` for a method.
    functions: Vec<(String, TypedSignature, Option<Py<PyAny>>)>,
    constructor: Option<Py<PyAny>>,
    /// Its `save` and `restore`, if it is stateful and gives them.
    handover: Option<Handover>,
}

type Declared = BTreeMap<String, Contract>;

/// What one run of a script gives: its modules, and what it registers.
struct Ran {
    modules: Vec<Py<PyAny>>,
    declared: Declared,
}

/// Runs the script into a new module and reads its registrations.
fn run(
    py: Python<'_>,
    code: &CodeSource<'_>,
    registrar: &Registrar<'_>,
    chunk: &str,
    budget: &Budget,
    recursion_limit: u32,
) -> Result<Ran, Failure> {
    let python = |error: PyErr| failure(py, &error, budget);
    let engine = engine(py).map_err(python)?;
    py.import("sys")
        .and_then(|sys| sys.call_method1("setrecursionlimit", (recursion_limit,)))
        .map_err(python)?;
    let host = crate::host::module(py, &engine, registrar.contracts(), registrar.logger())
        .map_err(python)?;
    let name = format!("polyplug_bundle_{}", code.name().replace(['-', '.'], "_"));
    let path = code.path().display().to_string();
    let dir = code.dir().display().to_string();
    let source = PyBytes::new(py, code.bytes());
    // A signed bundle's files, as its signature check read them: imports
    // from the bundle take these bytes, never the directory's.
    let files = match code.files() {
        Some(files) => {
            let dict = pyo3::types::PyDict::new(py);
            for (relative, bytes) in files.iter() {
                dict.set_item(relative, PyBytes::new(py, bytes))
                    .map_err(python)?;
            }
            Some(dict)
        }
        None => None,
    };
    let time = Duration::from_millis(budget.time_ms);
    let ran = threads::timed(time, || {
        engine.call_method1("run", (path, source, dir, &host, name, files))
    });
    let (module, cache): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
        ran.and_then(|r| r.extract()).map_err(python)?;
    let mut modules = vec![module.clone().unbind()];
    for (key, imported) in cache
        .cast::<pyo3::types::PyDict>()
        .map_err(|e| python(e.into()))?
        .iter()
    {
        if key.extract::<String>().is_ok_and(|k| k != "polyplug") {
            modules.push(imported.unbind());
        }
    }
    let bad = |what: String| Failure {
        code: ERR_INVALID,
        what: format!("{chunk}: {what}"),
    };
    let registered = engine
        .call_method1("registered", (&module, &host))
        .map_err(python)?;
    type Entry<'py> = (String, String, String, String, Option<Bound<'py, PyAny>>);
    type Handovers<'py> = BTreeMap<String, (Bound<'py, PyAny>, Bound<'py, PyAny>)>;
    let (entries, mut constructors, mut handovers): (
        Vec<Entry<'_>>,
        BTreeMap<String, Bound<'_, PyAny>>,
        Handovers<'_>,
    ) = registered.extract().map_err(python)?;
    let mut declared = Declared::new();
    for (contract, version_text, fname, sig, function) in entries {
        let here = |what: String| bad(format!("contract {contract}: function {fname}: {what}"));
        let Some(version) = parse_version(&version_text) else {
            return Err(bad(format!(
                "contract {contract}: `version` must be \"major.minor.patch\", found {version_text:?}"
            )));
        };
        let signature =
            TypedSignature::parse(&sig).map_err(|e| here(format!("signature {sig:?}: {e}")))?;
        let fits = |function: &Bound<'_, PyAny>| {
            engine
                .call_method1("takes", (function, signature.args.len()))
                .and_then(|t| t.extract::<bool>())
                .map_err(python)
        };
        if let Some(function) = &function
            && !fits(function)?
        {
            return Err(here(format!(
                "cannot be called with the {} arguments of {signature}",
                signature.args.len()
            )));
        }
        let entry = declared
            .entry(contract.clone())
            .or_insert_with(|| Contract {
                version,
                functions: Vec::new(),
                constructor: constructors.remove(&contract).map(Bound::unbind),
                handover: handovers.remove(&contract).map(|(save, restore)| Handover {
                    save: save.unbind(),
                    restore: restore.unbind(),
                }),
            });
        if entry.version != version {
            return Err(bad(format!(
                "contract {contract} is registered with two versions"
            )));
        }
        if entry.functions.iter().any(|(n, _, _)| *n == fname) {
            return Err(here("is registered twice".to_owned()));
        }
        entry
            .functions
            .push((fname, signature, function.map(Bound::unbind)));
    }
    for contract in declared.values_mut() {
        contract.functions.sort_by(|a, b| a.0.cmp(&b.0));
    }
    for (name, contract) in &declared {
        if let Some(constructor) = &contract.constructor {
            probe(
                py,
                &engine,
                constructor.bind(py),
                &contract.functions,
                budget,
            )
            .map_err(|failure| Failure {
                what: format!("{chunk}: contract {name}: {}", failure.what),
                ..failure
            })?;
        }
    }
    Ok(Ran { modules, declared })
}

/// Runs a stateful contract's `new` once, at load: a `new` that raises
/// or runs past its time, or whose object lacks one of the contract's
/// methods or has one that cannot take its signature's arguments, is
/// refused now rather than at each `create_instance`. The object is then
/// dropped: it is no instance.
fn probe(
    py: Python<'_>,
    engine: &Bound<'_, PyAny>,
    constructor: &Bound<'_, PyAny>,
    methods: &[(String, TypedSignature, Option<Py<PyAny>>)],
    budget: &Budget,
) -> Result<(), Failure> {
    let in_function = |name: &str, failure: Failure| Failure {
        what: format!("function {name}: {}", failure.what),
        ..failure
    };
    let time = Duration::from_millis(budget.time_ms);
    let made = threads::timed(time, || constructor.call0())
        .map_err(|error| in_function("new", failure(py, &error, budget)))?;
    for (name, signature, _) in methods {
        let method = engine
            .call_method1("method", (&made, name))
            .map_err(|error| in_function(name, failure(py, &error, budget)))?;
        let fits: bool = engine
            .call_method1("takes", (&method, signature.args.len()))
            .and_then(|t| t.extract())
            .map_err(|error| in_function(name, failure(py, &error, budget)))?;
        if !fits {
            return Err(Failure {
                code: ERR_INVALID,
                what: format!(
                    "function {name}: the method cannot be called with the {} arguments of {signature}",
                    signature.args.len()
                ),
            });
        }
    }
    Ok(())
}

impl Loader for PythonLoader {
    fn kind(&self) -> &'static str {
        "python"
    }

    fn load(
        &self,
        code: &CodeSource<'_>,
        registrar: &mut Registrar<'_>,
    ) -> Result<Box<dyn LoadedCode>, CodeError> {
        let file = code.path().to_owned();
        if threads::in_call() {
            return Err(CodeError::new(
                &file,
                "loader",
                "a Python bundle cannot be loaded from inside a call into Python on the same thread",
            )
            .with_code(ERR_UNSUPPORTED));
        }
        if !threads::interpreter_is_ours() {
            return Err(CodeError::new(
                &file,
                "loader",
                "a Python bundle cannot be loaded in a process whose Python interpreter \
                 polyplug did not start (a Python host, or a host that embeds CPython \
                 without calling polyplug_python::initialize first): that interpreter owns \
                 the thread states a Python plugin needs",
            )
            .with_code(ERR_UNSUPPORTED));
        }
        let budget = Budget::of(code, &self.config.defaults, &self.config.ceiling)
            .map_err(|(field, why)| CodeError::new(&file, field, why).with_code(ERR_UNSUPPORTED))?;
        let chunk = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let refused = |failure: Failure| {
            let field = if failure.code == ERR_BUDGET {
                "limits.fuel"
            } else {
                "script"
            };
            CodeError::new(&file, field, failure.what).with_code(failure.code)
        };
        // Run the script here, on the writer thread: a script that does not
        // parse, raises or loops is refused now, and what it registers is
        // what the load serves, on every thread.
        let ran = threads::with_pin(|| {
            Python::attach(|py| {
                run(
                    py,
                    code,
                    registrar,
                    &chunk,
                    &budget,
                    self.config.recursion_limit,
                )
            })
        })
        .map_err(refused)?;
        bump_by(
            &self.counters.modules_made,
            u64::try_from(ran.modules.len()).unwrap_or(u64::MAX),
        );
        bump(&self.counters.loads);
        let mut functions = Vec::new();
        let mut constructors = Vec::new();
        let mut handovers = Vec::new();
        let mut contracts = Vec::new();
        for (contract, declared) in ran.declared {
            let mut fns = Vec::new();
            for (name, signature, function) in declared.functions {
                fns.push((name, signature, functions.len()));
                functions.push(function);
            }
            let handover = declared.handover;
            let maker = declared.constructor.map(|constructor| {
                constructors.push(constructor);
                let has_handover = handover.is_some();
                handovers.push(handover);
                let methods: Vec<String> = fns.iter().map(|(name, _, _)| name.clone()).collect();
                (constructors.len() - 1, methods, has_handover)
            });
            contracts.push((contract, declared.version, fns, maker));
        }
        let load = Arc::new(Load {
            bundle: code.name().to_owned(),
            budget,
            logger: registrar.logger(),
            modules: ran.modules,
            functions,
            constructors,
            handovers,
            // Relaxed: a unique number; it orders no memory.
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            instances: Arc::new(InstanceTally::new(Arc::clone(&self.counters.instances))),
            counters: Arc::clone(&self.counters),
        });
        for (contract, version, fns, maker) in contracts {
            let mut engine = EngineContract::new(contract.clone(), version);
            for (name, signature, index) in fns {
                engine = engine.function(
                    name.clone(),
                    signature.to_string(),
                    Arc::new(PyFn {
                        load: Arc::downgrade(&load),
                        index,
                        contract: contract.clone(),
                        name,
                        signature,
                    }),
                );
            }
            if let Some((stateful, methods, handover)) = maker {
                engine = engine.stateful(Arc::new(PyInstances {
                    load: Arc::downgrade(&load),
                    stateful,
                    contract: contract.clone(),
                    methods,
                    handover,
                }));
            }
            registrar
                .register(engine)
                .map_err(|refused| refused.into_code_error().in_contract(contract))?;
        }
        Ok(Box::new(LoadedScript { _load: load }))
    }
}
