//! The wasmi engine: a pure-Rust interpreter with deterministic fuel.
//!
//! # One engine per live instance
//!
//! A wasmi `Engine` hands every call a value stack from a pool behind a
//! spin lock, taken twice per call. Instances that share an engine so
//! contend on every call: in the bench arm `wasm_scaling/wasmi/2`, two
//! threads calling one module through instances of one engine take about
//! 217 ns a call each, against 71 ns for one thread alone; instances on
//! engines of their own run as fast as one thread alone.
//!
//! So no two live instances of a compiled module share an engine. Each
//! instance takes a spare engine of the module, with the module compiled
//! on it, and gives it back when it is dropped; with no spare at hand it
//! compiles the module again on a new engine. A load compiles once (its
//! first instance, at load, takes that engine, and gives it back for the
//! first calling thread) and once more for each further instance alive at
//! the same time, so a module has at most as many engines as it had
//! instances alive at once (`limits.instances` per load). The spares are
//! kept behind a lock that is only ever tried: a thread that finds it
//! taken compiles a new engine, or drops its own, and never waits.

use std::any::Any;
use std::sync::{Arc, Mutex};

use polyplug::loader::{Contracts, Fault, Logger, PackedArgs, PackedRet, ValueType};
use polyplug_abi::{ERR_BUDGET, ERR_INVALID, ERR_TRAP};
use wasmi::errors::ErrorKind;
use wasmi::{
    Caller, Config, Engine, Extern, ExternType, Func, Linker, Module, Store, StoreLimits,
    StoreLimitsBuilder, TrapCode, TypedFunc, Val, ValType, WasmParams, WasmResults,
};

use crate::backend::{
    AddTyped, Backend, Compiled, Failure, Item, Running, TypedExport, WasmValue,
    call_words_dynamic, copy_out, not_typed, typed_export, typed_for,
};
use crate::budget::{Budget, PAGE_BYTES};
use crate::guest::WasmType;
use crate::imports::{self, CALL_IMPORT, FIND_IMPORT, Guest, HOST_MODULE, LOG_IMPORT, Memory};
use crate::typed::{self, Args, Ret, by_shape};

/// wasmi, configured per load from the bundle's budget.
#[derive(Debug, Default)]
pub(crate) struct Wasmi;

struct WasmiModule {
    /// The module as first compiled, whose imports and exports the loader
    /// reads.
    module: Module,
    budget: Budget,
    /// What to compile again for an engine of its own.
    bytes: Arc<[u8]>,
    /// Engines that no live instance runs on.
    spare: Arc<Spare>,
}

/// A module compiled on an engine of its own.
struct OnEngine {
    engine: Engine,
    module: Module,
}

/// The spare engines of one compiled module (see the module's docs).
#[derive(Default)]
struct Spare(Mutex<Vec<OnEngine>>);

impl Spare {
    /// A spare engine, if there is one and the lock is free now.
    fn take(&self) -> Option<OnEngine> {
        self.0.try_lock().ok()?.pop()
    }

    /// Keeps `engine` for the next instance, if the lock is free now;
    /// else drops it.
    fn give(&self, engine: OnEngine) {
        if let Ok(mut spare) = self.0.try_lock() {
            spare.push(engine);
        }
    }
}

/// wasmi's settings for `budget`.
fn config(budget: &Budget) -> Config {
    let mut config = Config::default();
    config.consume_fuel(true);
    config.set_max_recursion_depth(usize::try_from(budget.recursion_depth).unwrap_or(usize::MAX));
    config
}

/// `bytes` compiled under `budget` on a new engine.
fn compile(bytes: &[u8], budget: &Budget) -> Result<OnEngine, Failure> {
    let engine = Engine::new(&config(budget));
    let module = Module::new(&engine, bytes).map_err(|e| Failure {
        code: ERR_INVALID,
        what: e.to_string(),
    })?;
    Ok(OnEngine { engine, module })
}

