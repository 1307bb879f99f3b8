//! The engine behind the loader, as the loader sees it: compile a module
//! once per load, make instances of it, call their exports by index.
//!
//! Two engines implement these three traits: wasmi
//! (`wasmi_engine`, the default) and, with the `wasmtime` feature,
//! wasmtime (`wasmtime_engine`). The loader's guest ABI, budgets,
//! per-thread instances and registration are the same for both, and the
//! host imports are written once, in `imports`.

use std::sync::Arc;

use polyplug::loader::{Contracts, Logger};

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
    /// and fuel settings come from it).
    fn compile(&self, bytes: &[u8], budget: &Budget) -> Result<Arc<dyn Compiled>, Failure>;
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
}

/// One wasm instance: its own linear memory, tables and globals.
pub(crate) trait Running: Send + 'static {
    /// Calls the export `functions[index]` with a fresh fuel budget.
    fn call(&mut self, index: usize, args: &[WasmValue]) -> Result<Option<WasmValue>, Failure>;

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
