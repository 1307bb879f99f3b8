//! [`LuaLoader`]: turns a Lua bundle's script into contracts, and runs
//! calls in the calling thread's own state under the bundle's budget.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use mlua::{Function, Table, Value as LuaValue};
use polyplug::LogLevel;
use polyplug::Version;
use polyplug::loader::{
    CodeError, CodeSource, EngineContract, EngineFn, EngineInstance, Fault, LoadedCode, Loader,
    Registrar, TypedSignature, Value,
};
use polyplug_abi::{ERR_BAD_ARGUMENT, ERR_INTERNAL, ERR_TRAP};

use crate::budget::{Budget, LuaConfig};
use crate::convert::{from_lua, to_lua};
use crate::sandbox::{self, Failure, Meter, Recipe};
use crate::threads::{self, Counters, Tally, ThreadState, bump};

/// Counts of what a [`LuaLoader`] made and freed.
///
/// ```
/// let loader = polyplug_lua::LuaLoader::new(polyplug_lua::LuaConfig::default());
/// let stats = loader.stats();
/// assert_eq!((stats.loads_alive(), stats.states_alive(), stats.states_pending), (0, 0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LuaStats {
    /// Loads made (one per load or reload that got as far as a state).
    pub loads: u64,
    /// Loads dropped.
    pub loads_dropped: u64,
    /// Lua states made: one per calling thread per load, and one at load
    /// to run the script and read its contracts.
    pub states_made: u64,
    /// Lua states freed.
    pub states_dropped: u64,
    /// States of dropped loads that their threads have not freed yet:
    /// each goes at its thread's next call into a Lua load, or when the
    /// thread exits.
    pub states_pending: u64,
}

impl LuaStats {
    /// Loads not yet dropped.
    ///
    /// ```
    /// let stats = polyplug_lua::LuaStats { loads: 3, loads_dropped: 2, ..Default::default() };
    /// assert_eq!(stats.loads_alive(), 1);
    /// ```
    pub fn loads_alive(&self) -> u64 {
        self.loads.saturating_sub(self.loads_dropped)
    }

    /// States made and not yet freed, pending ones included.
    ///
    /// ```
    /// let stats = polyplug_lua::LuaStats { states_made: 4, states_dropped: 4, ..Default::default() };
    /// assert_eq!(stats.states_alive(), 0);
    /// ```
    pub fn states_alive(&self) -> u64 {
        self.states_made.saturating_sub(self.states_dropped)
    }
}

/// Reads a [`LuaLoader`]'s counters after the loader moved into a
/// runtime.
///
/// ```
/// let loader = polyplug_lua::LuaLoader::new(polyplug_lua::LuaConfig::default());
/// let handle = loader.stats_handle();
/// assert_eq!(handle.get(), loader.stats());
/// ```
#[derive(Debug, Clone)]
pub struct StatsHandle(Arc<Counters>);

impl StatsHandle {
    /// The counters now.
    ///
    /// ```
    /// # let handle = polyplug_lua::LuaLoader::new(Default::default()).stats_handle();
    /// assert_eq!(handle.get().states_alive(), 0);
    /// ```
    pub fn get(&self) -> LuaStats {
        // Relaxed: statistics.
        let c = &self.0;
        LuaStats {
            loads: c.loads.load(Ordering::Relaxed),
            loads_dropped: c.loads_dropped.load(Ordering::Relaxed),
            states_made: c.states_made.load(Ordering::Relaxed),
            states_dropped: c.states_dropped.load(Ordering::Relaxed),
            states_pending: c.pending.load(Ordering::Relaxed),
        }
    }
}

/// The loader for bundles with `loader = "lua"`, run by Lua 5.4. Add it
/// with `Runtime::builder().loader(LuaLoader::new(..))`; the
/// [crate documentation](crate) describes the scripts it loads.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::Runtime;
/// use polyplug_lua::{LuaConfig, LuaLoader};
///
/// let loader = LuaLoader::new(LuaConfig::default());
/// let stats = loader.stats_handle(); // keep to read the counters later
/// let runtime = Runtime::builder().loader(loader).build()?;
/// assert_eq!(stats.get().loads, 0);
/// # let _ = runtime;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct LuaLoader {
    config: LuaConfig,
    counters: Arc<Counters>,
}

impl LuaLoader {
    /// A loader with the host's `config` (defaults and ceilings of the
    /// budgets).
    ///
    /// ```
    /// let loader = polyplug_lua::LuaLoader::new(polyplug_lua::LuaConfig::default());
    /// # let _ = loader;
    /// ```
    pub fn new(config: LuaConfig) -> LuaLoader {
        LuaLoader {
            config,
            counters: Arc::default(),
        }
    }

