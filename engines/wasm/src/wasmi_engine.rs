//! The wasmi engine: a pure-Rust interpreter with deterministic fuel.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use polyplug::LogLevel;
use polyplug::loader::{Contracts, Fault, Logger, TypedSignature, Value, ValueType};
use polyplug::{ContractHandle, Version};
use polyplug_abi::{
    ERR_BAD_ARGUMENT, ERR_BUDGET, ERR_INTERNAL, ERR_INVALID, ERR_TRAP, ERR_UNSUPPORTED, OK,
};
use wasmi::errors::ErrorKind;
use wasmi::{
    Caller, Config, Engine, Extern, ExternType, Func, Linker, Module, Store, StoreLimits,
    StoreLimitsBuilder, TrapCode, Val, ValType,
};

use crate::backend::{Backend, Compiled, Failure, Item, Running, WasmValue};
use crate::budget::{Budget, PAGE_BYTES};
use crate::guest::WasmType;

/// The host imports a module may use: `polyplug.log(level, ptr, len)`,
/// `polyplug.find(name_ptr, name_len, major, minor) -> handle` and
/// `polyplug.call(handle, fn_ptr, fn_len, sig_ptr, sig_len, args_ptr,
/// out_ptr) -> code` (`docs/wasm-plugins.md`).
pub(crate) const HOST_MODULE: &str = "polyplug";
pub(crate) const LOG_IMPORT: &str = "log";
pub(crate) const FIND_IMPORT: &str = "find";
pub(crate) const CALL_IMPORT: &str = "call";
/// Longest contract or function name, or signature, read from a guest.
const MAX_NAME_BYTES: u32 = 256;
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
    contracts: Contracts,
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

/// Copies `len` bytes at `ptr` out of the guest's exported `memory`,
/// refusing more than `limit`.
fn read_guest(
    caller: &Caller<'_, HostState>,
    ptr: i32,
    len: i32,
    limit: u32,
    what: &str,
) -> Result<Vec<u8>, Fault> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Err(Fault::new(ERR_UNSUPPORTED, "the module exports no memory"));
    };
    let len = u32::try_from(len)
        .map_err(|_| Fault::new(ERR_BAD_ARGUMENT, format!("{what}: negative length")))?;
    if len > limit {
        return Err(Fault::new(
            ERR_BAD_ARGUMENT,
            format!("{what}: {len} bytes, more than {limit}"),
        ));
    }
    let mut bytes = vec![0u8; usize::try_from(len).unwrap_or(0)];
    let offset = usize::try_from(ptr.cast_unsigned()).unwrap_or(usize::MAX);
    // The guest reaches host memory only through this copy, bounds
    // checked by wasmi.
    memory.read(caller, offset, &mut bytes).map_err(|_| {
        Fault::new(
            ERR_BAD_ARGUMENT,
            format!("{what}: out of the module's memory"),
        )
    })?;
    Ok(bytes)
}

fn read_name(
    caller: &Caller<'_, HostState>,
    ptr: i32,
    len: i32,
    what: &str,
) -> Result<String, Fault> {
    String::from_utf8(read_guest(caller, ptr, len, MAX_NAME_BYTES, what)?)
        .map_err(|_| Fault::new(ERR_BAD_ARGUMENT, format!("{what}: not UTF-8")))
}

/// `polyplug.find(name_ptr, name_len, major, minor) -> i64`: the handle of
/// the best loaded contract, or 0 when none satisfies the version (or the
/// arguments are bad); the reason is logged.
fn find_import(caller: Caller<'_, HostState>, ptr: i32, len: i32, major: i32, minor: i32) -> i64 {
    let found = catch_unwind(AssertUnwindSafe(|| {
        let name = read_name(&caller, ptr, len, "polyplug.find: name")?;
        let version = Version::new(major.cast_unsigned(), minor.cast_unsigned(), 0);
        caller.data().contracts.find(&name, version)
    }))
    .unwrap_or_else(|_| Err(Fault::new(ERR_INTERNAL, "polyplug.find panicked")));
    match found {
        Ok(handle) => handle.to_raw().cast_signed(),
        Err(fault) => {
            caller
                .data()
                .logger
                .log(LogLevel::Debug, &format!("polyplug.find: {fault}"));
            0
        }
    }
}

