//! The wasmi engine: a pure-Rust interpreter with deterministic fuel.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use polyplug::LogLevel;
use polyplug::loader::Logger;
use polyplug_abi::{ERR_BUDGET, ERR_INVALID, ERR_TRAP};
use wasmi::errors::ErrorKind;
use wasmi::{
    Caller, Config, Engine, Extern, ExternType, Func, Linker, Module, Store, StoreLimits,
    StoreLimitsBuilder, TrapCode, Val, ValType,
};

use crate::backend::{Backend, Compiled, Failure, Item, Running, WasmValue};
use crate::budget::{Budget, PAGE_BYTES};
use crate::guest::WasmType;

/// The host imports a module may use: `polyplug.log(level, ptr, len)`.
pub(crate) const HOST_MODULE: &str = "polyplug";
pub(crate) const LOG_IMPORT: &str = "log";
/// Longest log message copied out of linear memory, in bytes.
const MAX_LOG_BYTES: u32 = 4096;

/// wasmi, configured per load from the bundle's budget.
#[derive(Debug, Default)]
pub(crate) struct Wasmi;

struct WasmiModule {
    engine: Engine,
    module: Module,
    budget: Budget,
}

struct HostState {
    limits: StoreLimits,
    logger: Logger,
}

struct WasmiInstance {
    store: Store<HostState>,
    funcs: Vec<Func>,
    fuel: u64,
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
    fn compile(&self, bytes: &[u8], budget: &Budget) -> Result<Arc<dyn Compiled>, Failure> {
        let mut config = Config::default();
        config.consume_fuel(true);
        config
            .set_max_recursion_depth(usize::try_from(budget.recursion_depth).unwrap_or(usize::MAX));
        let engine = Engine::new(&config);
        let module = Module::new(&engine, bytes).map_err(|e| Failure {
            code: ERR_INVALID,
            what: e.to_string(),
        })?;
        Ok(Arc::new(WasmiModule {
            engine,
            module,
            budget: *budget,
        }))
    }
}

fn log_import(caller: Caller<'_, HostState>, level: i32, ptr: i32, len: i32) {
    // A panic must not unwind through the interpreter.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
            return;
        };
        let len = u32::try_from(len).unwrap_or(0).min(MAX_LOG_BYTES);
        let mut bytes = vec![0u8; usize::try_from(len).unwrap_or(0)];
        let offset = usize::try_from(u32::try_from(ptr).unwrap_or(u32::MAX)).unwrap_or(usize::MAX);
        // The guest reaches host memory only through this copy, bounds
        // checked by wasmi.
        if memory.read(&caller, offset, &mut bytes).is_err() {
            return;
        }
        let level = LogLevel::from_code(u32::try_from(level).unwrap_or(u32::MAX));
        caller
            .data()
            .logger
            .log(level, &String::from_utf8_lossy(&bytes));
    }));
}

impl Compiled for WasmiModule {
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
            },
        );
        store.limiter(|state| &mut state.limits);
        store.set_fuel(self.budget.fuel).map_err(|e| failure(&e))?;
        let mut linker = Linker::<HostState>::new(&self.engine);
        linker
            .func_wrap(HOST_MODULE, LOG_IMPORT, log_import)
            .map_err(|e| Failure {
                code: ERR_INVALID,
                what: e.to_string(),
            })?;
        let instance = linker
            .instantiate_and_start(&mut store, &self.module)
            .map_err(|e| failure(&e))?;
        let mut funcs = Vec::with_capacity(functions.len());
        for name in functions {
            let func = instance.get_func(&store, name).ok_or_else(|| Failure {
                code: ERR_INVALID,
                what: format!("no exported function {name}"),
            })?;
            funcs.push(func);
        }
        Ok(Box::new(WasmiInstance {
            store,
            funcs,
            fuel: self.budget.fuel,
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
    fn call(&mut self, index: usize, args: &[WasmValue]) -> Result<Option<WasmValue>, Failure> {
        let Some(func) = self.funcs.get(index).copied() else {
            return Err(Failure {
                code: ERR_INVALID,
                what: format!("no function #{index}"),
            });
        };
        self.store.set_fuel(self.fuel).map_err(|e| failure(&e))?;
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
        let results_len = func.ty(&self.store).results().len();
        let mut outputs = [Val::I32(0)];
        let outputs = &mut outputs[..results_len.min(1)];
        func.call(&mut self.store, &inputs[..count], outputs)
            .map_err(|e| failure(&e))?;
        Ok(outputs.first().and_then(from_val))
    }
}
