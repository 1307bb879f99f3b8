//! [`PythonLoader`]: runs a Python bundle's script once into a module of
//! its own, registers what it declares, and calls its functions on the
//! calling thread's own thread state under the bundle's time limit.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use polyplug::loader::{
    CodeError, CodeSource, EngineContract, EngineFn, EngineInstance, Fault, LoadedCode, Loader,
    Logger, Registrar, TypedSignature, Value,
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
}

/// The counters behind [`PythonStats`]. Relaxed: statistics.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    loads: AtomicU64,
    loads_dropped: AtomicU64,
    modules_made: AtomicU64,
    modules_dropped: AtomicU64,
}

/// Thread states kept and freed, by every loader of the process: a thread
/// state is the thread's, shared by every load.
pub(crate) static THREAD_STATES_MADE: AtomicU64 = AtomicU64::new(0);
pub(crate) static THREAD_STATES_DROPPED: AtomicU64 = AtomicU64::new(0);

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

/// One load: the module its script ran in, and its functions by the
/// index calls use.
struct Load {
    bundle: String,
    budget: Budget,
    logger: Logger,
    /// The script's module and the modules it imported from the bundle.
    modules: Vec<Py<PyAny>>,
    functions: Vec<Py<PyAny>>,
    counters: Arc<Counters>,
}

impl Drop for Load {
    fn drop(&mut self) {
        let modules = std::mem::take(&mut self.modules);
        let functions = std::mem::take(&mut self.functions);
        let count = u64::try_from(modules.len()).unwrap_or(u64::MAX);
        threads::with_pin(|| {
            Python::attach(|py| {
                drop(functions);
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

impl Load {
    fn call(
        &self,
        index: usize,
        args: &[Value<'_>],
        ret: &TypedSignature,
    ) -> Result<Value<'static>, Failure> {
        threads::with_pin(|| {
            Python::attach(|py| {
                let Some(function) = self.functions.get(index) else {
                    return Err(Failure {
                        code: ERR_INTERNAL,
                        what: format!("no function at index {index}"),
                    });
                };
                let tuple =
                    PyTuple::new(py, args.iter().map(|a| to_py(py, a))).map_err(|e| Failure {
                        code: ERR_BAD_ARGUMENT,
                        what: e.to_string(),
                    })?;
                let time = Duration::from_millis(self.budget.time_ms);
                let result = threads::timed(time, || function.bind(py).call1(tuple));
                let value = result.map_err(|error| failure(py, &error, &self.budget))?;
                from_py(&value, ret.ret).map_err(|what| Failure {
                    code: ERR_TRAP,
                    what: format!("the result does not fit {ret}: {what}"),
                })
            })
        })
    }
}

/// One function of a script's contract.
struct PyFn {
    load: Weak<Load>,
    index: usize,
    contract: String,
    name: String,
    signature: TypedSignature,
}

impl EngineFn for PyFn {
    fn call(
        &self,
        instance: Option<&mut EngineInstance>,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        if instance.is_some() {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                "Python contracts have no instances",
            ));
        }
        let Some(load) = self.load.upgrade() else {
            return Err(Fault::new(ERR_INTERNAL, "the script was unloaded"));
        };
        load.call(self.index, args, &self.signature)
            .map_err(|failure| {
                let message = format!(
                    "bundle {}: contract {}: function {}: {}",
                    load.bundle, self.contract, self.name, failure.what
                );
                load.logger.log(LogLevel::Warn, &message);
                Fault::new(failure.code, message)
            })
    }
}

fn parse_version(text: &str) -> Option<Version> {
    let parts: Vec<Option<u32>> = text.split('.').map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [Some(a), Some(b), Some(c)] => Some(Version::new(*a, *b, *c)),
        _ => None,
    }
}

/// A contract as the script registers it: its version, and its functions
/// (name, signature, function) sorted by name.
type Declared = BTreeMap<String, (Version, Vec<(String, TypedSignature, Py<PyAny>)>)>;

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
    let entries: Vec<(String, String, String, String, Bound<'_, PyAny>)> =
        registered.extract().map_err(python)?;
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
        let fits: bool = engine
            .call_method1("takes", (&function, signature.args.len()))
            .and_then(|t| t.extract())
            .map_err(python)?;
        if !fits {
            return Err(here(format!(
                "cannot be called with the {} arguments of {signature}",
                signature.args.len()
            )));
        }
        let entry = declared
            .entry(contract.clone())
            .or_insert_with(|| (version, Vec::new()));
        if entry.0 != version {
            return Err(bad(format!(
                "contract {contract} is registered with two versions"
            )));
        }
        if entry.1.iter().any(|(n, _, _)| *n == fname) {
            return Err(here("is registered twice".to_owned()));
        }
        entry.1.push((fname, signature, function.unbind()));
    }
    for (_, functions) in declared.values_mut() {
        functions.sort_by(|a, b| a.0.cmp(&b.0));
    }
    Ok(Ran { modules, declared })
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
        let mut contracts = Vec::new();
        for (contract, (version, declared)) in ran.declared {
            let mut fns = Vec::new();
            for (name, signature, function) in declared {
                fns.push((name, signature, functions.len()));
                functions.push(function);
            }
            contracts.push((contract, version, fns));
        }
        let load = Arc::new(Load {
            bundle: code.name().to_owned(),
            budget,
            logger: registrar.logger(),
            modules: ran.modules,
            functions,
            counters: Arc::clone(&self.counters),
        });
        for (contract, version, fns) in contracts {
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
            registrar
                .register(engine)
                .map_err(|refused| refused.into_code_error().in_contract(contract))?;
        }
        Ok(Box::new(LoadedScript { _load: load }))
    }
}
