//! JavaScript states: one QuickJS runtime and context per calling thread
//! per load, made on that thread's first call from the load's source, used
//! and freed only by that thread (\[J1\]).
//!
//! A state of a load that is gone (reloaded, unloaded) is *pending*: only
//! its thread may free it, which it does at its next call into the engine
//! ([`collect_this_thread`]) or when it exits.
//!
//! A call looks for pending states only when a load was dropped since its
//! thread last looked, or an instance waits: drops are counted in one
//! global counter ([`DROPPED`]), which a call compares with the count its
//! thread last collected at, one atomic load, no lock.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use polyplug::loader::instances::{
    Graves, InstanceCounters, InstanceTally, ObjectCount, handover_given,
};
use polyplug::loader::{Contracts, Fault, Logger, TypedSignature, Value};
use polyplug_abi::{ERR_BUDGET, ERR_INTERNAL, ERR_INVALID, ERR_TRAP};
use rquickjs::convert::Coerced;
use rquickjs::{Constructor, Context, Ctx, Function, Module, Object, Persistent, Runtime};

use crate::budget::Budget;
use crate::instance::{JsInstance, Objects};
use crate::values;

/// Why a state could not be made or a call failed: an ABI code
/// (`ERR_TRAP`, `ERR_BUDGET`, `ERR_INVALID`, `ERR_INTERNAL`) and what
/// happened, with the script's file:line where it gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: u32,
    pub(crate) what: String,
}

impl From<Fault> for Failure {
    fn from(fault: Fault) -> Failure {
        Failure {
            code: fault.code,
            what: fault.message,
        }
    }
}

impl Failure {
    pub(crate) fn new(code: u32, what: impl Into<String>) -> Failure {
        Failure {
            code,
            what: what.into(),
        }
    }
}

/// The counters behind [`JsStats`](crate::JsStats). Relaxed throughout:
/// statistics, publishing no memory.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) loads: AtomicU64,
    pub(crate) loads_dropped: AtomicU64,
    pub(crate) states_made: AtomicU64,
    pub(crate) states_freed: AtomicU64,
    pub(crate) states_pending: AtomicU64,
    pub(crate) instances: Arc<InstanceCounters>,
}

pub(crate) fn bump(counter: &AtomicU64) {
    // Relaxed: a statistic.
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A load's live states, and whether the load is gone; one lock, taken
/// when a state is made or freed and when the load drops, never on the
/// call path.
#[derive(Debug, Default)]
pub(crate) struct Mark {
    inner: Mutex<MarkInner>,
}

#[derive(Debug, Default)]
struct MarkInner {
    live: u64,
    gone: bool,
}

impl Mark {
    /// Counts a new state; refuses one past `limit`.
    fn enter(&self, limit: u64) -> Result<(), Failure> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.live >= limit {
            return Err(Failure::new(
                ERR_BUDGET,
                format!(
                    "{} JavaScript states are live, the bundle's limit (limits.instances)",
                    inner.live
                ),
            ));
        }
        inner.live += 1;
        Ok(())
    }

    /// Counts a freed state.
    fn leave(&self, counters: &Counters) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.live = inner.live.saturating_sub(1);
        if inner.gone {
            // Relaxed: a statistic, updated under the mark's lock.
            counters.states_pending.fetch_sub(1, Ordering::Relaxed);
        }
        bump(&counters.states_freed);
    }

    /// The load is gone: its live states are pending from now on.
    pub(crate) fn close(&self, counters: &Counters) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.gone = true;
        // Relaxed: a statistic, updated under the mark's lock.
        counters
            .states_pending
            .fetch_add(inner.live, Ordering::Relaxed);
    }
}

/// One load, as every thread sees it: the source and what to resolve.
pub(crate) struct Load {
    pub(crate) bundle: String,
    pub(crate) file: PathBuf,
    pub(crate) source: Arc<[u8]>,
    pub(crate) budget: Budget,
    pub(crate) generation: u64,
    /// `(contract, function, signature)` by the index calls use.
    pub(crate) functions: Vec<(String, String, TypedSignature)>,
    /// The stateful contracts, by the index their instance makers use.
    pub(crate) stateful: Vec<String>,
    pub(crate) instances: Arc<InstanceTally>,
    pub(crate) mark: Arc<Mark>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) logger: Logger,
    pub(crate) contracts: Contracts,
}

