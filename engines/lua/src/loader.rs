//! [`LuaLoader`]: turns a Lua bundle's script into contracts, and runs
//! calls in the calling thread's own state under the bundle's budget.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use mlua::{Function, Table, Value as LuaValue};
use polyplug::LogLevel;
use polyplug::Version;
use polyplug::loader::instances::{InstanceTally, handover_given};
use polyplug::loader::{
    CodeError, CodeSource, EngineContract, EngineFn, EngineInstance, EngineInstances, Fault,
    LoadedCode, Loader, Registrar, TypedSignature, Value,
};
use polyplug_abi::{ERR_BAD_ARGUMENT, ERR_INTERNAL, ERR_TRAP};

use crate::budget::{Budget, LuaConfig};
use crate::convert::{from_lua, integer_arg, to_lua};
use crate::instance::{LuaInstance, Objects};
use crate::sandbox::{self, Failure, Meter, Recipe};
use crate::threads::{self, Counters, Liveness, Tally, ThreadState, bump};

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
    /// Instances of stateful contracts made (`new` called and its object
    /// kept), the one `new` made at load to check it not counted.
    pub instances_made: u64,
    /// Instance objects freed: when the host dropped the instance on the
    /// thread that made it, at that thread's next call into a Lua load
    /// after a drop on another thread, after a failed call on it, or
    /// with their state.
    pub instances_dropped: u64,
    /// Instances the host dropped on another thread than their own,
    /// whose objects wait for that thread's next call into a Lua load (or
    /// for their state to go).
    pub instances_pending: u64,
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

    /// Instance objects made and not yet freed, pending ones included.
    ///
    /// ```
    /// let stats = polyplug_lua::LuaStats { instances_made: 2, instances_dropped: 1, ..Default::default() };
    /// assert_eq!(stats.instances_alive(), 1);
    /// ```
    pub fn instances_alive(&self) -> u64 {
        self.instances_made.saturating_sub(self.instances_dropped)
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
            instances_made: c.instances.made(),
            instances_dropped: c.instances.dropped(),
            instances_pending: c.instances.pending(),
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
    /// The stateful contracts, by the index their instance makers use.
    stateful: Vec<String>,
    generation: u64,
    alive: Liveness,
    tally: Arc<Tally>,
    instances: Arc<InstanceTally>,
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

/// What a call runs: a function of the script's table, or a method of an
/// instance's object.
enum Callee<'i> {
    Function(usize),
    Method {
        instance: &'i mut LuaInstance,
        name: &'i str,
    },
}

impl Load {
    /// A new state on this thread: the script run, its functions looked
    /// up by this load's index.
    fn make_state(&self) -> Result<ThreadState, Failure> {
        let counted = self.tally.admit(self.recipe.budget.instances)?;
        let (lua, meter, table) = sandbox::open(&self.recipe)?;
        let mut declared = read_contracts(&self.recipe.chunk, &table)?;
        let again = |what: String| Failure {
            code: ERR_INTERNAL,
            what: format!(
                "{}: running the script again did not register {what}",
                self.recipe.chunk
            ),
        };
        let mut functions = Vec::with_capacity(self.functions.len());
        for (contract, name) in &self.functions {
            let found = declared
                .get(contract)
                .and_then(|c| c.functions.iter().find(|f| &f.name == name));
            let Some(found) = found else {
                return Err(again(format!("function {name} of contract {contract}")));
            };
            functions.push(found.function.clone());
        }
        let mut constructors = Vec::with_capacity(self.stateful.len());
        let mut handovers = Vec::with_capacity(self.stateful.len());
        for contract in &self.stateful {
            let found = declared
                .get_mut(contract)
                .and_then(|c| Some((c.constructor.take()?, c.handover.take())));
            let Some((constructor, handover)) = found else {
                return Err(again(format!(
                    "the constructor `new` of contract {contract}"
                )));
            };
            constructors.push(constructor);
            handovers.push(handover);
        }
        drop(table);
        Ok(ThreadState {
            objects: Objects::new(Arc::clone(&self.tally.counters.instances)),
            functions,
            constructors,
            handovers,
            lua,
            meter,
            _counted: counted,
        })
    }

    /// This thread's state of this load, made on first use. Frees what
    /// waits to be freed on this thread first.
    fn state(&self) -> Result<Rc<ThreadState>, Failure> {
        if let Some(state) = threads::find_quiet(self.generation) {
            return Ok(state);
        }
        threads::free_pending();
        if let Some(state) = threads::find(self.generation) {
            return Ok(state);
        }
        let state = Rc::new(self.make_state()?);
        threads::keep(self.generation, self.alive.weak(), Rc::clone(&state));
        Ok(state)
    }

