//! The engine behind the loader, as the loader sees it: compile a module
//! once per load, make instances of it, call their exports by index.
//!
//! Two engines implement these three traits: wasmi
//! (`wasmi_engine`, the default) and, with the `wasmtime` feature,
//! wasmtime (`wasmtime_engine`). The loader's guest ABI, budgets,
//! per-thread instances and registration are the same for both, and the
//! host imports are written once, in `imports`.

use std::any::Any;
use std::sync::Arc;

use polyplug::loader::{Contracts, EngineContract, Logger, PackedArgs, PackedRet, ValueType};
use polyplug_abi::ERR_INVALID;

use crate::budget::Budget;
use crate::guest::WasmType;
use crate::imports::Memory;

/// A number crossing into or out of wasm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum WasmValue {
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
}

/// Why an engine operation failed: an ABI code (`ERR_TRAP`, `ERR_BUDGET`,
/// `ERR_INVALID`) and what happened, with the engine's trap code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: u32,
    pub(crate) what: String,
}

/// An import or export, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// A function of this type.
    Func {
        params: Vec<WasmType>,
        results: Vec<WasmType>,
    },
    /// A memory, table or global.
    Other(&'static str),
}

/// A wasm engine.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Validates and compiles `bytes` under `budget` (the engine's stack
    /// and fuel settings come from it). A backend that keeps the bytes
    /// keeps this `Arc`, the bundle's own, not a copy.
    fn compile(&self, bytes: &Arc<[u8]>, budget: &Budget) -> Result<Arc<dyn Compiled>, Failure>;
}

/// A compiled module.
pub(crate) trait Compiled: Send + Sync + 'static {
    /// `(module, name, item)` per import.
    fn imports(&self) -> Vec<(String, String, Item)>;
    /// `(name, item)` per export.
    fn exports(&self) -> Vec<(String, Item)>;
    /// A new instance with the host's imports, its start function run,
    /// whose exports `functions` are callable by index. Limits come from
    /// the budget given at compile time.
    fn instantiate(
        &self,
        functions: &[String],
        logger: &Logger,
        contracts: &Contracts,
    ) -> Result<Box<dyn Running>, Failure>;

    /// How to register an export of wasm parameters `params` and results
    /// `results`, for a signature of arguments `args` and result `ret`, as
    /// a packed function of this backend's typed call ([`TypedExport`]);
    /// `None` when the shape has no typed call or the signature's types are
    /// not its numbers.
    fn typed(
        &self,
        params: &[WasmType],
        results: &[WasmType],
        args: &[ValueType],
        ret: Option<ValueType>,
    ) -> Option<AddTyped>;
}

/// Registers a function on a contract as a packed function
/// ([`Compiled::typed`]).
pub(crate) type AddTyped =
    fn(EngineContract, String, String, crate::loader::WasmFn) -> EngineContract;

/// A backend's typed call of an export of shape `(P, R)`, reached from its
/// instance behind [`Running`].
pub(crate) trait TypedExport<P, R>: 'static {
    /// Calls export `index` of `running`, an instance of this backend, with
    /// a fresh fuel budget.
    fn call(running: &mut dyn Running, index: usize, args: P) -> Result<R, Failure>;
}

/// [`Compiled::typed`] for backend `B` and the shape `(P, R)`: the
/// registration when the signature's `args` and `ret` are `P`'s and `R`'s
/// numbers.
pub(crate) fn typed_for<B, P, R>(args: &[ValueType], ret: Option<ValueType>) -> Option<AddTyped>
where
    B: TypedExport<P, R>,
    P: PackedArgs,
    R: PackedRet,
{
    (P::holds(args) && R::holds(ret)).then_some(crate::loader::add_typed::<B, P, R> as AddTyped)
}

/// `TypedExport<P, R>` for backend `$backend`, whose instances are
/// `$instance`, and its `typed_export::<P, R>`, which `Compiled::typed`
/// hands to `by_shape!`. Written once for both backends: the names it
/// uses (`Export`, `TypedFunc`, `WasmParams`, `WasmResults`, `Store`'s
/// `set_fuel`, `failure`) are each backend's own, resolved where it is
/// invoked.
macro_rules! typed_export {
    ($backend:ty, $instance:ty) => {
        impl<P, R> TypedExport<P, R> for $backend
        where
            P: Args + WasmParams + 'static,
            R: Ret + WasmResults + 'static,
        {
            #[inline]
            fn call(running: &mut dyn Running, index: usize, args: P) -> Result<R, Failure> {
                let running: &mut dyn Any = running;
                let Some(instance) = running.downcast_mut::<$instance>() else {
                    return Err(not_typed(index));
                };
                let Some(Export::Typed(typed)) = instance.exports.get(index) else {
                    return Err(not_typed(index));
                };
                let typed: &dyn Any = &**typed;
                let Some(func) = typed.downcast_ref::<TypedFunc<P, R>>() else {
                    return Err(not_typed(index));
                };
                // Every call starts with the budget's fuel.
                instance
                    .store
                    .set_fuel(instance.fuel)
                    .map_err(|e| failure(&e))?;
                func.call(&mut instance.store, args)
                    .map_err(|e| failure(&e))
            }
        }

        /// [`Compiled::typed`] of this backend for the shape `(P, R)`.
        fn typed_export<P, R>(args: &[ValueType], ret: Option<ValueType>) -> Option<AddTyped>
        where
            P: Args + WasmParams + PackedArgs + 'static,
            R: Ret + WasmResults + PackedRet + 'static,
        {
            typed_for::<$backend, P, R>(args, ret)
        }
    };
}
pub(crate) use typed_export;