impl std::fmt::Debug for Load {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Load")
            .field("bundle", &self.bundle)
            .field("file", &self.file)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// Loads dropped so far, of every JavaScript loader of the process,
/// bumped as each drops: a thread that reads a new count collects.
static DROPPED: AtomicU64 = AtomicU64::new(0);

impl Drop for Load {
    fn drop(&mut self) {
        self.mark.close(&self.counters);
        bump(&self.counters.loads_dropped);
        // Release: a `Load` drops once its last `Arc` is gone, so its
        // states' `Weak`s are dead by now; pairs with the Acquire loads
        // in `quiet_state` and `collect_this_thread`, after which a
        // thread sees them dead.
        DROPPED.fetch_add(1, Ordering::Release);
    }
}

/// A QuickJS runtime and context with the module evaluated, its functions,
/// and the objects of the instances made in it. Values go before the
/// context, before the runtime.
pub(crate) struct Engine {
    pub(crate) objects: Objects,
    functions: Vec<Option<Persistent<Function<'static>>>>,
    /// The class of each stateful contract, by the index its instance
    /// maker uses.
    constructors: Vec<Option<Persistent<Constructor<'static>>>>,
    /// The `save` and `restore` of each stateful contract, by the same
    /// index; `None` where the contract gives neither.
    handovers: Vec<Option<(Persistent<Function<'static>>, Persistent<Function<'static>>)>>,
    context: Option<Context>,
    runtime: Option<Runtime>,
    fuel: Rc<Cell<u64>>,
    checks: u64,
    mark: Arc<Mark>,
    counters: Arc<Counters>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.objects.close();
        self.functions.clear();
        self.constructors.clear();
        self.handovers.clear();
        self.context = None;
        self.runtime = None;
        self.mark.leave(&self.counters);
    }
}

/// The registration the module exports, read at evaluation.
pub(crate) type Exports = Vec<ExportedContract>;

/// One entry of the module's `contracts` export.
#[derive(Debug)]
pub(crate) struct ExportedContract {
    pub(crate) name: String,
    pub(crate) version: String,
    /// `(function, signature, the function's declared parameter count)`;
    /// in a stateful contract, the function is a method of its class.
    pub(crate) functions: Vec<(String, String, usize)>,
    /// The contract exports a `class`: it is stateful.
    pub(crate) stateful: bool,
    /// The entry gives `save` and `restore`: an instance's state is
    /// handed over across a reload.
    pub(crate) handover: bool,
}

/// The name of the module's export that registers its contracts.
pub(crate) const CONTRACTS_EXPORT: &str = "contracts";

