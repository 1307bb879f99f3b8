//! [`WasmLoader`]: turns a `.wasm` bundle into contracts, and runs calls
//! in per-thread and per-instance wasm instances under the bundle's
//! budget.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use polyplug::LogLevel;
use polyplug::Version;
use polyplug::loader::{
    CodeError, CodeSource, Contracts, EngineContract, EngineFn, EngineInstance, EngineInstances,
    Fault, LoadedCode, Loader, Logger, PackedArgs, PackedFn, PackedRet, Registrar, TypedSignature,
    Value, ValueType, WordFn,
};
use polyplug_abi::{ERR_BAD_ARGUMENT, ERR_BUDGET, ERR_INTERNAL, ERR_INVALID, ERR_TRAP};

use crate::backend::{Backend, Compiled, Failure, Item, Running, TypedExport, WasmValue};
use crate::budget::{Budget, WasmConfig};
use crate::guest::{self, ContractExport, ExportKind, WasmType};
use crate::imports::{CALL_IMPORT, FIND_IMPORT, HOST_MODULE, LOG_IMPORT};
use crate::transfer::{Allocator, Given};
use crate::wasmi_engine::Wasmi;

/// Counts of the engine objects a [`WasmLoader`] made and dropped.
///
/// ```
/// let loader = polyplug_wasm::WasmLoader::new(polyplug_wasm::WasmConfig::default());
/// let stats = loader.stats();
/// assert_eq!((stats.modules_alive(), stats.instances_alive()), (0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WasmStats {
    /// Modules compiled (one per load or reload).
    pub modules_compiled: u64,
    /// Modules dropped.
    pub modules_dropped: u64,
    /// Wasm instances made: per calling thread, per stateful instance, and
    /// one at load to run the start function and `polyplug_init`.
    pub instances_made: u64,
    /// Wasm instances dropped.
    pub instances_dropped: u64,
}

impl WasmStats {
    /// Modules compiled and not yet dropped.
    ///
    /// ```
    /// let stats = polyplug_wasm::WasmStats { modules_compiled: 2, modules_dropped: 1, ..Default::default() };
    /// assert_eq!(stats.modules_alive(), 1);
    /// ```
    pub fn modules_alive(&self) -> u64 {
        self.modules_compiled.saturating_sub(self.modules_dropped)
    }

    /// Instances made and not yet dropped.
    ///
    /// ```
    /// let stats = polyplug_wasm::WasmStats { instances_made: 5, instances_dropped: 5, ..Default::default() };
    /// assert_eq!(stats.instances_alive(), 0);
    /// ```
    pub fn instances_alive(&self) -> u64 {
        self.instances_made.saturating_sub(self.instances_dropped)
    }
}

/// The counters behind [`WasmStats`]. Relaxed throughout: statistics,
/// publishing no memory.
#[derive(Debug, Default)]
struct Counters {
    modules_compiled: AtomicU64,
    modules_dropped: AtomicU64,
    instances_made: AtomicU64,
    instances_dropped: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    // Relaxed: a statistic.
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The loader for bundles with `loader = "wasm"`, run by the wasmi
/// interpreter ([`WasmLoader::new`]) or, with the `wasmtime` feature, by
/// wasmtime. Add it with `Runtime::builder().loader(WasmLoader::new(..))`;
/// `docs/wasm-plugins.md` describes the modules it loads.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// use polyplug::Runtime;
/// use polyplug_wasm::{WasmConfig, WasmLoader};
///
/// let loader = WasmLoader::new(WasmConfig::default());
/// let stats = loader.stats_handle(); // keep to read the counters later
/// let runtime = Runtime::builder().loader(loader).build()?;
/// assert_eq!(stats.get().modules_compiled, 0);
/// # let _ = runtime;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct WasmLoader {
    config: WasmConfig,
    pub(crate) backend: Arc<dyn Backend>,
    counters: Arc<Counters>,
}

/// Reads a [`WasmLoader`]'s counters after the loader moved into a
/// runtime.
///
/// ```
/// let loader = polyplug_wasm::WasmLoader::new(polyplug_wasm::WasmConfig::default());
/// let handle = loader.stats_handle();
/// assert_eq!(handle.get(), loader.stats());
/// ```
#[derive(Debug, Clone)]
pub struct StatsHandle(Arc<Counters>);

impl StatsHandle {
    /// The counters now.
    ///
    /// ```
    /// # let handle = polyplug_wasm::WasmLoader::new(Default::default()).stats_handle();
    /// assert_eq!(handle.get().instances_alive(), 0);
    /// ```
    pub fn get(&self) -> WasmStats {
        // Relaxed: statistics.
        let c = &self.0;
        WasmStats {
            modules_compiled: c.modules_compiled.load(Ordering::Relaxed),
            modules_dropped: c.modules_dropped.load(Ordering::Relaxed),
            instances_made: c.instances_made.load(Ordering::Relaxed),
            instances_dropped: c.instances_dropped.load(Ordering::Relaxed),
        }
    }
}

