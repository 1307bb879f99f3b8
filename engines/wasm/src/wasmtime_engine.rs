//! The wasmtime engine: modules compiled to machine code by Cranelift,
//! with fuel metered as wasmi meters it.
//!
//! Budgets map as for wasmi, but for one: wasmtime bounds the guest's
//! stack in bytes, not in frames. `recursion_depth` becomes
//! [`STACK_BYTES_PER_FRAME`] bytes per frame, at most [`MAX_STACK_BYTES`]
//! (the guest runs on the calling thread's own stack, so the bound must
//! leave room on a 2 MiB thread stack). Fuel is chosen over epoch
//! interruption: the same fuel numbers mean the same thing on both
//! engines, a call's budget does not depend on the machine's speed, and
//! no timer thread is needed.

use std::any::Any;
use std::sync::{Arc, Mutex, PoisonError};

use polyplug::loader::{Contracts, Fault, Logger, PackedArgs, PackedRet, ValueType};
use polyplug_abi::{ERR_BUDGET, ERR_INVALID, ERR_TRAP};
use wasmtime::{
    Caller, Config, Engine, Extern, ExternType, Func, Linker, Module, Store, StoreLimits,
    StoreLimitsBuilder, Trap, TypedFunc, Val, ValType, WasmParams, WasmResults,
};

use crate::backend::{
    AddTyped, Backend, Compiled, Failure, Item, Running, TypedExport, WasmValue,
    call_words_dynamic, copy_out, not_typed, typed_export, typed_for,
};
use crate::budget::{Budget, PAGE_BYTES};
use crate::guest::WasmType;
use crate::imports::{self, CALL_IMPORT, FIND_IMPORT, Guest, HOST_MODULE, LOG_IMPORT, Memory};
use crate::typed::{self, Args, Ret, by_shape};

/// Guest stack per frame of `recursion_depth`, in bytes.
pub(crate) const STACK_BYTES_PER_FRAME: u64 = 256;
/// The most guest stack any budget gets, in bytes.
pub(crate) const MAX_STACK_BYTES: u64 = 1024 * 1024;

/// wasmtime, with one engine per stack bound (an engine's settings are
/// fixed when it is made; loads with the same bound share it).
#[derive(Default)]
pub(crate) struct Wasmtime {
    engines: Mutex<Vec<(usize, Engine)>>,
}

impl std::fmt::Debug for Wasmtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wasmtime").finish_non_exhaustive()
    }
}

struct WasmtimeModule {
    engine: Engine,
    module: Module,
    budget: Budget,
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
typed_export!(Wasmtime, WasmtimeInstance);

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

struct WasmtimeInstance {
    store: Store<HostState>,
    exports: Vec<Export>,
    fuel: u64,
    /// The exported `memory`, for the host's copies in and out.
    memory: Option<wasmtime::Memory>,
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
            params: f.params().map(|t| wasm_type(&t)).collect(),
            results: f.results().map(|t| wasm_type(&t)).collect(),
        },
        ExternType::Memory(_) => Item::Other("memory"),
        ExternType::Table(_) => Item::Other("table"),
        ExternType::Global(_) => Item::Other("global"),
        ExternType::Tag(_) => Item::Other("tag"),
    }
}

/// Classifies a wasmtime error: a budget (fuel, or memory or tables past
/// the store's limits) or a trap, with wasmtime's words and trap code.
fn failure(error: &wasmtime::Error) -> Failure {
    let trap = error.downcast_ref::<Trap>().copied();
    let text = format!("{error:#}");
    let code = match trap {
        Some(Trap::OutOfFuel) => ERR_BUDGET,
        Some(_) => ERR_TRAP,
        // The store's limiter refused a growth (trap_on_grow_failure) or
        // an instantiation.
        None if text.contains("forcing trap when growing")
            || text.contains("exceeds memory limits")
            || text.contains("exceeds table limits")
            || text.contains("resource limit") =>
        {
            ERR_BUDGET
        }
        None => ERR_TRAP,
    };
    let what = match trap {
        Some(trap) => format!("{text} (trap code {trap:?})"),
        None => text,
    };
    Failure { code, what }
}

fn invalid(error: &wasmtime::Error) -> Failure {
    Failure {
        code: ERR_INVALID,
        what: format!("{error:#}"),
    }
}