impl Engine {
    /// A fresh state for `load`: runtime under the budget, the `polyplug`
    /// global, the module evaluated, its functions resolved. Also returns
    /// what the module exports as its registration.
    pub(crate) fn make(load: &Load) -> Result<(Engine, Exports), Failure> {
        load.mark.enter(load.budget.instances)?;
        bump(&load.counters.states_made);
        let mut engine = Engine {
            objects: Objects::new(Arc::clone(&load.counters.instances)),
            functions: Vec::new(),
            constructors: Vec::new(),
            handovers: Vec::new(),
            context: None,
            runtime: None,
            fuel: Rc::new(Cell::new(0)),
            checks: load.budget.checks(),
            mark: Arc::clone(&load.mark),
            counters: Arc::clone(&load.counters),
        };
        let internal = |e: rquickjs::Error| Failure::new(ERR_INTERNAL, format!("QuickJS: {e}"));
        let runtime = Runtime::new().map_err(internal)?;
        runtime.set_memory_limit(load.budget.memory_bytes());
        runtime.set_max_stack_size(load.budget.stack_bytes());
        let fuel = Rc::clone(&engine.fuel);
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let left = fuel.get();
            if left == 0 {
                return true;
            }
            fuel.set(left - 1);
            false
        })));
        let context = Context::full(&runtime).map_err(internal)?;
        engine.runtime = Some(runtime);
        engine.fuel.set(engine.checks);
        let module_name = load.file.display().to_string();
        let (functions, constructors, handovers, exports) =
            context.with(|ctx| -> Result<_, Failure> {
                crate::host::install(&ctx, load).map_err(|e| engine.failure(&ctx, e))?;
                let declared = Module::declare(ctx.clone(), module_name.as_str(), &*load.source)
                    .map_err(|e| engine.failure(&ctx, e))?;
                let (module, promise) = declared.eval().map_err(|e| engine.failure(&ctx, e))?;
                promise
                    .finish::<()>()
                    .map_err(|e| engine.failure(&ctx, e))?;
                let namespace = module.namespace().map_err(|e| engine.failure(&ctx, e))?;
                let exports = read_exports(&namespace).map_err(|e| Failure::new(ERR_INVALID, e))?;
                let functions = load
                    .functions
                    .iter()
                    .map(|(contract, function, _)| {
                        lookup(&namespace, contract, function).map(|f| Persistent::save(&ctx, f))
                    })
                    .collect::<Vec<_>>();
                let constructors = load
                    .stateful
                    .iter()
                    .map(|contract| {
                        lookup_class(&namespace, contract).map(|c| Persistent::save(&ctx, c))
                    })
                    .collect::<Vec<_>>();
                let handovers = load
                    .stateful
                    .iter()
                    .map(|contract| {
                        let save = lookup_entry_function(&namespace, contract, "save")?;
                        let restore = lookup_entry_function(&namespace, contract, "restore")?;
                        Some((
                            Persistent::save(&ctx, save),
                            Persistent::save(&ctx, restore),
                        ))
                    })
                    .collect::<Vec<_>>();
                Ok((functions, constructors, handovers, exports))
            })?;
        engine.functions = functions;
        engine.constructors = constructors;
        engine.handovers = handovers;
        engine.context = Some(context);
        Ok((engine, exports))
    }

    /// A failure from a QuickJS error: the pending exception with its
    /// message and file:line; `ERR_BUDGET` for fuel, memory and stack.
    fn failure(&self, ctx: &Ctx<'_>, error: rquickjs::Error) -> Failure {
        let fuel_out = self.fuel.get() == 0;
        match error {
            rquickjs::Error::Exception => {
                let thrown = ctx.catch();
                let (text, location) = describe_thrown(&thrown);
                let at = location.map(|l| format!(" at {l}")).unwrap_or_default();
                if fuel_out {
                    return Failure::new(ERR_BUDGET, format!("ran out of fuel (limits.fuel){at}"));
                }
                if thrown.is_null() || text.contains("out of memory") {
                    return Failure::new(
                        ERR_BUDGET,
                        format!("ran out of memory (limits.memory_pages): {text}{at}"),
                    );
                }
                if text.contains("Maximum call stack size exceeded")
                    || text.contains("stack overflow")
                {
                    return Failure::new(
                        ERR_BUDGET,
                        format!("ran out of stack (limits.recursion_depth): {text}{at}"),
                    );
                }
                Failure::new(ERR_TRAP, format!("threw {text}{at}"))
            }
            rquickjs::Error::Allocation => {
                Failure::new(ERR_BUDGET, "ran out of memory (limits.memory_pages)")
            }
            other => Failure::new(ERR_TRAP, format!("QuickJS: {other}")),
        }
    }

    /// Calls function `index` with `args`; its result as `signature` says.
    pub(crate) fn call(
        &self,
        index: usize,
        signature: &TypedSignature,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Failure> {
        let (Some(context), Some(Some(function))) = (&self.context, self.functions.get(index))
        else {
            return Err(Failure::new(
                ERR_INVALID,
                "this thread's evaluation of the module did not export the function",
            ));
        };
        self.fuel.set(self.checks);
        context.with(|ctx| {
            let function = function
                .clone()
                .restore(&ctx)
                .map_err(|e| self.failure(&ctx, e))?;
            let mut js_args = rquickjs::function::Args::new(ctx.clone(), args.len());
            for arg in args {
                let value = values::to_js(&ctx, arg).map_err(|e| self.failure(&ctx, e))?;
                js_args.push_arg(value).map_err(|e| self.failure(&ctx, e))?;
            }
            let result: rquickjs::Value<'_> = function
                .call_arg(js_args)
                .map_err(|e| self.failure(&ctx, e))?;
            values::from_js(&result, signature.ret).map_err(|e| Failure::new(ERR_TRAP, e))
        })
    }
}