impl WasmLoader {
    /// A loader with the host's `config` (defaults and ceilings of the
    /// budgets).
    ///
    /// ```
    /// let loader = polyplug_wasm::WasmLoader::new(polyplug_wasm::WasmConfig::default());
    /// # let _ = loader;
    /// ```
    pub fn new(config: WasmConfig) -> WasmLoader {
        WasmLoader {
            config,
            backend: Arc::new(Wasmi),
            counters: Arc::default(),
        }
    }

    /// A loader like [`new`](WasmLoader::new) whose modules wasmtime
    /// compiles to machine code (Cranelift) instead of wasmi
    /// interpreting them: faster calls, a slower compile, and a JIT in the
    /// host process. Budgets mean what they mean on wasmi (the same fuel
    /// per call, memory pages, table elements and instances), but for the
    /// stack: wasmtime bounds it in bytes, 256 per frame of
    /// `recursion_depth`, at most 1 MiB, since the guest runs on the
    /// calling thread's stack. With the crate's `wasmtime` feature.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// use polyplug::Runtime;
    /// use polyplug_wasm::{WasmConfig, WasmLoader};
    ///
    /// let runtime = Runtime::builder().loader(WasmLoader::wasmtime(WasmConfig::default())).build()?;
    /// # let _ = runtime;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "wasmtime")]
    pub fn wasmtime(config: WasmConfig) -> WasmLoader {
        WasmLoader {
            config,
            backend: Arc::new(crate::wasmtime_engine::Wasmtime::default()),
            counters: Arc::default(),
        }
    }

    /// The engine objects made and dropped so far.
    ///
    /// ```
    /// let loader = polyplug_wasm::WasmLoader::new(polyplug_wasm::WasmConfig::default());
    /// assert_eq!(loader.stats().modules_compiled, 0);
    /// ```
    pub fn stats(&self) -> WasmStats {
        self.stats_handle().get()
    }

    /// A handle on the counters that outlives moving the loader into a
    /// runtime.
    ///
    /// ```
    /// let loader = polyplug_wasm::WasmLoader::new(polyplug_wasm::WasmConfig::default());
    /// let handle = loader.stats_handle();
    /// # let _ = handle;
    /// ```
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle(Arc::clone(&self.counters))
    }
}

impl std::fmt::Debug for WasmLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmLoader")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The next load's generation: never reused, so a thread's cached
/// instance of a dropped load is never matched again ([W1]).
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// One wasm instance, counted.
struct Counted {
    running: Box<dyn Running>,
    counters: Arc<Counters>,
    live: Arc<AtomicU64>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        bump(&self.counters.instances_dropped);
        // Relaxed: a count checked against the budget under no ordering.
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One thread's wasm instance of one load. Only shared references to it
/// are ever made ([W1]): while a call runs, its instance is moved out to
/// the calling frame and `busy` is set, so a nested call on this thread
/// (through a host import that reaches a native contract that calls back)
/// finds it busy and fails instead of aliasing the running instance.
struct PerThread {
    /// Reached only through `run_on_thread`, while `busy` is set: one
    /// call at a time has it (\[W1\]).
    instance: UnsafeCell<Option<Counted>>,
    busy: Cell<bool>,
}

/// A `PerThread` owned by its load, reached by its thread through the
/// thread-local cache.
struct PerThreadPtr(*mut PerThread);

// SAFETY: [W1] the pointer is dereferenced only by the thread that made
// it, while the load is alive; the load (on whichever thread drops it)
// only frees it, after no call can run.
unsafe impl Send for PerThreadPtr {}

/// One compiled module, its functions, and its per-thread instances.
struct ModuleState {
    bundle: String,
    file: PathBuf,
    compiled: Arc<dyn Compiled>,
    /// Export names, by the index calls use.
    functions: Vec<String>,
    init: Option<usize>,
    /// `polyplug_alloc` and `polyplug_free`, for bytes in and out.
    allocator: Allocator,
    generation: u64,
    alive: Arc<()>,
    per_thread: Mutex<Vec<PerThreadPtr>>,
    live: Arc<AtomicU64>,
    budget: Budget,
    logger: Logger,
    contracts: Contracts,
    counters: Arc<Counters>,
}

impl Drop for ModuleState {
    fn drop(&mut self) {
        let slots = std::mem::take(
            &mut *self
                .per_thread
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for PerThreadPtr(slot) in slots {
            // SAFETY: [W1] from `Box::into_raw` in `thread_slot`, freed once,
            // here, by the load's last owner: no call can run.
            drop(unsafe { Box::from_raw(slot) });
        }
        bump(&self.counters.modules_dropped);
    }
}

thread_local! {
    /// This thread's instances: `(generation, slot, the load's liveness)`.
    static THREAD_SLOTS: RefCell<Vec<(u64, *mut PerThread, Weak<()>)>> =
        const { RefCell::new(Vec::new()) };
    /// The generation and slot this thread called last, one of
    /// `THREAD_SLOTS`: a thread calling one load again finds its slot
    /// without borrowing or searching the list. Generation 0 is no load's.
    static LAST_SLOT: Cell<(u64, *mut PerThread)> =
        const { Cell::new((0, std::ptr::null_mut())) };
}

/// Resets a per-thread instance's busy flag, also when a call unwinds.
struct Busy<'a>(&'a PerThread);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.busy.set(false);
    }
}