    /// What was made and freed so far.
    ///
    /// ```
    /// let loader = polyplug_lua::LuaLoader::new(polyplug_lua::LuaConfig::default());
    /// assert_eq!(loader.stats().loads, 0);
    /// ```
    pub fn stats(&self) -> LuaStats {
        self.stats_handle().get()
    }

    /// A handle on the counters that outlives moving the loader into a
    /// runtime.
    ///
    /// ```
    /// let loader = polyplug_lua::LuaLoader::new(polyplug_lua::LuaConfig::default());
    /// let handle = loader.stats_handle();
    /// # let _ = handle;
    /// ```
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle(Arc::clone(&self.counters))
    }
}

/// The next load's generation: never reused, so a thread's state of a
/// dropped load is never matched again.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// One load: what its states are made from, and which function each
/// index names.
struct Load {
    recipe: Recipe,
    /// `(contract, function)` by the index calls use.
    functions: Vec<(String, String)>,
    generation: u64,
    alive: Arc<()>,
    tally: Arc<Tally>,
}

impl Drop for Load {
    fn drop(&mut self) {
        self.tally.load_gone();
    }
}

impl std::fmt::Debug for Load {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Load")
            .field("bundle", &self.recipe.bundle)
            .field("file", &self.recipe.file)
            .field("generation", &self.generation)
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

impl Load {
    /// A new state on this thread: the script run, its functions looked
    /// up by this load's index.
    fn make_state(&self) -> Result<ThreadState, Failure> {
        let counted = self.tally.admit(self.recipe.budget.instances)?;
        let (lua, meter, table) = sandbox::open(&self.recipe)?;
        let declared = read_contracts(&self.recipe.chunk, &table)?;
        let mut functions = Vec::with_capacity(self.functions.len());
        for (contract, name) in &self.functions {
            let found = declared
                .get(contract)
                .and_then(|c| c.functions.iter().find(|f| &f.name == name));
            let Some(found) = found else {
                return Err(Failure {
                    code: ERR_INTERNAL,
                    what: format!(
                        "{}: running the script again did not register function {name} of contract {contract}",
                        self.recipe.chunk
                    ),
                });
            };
            functions.push(found.function.clone());
        }
        drop(table);
        Ok(ThreadState {
            functions,
            lua,
            meter,
            _counted: counted,
        })
    }

    /// Calls function `index` in this thread's state of this load.
    fn call(
        &self,
        index: usize,
        args: &[Value<'_>],
        ret: &TypedSignature,
    ) -> Result<Value<'static>, Failure> {
        threads::free_pending();
        let state = match threads::find(self.generation) {
            Some(state) => state,
            None => {
                let state = Rc::new(self.make_state()?);
                threads::keep(
                    self.generation,
                    Arc::downgrade(&self.alive),
                    Rc::clone(&state),
                );
                state
            }
        };
        let Some(function) = state.functions.get(index) else {
            return Err(Failure {
                code: ERR_INTERNAL,
                what: format!("no function at index {index}"),
            });
        };
        let meter = &state.meter;
        let depth = meter.depth.get();
        let fuel = self.recipe.budget.fuel;
        let arg = |value: &Value<'_>| {
            to_lua(&state.lua, value).map_err(|what| Failure {
                code: ERR_BAD_ARGUMENT,
                what,
            })
        };
        // Up to six arguments (what a typed signature takes) are pushed
        // onto the Lua stack as a tuple: no `MultiValue`, a heap-allocated
        // deque, per call.
        let result = match args {
            [] => metered(meter, fuel, || function.call(())),
            [a] => {
                let a = arg(a)?;
                metered(meter, fuel, || function.call(a))
            }
            [a, b] => {
                let (a, b) = (arg(a)?, arg(b)?);
                metered(meter, fuel, || function.call((a, b)))
            }
            [a, b, c] => {
                let (a, b, c) = (arg(a)?, arg(b)?, arg(c)?);
                metered(meter, fuel, || function.call((a, b, c)))
            }
            [a, b, c, d] => {
                let (a, b, c, d) = (arg(a)?, arg(b)?, arg(c)?, arg(d)?);
                metered(meter, fuel, || function.call((a, b, c, d)))
            }
            [a, b, c, d, e] => {
                let (a, b, c, d, e) = (arg(a)?, arg(b)?, arg(c)?, arg(d)?, arg(e)?);
                metered(meter, fuel, || function.call((a, b, c, d, e)))
            }
            [a, b, c, d, e, f] => {
                let (a, b, c, d, e, f) = (arg(a)?, arg(b)?, arg(c)?, arg(d)?, arg(e)?, arg(f)?);
                metered(meter, fuel, || function.call((a, b, c, d, e, f)))
            }
            more => {
                let values = more.iter().map(arg).collect::<Result<Vec<_>, _>>()?;
                metered(meter, fuel, || {
                    function.call(mlua::MultiValue::from_vec(values))
                })
            }
        };
        let value = match result {
            Ok(value) => value,
            Err(error) => {
                let failure = sandbox::failure(&error, meter, &self.recipe.budget);
                if depth == 0 {
                    // The state may be half-updated: the next call on
                    // this thread gets a fresh one.
                    threads::forget(self.generation);
                }
                return Err(failure);
            }
        };
        from_lua(&value, ret.ret).map_err(|what| Failure {
            code: ERR_TRAP,
            what: format!("the result does not fit {ret}: {what}"),
        })
    }
}