impl Engine {
    /// A new instance of stateful contract `stateful`: `new` of its class,
    /// the object kept in this state under `count`.
    pub(crate) fn construct(
        &self,
        stateful: usize,
        count: ObjectCount,
        generation: u64,
    ) -> Result<JsInstance, Failure> {
        let (Some(context), Some(Some(constructor))) =
            (&self.context, self.constructors.get(stateful))
        else {
            return Err(Failure::new(
                ERR_INVALID,
                "this thread's evaluation of the module did not export the class",
            ));
        };
        self.fuel.set(self.checks);
        let object = context.with(|ctx| {
            let constructor = constructor
                .clone()
                .restore(&ctx)
                .map_err(|e| self.failure(&ctx, e))?;
            let made: rquickjs::Value<'_> = constructor
                .construct(())
                .map_err(|e| self.failure(&ctx, e))?;
            let Some(object) = made.into_object() else {
                return Err(Failure::new(ERR_TRAP, "the class made no object"));
            };
            Ok(Persistent::save(&ctx, object))
        })?;
        Ok(self.objects.insert(object, count, generation)?)
    }

    /// The state of `instance` (an instance of stateful contract
    /// `stateful`, checked to be this load's and this thread's): the
    /// contract's `save` called with its object under the budgets of a
    /// call, the bytes of the `Uint8Array` or `ArrayBuffer` it returns. A
    /// failure leaves the instance as it is.
    pub(crate) fn save(&self, stateful: usize, instance: &JsInstance) -> Result<Vec<u8>, Failure> {
        let (Some(context), Some(Some((save, _))), Some(object)) = (
            &self.context,
            self.handovers.get(stateful),
            self.objects.get(instance.key()),
        ) else {
            return Err(Failure::new(
                ERR_INTERNAL,
                "the instance's object or the contract's `save` is gone from its thread's state",
            ));
        };
        self.fuel.set(self.checks);
        context.with(|ctx| {
            let save = save.clone().restore(&ctx).map_err(|e| self.failure(&ctx, e))?;
            let object = object.restore(&ctx).map_err(|e| self.failure(&ctx, e))?;
            let saved: rquickjs::Value<'_> =
                save.call((object,)).map_err(|e| self.failure(&ctx, e))?;
            values::bytes_of(&saved).ok_or_else(|| {
                Failure::new(
                    ERR_TRAP,
                    format!(
                        "returned {}, expected a Uint8Array or an ArrayBuffer holding the instance's state",
                        saved.type_of().as_str()
                    ),
                )
            })
        })
    }

    /// A new instance of stateful contract `stateful`, as
    /// [`construct`](Engine::construct) makes one, from `bytes`: the
    /// contract's `restore` called with them as a `Uint8Array`, the object
    /// it returns kept in this state under `count`.
    pub(crate) fn restore(
        &self,
        stateful: usize,
        count: ObjectCount,
        generation: u64,
        bytes: &[u8],
    ) -> Result<JsInstance, Failure> {
        let (Some(context), Some(Some((_, restore)))) =
            (&self.context, self.handovers.get(stateful))
        else {
            return Err(Failure::new(
                ERR_INVALID,
                "this thread's evaluation of the module did not export the contract's `restore`",
            ));
        };
        self.fuel.set(self.checks);
        let object = context.with(|ctx| {
            let restore = restore
                .clone()
                .restore(&ctx)
                .map_err(|e| self.failure(&ctx, e))?;
            let state = rquickjs::TypedArray::<u8>::new_copy(ctx.clone(), bytes)
                .map_err(|e| self.failure(&ctx, e))?;
            let made: rquickjs::Value<'_> =
                restore.call((state,)).map_err(|e| self.failure(&ctx, e))?;
            let Some(object) = made.into_object() else {
                return Err(Failure::new(
                    ERR_TRAP,
                    "returned no object, expected an instance of the contract's class",
                ));
            };
            Ok(Persistent::save(&ctx, object))
        })?;
        Ok(self.objects.insert(object, count, generation)?)
    }

