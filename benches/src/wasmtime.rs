//! WebAssembly on wasmtime: polyplug's wasm loader with its wasmtime
//! engine against wasmtime used directly, on the same module as
//! [`crate::wasm`] (the Rust→wasm32 fixture `wasm-add`).
//!
//! | arm | what | baseline |
//! |---|---|---|
//! | `wasmtime_call/polyplug` | `inc` counted 10,000 times through a resolved `Typed` | `wasmtime_call/wasmtime` |
//! | `wasmtime_call/wasmtime` | the same export through wasmtime's `TypedFunc::call`, fuel metering on as in the loader | floor |
//! | `wasmtime_lifecycle/load`, `reload` | `load_bundle` (unload not timed), `reload_bundle` + drain | `wasmtime_lifecycle/wasmtime` |
//! | `wasmtime_lifecycle/wasmtime` | wasmtime `Module::new` + instantiate + `polyplug_init` of the same bytes, on an engine made once | floor |
//! | `wasmtime_scaling/polyplug/N` | N threads each calling `inc` through polyplug on wasmtime | `wasmtime_scaling/polyplug/1` |
//! | `wasmtime_scaling/wasmtime/N` | N threads each calling `inc` through `TypedFunc` in its own store, one engine and module | `wasmtime_scaling/wasmtime/1` |
//!
//! # Example
//!
//! ```
//! # if polyplug::MODEL_BUILD { return Ok(()); }
//! use polyplug_benches::wasm::module_bytes;
//! use polyplug_benches::wasmtime::Direct;
//!
//! let direct = Direct::new(&module_bytes()?)?;
//! assert_eq!(direct.count(100)?, 100);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::RefCell;

use polyplug::Runtime;
use polyplug_wasm::{Budget, WasmConfig, WasmLoader};
use wasmtime::{Config, Engine, Linker, Module, Store, TypedFunc};

use crate::wasm::{INC_EXPORT, bundle};

/// Fuel a store is given: what the loader's default budget gives
/// each call, for each call of a count, given before the count.
const FUEL: u64 = Budget::DEFAULT.fuel;

/// A wasmtime engine configured as the loader configures its own: fuel
/// metering on, the default budget's stack (256 bytes per frame of
/// `recursion_depth`).
///
/// # Errors
///
/// wasmtime's.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// let engine = polyplug_benches::wasmtime::engine()?;
/// # let _ = engine;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn engine() -> Result<Engine, wasmtime::Error> {
    let mut config = Config::new();
    config.consume_fuel(true);
    config.max_wasm_stack(
        usize::try_from(Budget::DEFAULT.recursion_depth * 256).unwrap_or(usize::MAX),
    );
    Engine::new(&config)
}

/// Instantiates a compiled `module`, links the one import, runs
/// `polyplug_init`.
fn instantiate(
    engine: &Engine,
    module: &Module,
) -> Result<(Store<()>, wasmtime::Instance), wasmtime::Error> {
    let mut store = Store::new(engine, ());
    store.set_fuel(FUEL)?;
    let mut linker = Linker::<()>::new(engine);
    linker.func_wrap("polyplug", "log", |_: i32, _: i32, _: i32| {})?;
    let instance = linker.instantiate(&mut store, module)?;
    let init = instance.get_typed_func::<(), i32>(&mut store, "polyplug_init")?;
    init.call(&mut store, ())?;
    Ok((store, instance))
}

/// The baseline of the lifecycle arms: compile + instantiate +
/// `polyplug_init` of `bytes` on `engine`.
///
/// # Errors
///
/// wasmtime's.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// let engine = polyplug_benches::wasmtime::engine()?;
/// let bytes = polyplug_benches::wasm::module_bytes()?;
/// polyplug_benches::wasmtime::compile_and_instantiate(&engine, &bytes)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compile_and_instantiate(engine: &Engine, bytes: &[u8]) -> Result<(), wasmtime::Error> {
    instantiate(engine, &Module::new(engine, bytes)?).map(drop)
}