/// Runs `call` under `meter`: the outermost call on this thread's state
/// is refuelled with `fuel`, nested ones share what is left.
fn metered(
    meter: &Meter,
    fuel: u64,
    call: impl FnOnce() -> mlua::Result<LuaValue>,
) -> mlua::Result<LuaValue> {
    let depth = meter.depth.get();
    if depth == 0 {
        meter.refuel(fuel);
    }
    meter.depth.set(depth + 1);
    let result = call();
    meter.depth.set(depth);
    result
}

/// One function of a script's contract.
struct LuaFn {
    load: Weak<Load>,
    index: usize,
    contract: String,
    name: String,
    signature: TypedSignature,
}

impl EngineFn for LuaFn {
    fn call(
        &self,
        instance: Option<&mut EngineInstance>,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        if instance.is_some() {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                "Lua contracts have no instances",
            ));
        }
        let Some(load) = self.load.upgrade() else {
            return Err(Fault::new(ERR_INTERNAL, "the script was unloaded"));
        };
        load.call(self.index, args, &self.signature)
            .map_err(|failure| {
                let message = format!(
                    "bundle {}: contract {}: function {}: {}",
                    load.recipe.bundle, self.contract, self.name, failure.what
                );
                load.recipe.logger.log(LogLevel::Warn, &message);
                Fault::new(failure.code, message)
            })
    }
}

/// A function as the script's table registers it.
struct Declared {
    name: String,
    signature: TypedSignature,
    function: Function,
}

/// A contract as the script's table registers it.
struct DeclaredContract {
    version: Version,
    functions: Vec<Declared>,
}

fn bad(chunk: &str, what: String) -> Failure {
    Failure {
        code: polyplug_abi::ERR_INVALID,
        what: format!("{chunk}: {what}"),
    }
}

fn parse_version(text: &str) -> Option<Version> {
    let parts: Vec<Option<u32>> = text.split('.').map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [Some(a), Some(b), Some(c)] => Some(Version::new(*a, *b, *c)),
        _ => None,
    }
}