    /// Calls method `name` of `instance`'s object with `args`; its result
    /// as `signature` says. A failure leaves the instance unusable, its
    /// object freed: it may be half-updated.
    pub(crate) fn call_method(
        &self,
        instance: &mut JsInstance,
        name: &str,
        signature: &TypedSignature,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Failure> {
        let (Some(context), Some(object)) = (&self.context, self.objects.get(instance.key()))
        else {
            return Err(Failure::new(
                ERR_INTERNAL,
                "the instance's object is gone from its thread's state",
            ));
        };
        self.fuel.set(self.checks);
        let result = context.with(|ctx| {
            let object = object.restore(&ctx).map_err(|e| self.failure(&ctx, e))?;
            let method: rquickjs::Value<'_> =
                object.get(name).map_err(|e| self.failure(&ctx, e))?;
            let Some(method) = method.as_function() else {
                return Err(Failure::new(
                    ERR_TRAP,
                    format!(
                        "the instance has no method {name} (found {})",
                        method.type_of().as_str()
                    ),
                ));
            };
            let mut js_args = rquickjs::function::Args::new(ctx.clone(), args.len());
            js_args.this(object).map_err(|e| self.failure(&ctx, e))?;
            for arg in args {
                let value = values::to_js(&ctx, arg).map_err(|e| self.failure(&ctx, e))?;
                js_args.push_arg(value).map_err(|e| self.failure(&ctx, e))?;
            }
            let result: rquickjs::Value<'_> = method
                .call_arg(js_args)
                .map_err(|e| self.failure(&ctx, e))?;
            values::from_js(&result, signature.ret).map_err(|e| Failure::new(ERR_TRAP, e))
        });
        if let Err(failure) = &result {
            instance.poison(failure.what.clone());
            self.objects.remove(instance.key());
        }
        result
    }
}

/// The class of stateful contract `contract` in the module's `contracts`
/// export.
fn lookup_class<'js>(namespace: &Object<'js>, contract: &str) -> Option<Constructor<'js>> {
    let list: rquickjs::Array<'js> = namespace.get(CONTRACTS_EXPORT).ok()?;
    for entry in list.iter::<Object<'js>>() {
        let entry = entry.ok()?;
        let name: String = entry.get("name").ok()?;
        if name == contract {
            return entry.get(CLASS_FIELD).ok();
        }
    }
    None
}

/// Function `field` of stateful contract `contract`'s entry in the
/// module's `contracts` export.
fn lookup_entry_function<'js>(
    namespace: &Object<'js>,
    contract: &str,
    field: &str,
) -> Option<Function<'js>> {
    let list: rquickjs::Array<'js> = namespace.get(CONTRACTS_EXPORT).ok()?;
    for entry in list.iter::<Object<'js>>() {
        let entry = entry.ok()?;
        let name: String = entry.get("name").ok()?;
        if name == contract {
            return entry.get(field).ok();
        }
    }
    None
}

/// The field of a contract entry that names its class: the contract is
/// stateful.
pub(crate) const CLASS_FIELD: &str = "class";

/// `(message, file:line)` of a thrown value.
fn describe_thrown(thrown: &rquickjs::Value<'_>) -> (String, Option<String>) {
    if let Some(exception) = thrown.as_exception() {
        let name: String = exception
            .get::<_, Coerced<String>>("name")
            .map(|c| c.0)
            .unwrap_or_else(|_| "Error".to_owned());
        let message = exception.message().unwrap_or_default();
        let mut location = None;
        if let (Ok(Coerced(file)), Ok(line)) = (
            exception.get::<_, Coerced<String>>("fileName"),
            exception.get::<_, u32>("lineNumber"),
        ) {
            location = Some(format!("{file}:{line}"));
        }
        if location.is_none() {
            location = exception.stack().and_then(|stack| {
                stack.lines().find_map(|line| {
                    // `at name (file:line:col)` or `at file:line:col`; the
                    // file's path may hold parentheses of its own.
                    let line = line.trim().strip_prefix("at ")?;
                    let inner = line
                        .strip_suffix(')')
                        .and_then(|framed| framed.split_once(" ("))
                        .map_or(line, |(_, at)| at);
                    Some(inner.to_owned())
                })
            });
        }
        return (format!("{name}: {message}"), location);
    }
    if thrown.is_null() {
        return ("null".to_owned(), None);
    }
    let text = thrown
        .get::<Coerced<String>>()
        .map(|c| c.0)
        .unwrap_or_else(|_| thrown.type_of().as_str().to_owned());
    (text, None)
}