    /// After a failed top-level call, the state may be half-updated: the
    /// next call on this thread gets a fresh one, unless instances live in
    /// it (they belong to it, and Lua's error unwinding left it usable).
    fn after_failure(&self, state: &ThreadState, depth: u32) {
        if depth == 0 && state.objects.is_empty() {
            threads::forget(self.generation);
        }
    }

    /// Calls `callee` in this thread's state of this load.
    fn call(
        &self,
        callee: Callee<'_>,
        args: &[Value<'_>],
        ret: &TypedSignature,
    ) -> Result<Value<'static>, Failure> {
        let state = self.state()?;
        let meter = &state.meter;
        let depth = meter.depth.get();
        let fuel = self.recipe.budget.fuel;
        let arg = |value: &Value<'_>| {
            to_lua(&state.lua, value).map_err(|what| Failure {
                code: ERR_BAD_ARGUMENT,
                what,
            })
        };
        let result = match callee {
            Callee::Function(index) => {
                let function = match state.functions.get(index) {
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
                // Up to six arguments (what a typed signature takes) are
                // pushed onto the Lua stack as a tuple: no `MultiValue`, a
                // heap-allocated deque, per call. One or two integers are
                // pushed as integers, without a `LuaValue` each.
                match args {
                    [] => metered(meter, fuel, || function.call(())),
                    [a] if let Some(a) = integer_arg(a) => {
                        metered(meter, fuel, || function.call(a))
                    }
                    [a, b] if let (Some(a), Some(b)) = (integer_arg(a), integer_arg(b)) => {
                        metered(meter, fuel, || function.call((a, b)))
                    }
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
                        let (a, b, c, d, e, f) =
                            (arg(a)?, arg(b)?, arg(c)?, arg(d)?, arg(e)?, arg(f)?);
                        metered(meter, fuel, || function.call((a, b, c, d, e, f)))
                    }
                    more => {
                        let values = more.iter().map(arg).collect::<Result<Vec<_>, _>>()?;
                        metered(meter, fuel, || {
                            function.call(mlua::MultiValue::from_vec(values))
                        })
                    }
                }
            }
            Callee::Method { instance, name } => {
                let Some(object) = state.objects.get(instance.key()) else {
                    return Err(Failure {
                        code: ERR_INTERNAL,
                        what: "the instance's object is gone from its thread's state".to_owned(),
                    });
                };
                let method: LuaValue = object.get(name).map_err(|e| Failure {
                    code: ERR_TRAP,
                    what: sandbox::describe(&e),
                })?;
                let LuaValue::Function(method) = method else {
                    return Err(Failure {
                        code: ERR_TRAP,
                        what: format!(
                            "the instance has no method {name} (found a {})",
                            method.type_name()
                        ),
                    });
                };
                let mut values = Vec::with_capacity(args.len() + 1);
                values.push(LuaValue::Table(object));
                for value in args {
                    values.push(arg(value)?);
                }
                let result = metered(meter, fuel, || {
                    method.call(mlua::MultiValue::from_vec(values))
                });
                if let Err(error) = &result {
                    // The object may be half-updated: the instance is
                    // unusable from now on, its object freed.
                    instance.poison(sandbox::describe(error));
                    state.objects.remove(instance.key());
                }
                result
            }
        };
        let value = match result {
            Ok(value) => value,
            Err(error) => {
                let failure = sandbox::failure(&error, meter, &self.recipe.budget);
                self.after_failure(&state, depth);
                return Err(failure);
            }
        };
        from_lua(&value, ret.ret).map_err(|what| Failure {
            code: ERR_TRAP,
            what: format!("the result does not fit {ret}: {what}"),
        })
    }

    /// A new instance of stateful contract `stateful` on this thread: its
    /// `new` called, the object checked and kept in this thread's state.
    fn create(&self, stateful: usize, methods: &[String]) -> Result<LuaInstance, Failure> {
        let state = self.state()?;
        let Some(constructor) = state.constructors.get(stateful) else {
            return Err(Failure {
                code: ERR_INTERNAL,
                what: format!("no constructor at index {stateful}"),
            });
        };
        let count = self.instances.admit(self.recipe.budget.instances)?;
        let meter = &state.meter;
        let depth = meter.depth.get();
        let made = metered(meter, self.recipe.budget.fuel, || constructor.call(()));
        let made = match made {
            Ok(made) => made,
            Err(error) => {
                let failure = sandbox::failure(&error, meter, &self.recipe.budget);
                self.after_failure(&state, depth);
                return Err(failure);
            }
        };
        let object = instance_object("new", made, methods)?;
        Ok(state.objects.insert(object, count, self.generation)?)
    }

    /// The `save` and `restore` of stateful contract `stateful` in
    /// `state`.
    fn handover(state: &ThreadState, stateful: usize) -> Result<&Handover, Failure> {
        match state.handovers.get(stateful) {
            Some(Some(handover)) => Ok(handover),
            _ => Err(Failure {
                code: ERR_INTERNAL,
                what: format!("no save and restore at index {stateful}"),
            }),
        }
    }

    /// The state of `instance` (an instance of stateful contract
    /// `stateful`, checked to be this load's and this thread's): the
    /// contract's `save` called with its object under the budgets of a
    /// call, its string's bytes. A failure leaves the instance as it is.
    fn save(&self, stateful: usize, instance: &LuaInstance) -> Result<Vec<u8>, Failure> {
        let state = self.state()?;
        let save = &Self::handover(&state, stateful)?.save;
        let Some(object) = state.objects.get(instance.key()) else {
            return Err(Failure {
                code: ERR_INTERNAL,
                what: "the instance's object is gone from its thread's state".to_owned(),
            });
        };
        let meter = &state.meter;
        let depth = meter.depth.get();
        let saved = metered(meter, self.recipe.budget.fuel, || save.call(object));
        match saved {
            Ok(LuaValue::String(bytes)) => Ok(bytes.as_bytes().to_vec()),
            Ok(other) => Err(Failure {
                code: ERR_TRAP,
                what: format!(
                    "returned {}, expected a string holding the instance's state",
                    crate::convert::kind(&other)
                ),
            }),
            Err(error) => {
                let failure = sandbox::failure(&error, meter, &self.recipe.budget);
                self.after_failure(&state, depth);
                Err(failure)
            }
        }
    }

    /// A new instance of stateful contract `stateful` on this thread, as
    /// [`create`](Load::create) makes one, from `bytes`: the contract's
    /// `restore` called with them as a string, the object checked and
    /// kept.
    fn restore(
        &self,
        stateful: usize,
        methods: &[String],
        bytes: &[u8],
    ) -> Result<LuaInstance, Failure> {
        let state = self.state()?;
        let restore = &Self::handover(&state, stateful)?.restore;
        let count = self.instances.admit(self.recipe.budget.instances)?;
        let meter = &state.meter;
        let depth = meter.depth.get();
        let made = metered(meter, self.recipe.budget.fuel, || {
            let bytes = state.lua.create_string(bytes)?;
            restore.call(bytes)
        });
        let made = match made {
            Ok(made) => made,
            Err(error) => {
                let failure = sandbox::failure(&error, meter, &self.recipe.budget);
                self.after_failure(&state, depth);
                return Err(Failure {
                    what: format!("function restore: {}", failure.what),
                    ..failure
                });
            }
        };
        let object = instance_object("restore", made, methods)?;
        Ok(state.objects.insert(object, count, self.generation)?)
    }
}