/// An export of an instance: its `TypedFunc` when its shape has a typed
/// path ([`crate::typed`]), else the function and its number of results.
enum Export {
    Typed(Box<dyn TypedCall>),
    Dynamic { func: Func, results: usize },
}

/// A `TypedFunc` of some shape, called with the loader's values; `Any`,
/// for [`TypedExport`] to downcast.
trait TypedCall: Any + Send {
    fn call(
        &self,
        store: &mut Store<HostState>,
        args: &[WasmValue],
    ) -> Result<Option<WasmValue>, Failure>;

    /// The call with one word per parameter, the result as a word.
    fn call_words(&self, store: &mut Store<HostState>, args: &[u64]) -> Result<u64, Failure>;
}

impl<P, R> TypedCall for TypedFunc<P, R>
where
    P: Args + WasmParams + 'static,
    R: Ret + WasmResults + 'static,
{
    fn call(
        &self,
        store: &mut Store<HostState>,
        args: &[WasmValue],
    ) -> Result<Option<WasmValue>, Failure> {
        typed::with_args(args, |params| {
            TypedFunc::call(self, store, params).map_err(|e| failure(&e))
        })
    }

    #[inline]
    fn call_words(&self, store: &mut Store<HostState>, args: &[u64]) -> Result<u64, Failure> {
        typed::with_words(args, |params| {
            TypedFunc::call(self, store, params).map_err(|e| failure(&e))
        })
    }
}

// The typed call of this backend's exports ([`TypedExport`]) and the
// registration of an export as one ([`Compiled::typed`]).
typed_export!(Wasmi, WasmiInstance);

/// `func` as a `TypedFunc<P, R>`, boxed for [`Export::Typed`].
fn typed<P, R>(func: Func, store: &Store<HostState>) -> Option<Box<dyn TypedCall>>
where
    P: Args + WasmParams + 'static,
    R: Ret + WasmResults + 'static,
{
    let typed = func.typed::<P, R>(store).ok()?;
    Some(Box::new(typed))
}

struct HostState {
    limits: StoreLimits,
    logger: Logger,
    contracts: Contracts,
}

struct WasmiInstance {
    store: Store<HostState>,
    exports: Vec<Export>,
    fuel: u64,
    /// The exported `memory`, for the host's copies in and out.
    memory: Option<wasmi::Memory>,
    /// The engine this instance alone runs on, given back to `spare`
    /// when the instance is dropped.
    home: Option<(OnEngine, Arc<Spare>)>,
}

impl Drop for WasmiInstance {
    fn drop(&mut self) {
        if let Some((engine, spare)) = self.home.take() {
            spare.give(engine);
        }
    }
}

fn wasm_type(ty: &ValType) -> WasmType {
    match ty {
        ValType::I32 => WasmType::I32,
        ValType::I64 => WasmType::I64,
        ValType::F32 => WasmType::F32,
        ValType::F64 => WasmType::F64,
        _ => WasmType::Other,
    }
}

fn item(ty: &ExternType) -> Item {
    match ty {
        ExternType::Func(f) => Item::Func {
            params: f.params().iter().map(wasm_type).collect(),
            results: f.results().iter().map(wasm_type).collect(),
        },
        ExternType::Memory(_) => Item::Other("memory"),
        ExternType::Table(_) => Item::Other("table"),
        ExternType::Global(_) => Item::Other("global"),
    }
}

/// Classifies a wasmi error: a budget (fuel, memory or table growth past
/// the limit) or a trap, with wasmi's words and trap code.
fn failure(error: &wasmi::Error) -> Failure {
    let code = match error.kind() {
        ErrorKind::TrapCode(TrapCode::OutOfFuel | TrapCode::GrowthOperationLimited)
        | ErrorKind::Memory(_)
        | ErrorKind::Table(_)
        | ErrorKind::Fuel(_) => ERR_BUDGET,
        // Instantiation refused by the store's limiter: memory or tables
        // past the budget.
        _ if error.to_string().contains("resource limiter") => ERR_BUDGET,
        _ => ERR_TRAP,
    };
    let what = match error.as_trap_code() {
        Some(trap) => format!("{error} (trap code {trap:?})"),
        None => error.to_string(),
    };
    Failure { code, what }
}