/// The function `contract`/`function` in the module's `contracts` export.
fn lookup<'js>(namespace: &Object<'js>, contract: &str, function: &str) -> Option<Function<'js>> {
    let list: rquickjs::Array<'js> = namespace.get(CONTRACTS_EXPORT).ok()?;
    for entry in list.iter::<Object<'js>>() {
        let entry = entry.ok()?;
        let name: String = entry.get("name").ok()?;
        if name != contract {
            continue;
        }
        let functions: Object<'js> = entry.get("functions").ok()?;
        let spec: Object<'js> = functions.get(function).ok()?;
        return spec.get("fn").ok();
    }
    None
}

/// The module's registration, checked for shape.
fn read_exports(namespace: &Object<'_>) -> Result<Exports, String> {
    let value: rquickjs::Value<'_> = namespace.get(CONTRACTS_EXPORT).map_err(|e| e.to_string())?;
    let Some(list) = value.as_array() else {
        return Err(format!(
            "the module must export `{CONTRACTS_EXPORT}`, an array of {{ name, version, functions }}"
        ));
    };
    let mut exports = Vec::new();
    for (index, entry) in list.iter::<rquickjs::Value<'_>>().enumerate() {
        let entry = entry.map_err(|e| e.to_string())?;
        let at = format!("{CONTRACTS_EXPORT}[{index}]");
        let Some(entry) = entry.as_object() else {
            return Err(format!("{at} is not an object"));
        };
        let text = |field: &str| -> Result<String, String> {
            entry
                .get::<_, rquickjs::Value<'_>>(field)
                .ok()
                .and_then(|v| v.as_string().and_then(|s| s.to_string().ok()))
                .ok_or_else(|| format!("{at}.{field} must be a string"))
        };
        let name = text("name")?;
        let version = text("version")?;
        let functions_value: rquickjs::Value<'_> =
            entry.get("functions").map_err(|e| e.to_string())?;
        let Some(functions_object) = functions_value.as_object() else {
            return Err(format!(
                "contract {name}: {at}.functions must be an object of {{ sig, fn }}"
            ));
        };
        let class: rquickjs::Value<'_> = entry.get(CLASS_FIELD).map_err(|e| e.to_string())?;
        let prototype = if class.is_undefined() {
            None
        } else {
            let Some(class) = class.as_constructor() else {
                return Err(format!(
                    "contract {name}: class: `{CLASS_FIELD}` must be a class whose methods are the contract's functions, found {}",
                    class.type_of().as_str()
                ));
            };
            let prototype: Option<Object<'_>> = class.get("prototype").ok();
            let Some(prototype) = prototype else {
                return Err(format!(
                    "contract {name}: class: `{CLASS_FIELD}` has no prototype object"
                ));
            };
            Some(prototype)
        };
        let handover = read_handover(&name, entry, prototype.is_some())?;
        let mut functions = Vec::new();
        for key in functions_object.keys::<String>() {
            let key = key.map_err(|e| e.to_string())?;
            let spec: rquickjs::Value<'_> = functions_object
                .get(key.as_str())
                .map_err(|e| e.to_string())?;
            let field = format!("contract {name}: function {key}");
            let Some(spec) = spec.as_object() else {
                return Err(format!("{field}: must be an object {{ sig, fn }}"));
            };
            let sig = spec
                .get::<_, rquickjs::Value<'_>>("sig")
                .ok()
                .and_then(|v| v.as_string().and_then(|s| s.to_string().ok()))
                .ok_or_else(|| {
                    format!("{field}: `sig` must be a signature string such as \"u32(u32)\"")
                })?;
            let func: rquickjs::Value<'_> = spec.get("fn").map_err(|e| e.to_string())?;
            let func = match (&prototype, func.is_undefined()) {
                (None, _) => func.as_function().cloned().ok_or_else(|| {
                    format!(
                        "{field}: `fn` is missing or not a function (or give the contract a `{CLASS_FIELD}` whose methods are its functions)"
                    )
                })?,
                (Some(_), false) => {
                    return Err(format!(
                        "{field}: has a `fn`, but the contract has a `{CLASS_FIELD}`: its functions are the methods of the class; give only `sig`"
                    ));
                }
                (Some(prototype), true) => {
                    let method: rquickjs::Value<'_> =
                        prototype.get(key.as_str()).map_err(|e| e.to_string())?;
                    method.as_function().cloned().ok_or_else(|| {
                        format!(
                            "{field}: the class has no method {key} (found {})",
                            method.type_of().as_str()
                        )
                    })?
                }
            };
            let length: usize = func.get("length").unwrap_or(0);
            functions.push((key, sig, length));
        }
        exports.push(ExportedContract {
            name,
            version,
            functions,
            stateful: prototype.is_some(),
            handover,
        });
    }
    Ok(exports)
}