/// Drops a per-thread instance when a call unwinds out of it, as a failed
/// call's is; forgotten once the call returned.
struct DropOnUnwind(*mut Option<Counted>);

impl Drop for DropOnUnwind {
    fn drop(&mut self) {
        // SAFETY: [W1] from the cell while `busy` is set (cleared after);
        // the call's `&mut` has unwound: this is the only access.
        unsafe { *self.0 = None };
    }
}

impl ModuleState {
    /// A new wasm instance: linked, start function run, `polyplug_init`
    /// run, counted against the budget.
    fn instantiate(&self) -> Result<Counted, Failure> {
        // Relaxed: the budget is a bound, checked without ordering.
        let live = self.live.fetch_add(1, Ordering::Relaxed);
        if live >= self.budget.instances {
            self.live.fetch_sub(1, Ordering::Relaxed);
            return Err(Failure {
                code: ERR_BUDGET,
                what: format!(
                    "{live} wasm instances are live, the bundle's limit (limits.instances)"
                ),
            });
        }
        let running =
            match self
                .compiled
                .instantiate(&self.functions, &self.logger, &self.contracts)
            {
                Ok(running) => running,
                Err(failure) => {
                    self.live.fetch_sub(1, Ordering::Relaxed);
                    return Err(failure);
                }
            };
        bump(&self.counters.instances_made);
        let mut counted = Counted {
            running,
            counters: Arc::clone(&self.counters),
            live: Arc::clone(&self.live),
        };
        if let Some(init) = self.init {
            status(counted.running.call(init, &[]), guest::INIT_EXPORT)?;
        }
        Ok(counted)
    }

    /// This thread's slot for this load, made on first use.
    fn thread_slot(&self) -> Result<*mut PerThread, Failure> {
        // [W1] a generation is never reused: a match is this load's slot,
        // alive as long as the load is.
        let (generation, slot) = LAST_SLOT.get();
        if generation == self.generation {
            return Ok(slot);
        }
        let slot = self.find_thread_slot()?;
        LAST_SLOT.set((self.generation, slot));
        Ok(slot)
    }

    /// [`thread_slot`](ModuleState::thread_slot) through the thread's
    /// list.
    fn find_thread_slot(&self) -> Result<*mut PerThread, Failure> {
        THREAD_SLOTS.with(|slots| {
            let mut slots = slots.try_borrow_mut().map_err(|_| Failure {
                code: ERR_INTERNAL,
                what: "re-entrant call on this thread".to_owned(),
            })?;
            if let Some((_, slot, _)) = slots.iter().find(|(g, _, _)| *g == self.generation) {
                return Ok(*slot);
            }
            // Forget the slots of loads that are gone (their memory went
            // with the load, on the writer side).
            slots.retain(|(_, _, alive)| alive.strong_count() > 0);
            let slot = Box::into_raw(Box::new(PerThread {
                instance: UnsafeCell::new(None),
                busy: Cell::new(false),
            }));
            self.per_thread
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(PerThreadPtr(slot));
            slots.push((self.generation, slot, Arc::downgrade(&self.alive)));
            Ok(slot)
        })
    }

    /// Runs `f` on this thread's instance, making it on first use and
    /// replacing it after a failure.
    #[inline]
    fn run_on_thread<R>(
        &self,
        f: impl FnOnce(&mut dyn Running) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        let slot = self.thread_slot()?;
        // SAFETY: [W1] this thread's slot of a load the caller's guard
        // keeps alive; only this thread reaches it, by shared references.
        let per_thread: &PerThread = unsafe { &*slot };
        if per_thread.busy.replace(true) {
            return Err(Failure {
                code: ERR_INTERNAL,
                what: "re-entrant call into the same module on this thread (a host import reached a contract that called back into it)".to_owned(),
            });
        }
        let _busy = Busy(per_thread);
        let cell = per_thread.instance.get();
        let unwinding = DropOnUnwind(cell);
        // SAFETY: [W1] `busy` was clear and is set: no other reference to
        // the instance until `_busy` drops (a re-entrant call returned).
        let instance = unsafe { &mut *cell };
        let counted = match instance {
            Some(counted) => counted,
            None => instance.insert(self.instantiate()?),
        };
        let result = f(counted.running.as_mut());
        std::mem::forget(unwinding);
        // A trap may leave memory and globals half-updated: the next call
        // on this thread gets a fresh instance.
        if result.is_err() {
            *instance = None;
        }
        result
    }
}

/// A guest status code (`polyplug_init`, `+instance`): 0 or an error.
fn status(result: Result<Option<WasmValue>, Failure>, what: &str) -> Result<(), Failure> {
    match result? {
        Some(WasmValue::I32(0)) => Ok(()),
        Some(WasmValue::I32(code)) => Err(Failure {
            code: code.cast_unsigned(),
            what: format!("{what} returned {code}"),
        }),
        other => Err(Failure {
            code: ERR_INVALID,
            what: format!("{what} returned {other:?}, not an i32"),
        }),
    }
}