impl Backend for Wasmi {
    fn compile(&self, bytes: &Arc<[u8]>, budget: &Budget) -> Result<Arc<dyn Compiled>, Failure> {
        let first = compile(bytes, budget)?;
        let module = first.module.clone();
        let spare = Arc::new(Spare::default());
        spare.give(first);
        Ok(Arc::new(WasmiModule {
            module,
            budget: *budget,
            bytes: Arc::clone(bytes),
            spare,
        }))
    }
}

/// The instance calling a host import, as [`imports`] sees it.
struct Calling<'a, 'c>(&'a mut Caller<'c, HostState>);

fn memory(caller: &Caller<'_, HostState>) -> Result<wasmi::Memory, Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => Err(Memory::Missing),
    }
}

impl Guest for Calling<'_, '_> {
    fn logger(&self) -> &Logger {
        &self.0.data().logger
    }

    fn contracts(&self) -> &Contracts {
        &self.0.data().contracts
    }

    fn read(&mut self, offset: usize, buf: &mut [u8]) -> Result<(), Memory> {
        memory(self.0)?
            .read(&*self.0, offset, buf)
            .map_err(|_| Memory::OutOfBounds)
    }

    fn write(&mut self, offset: usize, bytes: &[u8]) -> Result<(), Memory> {
        memory(self.0)?
            .write(&mut *self.0, offset, bytes)
            .map_err(|_| Memory::OutOfBounds)
    }

    fn alloc(&mut self, len: u32) -> Option<Result<i32, Fault>> {
        let alloc = self
            .0
            .get_export(crate::guest::ALLOC_EXPORT)
            .and_then(Extern::into_func)?;
        let mut out = [Val::I32(0)];
        Some(
            alloc
                .call(
                    &mut *self.0,
                    &[Val::I32(len.cast_signed()), Val::I32(1)],
                    &mut out,
                )
                .map_err(|e| Fault::new(failure(&e).code, format!("polyplug_alloc: {e}")))
                .and_then(|()| match out[0] {
                    Val::I32(ptr) => Ok(ptr),
                    _ => Err(imports::alloc_returned_nothing()),
                }),
        )
    }
}

impl WasmiModule {
    /// An engine for a new instance: a spare one, or a new one.
    fn home(&self) -> Result<OnEngine, Failure> {
        match self.spare.take() {
            Some(home) => Ok(home),
            None => compile(&self.bytes, &self.budget),
        }
    }
}

impl Compiled for WasmiModule {
    fn typed(
        &self,
        params: &[WasmType],
        results: &[WasmType],
        args: &[ValueType],
        ret: Option<ValueType>,
    ) -> Option<AddTyped> {
        by_shape!(params, results, typed_export(args, ret))
    }

    fn imports(&self) -> Vec<(String, String, Item)> {
        self.module
            .imports()
            .map(|i| (i.module().to_owned(), i.name().to_owned(), item(i.ty())))
            .collect()
    }

    fn exports(&self) -> Vec<(String, Item)> {
        self.module
            .exports()
            .map(|e| (e.name().to_owned(), item(e.ty())))
            .collect()
    }