/// Reads `{ contracts = { { name =, version =, functions = { f = { sig =,
/// fn = } } } } }`, by contract name, functions sorted by name.
fn read_contracts(
    chunk: &str,
    table: &Table,
) -> Result<BTreeMap<String, DeclaredContract>, Failure> {
    let lua_err =
        |what: &str, e: mlua::Error| bad(chunk, format!("{what}: {}", sandbox::describe(&e)));
    let list: LuaValue = table
        .get("contracts")
        .map_err(|e| lua_err("contracts", e))?;
    let LuaValue::Table(list) = list else {
        return Err(bad(
            chunk,
            format!(
                "`contracts` is a {}, expected a list of contracts",
                list.type_name()
            ),
        ));
    };
    let mut out = BTreeMap::new();
    for (position, entry) in list.sequence_values::<LuaValue>().enumerate() {
        let entry = entry.map_err(|e| lua_err("contracts", e))?;
        let at = format!("contracts[{}]", position + 1);
        let LuaValue::Table(entry) = entry else {
            return Err(bad(
                chunk,
                format!("{at} is a {}, expected a table", entry.type_name()),
            ));
        };
        let name: Option<String> = entry
            .get("name")
            .map_err(|e| lua_err(&format!("{at}.name"), e))?;
        let Some(name) = name else {
            return Err(bad(chunk, format!("{at} has no `name`")));
        };
        let version: Option<String> = entry
            .get("version")
            .map_err(|e| lua_err(&format!("contract {name}: version"), e))?;
        let Some(version) = version.as_deref().and_then(parse_version) else {
            return Err(bad(
                chunk,
                format!(
                    "contract {name}: `version` must be \"major.minor.patch\", found {version:?}"
                ),
            ));
        };
        let functions: LuaValue = entry
            .get("functions")
            .map_err(|e| lua_err(&format!("contract {name}: functions"), e))?;
        let LuaValue::Table(functions) = functions else {
            return Err(bad(
                chunk,
                format!(
                    "contract {name}: `functions` is a {}, expected a table of name = {{ sig = ..., fn = ... }}",
                    functions.type_name()
                ),
            ));
        };
        let mut declared = Vec::new();
        for pair in functions.pairs::<String, LuaValue>() {
            let (fname, spec) =
                pair.map_err(|e| lua_err(&format!("contract {name}: functions"), e))?;
            let here =
                |what: String| bad(chunk, format!("contract {name}: function {fname}: {what}"));
            let LuaValue::Table(spec) = spec else {
                return Err(here(format!(
                    "is a {}, expected {{ sig = \"u32(u32)\", fn = function ... end }}",
                    spec.type_name()
                )));
            };
            let sig: Option<String> = spec.get("sig").map_err(|e| here(sandbox::describe(&e)))?;
            let Some(sig) = sig else {
                return Err(here("has no `sig`".to_owned()));
            };
            let signature =
                TypedSignature::parse(&sig).map_err(|e| here(format!("signature {sig:?}: {e}")))?;
            let function: LuaValue = spec.get("fn").map_err(|e| here(sandbox::describe(&e)))?;
            let LuaValue::Function(function) = function else {
                return Err(here(format!(
                    "`fn` is a {}, expected a function",
                    function.type_name()
                )));
            };
            declared.push(Declared {
                name: fname.clone(),
                signature,
                function,
            });
        }
        declared.sort_by(|a, b| a.name.cmp(&b.name));
        if out
            .insert(
                name.clone(),
                DeclaredContract {
                    version,
                    functions: declared,
                },
            )
            .is_some()
        {
            return Err(bad(chunk, format!("contract {name} is registered twice")));
        }
    }
    Ok(out)
}

impl Loader for LuaLoader {
    fn kind(&self) -> &'static str {
        "lua"
    }

    fn load(
        &self,
        code: &CodeSource<'_>,
        registrar: &mut Registrar<'_>,
    ) -> Result<Box<dyn LoadedCode>, CodeError> {
        let file = code.path().to_owned();
        let budget: Budget = Budget::of(code, &self.config.defaults, &self.config.ceiling);
        let chunk = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let recipe = Recipe {
            bundle: code.name().to_owned(),
            file: file.clone(),
            chunk,
            dir: code.dir().to_owned(),
            script: code.bytes().to_vec(),
            budget,
            contracts: registrar.contracts(),
            logger: registrar.logger(),
        };
        let tally = Arc::new(Tally::new(Arc::clone(&self.counters)));
        let refused = |failure: Failure| {
            let field = match failure.code {
                polyplug_abi::ERR_BUDGET if failure.what.contains("fuel") => "limits.fuel",
                polyplug_abi::ERR_BUDGET => "limits.memory_pages",
                _ => "script",
            };
            CodeError::new(&file, field, failure.what).with_code(failure.code)
        };
        // Run the script once here, on the writer thread: a script that
        // does not parse, raises or loops is refused now, and its table
        // says what to register.
        let counted = tally.admit(budget.instances).map_err(refused)?;
        let (lua, _meter, table) = sandbox::open(&recipe).map_err(refused)?;
        let declared = read_contracts(&recipe.chunk, &table).map_err(refused)?;
        let mut functions = Vec::new();
        let mut contracts = Vec::new();
        for (contract, declared) in declared {
            let mut fns = Vec::new();
            for f in declared.functions {
                fns.push((f.name.clone(), f.signature, functions.len()));
                functions.push((contract.clone(), f.name));
            }
            contracts.push((contract, declared.version, fns));
        }
        drop(table);
        drop(lua);
        drop(counted);
        bump(&self.counters.loads);
        let load = Arc::new(Load {
            recipe,
            functions,
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            alive: Arc::new(()),
            tally,
        });
        for (contract, version, fns) in contracts {
            let mut engine = EngineContract::new(contract.clone(), version);
            for (name, signature, index) in fns {
                engine = engine.function(
                    name.clone(),
                    signature.to_string(),
                    Arc::new(LuaFn {
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