/// What the runtime keeps for one load.
#[derive(Debug)]
struct LoadedModule {
    _state: Arc<ModuleState>,
}

impl std::fmt::Debug for ModuleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleState")
            .field("bundle", &self.bundle)
            .field("file", &self.file)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl LoadedCode for LoadedModule {}

/// A stateful contract's instance: a wasm instance of its own.
struct StatefulInstance {
    instance: Option<Counted>,
    /// Why the instance is unusable: the trap that left it half-updated.
    poisoned: Option<String>,
}

/// One exported function of a contract.
pub(crate) struct WasmFn {
    /// Held, not weak: a call reads the load without a shared atomic write
    /// (no cache line bounced between calling threads). The function lives
    /// in the load's tables, which the store reclaims before the runtime
    /// drops the owner, so the owner's drop stays the last ([W2]).
    state: Arc<ModuleState>,
    index: usize,
    contract: String,
    name: String,
    signature: TypedSignature,
    /// The export's parameter types, for a function of numbers only
    /// (registered as a word function; one with bytes is a value one).
    params: Box<[WasmType]>,
}

fn to_wasm(value: &Value<'_>) -> Option<WasmValue> {
    Some(match *value {
        Value::U32(v) => WasmValue::I32(v.cast_signed()),
        Value::I32(v) => WasmValue::I32(v),
        Value::U64(v) => WasmValue::I64(v.cast_signed()),
        Value::I64(v) => WasmValue::I64(v),
        Value::F32(v) => WasmValue::F32(v),
        Value::F64(v) => WasmValue::F64(v),
        _ => return None,
    })
}

fn from_wasm(value: Option<WasmValue>, ty: Option<ValueType>) -> Option<Value<'static>> {
    Some(match (ty, value) {
        (None, None) => Value::Void,
        (Some(ValueType::U32), Some(WasmValue::I32(v))) => Value::U32(v.cast_unsigned()),
        (Some(ValueType::I32), Some(WasmValue::I32(v))) => Value::I32(v),
        (Some(ValueType::U64), Some(WasmValue::I64(v))) => Value::U64(v.cast_unsigned()),
        (Some(ValueType::I64), Some(WasmValue::I64(v))) => Value::I64(v),
        (Some(ValueType::F32), Some(WasmValue::F32(v))) => Value::F32(v),
        (Some(ValueType::F64), Some(WasmValue::F64(v))) => Value::F64(v),
        _ => return None,
    })
}

impl WasmFn {
    fn fault(&self, state: &ModuleState, failure: &Failure) -> Fault {
        let message = format!(
            "bundle {}: contract {}: function {}: {}",
            state.bundle, self.contract, self.name, failure.what
        );
        state.logger.log(LogLevel::Warn, &message);
        Fault::new(failure.code, message)
    }
}

impl WasmFn {
    /// One call whose arguments or result are bytes: each `str`/`bytes`
    /// argument copied in through `polyplug_alloc` as `(ptr, len)`, the
    /// export called, the copies released, a `string`/`buf` result copied
    /// out of its `ptr | (len << 32)`.
    fn call_bytes(
        &self,
        running: &mut dyn Running,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Failure> {
        let allocator = self.state.allocator;
        let mut wasm = Vec::with_capacity(guest::MAX_WASM_PARAMS);
        let mut given: Vec<Given> = Vec::new();
        for arg in args {
            let bytes = match arg {
                Value::Str(text) => text.as_bytes(),
                Value::Bytes(bytes) => bytes,
                other => {
                    wasm.push(to_wasm(other).ok_or_else(|| Failure {
                        code: ERR_BAD_ARGUMENT,
                        what: format!("{other:?} cannot cross into wasm"),
                    })?);
                    continue;
                }
            };
            let copy = allocator.give(running, bytes, "copying an argument in")?;
            given.push(copy);
            wasm.push(WasmValue::I32(copy.ptr));
            wasm.push(WasmValue::I32(copy.len));
        }
        let result = running.call(self.index, &wasm)?;
        // The result is copied out before the arguments are released: it
        // may lie in memory that releasing them reuses.
        let value = self.result(running, result)?;
        for copy in given {
            allocator.release(running, copy, "releasing an argument")?;
        }
        Ok(value)
    }

    /// The result of a call with bytes, copied out of guest memory.
    fn result(
        &self,
        running: &mut dyn Running,
        result: Option<WasmValue>,
    ) -> Result<Value<'static>, Failure> {
        let allocator = self.state.allocator;
        match self.signature.ret {
            Some(ValueType::String) => {
                let bytes = allocator.take(running, result, "the string result")?;
                String::from_utf8(bytes)
                    .map(Value::String)
                    .map_err(|_| Failure {
                        code: ERR_INVALID,
                        what: "returned a string that is not UTF-8".to_owned(),
                    })
            }
            Some(ValueType::Buf) => Ok(Value::Buf(allocator.take(
                running,
                result,
                "the buf result",
            )?)),
            ret => from_wasm(result, ret).ok_or_else(|| Failure {
                code: ERR_INTERNAL,
                what: format!("{result:?} does not fit {}", self.signature),
            }),
        }
    }