/// The value `new` (or `restore`: `maker`) returned, checked: a table
/// with a method for each of the contract's `methods` (looked up as Lua
/// would, metatables included).
fn instance_object(maker: &str, made: LuaValue, methods: &[String]) -> Result<Table, Failure> {
    let LuaValue::Table(object) = made else {
        return Err(Failure {
            code: ERR_TRAP,
            what: format!(
                "function {maker}: returned a {}, expected a table whose methods are the contract's functions",
                made.type_name()
            ),
        });
    };
    for name in methods {
        let method: LuaValue = object.get(name.as_str()).map_err(|e| Failure {
            code: ERR_TRAP,
            what: format!("function {name}: {}", sandbox::describe(&e)),
        })?;
        if !matches!(method, LuaValue::Function(_)) {
            return Err(Failure {
                code: ERR_TRAP,
                what: format!(
                    "function {name}: the object `{maker}` returned has a {} for method {name}, expected a function",
                    method.type_name()
                ),
            });
        }
    }
    Ok(object)
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
    /// Held, not weak: the runtime drops the function with the table it
    /// belongs to, on the writer side, and a call then reads the load
    /// without a shared atomic write (no cache line bounced between
    /// calling threads).
    load: Arc<Load>,
    index: usize,
    contract: String,
    name: String,
    signature: TypedSignature,
}