impl Wasmtime {
    /// The engine for loads whose guest stack is `stack` bytes.
    fn engine(&self, stack: usize) -> Result<Engine, Failure> {
        let mut engines = self.engines.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, engine)) = engines.iter().find(|(s, _)| *s == stack) {
            return Ok(engine.clone());
        }
        let mut config = Config::new();
        config.consume_fuel(true);
        config.max_wasm_stack(stack);
        let engine = Engine::new(&config).map_err(|e| invalid(&e))?;
        engines.push((stack, engine.clone()));
        Ok(engine)
    }
}

impl Backend for Wasmtime {
    fn compile(&self, bytes: &Arc<[u8]>, budget: &Budget) -> Result<Arc<dyn Compiled>, Failure> {
        let stack = budget
            .recursion_depth
            .saturating_mul(STACK_BYTES_PER_FRAME)
            .clamp(STACK_BYTES_PER_FRAME, MAX_STACK_BYTES);
        let engine = self.engine(usize::try_from(stack).unwrap_or(usize::MAX))?;
        let module = Module::new(&engine, &**bytes).map_err(|e| invalid(&e))?;
        Ok(Arc::new(WasmtimeModule {
            engine,
            module,
            budget: *budget,
        }))
    }
}

/// The instance calling a host import, as [`imports`] sees it.
struct Calling<'a, 'c>(&'a mut Caller<'c, HostState>);

fn memory(caller: &mut Caller<'_, HostState>) -> Result<wasmtime::Memory, Memory> {
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
                .map_err(|e| Fault::new(failure(&e).code, format!("polyplug_alloc: {e:#}")))
                .and_then(|()| match out[0] {
                    Val::I32(ptr) => Ok(ptr),
                    _ => Err(imports::alloc_returned_nothing()),
                }),
        )
    }
}

impl Compiled for WasmtimeModule {
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
            .map(|i| (i.module().to_owned(), i.name().to_owned(), item(&i.ty())))
            .collect()
    }

    fn exports(&self) -> Vec<(String, Item)> {
        self.module
            .exports()
            .map(|e| (e.name().to_owned(), item(&e.ty())))
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
        let mut store = Store::new(
            &self.engine,
            HostState {
                limits,
                logger: logger.clone(),
                contracts: contracts.clone(),
            },
        );
        store.limiter(|state| &mut state.limits);
        store.set_fuel(self.budget.fuel).map_err(|e| failure(&e))?;
        let mut linker = Linker::<HostState>::new(&self.engine);
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
            .map_err(|e| invalid(&e))?;
        let instance = linker
            .instantiate(&mut store, &self.module)
            .map_err(|e| failure(&e))?;
        let mut exports = Vec::with_capacity(functions.len());
        for name in functions {
            let func = instance.get_func(&mut store, name).ok_or_else(|| Failure {
                code: ERR_INVALID,
                what: format!("no exported function {name}"),
            })?;
            // Resolved once here: a call neither looks up nor checks the
            // function's type.
            let ty = func.ty(&store);
            let params: Vec<WasmType> = ty.params().map(|t| wasm_type(&t)).collect();
            let results: Vec<WasmType> = ty.results().map(|t| wasm_type(&t)).collect();
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
        let memory = instance.get_memory(&mut store, "memory");
        Ok(Box::new(WasmtimeInstance {
            store,
            exports,
            fuel: self.budget.fuel,
            memory,
        }))
    }
}

fn to_val(value: WasmValue) -> Val {
    match value {
        WasmValue::I32(v) => Val::I32(v),
        WasmValue::I64(v) => Val::I64(v),
        WasmValue::F32(v) => Val::F32(v.to_bits()),
        WasmValue::F64(v) => Val::F64(v.to_bits()),
    }
}

fn from_val(value: &Val) -> Option<WasmValue> {
    match value {
        Val::I32(v) => Some(WasmValue::I32(*v)),
        Val::I64(v) => Some(WasmValue::I64(*v)),
        Val::F32(v) => Some(WasmValue::F32(f32::from_bits(*v))),
        Val::F64(v) => Some(WasmValue::F64(f64::from_bits(*v))),
        _ => None,
    }
}

impl Running for WasmtimeInstance {
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