    /// Runs `f` on this thread's instance (a stateless call) or on the
    /// stateful instance's own, which a failure leaves unusable.
    #[inline]
    fn run<R>(
        &self,
        instance: Option<&mut EngineInstance>,
        f: impl FnOnce(&mut dyn Running) -> Result<R, Failure>,
    ) -> Result<R, Fault> {
        let state = &self.state;
        let result = match instance {
            None => state.run_on_thread(f),
            Some(instance) => {
                let counted = self.usable(instance)?;
                let result = f(counted.running.as_mut());
                if let Err(failure) = &result {
                    let stateful = instance.downcast_mut::<StatefulInstance>();
                    if let Some(stateful) = stateful {
                        stateful.poisoned = Some(failure.what.clone());
                        stateful.instance = None;
                    }
                }
                result
            }
        };
        result.map_err(|failure| self.fault(state, &failure))
    }

    /// A stateful instance's wasm instance, unless an earlier trap made it
    /// unusable.
    fn usable<'i>(&self, instance: &'i mut EngineInstance) -> Result<&'i mut Counted, Fault> {
        let Some(stateful) = instance.downcast_mut::<StatefulInstance>() else {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                "not an instance of this contract",
            ));
        };
        if let Some(why) = &stateful.poisoned {
            return Err(Fault::new(
                ERR_TRAP,
                format!(
                    "bundle {}: contract {}: function {}: the instance is unusable after an earlier trap ({why}); create a new instance",
                    self.state.bundle, self.contract, self.name
                ),
            ));
        }
        stateful
            .instance
            .as_mut()
            .ok_or_else(|| Fault::new(ERR_INTERNAL, "instance already released"))
    }
}

/// A function with bytes (`str`, `bytes`, `string`, `buf`): its numbers
/// and copies cross as values.
impl EngineFn for WasmFn {
    fn call(
        &self,
        instance: Option<&mut EngineInstance>,
        args: &[Value<'_>],
    ) -> Result<Value<'static>, Fault> {
        self.run(instance, |running| self.call_bytes(running, args))
    }
}

/// A function of numbers only: one word per argument, straight to the
/// engine's typed call, no value made ([`Running::call_words`]).
impl WordFn for WasmFn {
    fn call(&self, instance: Option<&mut EngineInstance>, args: &[u64]) -> Result<u64, Fault> {
        self.run(instance, |running| {
            running.call_words(self.index, args, &self.params)
        })
    }
}

/// A function of numbers only whose export has a typed call on backend
/// `B`, of shape `(P, R)`: its arguments are read straight from the
/// caller's struct ([`PackedFn`]) and go to the backend's typed call with
/// no word array and no trait object on the way but the instance's.
struct WasmTyped<B, P, R> {
    func: WasmFn,
    shape: PhantomData<fn(B, P) -> R>,
}

impl<B, P, R> PackedFn for WasmTyped<B, P, R>
where
    B: TypedExport<P, R>,
    P: PackedArgs,
    R: PackedRet,
{
    type Args = P;
    type Ret = R;

    #[inline]
    fn call(&self, instance: Option<&mut EngineInstance>, args: P) -> Result<R, Fault> {
        self.func
            .run(instance, |running| B::call(running, self.func.index, args))
    }
}

/// Registers `func` on `engine` as a [`WasmTyped`] of backend `B`
/// ([`crate::backend::AddTyped`]).
pub(crate) fn add_typed<B, P, R>(
    engine: EngineContract,
    name: String,
    spelling: String,
    func: WasmFn,
) -> EngineContract
where
    B: TypedExport<P, R>,
    P: PackedArgs,
    R: PackedRet,
{
    let typed = WasmTyped::<B, P, R> {
        func,
        shape: PhantomData,
    };
    engine.packed_function(name, spelling, Arc::new(typed))
}

/// Makes the wasm instances of one stateful contract.
struct WasmInstances {
    state: Weak<ModuleState>,
    constructor: usize,
    contract: String,
    /// `+save` and `+restore`, when the contract offers a handover.
    handover: Option<(usize, usize)>,
}

impl WasmInstances {
    fn state(&self) -> Result<Arc<ModuleState>, Fault> {
        self.state
            .upgrade()
            .ok_or_else(|| Fault::new(ERR_INTERNAL, "the module was unloaded"))
    }

    /// A fault of `step` (`making an instance`, `save`, `restore`).
    fn fault(&self, state: &ModuleState, step: &str, failure: &Failure) -> Fault {
        let message = format!(
            "bundle {}: contract {}: {step}: {}",
            state.bundle, self.contract, failure.what
        );
        if step != "making an instance" {
            state.logger.log(LogLevel::Warn, &message);
        }
        Fault::new(failure.code, message)
    }

    fn no_handover(&self) -> Fault {
        Fault::new(
            polyplug_abi::ERR_UNSUPPORTED,
            format!(
                "contract {} exports no {} and {}",
                self.contract,
                guest::SAVE_FUNCTION,
                guest::RESTORE_FUNCTION
            ),
        )
    }
}