    fn instantiate(
        &self,
        functions: &[String],
        logger: &Logger,
        contracts: &Contracts,
    ) -> Result<Box<dyn Running>, Failure> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(
                usize::try_from(self.budget.memory_pages.saturating_mul(PAGE_BYTES))
                    .unwrap_or(usize::MAX),
            )
            .table_elements(usize::try_from(self.budget.table_elements).unwrap_or(usize::MAX))
            .instances(1)
            .trap_on_grow_failure(true)
            .build();
        let home = self.home()?;
        let mut store = Store::new(
            &home.engine,
            HostState {
                limits,
                logger: logger.clone(),
                contracts: contracts.clone(),
            },
        );
        store.limiter(|state| &mut state.limits);
        store.set_fuel(self.budget.fuel).map_err(|e| failure(&e))?;
        let mut linker = Linker::<HostState>::new(&home.engine);
        linker
            .func_wrap(
                HOST_MODULE,
                LOG_IMPORT,
                |mut caller: Caller<'_, HostState>, level: i32, ptr: i32, len: i32| {
                    imports::log(&mut Calling(&mut caller), level, ptr, len);
                },
            )
            .and_then(|l| {
                l.func_wrap(
                    HOST_MODULE,
                    FIND_IMPORT,
                    |mut caller: Caller<'_, HostState>,
                     ptr: i32,
                     len: i32,
                     major: i32,
                     minor: i32| {
                        imports::find(&mut Calling(&mut caller), ptr, len, major, minor)
                    },
                )
            })
            .and_then(|l| {
                l.func_wrap(
                    HOST_MODULE,
                    CALL_IMPORT,
                    |mut caller: Caller<'_, HostState>,
                     handle: i64,
                     fn_ptr: i32,
                     fn_len: i32,
                     sig_ptr: i32,
                     sig_len: i32,
                     args_ptr: i32,
                     out_ptr: i32| {
                        imports::call(
                            &mut Calling(&mut caller),
                            handle,
                            (fn_ptr, fn_len, sig_ptr, sig_len),
                            args_ptr,
                            out_ptr,
                        )
                    },
                )
            })
            .map_err(|e| Failure {
                code: ERR_INVALID,
                what: e.to_string(),
            })?;
        let instance = linker
            .instantiate_and_start(&mut store, &home.module)
            .map_err(|e| failure(&e))?;
        let mut exports = Vec::with_capacity(functions.len());
        for name in functions {
            let func = instance.get_func(&store, name).ok_or_else(|| Failure {
                code: ERR_INVALID,
                what: format!("no exported function {name}"),
            })?;
            // Resolved once here: a call neither looks up nor checks the
            // function's type.
            let ty = func.ty(&store);
            let params: Vec<WasmType> = ty.params().iter().map(wasm_type).collect();
            let results: Vec<WasmType> = ty.results().iter().map(wasm_type).collect();
            exports.push(
                match by_shape!(params.as_slice(), results.as_slice(), typed(func, &store)) {
                    Some(typed) => Export::Typed(typed),
                    None => Export::Dynamic {
                        func,
                        results: results.len(),
                    },
                },
            );
        }
        let memory = instance.get_memory(&store, "memory");
        Ok(Box::new(WasmiInstance {
            store,
            exports,
            fuel: self.budget.fuel,
            memory,
            home: Some((home, Arc::clone(&self.spare))),
        }))
    }
}

fn to_val(value: WasmValue) -> Val {
    match value {
        WasmValue::I32(v) => Val::I32(v),
        WasmValue::I64(v) => Val::I64(v),
        WasmValue::F32(v) => Val::F32(v.into()),
        WasmValue::F64(v) => Val::F64(v.into()),
    }
}

fn from_val(value: &Val) -> Option<WasmValue> {
    match value {
        Val::I32(v) => Some(WasmValue::I32(*v)),
        Val::I64(v) => Some(WasmValue::I64(*v)),
        Val::F32(v) => Some(WasmValue::F32(f32::from(*v))),
        Val::F64(v) => Some(WasmValue::F64(f64::from(*v))),
        _ => None,
    }
}