/// The failure of a typed call that reached an instance or export of
/// another kind than registration found: never expected.
#[cold]
pub(crate) fn not_typed(index: usize) -> Failure {
    Failure {
        code: polyplug_abi::ERR_INTERNAL,
        what: format!("function #{index} has no typed call of its registered shape"),
    }
}

/// One wasm instance: its own linear memory, tables and globals.
///
/// `Any`, so that its backend's [`TypedExport`] downcasts it: an upcast
/// to `dyn Any`, then one type check.
pub(crate) trait Running: Any + Send {
    /// Calls the export `functions[index]` with a fresh fuel budget.
    fn call(&mut self, index: usize, args: &[WasmValue]) -> Result<Option<WasmValue>, Failure>;

    /// Calls the export `functions[index]`, of parameter types `params`,
    /// with one word per parameter (`polyplug::loader::WordFn`), and
    /// returns its result as a word: through the engine's typed call when
    /// the export has one, without a [`WasmValue`].
    fn call_words(
        &mut self,
        index: usize,
        args: &[u64],
        params: &[WasmType],
    ) -> Result<u64, Failure>;

    /// A copy of `len` bytes at `offset` of the exported `memory`, bounds
    /// checked before anything is allocated: the host never reads outside
    /// the memory.
    fn read(&mut self, offset: usize, len: usize) -> Result<Vec<u8>, Memory>;

    /// Copies `bytes` to `offset` of the exported `memory`, bounds checked.
    fn write(&mut self, offset: usize, bytes: &[u8]) -> Result<(), Memory>;
}

/// `len` bytes at `offset` of `data`, copied; out of bounds when any of
/// them is outside it.
pub(crate) fn copy_out(data: &[u8], offset: usize, len: usize) -> Result<Vec<u8>, Memory> {
    offset
        .checked_add(len)
        .and_then(|end| data.get(offset..end))
        .map(<[u8]>::to_vec)
        .ok_or(Memory::OutOfBounds)
}

/// `word` as a value of wasm type `ty`: its low bytes for 32-bit types;
/// `None` for a type no number crosses as.
#[expect(
    clippy::cast_possible_truncation,
    reason = "a 32-bit argument's word holds it in its low bytes"
)]
pub(crate) fn from_word(word: u64, ty: WasmType) -> Option<WasmValue> {
    Some(match ty {
        WasmType::I32 => WasmValue::I32((word as u32).cast_signed()),
        WasmType::I64 => WasmValue::I64(word.cast_signed()),
        WasmType::F32 => WasmValue::F32(f32::from_bits(word as u32)),
        WasmType::F64 => WasmValue::F64(f64::from_bits(word)),
        WasmType::Other => return None,
    })
}

/// `value` as a word: its bits in the low bytes; 0 for no value.
pub(crate) fn into_word(value: Option<WasmValue>) -> u64 {
    match value {
        None => 0,
        Some(WasmValue::I32(v)) => u64::from(v.cast_unsigned()),
        Some(WasmValue::I64(v)) => v.cast_unsigned(),
        Some(WasmValue::F32(v)) => u64::from(v.to_bits()),
        Some(WasmValue::F64(v)) => v.to_bits(),
    }
}

/// [`Running::call_words`] through [`Running::call`], for an export
/// without a typed call: the values on the stack, nothing allocated.
pub(crate) fn call_words_dynamic(
    running: &mut dyn Running,
    index: usize,
    args: &[u64],
    params: &[WasmType],
) -> Result<u64, Failure> {
    let mut values = [WasmValue::I32(0); crate::guest::MAX_WASM_PARAMS];
    if args.len() != params.len() || args.len() > values.len() {
        return Err(Failure {
            code: ERR_INVALID,
            what: format!("{} arguments for {} parameters", args.len(), params.len()),
        });
    }
    for ((value, word), ty) in values.iter_mut().zip(args).zip(params) {
        *value = from_word(*word, *ty).ok_or_else(|| Failure {
            code: ERR_INVALID,
            what: format!("a parameter of type {} takes no number", ty.name()),
        })?;
    }
    running.call(index, &values[..args.len()]).map(into_word)
}