/// Whether contract `name`'s `entry` gives `save` and `restore`:
/// functions, both or neither, and only beside a `class`.
fn read_handover(name: &str, entry: &Object<'_>, stateful: bool) -> Result<bool, String> {
    let given = |field: &str| -> Result<bool, String> {
        let value: rquickjs::Value<'_> = entry.get(field).map_err(|e| e.to_string())?;
        let here = format!("contract {name}: function {field}");
        if value.is_undefined() {
            return Ok(false);
        }
        if !value.is_function() {
            return Err(format!(
                "{here}: `{field}` must be a function, found {}",
                value.type_of().as_str()
            ));
        }
        if !stateful {
            return Err(format!(
                "{here}: `{field}` hands an instance's state over, but the contract has no `{CLASS_FIELD}`: give a `{CLASS_FIELD}` too, or drop `{field}`"
            ));
        }
        Ok(true)
    };
    let (save, restore) = (given("save")?, given("restore")?);
    handover_given(save, restore).map_err(|why| format!("contract {name}: {why}"))
}

/// One thread's state of one load.
struct ThreadState {
    generation: u64,
    load: Weak<Load>,
    /// A call runs on it; a nested call into the same load on this thread
    /// (through the `polyplug` global) is refused instead of re-entering.
    busy: Cell<bool>,
    engine: RefCell<Option<Engine>>,
}

/// One thread's states, and the [`DROPPED`] count it last collected at.
struct Local {
    states: RefCell<Vec<Rc<ThreadState>>>,
    collected: Cell<u64>,
}

thread_local! {
    /// This thread's states, of every load it called.
    static LOCAL: Local = const {
        Local {
            states: RefCell::new(Vec::new()),
            collected: Cell::new(0),
        }
    };
}

/// This thread's state of load `generation` when nothing waits to be
/// collected on this thread (no load dropped since it last collected, no
/// instance dropped elsewhere), else `None`: the call path's lookup, one
/// atomic load, no lock, no allocation.
fn quiet_state(generation: u64) -> Option<Rc<ThreadState>> {
    LOCAL
        .try_with(|local| {
            // Acquire: pairs with the Release bump in `Load::drop`.
            if DROPPED.load(Ordering::Acquire) != local.collected.get() {
                return None;
            }
            let states = local.states.try_borrow().ok()?;
            let mut found = None;
            for state in states.iter() {
                if let Ok(engine) = state.engine.try_borrow()
                    && let Some(engine) = engine.as_ref()
                    && engine.objects.has_graves()
                {
                    return None;
                }
                if state.generation == generation {
                    found = Some(state);
                }
            }
            found.map(Rc::clone)
        })
        .ok()
        .flatten()
}

/// Frees this thread's states of loads that are gone, and returns how
/// many it freed; also frees the objects of this thread's instances that
/// were dropped on other threads. Every call into a JavaScript function
/// does this first when there is something to free; a thread that stops
/// calling frees them when it exits.
///
/// ```
/// assert_eq!(polyplug_js::collect_this_thread(), 0); // this thread called nothing
/// ```
pub fn collect_this_thread() -> usize {
    LOCAL
        .try_with(|local| {
            let Ok(mut states) = local.states.try_borrow_mut() else {
                return 0;
            };
            // Acquire: pairs with the Release bump in `Load::drop`: every
            // load counted here is seen dead below. Read before the scan,
            // so a load dropped during it is collected at the next call.
            local.collected.set(DROPPED.load(Ordering::Acquire));
            let before = states.len();
            states.retain(|s| s.load.strong_count() > 0);
            for state in states.iter() {
                if let Ok(engine) = state.engine.try_borrow()
                    && let Some(engine) = engine.as_ref()
                    && engine.objects.has_graves()
                {
                    engine.objects.sweep();
                }
            }
            before - states.len()
        })
        .unwrap_or(0)
}