/// Size and alignment of a type in a wasm32 guest's C structs; `None`
/// for types a guest cannot pass.
fn guest_layout(ty: ValueType) -> Option<(usize, usize)> {
    match ty {
        ValueType::U32 | ValueType::I32 | ValueType::F32 => Some((4, 4)),
        ValueType::U64 | ValueType::I64 | ValueType::F64 => Some((8, 8)),
        ValueType::Str | ValueType::Bytes | ValueType::String | ValueType::Buf => Some((8, 4)),
        _ => None,
    }
}

fn word<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = bytes.get(at..at + N) {
        out.copy_from_slice(src);
    }
    out
}

/// Copies `bytes` into fresh guest memory from the module's exported
/// `polyplug_alloc(size, align) -> ptr`; `(0, 0)` for no bytes.
fn give_to_guest(caller: &mut Caller<'_, HostState>, bytes: &[u8]) -> Result<(u32, u32), Fault> {
    if bytes.is_empty() {
        return Ok((0, 0));
    }
    let len =
        u32::try_from(bytes.len()).map_err(|_| Fault::new(ERR_BAD_ARGUMENT, "result too large"))?;
    let Some(alloc) = caller
        .get_export(crate::guest::ALLOC_EXPORT)
        .and_then(Extern::into_func)
    else {
        return Err(Fault::new(
            ERR_UNSUPPORTED,
            "a string or buf result needs the export polyplug_alloc(size, align) -> ptr",
        ));
    };
    let mut out = [Val::I32(0)];
    alloc
        .call(
            &mut *caller,
            &[Val::I32(len.cast_signed()), Val::I32(1)],
            &mut out,
        )
        .map_err(|e| Fault::new(failure(&e).code, format!("polyplug_alloc: {e}")))?;
    let Val::I32(ptr) = out[0] else {
        return Err(Fault::new(ERR_INVALID, "polyplug_alloc returned no i32"));
    };
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Err(Fault::new(ERR_UNSUPPORTED, "the module exports no memory"));
    };
    memory
        .write(
            &mut *caller,
            usize::try_from(ptr.cast_unsigned()).unwrap_or(usize::MAX),
            bytes,
        )
        .map_err(|_| {
            Fault::new(
                ERR_BAD_ARGUMENT,
                "polyplug_alloc returned memory out of bounds",
            )
        })?;
    Ok((ptr.cast_unsigned(), len))
}