impl LuaFn {
    /// `failure` as a fault naming bundle, contract and function, logged.
    fn fault(&self, load: &Load, failure: &Failure) -> Fault {
        let message = format!(
            "bundle {}: contract {}: function {}: {}",
            load.recipe.bundle, self.contract, self.name, failure.what
        );
        load.recipe.logger.log(LogLevel::Warn, &message);
        Fault::new(failure.code, message)
    }
}

impl EngineFn for LuaFn {
    fn call(
        &self,
        instance: Option<&mut EngineInstance>,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        let load = &self.load;
        let callee = match instance {
            None => Callee::Function(self.index),
            Some(instance) => {
                let Some(instance) = instance.downcast_mut::<LuaInstance>() else {
                    return Err(Fault::new(
                        ERR_BAD_ARGUMENT,
                        "not an instance of a Lua contract",
                    ));
                };
                if let Err(fault) = instance.check(load.generation) {
                    return Err(self.fault(load, &Failure::from(fault)));
                }
                Callee::Method {
                    instance,
                    name: &self.name,
                }
            }
        };
        load.call(callee, args, &self.signature)
            .map_err(|failure| self.fault(load, &failure))
    }
}

/// Makes the instances of one stateful contract.
struct LuaInstances {
    load: Weak<Load>,
    /// The contract's index among the load's stateful contracts.
    stateful: usize,
    contract: String,
    methods: Vec<String>,
    /// The contract gives `save` and `restore`.
    handover: bool,
}

impl LuaInstances {
    /// The load, or a fault if it is gone.
    fn load(&self) -> Result<Arc<Load>, Fault> {
        self.load
            .upgrade()
            .ok_or_else(|| Fault::new(ERR_INTERNAL, "the script was unloaded"))
    }

    /// `failure` while `doing` as a fault naming bundle and contract,
    /// logged.
    fn fault(&self, load: &Load, doing: &str, failure: &Failure) -> Fault {
        let message = format!(
            "bundle {}: contract {}: {doing}: {}",
            load.recipe.bundle, self.contract, failure.what
        );
        load.recipe.logger.log(LogLevel::Warn, &message);
        Fault::new(failure.code, message)
    }
}

impl EngineInstances for LuaInstances {
    fn create(&self) -> Result<EngineInstance, Fault> {
        let load = self.load()?;
        match load.create(self.stateful, &self.methods) {
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
        let Some(instance) = instance.downcast_mut::<LuaInstance>() else {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                "not an instance of a Lua contract",
            ));
        };
        if !self.handover {
            return Err(self.fault(
                &load,
                doing,
                &Failure {
                    code: polyplug_abi::ERR_UNSUPPORTED,
                    what: "the contract gives no `save`".to_owned(),
                },
            ));
        }
        instance
            .check(load.generation)
            .map_err(Failure::from)
            .and_then(|()| load.save(self.stateful, instance))
            .map_err(|failure| self.fault(&load, doing, &failure))
    }

    fn restore(&self, state: &[u8]) -> Result<EngineInstance, Fault> {
        let load = self.load()?;
        let doing = "restoring an instance";
        if !self.handover {
            return Err(self.fault(
                &load,
                doing,
                &Failure {
                    code: polyplug_abi::ERR_UNSUPPORTED,
                    what: "function restore: the contract gives no `restore`".to_owned(),
                },
            ));
        }
        match load.restore(self.stateful, &self.methods, state) {
            Ok(instance) => Ok(Box::new(instance)),
            Err(failure) => Err(self.fault(&load, doing, &failure)),
        }
    }
}

/// A function as the script's table registers it.
struct Declared {
    name: String,
    signature: TypedSignature,
    /// `None` in a stateful contract: the function is a method of the
    /// object `new` returns.
    function: Option<Function>,
}

/// A contract as the script's table registers it.
struct DeclaredContract {
    version: Version,
    /// `new`: the contract is stateful.
    constructor: Option<Function>,
    /// `save` and `restore`, given together: the contract hands an
    /// instance's state over.
    handover: Option<Handover>,
    functions: Vec<Declared>,
}