impl EngineInstances for WasmInstances {
    fn create(&self) -> Result<EngineInstance, Fault> {
        let state = self.state()?;
        let step = "making an instance";
        let mut counted = state
            .instantiate()
            .map_err(|f| self.fault(&state, step, &f))?;
        let constructor = format!("{}/{}", self.contract, guest::INSTANCE_FUNCTION);
        status(counted.running.call(self.constructor, &[]), &constructor)
            .map_err(|f| self.fault(&state, step, &f))?;
        Ok(Box::new(StatefulInstance {
            instance: Some(counted),
            poisoned: None,
        }))
    }

    fn handover(&self) -> bool {
        self.handover.is_some()
    }

    /// Runs `+save` on the instance's own wasm instance. A failed save
    /// leaves the instance serving: save only reads its state.
    fn save(&self, instance: &mut EngineInstance) -> Result<Vec<u8>, Fault> {
        let Some((save, _)) = self.handover else {
            return Err(self.no_handover());
        };
        let state = self.state()?;
        let Some(stateful) = instance.downcast_mut::<StatefulInstance>() else {
            return Err(Fault::new(
                ERR_BAD_ARGUMENT,
                "not an instance of this contract",
            ));
        };
        if let Some(why) = &stateful.poisoned {
            return Err(Fault::new(
                ERR_TRAP,
                format!(
                    "bundle {}: contract {}: save: the instance is unusable after an earlier trap ({why})",
                    state.bundle, self.contract
                ),
            ));
        }
        let Some(counted) = stateful.instance.as_mut() else {
            return Err(Fault::new(ERR_INTERNAL, "instance already released"));
        };
        let what = export_name(&state, save);
        let running = counted.running.as_mut();
        running
            .call(save, &[])
            .and_then(|result| state.allocator.take(running, result, &what))
            .map_err(|f| self.fault(&state, "save", &f))
    }

    /// A fresh wasm instance, counted against `limits.instances` as
    /// `create`'s, with `state` copied in and `+restore` run on it in
    /// place of `+instance`.
    fn restore(&self, saved: &[u8]) -> Result<EngineInstance, Fault> {
        let Some((_, restore)) = self.handover else {
            return Err(self.no_handover());
        };
        let state = self.state()?;
        let fault = |f: Failure| self.fault(&state, "restore", &f);
        let mut counted = state.instantiate().map_err(fault)?;
        let what = export_name(&state, restore);
        let running = counted.running.as_mut();
        let given = state.allocator.give(running, saved, &what).map_err(fault)?;
        status(
            running.call(
                restore,
                &[WasmValue::I32(given.ptr), WasmValue::I32(given.len)],
            ),
            &what,
        )
        .map_err(fault)?;
        state
            .allocator
            .release(running, given, &what)
            .map_err(fault)?;
        Ok(Box::new(StatefulInstance {
            instance: Some(counted),
            poisoned: None,
        }))
    }
}

/// The export called by `index`, for messages.
fn export_name(state: &ModuleState, index: usize) -> String {
    state.functions.get(index).cloned().unwrap_or_default()
}

/// A contract as the module's exports declare it.
#[derive(Default)]
struct Declared {
    version: Option<Version>,
    functions: Vec<(String, TypedSignature, usize)>,
    constructor: Option<usize>,
    save: Option<(usize, String)>,
    restore: Option<(usize, String)>,
}

fn export_field(name: &str) -> String {
    format!("export {name:?}")
}