/// The body of `polyplug.call`: reads the arguments from guest memory as
/// the wasm32 C struct of the signature, calls through [`Contracts`], and
/// writes the result at `out_ptr`.
fn call_body(
    caller: &mut Caller<'_, HostState>,
    handle: i64,
    (fn_ptr, fn_len, sig_ptr, sig_len): (i32, i32, i32, i32),
    args_ptr: i32,
    out_ptr: i32,
) -> Result<(), Fault> {
    let function = read_name(caller, fn_ptr, fn_len, "polyplug.call: function")?;
    let spelling = read_name(caller, sig_ptr, sig_len, "polyplug.call: signature")?;
    let signature =
        TypedSignature::parse(&spelling).map_err(|p| Fault::new(ERR_BAD_ARGUMENT, p))?;
    let mut offsets = Vec::with_capacity(signature.args.len());
    let mut size = 0usize;
    for ty in &signature.args {
        let (s, a) = guest_layout(*ty).ok_or_else(|| {
            Fault::new(
                ERR_UNSUPPORTED,
                format!("type {} cannot cross from WebAssembly", ty.name()),
            )
        })?;
        size = size.next_multiple_of(a);
        offsets.push(size);
        size += s;
    }
    let packed = read_guest(
        caller,
        args_ptr,
        i32::try_from(size).unwrap_or(i32::MAX),
        4096,
        "polyplug.call: arguments",
    )?;
    // Views are copied out of guest memory first, then borrowed.
    let mut copies: Vec<Vec<u8>> = Vec::new();
    for (ty, at) in signature.args.iter().zip(&offsets) {
        if matches!(ty, ValueType::Str | ValueType::Bytes) {
            let ptr = i32::from_ne_bytes(word(&packed, *at));
            let len = i32::from_ne_bytes(word(&packed, at + 4));
            copies.push(read_guest(
                caller,
                ptr,
                len,
                u32::MAX,
                "polyplug.call: view argument",
            )?);
        }
    }
    let mut views = copies.iter();
    let mut args = Vec::with_capacity(signature.args.len());
    for (ty, at) in signature.args.iter().zip(&offsets) {
        let at = *at;
        args.push(match ty {
            ValueType::U32 => Value::U32(u32::from_ne_bytes(word(&packed, at))),
            ValueType::I32 => Value::I32(i32::from_ne_bytes(word(&packed, at))),
            ValueType::F32 => Value::F32(f32::from_ne_bytes(word(&packed, at))),
            ValueType::U64 => Value::U64(u64::from_ne_bytes(word(&packed, at))),
            ValueType::I64 => Value::I64(i64::from_ne_bytes(word(&packed, at))),
            ValueType::F64 => Value::F64(f64::from_ne_bytes(word(&packed, at))),
            ValueType::Str => Value::Str(
                std::str::from_utf8(views.next().map_or(&[][..], Vec::as_slice))
                    .map_err(|_| Fault::new(ERR_BAD_ARGUMENT, "str argument is not UTF-8"))?,
            ),
            ValueType::Bytes => Value::Bytes(views.next().map_or(&[][..], Vec::as_slice)),
            _ => {
                return Err(Fault::new(
                    ERR_UNSUPPORTED,
                    format!("type {} cannot cross from WebAssembly", ty.name()),
                ));
            }
        });
    }
    let handle = ContractHandle::from_raw(handle.cast_unsigned()).ok_or_else(|| {
        Fault::new(
            ERR_NOT_FOUND_CODE,
            format!("{handle:#x} is not a contract handle"),
        )
    })?;
    let contracts = caller.data().contracts.clone();
    let result = contracts.call(handle, &function, &spelling, &args)?;
    drop(args);
    let bytes: Vec<u8> = match result {
        Value::Void => Vec::new(),
        Value::U32(v) => v.to_ne_bytes().to_vec(),
        Value::I32(v) => v.to_ne_bytes().to_vec(),
        Value::F32(v) => v.to_ne_bytes().to_vec(),
        Value::U64(v) => v.to_ne_bytes().to_vec(),
        Value::I64(v) => v.to_ne_bytes().to_vec(),
        Value::F64(v) => v.to_ne_bytes().to_vec(),
        Value::String(text) => pair(give_to_guest(caller, text.as_bytes())?),
        Value::Buf(data) => pair(give_to_guest(caller, &data)?),
        other => {
            return Err(Fault::new(
                ERR_UNSUPPORTED,
                format!(
                    "a {:?} result cannot cross into WebAssembly",
                    other.value_type()
                ),
            ));
        }
    };
    if !bytes.is_empty() {
        let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
            return Err(Fault::new(ERR_UNSUPPORTED, "the module exports no memory"));
        };
        memory
            .write(
                &mut *caller,
                usize::try_from(out_ptr.cast_unsigned()).unwrap_or(usize::MAX),
                &bytes,
            )
            .map_err(|_| {
                Fault::new(
                    ERR_BAD_ARGUMENT,
                    "polyplug.call: `out` is out of the module's memory",
                )
            })?;
    }
    Ok(())
}

const ERR_NOT_FOUND_CODE: u32 = polyplug_abi::ERR_NOT_FOUND;

fn pair((ptr, len): (u32, u32)) -> Vec<u8> {
    let mut bytes = ptr.to_ne_bytes().to_vec();
    bytes.extend_from_slice(&len.to_ne_bytes());
    bytes
}

/// `polyplug.call(handle, fn_ptr, fn_len, sig_ptr, sig_len, args_ptr,
/// out_ptr) -> i32`: 0, or the error code; the reason is logged.
#[expect(clippy::too_many_arguments, reason = "the import's wasm signature")]
fn call_import(
    mut caller: Caller<'_, HostState>,
    handle: i64,
    fn_ptr: i32,
    fn_len: i32,
    sig_ptr: i32,
    sig_len: i32,
    args_ptr: i32,
    out_ptr: i32,
) -> i32 {
    let result = catch_unwind(AssertUnwindSafe(|| {
        call_body(
            &mut caller,
            handle,
            (fn_ptr, fn_len, sig_ptr, sig_len),
            args_ptr,
            out_ptr,
        )
    }))
    .unwrap_or_else(|_| Err(Fault::new(ERR_INTERNAL, "polyplug.call panicked")));
    match result {
        Ok(()) => OK.cast_signed(),
        Err(fault) => {
            caller
                .data()
                .logger
                .log(LogLevel::Warn, &format!("polyplug.call: {fault}"));
            fault.code.cast_signed()
        }
    }
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
            .func_wrap(HOST_MODULE, LOG_IMPORT, log_import)
            .and_then(|l| l.func_wrap(HOST_MODULE, FIND_IMPORT, find_import))
            .and_then(|l| l.func_wrap(HOST_MODULE, CALL_IMPORT, call_import))
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