/// The module instantiated by wasmtime alone, with `inc` as a
/// `TypedFunc`: the baseline of the call arms.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// let direct = polyplug_benches::wasmtime::Direct::new(&polyplug_benches::wasm::module_bytes()?)?;
/// # let _ = direct;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Direct {
    store: RefCell<Store<()>>,
    inc: TypedFunc<u32, u32>,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").finish_non_exhaustive()
    }
}

impl Direct {
    /// Compiles and instantiates `bytes`.
    ///
    /// # Errors
    ///
    /// wasmtime's.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # let bytes = polyplug_benches::wasm::module_bytes()?;
    /// let direct = polyplug_benches::wasmtime::Direct::new(&bytes)?;
    /// # let _ = direct;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(bytes: &[u8]) -> Result<Direct, wasmtime::Error> {
        let engine = engine()?;
        Direct::with(instantiate(&engine, &Module::new(&engine, bytes)?)?)
    }

    fn with(
        (mut store, instance): (Store<()>, wasmtime::Instance),
    ) -> Result<Direct, wasmtime::Error> {
        let inc = instance.get_typed_func::<u32, u32>(&mut store, INC_EXPORT)?;
        Ok(Direct {
            store: RefCell::new(store),
            inc,
        })
    }

    /// Counts to `n` with `x = inc(x)`.
    ///
    /// # Errors
    ///
    /// A trap, or fuel running out (the store is given `n` calls' budget
    /// first).
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # let direct = polyplug_benches::wasmtime::Direct::new(&polyplug_benches::wasm::module_bytes()?)?;
    /// assert_eq!(direct.count(10)?, 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn count(&self, n: u32) -> Result<u32, wasmtime::Error> {
        let mut store = self.store.borrow_mut();
        // One call's budget per call, set once: a long count (criterion
        // runs millions of calls in one batch) never runs dry, and the
        // loop pays no more than one top-up, as before.
        store.set_fuel(FUEL.saturating_mul(u64::from(n.max(1))))?;
        let mut x = 0;
        for _ in 0..n {
            x = self.inc.call(&mut *store, std::hint::black_box(x))?;
        }
        Ok(x)
    }
}

/// One compiled module whose instances share its engine, as the loader's
/// per-thread instances of one load do: the reference for
/// `wasmtime_scaling/wasmtime/N`.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// let shared = polyplug_benches::wasmtime::Shared::new(&polyplug_benches::wasm::module_bytes()?)?;
/// assert_eq!(shared.instance()?.count(5)?, 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Shared {
    engine: Engine,
    module: Module,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    /// Compiles `bytes` once, on an engine configured as the loader's.
    ///
    /// # Errors
    ///
    /// wasmtime's.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # let bytes = polyplug_benches::wasm::module_bytes()?;
    /// let shared = polyplug_benches::wasmtime::Shared::new(&bytes)?;
    /// # let _ = shared;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(bytes: &[u8]) -> Result<Shared, wasmtime::Error> {
        let engine = engine()?;
        let module = Module::new(&engine, bytes)?;
        Ok(Shared { engine, module })
    }

    /// A new instance with its own store, on the shared engine.
    ///
    /// # Errors
    ///
    /// wasmtime's.
    ///
    /// ```
    /// # if polyplug::MODEL_BUILD { return Ok(()); }
    /// # let shared = polyplug_benches::wasmtime::Shared::new(&polyplug_benches::wasm::module_bytes()?)?;
    /// let direct = shared.instance()?;
    /// # let _ = direct;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn instance(&self) -> Result<Direct, wasmtime::Error> {
        Direct::with(instantiate(&self.engine, &self.module)?)
    }
}

/// A runtime with the wasm loader on wasmtime and the module loaded as
/// bundle `wasm-add`.
///
/// # Errors
///
/// The runtime or the load failed.
///
/// ```
/// # if polyplug::MODEL_BUILD { return Ok(()); }
/// let runtime = polyplug_benches::wasmtime::runtime()?;
/// assert_eq!(polyplug_benches::wasm::count(&runtime, 100)?, 100);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn runtime() -> Result<Runtime, Box<dyn std::error::Error>> {
    let runtime = Runtime::builder()
        .loader(WasmLoader::wasmtime(WasmConfig::default()))
        .build()?;
    runtime.load_bundle(bundle())?;
    Ok(runtime)
}