impl Loader for WasmLoader {
    fn kind(&self) -> &'static str {
        "wasm"
    }

    fn load(
        &self,
        code: &CodeSource<'_>,
        registrar: &mut Registrar<'_>,
    ) -> Result<Box<dyn LoadedCode>, CodeError> {
        let file = code.path().to_owned();
        let budget = Budget::of(code, &self.config.defaults, &self.config.ceiling);
        if !code.bytes().starts_with(b"\0asm") {
            return Err(CodeError::new(
                &file,
                "module",
                "not a WebAssembly module: expected the magic bytes \\0asm",
            ));
        }
        let compiled = self
            .backend
            .compile(&code.shared_bytes(), &budget)
            .map_err(|f| CodeError::new(&file, "module", f.what).with_code(f.code))?;
        bump(&self.counters.modules_compiled);
        // From here on the module is counted: a failure drops it as a load
        // would.
        let state_builder = |functions: Vec<String>, init: Option<usize>, allocator| ModuleState {
            bundle: code.name().to_owned(),
            file: file.clone(),
            compiled: Arc::clone(&compiled),
            functions,
            init,
            allocator,
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            alive: Arc::new(()),
            per_thread: Mutex::new(Vec::new()),
            live: Arc::new(AtomicU64::new(0)),
            budget,
            logger: registrar.logger(),
            contracts: registrar.contracts(),
            counters: Arc::clone(&self.counters),
        };
        let checked = check_module(&file, compiled.as_ref());
        let Checked {
            contracts: declared,
            functions,
            init,
            allocator,
        } = match checked {
            Ok(checked) => checked,
            Err(error) => {
                drop(state_builder(Vec::new(), None, Allocator::default()));
                return Err(error);
            }
        };
        let state = Arc::new(state_builder(functions, init, allocator));
        // One instance at load: the start function and polyplug_init run
        // here, so a module that traps or loops in them is refused now.
        if let Err(failure) = state.instantiate() {
            let field = match failure.code {
                ERR_BUDGET if failure.what.contains("fuel") => "limits.fuel",
                ERR_BUDGET => "limits.memory_pages",
                _ if failure.what.starts_with(guest::INIT_EXPORT) => guest::INIT_EXPORT,
                _ => "start",
            };
            return Err(CodeError::new(
                &file,
                field,
                format!("instantiating the module: {}", failure.what),
            )
            .with_code(failure.code));
        }
        for (contract, declared) in declared {
            let Some(version) = declared.version else {
                continue;
            };
            let mut engine = EngineContract::new(contract.clone(), version);
            for (name, signature, index) in declared.functions {
                let spelling = signature.to_string();
                let bytes = signature
                    .args
                    .iter()
                    .chain(signature.ret.as_ref())
                    .any(|ty| guest::is_bytes(*ty));
                let params: Box<[WasmType]> = signature
                    .args
                    .iter()
                    .map(|ty| guest::wasm_type(*ty).unwrap_or(WasmType::Other))
                    .collect();
                let results: Vec<WasmType> = signature
                    .ret
                    .iter()
                    .filter_map(|ty| guest::wasm_type(*ty))
                    .collect();
                let typed = if bytes {
                    None
                } else {
                    state
                        .compiled
                        .typed(&params, &results, &signature.args, signature.ret)
                };
                let func = WasmFn {
                    state: Arc::clone(&state),
                    index,
                    contract: contract.clone(),
                    name: name.clone(),
                    signature,
                    params,
                };
                engine = match typed {
                    Some(add) => add(engine, name, spelling, func),
                    None if bytes => engine.function(name, spelling, Arc::new(func)),
                    None => engine.word_function(name, spelling, Arc::new(func)),
                };
            }
            if let Some(constructor) = declared.constructor {
                engine = engine.stateful(Arc::new(WasmInstances {
                    state: Arc::downgrade(&state),
                    constructor,
                    contract: contract.clone(),
                    handover: declared.save.zip(declared.restore).map(|(s, r)| (s.0, r.0)),
                }));
            }
            registrar
                .register(engine)
                .map_err(|refused| refused.into_code_error().in_contract(contract))?;
        }
        Ok(Box::new(LoadedModule { _state: state }))
    }
}

/// What the checks found in a module.
struct Checked {
    contracts: BTreeMap<String, Declared>,
    /// Export names, by the index calls use.
    functions: Vec<String>,
    /// `polyplug_init`'s index.
    init: Option<usize>,
    allocator: Allocator,
}