impl Running for WasmiInstance {
    fn call_words(
        &mut self,
        index: usize,
        args: &[u64],
        params: &[WasmType],
    ) -> Result<u64, Failure> {
        match self.exports.get(index) {
            Some(Export::Typed(typed)) => {
                // Every call starts with the budget's fuel.
                self.store.set_fuel(self.fuel).map_err(|e| failure(&e))?;
                typed.call_words(&mut self.store, args)
            }
            _ => call_words_dynamic(self, index, args, params),
        }
    }

    fn call(&mut self, index: usize, args: &[WasmValue]) -> Result<Option<WasmValue>, Failure> {
        let Some(export) = self.exports.get(index) else {
            return Err(Failure {
                code: ERR_INVALID,
                what: format!("no function #{index}"),
            });
        };
        // Every call starts with the budget's fuel, whichever path it takes.
        self.store.set_fuel(self.fuel).map_err(|e| failure(&e))?;
        let (func, results) = match export {
            Export::Typed(typed) => return typed.call(&mut self.store, args),
            Export::Dynamic { func, results } => (*func, *results),
        };
        let mut inputs = [
            Val::I32(0),
            Val::I32(0),
            Val::I32(0),
            Val::I32(0),
            Val::I32(0),
            Val::I32(0),
        ];
        let count = args.len().min(inputs.len());
        for (slot, arg) in inputs.iter_mut().zip(args) {
            *slot = to_val(*arg);
        }
        let mut outputs = [Val::I32(0)];
        let outputs = &mut outputs[..results.min(1)];
        func.call(&mut self.store, &inputs[..count], outputs)
            .map_err(|e| failure(&e))?;
        Ok(outputs.first().and_then(from_val))
    }

    fn read(&mut self, offset: usize, len: usize) -> Result<Vec<u8>, Memory> {
        let memory = self.memory.ok_or(Memory::Missing)?;
        copy_out(memory.data(&self.store), offset, len)
    }

    fn write(&mut self, offset: usize, bytes: &[u8]) -> Result<(), Memory> {
        let memory = self.memory.ok_or(Memory::Missing)?;
        memory
            .write(&mut self.store, offset, bytes)
            .map_err(|_| Memory::OutOfBounds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module exporting `inc`, in binary: no text format in this crate.
    const INC: &[u8] = &[
        0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, // magic, version
        1, 6, 1, 0x60, 1, 0x7f, 1, 0x7f, // type (i32) -> i32
        3, 2, 1, 0, // one function of that type
        7, 7, 1, 3, b'i', b'n', b'c', 0, 0, // export "inc"
        0x0a, 9, 1, 7, 0, 0x20, 0, 0x41, 1, 0x6a, 0x0b, // local.get 0, i32.const 1, i32.add
    ];

    fn module() -> WasmiModule {
        let budget = Budget::DEFAULT;
        let first = compile(INC, &budget).unwrap();
        let spare = Arc::new(Spare::default());
        let module = first.module.clone();
        spare.give(first);
        WasmiModule {
            module,
            budget,
            bytes: Arc::from(INC),
            spare,
        }
    }

    #[test]
    fn instances_alive_together_run_on_engines_of_their_own() {
        let module = module();
        let first = module.home().unwrap();
        let second = module.home().unwrap();
        assert!(
            !Engine::same(&first.engine, &second.engine),
            "two homes taken at once share an engine"
        );
        assert!(
            module.spare.take().is_none(),
            "the load's one engine was taken twice"
        );
        let engine = first.engine.clone();
        module.spare.give(first);
        let third = module.home().unwrap();
        assert!(
            Engine::same(&third.engine, &engine),
            "a given-back engine was compiled again instead of reused"
        );
        drop(second);
    }

    #[test]
    fn a_spare_lock_held_elsewhere_is_never_waited_for() {
        let module = module();
        let held = module.spare.0.lock().unwrap();
        // Taken: `home` compiles a new engine, `give` drops it.
        let home = module.home().unwrap();
        module.spare.give(home);
        drop(held);
        assert_eq!(
            module.spare.0.lock().unwrap().len(),
            1,
            "only the load's engine is spare"
        );
    }
}