/// Frees instance `key` of this thread's state of load `generation`, the
/// state whose graves are `graves`; false if that state is not here or
/// busy (the caller leaves the key in `graves`).
pub(crate) fn free_instance(generation: u64, graves: &Arc<Graves>, key: u64) -> bool {
    let state = LOCAL
        .try_with(|local| {
            let states = local.states.try_borrow().ok()?;
            states
                .iter()
                .find(|s| s.generation == generation)
                .map(Rc::clone)
        })
        .ok()
        .flatten();
    let Some(state) = state else {
        return false;
    };
    let Ok(engine) = state.engine.try_borrow() else {
        return false;
    };
    match engine.as_ref() {
        Some(engine) if engine.objects.owns(graves) => engine.objects.remove(key),
        _ => false,
    }
}

/// Clears `busy` when a call ends, also when it unwinds.
struct Busy<'a>(&'a Cell<bool>);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// Calls function `index` of `load` in this thread's state, making it on
/// first use; a state that ran out of a budget is replaced at the next
/// call.
pub(crate) fn call_on_thread(
    load: &Arc<Load>,
    index: usize,
    signature: &TypedSignature,
    args: &[Value<'_>],
) -> Result<Value<'static>, Failure> {
    with_engine(load, |engine| engine.call(index, signature, args))
}

/// This thread's state of `load`, after collecting what waits here; a
/// new, empty one (made at its first use) if the thread has none.
fn fresh_state(load: &Arc<Load>) -> Result<Rc<ThreadState>, Failure> {
    collect_this_thread();
    LOCAL
        .try_with(|local| -> Result<Rc<ThreadState>, Failure> {
            let mut states = local
                .states
                .try_borrow_mut()
                .map_err(|_| Failure::new(ERR_INTERNAL, "re-entrant call on this thread"))?;
            if let Some(state) = states.iter().find(|s| s.generation == load.generation) {
                return Ok(Rc::clone(state));
            }
            let state = Rc::new(ThreadState {
                generation: load.generation,
                load: Arc::downgrade(load),
                busy: Cell::new(false),
                engine: RefCell::new(None),
            });
            states.push(Rc::clone(&state));
            Ok(state)
        })
        .map_err(|_| Failure::new(ERR_INTERNAL, "the thread is exiting"))?
}

/// Runs `run` on this thread's state of `load`, making it on first use; a
/// state that ran out of a budget is replaced at the next call, unless
/// instances live in it (they belong to it; QuickJS unwound cleanly).
pub(crate) fn with_engine<T>(
    load: &Arc<Load>,
    run: impl FnOnce(&Engine) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let state = match quiet_state(load.generation) {
        Some(state) => state,
        None => fresh_state(load)?,
    };
    if state.busy.replace(true) {
        return Err(Failure::new(
            ERR_INTERNAL,
            "re-entrant call into the same module on this thread (through polyplug.call)",
        ));
    }
    let _busy = Busy(&state.busy);
    let mut slot = state
        .engine
        .try_borrow_mut()
        .map_err(|_| Failure::new(ERR_INTERNAL, "re-entrant call on this thread"))?;
    if slot.is_none() {
        let (engine, _) = Engine::make(load)?;
        *slot = Some(engine);
    }
    let Some(engine) = slot.as_ref() else {
        return Err(Failure::new(ERR_INTERNAL, "no state"));
    };
    let result = run(engine);
    if matches!(&result, Err(f) if f.code == ERR_BUDGET) && engine.objects.is_empty() {
        // Out of fuel, memory or stack: the script stopped mid-way; the
        // next call gets a fresh state.
        *slot = None;
    }
    result
}