/// Checks imports and exports against the guest ABI.
fn check_module(file: &std::path::Path, compiled: &dyn Compiled) -> Result<Checked, CodeError> {
    let func = |params: &[WasmType], results: &[WasmType]| Item::Func {
        params: params.to_vec(),
        results: results.to_vec(),
    };
    use WasmType::{I32, I64};
    let provided = [
        (LOG_IMPORT, func(&[I32, I32, I32], &[])),
        (FIND_IMPORT, func(&[I32, I32, I32, I32], &[I64])),
        (
            CALL_IMPORT,
            func(&[I64, I32, I32, I32, I32, I32, I32], &[I32]),
        ),
    ];
    for (module, name, item) in compiled.imports() {
        let known = provided
            .iter()
            .find(|(n, _)| module == HOST_MODULE && *n == name);
        match known {
            Some((_, expected)) if *expected == item => {}
            Some((_, expected)) => {
                return Err(CodeError::new(
                    file,
                    format!("import {module}.{name}"),
                    format!("expected {expected:?}, found {item:?}"),
                ));
            }
            None => {
                return Err(CodeError::new(
                    file,
                    format!("import {module}.{name}"),
                    format!(
                        "the host provides only {HOST_MODULE}.{LOG_IMPORT}, {HOST_MODULE}.{FIND_IMPORT} and {HOST_MODULE}.{CALL_IMPORT}; found {item:?}"
                    ),
                ));
            }
        }
    }
    let status_type = Item::Func {
        params: Vec::new(),
        results: vec![WasmType::I32],
    };
    let mut contracts: BTreeMap<String, Declared> = BTreeMap::new();
    let mut functions = Vec::new();
    let mut init = None;
    let mut allocator = Allocator::default();
    // The first export that needs `polyplug_alloc`, for the message.
    let mut needs_alloc: Option<(String, String)> = None;
    for (name, item) in compiled.exports() {
        let allocator_export = [
            (
                guest::ALLOC_EXPORT,
                func(&[I32, I32], &[I32]),
                &mut allocator.alloc,
            ),
            (
                guest::FREE_EXPORT,
                func(&[I32, I32, I32], &[]),
                &mut allocator.free,
            ),
        ]
        .into_iter()
        .find(|(export, _, _)| *export == name);
        if let Some((_, expected, index)) = allocator_export {
            if item != expected {
                let Item::Func { params, results } = &expected else {
                    continue;
                };
                return Err(CodeError::new(
                    file,
                    export_field(&name),
                    format!("expected {}, found {item:?}", guest::spell(params, results)),
                ));
            }
            *index = Some(functions.len());
            functions.push(name);
            continue;
        }
        if name == guest::INIT_EXPORT {
            if item != status_type {
                return Err(CodeError::new(
                    file,
                    export_field(&name),
                    format!("expected () -> (i32), found {item:?}"),
                ));
            }
            init = Some(functions.len());
            functions.push(name);
            continue;
        }
        let Some(parsed) = guest::parse_export(&name) else {
            continue;
        };
        let ContractExport {
            contract,
            version,
            kind,
        } = parsed.map_err(|problem| {
            let contract = name.split('@').next().unwrap_or_default().to_owned();
            CodeError::new(file, export_field(&name), problem).in_contract(contract)
        })?;
        let in_contract = |problem: String| {
            CodeError::new(file, export_field(&name), problem).in_contract(contract.clone())
        };
        let entry = contracts.entry(contract.clone()).or_default();
        if let Some(seen) = entry.version
            && seen != version
        {
            return Err(in_contract(format!(
                "the module exports contract {contract} at {seen} and at {version}; one version per module"
            )));
        }
        entry.version = Some(version);
        match kind {
            ExportKind::Instance => {
                if item != status_type {
                    return Err(in_contract(format!(
                        "expected () -> (i32) for an instance constructor, found {item:?}"
                    )));
                }
                entry.constructor = Some(functions.len());
            }
            ExportKind::Save => {
                if item != func(&[], &[I64]) {
                    return Err(in_contract(format!(
                        "expected () -> (i64) for a state save, found {item:?}"
                    )));
                }
                entry.save = Some((functions.len(), name.clone()));
            }
            ExportKind::Restore => {
                if item != func(&[I32, I32], &[I32]) {
                    return Err(in_contract(format!(
                        "expected (i32, i32) -> (i32) for a state restore, found {item:?}"
                    )));
                }
                entry.restore = Some((functions.len(), name.clone()));
                needs_alloc.get_or_insert_with(|| (contract.clone(), name.clone()));
            }
            ExportKind::Function {
                name: fname,
                signature,
            } => {
                let params: Vec<WasmType> = signature
                    .args
                    .iter()
                    .filter_map(|t| guest::wasm_params(*t))
                    .flatten()
                    .copied()
                    .collect();
                let results: Vec<WasmType> = signature
                    .ret
                    .iter()
                    .filter_map(|t| guest::wasm_result(*t))
                    .collect();
                if params.len() > guest::MAX_WASM_PARAMS {
                    return Err(in_contract(format!(
                        "signature {signature} takes {} wasm parameters (str and bytes take two each), more than {}",
                        params.len(),
                        guest::MAX_WASM_PARAMS
                    )));
                }
                if signature
                    .args
                    .iter()
                    .any(|t| matches!(t, ValueType::Str | ValueType::Bytes))
                {
                    needs_alloc.get_or_insert_with(|| (contract.clone(), name.clone()));
                }
                let expected = Item::Func {
                    params: params.clone(),
                    results: results.clone(),
                };
                if item != expected {
                    let found = match &item {
                        Item::Func { params, results } => guest::spell(params, results),
                        Item::Other(kind) => format!("a {kind}"),
                    };
                    return Err(in_contract(format!(
                        "expected {} for signature {signature}, found {found}",
                        guest::spell(&params, &results)
                    )));
                }
                entry.functions.push((fname, signature, functions.len()));
            }
        }
        functions.push(name);
    }
    for (contract, declared) in &contracts {
        let in_contract = |export: &str, problem: String| {
            CodeError::new(file, export_field(export), problem).in_contract(contract.clone())
        };
        match (&declared.save, &declared.restore) {
            (Some((_, export)), None) => {
                return Err(in_contract(
                    export,
                    format!(
                        "a state save without {contract}@.../{}: export both or neither",
                        guest::RESTORE_FUNCTION
                    ),
                ));
            }
            (None, Some((_, export))) => {
                return Err(in_contract(
                    export,
                    format!(
                        "a state restore without {contract}@.../{}: export both or neither",
                        guest::SAVE_FUNCTION
                    ),
                ));
            }
            (Some((_, export)), Some(_)) if declared.constructor.is_none() => {
                return Err(in_contract(
                    export,
                    format!(
                        "a state handover needs a stateful contract: export {contract}@.../{} too",
                        guest::INSTANCE_FUNCTION
                    ),
                ));
            }
            _ => {}
        }
    }
    if allocator.alloc.is_none()
        && let Some((contract, export)) = needs_alloc
    {
        return Err(CodeError::new(
            file,
            export_field(&export),
            format!(
                "bytes are copied into the module for this export: export {}(size: i32, align: i32) -> i32 too",
                guest::ALLOC_EXPORT
            ),
        )
        .in_contract(contract));
    }
    Ok(Checked {
        contracts,
        functions,
        init,
        allocator,
    })
}