/// A stateful contract's `save` (object to state string) and `restore`
/// (state string to object).
#[derive(Clone)]
pub(crate) struct Handover {
    pub(crate) save: Function,
    pub(crate) restore: Function,
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
        let constructor: LuaValue = entry
            .get("new")
            .map_err(|e| lua_err(&format!("contract {name}: function new"), e))?;
        let constructor = match constructor {
            LuaValue::Nil => None,
            LuaValue::Function(constructor) => Some(constructor),
            other => {
                return Err(bad(
                    chunk,
                    format!(
                        "contract {name}: function new: `new` is a {}, expected a function that returns an instance",
                        other.type_name()
                    ),
                ));
            }
        };
        let handover = read_handover(chunk, &name, &entry, constructor.is_some())?;
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
            let function = match (function, &constructor) {
                (LuaValue::Function(function), None) => Some(function),
                (LuaValue::Nil, Some(_)) => None,
                (other, None) => {
                    return Err(here(format!(
                        "`fn` is a {}, expected a function (or give the contract a `new` that returns an object with this method)",
                        other.type_name()
                    )));
                }
                (other, Some(_)) => {
                    return Err(here(format!(
                        "has a `fn` ({}), but the contract has `new`: its functions are the methods of the object `new` returns; give only `sig`",
                        other.type_name()
                    )));
                }
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
                    constructor,
                    handover,
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

/// The `save` and `restore` of contract `name`'s `entry`: functions, both
/// or neither, and only beside `new`.
fn read_handover(
    chunk: &str,
    name: &str,
    entry: &Table,
    stateful: bool,
) -> Result<Option<Handover>, Failure> {
    let field = |field: &str| -> Result<Option<Function>, Failure> {
        let here = |what: String| bad(chunk, format!("contract {name}: function {field}: {what}"));
        let value: LuaValue = entry.get(field).map_err(|e| here(sandbox::describe(&e)))?;
        match value {
            LuaValue::Nil => Ok(None),
            LuaValue::Function(_) if !stateful => Err(here(format!(
                "`{field}` hands an instance's state over, but the contract has no `new`: give `new` too, or drop `{field}`"
            ))),
            LuaValue::Function(function) => Ok(Some(function)),
            other => Err(here(format!(
                "`{field}` is a {}, expected a function",
                other.type_name()
            ))),
        }
    };
    let (save, restore) = (field("save")?, field("restore")?);
    handover_given(save.is_some(), restore.is_some())
        .map_err(|why| bad(chunk, format!("contract {name}: {why}")))?;
    Ok(save
        .zip(restore)
        .map(|(save, restore)| Handover { save, restore }))
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
            files: code.files().cloned(),
            script: code.shared_bytes(),
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
        let (lua, meter, table) = sandbox::open(&recipe).map_err(refused)?;
        let declared = read_contracts(&recipe.chunk, &table).map_err(refused)?;
        let mut functions = Vec::new();
        let mut contracts = Vec::new();
        let mut stateful = Vec::new();
        for (contract, declared) in declared {
            let mut fns = Vec::new();
            for f in &declared.functions {
                fns.push((f.name.clone(), f.signature.clone(), functions.len()));
                functions.push((contract.clone(), f.name.clone()));
            }
            let maker = match &declared.constructor {
                Some(constructor) => {
                    // `new` runs once here: a constructor that raises, or
                    // whose object lacks a method, is refused at load.
                    let methods: Vec<String> =
                        declared.functions.iter().map(|f| f.name.clone()).collect();
                    let in_contract = |failure: Failure| {
                        refused(Failure {
                            what: format!(
                                "{}: contract {contract}: {}",
                                recipe.chunk, failure.what
                            ),
                            ..failure
                        })
                        .in_contract(&contract)
                    };
                    let made = metered(&meter, budget.fuel, || constructor.call(()))
                        .map_err(|e| {
                            let failure = sandbox::failure(&e, &meter, &budget);
                            Failure {
                                what: format!("function new: {}", failure.what),
                                ..failure
                            }
                        })
                        .map_err(in_contract)?;
                    instance_object("new", made, &methods).map_err(in_contract)?;
                    stateful.push(contract.clone());
                    Some((stateful.len() - 1, methods, declared.handover.is_some()))
                }
                None => None,
            };
            contracts.push((contract, declared.version, fns, maker));
        }
        drop(table);
        drop(lua);
        drop(counted);
        bump(&self.counters.loads);
        let load = Arc::new(Load {
            recipe,
            functions,
            stateful,
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            alive: Liveness::new(),
            tally,
            instances: Arc::new(InstanceTally::new(Arc::clone(&self.counters.instances))),
        });
        for (contract, version, fns, maker) in contracts {
            let mut engine = EngineContract::new(contract.clone(), version);
            for (name, signature, index) in fns {
                engine = engine.function(
                    name.clone(),
                    signature.to_string(),
                    Arc::new(LuaFn {
                        load: Arc::clone(&load),
                        index,
                        contract: contract.clone(),
                        name,
                        signature,
                    }),
                );
            }
            if let Some((stateful, methods, handover)) = maker {
                engine = engine.stateful(Arc::new(LuaInstances {
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
